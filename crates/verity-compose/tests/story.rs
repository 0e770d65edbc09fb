//! The full pipeline on the fictional story corpus, with the lexical stance fallback.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::OnceLock;

use chrono::NaiveDate;
use verity_compose::*;
use verity_judge::{JudgeError, LexicalStance, StanceModel};
use verity_types::{char_slice, NoProgress, StanceScores, Verdict};

use common::MemoryEvidence;

fn library() -> &'static MemoryEvidence {
    static LIB: OnceLock<MemoryEvidence> = OnceLock::new();
    LIB.get_or_init(MemoryEvidence::story)
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 12, 1).unwrap()
}

fn brief(input: &str, mode: Mode) -> Brief {
    let req = BriefRequest::new(input, mode, today());
    build_brief(&req, library(), &LexicalStance::new(), &NoProgress).unwrap()
}

const QUESTIONS: &[&str] = &[
    "Has Eastmoor been treated fairly by the lead pipe programme?",
    "How many lead service lines had been fully replaced by 31 March 2024?",
];

const CLAIMS: &[&str] = &[
    "Port Vellan Town Council approved the Clear Taps Programme on 11 April 2023.",
    "The Clear Taps Programme replaced 1,200 lead service lines in full by March 2024.",
    "Homeowners pay nothing to have their lead service line replaced under the Clear Taps Programme.",
    "Port Vellan adds fluoride to its drinking water.",
];

/// Every invariant a brief must hold, whatever the evidence.
fn check_invariants(b: &Brief) {
    let lib = library();
    let what = &b.title;
    // Sources are numbered 1..=n in order.
    for (i, s) in b.sources.iter().enumerate() {
        assert_eq!(s.n, i + 1, "{what}: source numbering");
        let text = &lib.texts[&s.id];
        for p in &s.passages {
            assert_eq!(
                char_slice(text, p.start, p.end),
                Some(p.text.as_str()),
                "{what}: passage {} text does not match its offsets",
                p.id
            );
            for (a, z) in &p.cited {
                assert!(
                    p.start <= *a && *z <= p.end && a < z,
                    "{what}: cited span outside passage"
                );
            }
        }
    }
    let mut n_sentences = 0;
    for s in b.sentences() {
        n_sentences += 1;
        assert!(
            !s.citations.is_empty(),
            "{what}: sentence without citation: {}",
            s.text
        );
        assert!(!s.text.trim().is_empty());
        for c in &s.citations {
            let src = b
                .source(c.n)
                .unwrap_or_else(|| panic!("{what}: [{}] does not resolve", c.n));
            assert_eq!(
                src.id, c.source_id,
                "{what}: [{}] points at another source",
                c.n
            );
            assert_eq!(c.passage_id.source, c.source_id);
            // The span slices back to exactly the quoted text in the stored source.
            let text = &lib.texts[&c.source_id];
            assert_eq!(
                char_slice(text, c.start, c.end),
                Some(c.quote.as_str()),
                "{what}: span {}..{} does not match its quote",
                c.start,
                c.end
            );
            // ... inside a passage listed with the source, where it is marked as cited.
            let p = src
                .passages
                .iter()
                .find(|p| p.id == c.passage_id)
                .unwrap_or_else(|| panic!("{what}: passage {} not listed", c.passage_id));
            assert!(
                p.cited.contains(&(c.start, c.end)),
                "{what}: span not marked cited"
            );
            // The sentence is the quote, lightly trimmed: every word of it is in the quote.
            for w in s.text.split_whitespace() {
                let w = w.trim_matches(|ch: char| !ch.is_alphanumeric());
                assert!(
                    w.is_empty() || c.quote.contains(w),
                    "{what}: word `{w}` of `{}` is not in its quote `{}`",
                    s.text,
                    c.quote
                );
            }
        }
        assert!(s.support.is_some(), "{what}: sentence was not checked");
        assert!(s.flagged || s.support.unwrap() >= b.verification.threshold);
    }
    assert!(b.summary.len() <= 4, "{what}: summary too long");
    assert!(b.findings.len() <= 8, "{what}: too many findings");
    for (i, f) in b.findings.iter().enumerate() {
        assert_eq!(f.number, i + 1);
        assert!(!f.sentences.is_empty());
        assert!(!f.heading.is_empty());
    }
    assert_eq!(
        b.verification.checked,
        n_sentences + b.verification.dropped.len()
    );
    // Gaps: worded as not found, never as false.
    for g in &b.gaps {
        let l = g.statement.to_lowercase();
        assert!(
            l.contains("not found in the indexed sources"),
            "{what}: gap wording: {l}"
        );
        for bad in ["false", "untrue", "debunk", "wrong"] {
            assert!(!l.contains(bad), "{what}: gap says `{bad}`: {l}");
        }
        assert!(
            !g.second_pass_queries.is_empty(),
            "{what}: gap without a second pass"
        );
        assert!(g.second_pass_modes.contains(&"bm25".to_string()));
    }
    assert_eq!(b.follow_ups.len(), 5, "{what}: follow-ups");
    for q in &b.follow_ups {
        assert!(q.ends_with('?'), "{what}: follow-up is not a question: {q}");
    }
    assert_eq!(b.checked_on, today());
    assert!(b.disclaimer.contains("verify"));
    if let Some(v) = &b.verdict {
        assert!((0.0..=1.0).contains(&v.confidence));
        for n in v.supporting.iter().chain(&v.contradicting) {
            assert!(
                b.source(*n).is_some(),
                "{what}: verdict cites [{n}] not in the list"
            );
        }
        if v.verdict == Verdict::NotEnoughEvidence {
            assert!(!v.conclusion.to_lowercase().contains("false"));
        }
    }
    // The lexical fallback is announced.
    assert!(!b.judge_neural);
    assert!(
        b.notes.iter().any(|n| n.contains("lexical")),
        "{what}: no lexical note"
    );
    // Currency covers the sources used.
    let dates: Vec<NaiveDate> = b.sources.iter().filter_map(|s| s.published).collect();
    assert_eq!(b.currency.newest, dates.iter().max().copied());
    assert_eq!(b.currency.oldest, dates.iter().min().copied());
}

#[test]
fn question_briefs_hold_every_invariant() {
    for q in QUESTIONS {
        let b = brief(q, Mode::Ask);
        assert_eq!(b.mode, Mode::Ask);
        assert!(b.verdict.is_none());
        assert!(!b.summary.is_empty(), "{q}: empty summary");
        assert!(
            b.findings.len() >= 3,
            "{q}: only {} findings",
            b.findings.len()
        );
        assert!(
            b.sources.len() >= 4,
            "{q}: only {} sources",
            b.sources.len()
        );
        check_invariants(&b);
    }
}

#[test]
fn claim_briefs_hold_every_invariant() {
    for c in CLAIMS {
        let b = brief(c, Mode::Check);
        assert_eq!(b.mode, Mode::Check);
        assert!(b.verdict.is_some());
        assert_eq!(b.title, format!("Fact check: {c}"));
        check_invariants(&b);
    }
}

#[test]
fn supported_claim_has_findings_and_sources() {
    let b = brief(CLAIMS[0], Mode::Check);
    let v = b.verdict.as_ref().unwrap();
    assert!(
        matches!(v.verdict, Verdict::Supported | Verdict::MostlySupported),
        "{v:?}"
    );
    assert!(
        (4..=8).contains(&b.findings.len()),
        "{} findings",
        b.findings.len()
    );
    assert!(b
        .findings
        .iter()
        .any(|f| f.perspective == Perspective::Supports));
    assert!(!v.supporting.is_empty());
}

#[test]
fn claims_the_corpus_never_mentions_are_not_enough_evidence() {
    let lines = std::fs::read_to_string(common::story_dir().join("../story-claims.jsonl")).unwrap();
    let mut seen = 0;
    for line in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["expected"] != "not_enough_evidence" {
            continue;
        }
        seen += 1;
        let claim = v["claim"].as_str().unwrap();
        let b = brief(&format!("Fact check: {claim}"), Mode::Ask);
        let verdict = b.verdict.as_ref().unwrap();
        assert_eq!(
            verdict.verdict,
            Verdict::NotEnoughEvidence,
            "{claim}: {verdict:?}"
        );
        assert_eq!(verdict.label, "Not enough evidence");
        // The claim as stated is listed as a gap, after a second pass.
        assert!(
            b.gaps.iter().any(|g| g.aspect == b.statement),
            "{claim}: no gap for the claim itself: {:?}",
            b.gaps
        );
        check_invariants(&b);
    }
    assert_eq!(seen, 3);
}

#[test]
fn contradicted_claims_never_come_out_supported() {
    let lines = std::fs::read_to_string(common::story_dir().join("../story-claims.jsonl")).unwrap();
    let mut seen = 0;
    for line in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["expected"] != "contradicted" {
            continue;
        }
        seen += 1;
        let claim = v["claim"].as_str().unwrap();
        let b = brief(claim, Mode::Check);
        let verdict = b.verdict.as_ref().unwrap().verdict;
        assert!(
            !matches!(verdict, Verdict::Supported | Verdict::MostlySupported),
            "{claim}: {verdict:?}"
        );
    }
    assert_eq!(seen, 4);
    // The clearest one, stated outright by the minutes and the Ledger, is contradicted.
    let b = brief(
        "The council vote approving the Clear Taps Programme was unanimous.",
        Mode::Check,
    );
    let v = b.verdict.unwrap();
    assert!(
        matches!(
            v.verdict,
            Verdict::Contradicted | Verdict::MostlyUnsupported
        ),
        "{v:?}"
    );
}

/// A question asked of `lib` with evidence restricted to `as_of`.
fn ask_as_of(lib: &MemoryEvidence, question: &str, as_of: NaiveDate) -> Brief {
    let mut req = BriefRequest::new(question, Mode::Ask, today());
    req.as_of = Some(as_of);
    build_brief(&req, lib, &LexicalStance::new(), &NoProgress).unwrap()
}

#[test]
fn as_of_restricts_the_evidence() {
    let as_of = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
    let b = ask_as_of(
        library(),
        "How many lead service lines had been fully replaced by 31 March 2024?",
        as_of,
    );
    assert!(!b.sources.is_empty());
    for s in &b.sources {
        assert!(
            s.published.is_some_and(|d| d <= as_of),
            "{:?} after {as_of}",
            s.published
        );
    }
    assert!(b.currency.newest.unwrap() <= as_of);
    assert_eq!(b.as_of, Some(as_of));
    assert!(b.notes.iter().any(|n| n.contains("2024-03-01")));
}

#[test]
fn as_of_keeps_undated_sources_and_says_so() {
    // The story corpus plus one undated memo: its date is unknown, not after `as_of`.
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(common::story_dir()).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        dir.path().join("undated-crew-memo.md"),
        "---\ntitle: Crew memo on lead service lines\npublisher: Port Vellan Water Crew\nkind: official\nfictional: true\n---\n\n\
         The crews had fully replaced 350 lead service lines when this memo was written, \
         and the lead service line replacement count is updated every month.\n",
    )
    .unwrap();
    let lib = MemoryEvidence::from_dir(dir.path());
    let as_of = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
    let b = ask_as_of(
        &lib,
        "How many lead service lines had been fully replaced?",
        as_of,
    );
    let undated = b.sources.iter().filter(|s| s.published.is_none()).count();
    assert_eq!(undated, 1, "{:?}", b.sources);
    assert_eq!(b.currency.undated, 1);
    assert!(
        b.notes
            .iter()
            .any(|n| n.contains("2024-03-01") && n.contains("1 source carries no date")),
        "{:?}",
        b.notes
    );
    for s in &b.sources {
        assert!(s.published.is_none_or(|d| d <= as_of));
    }
}

#[test]
fn syndicated_copies_are_never_cited() {
    let copy = library()
        .by_file("2023-06-29-courier-syndicated-state-funding.html")
        .unwrap();
    assert!(
        copy.duplicate_of.is_some(),
        "the test library should flag the copy"
    );
    let b = brief(
        "The Halden Environmental Finance Authority committed $22 million to Port Vellan's lead service line replacement programme.",
        Mode::Check,
    );
    assert!(b.sources.iter().all(|s| s.id != copy.id));
}

#[test]
fn one_publisher_does_not_fill_the_brief() {
    for q in QUESTIONS {
        let b = brief(q, Mode::Ask);
        let mut per_publisher = std::collections::HashMap::new();
        for s in &b.sources {
            *per_publisher.entry(s.publisher.clone()).or_insert(0) += 1;
        }
        let max = per_publisher.values().max().copied().unwrap_or(0);
        assert!(max * 2 <= b.sources.len() + 1, "{q}: {per_publisher:?}");
    }
}

#[test]
fn briefs_are_deterministic() {
    let a = serde_json::to_string(&brief(CLAIMS[1], Mode::Check)).unwrap();
    let b = serde_json::to_string(&brief(CLAIMS[1], Mode::Check)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn explain_records_the_plan_and_scores() {
    let mut req = BriefRequest::new(CLAIMS[1], Mode::Check, today());
    req.explain = true;
    let b = build_brief(&req, library(), &LexicalStance::new(), &NoProgress).unwrap();
    let e = b.explain.as_ref().unwrap();
    assert!(e.runs.len() >= 6, "sub-queries: {}", e.runs.len());
    assert!(e.runs.iter().any(|r| r.query.contains("however")));
    assert!(!e.candidates.is_empty());
    assert!(e.judged_pairs > 0);
    assert!(e.candidates.iter().any(|c| c.relevant && c.weight > 0.0));
    assert!(b.plan.figures.contains(&"1,200".to_string()));
    assert!(b
        .plan
        .entities
        .contains(&"Clear Taps Programme".to_string()));
}

/// A judge that judges evidence like the lexical one but finds no support for any
/// sentence in the check before output: every sentence fails it.
struct Doubting {
    hypothesis: String,
}

impl StanceModel for Doubting {
    fn name(&self) -> &str {
        "doubting test judge"
    }
    fn is_neural(&self) -> bool {
        false
    }
    fn score(&self, pairs: &[(&str, &str)]) -> Result<Vec<StanceScores>, JudgeError> {
        Ok(pairs
            .iter()
            .map(|(c, e)| {
                if *c == self.hypothesis {
                    LexicalStance::new().score_one(c, e)
                } else {
                    StanceScores {
                        supports: 0.05,
                        contradicts: 0.05,
                        neutral: 0.9,
                    }
                }
            })
            .collect())
    }
}

#[test]
fn unsupported_sentences_are_dropped_or_flagged() {
    let mut req = BriefRequest::new(QUESTIONS[0], Mode::Ask, today());
    // Verbatim quotes pass whatever the model says ...
    let judge = Doubting {
        hypothesis: plan(QUESTIONS[0], Mode::Ask).unwrap().hypothesis,
    };
    let lenient = build_brief(&req, library(), &judge, &NoProgress).unwrap();
    assert!(lenient.sentences().count() > 0);
    assert!(lenient
        .sentences()
        .all(|s| s.support == Some(1.0) && s.model_support < Some(0.5)));
    assert_eq!(lenient.verification.verbatim, lenient.verification.checked);
    assert!(lenient.notes.iter().any(|n| n.contains("verbatim")));
    // ... unless the check is strict.
    req.strict_support = true;
    let judge = Doubting {
        hypothesis: plan(QUESTIONS[0], Mode::Ask).unwrap().hypothesis,
    };
    let dropped = build_brief(&req, library(), &judge, &NoProgress).unwrap();
    assert_eq!(
        dropped.sentences().count(),
        0,
        "every sentence should be dropped"
    );
    assert!(dropped.verification.checked > 0);
    assert_eq!(
        dropped.verification.dropped.len(),
        dropped.verification.checked
    );
    assert_eq!(dropped.verification.share_supported, 0.0);
    assert!(dropped.findings.is_empty());
    assert!(dropped.notes.iter().any(|n| n.contains("left out")));

    req.show_unsupported = true;
    let flagged = build_brief(&req, library(), &judge, &NoProgress).unwrap();
    assert_eq!(flagged.verification.flagged, flagged.verification.checked);
    assert!(flagged.sentences().count() > 0);
    assert!(flagged.sentences().all(|s| s.flagged));
}

#[test]
fn fact_check_prefix_switches_to_claim_mode() {
    let b = brief(
        "Fact check: Port Vellan adds fluoride to its drinking water.",
        Mode::Ask,
    );
    assert_eq!(b.mode, Mode::Check);
    assert_eq!(
        b.statement,
        "Port Vellan adds fluoride to its drinking water."
    );
}

#[test]
fn empty_input_is_an_error() {
    let req = BriefRequest::new("Fact check:   ", Mode::Check, today());
    let e = build_brief(&req, library(), &LexicalStance::new(), &NoProgress).unwrap_err();
    assert!(matches!(e, ComposeError::EmptyInput));
    assert!(e.to_string().contains("verity check"));
}

#[test]
fn planted_sentence_in_a_real_brief_is_removed() {
    let b = brief(CLAIMS[0], Mode::Check);
    let passages: std::collections::HashMap<_, _> = b
        .sources
        .iter()
        .flat_map(|s| &s.passages)
        .map(|p| {
            (
                p.id.clone(),
                verity_types::Passage {
                    id: p.id.clone(),
                    start: p.start,
                    end: p.end,
                    text: p.text.clone(),
                },
            )
        })
        .collect();
    let mut sentences: Vec<Sentence> = b.sentences().cloned().collect();
    let n = sentences.len();
    // A sentence that borrows a real citation but says something its source never does.
    let mut planted = sentences[0].clone();
    planted.text =
        "Kestrel Pipeworks was fined for leaving every Harbour Heights street unpaved.".into();
    sentences.insert(1, planted.clone());
    let v = verify_sentences(sentences, &passages, &LexicalStance::new(), 0.5).unwrap();
    assert_eq!(v.kept.len(), n);
    assert_eq!(v.dropped.len(), 1);
    assert_eq!(v.dropped[0].text, planted.text);
}
