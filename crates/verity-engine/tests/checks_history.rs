//! The checks history across versions: a library whose `checks` rows were written by
//! the server and the CLI of schema 4 (each in its own shape) opens with one shape.
//! Every place, agency and person here is invented.
#![allow(clippy::unwrap_used)]

use rusqlite::params;
use verity_engine::{CheckStatus, ErrorCode, Library, LibraryOptions, Mode, ModelsMode};

/// The schema-4 layout, as `verity-store` created it.
const SCHEMA_V4: &str = "
CREATE TABLE sources (
    id TEXT PRIMARY KEY, location TEXT NOT NULL, format TEXT NOT NULL,
    title TEXT, publisher TEXT, author TEXT, published TEXT, url TEXT, kind TEXT,
    attribution TEXT, ingested_at TEXT NOT NULL, char_len INTEGER NOT NULL,
    passage_count INTEGER NOT NULL, duplicate_of TEXT, fingerprint BLOB, state TEXT NOT NULL
);
CREATE INDEX sources_state ON sources(state);
CREATE TABLE source_texts (id TEXT PRIMARY KEY, text TEXT NOT NULL, spans BLOB NOT NULL DEFAULT x'');
CREATE TABLE checks (
    id TEXT PRIMARY KEY, created_at TEXT NOT NULL, mode TEXT NOT NULL, input TEXT NOT NULL,
    status TEXT NOT NULL, request TEXT NOT NULL, brief TEXT, error TEXT
);
CREATE INDEX checks_created ON checks(created_at);
PRAGMA user_version=4;
";

const INSERT: &str =
    "INSERT INTO checks (id, created_at, mode, input, status, request, brief, error) \
     VALUES (?1,?2,?3,?4,?5,?6,?7,?8)";

/// Rows exactly as schema-4 code wrote them: the server's `Jobs::submit`/`finish`
/// (a 17-hex-digit id, `CheckInput` as the request, the brief as `render_json` gives it)
/// and the CLI's `Library::save_check` (a timestamp id, `CheckRequest` as the request,
/// the brief's own JSON).
fn write_v4_library(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    let conn = rusqlite::Connection::open(dir.join("library.sqlite")).unwrap();
    conn.execute_batch(SCHEMA_V4).unwrap();
    // Server, done.
    conn.execute(
        INSERT,
        params![
            "19a3f2b7c1d2e0a4f",
            "2026-11-02T09:15:00.123456Z",
            "check",
            "Marrow County hired forty new river wardens in 2024.",
            "done",
            r#"{"input":"Marrow County hired forty new river wardens in 2024.","mode":"check","as_of":"2025-01-31","show_unsupported":false}"#,
            r#"{"format":"verity.brief","version":1,"input":"Marrow County hired forty new river wardens in 2024.","verdict":{"label":"Mostly supported"},"summary":[{"text":"The county added 38 wardens."}],"findings":[],"sources":[{"id":"aa11bb22cc33dd44","title":"Marrow County Ledger"}]}"#,
            Option::<String>::None,
        ],
    )
    .unwrap();
    // Server, failed (no brief).
    conn.execute(
        INSERT,
        params![
            "19a3f2b7c1d2e0b01",
            "2026-11-02T10:00:00.000001Z",
            "ask",
            "Who runs the Kellbridge ferry?",
            "failed",
            r#"{"input":"Who runs the Kellbridge ferry?","mode":"ask","as_of":null,"show_unsupported":true}"#,
            Option::<String>::None,
            "the library is empty: ingest some sources first (`verity ingest PATH`)",
        ],
    )
    .unwrap();
    // CLI, done.
    conn.execute(
        INSERT,
        params![
            "20261101T081500123-1a2b3c",
            "2026-11-01T08:15:00.123000Z",
            "check",
            "Marrow County hired forty new river wardens in 2024.",
            "done",
            r#"{"input":"Marrow County hired forty new river wardens in 2024.","mode":"check","as_of":null,"show_unsupported":false,"explain":true}"#,
            r#"{"input":"Marrow County hired forty new river wardens in 2024.","verdict":{"label":"Mixed"},"summary":[{"text":"The county added 38 wardens."},{"text":"Two posts stayed empty."}],"findings":[],"sources":[{"id":"ee55ff66aa77bb88","title":"Holloway Gazette"}]}"#,
            Option::<String>::None,
        ],
    )
    .unwrap();
}

fn open(dir: &std::path::Path) -> Library {
    let mut opts = LibraryOptions::new(dir);
    opts.models = ModelsMode::Off;
    Library::open(opts).unwrap()
}

#[test]
fn server_and_cli_checks_of_schema_4_list_and_load_in_one_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    write_v4_library(&dir);
    let lib = open(&dir);

    let list = lib.checks(0, 10).unwrap();
    let ids: Vec<&str> = list.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "19a3f2b7c1d2e0b01",
            "19a3f2b7c1d2e0a4f",
            "20261101T081500123-1a2b3c"
        ],
        "newest first"
    );

    let server = lib.check("19a3f2b7c1d2e0a4f").unwrap();
    assert_eq!(server.status, CheckStatus::Done);
    assert_eq!(server.request.mode, Mode::Check);
    assert_eq!(
        server.request.text,
        "Marrow County hired forty new river wardens in 2024."
    );
    assert_eq!(
        server
            .request
            .options
            .as_of
            .map(|d| d.to_string())
            .as_deref(),
        Some("2025-01-31")
    );
    assert!(!server.request.options.explain);
    assert_eq!(server.verdict(), Some("Mostly supported"));
    assert_eq!(server.source_count(), Some(1));
    let brief = server.brief.as_ref().unwrap();
    assert!(brief.get("format").is_none() && brief.get("version").is_none());

    let failed = lib.check("19a3f2b7c1d2e0b01").unwrap();
    assert_eq!(failed.status, CheckStatus::Failed);
    assert_eq!(failed.request.mode, Mode::Ask);
    assert!(failed.request.options.show_unsupported);
    assert!(failed.brief.is_none());
    assert!(failed.error.as_deref().unwrap().contains("verity ingest"));

    let cli = lib.check("20261101T081500123-1a2b3c").unwrap();
    assert_eq!(cli.status, CheckStatus::Done);
    assert_eq!(cli.request.mode, Mode::Check);
    assert!(cli.request.options.explain);
    assert_eq!(cli.request.options.as_of, None);
    assert_eq!(cli.verdict(), Some("Mixed"));

    // Both shapes now compare with each other.
    let d = lib
        .diff_checks("20261101T081500123-1a2b3c", "19a3f2b7c1d2e0a4f")
        .unwrap();
    assert!(d.verdict_changed);
    assert_eq!(d.sources_added[0].title, "Marrow County Ledger");
    assert_eq!(d.sentences_removed, ["Two posts stayed empty."]);
    let e = lib
        .diff_checks("19a3f2b7c1d2e0b01", "19a3f2b7c1d2e0a4f")
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::CheckNotDone);
    assert_eq!(
        lib.check("nope").unwrap_err().code(),
        ErrorCode::CheckNotFound
    );

    // The upgrade happened once: the rows are in the schema-5 shape on disk (and the
    // library at the latest schema, 6: the job queue's table).
    drop(lib);
    let conn = rusqlite::Connection::open(dir.join("library.sqlite")).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 6);
    let request: String = conn
        .query_row(
            "SELECT request FROM checks WHERE id='20261101T081500123-1a2b3c'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&request).unwrap();
    assert_eq!(v["mode"], "check");
    assert_eq!(v["options"]["explain"], true);
    assert!(v.get("input").is_none());
    drop(conn);
    // Opening again changes nothing.
    let again = open(&dir);
    assert_eq!(again.checks(0, 10).unwrap(), list);
}

#[test]
fn new_checks_use_one_id_scheme_and_one_shape() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = open(tmp.path());
    let mut c = verity_engine::Check::queued(verity_engine::Request::new(
        Mode::Ask,
        "When did the Holloway weir reopen?",
    ));
    lib.put_check(&c).unwrap();
    assert_eq!(
        lib.check(c.id.as_str()).unwrap().status,
        CheckStatus::Queued
    );
    c.status = CheckStatus::Running;
    lib.put_check(&c).unwrap();
    assert_eq!(lib.fail_unfinished_checks("stopped").unwrap(), 1);
    let back = lib.check(c.id.as_str()).unwrap();
    assert_eq!(back.status, CheckStatus::Failed);
    assert_eq!(back.error.as_deref(), Some("stopped"));
    assert_eq!(back.id.as_str().len(), 17);
    // A check on an empty library says so, with its own code.
    let e = lib
        .run_check(
            &back.request,
            chrono::NaiveDate::MIN,
            &verity_types::NoProgress,
        )
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::EmptyLibrary);
}

#[test]
fn a_saved_check_can_be_checked_again_and_compared() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(
        docs.join("wardens.md"),
        "---\ntitle: Wardens report\npublisher: Marrow County Ledger\npublished: 2024-06-01\n---\n\
         Marrow County hired thirty-eight new river wardens in 2024, short of the forty it had \
         promised. The county board said two posts stayed empty because of a late budget.\n",
    )
    .unwrap();
    let lib = open(&tmp.path().join("data"));
    lib.ingest(
        &[docs.display().to_string()],
        &verity_engine::IngestOptions::default(),
        &verity_types::NoProgress,
    )
    .unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
    let req = verity_engine::Request::new(
        Mode::Check,
        "Marrow County hired forty new river wardens in 2024.",
    );
    let brief = lib
        .run_check(&req, today, &verity_types::NoProgress)
        .unwrap();
    let first = lib.save_check(&req, &brief).unwrap();
    assert_eq!(first.status, CheckStatus::Done);
    assert!(first.verdict().is_some());
    let (again, _) = lib
        .recheck(first.id.as_str(), today, &verity_types::NoProgress)
        .unwrap();
    assert_ne!(again.id, first.id);
    assert_eq!(again.request, first.request);
    let d = lib
        .diff_checks(first.id.as_str(), again.id.as_str())
        .unwrap();
    assert!(!d.verdict_changed, "{d:?}");
    assert!(
        d.sources_added.is_empty() && d.sentences_removed.is_empty(),
        "{d:?}"
    );
    assert_eq!(lib.checks(0, 10).unwrap().len(), 2);
}

#[test]
fn check_ids_resolve_by_unique_prefix_in_either_id_scheme() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    write_v4_library(&dir);
    let lib = open(&dir);
    let id = |raw: &str| lib.resolve_check_id(raw).map(|c| c.to_string());
    assert_eq!(id("19a3f2b7c1d2e0a4f").unwrap(), "19a3f2b7c1d2e0a4f");
    assert_eq!(id("19a3f2b7c1d2e0b").unwrap(), "19a3f2b7c1d2e0b01");
    assert_eq!(id("2026").unwrap(), "20261101T081500123-1a2b3c");
    let e = id("19a3f2b7").unwrap_err();
    assert_eq!(e.code(), ErrorCode::AmbiguousId);
    assert!(e.to_string().contains("matches 2 checks"), "{e}");
    assert_eq!(id("19a").unwrap_err().code(), ErrorCode::CheckNotFound);
    assert_eq!(id("ffff").unwrap_err().code(), ErrorCode::CheckNotFound);
    // A stored brief decodes for rendering only when done.
    let failed = lib.check("19a3f2b7c1d2e0b01").unwrap();
    assert_eq!(
        failed.done_brief().unwrap_err().code(),
        ErrorCode::CheckNotDone
    );
    assert_eq!(failed.summary().status, CheckStatus::Failed);
}
