//! `verity checks` (list, show, recheck, diff) through the real binary, on a small
//! fictional library about the Kellbridge ferry; and every hint's command runs.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{run_ok, verity};

const CLAIM: &str = "The Kellbridge ferry carried 41,000 passengers in 2023.";
const TODAY: &str = "2025-03-01";

const SOURCES: &[(&str, &str)] = &[
    (
        "harbour-board-2023.md",
        "---\ntitle: Kellbridge ferry annual report 2023\npublisher: Kellbridge Harbour Board\n\
         published: 2024-02-10\nkind: official\nfictional: true\n---\n\n\
         The Kellbridge ferry carried 41,000 passengers in 2023, up from 36,500 in 2022. \
         The Kellbridge Harbour Board runs the ferry between Kellbridge quay and Orrin Isle \
         six times a day. Fares rose by 50 pence in April 2023 to pay for a new engine.\n",
    ),
    (
        "ledger-ferry.md",
        "---\ntitle: Ferry numbers climb again\npublisher: The Kellbridge Ledger\n\
         published: 2024-02-12\nkind: news\nfictional: true\n---\n\n\
         The Kellbridge ferry carried about 41,000 passengers in 2023, the Harbour Board \
         said on Monday. The board credited the later winter timetable. Ferry users on \
         Orrin Isle said the crossing was still too often cancelled in high winds.\n",
    ),
    (
        "lighthouse.md",
        "---\ntitle: Orrin Isle lighthouse relit\npublisher: Orrin Isle Parish Council\n\
         published: 2023-09-01\nkind: official\nfictional: true\n---\n\n\
         The Orrin Isle lighthouse was relit in August 2023 after a two-year restoration \
         paid for by the parish and a heritage grant.\n",
    ),
];

/// A library of the three fictional sources above.
fn library(tmp: &Path) -> PathBuf {
    let docs = tmp.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    for (name, text) in SOURCES {
        std::fs::write(docs.join(name), text).unwrap();
    }
    let data = tmp.join("lib");
    run_ok(verity(&data).arg("ingest").arg(&docs));
    data
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

fn history(data: &Path, args: &[&str]) -> Vec<Value> {
    let out = run_ok(verity(data).args(["checks", "--json"]).args(args));
    json_of(&out).as_array().cloned().unwrap()
}

/// The characters that two ids start with alike.
fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    &a[..n]
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

#[test]
fn checks_are_listed_newest_first_and_shown_in_any_format() {
    let tmp = tempfile::tempdir().unwrap();
    let data = library(tmp.path());
    let out = run_ok(verity(&data).arg("checks"));
    assert!(
        stdout(&out).contains("No checks here yet"),
        "{}",
        stdout(&out)
    );

    let checked =
        run_ok(verity(&data).args(["check", CLAIM, "--format", "json", "--today", TODAY]));
    run_ok(verity(&data).args(["ask", "Who runs the Kellbridge ferry?", "--today", TODAY]));

    let list = history(&data, &[]);
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["mode"], "ask");
    assert_eq!(list[1]["mode"], "check");
    assert_eq!(list[1]["input"], CLAIM);
    assert_eq!(list[1]["status"], "done");
    assert!(list[1]["verdict"].is_string(), "{}", list[1]);
    assert!(list[1]["sources"].as_u64().unwrap() > 0, "{}", list[1]);
    let page = history(&data, &["--limit", "1", "--offset", "1"]);
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["id"], list[1]["id"]);
    assert!(history(&data, &["--offset", "2"]).is_empty());
    let text = stdout(&run_ok(verity(&data).arg("checks")));
    assert!(
        text.contains(&id_of(&list[0])) && text.contains(CLAIM),
        "{text}"
    );

    // The stored brief renders as the check itself did, from a prefix of its id.
    let id = id_of(&list[1]);
    let prefix = &id[..common_prefix(&id, &id_of(&list[0])).len() + 1];
    let shown = run_ok(verity(&data).args(["checks", "show", prefix, "--format", "json"]));
    assert_eq!(json_of(&shown), json_of(&checked));
    let md = stdout(&run_ok(
        verity(&data).args(["checks", "show", &id, "-f", "md"]),
    ));
    assert!(md.contains(CLAIM), "{md}");
    let file = tmp.path().join("review.json");
    run_ok(
        verity(&data)
            .args(["checks", "show", &id, "--format", "claimreview", "--out"])
            .arg(&file),
    );
    let review: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(review["claimReviewed"], CLAIM);
}

#[test]
fn a_recheck_is_a_new_check_and_the_diff_shows_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let data = library(tmp.path());
    let first = run_ok(verity(&data).args(["check", CLAIM, "--format", "json", "--today", TODAY]));
    let first_brief = json_of(&first);
    let old = id_of(&history(&data, &[])[0]);

    // The same library: a new check, and nothing changed.
    let again = run_ok(verity(&data).args([
        "checks", "recheck", &old, "--format", "json", "--today", TODAY,
    ]));
    assert_eq!(json_of(&again)["input"], CLAIM);
    let list = history(&data, &[]);
    assert_eq!(list.len(), 2);
    let new = id_of(&list[0]);
    assert_ne!(new, old);
    assert_eq!(list[0]["input"], CLAIM);
    assert!(
        stderr(&again).contains(&format!("checked again as {new} (was {old})")),
        "{}",
        stderr(&again)
    );
    assert!(stderr(&again).contains("(unchanged)"), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("0 added, 0 dropped"),
        "{}",
        stderr(&again)
    );

    // Take a cited source away: checked again, it is dropped.
    let cited = first_brief["sources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    run_ok(verity(&data).args(["remove", &cited]));
    run_ok(verity(&data).args(["checks", "recheck", &old, "--today", TODAY]));
    let latest = id_of(&history(&data, &[])[0]);
    let d = json_of(&run_ok(
        verity(&data).args(["checks", "diff", &old, &latest, "--json"]),
    ));
    assert_eq!(d["from"], old.as_str());
    assert_eq!(d["to"], latest.as_str());
    let dropped: Vec<&str> = d["sources_dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(dropped.contains(&cited.as_str()), "{d}");
    let text = stdout(&run_ok(
        verity(&data).args(["checks", "diff", &old, &latest]),
    ));
    assert!(text.contains(&format!("  - {cited}")), "{text}");
    // The unchanged pair's diff is empty.
    let same = json_of(&run_ok(
        verity(&data).args(["checks", "diff", &old, &new, "--json"]),
    ));
    assert_eq!(same["verdict_changed"], false, "{same}");
    assert!(
        same["sources_added"].as_array().unwrap().is_empty(),
        "{same}"
    );
    assert!(
        same["sentences_removed"].as_array().unwrap().is_empty(),
        "{same}"
    );
}

#[test]
fn unknown_and_ambiguous_ids_exit_with_their_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = library(tmp.path());
    for args in [
        vec!["checks", "show", "0123456789abcdef0"],
        vec!["checks", "recheck", "0123456789abcdef0"],
        vec!["checks", "diff", "0123456789abcdef0", "0123456789abcdef1"],
    ] {
        let out = verity(&data).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(66), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("no check with id"),
            "{}",
            stderr(&out)
        );
        assert!(
            stderr(&out).contains("hint: `verity checks`"),
            "{}",
            stderr(&out)
        );
    }
    run_ok(verity(&data).args(["check", CLAIM, "--today", TODAY]));
    run_ok(verity(&data).args(["ask", "When was the lighthouse relit?", "--today", TODAY]));
    let ids: Vec<String> = history(&data, &[]).iter().map(id_of).collect();
    // Ids start with the time, so two made a moment apart share their first characters.
    let common = common_prefix(&ids[0], &ids[1]);
    assert!(common.len() >= 4, "{ids:?}");
    let out = verity(&data)
        .args(["checks", "show", &common[..4]])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("matches 2 checks"),
        "{}",
        stderr(&out)
    );
    // Fewer than 4 characters are no prefix.
    let out = verity(&data)
        .args(["checks", "show", &common[..3]])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66), "{}", stderr(&out));
}

/// The command a hint names: the words after `verity` up to the first placeholder
/// (`PATH`, `ID`) or option.
fn hinted_commands(hint: &str) -> Vec<Vec<String>> {
    hint.split('`')
        .filter_map(|quoted| quoted.strip_prefix("verity "))
        .map(|rest| {
            rest.split_whitespace()
                .take_while(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
                .take_while(|w| !w.starts_with('-'))
                .map(str::to_string)
                .collect()
        })
        .collect()
}

#[test]
fn every_hint_names_a_command_whose_help_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("lib");
    let mut ran = 0;
    for code in verity_types::ErrorCode::ALL {
        for words in hinted_commands(code.hint()) {
            let out = verity(&data).args(&words).arg("--help").output().unwrap();
            assert!(
                out.status.success() && stdout(&out).contains("Usage: verity"),
                "{code:?}'s hint names `verity {}`, whose --help fails: {}",
                words.join(" "),
                stderr(&out)
            );
            ran += 1;
        }
    }
    assert!(ran >= 10, "found the hints' commands ({ran})");
    assert_eq!(
        hinted_commands("run `verity checks recheck ID` or `verity ingest PATH`"),
        [vec!["checks", "recheck"], vec!["ingest"]]
    );
}
