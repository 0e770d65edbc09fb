//! Write, step 1: pick the sentences: the verdict's strongest sources, the summary, the
//! findings of each perspective and the bottom line.

use std::collections::HashSet;

use verity_types::{Mode, Perspective, Verdict};

use crate::compose::{Composer, Pick};
use crate::gather::Cand;
use crate::parts;
use crate::pipeline::aggregation::Assessed;
use crate::pipeline::judging::Judged;

/// Most sentences the verdict line cites on each side.
const MAX_VERDICT_PICKS: usize = 3;
/// Most findings before the bottom line.
const MAX_FINDINGS: usize = 7;

/// The sentences picked for the brief, not yet checked against their sources.
pub(crate) struct Selection<'a> {
    /// Holds what was picked; makes each pick a [`verity_types::Sentence`].
    pub comp: Composer<'a>,
    /// The verdict's cited sentences: supporting, contradicting.
    pub verdict_sides: (Vec<Pick>, Vec<Pick>),
    pub summary: Vec<Pick>,
    /// Findings in order, the bottom line (if any) last.
    pub findings: Vec<(Perspective, Vec<Pick>)>,
}

/// Picks the brief's sentences from the judged candidates.
pub(crate) fn run<'a>(
    cands: &'a [Cand],
    mode: Mode,
    judged: &'a Judged,
    assessed: &Assessed,
    max_sources: usize,
) -> Selection<'a> {
    let verdict = assessed.verdict;
    let mut comp = Composer::new(
        cands,
        mode,
        verdict,
        &judged.focus,
        &judged.anchors,
        max_sources,
    );
    // The verdict's strongest sources on each side are cited by the verdict line, so
    // they come first.
    let mut verdict_sides =
        if mode == Mode::Check && assessed.agg.verdict != Verdict::NotEnoughEvidence {
            verdict_picks(&mut comp, cands, assessed)
        } else {
            (Vec::new(), Vec::new())
        };
    for p in &assessed.parts {
        parts::add_part_picks(p, cands, &mut verdict_sides, &mut comp);
    }
    let summary = pick_summary(&mut comp, mode, verdict, assessed.share);
    // The bottom line is reserved before the findings so that they cannot use up the
    // newest decisive evidence.
    let bottom = comp.bottom_line(assessed.share);
    let nee = verdict == Some(Verdict::NotEnoughEvidence);
    let mut findings = pick_findings(&mut comp, nee);
    if !bottom.is_empty() {
        findings.push((Perspective::BottomLine, bottom));
    }
    Selection {
        comp,
        verdict_sides,
        summary,
        findings,
    }
}

/// The heaviest deciding sentences that lean clearly one way, one per voice and at most
/// [`MAX_VERDICT_PICKS`] a side; their sources are reserved.
fn verdict_picks(
    comp: &mut Composer<'_>,
    cands: &[Cand],
    assessed: &Assessed,
) -> (Vec<Pick>, Vec<Pick>) {
    let mut sides: (Vec<Pick>, Vec<Pick>) = (Vec::new(), Vec::new());
    let deciding = &assessed.deciding;
    let mut ranked: Vec<(usize, f32)> = (0..deciding.len())
        .map(|i| (i, assessed.agg.weights[i]))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut voices_seen: HashSet<String> = HashSet::new();
    for (i, _) in ranked {
        let (ci, si) = deciding[i];
        let Some(sc) = cands[ci].sents[si].scores else {
            continue;
        };
        if !voices_seen.insert(cands[ci].voice()) {
            continue;
        }
        let lean = sc.supports - sc.contradicts;
        let side = if lean >= 0.1 {
            &mut sides.0
        } else if lean <= -0.1 {
            &mut sides.1
        } else {
            continue;
        };
        if side.len() < MAX_VERDICT_PICKS {
            side.push(Pick { ci, si });
            comp.reserve_source(&cands[ci].hit.source.id);
        }
    }
    sides
}

/// Summary: 2–4 sentences. Claim mode leads with the winning side, then the other side,
/// then a figure or a rule; question mode takes one of each perspective.
fn pick_summary(
    comp: &mut Composer<'_>,
    mode: Mode,
    verdict: Option<Verdict>,
    share: Option<f32>,
) -> Vec<Pick> {
    let mut out = Vec::new();
    let order: Vec<Perspective> = match (mode, verdict) {
        (Mode::Check, Some(Verdict::NotEnoughEvidence)) => {
            vec![
                Perspective::Context,
                Perspective::Mechanism,
                Perspective::Figures,
            ]
        }
        (Mode::Check, _) if share.unwrap_or(0.5) < 0.5 => vec![
            Perspective::Contradicts,
            Perspective::Supports,
            Perspective::Figures,
            Perspective::Mechanism,
        ],
        _ => vec![
            Perspective::Supports,
            Perspective::Contradicts,
            Perspective::Figures,
            Perspective::Mechanism,
        ],
    };
    for p in &order {
        if out.len() >= 3 {
            break;
        }
        let pool = comp.pool(*p);
        out.extend(comp.take(&pool, 1));
    }
    // At least two sentences when the evidence has them.
    for p in order.iter().chain(&[Perspective::Context]) {
        if out.len() >= 2 {
            break;
        }
        let pool = comp.pool(*p);
        out.extend(comp.take(&pool, 2 - out.len()));
    }
    out
}

/// Findings, perspective by perspective: up to three sentences each, a second finding
/// for a perspective with plenty left. Context only when the brief needs it: nothing
/// settles the claim (`nee`), or fewer than three findings came before.
fn pick_findings(comp: &mut Composer<'_>, nee: bool) -> Vec<(Perspective, Vec<Pick>)> {
    let mut finding_picks: Vec<(Perspective, Vec<Pick>)> = Vec::new();
    let order = [
        Perspective::Supports,
        Perspective::Contradicts,
        Perspective::Mechanism,
        Perspective::Figures,
        Perspective::Context,
    ];
    for persp in order {
        if persp == Perspective::Context && !(nee || finding_picks.len() < 3) {
            continue;
        }
        let pool = comp.pool(persp);
        let first = comp.take(&pool, 3);
        if first.is_empty() {
            continue;
        }
        finding_picks.push((persp, first));
        let rest = comp.pool(persp);
        // A perspective with plenty left gets a second finding (context only when nothing
        // settles the claim, where it is all the brief has).
        if rest.len() >= 3 && finding_picks.len() < 5 && (persp != Perspective::Context || nee) {
            let second = comp.take(&rest, 3);
            if !second.is_empty() {
                finding_picks.push((persp, second));
            }
        }
        if finding_picks.len() >= MAX_FINDINGS {
            break;
        }
    }
    finding_picks
}

#[cfg(test)]
mod tests {
    use verity_types::StanceScores;

    use super::*;
    use crate::judge::aggregate;
    use crate::pipeline::aggregation::Assessed;
    use crate::pipeline::testing::{self, RESERVOIR_DOCS};

    /// The three reservoir sources judged: two support the claim, one denies it.
    fn judged_cands() -> Vec<Cand> {
        let mut cands = testing::cands(&RESERVOIR_DOCS[..3]);
        let lean = [(0.9, 0.05), (0.8, 0.1), (0.05, 0.9)];
        for (c, (s, x)) in cands.iter_mut().zip(lean) {
            for sent in &mut c.sents {
                sent.relevant = true;
                sent.coverage = 0.8;
                sent.scores = Some(StanceScores {
                    supports: s,
                    contradicts: x,
                    neutral: 1.0 - s - x,
                });
            }
        }
        cands
    }

    fn assessed(cands: &[Cand]) -> Assessed {
        let deciding: Vec<(usize, usize)> = (0..cands.len()).map(|ci| (ci, 0)).collect();
        let items: Vec<_> = deciding
            .iter()
            .map(|&(ci, si)| crate::judge::EvidenceItem {
                voice: cands[ci].voice(),
                rank: cands[ci].rank,
                scores: cands[ci].sents[si].scores.unwrap(),
            })
            .collect();
        let agg = aggregate(&items);
        Assessed {
            verdict: Some(agg.verdict),
            share: Some(agg.support / (agg.support + agg.contradict)),
            deciding,
            items,
            agg,
            parts: Vec::new(),
        }
    }

    fn judged() -> Judged {
        Judged {
            pairs: 6,
            focus: vec!["reservoir".into(), "ashbi".into()],
            missing: Vec::new(),
            anchors: ["reservoir".to_string()].into(),
        }
    }

    #[test]
    fn the_verdict_cites_each_side_once_per_voice() {
        let cands = judged_cands();
        let a = assessed(&cands);
        assert_ne!(a.agg.verdict, Verdict::NotEnoughEvidence);
        let j = judged();
        let sel = run(&cands, Mode::Check, &j, &a, 12);
        let (pro, con) = &sel.verdict_sides;
        let pro_ci: Vec<usize> = pro.iter().map(|p| p.ci).collect();
        assert_eq!(pro_ci.len(), 2, "{pro:?}");
        assert!(pro_ci.contains(&0) && pro_ci.contains(&1));
        assert_eq!(con, &vec![Pick { ci: 2, si: 0 }]);
        assert!(sel.findings.len() <= MAX_FINDINGS + 1);
        // No sentence is picked twice.
        let mut all: Vec<Pick> = sel.summary.clone();
        all.extend(sel.findings.iter().flat_map(|f| f.1.iter().copied()));
        let n = all.len();
        all.sort_by_key(|p| (p.ci, p.si));
        all.dedup();
        assert_eq!(all.len(), n);
    }

    #[test]
    fn a_question_has_no_verdict_picks() {
        let cands = judged_cands();
        let mut a = assessed(&cands);
        a.verdict = None;
        let j = judged();
        let sel = run(&cands, Mode::Ask, &j, &a, 12);
        assert!(sel.verdict_sides.0.is_empty() && sel.verdict_sides.1.is_empty());
    }
}
