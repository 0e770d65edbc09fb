//! Stage 4, second pass: broader queries (keyword, and dense when the library has it) for
//! the aspects the judged evidence does not cover; a few of the best new passages join
//! the candidates and are judged too. An aspect still uncovered afterwards is a gap.

use std::collections::HashSet;

use verity_types::{Aspect, AspectKind, Gap, Mode, Plan, Progress, SearchMode};

use crate::error::ComposeError;
use crate::gather::{self, Query};
use crate::judge::Budget;
use crate::pipeline::gathering::Gathered;
use crate::pipeline::judging::{JudgePass, Judged};
use crate::{text, BriefRequest, SECOND_PASS_LIMIT};

/// Most passages the second pass adds over all aspects.
const MAX_ADDED: usize = 16;
/// Most passages one aspect's search adds.
const MAX_ADDED_PER_ASPECT: usize = 6;
/// The aspect label of a language model's query, as `--explain` lists its runs.
const MODEL_QUERY: &str = "query proposed by the language model";

/// What the second pass hands on.
#[derive(Debug, Clone)]
pub(crate) struct Covered {
    /// The candidates and runs, with what the second pass added.
    pub gathered: Gathered,
    /// The last judging pass's terms, with the pairs of both passes.
    pub judged: Judged,
    /// Aspects that neither pass covered.
    pub gaps: Vec<Gap>,
    /// For each query a language model proposed, in order: (hits seen, passages added).
    pub model_runs: Vec<(usize, usize)>,
}

/// One aspect's second-pass search.
#[derive(Debug, Clone)]
struct Searched {
    /// Index into `plan.aspects`.
    aspect: usize,
    queries: Vec<String>,
    modes: Vec<String>,
    /// Passages the search returned.
    seen: usize,
}

/// Runs the second pass over what the first pass gathered and judged; `extra` are
/// queries a language model proposed (already validated), run whatever the first pass
/// covered.
pub(crate) fn run(
    pass: &JudgePass<'_>,
    req: &BriefRequest,
    gathered: Gathered,
    judged: Judged,
    extra: &[&str],
    progress: &dyn Progress,
) -> Result<Covered, ComposeError> {
    let plan = pass.plan;
    let (mut gathered, mut judged) = (gathered, judged);
    let uncovered = uncovered_aspects(plan, &gathered, &judged.missing);
    let mut searched = Vec::new();
    let mut model_runs = Vec::new();
    if !uncovered.is_empty() || !extra.is_empty() {
        progress.stage("second pass", Some((uncovered.len() + extra.len()) as u64));
        let mut modes = vec![SearchMode::Bm25];
        if pass.ev.has_dense() {
            modes.push(SearchMode::Dense);
        }
        let mut added = 0usize;
        for &ai in &uncovered {
            searched.push(widen(pass, req, ai, &modes, &mut gathered, &mut added)?);
            progress.advance(1);
        }
        for q in extra {
            let before = added;
            let texts = [q.to_string()];
            let hits = search_into(
                pass,
                req,
                MODEL_QUERY,
                &texts,
                &modes,
                &mut gathered,
                &mut added,
            )?;
            model_runs.push((hits, added - before));
            progress.advance(1);
        }
        if added > 0 {
            gather::mark_boilerplate(&mut gathered.cands);
            let budget = Budget {
                pairs: (req.max_judge_pairs / 3).max(8),
                tokens: req.max_judge_tokens / 3,
            };
            let again = pass.run(&mut gathered.cands, budget)?;
            judged = Judged {
                pairs: judged.pairs + again.pairs,
                ..again
            };
        }
    }
    let still: HashSet<usize> = uncovered_aspects(plan, &gathered, &judged.missing)
        .into_iter()
        .collect();
    let gaps = searched
        .into_iter()
        .filter(|s| still.contains(&s.aspect))
        .map(|s| gap_for(plan, &plan.aspects[s.aspect], s))
        .collect();
    Ok(Covered {
        gathered,
        judged,
        gaps,
        model_runs,
    })
}

/// Searches for aspect `ai` with broader queries in every mode of `modes`; the best new
/// passages join the candidates while fewer than [`MAX_ADDED`] were `added`.
fn widen(
    pass: &JudgePass<'_>,
    req: &BriefRequest,
    ai: usize,
    modes: &[SearchMode],
    gathered: &mut Gathered,
    added: &mut usize,
) -> Result<Searched, ComposeError> {
    let aspect = &pass.plan.aspects[ai];
    let texts = second_pass_queries(pass.plan, aspect);
    let seen = search_into(pass, req, &aspect.label, &texts, modes, gathered, added)?;
    Ok(Searched {
        aspect: ai,
        queries: texts,
        modes: modes.iter().map(|m| m.as_str().to_string()).collect(),
        seen,
    })
}

/// Runs `texts` in every mode of `modes` under `label`; the best new passages join the
/// candidates while fewer than [`MAX_ADDED`] were `added`. Returns the hits seen.
fn search_into(
    pass: &JudgePass<'_>,
    req: &BriefRequest,
    label: &str,
    texts: &[String],
    modes: &[SearchMode],
    gathered: &mut Gathered,
    added: &mut usize,
) -> Result<usize, ComposeError> {
    let qs: Vec<Query<'_>> = texts
        .iter()
        .flat_map(|t| {
            modes.iter().map(move |m| Query {
                aspect: label,
                text: t.clone(),
                limit: SECOND_PASS_LIMIT,
                mode: *m,
                weight: 1.0,
            })
        })
        .collect();
    let (hits, runs) = gather::retrieve(pass.ev, &qs, req.as_of, || {})?;
    let seen = hits.len();
    gathered.runs.extend(runs);
    // A few of the best new passages join the pool, so that a hit is judged.
    let room = MAX_ADDED.saturating_sub(*added).min(MAX_ADDED_PER_ASPECT);
    for (h, f) in gather::select(hits, room, &gathered.cands) {
        let mut c = gather::candidate(h, f);
        c.rank = gathered.cands.len();
        gathered.cands.push(c);
        *added += 1;
    }
    Ok(seen)
}

/// Aspects with no relevant evidence among the candidates (indices into `plan.aspects`).
fn uncovered_aspects(plan: &Plan, gathered: &Gathered, missing: &[String]) -> Vec<usize> {
    let cands = &gathered.cands;
    let any_relevant = cands.iter().any(|c| c.sents.iter().any(|s| s.relevant));
    let lean_exists = |want_support: bool| {
        cands.iter().any(|c| {
            c.sents.iter().any(|s| {
                s.relevant
                    && s.scores.is_some_and(|sc| {
                        let lean = sc.supports - sc.contradicts;
                        if want_support {
                            lean >= 0.1
                        } else {
                            lean <= -0.1
                        }
                    })
            })
        })
    };
    let contains = |needle: &str| {
        let n = needle.to_lowercase();
        cands
            .iter()
            .any(|c| c.hit.passage.text.to_lowercase().contains(&n))
    };
    let mut out = Vec::new();
    for (i, a) in plan.aspects.iter().enumerate() {
        let uncovered = match a.kind {
            AspectKind::Core => !any_relevant,
            AspectKind::Term => {
                let ts = text::term_set(&a.label);
                !ts.is_empty() && ts.iter().all(|t| missing.contains(t))
            }
            AspectKind::Entity => !contains(&a.label),
            AspectKind::Date => !contains(&a.label),
            AspectKind::Figure => match text::figure_number(&a.label) {
                Some(num) => !cands.iter().any(|c| c.terms.contains(&num)),
                None => false,
            },
            AspectKind::Supporting => {
                plan.mode == Mode::Check && any_relevant && !lean_exists(true)
            }
            AspectKind::Contradicting => {
                plan.mode == Mode::Check && any_relevant && !lean_exists(false)
            }
            AspectKind::Mechanism | AspectKind::Scale => false,
        };
        if uncovered {
            out.push(i);
        }
    }
    out
}

/// Broader queries for the second pass: drop terms, keep entities.
fn second_pass_queries(plan: &Plan, a: &Aspect) -> Vec<String> {
    let keys = plan.key_terms.join(" ");
    let ents = plan.entities.join(" ");
    let main = plan.entities.first().cloned().unwrap_or_default();
    let mut qs: Vec<String> = match a.kind {
        AspectKind::Core => vec![keys.clone(), format!("{ents} {keys}")],
        AspectKind::Term => vec![a.label.clone(), format!("{} {main}", a.label)],
        AspectKind::Entity => vec![a.label.clone()],
        AspectKind::Figure => vec![a.label.clone(), format!("{} {keys}", a.label)],
        AspectKind::Date => vec![format!("{} {keys}", a.label)],
        AspectKind::Supporting => vec![format!("{ents} {keys}")],
        AspectKind::Contradicting => vec![format!("{ents} {keys} not however")],
        AspectKind::Mechanism | AspectKind::Scale => vec![],
    };
    let mut out: Vec<String> = Vec::new();
    for q in qs.drain(..) {
        let q = text::squash(&q);
        if !q.is_empty() && !out.contains(&q) {
            out.push(q);
        }
    }
    out
}

/// The gap line for an aspect the second pass could not cover. Never says "false".
fn gap_for(plan: &Plan, a: &Aspect, searched: Searched) -> Gap {
    let (aspect, statement) = match a.kind {
        AspectKind::Core => match plan.mode {
            Mode::Check => (
                a.label.clone(),
                format!(
                    "Evidence that addresses the claim as stated (\"{}\") was not found in the indexed sources.",
                    a.label.trim_end_matches('.')
                ),
            ),
            Mode::Ask => (
                a.label.clone(),
                "A passage that answers the question as asked was not found in the indexed sources."
                    .to_string(),
            ),
        },
        AspectKind::Term => (
            format!("\"{}\"", a.label),
            format!(
                "Any mention of \"{}\" was not found in the indexed sources.",
                a.label
            ),
        ),
        AspectKind::Entity => (
            a.label.clone(),
            format!("Any mention of {} was not found in the indexed sources.", a.label),
        ),
        AspectKind::Figure => (
            format!("the figure {}", a.label),
            format!("The figure {} was not found in the indexed sources.", a.label),
        ),
        AspectKind::Date => (
            a.label.clone(),
            format!(
                "A mention of {} in connection with this topic was not found in the indexed sources.",
                a.label
            ),
        ),
        AspectKind::Supporting => (
            "evidence supporting the claim".to_string(),
            "Evidence supporting the claim was not found in the indexed sources.".to_string(),
        ),
        AspectKind::Contradicting => (
            "evidence contradicting the claim".to_string(),
            "Evidence contradicting the claim was not found in the indexed sources.".to_string(),
        ),
        AspectKind::Mechanism | AspectKind::Scale => (
            a.label.clone(),
            format!("Material on {} was not found in the indexed sources.", a.label),
        ),
    };
    Gap {
        aspect,
        statement,
        second_pass_queries: searched.queries,
        second_pass_modes: searched.modes,
        second_pass_candidates: searched.seen,
    }
}

#[cfg(test)]
mod tests {
    use verity_judge::LexicalStance;
    use verity_types::NoProgress;

    use super::*;
    use crate::pipeline::planning::{self, Planned};
    use crate::pipeline::testing::{self, Library, Recorder, RESERVOIR_DOCS};
    use crate::pipeline::{gathering, judging};

    fn planned(claim: &str) -> (BriefRequest, Planned) {
        let req = testing::request(claim, Mode::Check);
        let planned = planning::run(&req, &NoProgress).unwrap();
        (req, planned)
    }

    #[test]
    fn an_off_topic_pool_is_widened_and_judged_again() {
        let (req, planned) = planned(testing::RESERVOIR_CLAIM);
        let lib = Library::reservoir();
        let judge = LexicalStance::new();
        let pass = JudgePass::new(&planned, &judge, &lib);
        // The first pass found only the bakery.
        let mut gathered = Gathered {
            cands: testing::cands(&RESERVOIR_DOCS[3..]),
            runs: Vec::new(),
        };
        let first = judging::run(&pass, &req, &mut gathered.cands, &NoProgress).unwrap();
        let uncovered = uncovered_aspects(&planned.plan, &gathered, &first.missing);
        let core = planned
            .plan
            .aspects
            .iter()
            .position(|a| a.kind == AspectKind::Core);
        assert!(
            core.is_some_and(|c| uncovered.contains(&c)),
            "{uncovered:?}"
        );

        let rec = Recorder::default();
        let covered = run(&pass, &req, gathered, first.clone(), &[], &rec).unwrap();
        let stages = rec.stages();
        assert_eq!(
            stages,
            vec![("second pass".into(), Some(uncovered.len() as u64))]
        );
        assert_eq!(rec.advanced(), uncovered.len() as u64);
        let cands = &covered.gathered.cands;
        assert!(cands.len() > 1 && cands.len() <= 1 + MAX_ADDED);
        assert!(cands.iter().enumerate().all(|(i, c)| c.rank == i));
        assert!(cands
            .iter()
            .any(|c| c.hit.passage.text.contains("inspection found cracks")));
        assert!(!covered.gathered.runs.is_empty());
        assert!(lib.modes_seen().iter().all(|m| *m == SearchMode::Bm25));
        assert!(covered.judged.pairs > first.pairs);
        // What it found covers the claim: no gap for the claim as a whole.
        assert!(cands.iter().flat_map(|c| &c.sents).any(|s| s.relevant));
        assert!(covered
            .gaps
            .iter()
            .all(|g| !g.statement.starts_with("Evidence that addresses")));
    }

    #[test]
    fn a_figure_no_source_gives_is_a_gap_with_its_queries() {
        let claim =
            "Fact check: The Tarrow Valley Water Board spent $9 million on the Ashby reservoir.";
        let (req, planned) = planned(claim);
        let lib = Library::reservoir().with_dense();
        let judge = LexicalStance::new();
        let pass = JudgePass::new(&planned, &judge, &lib);
        let mut gathered = gathering::run(&req, &lib, &planned.plan, &NoProgress).unwrap();
        let judged = judging::run(&pass, &req, &mut gathered.cands, &NoProgress).unwrap();
        let covered = run(&pass, &req, gathered, judged, &[], &NoProgress).unwrap();

        let gap = covered
            .gaps
            .iter()
            .find(|g| g.aspect == "the figure $9 million")
            .unwrap_or_else(|| panic!("{:#?}", covered.gaps));
        assert_eq!(
            gap.statement,
            "The figure $9 million was not found in the indexed sources."
        );
        assert_eq!(gap.second_pass_modes, vec!["bm25", "dense"]);
        assert_eq!(gap.second_pass_queries[0], "$9 million");
        assert!(
            gap.second_pass_queries.len() == 2,
            "{:?}",
            gap.second_pass_queries
        );
        assert!(lib.modes_seen().contains(&SearchMode::Dense));
        // Every gap says what was not found, never that the claim is false.
        assert!(covered
            .gaps
            .iter()
            .all(|g| g.statement.contains("not found in the indexed sources")));
    }

    #[test]
    fn broader_queries_keep_entities_and_drop_repeats() {
        let (_, planned) = planned(testing::RESERVOIR_CLAIM);
        let plan = &planned.plan;
        let aspect = |kind: AspectKind| Aspect {
            kind,
            label: "Ashby reservoir".into(),
            queries: Vec::new(),
        };
        let keys = plan.key_terms.join(" ");
        let core = second_pass_queries(plan, &aspect(AspectKind::Core));
        assert_eq!(core[0], keys);
        assert!(core[1].starts_with("Tarrow Valley Water Board"), "{core:?}");
        let contra = second_pass_queries(plan, &aspect(AspectKind::Contradicting));
        assert!(contra[0].ends_with("not however"), "{contra:?}");
        assert!(second_pass_queries(plan, &aspect(AspectKind::Mechanism)).is_empty());
        let entity = second_pass_queries(plan, &aspect(AspectKind::Entity));
        assert_eq!(entity, vec!["Ashby reservoir".to_string()]);
    }
}
