mod common;
use chrono::NaiveDate;
use verity_compose::*;
use verity_judge::LexicalStance;
use verity_types::NoProgress;

#[test]
#[ignore]
fn explore() {
    let ev = common::MemoryEvidence::story();
    let today = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
    let input = std::env::var("Q").unwrap();
    let mode = if std::env::var("ASK").is_ok() { Mode::Ask } else { Mode::Check };
    let mut req = BriefRequest::new(input, mode, today);
    req.explain = std::env::var("EXPLAIN").is_ok();
    let t = std::time::Instant::now();
    let b = build_brief(&req, &ev, &LexicalStance::new(), &NoProgress).unwrap();
    eprintln!("took {:?}", t.elapsed());
    std::fs::write(std::env::var("OUT").unwrap(), serde_json::to_string_pretty(&b).unwrap()).unwrap();
}
