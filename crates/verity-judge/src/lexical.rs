//! The lexical stance fallback: word overlap plus negation and number cues.

use std::collections::HashSet;

use verity_text::{is_stopword, stem};
use verity_types::StanceScores;

use crate::{JudgeError, StanceModel};

/// A word-overlap stance heuristic, used when the neural stance model is not installed.
///
/// - **Relatedness** is the share of the claim's content words (stop words dropped, crude
///   suffix stemming) that occur in the evidence. Below [`LexicalStance::RELATED`] the pair
///   is neutral.
/// - **Contradiction cues**, counted only for related pairs: the evidence carries negation
///   or contrast words the claim lacks (or the other way round: "not", "no", "never",
///   "denied", "false", "contrary", "however", ...), or the claim's numbers are all absent
///   from an evidence that states other numbers.
/// - Otherwise a related pair leans towards supports, more so the higher the overlap.
///
/// It cannot tell paraphrase from coincidence or read a negation's scope; treat its
/// scores as a rough ranking signal, never as a verdict on their own.
#[derive(Debug, Clone, Default)]
pub struct LexicalStance;

/// Words whose presence on one side only suggests the two sides disagree.
const NEGATION_CUES: &[&str] = &[
    "not",
    "no",
    "never",
    "none",
    "nor",
    "neither",
    "nobody",
    "nothing",
    "without",
    "cannot",
    "denied",
    "denies",
    "deny",
    "false",
    "untrue",
    "incorrect",
    "contrary",
    "however",
    "refuted",
    "refutes",
    "myth",
    "fails",
    "failed",
    "unable",
    "lack",
    "lacks",
];

impl LexicalStance {
    /// Share of claim content words that must appear in the evidence for the pair to
    /// count as related.
    pub const RELATED: f32 = 0.5;

    /// Creates the lexical judge.
    pub fn new() -> Self {
        Self
    }

    /// Scores one pair (see the type docs for the rule).
    pub fn score_one(&self, claim: &str, evidence: &str) -> StanceScores {
        let c = Words::of(claim);
        let e = Words::of(evidence);
        if c.content.is_empty() {
            return neutral();
        }
        let hits = c.content.iter().filter(|w| e.content.contains(*w)).count();
        let overlap = hits as f32 / c.content.len() as f32;
        if overlap < Self::RELATED {
            // Unrelated: mostly neutral, a little mass spread by overlap.
            let s = 0.1 + 0.2 * overlap;
            return norm(s, s * 0.5, 1.0 - 1.5 * s);
        }
        let negation_mismatch = (c.negations > 0) != (e.negations > 0);
        let number_mismatch = !c.numbers.is_empty()
            && !e.numbers.is_empty()
            && c.numbers.iter().all(|n| !e.numbers.contains(n));
        let strength = 0.4 + 0.5 * overlap; // 0.65 ..= 0.9
        if negation_mismatch || number_mismatch {
            norm(0.15, strength, 1.0 - strength)
        } else {
            norm(strength, 0.1, 1.0 - strength)
        }
    }
}

impl StanceModel for LexicalStance {
    fn name(&self) -> &str {
        "lexical-overlap (no stance model)"
    }
    fn is_neural(&self) -> bool {
        false
    }
    fn score(&self, pairs: &[(&str, &str)]) -> Result<Vec<StanceScores>, JudgeError> {
        Ok(pairs.iter().map(|(c, e)| self.score_one(c, e)).collect())
    }
}

fn neutral() -> StanceScores {
    StanceScores {
        supports: 0.1,
        contradicts: 0.05,
        neutral: 0.85,
    }
}

fn norm(s: f32, c: f32, n: f32) -> StanceScores {
    let (s, c, n) = (s.max(0.01), c.max(0.01), n.max(0.01));
    let t = s + c + n;
    StanceScores {
        supports: s / t,
        contradicts: c / t,
        neutral: n / t,
    }
}

/// The words of a text as the heuristic sees them.
struct Words {
    content: HashSet<String>,
    numbers: HashSet<String>,
    negations: usize,
}

impl Words {
    fn of(text: &str) -> Self {
        let lower = text.to_lowercase().replace("n't", " not");
        let mut content = HashSet::new();
        let mut numbers = HashSet::new();
        let mut negations = 0;
        for raw in lower.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == ',')) {
            let w = raw.trim_matches(|c: char| c == '.' || c == ',');
            if w.is_empty() {
                continue;
            }
            if w.chars().any(|c| c.is_ascii_digit()) {
                numbers.insert(w.replace(',', ""));
                continue;
            }
            for part in w.split(['.', ',']).filter(|p| !p.is_empty()) {
                if NEGATION_CUES.contains(&part) {
                    negations += 1;
                } else if part.chars().count() > 1 && !is_stopword(part) {
                    content.insert(stem(part));
                }
            }
        }
        Self {
            content,
            numbers,
            negations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLAIM: &str = "The Dunmore bridge reopened in May.";

    #[test]
    fn overlapping_evidence_supports() {
        let s = LexicalStance.score_one(
            CLAIM,
            "The Dunmore bridge reopened to traffic on 3 May after repairs.",
        );
        assert_eq!(s.label(), verity_types::Stance::Supports, "{s:?}");
    }

    #[test]
    fn negated_evidence_contradicts() {
        let s = LexicalStance.score_one(
            CLAIM,
            "The Dunmore bridge remains closed; officials said it will not reopen this year.",
        );
        assert_eq!(s.label(), verity_types::Stance::Contradicts, "{s:?}");
    }

    #[test]
    fn unrelated_evidence_is_neutral() {
        let s = LexicalStance.score_one(
            CLAIM,
            "A bakery on Fenwick Street won a prize for its rye loaves.",
        );
        assert_eq!(s.label(), verity_types::Stance::Neutral, "{s:?}");
    }

    #[test]
    fn different_numbers_contradict() {
        let s = LexicalStance.score_one(
            "The Harlow reservoir holds 40 million litres.",
            "The Harlow reservoir holds 25 million litres when full.",
        );
        assert_eq!(s.label(), verity_types::Stance::Contradicts, "{s:?}");
        let s = LexicalStance.score_one(
            "The Harlow reservoir holds 40 million litres.",
            "When full, the Harlow reservoir holds 40 million litres.",
        );
        assert_eq!(s.label(), verity_types::Stance::Supports, "{s:?}");
    }

    #[test]
    fn scores_sum_to_one_and_trait_is_lexical() {
        let out = LexicalStance
            .score(&[(CLAIM, "bridge"), ("", "anything"), (CLAIM, "")])
            .unwrap();
        assert_eq!(out.len(), 3);
        for s in out {
            assert!((s.supports + s.contradicts + s.neutral - 1.0).abs() < 1e-5);
        }
        assert!(!LexicalStance.is_neural());
        assert!(LexicalStance.name().contains("lexical"));
    }
}
