//! `verity eval` through the door: the labelled-file loaders, task builders and reports
//! of `verity-eval`, and the library methods that score this library's own stance model
//! and claim checks with them. Retrieval is scored over any search function
//! ([`eval_retrieval`]), so the caller picks the library and the mode.

use std::path::Path;

use chrono::NaiveDate;
pub use verity_eval::{
    build_checkcovid, build_healthver_retrieval, eval_retrieval, load_claims, load_corpus,
    load_pairs, load_qrels, load_queries, CheckCovidSummary, ClaimPrediction, ClaimSet,
    ClaimsReport, EvalError, HealthVerRetrievalSummary, Limit, PairFormat, PairSet,
    RetrievalReport, StanceReport,
};
pub use verity_eval::{faithfulness_arm, FaithfulnessArm, FaithfulnessReport};
use verity_types::{NoProgress, Progress};

use crate::{Library, LlmOptions, Mode, Request};

impl Library {
    /// Stance accuracy, macro-F1 and the confusion matrix of this library's stance model
    /// (neural, or the lexical fallback) on labelled pairs.
    pub fn eval_stance(
        &self,
        set: &PairSet,
        progress: &dyn Progress,
    ) -> Result<StanceReport, EvalError> {
        verity_eval::eval_pair_set(set, self.stance_model(), progress)
    }

    /// Every claim of `set` through the same check as `verity check` (default options,
    /// checked on `today`), scored against its label; one JSON line per claim to `out`
    /// when given. Stores nothing in the history.
    pub fn eval_claims(
        &self,
        set: &ClaimSet,
        today: NaiveDate,
        out: Option<&Path>,
        progress: &dyn Progress,
    ) -> Result<ClaimsReport, EvalError> {
        let mut check =
            |claim: &str| -> Result<ClaimPrediction, Box<dyn std::error::Error + Send + Sync>> {
                let req = Request::new(Mode::Check, claim);
                let brief = self.run_check(&req, today, &NoProgress)?;
                Ok(ClaimPrediction::from_brief(&brief).ok_or("the brief has no verdict")?)
            };
        verity_eval::eval_claims(set, &mut check, out, progress)
    }

    /// Brief faithfulness over `questions` (a "Fact check:" prefix makes one a claim):
    /// each is briefed by the extractive composer and, with `llm`, by that model too,
    /// and the two are reported side by side (see [`FaithfulnessReport`]). Stores
    /// nothing in the history.
    pub fn eval_faithfulness(
        &self,
        questions: &[String],
        llm: Option<&LlmOptions>,
        today: NaiveDate,
        progress: &dyn Progress,
    ) -> crate::Result<FaithfulnessReport> {
        let arms = 1 + usize::from(llm.is_some());
        progress.stage("briefs", Some((questions.len() * arms) as u64));
        let (mut plain, mut written) = (Vec::new(), Vec::new());
        for q in questions {
            plain.push(self.timed_brief(&Request::new(Mode::Ask, q.as_str()), today)?);
            progress.advance(1);
            if let Some(o) = llm {
                let mut req = Request::new(Mode::Ask, q.as_str());
                req.options.llm = Some(o.clone());
                written.push(self.timed_brief(&req, today)?);
                progress.advance(1);
            }
        }
        let mut report = FaithfulnessReport {
            questions: questions.len(),
            arms: vec![faithfulness_arm("extractive", &plain)],
        };
        if let Some(o) = llm {
            report
                .arms
                .push(faithfulness_arm(format!("llm {}", o.model), &written));
        }
        Ok(report)
    }

    fn timed_brief(
        &self,
        req: &Request,
        today: NaiveDate,
    ) -> crate::Result<(crate::Brief, std::time::Duration)> {
        let started = std::time::Instant::now();
        let brief = self.run_check(req, today, &NoProgress)?;
        Ok((brief, started.elapsed()))
    }
}
