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
//!     fingerprint: vec![], duplicate_of: None,
//! }]).unwrap();
//! store.mark_indexed(&[id.clone()]).unwrap();
//! assert_eq!(store.list_sources().unwrap().len(), 1);
//! ```

mod sqlite;

pub use sqlite::SqliteStore;

use std::collections::HashSet;
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
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

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

/// A stored check (a brief and its request), for history and re-checks.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCheck {
    pub id: String,
    pub created_at: String,
    pub mode: String,
    pub input: String,
    pub status: String,
    /// Request options as JSON.
    pub request: String,
    /// The brief as JSON, once done.
    pub brief: Option<String>,
    pub error: Option<String>,
}

/// The document store. Implementations must be safe to share between threads; the
/// embedded one is SQLite, a server one would be PostgreSQL.
pub trait Store: Send + Sync {
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
    /// Store or update a check.
    fn put_check(&self, check: &StoredCheck) -> Result<()>;
    fn check(&self, id: &str) -> Result<Option<StoredCheck>>;
    /// Checks, newest first.
    fn list_checks(&self, offset: usize, limit: usize) -> Result<Vec<StoredCheck>>;
}
