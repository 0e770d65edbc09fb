//! A hand-built brief about a fictional ferry, fixed down to the last offset, so that
//! renderer snapshots change only when a renderer does. Its texts carry HTML and
//! Markdown specials on purpose.
#![allow(dead_code)]

use chrono::NaiveDate;
use verity_compose::*;
use verity_types::{PassageId, SourceId, SourceKind, Stance, StanceScores, Verdict};

pub const SOURCE_A: &str = "Dunmore Ferry Annual Report 2022. The Dunmore ferry carried 41,000 passengers in 2022, up from 35,500 in 2021. Fares rose by 10 per cent in March <after> the Kellbridge Harbour Trust raised its mooring charges.";
pub const SOURCE_B: &str = "Harbour notes. The Kellbridge Gazette counted only 29,000 crossings & said the ferry's own count \"double-counts return trips\". The Trust did not comment.";

fn offsets(text: &str, needle: &str) -> (u64, u64) {
    let b = text.find(needle).expect("needle in fixture");
    let start = text[..b].chars().count() as u64;
    (start, start + needle.chars().count() as u64)
}

fn cite(n: usize, src: &str, id: &str, ordinal: u32, pstart: u64, needle: &str) -> Citation {
    let (s, e) = offsets(src, needle);
    let _ = pstart;
    Citation {
        n,
        source_id: SourceId::new(id),
        passage_id: PassageId {
            source: SourceId::new(id),
            ordinal,
        },
        start: s,
        end: e,
        quote: needle.to_string(),
    }
}

fn sentence(text: &str, c: Citation, stance: Option<Stance>, support: f32) -> Sentence {
    Sentence {
        text: text.to_string(),
        citations: vec![c],
        attribution: None,
        stance,
        stance_scores: stance.map(|s| match s {
            Stance::Supports => StanceScores {
                supports: 0.8,
                contradicts: 0.1,
                neutral: 0.1,
            },
            Stance::Contradicts => StanceScores {
                supports: 0.1,
                contradicts: 0.75,
                neutral: 0.15,
            },
            Stance::Neutral => StanceScores {
                supports: 0.1,
                contradicts: 0.1,
                neutral: 0.8,
            },
        }),
        support: Some(support),
        model_support: Some(support),
        flagged: false,
    }
}

pub fn sample_claim_brief() -> Brief {
    let a = "aaaa000011112222";
    let b = "bbbb000011112222";
    let s1 = "The Dunmore ferry carried 41,000 passengers in 2022, up from 35,500 in 2021.";
    let s2 = "Fares rose by 10 per cent in March <after> the Kellbridge Harbour Trust raised its mooring charges.";
    let s3 = "The Kellbridge Gazette counted only 29,000 crossings & said the ferry's own count \"double-counts return trips\".";
    let pa_end = SOURCE_A.chars().count() as u64;
    let pb_end = SOURCE_B.chars().count() as u64;
    let c1 = cite(1, SOURCE_A, a, 0, 0, s1);
    let c2 = cite(1, SOURCE_A, a, 0, 0, s2);
    let c3 = cite(2, SOURCE_B, b, 0, 0, s3);
    let mut fig = sentence(s2, c2.clone(), None, 0.91);
    fig.attribution = Some("Dunmore Ferry Company, 2023-01-15".into());
    let plan = plan(
        "Fact check: The Dunmore ferry carried 41,000 passengers in 2022.",
        Mode::Check,
    )
    .expect("fixture plan");
    Brief {
        mode: Mode::Check,
        input: "Fact check: The Dunmore ferry carried 41,000 passengers in 2022.".into(),
        statement: "The Dunmore ferry carried 41,000 passengers in 2022.".into(),
        title: "Fact check: The Dunmore ferry carried 41,000 passengers in 2022.".into(),
        checked_on: NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(),
        as_of: None,
        currency: Currency {
            newest: NaiveDate::from_ymd_opt(2023, 2, 2),
            oldest: NaiveDate::from_ymd_opt(2023, 1, 15),
            undated: 0,
        },
        disclaimer: DISCLAIMER.into(),
        verdict: Some(VerdictBlock {
            verdict: Verdict::Mixed,
            label: "Mixed".into(),
            confidence: 0.55,
            conclusion: "The evidence found is divided: passages from 1 publisher lean towards it and from 1 publisher against it (weighted support 0.70, contradiction 0.65).".into(),
            supporting: vec![1],
            contradicting: vec![2],
            support_weight: 0.7,
            contradict_weight: 0.65,
            relevant_passages: 2,
            mismatches: vec![ValueMismatch {
                kind: "year".into(),
                claim: "2021".into(),
                evidence: "2023".into(),
                source: 2,
            }],
            parts: vec![
                ClaimPart {
                    text: "The Kestrel barrier was approved unanimously.".into(),
                    verdict: Verdict::Supported,
                    label: "Supported".into(),
                    confidence: 0.7,
                    supporting: vec![1],
                    contradicting: vec![],
                },
                ClaimPart {
                    text: "The Kestrel barrier was finished in 2021.".into(),
                    verdict: Verdict::Contradicted,
                    label: "Contradicted".into(),
                    confidence: 0.6,
                    supporting: vec![],
                    contradicting: vec![2],
                },
            ],
        }),
        summary: vec![
            sentence(s1, c1.clone(), Some(Stance::Supports), 0.95),
            sentence(s3, c3.clone(), Some(Stance::Contradicts), 0.88),
        ],
        findings: vec![
            Finding {
                number: 1,
                perspective: Perspective::Supports,
                heading: "What supports the claim: The Dunmore ferry carried 41,000 passengers in 2022".into(),
                sentences: vec![sentence(s1, c1.clone(), Some(Stance::Supports), 0.95)],
            },
            Finding {
                number: 2,
                perspective: Perspective::Contradicts,
                heading: "What contradicts or complicates it: The Kellbridge Gazette counted only 29,000 crossings & said <so>".into(),
                sentences: vec![sentence(s3, c3.clone(), Some(Stance::Contradicts), 0.88)],
            },
            Finding {
                number: 3,
                perspective: Perspective::Figures,
                heading: "Scale and figures: Fares rose by 10 per cent in March <after> the Kellbridge Harbour Trust …".into(),
                sentences: vec![fig],
            },
        ],
        angles: Angles {
            groups: vec![
                AngleGroup {
                    kind: SourceKind::Official,
                    label: "Official statements".into(),
                    sources: vec![1],
                    publishers: vec!["Dunmore Ferry Company".into()],
                    supports: 1,
                    contradicts: 0,
                    neutral: 0,
                    lean: Lean::Supports,
                },
                AngleGroup {
                    kind: SourceKind::News,
                    label: "News reporting".into(),
                    sources: vec![2],
                    publishers: vec!["Kellbridge Gazette".into()],
                    supports: 0,
                    contradicts: 1,
                    neutral: 0,
                    lean: Lean::Contradicts,
                },
            ],
            divergences: vec![Divergence {
                text: "Official statements [1] lean towards supporting the claim, while news reporting [2] lean towards contradicting or complicating it.".into(),
                sources: vec![1, 2],
            }],
        },
        gaps: vec![Gap {
            aspect: "\"winter\"".into(),
            statement: "Any mention of \"winter\" was not found in the indexed sources.".into(),
            second_pass_queries: vec!["winter".into(), "winter Dunmore".into()],
            second_pass_modes: vec!["bm25".into()],
            second_pass_candidates: 3,
        }],
        sources: vec![
            BriefSource {
                n: 1,
                id: SourceId::new(a),
                title: "Dunmore Ferry Annual Report 2022".into(),
                publisher: Some("Dunmore Ferry Company".into()),
                kind: SourceKind::Official,
                published: NaiveDate::from_ymd_opt(2023, 1, 15),
                location: "https://dunmore-ferry.example/report-2022".into(),
                attribution: None,
                passages: vec![UsedPassage {
                    id: PassageId {
                        source: SourceId::new(a),
                        ordinal: 0,
                    },
                    start: 0,
                    end: pa_end,
                    text: SOURCE_A.into(),
                    cited: vec![(c1.start, c1.end), (c2.start, c2.end)],
                }],
            },
            BriefSource {
                n: 2,
                id: SourceId::new(b),
                title: "Harbour notes <weekly>".into(),
                publisher: Some("Kellbridge Gazette".into()),
                kind: SourceKind::News,
                published: NaiveDate::from_ymd_opt(2023, 2, 2),
                location: "notes/harbour.md".into(),
                attribution: Some("CC BY 4.0, Kellbridge Gazette".into()),
                passages: vec![UsedPassage {
                    id: PassageId {
                        source: SourceId::new(b),
                        ordinal: 0,
                    },
                    start: 0,
                    end: pb_end,
                    text: SOURCE_B.into(),
                    cited: vec![(c3.start, c3.end)],
                }],
            },
        ],
        follow_ups: vec![
            "How was the figure of 29,000 (Kellbridge Gazette, 2023-02-02) arrived at, and has it been revised since?".into(),
            "Why do official statements and news reporting frame this differently, and what evidence does each rely on?".into(),
            "What part does Kellbridge Harbour Trust play in this, and what has changed there since 2023-02-02?".into(),
            "What has changed since 2023-02-02, the date of the newest source used here?".into(),
            "Which independent sources, not in this library, have examined Dunmore?".into(),
        ],
        notes: vec!["Stance was judged by the lexical fallback (lexical-overlap (no stance model)), not the entailment model: it counts shared words and negations, so treat stances and the verdict as a rough guide.".into()],
        judge: "lexical-overlap (no stance model)".into(),
        judge_neural: false,
        verification: Verification {
            threshold: 0.5,
            checked: 5,
            kept: 4,
            flagged: 0,
            share_supported: 0.8,
            verbatim: 0,
            model_supported: 4,
            dropped: vec![DroppedSentence {
                section: "finding 2".into(),
                text: "The Trust did not comment.".into(),
                support: 0.2,
                reason: None,
            }],
        },
        plan,
        explain: None,
        writer: None,
        planner: None,
    }
}

/// The same claim where nothing settles it.
pub fn sample_nee_brief() -> Brief {
    let mut b = sample_claim_brief();
    b.verdict = Some(VerdictBlock {
        verdict: Verdict::NotEnoughEvidence,
        label: "Not enough evidence".into(),
        confidence: 0.8,
        conclusion: "No passage in the indexed sources clearly addresses this claim, so they can neither confirm nor refute it; the claim is open until other sources settle it.".into(),
        supporting: vec![],
        contradicting: vec![],
        support_weight: 0.0,
        contradict_weight: 0.0,
        relevant_passages: 0,
        mismatches: vec![],
        parts: vec![],
    });
    b
}
