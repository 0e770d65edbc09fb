//! A library whose store is PostgreSQL (`LibraryOptions::store`, `--store`): the same
//! calls as on SQLite, and typed errors for a bad URL or an unreachable server. Needs
//! `VERITY_TEST_PG` (see `verity_store::testing`); skips without it.
//! Every place, agency and person here is invented.
#![allow(clippy::unwrap_used)]

use verity_engine::{
    CheckStatus, ErrorCode, IngestOptions, Library, LibraryOptions, Mode, ModelsMode, Request,
};
use verity_types::{NoProgress, SearchMode, SearchRequest};

fn open(data: &std::path::Path, store: &str) -> verity_engine::Result<Library> {
    Library::open(LibraryOptions {
        models: ModelsMode::Off,
        store: Some(store.to_string()),
        ..LibraryOptions::new(data)
    })
}

fn write_docs(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("wardens.md"),
        "---\ntitle: Wardens report\npublisher: Marrow County Ledger\npublished: 2024-06-01\n---\n\
         Marrow County hired thirty-eight new river wardens in 2024, short of the forty it had \
         promised. The county board said two posts stayed empty because of a late budget.\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("ferry.txt"),
        "The Dunmere ferry returned to an hourly timetable in March 2025 after the new \
         landing stage opened.\n",
    )
    .unwrap();
}

#[test]
fn a_library_on_postgres_ingests_searches_checks_and_removes() {
    let Some(db) = verity_store::testing::fresh_pg("engine_library_on_postgres") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    write_docs(&tmp.path().join("docs"));
    let lib = open(&tmp.path().join("data"), &db.url).unwrap();
    let report = lib
        .ingest(
            &[tmp.path().join("docs").display().to_string()],
            &IngestOptions::default(),
            &NoProgress,
        )
        .unwrap();
    assert_eq!(report.added, 2, "{report:?}");
    // No SQLite file: the store is PostgreSQL; the indexes stay in the data directory.
    assert!(!tmp.path().join("data/library.sqlite").exists());
    assert_eq!(lib.stats().unwrap().0, 2);
    let mut req = SearchRequest::new("river wardens", 5);
    req.mode = SearchMode::Bm25;
    let hits = lib.search(&req).unwrap();
    assert!(hits[0].passage.text.contains("wardens"), "{hits:?}");
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 3).unwrap();
    let claim = Request::new(Mode::Check, "Marrow County hired forty new river wardens.");
    let brief = lib.run_check(&claim, today, &NoProgress).unwrap();
    let saved = lib.save_check(&claim, &brief).unwrap();
    assert_eq!(
        lib.check(saved.id.as_str()).unwrap().status,
        CheckStatus::Done
    );
    // Reopened (another process, the same database): the same library.
    drop(lib);
    let lib = open(&tmp.path().join("data"), &db.url).unwrap();
    assert_eq!(lib.checks(0, 10).unwrap().len(), 1);
    let ferry = lib
        .sources()
        .unwrap()
        .into_iter()
        .find(|s| s.location.ends_with("ferry.txt"))
        .unwrap();
    lib.remove(&ferry.id).unwrap();
    assert_eq!(lib.stats().unwrap().0, 1);
    let mut req = SearchRequest::new("Dunmere ferry", 5);
    req.mode = SearchMode::Bm25;
    assert!(lib
        .search(&req)
        .unwrap()
        .iter()
        .all(|h| h.source.id != ferry.id));
}

#[test]
fn a_store_that_is_not_a_postgres_url_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in [
        "mysql://ann:s3cret@db/verity",
        "/var/lib/verity",
        "postgres://ann:s3cret@db:port/x",
    ] {
        let err = open(tmp.path(), bad).err().expect("refused");
        assert_eq!(err.code(), ErrorCode::StoreUrlInvalid, "{bad}: {err}");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }
    // Empty counts as unset: the SQLite library.
    open(tmp.path(), "").unwrap();
    assert!(tmp.path().join("library.sqlite").exists());
}

#[test]
fn an_unreachable_store_says_so_without_the_password() {
    let tmp = tempfile::tempdir().unwrap();
    let err = open(tmp.path(), "postgres://ann:s3cret@127.0.0.1:1/verity")
        .err()
        .expect("nothing listens on port 1");
    assert_eq!(err.code(), ErrorCode::StoreUnavailable, "{err}");
    assert!(!err.to_string().contains("s3cret"), "{err}");
    assert!(err.to_string().contains("ann:***@127.0.0.1:1"), "{err}");
}
