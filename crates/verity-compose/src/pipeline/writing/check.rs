//! Write, step 2: every picked sentence is scored against the passages it cites; one
//! they do not support is dropped (or kept, flagged, with `show_unsupported`).

use std::collections::HashMap;

use verity_judge::StanceModel;
use verity_types::{
    DroppedSentence, Finding, Mode, Passage, PassageId, Perspective, Sentence, Verification,
};

use crate::compose;
use crate::error::ComposeError;
use crate::gather::Cand;
use crate::pipeline::writing::select::Selection;
use crate::{verify, BriefRequest};

/// The checked summary and findings.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    pub summary: Vec<Sentence>,
    pub findings: Vec<Finding>,
    pub verification: Verification,
}

/// Checks the selection's sentences against their passages.
pub(crate) fn run(
    sel: &Selection<'_>,
    cands: &[Cand],
    judge: &dyn StanceModel,
    req: &BriefRequest,
) -> Result<Checked, ComposeError> {
    let mut sections: Vec<Vec<Sentence>> = Vec::new();
    sections.push(
        sel.summary
            .iter()
            .map(|p| sel.comp.sentence(*p, false))
            .collect(),
    );
    for (persp, picks) in &sel.findings {
        let attr = *persp == Perspective::Figures;
        sections.push(picks.iter().map(|p| sel.comp.sentence(*p, attr)).collect());
    }
    let passages: HashMap<PassageId, Passage> = cands
        .iter()
        .map(|c| (c.hit.passage.id.clone(), c.hit.passage.clone()))
        .collect();
    let flat: Vec<(usize, Sentence)> = sections
        .into_iter()
        .enumerate()
        .flat_map(|(i, s)| s.into_iter().map(move |x| (i, x)))
        .collect();
    let (sec_of, sents): (Vec<usize>, Vec<Sentence>) = flat.into_iter().unzip();
    let threshold = req.support_threshold;
    let support = verify::support_scores(&sents, &passages, judge, !req.strict_support, threshold)?;
    let scored = sec_of.into_iter().zip(sents).zip(support);
    let (sections, verification) = tally(scored, sel.findings.len() + 1, req);
    let (summary, findings) = into_findings(sections, &sel.findings, sel.comp.mode);
    Ok(Checked {
        summary,
        findings,
        verification,
    })
}

/// Sorts scored sentences (`((section, sentence), (support, model support))`) into
/// `n_sections` sections, keeping the supported ones (and flagged unsupported ones when
/// asked), and counts what the check did.
fn tally(
    scored: impl Iterator<Item = ((usize, Sentence), (f32, f32))>,
    n_sections: usize,
    req: &BriefRequest,
) -> (Vec<Vec<Sentence>>, Verification) {
    let threshold = req.support_threshold;
    let mut sections: Vec<Vec<Sentence>> = vec![Vec::new(); n_sections];
    let mut dropped_log = Vec::new();
    let (mut checked, mut flagged, mut verbatim, mut model_supported) = (0, 0, 0, 0);
    for ((sec, mut s), (sup, model)) in scored {
        checked += 1;
        s.support = Some(sup);
        s.model_support = Some(model);
        if model >= threshold {
            model_supported += 1;
        }
        if sup >= threshold && model < threshold {
            verbatim += 1;
        }
        if sup >= threshold {
            sections[sec].push(s);
            continue;
        }
        dropped_log.push(DroppedSentence {
            section: section_name(sec),
            text: s.text.clone(),
            support: sup,
            reason: None,
        });
        if req.show_unsupported {
            s.flagged = true;
            flagged += 1;
            sections[sec].push(s);
        }
    }
    let supported = checked - dropped_log.len();
    let verification = Verification {
        threshold,
        checked,
        kept: supported + flagged,
        flagged,
        share_supported: if checked == 0 {
            1.0
        } else {
            ((supported as f32 / checked as f32) * 1000.0).round() / 1000.0
        },
        verbatim,
        model_supported,
        dropped: if req.show_unsupported {
            Vec::new()
        } else {
            dropped_log
        },
    };
    (sections, verification)
}

/// "summary" for section 0, "finding i" after it.
fn section_name(i: usize) -> String {
    if i == 0 {
        "summary".to_string()
    } else {
        format!("finding {i}")
    }
}

/// The summary (section 0) and one numbered finding per later section that still has a
/// cited sentence, headed by its lead sentence.
fn into_findings(
    sections: Vec<Vec<Sentence>>,
    picks: &[(Perspective, Vec<crate::compose::Pick>)],
    mode: Mode,
) -> (Vec<Sentence>, Vec<Finding>) {
    let mut section_iter = sections.into_iter();
    let mut summary = section_iter.next().unwrap_or_default();
    summary.retain(|s| !s.citations.is_empty());
    let mut findings: Vec<Finding> = Vec::new();
    for ((persp, _), mut sents) in picks.iter().zip(section_iter) {
        sents.retain(|s| !s.citations.is_empty());
        let Some(lead) = sents.first() else {
            continue;
        };
        findings.push(Finding {
            number: findings.len() + 1,
            perspective: *persp,
            heading: compose::heading(*persp, mode, &lead.text),
            sentences: sents,
        });
    }
    (summary, findings)
}

#[cfg(test)]
mod tests {
    use verity_types::{Citation, PassageId, SourceId};

    use super::*;
    use crate::pipeline::testing;

    fn sentence(text: &str) -> Sentence {
        testing::cited_sentence(
            text,
            Citation {
                n: 0,
                source_id: SourceId::new("0123456789abcdef"),
                passage_id: PassageId {
                    source: SourceId::new("0123456789abcdef"),
                    ordinal: 0,
                },
                start: 0,
                end: 10,
                quote: text.into(),
            },
        )
    }

    fn scored() -> Vec<((usize, Sentence), (f32, f32))> {
        vec![
            ((0, sentence("The Ashby dam cracked.")), (1.0, 0.2)),
            ((1, sentence("The board met twice.")), (0.9, 0.9)),
            ((1, sentence("Ferries ran late.")), (0.1, 0.1)),
        ]
    }

    #[test]
    fn unsupported_sentences_are_dropped_and_counted() {
        let req = testing::request("Did the Ashby dam crack?", Mode::Ask);
        let (sections, v) = tally(scored().into_iter(), 2, &req);
        assert_eq!(sections[0].len(), 1);
        assert_eq!(sections[1].len(), 1);
        assert_eq!(sections[1][0].text, "The board met twice.");
        assert_eq!(sections[0][0].support, Some(1.0));
        assert_eq!(sections[0][0].model_support, Some(0.2));
        assert_eq!((v.checked, v.kept, v.flagged), (3, 2, 0));
        assert_eq!((v.verbatim, v.model_supported), (1, 1));
        assert_eq!(v.share_supported, 0.667);
        assert_eq!(v.dropped.len(), 1);
        assert_eq!(v.dropped[0].section, "finding 1");
        assert_eq!(v.dropped[0].text, "Ferries ran late.");
    }

    #[test]
    fn show_unsupported_keeps_them_flagged() {
        let mut req = testing::request("Did the Ashby dam crack?", Mode::Ask);
        req.show_unsupported = true;
        let (sections, v) = tally(scored().into_iter(), 2, &req);
        assert_eq!(sections[1].len(), 2);
        assert!(sections[1][1].flagged && !sections[1][0].flagged);
        assert_eq!((v.checked, v.kept, v.flagged), (3, 3, 1));
        assert!(v.dropped.is_empty());
        assert_eq!(v.share_supported, 0.667);
    }

    #[test]
    fn nothing_checked_is_all_supported() {
        let req = testing::request("Did the Ashby dam crack?", Mode::Ask);
        let (sections, v) = tally(std::iter::empty(), 1, &req);
        assert_eq!(sections, vec![Vec::<Sentence>::new()]);
        assert_eq!((v.checked, v.share_supported), (0, 1.0));
    }

    #[test]
    fn findings_without_citations_are_skipped_and_renumbered() {
        let mut uncited = sentence("The reservoir reopened.");
        uncited.citations.clear();
        let sections = vec![
            vec![sentence("The Ashby dam cracked."), uncited.clone()],
            vec![uncited],
            vec![sentence("Repairs cost $4 million.")],
        ];
        let picks = vec![
            (Perspective::Supports, Vec::new()),
            (Perspective::Figures, Vec::new()),
        ];
        let (summary, findings) = into_findings(sections, &picks, Mode::Check);
        assert_eq!(summary.len(), 1);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].number, 1);
        assert_eq!(findings[0].perspective, Perspective::Figures);
        assert!(
            findings[0].heading.starts_with("Scale and figures"),
            "{}",
            findings[0].heading
        );
    }
}
