//! What only the PostgreSQL store has: versioned migrations, connection errors, URLs.

// Helpers shared by the tests unwrap as the tests do.
#![allow(clippy::unwrap_used)]

use verity_store::testing::fresh_pg;
use verity_store::{PgStore, Store, StoreError};

fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).unwrap()
}

#[test]
fn migrations_are_recorded_once() {
    let Some(db) = fresh_pg("migrations_are_recorded_once") else {
        return;
    };
    drop(PgStore::open(&db.url).unwrap());
    drop(PgStore::open(&db.url).unwrap());
    let rows = client(&db.url)
        .query(
            "SELECT version, name FROM verity_migrations ORDER BY version",
            &[],
        )
        .unwrap();
    let applied: Vec<(i32, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(applied.first(), Some(&(1, "library".to_string())));
    let versions: Vec<i32> = applied.iter().map(|a| a.0).collect();
    let mut unique = versions.clone();
    unique.dedup();
    assert_eq!(versions, unique, "a migration ran twice");
}

#[test]
fn nodes_opening_together_migrate_once() {
    let Some(db) = fresh_pg("nodes_opening_together_migrate_once") else {
        return;
    };
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| PgStore::open(&db.url).unwrap().stats().unwrap());
        }
    });
    let n: i64 = client(&db.url)
        .query_one(
            "SELECT count(*) FROM verity_migrations WHERE version=1",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

#[test]
fn a_newer_schema_is_refused() {
    let Some(db) = fresh_pg("a_newer_schema_is_refused") else {
        return;
    };
    drop(PgStore::open(&db.url).unwrap());
    client(&db.url)
        .execute(
            "INSERT INTO verity_migrations (version, name) VALUES (9999, 'from the future')",
            &[],
        )
        .unwrap();
    let err = PgStore::open(&db.url)
        .err()
        .expect("a newer schema is refused");
    assert!(
        matches!(err, StoreError::SchemaTooNew { found: 9999, .. }),
        "{err:?}"
    );
}

#[test]
fn an_unreachable_server_is_a_typed_error_without_the_password() {
    // Port 1 on localhost: nothing listens there.
    let err = PgStore::open("postgres://ann:s3cret@127.0.0.1:1/verity?connect_timeout=5")
        .err()
        .expect("nothing listens on port 1");
    assert!(err.is_unavailable(), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
}

#[test]
fn malformed_urls_are_refused_before_connecting() {
    for url in [
        "postgres://ann:s3cret@db:notaport/verity",
        "postgres://ann:s3cret@/verity",
        "password=s3cret",
    ] {
        let err = PgStore::open(url).err().expect("refused");
        assert!(err.is_bad_url(), "{url}: {err:?}");
        assert!(!format!("{err} {err:?}").contains("s3cret"), "{err:?}");
    }
}

#[test]
fn a_dropped_connection_is_opened_again() {
    let Some(db) = fresh_pg("a_dropped_connection_is_opened_again") else {
        return;
    };
    // A name of its own, so that only this store's connections are killed.
    let s = PgStore::open(&format!("{}&application_name=verity_dropped", db.url)).unwrap();
    s.stats().unwrap();
    let killed: i64 = client(&db.url)
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name='verity_dropped'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(killed >= 1);
    // The first call on a dead connection may fail; the next one reconnects.
    let mut ok = false;
    for _ in 0..8 {
        ok |= s.stats().is_ok();
    }
    assert!(ok);
    assert_eq!(s.stats().unwrap(), (0, 0, 0));
}

fn new_source(text: &str) -> verity_store::NewSource {
    verity_store::NewSource {
        id: verity_types::SourceId::from_content(text),
        location: "x.txt".into(),
        format: verity_types::Format::Text,
        meta: verity_types::DocMeta::default(),
        text: text.into(),
        passages: vec![verity_types::PassageSpan::whole(text)],
        fingerprint: Vec::new(),
        duplicate_of: None,
        ingested_at: None,
    }
}

#[test]
fn the_change_log_records_what_became_visible_and_what_went() {
    use verity_store::ChangeKind::{Indexed, Removed};
    let Some(db) = fresh_pg("the_change_log_records") else {
        return;
    };
    let s = PgStore::open(&db.url).unwrap();
    let (a, b) = (new_source("alpha"), new_source("beta"));
    s.put_sources(&[a.clone(), b.clone()]).unwrap();
    assert!(
        s.changes_since(0, 100).unwrap().is_empty(),
        "pending is not news"
    );
    s.mark_indexed(&[a.id.clone(), b.id.clone()]).unwrap();
    s.mark_indexed(std::slice::from_ref(&a.id)).unwrap(); // already indexed: no entry
    assert!(s.begin_remove(&a.id).unwrap());
    assert!(!s.begin_remove(&new_source("never").id).unwrap());
    let log = s.changes_since(0, 100).unwrap();
    let got: Vec<_> = log.iter().map(|c| (c.source.clone(), c.kind)).collect();
    assert_eq!(got.len(), 3, "{log:?}");
    assert!(got[..2].contains(&(a.id.clone(), Indexed)));
    assert!(got[..2].contains(&(b.id.clone(), Indexed)));
    assert_eq!(got[2], (a.id.clone(), Removed));
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(
        s.changes_since(log[0].seq, 1).unwrap(),
        vec![log[1].clone()]
    );
    assert!(s.changes_since(log[2].seq, 100).unwrap().is_empty());
}

#[test]
fn change_sequence_numbers_follow_commit_order_under_concurrent_writers() {
    let Some(db) = fresh_pg("change_sequence_commit_order") else {
        return;
    };
    let s = PgStore::open(&db.url).unwrap();
    let store = &s;
    /// Counts a writer as finished when it ends, by panic too (so the reader stops).
    struct Finished<'a>(&'a std::sync::atomic::AtomicUsize);
    impl Drop for Finished<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let finished = &finished;
    std::thread::scope(|scope| {
        for t in 0..4 {
            scope.spawn(move || {
                let _done = Finished(finished);
                for i in 0..25 {
                    let src = new_source(&format!("writer {t} source {i}"));
                    store.put_sources(std::slice::from_ref(&src)).unwrap();
                    store.mark_indexed(std::slice::from_ref(&src.id)).unwrap();
                }
            });
        }
        // A reader following the log as it grows never sees a gap filled in later.
        scope.spawn(move || {
            let (mut last, mut seen) = (0, 0);
            loop {
                let writers_done = finished.load(std::sync::atomic::Ordering::SeqCst) == 4;
                let new = store.changes_since(last, 1000).unwrap();
                if new.is_empty() && writers_done {
                    break; // every writer is done and nothing is left to read
                }
                for c in new {
                    last = c.seq;
                    seen += 1;
                }
            }
            assert_eq!(seen, 100, "the reader missed entries committed behind it");
        });
    });
}
