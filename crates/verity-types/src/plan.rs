//! The plan of a brief: what a question or claim names, and the aspects worth covering.
//! `verity_compose::plan` builds it; a brief keeps it for `--explain`.

use serde::{Deserialize, Serialize};

use crate::Mode;

/// What an aspect is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AspectKind {
    /// The claim or question as a whole.
    Core,
    /// One key term of the claim ("fluoride").
    Term,
    /// A named entity ("Halden Environmental Finance Authority").
    Entity,
    /// A date it names.
    Date,
    /// A figure it names ("$22 million").
    Figure,
    /// Perspective: evidence that supports it.
    Supporting,
    /// Perspective: evidence that contradicts or complicates it.
    Contradicting,
    /// Perspective: rules, agreements, how it works.
    Mechanism,
    /// Perspective: scale, costs, counts.
    Scale,
}

impl AspectKind {
    /// Weight of this aspect's results when sub-query rankings are fused.
    pub fn fusion_weight(self) -> f32 {
        match self {
            AspectKind::Core => 1.0,
            AspectKind::Entity | AspectKind::Figure | AspectKind::Date | AspectKind::Term => 0.6,
            _ => 0.5,
        }
    }
    /// Passages each of this aspect's sub-queries asks for.
    pub fn limit(self) -> usize {
        match self {
            AspectKind::Core => 20,
            _ => 12,
        }
    }
}

/// One aspect worth covering.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aspect {
    pub kind: AspectKind,
    /// What it is about, as shown in gaps and `--explain`.
    pub label: String,
    /// Sub-queries run in the first pass (may be empty when the core query covers it).
    pub queries: Vec<String>,
}

/// The plan of a brief, kept for `--explain`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub mode: Mode,
    /// The question, or the claim without a "Fact check:" prefix.
    pub statement: String,
    /// What the stance model judges evidence against: the claim, or the question turned
    /// into a statement.
    pub hypothesis: String,
    pub entities: Vec<String>,
    pub dates: Vec<String>,
    pub figures: Vec<String>,
    /// Content words that are not part of an entity, date or figure.
    pub key_terms: Vec<String>,
    pub aspects: Vec<Aspect>,
}
