//! Manual runs, ignored by default: print one brief as JSON, or a table of verdicts on
//! the story claims. Set `VERITY_STANCE_MODEL=<dir>` (and optionally
//! `VERITY_TOKENIZER=<tokenizer.json>`) to judge with the neural cross-encoder.
//!
//! `Q="Fact check: ..." OUT=/tmp/brief.json cargo test --release -p verity-render --test explore explore -- --ignored`
//! `cargo test --release -p verity-render --test explore claims_table -- --ignored --nocapture`

#![allow(clippy::unwrap_used)]

#[path = "../../verity-compose/tests/common/mod.rs"]
mod common;
use chrono::NaiveDate;
use verity_compose::*;
use verity_judge::{CrossEncoderStance, LexicalStance, StanceModel};

fn judge() -> Box<dyn StanceModel> {
    match std::env::var("VERITY_STANCE_MODEL") {
        Ok(dir) => {
            let tok = std::env::var("VERITY_STANCE_TOKENIZER").unwrap_or_else(|_| {
                concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../verity-data/models/all-minilm-l6-v2/tokenizer.json"
                )
                .into()
            });
            Box::new(
                CrossEncoderStance::load(std::path::Path::new(&dir), std::path::Path::new(&tok))
                    .unwrap(),
            )
        }
        Err(_) => Box::new(LexicalStance::new()),
    }
}
use verity_types::NoProgress;

#[test]
#[ignore]
fn explore() {
    let ev = common::MemoryEvidence::story();
    let today = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
    let input = std::env::var("Q").unwrap();
    let mode = if std::env::var("ASK").is_ok() {
        Mode::Ask
    } else {
        Mode::Check
    };
    let mut req = BriefRequest::new(input, mode, today);
    req.explain = std::env::var("EXPLAIN").is_ok();
    let j = judge();
    let t = std::time::Instant::now();
    let b = build_brief(&req, &ev, j.as_ref(), &NoProgress).unwrap();
    eprintln!("took {:?}", t.elapsed());
    std::fs::write(
        std::env::var("OUT").unwrap(),
        serde_json::to_string_pretty(&b).unwrap(),
    )
    .unwrap();
}

#[test]
#[ignore]
fn claims_table() {
    let ev = common::MemoryEvidence::story();
    let today = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
    let path = common::story_dir().join("../story-claims.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    let j = judge();
    let mut inputs: Vec<(String, Mode, String)> = Vec::new();
    for q in [
        "Has Eastmoor been treated fairly by the lead pipe programme?",
        "How many lead service lines had been fully replaced by 31 March 2024?",
        "Has the Clear Taps Programme reduced lead in Port Vellan's drinking water?",
    ] {
        inputs.push((q.to_string(), Mode::Ask, "-".to_string()));
    }
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        inputs.push((
            v["claim"].as_str().unwrap().to_string(),
            Mode::Check,
            v["expected"].as_str().unwrap().to_string(),
        ));
    }
    for (claim, mode, expected) in inputs {
        let req = BriefRequest::new(claim.as_str(), mode, today);
        let t = std::time::Instant::now();
        let b = build_brief(&req, &ev, j.as_ref(), &NoProgress).unwrap();
        let ms = t.elapsed().as_millis();
        let (got, conf) = match b.verdict.as_ref() {
            Some(vb) => (
                serde_json::to_value(vb.verdict)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string(),
                vb.confidence,
            ),
            None => ("-".to_string(), 0.0),
        };
        let md = verity_render::render_markdown(&b).len();
        println!(
            "ROW|{}|{}|{}|{:.2}|{}|{}|{}|{}/{}|model {}|{}ms|{}B md|{}B json",
            claim,
            expected,
            got,
            conf,
            b.sentences().count(),
            b.findings.len(),
            b.sources.len(),
            b.verification.checked - b.verification.dropped.len(),
            b.verification.checked,
            b.verification.model_supported,
            ms,
            md,
            serde_json::to_string(&b).unwrap().len()
        );
    }
}

#[test]
#[ignore]
fn score_pairs() {
    let j = judge();
    let pairs: Vec<(&str, &str)> = vec![
        ("Port Vellan Town Council approved the Clear Taps Programme on 11 April 2023.", "Port Vellan Town Council on 11 April 2023 approved the Clear Taps Programme, a ten-year plan to replace every lead water service line in Port Vellan."),
        ("The vote was not unanimous.", "The vote was not unanimous."),
        ("The council vote approving the Clear Taps Programme was unanimous.", "The vote was not unanimous."),
        ("Port Vellan adds fluoride to its drinking water.", "In November 2022 the Port Vellan Water Utility increased the dose of orthophosphate added to drinking water at the Sallow Lane treatment works from 1.0 to 2.5 milligrams per litre."),
        ("A man is eating food.", "A man is eating a piece of bread."),
        ("A man is sleeping.", "A man is eating a piece of bread."),
        ("The estimated cost of the Clear Taps Programme rose from $38 million to $61 million.", "The estimated cost of the Clear Taps Programme has risen from $38 million to $61 million, the Port Vellan Water Utility told Town Council tonight."),
    ];
    for (p, s) in pairs.iter().zip(j.score(&pairs).unwrap()) {
        println!(
            "SCORE {:.2} {:.2} {:.2} | {} || {}",
            s.supports,
            s.contradicts,
            s.neutral,
            &p.0[..40.min(p.0.len())],
            &p.1[..50.min(p.1.len())]
        );
    }
}
