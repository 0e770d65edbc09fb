//! Verity's document store.
//!
//! The store is the source of truth for what is in a library: sources (with their full
//! extracted text and metadata) and passages (character spans of that text). Indexes are
//! derived from it and can always be rebuilt from it.
//!
//! Every source moves through three states so that a crash or Ctrl-C at any point leaves
//! a consistent library:
//!
//! 1. `pending`: written here in one transaction, possibly also partly added to indexes;
//! 2. `indexed`: every index has committed it; only these are returned by searches;
//! 3. `removing`: a removal began; indexes may still hold it, searches skip it.
//!
//! On open, the engine finishes whatever was interrupted (`pending` → re-index,
//! `removing` → remove again).
//!
//! ```
//! use verity_store::{SqliteStore, Store, NewSource};
//! use verity_types::*;
//! let store = SqliteStore::open_in_memory().unwrap();
//! let text = "Marrow County opened a ferry. It runs hourly.".to_string();
//! let id = SourceId::from_content(&text);
//! store.put_sources(&[NewSource {
//!     id: id.clone(), location: "notes.txt".into(), format: Format::Text,
//!     meta: DocMeta::default(), text: text.clone(),
//!     passages: vec![PassageSpan::whole(&text)],
//!     fingerprint: vec![], duplicate_of: None, ingested_at: None,
//! }]).unwrap();
//! store.mark_indexed(&[id.clone()]).unwrap();
//! assert_eq!(store.list_sources().unwrap().len(), 1);
//! ```

mod jobs;
mod postgres;
mod postgres_jobs;
mod shared;
mod sqlite;
mod sqlite_jobs;
#[doc(hidden)]
pub mod testing;

pub use crate::postgres::{is_postgres_url, redact_url, PgStore};
pub use jobs::{Job, JobFile, JobQueue, JobState, NewJob, QueueDepth, MAX_JOB_ATTEMPTS};
pub use sqlite::SqliteStore;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use verity_types::{
    DocMeta, Format, Passage, PassageId, PassageSpan, SearchFilters, Source, SourceId,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("could not open the library database at `{path}`: {source}. Check that the directory is writable and not used by another program.")]
    Open {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("library database error while {action}: {source}")]
    Sqlite {
        action: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("the library database is from a newer Verity (schema {found}, this build knows {known}); upgrade Verity")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("corrupt record in the library database: {0}")]
    Corrupt(String),
    #[error("`{url}` is not a usable PostgreSQL URL: {detail}")]
    BadUrl { url: String, detail: String },
    #[error("could not connect to PostgreSQL at `{url}`: {source}")]
    Connect {
        url: String,
        #[source]
        source: ::postgres::Error,
    },
    #[error("PostgreSQL error while {action}: {source}")]
    Postgres {
        action: &'static str,
        #[source]
        source: ::postgres::Error,
    },
    #[error("the PostgreSQL store stopped: {0}")]
    PoolStopped(&'static str),
}

impl StoreError {
    fn sqlite_code(&self) -> Option<rusqlite::ErrorCode> {
        match self {
            StoreError::Open { source, .. } | StoreError::Sqlite { source, .. } => {
                source.sqlite_error_code()
            }
            _ => None,
        }
    }

    fn pg_state(&self) -> Option<&::postgres::error::SqlState> {
        match self {
            StoreError::Postgres { source, .. } => source.code(),
            _ => None,
        }
    }

    /// The disk (or the file system's quota) is full.
    pub fn is_disk_full(&self) -> bool {
        use ::postgres::error::SqlState;
        self.sqlite_code() == Some(rusqlite::ErrorCode::DiskFull)
            || self.pg_state() == Some(&SqlState::DISK_FULL)
    }

    /// The store's URL (`--store`, `VERITY_STORE`) cannot be used.
    pub fn is_bad_url(&self) -> bool {
        matches!(self, StoreError::BadUrl { .. })
    }

    /// The database server cannot be reached, or the connection to it broke.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Connect { .. } => true,
            StoreError::Postgres { source, .. } => {
                use std::error::Error;
                source.is_closed() || source.source().is_some_and(|e| e.is::<std::io::Error>())
            }
            _ => false,
        }
    }

    /// The database file is damaged or is not a database at all.
    pub fn is_corrupt(&self) -> bool {
        use ::postgres::error::SqlState;
        matches!(self, StoreError::Corrupt(_))
            || self.pg_state() == Some(&SqlState::DATA_CORRUPTED)
            || self.pg_state() == Some(&SqlState::INDEX_CORRUPTED)
            || matches!(
                self.sqlite_code(),
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
            )
    }

    /// Another process holds the database locked for longer than the busy timeout.
    pub fn is_busy(&self) -> bool {
        self.pg_state() == Some(&::postgres::error::SqlState::LOCK_NOT_AVAILABLE)
            || matches!(
                self.sqlite_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            )
    }

    /// The file could not be opened, read or written (permissions, a missing folder).
    pub fn is_io(&self) -> bool {
        matches!(self, StoreError::Open { .. })
            || matches!(
                self.sqlite_code(),
                Some(
                    rusqlite::ErrorCode::SystemIoFailure
                        | rusqlite::ErrorCode::CannotOpen
                        | rusqlite::ErrorCode::ReadOnly
                        | rusqlite::ErrorCode::PermissionDenied
                )
            )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Where a library's store lives: `--store` (or `VERITY_STORE`) names a PostgreSQL
/// database; unset, the library is the SQLite file in its data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

impl StoreLocation {
    /// The store named by `store` (empty counts as unset), else `library.sqlite` in
    /// `data_dir`. Anything but a `postgres://` or `postgresql://` URL is refused.
    pub fn new(store: Option<&str>, data_dir: &Path) -> Result<Self> {
        match store.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(StoreLocation::Sqlite(data_dir.join("library.sqlite"))),
            Some(url) if is_postgres_url(url) => Ok(StoreLocation::Postgres(url.to_string())),
            Some(other) => Err(StoreError::BadUrl {
                url: redact_url(other),
                detail: "a store is a postgres:// or postgresql:// URL (leave it unset for \
                         the SQLite library in the data directory)"
                    .into(),
            }),
        }
    }

    /// Open (creating or upgrading as needed) the store.
    pub fn open(&self) -> Result<Box<dyn Store>> {
        Ok(match self {
            StoreLocation::Sqlite(path) => Box::new(SqliteStore::open(path)?),
            StoreLocation::Postgres(url) => Box::new(PgStore::open(url)?),
        })
    }

    /// The file, or the URL without its password, for messages.
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::Sqlite(path) => path.display().to_string(),
            StoreLocation::Postgres(url) => redact_url(url),
        }
    }
}

/// A source ready to be written: text, metadata and where its passages lie in the text.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub id: SourceId,
    pub location: String,
    pub format: Format,
    pub meta: DocMeta,
    pub text: String,
    pub passages: Vec<PassageSpan>,
    /// Near-duplicate fingerprint bytes (opaque to the store).
    pub fingerprint: Vec<u8>,
    pub duplicate_of: Option<SourceId>,
    /// When it was first ingested (RFC 3339); `None`: now. Set when copying a library.
    pub ingested_at: Option<String>,
}

/// Lifecycle state of a stored source; see the crate docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    Pending,
    Indexed,
    Removing,
}

impl SourceState {
    fn as_str(self) -> &'static str {
        match self {
            SourceState::Pending => "pending",
            SourceState::Indexed => "indexed",
            SourceState::Removing => "removing",
        }
    }
}

/// What a change-log entry says happened to a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// It became `indexed` (visible): index its passages.
    Indexed,
    /// Its removal began: drop it from the indexes.
    Removed,
}

/// One entry of a shared store's change log (see [`Store::changes_since`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Increases with every entry, in commit order.
    pub seq: i64,
    pub source: SourceId,
    pub kind: ChangeKind,
}

/// A check as the `checks` table holds it. The engine's `Check` is the typed record and
/// the only writer of these rows (see `verity_engine::Check`); the columns `mode` and
/// `input` repeat fields of `request` so that history lists without parsing JSON.
///
/// Since schema 5 every row has one shape: `request` is the engine's `Request` as JSON,
/// `{"mode": "ask"|"check", "text": ..., "options": {"as_of", "show_unsupported",
/// "explain"}}`, and `brief` is the brief's own JSON (no `format`/`version` header). Rows
/// of earlier schemas are rewritten on open ([`upgrade_check_rows`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheck {
    pub id: String,
    pub created_at: String,
    pub mode: String,
    pub input: String,
    pub status: String,
    /// The request as JSON.
    pub request: String,
    /// The brief as JSON, once done.
    pub brief: Option<String>,
    pub error: Option<String>,
}

/// One check row of schema 4 or earlier in the schema-5 shape. Until schema 5 the server
/// stored its `CheckInput` (`{"input", "mode", "as_of", "show_unsupported"}`) and the
/// brief as `verity check --format json` renders it (with a `format`/`version` header),
/// while the CLI stored the engine's `CheckRequest` (`{"input", "mode", "as_of",
/// "show_unsupported", "explain"}`) and the bare brief. Unreadable JSON is kept as it is.
pub fn upgrade_check_rows(
    mode: &str,
    input: &str,
    request: &str,
    brief: Option<&str>,
) -> (String, Option<String>) {
    use serde_json::{json, Value};
    let old: Value = serde_json::from_str(request).unwrap_or(Value::Null);
    let field = |k: &str| old.get(k).cloned().filter(|v| !v.is_null());
    let request = if old.get("options").is_some() {
        request.to_string()
    } else {
        json!({
            "mode": field("mode").unwrap_or_else(|| json!(mode)),
            "text": field("input").unwrap_or_else(|| json!(input)),
            "options": {
                "as_of": field("as_of"),
                "show_unsupported": field("show_unsupported").unwrap_or(json!(false)),
                "explain": field("explain").unwrap_or(json!(false)),
            },
        })
        .to_string()
    };
    let brief = brief.map(|b| match serde_json::from_str::<Value>(b) {
        Ok(Value::Object(mut fields)) if fields.get("format") == Some(&json!("verity.brief")) => {
            fields.remove("format");
            fields.remove("version");
            Value::Object(fields).to_string()
        }
        _ => b.to_string(),
    });
    (request, brief)
}

/// The document store. Implementations must be safe to share between threads: SQLite
/// ([`SqliteStore`], embedded, the default) and PostgreSQL ([`PgStore`], shared by
/// several nodes). `tests/store_suite.rs` runs the same tests against both. Every store
/// also holds the job queue ([`JobQueue`]).
pub trait Store: JobQueue + Send + Sync {
    /// Ids among `ids` that are already stored (in any state).
    fn existing(&self, ids: &[SourceId]) -> Result<HashSet<SourceId>>;
    /// Write sources and their passages in one transaction, in state `pending`.
    fn put_sources(&self, items: &[NewSource]) -> Result<()>;
    /// Move sources to `indexed`, making them visible to search.
    fn mark_indexed(&self, ids: &[SourceId]) -> Result<()>;
    /// Sources in a given state (recovery after an interruption).
    fn sources_in_state(&self, state: SourceState) -> Result<Vec<SourceId>>;
    /// Mark a source `removing`. Returns false when it is not stored.
    fn begin_remove(&self, id: &SourceId) -> Result<bool>;
    /// Delete a source and its passages for good.
    fn finish_remove(&self, id: &SourceId) -> Result<()>;
    /// One indexed source.
    fn source(&self, id: &SourceId) -> Result<Option<Source>>;
    /// Full stored text of a source.
    fn source_text(&self, id: &SourceId) -> Result<Option<String>>;
    /// All passages of a source, in order (any state; used to (re)build indexes).
    fn passages_of(&self, id: &SourceId) -> Result<Vec<Passage>>;
    /// Passages by id, with their sources; unknown ids and non-indexed sources are skipped.
    fn passages(&self, ids: &[PassageId]) -> Result<Vec<(Passage, Source)>>;
    /// Every indexed source, newest first.
    fn list_sources(&self) -> Result<Vec<Source>>;
    /// Sources that pass the filters, or `None` when the filters select everything.
    fn filter_sources(&self, filters: &SearchFilters) -> Result<Option<HashSet<SourceId>>>;
    /// Fingerprints of indexed sources that are not themselves duplicates.
    fn fingerprints(&self) -> Result<Vec<(SourceId, Vec<u8>)>>;
    /// Counts: (sources, passages, characters) over indexed sources.
    fn stats(&self) -> Result<(u64, u64, u64)>;
    /// A stored source (in any state) as [`Store::put_sources`] took it, with its ingest
    /// time: what copying a library into another store needs.
    fn export_source(&self, id: &SourceId) -> Result<Option<NewSource>>;
    /// Change-log entries after `seq`, oldest first, at most `limit`: what a node applies
    /// to its own indexes to follow the writes made through other nodes. A store that
    /// only one node uses (SQLite, whose indexes are written with it) keeps no log.
    fn changes_since(&self, seq: i64, limit: usize) -> Result<Vec<Change>> {
        let _ = (seq, limit);
        Ok(Vec::new())
    }
    /// The number of the newest change-log entry (0 without a log): how far a node's
    /// indexes could be behind, against the number it applied last.
    fn last_change(&self) -> Result<i64> {
        Ok(0)
    }
    /// Whether the store answers (a readiness probe).
    fn ping(&self) -> Result<()>;
    /// Store or update a check.
    fn put_check(&self, check: &StoredCheck) -> Result<()>;
    fn check(&self, id: &str) -> Result<Option<StoredCheck>>;
    /// Checks, newest first.
    fn list_checks(&self, offset: usize, limit: usize) -> Result<Vec<StoredCheck>>;
    /// Every check's id (to resolve an id prefix), in no particular order.
    fn check_ids(&self) -> Result<Vec<String>>;
}
