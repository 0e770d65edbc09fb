//! Stage 5, aggregate: the deciding sentence of each candidate, weighed into a verdict
//! (see [`crate::aggregate`]); a compound claim's parts are judged on their own and
//! their verdicts combined.

use std::collections::BTreeSet;

use verity_judge::StanceModel;
use verity_types::{Mode, Plan, Verdict};

use crate::error::ComposeError;
use crate::gather::Cand;
use crate::judge::{self, Aggregate, EvidenceItem};
use crate::parts::{self, PartOutcome};

/// What the aggregate stage hands on.
#[derive(Debug, Clone)]
pub(crate) struct Assessed {
    /// `(candidate, sentence)` of each candidate's deciding sentence, in candidate order;
    /// `agg.weights` follows this order.
    pub deciding: Vec<(usize, usize)>,
    /// The scored deciding sentences as the verdict rule reads them.
    pub items: Vec<EvidenceItem>,
    pub agg: Aggregate,
    /// The parts of a compound claim (empty for a claim that is one statement).
    pub parts: Vec<PartOutcome>,
    /// Claim mode only.
    pub verdict: Option<Verdict>,
    /// Share of the weighted support in support plus contradiction, when either is > 0.
    pub share: Option<f32>,
}

/// What aggregating reads.
pub(crate) struct AggregateInput<'a> {
    pub plan: &'a Plan,
    pub cands: &'a [Cand],
    pub named: &'a BTreeSet<String>,
    pub judge: &'a dyn StanceModel,
    /// The first pass's pair budget, shared out among a compound claim's parts.
    pub max_judge_pairs: usize,
    /// Parts a language model proposed and Verity validated; else Verity splits the claim.
    pub parts: Option<&'a [String]>,
}

/// Weighs the judged evidence into a verdict.
pub(crate) fn run(input: &AggregateInput<'_>) -> Result<Assessed, ComposeError> {
    let cands = input.cands;
    let deciding: Vec<(usize, usize)> = cands
        .iter()
        .enumerate()
        .filter_map(|(ci, c)| judge::deciding_sentence(c).map(|si| (ci, si)))
        .collect();
    let items: Vec<EvidenceItem> = deciding
        .iter()
        .filter_map(|&(ci, si)| {
            Some(EvidenceItem {
                voice: cands[ci].voice(),
                rank: cands[ci].rank,
                scores: cands[ci].sents[si].scores?,
            })
        })
        .collect();
    let mut agg = judge::aggregate(&items);
    let parts = assess_parts(input)?;
    if !parts.is_empty() {
        let vs: Vec<Verdict> = parts.iter().map(|p| p.agg.verdict).collect();
        agg.verdict = parts::combine(&vs);
        agg.confidence = parts
            .iter()
            .map(|p| p.agg.confidence)
            .fold(1.0f32, f32::min);
    }
    let verdict = (input.plan.mode == Mode::Check).then_some(agg.verdict);
    let share =
        (agg.support + agg.contradict > 0.0).then(|| agg.support / (agg.support + agg.contradict));
    Ok(Assessed {
        deciding,
        items,
        agg,
        parts,
        verdict,
        share,
    })
}

/// A compound claim: each part judged on its own (empty unless the claim has parts).
fn assess_parts(input: &AggregateInput<'_>) -> Result<Vec<PartOutcome>, ComposeError> {
    let claim_parts = match (input.plan.mode, input.parts) {
        (Mode::Check, Some(proposed)) => proposed.to_vec(),
        (Mode::Check, None) => parts::split_claim(&input.plan.statement),
        (Mode::Ask, _) => Vec::new(),
    };
    if claim_parts.len() <= 1 {
        return Ok(Vec::new());
    }
    let pairs = (input.max_judge_pairs / claim_parts.len()).max(12);
    parts::assess_parts(&claim_parts, input.cands, input.named, input.judge, pairs)
}

#[cfg(test)]
mod tests {
    use verity_judge::LexicalStance;
    use verity_types::{NoProgress, StanceScores};

    use super::*;
    use crate::pipeline::planning;
    use crate::pipeline::testing::{self, RESERVOIR_DOCS};

    /// Candidates whose first sentence is relevant and scored `(supports, contradicts)`.
    fn judged(scores: &[(f32, f32)]) -> Vec<Cand> {
        let mut cands = testing::cands(&RESERVOIR_DOCS[..scores.len()]);
        for (c, &(s, x)) in cands.iter_mut().zip(scores) {
            c.sents[0].relevant = true;
            c.sents[0].scores = Some(StanceScores {
                supports: s,
                contradicts: x,
                neutral: 1.0 - s - x,
            });
        }
        cands
    }

    fn assess(claim: &str, mode: Mode, cands: &[Cand]) -> Assessed {
        let req = testing::request(claim, mode);
        let planned = planning::run(&req, &NoProgress).unwrap();
        run(&AggregateInput {
            plan: &planned.plan,
            cands,
            named: &planned.named,
            judge: &LexicalStance::new(),
            max_judge_pairs: 96,
            parts: None,
        })
        .unwrap()
    }

    #[test]
    fn agreeing_sources_support_the_claim() {
        let cands = judged(&[(0.9, 0.05), (0.85, 0.05)]);
        let a = assess(testing::RESERVOIR_CLAIM, Mode::Check, &cands);
        assert_eq!(a.deciding, vec![(0, 0), (1, 0)]);
        assert_eq!(a.items.len(), 2);
        assert_eq!(a.items[0].voice, "tarrow valley water board");
        assert_eq!(a.agg.weights.len(), 2);
        assert!(a.parts.is_empty());
        assert_eq!(a.verdict, Some(Verdict::Supported));
        assert_eq!(a.share, Some(1.0));
    }

    #[test]
    fn a_question_has_no_verdict_and_nothing_relevant_has_no_share() {
        let cands = testing::cands(RESERVOIR_DOCS);
        let a = assess("When did the Ashby reservoir close?", Mode::Ask, &cands);
        assert!(a.deciding.is_empty() && a.items.is_empty());
        assert_eq!(a.agg.verdict, Verdict::NotEnoughEvidence);
        assert_eq!(a.verdict, None);
        assert_eq!(a.share, None);
    }

    #[test]
    fn a_compound_claim_is_judged_part_by_part() {
        let cands = judged(&[(0.9, 0.05), (0.85, 0.05), (0.05, 0.9)]);
        let claim = "Fact check: The Tarrow Valley Water Board closed the Ashby reservoir in 2019 and drained it in 2021.";
        let a = assess(claim, Mode::Check, &cands);
        assert_eq!(a.parts.len(), 2, "{:?}", a.parts);
        let weakest = a.parts.iter().map(|p| p.agg.confidence).fold(1.0, f32::min);
        assert_eq!(a.agg.confidence, weakest);
        let vs: Vec<Verdict> = a.parts.iter().map(|p| p.agg.verdict).collect();
        assert_eq!(a.agg.verdict, parts::combine(&vs));
    }
}
