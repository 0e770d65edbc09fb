//! Verity's lexical index: BM25 over passages.
//!
//! The index holds only what ranking needs (passage id, source id, analysed text); the
//! store keeps the text itself. It is derived data: the engine can rebuild it from the
//! store at any time, and does so for sources whose indexing was interrupted.
//!
//! ```
//! use verity_index::{LexicalIndex, TantivyIndex, IndexDoc};
//! use verity_types::{PassageId, SourceId};
//! let index = TantivyIndex::open_in_ram().unwrap();
//! let pid = PassageId { source: SourceId::new("s1"), ordinal: 0 };
//! index.add(&[IndexDoc { id: pid.clone(), text: "Ferries resumed on the Vell river." }]).unwrap();
//! index.commit().unwrap();
//! let hits = index.search("ferry", 10, None).unwrap();
//! assert_eq!(hits[0].0, pid);
//! ```

mod stem;
mod tantivy_index;

pub use stem::{reference_analyzer, EnglishTokenizer, MAX_WORD_BYTES};
pub use tantivy_index::TantivyIndex;

use std::collections::HashSet;
use verity_types::{PassageId, SourceId};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("could not open the search index at `{path}`: {source}. If it is damaged, move that folder aside and run `verity ingest` on your sources again to rebuild it.")]
    Open {
        path: String,
        #[source]
        source: tantivy::TantivyError,
    },
    #[error("the search index is locked by another Verity process writing to it (`{path}`); wait for it to finish")]
    Locked { path: String },
    #[error("search index error while {action}: {source}")]
    Tantivy {
        action: &'static str,
        #[source]
        source: tantivy::TantivyError,
    },
}

pub type Result<T, E = IndexError> = std::result::Result<T, E>;

/// One passage to index.
#[derive(Debug, Clone)]
pub struct IndexDoc<'a> {
    pub id: PassageId,
    pub text: &'a str,
}

/// A lexical passage index. `add`/`delete_source` are staged until `commit`, which is
/// atomic: after a crash the index is exactly as of the last commit.
pub trait LexicalIndex: Send + Sync {
    fn add(&self, docs: &[IndexDoc<'_>]) -> Result<()>;
    fn delete_source(&self, id: &SourceId) -> Result<()>;
    fn commit(&self) -> Result<()>;
    /// Drop everything staged since the last commit.
    fn rollback(&self) -> Result<()>;
    /// Top passages for `query` by BM25, restricted to `allowed` sources when given.
    fn search(
        &self,
        query: &str,
        limit: usize,
        allowed: Option<&HashSet<SourceId>>,
    ) -> Result<Vec<(PassageId, f32)>>;
    /// Character ranges of `text` whose analysed terms match `query`'s.
    fn highlight(&self, query: &str, text: &str) -> Vec<(u64, u64)>;
    /// Number of indexed passages (as of the last commit).
    fn num_docs(&self) -> u64;
}
