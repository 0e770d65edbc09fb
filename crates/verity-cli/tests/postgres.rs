//! `verity --store postgres://…` (and `VERITY_STORE`): the library commands on a
//! PostgreSQL store, through the real binary. Needs `VERITY_TEST_PG` (see
//! `verity_engine::testing`); skips without it.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};

mod common;
use common::{run_ok, verity};

fn story() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/story")
        .display()
        .to_string()
}

fn json(cmd: &mut std::process::Command) -> Value {
    serde_json::from_slice(&run_ok(cmd).stdout).expect("JSON output")
}

/// A keyword search of the story corpus through `store` finds something.
fn assert_finds_lead_pipes(data: &Path, store: &str) {
    let hits = json(verity(data).args([
        "--store",
        store,
        "search",
        "--json",
        "--mode",
        "bm25",
        "lead pipes",
    ]));
    assert!(!hits.as_array().unwrap().is_empty());
}

#[test]
fn the_story_corpus_on_postgres() {
    let Some(db) = verity_engine::testing::fresh_pg("cli_story_corpus_on_postgres") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data: PathBuf = tmp.path().join("node-a");
    let r = json(
        verity(&data)
            .args(["--store", &db.url, "ingest", "--json"])
            .arg(story()),
    );
    assert_eq!(r["added"], 47, "{r:#}");
    assert!(!data.join("library.sqlite").exists());
    // The store is named by the environment as well as by the flag.
    let sources = json(
        verity(&data)
            .env("VERITY_STORE", &db.url)
            .args(["sources", "--json"]),
    );
    assert_eq!(sources.as_array().unwrap().len(), 47);
    // Ingesting again adds nothing.
    let r = json(
        verity(&data)
            .args(["--store", &db.url, "ingest", "--json"])
            .arg(story()),
    );
    assert_eq!(r["added"], 0, "{r:#}");
    assert_finds_lead_pipes(&data, &db.url);
}

#[test]
fn an_unreachable_store_exits_75_with_a_hint_and_no_password() {
    let tmp = tempfile::tempdir().unwrap();
    let out = verity(tmp.path())
        .args([
            "--store",
            "postgres://ann:s3cret@127.0.0.1:1/verity",
            "sources",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(
        stderr.contains("hint: check that the PostgreSQL server"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");
    let out = verity(tmp.path())
        .args(["--store", "mysql://ann:s3cret@db/verity", "sources"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{stderr}");
    assert!(!stderr.contains("s3cret"), "{stderr}");
}

#[test]
fn migrate_copies_a_sqlite_library_once() {
    let Some(db) = verity_engine::testing::fresh_pg("cli_migrate_copies_once") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("lib");
    run_ok(verity(&data).args(["ingest"]).arg(story()));
    run_ok(verity(&data).args([
        "check",
        "--today",
        "2025-01-01",
        "The Vellan water utility replaced lead pipes.",
    ]));
    let before = json(verity(&data).args(["sources", "--json"]));
    let migrate = || {
        json(
            verity(&data)
                .args(["migrate", "--json", "--to", &db.url, "--from"])
                .arg(&data),
        )
    };
    let first = migrate();
    assert_eq!(first["sources"], 47, "{first:#}");
    assert_eq!(first["copied"], 47, "{first:#}");
    assert_eq!(first["checks"], 1, "{first:#}");
    // The directory's indexes hold the copy: its change-log entries count as applied,
    // so opening it on the store does not index the library again.
    let applied = std::fs::read_to_string(data.join("store-seq")).unwrap();
    assert_eq!(applied.trim(), "47");
    let again = migrate();
    assert_eq!(again["copied"], 0, "{again:#}");
    assert_eq!(again["checks"], 1, "{again:#}");
    // The copy is the same library: every field of every source, in the same order.
    let after =
        json(verity(&tmp.path().join("elsewhere")).args(["--store", &db.url, "sources", "--json"]));
    assert_eq!(after, before);
    // With the directory's own indexes it searches at once.
    assert_finds_lead_pipes(&data, &db.url);
    // A directory without a library is refused, and nothing is created there.
    let out = verity(&data)
        .args(["migrate", "--to", &db.url, "--from"])
        .arg(tmp.path().join("nothing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66));
    assert!(!tmp.path().join("nothing").exists());
}
