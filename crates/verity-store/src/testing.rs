//! Test support: a fresh, empty PostgreSQL schema per test, in the database that
//! `VERITY_TEST_PG` names, so that tests run in parallel without seeing each other.
//!
//! Without `VERITY_TEST_PG`, [`fresh_pg`] prints a skip line and returns `None`; with
//! `VERITY_REQUIRE_PG=1` (as `scripts/test.sh` sets it) a missing database fails the
//! test instead.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Connection URL of a database the tests may create schemas in.
pub const TEST_PG_ENV: &str = "VERITY_TEST_PG";
/// Set to 1 to fail, not skip, PostgreSQL tests without [`TEST_PG_ENV`].
pub const REQUIRE_PG_ENV: &str = "VERITY_REQUIRE_PG";

/// A schema made for one test; dropped with everything in it when this is dropped.
pub struct TestDb {
    /// Opens the test's schema (its `search_path`).
    pub url: String,
    admin: String,
    schema: String,
}

/// Run `f` on a plain thread: the `postgres` client must not block inside an async
/// test's runtime.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join()).unwrap_or_else(|p| std::panic::resume_unwind(p))
}

fn admin_sql(url: &str, sql: &str) -> Result<(), postgres::Error> {
    off_runtime(|| {
        let mut c = postgres::Client::connect(url, postgres::NoTls)?;
        c.batch_execute(sql)
    })
}

/// A new empty schema for the test `name`, or `None` (after saying so) when no test
/// database is configured.
///
/// # Panics
/// When the database cannot be reached, or when it is not configured and
/// `VERITY_REQUIRE_PG=1`.
pub fn fresh_pg(name: &str) -> Option<TestDb> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let Some(admin) = std::env::var(TEST_PG_ENV).ok().filter(|u| !u.is_empty()) else {
        assert!(
            std::env::var(REQUIRE_PG_ENV).as_deref() != Ok("1"),
            "{REQUIRE_PG_ENV}=1 but {TEST_PG_ENV} is not set: start PostgreSQL \
             (`source scripts/pg-cluster.sh`)"
        );
        eprintln!("SKIP {name}: PostgreSQL tests need {TEST_PG_ENV} (a postgres:// URL)");
        return None;
    };
    let tag: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let schema = format!(
        "t_{tag}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    if let Err(e) = admin_sql(&admin, &format!("CREATE SCHEMA {schema}")) {
        panic!("could not create a test schema in {TEST_PG_ENV}: {e}");
    }
    let sep = if admin.contains('?') { '&' } else { '?' };
    Some(TestDb {
        url: format!("{admin}{sep}options=-csearch_path%3D{schema}"),
        admin,
        schema,
    })
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = admin_sql(
            &self.admin,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
        );
    }
}
