//! Stage 2, gather: run the plan's sub-queries, fuse their rankings and keep a spread of
//! candidate passages, ranked by fused score and split into sentences.

use verity_types::{Plan, Progress, SearchMode, SubQueryRun};

use crate::error::ComposeError;
use crate::gather::{self, Cand, Query};
use crate::{BriefRequest, Evidence};

/// What the gather stage hands on.
#[derive(Debug, Clone)]
pub(crate) struct Gathered {
    /// Candidate passages; `rank` 0 is the best fused score.
    pub cands: Vec<Cand>,
    /// Every sub-query run, for `--explain` (the second pass adds its own).
    pub runs: Vec<SubQueryRun>,
}

/// The first pass: every aspect's sub-queries, hybrid, weighted by the aspect's kind.
pub(crate) fn run(
    req: &BriefRequest,
    ev: &dyn Evidence,
    plan: &Plan,
    progress: &dyn Progress,
) -> Result<Gathered, ComposeError> {
    let queries = first_pass_queries(plan);
    progress.stage("retrieve", Some(queries.len() as u64));
    let (hits, runs) = gather::retrieve(ev, &queries, req.as_of, || progress.advance(1))?;
    let mut cands: Vec<Cand> = gather::select(hits, req.max_candidates.max(1), &[])
        .into_iter()
        .map(|(h, f)| gather::candidate(h, f))
        .collect();
    for (i, c) in cands.iter_mut().enumerate() {
        c.rank = i;
    }
    rank_by_fused(&mut cands);
    gather::mark_boilerplate(&mut cands);
    Ok(Gathered { cands, runs })
}

/// One hybrid query per sub-query of each aspect.
fn first_pass_queries(plan: &Plan) -> Vec<Query<'_>> {
    plan.aspects
        .iter()
        .flat_map(|a| {
            a.queries.iter().map(move |q| Query {
                aspect: &a.label,
                text: q.clone(),
                limit: a.kind.limit(),
                mode: SearchMode::Hybrid,
                weight: a.kind.fusion_weight(),
            })
        })
        .collect()
}

/// Ranks candidates by fused score (rank 0 = best), whatever order selection left them in.
fn rank_by_fused(cands: &mut [Cand]) {
    let mut idx: Vec<usize> = (0..cands.len()).collect();
    idx.sort_by(|&a, &b| {
        cands[b]
            .fused
            .total_cmp(&cands[a].fused)
            .then(cands[a].hit.passage.id.cmp(&cands[b].hit.passage.id))
    });
    for (r, i) in idx.into_iter().enumerate() {
        cands[i].rank = r;
    }
}

#[cfg(test)]
mod tests {
    use verity_types::{Mode, NoProgress};

    use super::*;
    use crate::pipeline::planning;
    use crate::pipeline::testing::{self, Library, Recorder};

    #[test]
    fn candidates_are_ranked_by_fused_score_and_runs_are_logged() {
        let lib = Library::reservoir();
        let req = testing::request(testing::RESERVOIR_CLAIM, Mode::Check);
        let planned = planning::run(&req, &NoProgress).unwrap();
        let rec = Recorder::default();
        let g = run(&req, &lib, &planned.plan, &rec).unwrap();

        let queries = first_pass_queries(&planned.plan).len();
        assert!(queries > 1);
        assert_eq!(g.runs.len(), queries);
        assert!(g.runs.iter().all(|r| r.mode == "hybrid"));
        assert_eq!(
            rec.stages(),
            vec![("retrieve".to_string(), Some(queries as u64))]
        );
        assert_eq!(rec.advanced(), queries as u64);

        // The bakery shares no word with the claim and is never a candidate.
        assert!(!g.cands.is_empty());
        assert!(g
            .cands
            .iter()
            .all(|c| !c.hit.passage.text.contains("bakery")));
        let mut ranks: Vec<usize> = g.cands.iter().map(|c| c.rank).collect();
        ranks.sort_unstable();
        assert_eq!(ranks, (0..g.cands.len()).collect::<Vec<_>>());
        for a in &g.cands {
            for b in &g.cands {
                if a.rank < b.rank {
                    assert!(a.fused >= b.fused, "{} ranks above {}", a.fused, b.fused);
                }
            }
        }
        assert!(g.cands.iter().all(|c| !c.sents.is_empty()));
    }

    #[test]
    fn max_candidates_caps_the_pool_and_as_of_drops_later_sources() {
        let lib = Library::reservoir();
        let mut req = testing::request(testing::RESERVOIR_CLAIM, Mode::Check);
        req.max_candidates = 1;
        let planned = planning::run(&req, &NoProgress).unwrap();
        let g = run(&req, &lib, &planned.plan, &NoProgress).unwrap();
        assert_eq!(g.cands.len(), 1);
        assert_eq!(g.cands[0].rank, 0);

        req.max_candidates = 40;
        req.as_of = chrono::NaiveDate::from_ymd_opt(2019, 12, 31);
        let g = run(&req, &lib, &planned.plan, &NoProgress).unwrap();
        assert!(!g.cands.is_empty());
        assert!(g
            .cands
            .iter()
            .all(|c| c.hit.source.meta.published <= req.as_of));
    }

    #[test]
    fn a_failing_search_is_a_search_error() {
        let lib = Library::failing();
        let req = testing::request(testing::RESERVOIR_CLAIM, Mode::Check);
        let planned = planning::run(&req, &NoProgress).unwrap();
        let err = run(&req, &lib, &planned.plan, &NoProgress).unwrap_err();
        assert!(matches!(err, ComposeError::Search { .. }), "{err}");
    }
}
