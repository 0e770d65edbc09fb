//! Stage 6, write: pick the sentences ([`select`]), check each against the passages it
//! cites ([`check`]), number the sources ([`number`]), and build the rest of the brief
//! around them: the verdict block ([`verdict`]), angles, currency, follow-up questions
//! ([`follow_ups`]), notes and `--explain` ([`notes`]).

pub(crate) mod check;
pub(crate) mod follow_ups;
pub(crate) mod notes;
pub(crate) mod number;
pub(crate) mod select;
pub(crate) mod verdict;

use verity_judge::StanceModel;
use verity_types::{Brief, BriefSource, Currency, Mode, Plan, Progress, Verdict};

use crate::error::ComposeError;
use crate::pipeline::aggregation::Assessed;
use crate::pipeline::gathering::Gathered;
use crate::pipeline::second_pass::Covered;
use crate::{compose, BriefRequest, DISCLAIMER};

/// What writing reads: everything the earlier stages made.
pub(crate) struct WriteInput<'a> {
    pub req: &'a BriefRequest,
    /// Kept in the brief for `--explain`.
    pub plan: Plan,
    pub judge: &'a dyn StanceModel,
    pub has_dense: bool,
    pub covered: Covered,
    pub assessed: Assessed,
}

/// Writes the brief.
pub(crate) fn run(input: WriteInput<'_>, progress: &dyn Progress) -> Result<Brief, ComposeError> {
    let WriteInput {
        req,
        plan,
        judge,
        has_dense,
        covered,
        assessed,
    } = input;
    let Covered {
        gathered: Gathered { cands, runs },
        judged,
        gaps,
        ..
    } = covered;
    let mode = plan.mode;
    progress.stage("compose", None);
    let sel = select::run(&cands, mode, &judged, &assessed, req.max_sources);
    progress.stage("verify", None);
    let check::Checked {
        mut summary,
        mut findings,
        verification,
    } = check::run(&sel, &cands, judge, req)?;
    let nee = assessed.verdict == Some(Verdict::NotEnoughEvidence);
    let numbered = number::run(&sel, &cands, &mut summary, &mut findings, nee);
    let verdict = (mode == Mode::Check)
        .then(|| verdict::block(&assessed, &sel.verdict_sides, &cands, &numbered.numbers));
    let sources = numbered.sources;
    let angles = compose::angles(&sources, &numbered.stance_of, mode);
    let currency = currency(&sources);
    let follow_ups = follow_ups::run(&follow_ups::FollowUpSources {
        plan: &plan,
        summary: &summary,
        findings: &findings,
        sources: &sources,
        gaps: &gaps,
        angles: &angles,
        verdict: verdict.as_ref(),
        newest: currency.newest,
    });
    let neural = judge.is_neural();
    let notes = notes::notes(&notes::NoteFacts {
        mode,
        lexical_judge: (!neural).then(|| judge.name()),
        has_dense,
        as_of: req.as_of,
        undated: currency.undated,
        verification: &verification,
    });
    let explain = req
        .explain
        .then(|| notes::explain(runs, &cands, &judged, &assessed));
    Ok(Brief {
        mode,
        input: req.input.clone(),
        statement: plan.statement.clone(),
        title: title(&plan),
        checked_on: req.today,
        as_of: req.as_of,
        currency,
        disclaimer: DISCLAIMER.to_string(),
        verdict,
        summary,
        findings,
        angles,
        gaps,
        sources,
        follow_ups,
        notes,
        judge: judge.name().to_string(),
        judge_neural: neural,
        verification,
        plan,
        explain,
        writer: None,
        planner: None,
    })
}

/// "Fact check: <claim>" or the question.
fn title(plan: &Plan) -> String {
    match plan.mode {
        Mode::Check => format!("Fact check: {}", plan.statement),
        Mode::Ask => plan.statement.clone(),
    }
}

/// How current the cited sources are.
fn currency(sources: &[BriefSource]) -> Currency {
    Currency {
        newest: sources.iter().filter_map(|s| s.published).max(),
        oldest: sources.iter().filter_map(|s| s.published).min(),
        undated: sources.iter().filter(|s| s.published.is_none()).count(),
    }
}

#[cfg(test)]
mod tests {
    use verity_judge::LexicalStance;
    use verity_types::NoProgress;

    use super::*;
    use crate::pipeline::aggregation::{self, AggregateInput};
    use crate::pipeline::judging::{self, JudgePass};
    use crate::pipeline::testing::{self, Library, Recorder};
    use crate::pipeline::{gathering, planning, second_pass};

    /// Runs the stages before writing over the fixture library.
    fn before_writing(
        req: &BriefRequest,
        lib: &Library,
        judge: &dyn StanceModel,
    ) -> (Plan, Covered, Assessed) {
        let planned = planning::run(req, &NoProgress).unwrap();
        let pass = JudgePass::new(&planned, judge, lib);
        let mut g = gathering::run(req, lib, &planned.plan, &NoProgress).unwrap();
        let judged = judging::run(&pass, req, &mut g.cands, &NoProgress).unwrap();
        let covered = second_pass::run(&pass, req, g, judged, &[], &NoProgress).unwrap();
        let assessed = aggregation::run(&AggregateInput {
            plan: &planned.plan,
            cands: &covered.gathered.cands,
            named: &planned.named,
            judge,
            max_judge_pairs: req.max_judge_pairs,
            parts: None,
        })
        .unwrap();
        (planned.plan, covered, assessed)
    }

    fn write(req: &BriefRequest, judge: &dyn StanceModel, progress: &dyn Progress) -> Brief {
        let lib = Library::reservoir();
        let (plan, covered, assessed) = before_writing(req, &lib, judge);
        let input = WriteInput {
            req,
            plan,
            judge,
            has_dense: false,
            covered,
            assessed,
        };
        run(input, progress).unwrap()
    }

    /// What every brief promises, whatever the evidence: sources numbered 1..n in order,
    /// every citation pointing at one of them, and the checked sentences counted.
    fn assert_consistent(b: &Brief) {
        let ns: Vec<usize> = b.sources.iter().map(|s| s.n).collect();
        assert_eq!(ns, (1..=b.sources.len()).collect::<Vec<_>>());
        for s in b.sentences() {
            assert!(!s.citations.is_empty(), "{}", s.text);
            for c in &s.citations {
                assert_eq!(b.source(c.n).map(|x| &x.id), Some(&c.source_id));
            }
            assert!(s.support.is_some() && s.model_support.is_some());
        }
        let kept = b.sentences().count();
        assert_eq!(b.verification.kept, kept);
        assert_eq!(
            b.verification.checked,
            kept + b.verification.dropped.len() - b.verification.flagged
        );
        for (i, f) in b.findings.iter().enumerate() {
            assert_eq!(f.number, i + 1);
        }
    }

    #[test]
    fn a_claim_brief_with_the_lexical_judge() {
        let mut req = testing::request(testing::RESERVOIR_CLAIM, Mode::Check);
        req.explain = true;
        let rec = Recorder::default();
        let b = write(&req, &LexicalStance::new(), &rec);
        let stages: Vec<String> = rec.stages().into_iter().map(|s| s.0).collect();
        assert_eq!(stages, vec!["compose", "verify"]);
        assert_eq!(b.title, format!("Fact check: {}", b.statement));
        assert_eq!(b.checked_on, req.today);
        assert_consistent(&b);
        assert!(!b.sources.is_empty());
        assert!(b.sources.iter().all(|s| !s.title.contains("Bakery")));
        let newest = b.sources.iter().filter_map(|s| s.published).max();
        assert_eq!(b.currency.newest, newest);
        let v = b.verdict.as_ref().unwrap();
        assert_eq!(v.label, v.verdict.label());
        for n in v.supporting.iter().chain(&v.contradicting) {
            assert!(b.source(*n).is_some(), "verdict cites [{n}]");
        }
        assert_eq!(b.follow_ups.len(), 5);
        assert!(b.notes[0].starts_with("Stance was judged by the lexical fallback"));
        assert!(b.notes[1].starts_with("Dense (semantic) search was not available"));
        let explain = b.explain.as_ref().unwrap();
        assert!(!explain.runs.is_empty() && !explain.candidates.is_empty());
        assert!(!b.judge_neural);
    }

    #[test]
    fn a_question_brief_has_no_verdict_or_explain() {
        let req = testing::request("Why was the Ashby reservoir closed?", Mode::Ask);
        let b = write(&req, &LexicalStance::new(), &NoProgress);
        assert_eq!(b.mode, Mode::Ask);
        assert_eq!(b.title, "Why was the Ashby reservoir closed?");
        assert!(b.verdict.is_none() && b.explain.is_none());
        assert_consistent(&b);
        assert!(!b.summary.is_empty());
    }

    #[test]
    fn a_claim_brief_with_the_real_stance_model() {
        let Some(model) = testing::stance_model() else {
            return;
        };
        let req = testing::request(testing::RESERVOIR_CLAIM, Mode::Check);
        let b = write(&req, &model, &NoProgress);
        assert!(b.judge_neural);
        assert_consistent(&b);
        assert!(b.notes.iter().all(|n| !n.contains("lexical fallback")));
        let v = b.verdict.as_ref().unwrap();
        // Two publishers say the board closed it in 2019; the model must find that side.
        assert_ne!(v.verdict, Verdict::NotEnoughEvidence, "{}", v.conclusion);
        assert!(!v.supporting.is_empty(), "{}", v.conclusion);
        for n in &v.supporting {
            assert_ne!(
                b.source(*n).unwrap().publisher.as_deref(),
                Some("Tarrow Gazette")
            );
        }
    }
}
