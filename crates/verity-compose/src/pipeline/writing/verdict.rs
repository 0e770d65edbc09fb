//! Write, step 4: the verdict block of a claim check, with its one-line conclusion
//! generated from the evidence counts.

use std::collections::{HashMap, HashSet};

use verity_types::{ClaimPart, SourceId, ValueMismatch, Verdict, VerdictBlock};

use crate::compose::Pick;
use crate::gather::Cand;
use crate::judge::{Aggregate, EvidenceItem};
use crate::parts;
use crate::pipeline::aggregation::Assessed;

/// The verdict block: the verdict, the numbers of the sources `sides` cites (supporting,
/// contradicting), the value mismatches and the parts.
pub(crate) fn block(
    assessed: &Assessed,
    sides: &(Vec<Pick>, Vec<Pick>),
    cands: &[Cand],
    numbers: &HashMap<SourceId, usize>,
) -> VerdictBlock {
    let agg = &assessed.agg;
    let mismatches = value_mismatches(cands, &assessed.deciding, numbers);
    let parts: Vec<ClaimPart> = assessed
        .parts
        .iter()
        .map(|p| parts::claim_part(p, cands, numbers))
        .collect();
    let mut conclusion = conclusion(agg.verdict, &assessed.items, agg);
    if let Some(m) = mismatches.first() {
        conclusion.push_str(&format!(" Mismatch: {}.", m.describe()));
    }
    if !parts.is_empty() {
        conclusion.push_str(&format!(" {}", parts::summary(&parts)));
    }
    VerdictBlock {
        verdict: agg.verdict,
        label: agg.verdict.label().to_string(),
        confidence: agg.confidence,
        conclusion,
        supporting: source_numbers(&sides.0, cands, numbers),
        contradicting: source_numbers(&sides.1, cands, numbers),
        support_weight: agg.support,
        contradict_weight: agg.contradict,
        relevant_passages: assessed.items.len(),
        mismatches,
        parts,
    }
}

/// The numbers of the picks' sources, in pick order, a run of one source named once.
fn source_numbers(
    picks: &[Pick],
    cands: &[Cand],
    numbers: &HashMap<SourceId, usize>,
) -> Vec<usize> {
    let mut v: Vec<usize> = picks
        .iter()
        .filter_map(|p| numbers.get(&cands[p.ci].hit.source.id).copied())
        .collect();
    v.dedup();
    v
}

/// The value mismatches of the deciding sentences whose sources the brief cites, each
/// named once.
fn value_mismatches(
    cands: &[Cand],
    deciding: &[(usize, usize)],
    numbers: &HashMap<SourceId, usize>,
) -> Vec<ValueMismatch> {
    let mut out: Vec<ValueMismatch> = Vec::new();
    for &(ci, si) in deciding {
        let Some(&source) = numbers.get(&cands[ci].hit.source.id) else {
            continue;
        };
        for m in &cands[ci].sents[si].mismatches {
            let v = ValueMismatch {
                kind: m.kind.noun().to_string(),
                claim: m.claim.clone(),
                evidence: m.evidence.clone(),
                source,
            };
            if !out
                .iter()
                .any(|o| o.claim == v.claim && o.evidence == v.evidence)
            {
                out.push(v);
            }
        }
    }
    out
}

/// The verdict's one-line conclusion, generated from the evidence counts.
fn conclusion(v: Verdict, items: &[EvidenceItem], agg: &Aggregate) -> String {
    if v == Verdict::NotEnoughEvidence {
        return "No passage in the indexed sources clearly addresses this claim, so they can neither confirm nor refute it; the claim is open until other sources settle it.".to_string();
    }
    let mut pro: HashSet<&str> = HashSet::new();
    let mut con: HashSet<&str> = HashSet::new();
    for it in items {
        let lean = it.scores.supports - it.scores.contradicts;
        if lean >= 0.1 {
            pro.insert(&it.voice);
        } else if lean <= -0.1 {
            con.insert(&it.voice);
        }
    }
    let plural = |n: usize| if n == 1 { "publisher" } else { "publishers" };
    let lead = match v {
        Verdict::Supported => "The evidence found supports the claim",
        Verdict::MostlySupported => "The evidence found mostly supports the claim",
        Verdict::Mixed => "The evidence found is divided",
        Verdict::MostlyUnsupported => "The evidence found mostly goes against the claim",
        Verdict::Contradicted => "The evidence found contradicts the claim",
        Verdict::NotEnoughEvidence => "",
    };
    format!(
        "{lead}: passages from {} {} lean towards it and from {} {} against it (weighted support {:.2}, contradiction {:.2}).",
        pro.len(),
        plural(pro.len()),
        con.len(),
        plural(con.len()),
        agg.support,
        agg.contradict
    )
}

#[cfg(test)]
mod tests {
    use verity_types::StanceScores;

    use super::*;
    use crate::judge::aggregate;

    fn item(voice: &str, supports: f32, contradicts: f32) -> EvidenceItem {
        EvidenceItem {
            voice: voice.into(),
            rank: 0,
            scores: StanceScores {
                supports,
                contradicts,
                neutral: 1.0 - supports - contradicts,
            },
        }
    }

    #[test]
    fn the_conclusion_counts_publishers_on_each_side() {
        let items = [
            item("ashby courier", 0.9, 0.05),
            item("tarrow valley water board", 0.8, 0.1),
            item("tarrow gazette", 0.05, 0.9),
            item("kellmoor weekly", 0.4, 0.35),
        ];
        let agg = aggregate(&items);
        let line = conclusion(Verdict::MostlySupported, &items, &agg);
        assert!(
            line.starts_with("The evidence found mostly supports the claim: passages from 2 publishers lean towards it and from 1 publisher against it"),
            "{line}"
        );
        assert!(line.ends_with(&format!(
            "(weighted support {:.2}, contradiction {:.2}).",
            agg.support, agg.contradict
        )));
    }

    #[test]
    fn not_enough_evidence_says_the_claim_is_open() {
        let agg = aggregate(&[]);
        let line = conclusion(Verdict::NotEnoughEvidence, &[], &agg);
        assert!(line.contains("neither confirm nor refute"), "{line}");
    }
}
