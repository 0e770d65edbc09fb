//! Fusing the BM25 and dense rankings.
//!
//! Hybrid search uses [`fuse_scores`] (min-max normalised scores, weighted sum). Weighted
//! reciprocal-rank fusion ([`fuse`]) is kept for comparison: on the HealthVer dev
//! retrieval task (`verity eval retrieval --dense-weights ...`), where BM25 reaches
//! nDCG@10 0.273 and dense 0.407, RRF's best weight gave 0.410 and score fusion 0.418
//! at dense weight 5 — the default below.

use std::collections::HashMap;
use verity_types::PassageId;

/// The usual RRF constant.
pub const RRF_K: f32 = 60.0;
/// Weight of the dense ranking relative to BM25 in hybrid search (tuned on HealthVer
/// dev; see the module docs).
pub const DEFAULT_DENSE_WEIGHT: f32 = 5.0;

/// Fuse ranked lists `(list, weight)`: score = Σ weight / (k + rank), rank from 1.
/// Ties break by passage id so the result does not depend on input order.
pub fn fuse(lists: &[(&[(PassageId, f32)], f32)], k: f32) -> Vec<(PassageId, f32)> {
    let mut acc: HashMap<&PassageId, f32> = HashMap::new();
    for (list, w) in lists {
        for (rank, (id, _)) in list.iter().enumerate() {
            *acc.entry(id).or_insert(0.0) += w / (k + rank as f32 + 1.0);
        }
    }
    let mut out: Vec<(PassageId, f32)> = acc.into_iter().map(|(id, s)| (id.clone(), s)).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// Fuse scored lists `(list, weight)` by their scores: each list's scores are min-max
/// normalised to [0, 1] over the list (a passage missing from a list gets 0 from it),
/// then summed with the weights. Unlike RRF this keeps *how much* better one passage
/// scored than the next, which matters when one ranker is much stronger than the other
/// (dense beats BM25 by half again on HealthVer, and rank fusion dragged it down).
/// Ties break by passage id.
pub fn fuse_scores(lists: &[(&[(PassageId, f32)], f32)]) -> Vec<(PassageId, f32)> {
    let mut acc: HashMap<&PassageId, f32> = HashMap::new();
    for (list, w) in lists {
        let (lo, hi) = list
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), (_, s)| {
                (lo.min(*s), hi.max(*s))
            });
        let span = hi - lo;
        for (id, s) in list.iter() {
            let norm = if span > f32::EPSILON {
                (s - lo) / span
            } else {
                1.0
            };
            *acc.entry(id).or_insert(0.0) += w * norm;
        }
    }
    let mut out: Vec<(PassageId, f32)> = acc.into_iter().map(|(id, s)| (id.clone(), s)).collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_fusion_keeps_margins_and_counts_both_lists() {
        let a = vec![(p(1), 10.0), (p(2), 9.9), (p(3), 1.0)];
        let b = vec![(p(3), 0.9), (p(2), 0.8), (p(4), 0.1)];
        let f = fuse_scores(&[(&a, 1.0), (&b, 1.0)]);
        // p2 is near the top of both lists; p1 only of one.
        assert_eq!(f[0].0, p(2));
        let score = |id: u32| f.iter().find(|x| x.0 == p(id)).unwrap().1;
        assert!((score(1) - 1.0).abs() < 1e-6);
        assert!(score(4) < 1e-6);
        // Two lists that disagree: equal weights tie (broken by id), a heavier list wins.
        let x = vec![(p(1), 10.0), (p(2), 1.0)];
        let y = vec![(p(2), 0.9), (p(1), 0.1)];
        assert_eq!(fuse_scores(&[(&x, 1.0), (&y, 1.0)])[0].0, p(1));
        assert_eq!(fuse_scores(&[(&x, 1.0), (&y, 5.0)])[0].0, p(2));
        // One-element and empty lists do not divide by zero.
        assert_eq!(fuse_scores(&[(&a[..1], 1.0), (&[], 2.0)])[0].1, 1.0);
    }
    use proptest::prelude::*;
    use verity_types::SourceId;

    fn p(o: u32) -> PassageId {
        PassageId {
            source: SourceId::new("s"),
            ordinal: o,
        }
    }

    #[test]
    fn agreement_beats_a_single_top_rank() {
        let a = vec![(p(1), 1.0), (p(2), 0.5)];
        let b = vec![(p(3), 1.0), (p(2), 0.5)];
        assert_eq!(fuse(&[(&a, 1.0), (&b, 1.0)], RRF_K)[0].0, p(2));
    }

    #[test]
    fn weight_zero_ignores_a_ranker() {
        let a = vec![(p(1), 1.0)];
        let b = vec![(p(2), 1.0)];
        let f = fuse(&[(&a, 1.0), (&b, 0.0)], RRF_K);
        assert_eq!(f[0].0, p(1));
    }

    proptest! {
        #[test]
        fn fusion_is_order_independent(xs in proptest::collection::vec(0u32..30, 0..20),
                                       ys in proptest::collection::vec(0u32..30, 0..20)) {
            let dedup = |v: Vec<u32>| { let mut s = std::collections::HashSet::new();
                v.into_iter().filter(|x| s.insert(*x)).map(|x| (p(x), 0.0)).collect::<Vec<_>>() };
            let a = dedup(xs);
            let b = dedup(ys);
            prop_assert_eq!(fuse(&[(&a, 1.0), (&b, 0.7)], RRF_K), fuse(&[(&b, 0.7), (&a, 1.0)], RRF_K));
        }
    }
}
