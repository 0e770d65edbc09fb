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
    let s = PgStore::open(&db.url).unwrap();
    s.stats().unwrap();
    // Kill every connection of this store (its application_name is `verity`).
    client(&db.url)
        .batch_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name='verity' AND pid <> pg_backend_pid() \
             AND query NOT LIKE '%pg_terminate_backend%' \
             AND datname = current_database()",
        )
        .unwrap();
    // The first call on a dead connection may fail; the next one reconnects.
    let mut ok = false;
    for _ in 0..8 {
        ok |= s.stats().is_ok();
    }
    assert!(ok);
    assert_eq!(s.stats().unwrap(), (0, 0, 0));
}
