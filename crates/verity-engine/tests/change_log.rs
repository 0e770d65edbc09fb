//! Two nodes on one PostgreSQL store, each with its own data directory (its own BM25
//! index): what one ingests or removes, the other finds after catching up with the
//! store's change log. Needs `VERITY_TEST_PG` (see `verity_store::testing`).
//! Every place, agency and person here is invented.
#![allow(clippy::unwrap_used)]

use verity_engine::{IngestOptions, Library, LibraryOptions, ModelsMode};
use verity_types::{NoProgress, SearchMode, SearchRequest};

fn node(data: &std::path::Path, store: &str) -> Library {
    Library::open(LibraryOptions {
        models: ModelsMode::Off,
        store: Some(store.to_string()),
        ..LibraryOptions::new(data)
    })
    .unwrap()
}

fn finds(lib: &Library, query: &str) -> bool {
    let mut req = SearchRequest::new(query, 5);
    req.mode = SearchMode::Bm25;
    !lib.search(&req).unwrap().is_empty()
}

#[test]
fn a_second_node_sees_what_the_first_ingested_and_removed() {
    let Some(db) = verity_store::testing::fresh_pg("engine_change_log_two_nodes") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(
        docs.join("weir.txt"),
        "The Holloway weir reopened to boats in May 2025 after the sluice gates were replaced.\n",
    )
    .unwrap();
    let a = node(&tmp.path().join("node-a"), &db.url);
    let b = node(&tmp.path().join("node-b"), &db.url);
    a.ingest(
        &[docs.display().to_string()],
        &IngestOptions::default(),
        &NoProgress,
    )
    .unwrap();
    assert!(finds(&a, "Holloway sluice gates"));
    // Node b's index is its own: nothing there until it applies the change log.
    assert!(!finds(&b, "Holloway sluice gates"));
    assert_eq!(b.catch_up().unwrap(), 1);
    assert!(finds(&b, "Holloway sluice gates"));
    assert_eq!(b.catch_up().unwrap(), 0, "nothing new");
    // A third node, started later, catches up as it opens.
    let c = node(&tmp.path().join("node-c"), &db.url);
    assert!(finds(&c, "Holloway sluice gates"));
    // A removal through one node reaches the others' indexes.
    let id = a.sources().unwrap()[0].id.clone();
    a.remove(&id).unwrap();
    b.catch_up().unwrap();
    assert!(!finds(&b, "Holloway sluice gates"));
    // `verity reindex` rebuilds a node's index from the store.
    drop(c);
    let d = node(&tmp.path().join("node-c"), &db.url);
    assert!(!finds(&d, "Holloway sluice gates"));
    std::fs::write(
        docs.join("ferry.txt"),
        "The Dunmere ferry returned to an hourly timetable in March 2025.\n",
    )
    .unwrap();
    b.ingest(
        &[docs.display().to_string()],
        &IngestOptions::default(),
        &NoProgress,
    )
    .unwrap();
    let e = node(&tmp.path().join("node-e"), &db.url);
    assert_eq!(e.reindex(&NoProgress).unwrap(), 2);
    assert!(finds(&e, "Dunmere ferry timetable"));
    assert!(finds(&e, "Holloway sluice gates"), "re-ingested through b");
    assert_eq!(
        e.catch_up().unwrap(),
        0,
        "reindex records the log as applied"
    );
}
