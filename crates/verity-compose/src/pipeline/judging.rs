//! Stage 3, judge: one judging pass over the candidates. The first pass runs here on the
//! request's budget; the second pass runs the same [`JudgePass`] on what it adds.

use std::collections::BTreeSet;

use verity_judge::StanceModel;
use verity_types::{Mode, Plan, Progress};

use crate::error::ComposeError;
use crate::gather::Cand;
use crate::judge::{self, Budget, Idf};
use crate::pipeline::planning::Planned;
use crate::{topic, BriefRequest, Evidence};

/// What a judging pass leaves for the rest of the brief.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Judged {
    /// Pairs the stance model scored (over every pass so far, once passes are summed).
    pub pairs: usize,
    /// The claim's distinctive terms and those no candidate holds (see
    /// [`judge::focus_terms`]).
    pub focus: Vec<String>,
    pub missing: Vec<String>,
    /// Terms that tie a sentence to what was asked (see [`judge::anchor_terms`]).
    pub anchors: BTreeSet<String>,
}

/// One judging pass over the candidates: coverage, the topic gate (claim mode), the
/// stance model within a budget, named value mismatches (claim mode), and which judged
/// sentences count (see [`judge::mark_relevant`]), all over one IDF table.
pub(crate) struct JudgePass<'a> {
    pub plan: &'a Plan,
    pub subject: Option<&'a topic::Subject>,
    pub hyp_terms: &'a BTreeSet<String>,
    pub named: &'a BTreeSet<String>,
    pub judge: &'a dyn StanceModel,
    pub ev: &'a dyn Evidence,
}

impl<'a> JudgePass<'a> {
    /// The pass for a planned brief.
    pub fn new(planned: &'a Planned, judge: &'a dyn StanceModel, ev: &'a dyn Evidence) -> Self {
        JudgePass {
            plan: &planned.plan,
            subject: planned.subject.as_ref(),
            hyp_terms: &planned.hyp_terms,
            named: &planned.named,
            judge,
            ev,
        }
    }

    pub fn run(&self, cands: &mut [Cand], budget: Budget) -> Result<Judged, ComposeError> {
        let idf = Idf::over(cands);
        judge::cover(cands, self.hyp_terms, self.named, &idf);
        if let Some(subject) = self.subject {
            topic::gate(cands, subject, &self.plan.hypothesis, &idf, self.ev);
        }
        let judged = judge::judge_sentences(cands, &self.plan.hypothesis, self.judge, budget)?;
        let mode = self.plan.mode;
        if mode == Mode::Check {
            judge::apply_mismatches(cands, &self.plan.hypothesis, self.named);
        }
        let (focus, missing) = judge::focus_terms(self.hyp_terms, &idf);
        let anchors = judge::anchor_terms(mode, &self.plan.entities, &focus, &idf);
        judge::mark_relevant(
            cands,
            mode,
            self.judge.is_neural(),
            self.subject.is_some(),
            &focus,
            &missing,
            &anchors,
        );
        Ok(Judged {
            pairs: judged,
            focus,
            missing,
            anchors,
        })
    }
}

/// The first judging pass, within the request's pair and token budget.
pub(crate) fn run(
    pass: &JudgePass<'_>,
    req: &BriefRequest,
    cands: &mut [Cand],
    progress: &dyn Progress,
) -> Result<Judged, ComposeError> {
    progress.stage("judge", Some(req.max_judge_pairs as u64));
    let judged = pass.run(
        cands,
        Budget {
            pairs: req.max_judge_pairs,
            tokens: req.max_judge_tokens,
        },
    )?;
    progress.advance(judged.pairs as u64);
    Ok(judged)
}

#[cfg(test)]
mod tests {
    use verity_judge::LexicalStance;
    use verity_types::NoProgress;

    use super::*;
    use crate::pipeline::testing::{self, Library, Recorder, RESERVOIR_DOCS};
    use crate::pipeline::{gathering, planning};

    fn planned() -> (BriefRequest, Planned) {
        let req = testing::request(testing::RESERVOIR_CLAIM, Mode::Check);
        let planned = planning::run(&req, &NoProgress).unwrap();
        (req, planned)
    }

    #[test]
    fn the_lexical_judge_scores_within_budget_and_marks_relevant_sentences() {
        let (mut req, planned) = planned();
        let lib = Library::reservoir();
        let judge = LexicalStance::new();
        let pass = JudgePass::new(&planned, &judge, &lib);
        let mut cands = testing::cands(RESERVOIR_DOCS);
        req.max_judge_pairs = 3;
        let rec = Recorder::default();
        let judged = run(&pass, &req, &mut cands, &rec).unwrap();

        assert!(judged.pairs > 0 && judged.pairs <= 3, "{}", judged.pairs);
        let scored = cands
            .iter()
            .flat_map(|c| &c.sents)
            .filter(|s| s.scores.is_some());
        assert!(scored.count() >= judged.pairs);
        assert_eq!(rec.stages(), vec![("judge".to_string(), Some(3))]);
        assert_eq!(rec.advanced(), judged.pairs as u64);
        assert!(judged.focus.iter().any(|t| t.starts_with("reservoir")));
        // The bakery is off the subject: nothing in it counts.
        let bakery = cands.iter().find(|c| c.hit.passage.text.contains("bakery"));
        assert!(bakery.unwrap().sents.iter().all(|s| !s.relevant));
    }

    #[test]
    fn the_real_stance_model_tells_the_closure_from_its_denial() {
        let Some(model) = testing::stance_model() else {
            return;
        };
        let (req, planned) = planned();
        let lib = Library::reservoir();
        let pass = JudgePass::new(&planned, &model, &lib);
        let mut g = gathering::run(&req, &lib, &planned.plan, &NoProgress).unwrap();
        let judged = run(&pass, &req, &mut g.cands, &NoProgress).unwrap();
        assert!(judged.pairs > 0);
        let lean_of = |needle: &str| {
            let s = g
                .cands
                .iter()
                .flat_map(|c| &c.sents)
                .find(|s| s.text.contains(needle) && s.scores.is_some())
                .unwrap_or_else(|| panic!("no judged sentence with {needle:?}"));
            let sc = s.scores.unwrap();
            sc.supports - sc.contradicts
        };
        let closed = lean_of("after an inspection found cracks");
        let denied = lean_of("did not close");
        assert!(closed > 0.1, "the closure notice leans {closed}");
        assert!(denied < -0.1, "the denial leans {denied}");
    }
}
