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
use verity_types::{NoProgress, Progress};

use crate::{Library, Mode, Request};

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
}
