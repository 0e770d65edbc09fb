//! Verity's stance judges: given a claim and a piece of evidence, how likely is it that the
//! evidence supports the claim, contradicts it, or says nothing about it?
//!
//! Two implementations sit behind one trait, [`StanceModel`]:
//!
//! - [`CrossEncoderStance`]: Verity's own MiniLM-L6 cross-encoder (trained by
//!   `training/train_stance.py`, shipped under `models/verity-stance/`), run on the CPU by
//!   the BERT encoder it shares with the embedder (`verity_models::bert`). It reads `[CLS] claim [SEP] evidence [SEP]`, mean-pools the last hidden states,
//!   applies a linear head and a calibrated temperature. Evidence longer than the model's
//!   window is split into overlapping sentence windows; see [`CrossEncoderStance`] for the
//!   aggregation rule.
//! - [`LexicalStance`]: the fallback used when the model is not installed. It counts the
//!   claim's content words found in the evidence and looks for negation, contrast and
//!   mismatched numbers. It is a crude heuristic and says so in its name.
//!
//! ```no_run
//! use std::path::Path;
//! use verity_judge::{CrossEncoderStance, StanceModel};
//!
//! let model = CrossEncoderStance::load(
//!     Path::new("models/verity-stance"),
//!     Path::new("models/minilm/tokenizer.json"),
//! )?;
//! let scores = model.score(&[(
//!     "The Dunmore bridge reopened in May.",
//!     "The Dunmore bridge reopened to traffic on 3 May after repairs.",
//! )])?;
//! println!("{:?}", scores[0].label());
//! # Ok::<(), verity_judge::JudgeError>(())
//! ```

mod context;
mod cross_encoder;
mod error;
mod lexical;
mod windows;

pub use context::in_context;
pub use cross_encoder::{CrossEncoderStance, ScoredPair, StanceConfig};
pub use error::JudgeError;
pub use lexical::LexicalStance;
pub use verity_types::{Stance, StanceScores};
pub use windows::sentence_spans;

/// Scores (claim, evidence) pairs for stance.
///
/// Implementations must be usable from several threads at once; they return one
/// [`StanceScores`] per input pair, in input order, each summing to 1.
pub trait StanceModel: Send + Sync {
    /// A short name for reports and logs (e.g. `verity-stance (cross-encoder)`).
    fn name(&self) -> &str;
    /// Whether this judge is a trained neural model (false for the lexical fallback).
    fn is_neural(&self) -> bool;
    /// Scores each `(claim, evidence)` pair.
    fn score(&self, pairs: &[(&str, &str)]) -> Result<Vec<StanceScores>, JudgeError>;
    /// Roughly how many model tokens scoring `text` costs, for time budgets. A word-count
    /// estimate unless the judge knows its tokenizer.
    fn token_cost(&self, text: &str) -> usize {
        estimate_tokens(text)
    }
}

/// A tokenizer-free guess at a text's model tokens: about four for every three words.
pub fn estimate_tokens(text: &str) -> usize {
    text.split_whitespace().count() * 4 / 3 + 1
}
