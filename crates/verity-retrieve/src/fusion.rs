//! Weighted reciprocal-rank fusion.
//!
//! RRF ignores the scale of each ranker's scores (BM25 is unbounded, cosine is in
//! [-1, 1]) and uses only ranks, which makes it robust without per-corpus calibration.
//! The dense weight was tuned on the HealthVer retrieval task (`verity eval retrieval`).

use std::collections::HashMap;
use verity_types::PassageId;

/// The usual RRF constant.
pub const RRF_K: f32 = 60.0;
/// Weight of the dense ranking relative to BM25 in hybrid search.
pub const DEFAULT_DENSE_WEIGHT: f32 = 1.0;

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

#[cfg(test)]
mod tests {
    use super::*;
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
