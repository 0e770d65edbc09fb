//! Behaviour shared by every index: agreement with exact search, filters, removal,
//! persistence, and the automatic switch to HNSW.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use proptest::prelude::*;
use verity_types::{PassageId, SourceId};
use verity_vectors::{
    dot, recall, AutoIndex, ExactIndex, HnswIndex, HnswParams, IndexKind, VectorError, VectorIndex,
};

use common::{clustered, unit, Rng};

fn queries(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    // Queries near the data: perturbed data points from the same generator.
    clustered(n, dim, 40, 1000, seed)
        .into_iter()
        .map(|(_, v)| v)
        .collect()
}

#[test]
fn hnsw_recall_against_exact() {
    let data = clustered(3000, 48, 40, 10, 7);
    let mut exact = ExactIndex::new(48, "m");
    exact.add(&data).unwrap();
    let mut hnsw = HnswIndex::new(48, "m", HnswParams::default());
    hnsw.add(&data).unwrap();
    let mut total = 0.0;
    let qs = queries(100, 48, 99);
    for q in &qs {
        let e = exact.search(q, 10, None).unwrap();
        let a = hnsw.search(q, 10, None).unwrap();
        total += recall(&e, &a);
    }
    let r = total / qs.len() as f64;
    assert!(r > 0.95, "recall@10 {r}");
}

#[test]
fn hnsw_filtered_search_returns_only_allowed_sources() {
    let data = clustered(3000, 32, 30, 10, 11);
    let mut hnsw = HnswIndex::new(32, "m", HnswParams::default());
    hnsw.add(&data).unwrap();
    let mut exact = ExactIndex::new(32, "m");
    exact.add(&data).unwrap();
    // Narrow filter (exact-scan path) and wide filter (graph path).
    for keep_every in [50usize, 2] {
        let allowed: HashSet<SourceId> = (0..300)
            .filter(|s| s % keep_every == 0)
            .map(|s| SourceId::new(format!("s{s}")))
            .collect();
        let mut total = 0.0;
        let qs = queries(50, 32, 5);
        for q in &qs {
            let a = hnsw.search(q, 10, Some(&allowed)).unwrap();
            assert_eq!(a.len(), 10);
            assert!(a.iter().all(|(p, _)| allowed.contains(&p.source)));
            total += recall(&exact.search(q, 10, Some(&allowed)).unwrap(), &a);
        }
        let r = total / qs.len() as f64;
        assert!(r > 0.95, "filtered recall@10 {r} (every {keep_every})");
    }
}

#[test]
fn hnsw_removal_hides_rows_and_rebuild_keeps_recall() {
    let data = clustered(2000, 32, 20, 10, 3);
    let mut hnsw = HnswIndex::new(32, "m", HnswParams::default());
    hnsw.add(&data).unwrap();
    // Remove 40% of sources: crosses the rebuild threshold on the way.
    for s in 0..80 {
        hnsw.remove_source(&SourceId::new(format!("s{s}"))).unwrap();
    }
    assert_eq!(hnsw.len(), 1200);
    let removed: HashSet<SourceId> = (0..80).map(|s| SourceId::new(format!("s{s}"))).collect();
    let mut exact = ExactIndex::new(32, "m");
    exact
        .add(
            &data
                .iter()
                .filter(|(p, _)| !removed.contains(&p.source))
                .cloned()
                .collect::<Vec<_>>(),
        )
        .unwrap();
    let mut total = 0.0;
    let qs = queries(50, 32, 8);
    for q in &qs {
        let a = hnsw.search(q, 10, None).unwrap();
        assert!(a.iter().all(|(p, _)| !removed.contains(&p.source)));
        total += recall(&exact.search(q, 10, None).unwrap(), &a);
    }
    assert!(total / qs.len() as f64 > 0.95);
}

#[test]
fn hnsw_save_open_gives_identical_results() {
    let tmp = tempfile::tempdir().unwrap();
    let data = clustered(1500, 24, 15, 10, 21);
    let mut hnsw = HnswIndex::create(tmp.path(), 24, "model-y", HnswParams::default());
    hnsw.add(&data).unwrap();
    hnsw.remove_source(&SourceId::new("s3")).unwrap();
    hnsw.save().unwrap();
    let back = HnswIndex::open(tmp.path(), HnswParams::default()).unwrap();
    assert_eq!(back.len(), hnsw.len());
    assert_eq!(back.model(), "model-y");
    for q in queries(20, 24, 4) {
        assert_eq!(
            hnsw.search(&q, 10, None).unwrap(),
            back.search(&q, 10, None).unwrap()
        );
    }
    // AutoIndex opens it as HNSW too.
    assert_eq!(AutoIndex::open(tmp.path()).unwrap().kind(), IndexKind::Hnsw);
}

#[test]
fn auto_index_switches_kind_with_size_and_persists() {
    let tmp = tempfile::tempdir().unwrap();
    let data = clustered(300, 16, 10, 10, 5);
    let mut ix = AutoIndex::open_or_create(tmp.path(), 16, "m")
        .unwrap()
        .with_threshold(200);
    ix.add(&data[..150]).unwrap();
    assert_eq!(ix.kind(), IndexKind::Exact);
    ix.add(&data[150..]).unwrap();
    assert_eq!(ix.kind(), IndexKind::Hnsw);
    ix.save().unwrap();
    let mut back = AutoIndex::open_or_create(tmp.path(), 16, "m")
        .unwrap()
        .with_threshold(200);
    assert_eq!(back.kind(), IndexKind::Hnsw);
    assert_eq!(back.len(), 300);
    for s in 0..25 {
        back.remove_source(&SourceId::new(format!("s{s}"))).unwrap();
    }
    assert_eq!(back.len(), 50);
    assert_eq!(back.kind(), IndexKind::Exact);
    back.save().unwrap();
    assert_eq!(
        AutoIndex::open(tmp.path()).unwrap().kind(),
        IndexKind::Exact
    );
}

#[test]
fn auto_index_refuses_other_model_or_dimension() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ix = AutoIndex::open_or_create(tmp.path(), 4, "model-a").unwrap();
    ix.add(&[(
        PassageId {
            source: SourceId::new("a"),
            ordinal: 0,
        },
        unit(vec![1.0, 2.0, 3.0, 4.0]),
    )])
    .unwrap();
    ix.save().unwrap();
    let err = AutoIndex::open_or_create(tmp.path(), 4, "model-b").unwrap_err();
    assert!(matches!(err, VectorError::ModelMismatch { .. }), "{err}");
    let err = AutoIndex::open_or_create(tmp.path(), 8, "model-a").unwrap_err();
    assert!(err.to_string().contains("model-a (4 dims)"), "{err}");
}

#[test]
fn unsaved_changes_do_not_reach_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let data = clustered(20, 8, 2, 5, 9);
    let mut ix = AutoIndex::open_or_create(tmp.path(), 8, "m").unwrap();
    ix.add(&data[..10]).unwrap();
    ix.save().unwrap();
    ix.add(&data[10..]).unwrap(); // never saved, as if the process died here
    assert_eq!(AutoIndex::open(tmp.path()).unwrap().len(), 10);
}

#[derive(Debug, Clone)]
enum Op {
    Add(u8, u8, u64),
    Remove(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..6, 0u8..8, any::<u64>()).prop_map(|(s, o, seed)| Op::Add(s, o, seed)),
        1 => (0u8..6).prop_map(Op::Remove),
    ]
}

fn vector(seed: u64, dim: usize) -> Vec<f32> {
    let mut rng = Rng(seed | 1);
    unit((0..dim).map(|_| rng.normal()).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Exact search equals a naive model after any sequence of adds and removals, and the
    /// HNSW index (forced on from the first vector) returns well-formed results.
    #[test]
    fn indexes_agree_with_a_naive_model(ops in prop::collection::vec(op(), 1..60), q in any::<u64>(), filter in 0u8..64) {
        const DIM: usize = 8;
        let mut naive: std::collections::BTreeMap<PassageId, Vec<f32>> = Default::default();
        let mut exact = ExactIndex::new(DIM, "m");
        let mut hnsw = HnswIndex::new(DIM, "m", HnswParams { m: 4, ..HnswParams::default() });
        for op in &ops {
            match *op {
                Op::Add(s, o, seed) => {
                    let id = PassageId { source: SourceId::new(format!("s{s}")), ordinal: u32::from(o) };
                    let item = [(id.clone(), vector(seed, DIM))];
                    exact.add(&item).unwrap();
                    hnsw.add(&item).unwrap();
                    naive.insert(id, item[0].1.clone());
                }
                Op::Remove(s) => {
                    let sid = SourceId::new(format!("s{s}"));
                    exact.remove_source(&sid).unwrap();
                    hnsw.remove_source(&sid).unwrap();
                    naive.retain(|k, _| k.source != sid);
                }
            }
        }
        prop_assert_eq!(exact.len(), naive.len());
        prop_assert_eq!(hnsw.len(), naive.len());
        let query = vector(q, DIM);
        let allowed: HashSet<SourceId> =
            (0..6).filter(|s| filter & (1 << s) != 0).map(|s| SourceId::new(format!("s{s}"))).collect();
        for allow in [None, Some(&allowed)] {
            let mut want: Vec<(PassageId, f32)> = naive
                .iter()
                .filter(|(k, _)| allow.is_none_or(|a| a.contains(&k.source)))
                .map(|(k, v)| (k.clone(), dot(&query, v)))
                .collect();
            want.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            want.truncate(5);
            let got = exact.search(&query, 5, allow).unwrap();
            prop_assert_eq!(&got, &want);

            let approx = hnsw.search(&query, 5, allow).unwrap();
            prop_assert_eq!(approx.len(), want.len());
            let mut seen = HashSet::new();
            for w in approx.windows(2) {
                prop_assert!(w[0].1 >= w[1].1);
            }
            for (id, score) in &approx {
                prop_assert!(seen.insert(id.clone()));
                let v = naive.get(id);
                prop_assert!(v.is_some(), "returned a removed passage");
                prop_assert!((dot(&query, v.unwrap()) - score).abs() < 1e-5);
                prop_assert!(allow.is_none_or(|a| a.contains(&id.source)));
            }
        }
    }
}
