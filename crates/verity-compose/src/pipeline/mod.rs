//! [`build_brief`](crate::build_brief) as a pipeline of stages, each a function from a
//! typed input to a typed output:
//!
//! ```text
//! plan ──▶ gather ──▶ judge ──▶ second pass ──▶ aggregate ──▶ write
//! ```
//!
//! - [`planning`]: the plan and the term sets every later stage matches against.
//! - [`gathering`]: the first retrieval pass, fused into ranked candidates.
//! - [`judging`]: one judging pass over the candidates (coverage, topic gate, stance
//!   model, mismatches, relevance); the first pass runs here on its own budget.
//! - [`second_pass`]: broader queries for aspects the first pass left uncovered, a
//!   second judging pass over what they add, and the gaps that remain.
//! - [`aggregation`]: the deciding sentences, the verdict and a compound claim's parts.
//! - [`writing`]: sentences picked, checked against their sources, numbered, and the
//!   rest of the brief (angles, follow-ups, notes, explain) around them.
//! - [`llm_planning`] (only with a language model and `llm_claims`): the model splits
//!   the claim into parts and proposes queries for the second pass; Verity validates
//!   both and records them.
//! - [`llm_writing`] (only with a language model): the model rewrites the prose from
//!   the numbered passages, and every sentence it writes is checked the same way.
//!
//! Judging comes before the second pass because the second pass looks for what the
//! judged evidence does not cover yet.

pub(crate) mod aggregation;
pub(crate) mod gathering;
pub(crate) mod judging;
pub(crate) mod llm_planning;
pub(crate) mod llm_writing;
pub(crate) mod planning;
pub(crate) mod second_pass;
pub(crate) mod writing;

#[cfg(test)]
pub(crate) mod testing;
