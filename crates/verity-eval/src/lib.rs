//! Verity's evaluation library: measures the stance judge and the retrievers on plain,
//! labelled files, so anyone can check Verity on their own data. The `verity eval`
//! subcommands are thin wrappers over it.
//!
//! - **Stance**: [`load_pairs`] reads claim–evidence pairs (Verity's JSONL, SNLI's native
//!   JSONL, HealthVer's CSV, the COVID-Fact / SciFact entailment TSV); [`eval_pair_set`]
//!   runs any [`verity_judge::StanceModel`] over them and returns a [`StanceReport`]
//!   (accuracy, macro-F1, per-class precision / recall / F1, confusion matrix, pairs/s).
//! - **Retrieval** (BEIR layout): [`load_corpus`], [`load_queries`], [`load_qrels`];
//!   [`eval_retrieval`] runs any search function and computes nDCG@10, Recall@10,
//!   Recall@100 and MRR@10 with [`metrics`].
//! - **Claims**: [`load_claims`] reads labelled claims (JSONL: `claim`, `label`, `kind`);
//!   [`eval_claims`] runs any claim checker over them (the CLI passes the engine's claim
//!   check) and returns a [`ClaimsReport`] (accuracy, per-class precision / recall / F1,
//!   macro-F1, per-kind accuracy, a confusion matrix with a `mixed` column, seconds per
//!   claim), writing one [`ClaimOutcome`] per claim when asked.
//! - **Builders**: [`build_healthver_retrieval`] turns HealthVer's claim–evidence pairs
//!   into a retrieval task; [`build_checkcovid`] turns Check-COVID into a corpus and
//!   claims files for claim-level evaluation.
//!
//! ```no_run
//! use std::path::Path;
//! use verity_eval::{eval_pair_set, load_pairs, Limit, PairFormat};
//! use verity_judge::LexicalStance;
//! use verity_types::NoProgress;
//!
//! let set = load_pairs(Path::new("pairs.jsonl"), PairFormat::Auto, Limit::All)?;
//! let report = eval_pair_set(&set, &LexicalStance, &NoProgress)?;
//! println!("{}", report.render_text());
//! # Ok::<(), verity_eval::EvalError>(())
//! ```

mod checkcovid;
mod claims;
mod error;
mod faithfulness;
mod healthver;
mod pairs;
mod retrieval;
mod stance;

pub use checkcovid::{
    build_checkcovid, CheckCovidSummary, CHECKCOVID_CORPUS, CHECKCOVID_DEV_FILE,
    CHECKCOVID_TEST_FILES,
};
pub use claims::{
    claims_report, eval_claims, load_claims, CitedBy, CitedPassage, ClaimChecker, ClaimClass,
    ClaimClassMetrics, ClaimConfusion, ClaimOutcome, ClaimPrediction, ClaimSet, ClaimTiming,
    ClaimsReport, KindAccuracy, LabelledClaim, VerdictSide, NO_KIND,
};
pub use error::EvalError;
pub use faithfulness::{faithfulness_arm, FaithfulnessArm, FaithfulnessReport};
pub use healthver::{build_healthver_retrieval, HealthVerRetrievalSummary};
pub use pairs::{load_pairs, Limit, PairFormat, PairSet, StancePair};
pub use retrieval::{
    eval_retrieval, load_corpus, load_qrels, load_queries, metrics, CorpusDoc, Qrels, Query,
    RetrievalMetrics, RetrievalReport,
};
pub use stance::{eval_pair_set, eval_stance, ClassMetrics, StanceReport};
