//! Snapshots of every renderer on a fixed, hand-built brief, and of Markdown and JSON
//! briefs built from the story corpus (lexical stance, fixed date).

#![allow(clippy::unwrap_used)]

#[path = "../../verity-compose/tests/common/mod.rs"]
mod memory;
mod common {
    pub mod sample;
}

use std::sync::OnceLock;

use chrono::NaiveDate;
use common::sample::{sample_claim_brief, sample_nee_brief};
use verity_compose::{build_brief, Brief, BriefRequest, Mode};
use verity_judge::LexicalStance;
use verity_render::*;
use verity_types::NoProgress;

fn story() -> &'static memory::MemoryEvidence {
    static LIB: OnceLock<memory::MemoryEvidence> = OnceLock::new();
    LIB.get_or_init(memory::MemoryEvidence::story)
}

fn story_brief(input: &str, mode: Mode, max_sources: usize) -> Brief {
    let mut req = BriefRequest::new(input, mode, NaiveDate::from_ymd_opt(2025, 12, 1).unwrap());
    req.max_sources = max_sources;
    build_brief(&req, story(), &LexicalStance::new(), &NoProgress).unwrap()
}

#[test]
fn sample_markdown() {
    insta::assert_snapshot!(render_markdown(&sample_claim_brief()));
}

#[test]
fn sample_json() {
    insta::assert_json_snapshot!(render_json(&sample_claim_brief()));
}

#[test]
fn sample_html() {
    insta::assert_snapshot!(render_html(&sample_claim_brief()));
}

#[test]
fn sample_terminal_plain() {
    insta::assert_snapshot!(render_terminal(&sample_claim_brief(), 80, false));
}

#[test]
fn sample_claimreview() {
    insta::assert_json_snapshot!(render_claimreview(
        &sample_claim_brief(),
        Some("https://checks.example/ferry")
    ));
}

#[test]
fn sample_nee_claimreview() {
    insta::assert_json_snapshot!(render_claimreview(&sample_nee_brief(), None));
}

#[test]
fn story_claim_markdown() {
    let b = story_brief(
        "Fact check: The Clear Taps Programme replaced 1,200 lead service lines in full by March 2024.",
        Mode::Check,
        12,
    );
    insta::assert_snapshot!(render_markdown(&b));
}

#[test]
fn story_nee_claim_markdown() {
    let b = story_brief(
        "Port Vellan adds fluoride to its drinking water.",
        Mode::Check,
        6,
    );
    let md = render_markdown(&b);
    assert!(md.contains("## Verdict: Not enough evidence"));
    assert!(!md.to_lowercase().contains("false"));
    // The second pass's candidate count depends on tie order among equal BM25 scores.
    insta::with_settings!({filters => vec![(r"\d+ passages examined", "[n] passages examined")]}, {
        insta::assert_snapshot!(md);
    });
}

#[test]
fn story_question_json() {
    let b = story_brief(
        "Has Eastmoor been treated fairly by the lead pipe programme?",
        Mode::Ask,
        5,
    );
    insta::assert_json_snapshot!(render_json(&b));
}

#[test]
fn sections_come_in_the_designed_order() {
    let md = render_markdown(&sample_claim_brief());
    let order = [
        "# Fact check: The Dunmore ferry",
        "Checked on 1 December 2025.",
        "automatically",
        "## Verdict: Mixed",
        "## Executive summary",
        "### 1. What supports the claim",
        "## Sources and their angles",
        "## Evidence gaps",
        "## Sources",
        "## Want to dive deeper?",
        "Support check:",
    ];
    let mut at = 0;
    for marker in order {
        let i = md[at..]
            .find(marker)
            .unwrap_or_else(|| panic!("`{marker}` missing or out of order"));
        at += i + marker.len();
    }
    let term = render_terminal(&sample_claim_brief(), 80, false);
    let order = [
        "Fact check:",
        "Checked on",
        "VERDICT: Mixed",
        "EXECUTIVE SUMMARY",
        "1. What supports",
        "SOURCES AND THEIR ANGLES",
        "EVIDENCE GAPS",
        "SOURCES\n",
        "WANT TO DIVE DEEPER?",
    ];
    let mut at = 0;
    for marker in order {
        let i = term[at..]
            .find(marker)
            .unwrap_or_else(|| panic!("terminal: `{marker}` missing or out of order"));
        at += i + marker.len();
    }
}

#[test]
fn json_carries_sentences_citations_spans_scores_and_verdict() {
    let v = render_json(&sample_claim_brief());
    assert_eq!(v["format"], JSON_FORMAT);
    assert_eq!(v["version"], JSON_VERSION);
    let s = &v["summary"][0];
    assert!(s["text"].is_string());
    let c = &s["citations"][0];
    for k in ["n", "source_id", "passage_id", "start", "end", "quote"] {
        assert!(!c[k].is_null(), "citation lacks {k}");
    }
    assert!(s["support"].is_number());
    assert!(s["stance_scores"]["supports"].is_number());
    assert_eq!(v["verdict"]["verdict"], "mixed");
    assert!(v["sources"][0]["passages"][0]["start"].is_number());
    assert!(v["sources"][0]["passages"][0]["cited"][0].is_array());
    // The brief round-trips.
    let back: Brief = serde_json::from_value(v).unwrap();
    assert_eq!(back, sample_claim_brief());
}

#[test]
fn terminal_wraps_and_colours_on_request() {
    let b = sample_claim_brief();
    let plain = render_terminal(&b, 60, false);
    assert!(!plain.contains('\u{1b}'));
    for line in plain.lines() {
        assert!(line.chars().count() <= 60, "line too long: {line}");
    }
    let coloured = render_terminal(&b, 60, true);
    assert!(coloured.contains('\u{1b}'));
}

#[test]
fn every_renderer_handles_story_briefs() {
    for (input, mode) in [
        (
            "How many lead service lines had been fully replaced by 31 March 2024?",
            Mode::Ask,
        ),
        (
            "A contractor strike delayed the Clear Taps Programme in 2024.",
            Mode::Check,
        ),
    ] {
        let b = story_brief(input, mode, 12);
        let html = render_html(&b);
        assert!(html.contains("</html>"));
        for s in &b.sources {
            assert!(html.contains(&format!("id=\"s{}\"", s.n)));
        }
        // Every citation link has its anchor.
        for s in b.sentences() {
            for c in &s.citations {
                let anchor = format!("id=\"s{}-p{}\"", c.n, c.passage_id.ordinal);
                assert!(html.contains(&anchor), "{input}: missing {anchor}");
            }
        }
        let md = render_markdown(&b);
        assert!(md.contains("## Want to dive deeper?"));
        let t = render_terminal(&b, 100, true);
        assert!(t.contains("SOURCES"));
        let cr = render_claimreview(&b, None);
        assert_eq!(cr["@type"], "ClaimReview");
    }
}

/// A brief a language model wrote: its markup is text in every format, and the refused
/// sentences are listed with their reasons.
#[test]
fn model_written_text_is_escaped_and_refusals_are_listed() {
    use verity_types::{DropReason, DroppedSentence, WriterAudit};
    let mut b = sample_claim_brief();
    b.summary[0].text = "The <script>alert(1)</script> barrier **held** [7].".into();
    b.writer = Some(WriterAudit {
        model: "smollm2".into(),
        endpoint: "http://127.0.0.1:8081/v1/chat/completions".into(),
        prompt_version: "write-v1".into(),
        calls: 2,
        written: 3,
        kept: 1,
        sent_back: 2,
        dropped: 2,
        dropped_by_reason: vec![(DropReason::NoCitation, 2)],
        refused: vec![DroppedSentence {
            section: "summary".into(),
            text: "The <b>Trust</b> lied.".into(),
            support: 0.0,
            reason: Some(DropReason::NoCitation),
        }],
        ..WriterAudit::default()
    });
    let html = render_html(&b);
    assert!(
        !html.contains("<script>alert") && !html.contains("<b>Trust"),
        "markup got through"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("Written by the model and refused (summary, cites no passage): The &lt;b&gt;Trust&lt;/b&gt; lied."));
    let md = render_markdown(&b);
    assert!(md.contains("Written by the model and refused (summary, cites no passage)"));
    assert!(!md.contains("**held**"), "Markdown emphasis is escaped");
    let term = render_terminal(&b, 200, false);
    assert!(term.contains(
        "Written by the model and refused (summary, cites no passage): The <b>Trust</b> lied."
    ));
    let json = render_json(&b);
    assert_eq!(json["writer"]["prompt_version"], "write-v1");
    assert_eq!(json["writer"]["refused"][0]["reason"], "no_citation");
}
