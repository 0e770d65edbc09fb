//! End-to-end test of `verity eval claims` through the real `verity` binary, on a library
//! built from the fictional Port Vellan corpus (lexical only, so no models are needed).
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use verity_types::{char_slice, SourceId};

mod common;
use common::{run_ok, verity};

fn story() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/story")
}

/// Gold labels of the four claims, with a kind on three of them and an extra field that
/// must be ignored.
const CLAIMS: &str = r#"{"claim": "Port Vellan Town Council approved the Clear Taps Programme on 11 April 2023.", "label": "supported", "kind": "approval", "evidence": ["2023-04-11-council-minutes.md"]}
{"claim": "The council vote approving the Clear Taps Programme was unanimous.", "label": "contradicted", "kind": "approval"}

{"claim": "Port Vellan adds fluoride to its drinking water.", "label": "not_enough_evidence", "kind": "unmentioned"}
{"claim": "The Halden Environmental Finance Authority committed $22 million to Port Vellan's lead service line replacement programme.", "label": "supported"}
"#;

const CLASSES: [&str; 4] = ["supported", "contradicted", "not_enough_evidence", "mixed"];

fn class_of_verdict(label: &str) -> &'static str {
    match label {
        "Supported" | "Mostly supported" => "supported",
        "Contradicted" | "Mostly unsupported" => "contradicted",
        "Not enough evidence" => "not_enough_evidence",
        "Mixed" => "mixed",
        other => panic!("unknown verdict label {other}"),
    }
}

#[test]
fn eval_claims_reports_consistent_counts_and_writes_cited_verdicts() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("lib");
    run_ok(verity(&data).arg("ingest").arg(story()));
    let claims = tmp.path().join("claims.jsonl");
    std::fs::write(&claims, CLAIMS).unwrap();
    let out_path = tmp.path().join("verdicts.jsonl");

    let out = run_ok(
        verity(&data)
            .args(["eval", "claims", "--json", "--claims"])
            .arg(&claims)
            .arg("--out")
            .arg(&out_path),
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("JSON report");

    // The report's counts add up.
    assert_eq!(r["claims"], 4, "{r:#}");
    assert_eq!(r["judge_neural"], false);
    let counts: Vec<Vec<u64>> = r["confusion"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_u64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(r["confusion"]["columns"], serde_json::json!(CLASSES));
    assert_eq!(
        r["confusion"]["rows"],
        serde_json::json!(&CLASSES[..3]),
        "gold rows never include mixed"
    );
    assert_eq!(counts.len(), 3);
    assert!(counts.iter().all(|row| row.len() == 4));
    let row_sums: Vec<u64> = counts.iter().map(|row| row.iter().sum()).collect();
    assert_eq!(row_sums, vec![2, 1, 1], "gold labels per class");
    assert_eq!(row_sums.iter().sum::<u64>(), 4);
    let diagonal: u64 = (0..3).map(|i| counts[i][i]).sum();
    assert_eq!(r["correct"].as_u64().unwrap(), diagonal);
    let accuracy = r["accuracy"].as_f64().unwrap();
    assert!((accuracy - diagonal as f64 / 4.0).abs() < 1e-9, "{r:#}");
    let per_class = r["per_class"].as_array().unwrap();
    assert_eq!(per_class.len(), 3);
    for (i, c) in per_class.iter().enumerate() {
        assert_eq!(c["label"], CLASSES[i]);
        assert_eq!(c["gold"].as_u64().unwrap(), row_sums[i]);
        let column: u64 = counts.iter().map(|row| row[i]).sum();
        assert_eq!(c["predicted"].as_u64().unwrap(), column);
    }
    let mixed_column: u64 = counts.iter().map(|row| row[3]).sum();
    assert_eq!(r["mixed"].as_u64().unwrap(), mixed_column);
    // Three claims have a kind; the fourth is grouped as "(none)".
    let kinds = r["per_kind"].as_array().unwrap();
    let kind_names: Vec<&str> = kinds.iter().map(|k| k["kind"].as_str().unwrap()).collect();
    assert_eq!(kind_names, vec!["(none)", "approval", "unmentioned"]);
    let kind_claims: u64 = kinds.iter().map(|k| k["claims"].as_u64().unwrap()).sum();
    let kind_correct: u64 = kinds.iter().map(|k| k["correct"].as_u64().unwrap()).sum();
    assert_eq!(kind_claims, 4);
    assert_eq!(kind_correct, diagonal);
    let t = &r["seconds_per_claim"];
    let (mean, p50, p95) = (
        t["mean"].as_f64().unwrap(),
        t["p50"].as_f64().unwrap(),
        t["p95"].as_f64().unwrap(),
    );
    assert!(mean > 0.0 && p50 > 0.0 && p50 <= p95, "{t:#}");

    // One verdict line per claim, in file order, each with its cited passages.
    let text = std::fs::read_to_string(&out_path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{text}");
    let gold: Vec<Value> = CLAIMS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lib = verity_engine::Library::open(verity_engine::LibraryOptions {
        models: verity_engine::ModelsMode::Off,
        read_only: true,
        ..verity_engine::LibraryOptions::new(&data)
    })
    .unwrap();
    let mut predicted_counts = [0u64; 4];
    for (line, g) in lines.iter().zip(&gold) {
        assert_eq!(line["claim"], g["claim"]);
        assert_eq!(line["gold"], g["label"]);
        assert_eq!(line["kind"], g["kind"]);
        let predicted = line["predicted"].as_str().unwrap();
        let i = CLASSES.iter().position(|c| *c == predicted).unwrap();
        predicted_counts[i] += 1;
        assert_eq!(
            predicted,
            class_of_verdict(line["verdict"].as_str().unwrap()),
            "{line:#}"
        );
        let confidence = line["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&confidence), "{line:#}");
        let cited = line["cited"].as_array().unwrap();
        assert!(!cited.is_empty(), "no cited passages: {line:#}");
        for c in cited {
            assert!(!c["source_title"].as_str().unwrap().is_empty(), "{c:#}");
            let id = SourceId::new(c["source_id"].as_str().unwrap());
            assert!(c["passage_id"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{id}:")));
            let source_text = lib.source_text(&id).unwrap().expect("cited source exists");
            let (s, e) = (c["start"].as_u64().unwrap(), c["end"].as_u64().unwrap());
            assert!(s < e, "{c:#}");
            assert_eq!(
                char_slice(&source_text, s, e),
                c["text"].as_str(),
                "the cited span must slice the stored source text"
            );
            assert!(["verdict", "summary", "finding"].contains(&c["cited_by"].as_str().unwrap()));
        }
        // A verdict that takes a side names its strongest sources among the citations.
        if matches!(predicted, "supported" | "contradicted") {
            assert!(
                cited.iter().any(|c| !c["verdict_side"].is_null()),
                "no verdict source among the citations: {line:#}"
            );
        }
    }
    // The per-line predictions are the report's columns.
    for (i, n) in predicted_counts.iter().enumerate() {
        let column: u64 = counts.iter().map(|row| row[i]).sum();
        assert_eq!(*n, column, "column {}", CLASSES[i]);
    }
    // The approval, stated outright by the minutes, the press release and the Ledger.
    assert_eq!(lines[0]["predicted"], "supported", "{:#}", lines[0]);
    assert!(lines[0]["cited"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["stance"] == "supports" && c["verdict_side"] == "supporting"));
    // Nothing in the corpus is about fluoride.
    assert_eq!(
        lines[2]["predicted"], "not_enough_evidence",
        "{:#}",
        lines[2]
    );

    // The text report shows the same numbers, the mixed column and the timings.
    let out = run_ok(
        verity(&data)
            .args(["eval", "claims", "--limit", "2", "--claims"])
            .arg(&claims),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 claims"), "{text}");
    assert!(
        text.contains("Confusion (rows gold, columns predicted)"),
        "{text}"
    );
    assert!(text.contains("mixed"), "{text}");
    assert!(text.contains("Seconds per claim: mean"), "{text}");
}

#[test]
fn a_bad_claims_line_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let claims = tmp.path().join("claims.jsonl");
    std::fs::write(
        &claims,
        "{\"claim\": \"The Vellan quay closes in May.\", \"label\": \"supported\"}\n\
         {\"claim\": \"The Vellan quay is closed.\", \"label\": \"mostly true\"}\n",
    )
    .unwrap();
    let out = verity(&tmp.path().join("lib"))
        .args(["eval", "claims", "--claims"])
        .arg(&claims)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("mostly true"), "{err}");

    std::fs::write(&claims, "{\"label\": \"supported\"}\n").unwrap();
    let out = verity(&tmp.path().join("lib"))
        .args(["eval", "claims", "--claims"])
        .arg(&claims)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1") && err.contains("claim"), "{err}");
}
