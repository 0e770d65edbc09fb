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
//! - **Builders**: [`build_healthver_retrieval`] turns HealthVer's claim–evidence pairs
//!   into a retrieval task.
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

mod error;
mod healthver;
mod pairs;
mod retrieval;
mod stance;

pub use error::EvalError;
pub use healthver::{build_healthver_retrieval, HealthVerRetrievalSummary};
pub use pairs::{load_pairs, Limit, PairFormat, PairSet, StancePair};
pub use retrieval::{
    eval_retrieval, load_corpus, load_qrels, load_queries, metrics, CorpusDoc, Qrels, Query,
    RetrievalMetrics, RetrievalReport,
};
pub use stance::{eval_pair_set, eval_stance, ClassMetrics, StanceReport};
