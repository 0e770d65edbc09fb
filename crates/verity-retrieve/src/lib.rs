//! Verity's retrieval stage: turn a [`SearchRequest`] into ranked [`SearchHit`]s.
//!
//! Filters are resolved once against the store into a set of allowed sources, then each
//! ranker (BM25, dense) runs restricted to that set, and [`fuse`] merges their rankings.
//! Hits are hydrated from the store, so only sources that finished indexing are returned.
//!
//! ```
//! use verity_retrieve::fuse;
//! use verity_types::{PassageId, SourceId};
//! let p = |o| PassageId { source: SourceId::new("s"), ordinal: o };
//! let bm25 = vec![(p(1), 9.0), (p(2), 4.0)];
//! let dense = vec![(p(2), 0.8), (p(3), 0.7)];
//! let fused = fuse(&[(&bm25, 1.0), (&dense, 1.0)], 60.0);
//! assert_eq!(fused[0].0, p(2)); // found by both
//! ```

mod fusion;

pub use fusion::{fuse, fuse_scores, DEFAULT_DENSE_WEIGHT, RRF_K};

use std::collections::HashMap;
use verity_embed::Embedder;
use verity_index::LexicalIndex;
use verity_store::Store;
use verity_types::{PassageId, SearchHit, SearchMode, SearchRequest};
use verity_vectors::VectorIndex;

#[derive(Debug, thiserror::Error)]
pub enum RetrieveError {
    #[error(transparent)]
    Store(#[from] verity_store::StoreError),
    #[error(transparent)]
    Index(#[from] verity_index::IndexError),
    #[error("dense search failed: {0}")]
    Dense(String),
    #[error("dense search needs the embedding model and vectors, and this library has none. Install the models with `bash scripts/setup-models.sh` (`verity models` shows what is installed), then ingest the sources again with `verity ingest`, or use `--mode bm25`.")]
    NoVectors,
}

pub type Result<T, E = RetrieveError> = std::result::Result<T, E>;

/// The dense half of retrieval: a query embedder plus the passage vectors.
pub struct Dense<'a> {
    pub embedder: &'a dyn Embedder,
    pub vectors: &'a dyn VectorIndex,
}

/// Everything a search needs, borrowed from the library.
pub struct Retriever<'a> {
    pub store: &'a dyn Store,
    pub lexical: &'a dyn LexicalIndex,
    pub dense: Option<Dense<'a>>,
    /// Weight of the dense ranking in hybrid fusion (BM25's is 1).
    pub dense_weight: f32,
}

/// The mode a search asked for as `requested` runs in: hybrid falls back to BM25 when
/// there are no vectors (`has_vectors` false); every other mode runs as asked.
pub fn effective_mode(requested: SearchMode, has_vectors: bool) -> SearchMode {
    match (requested, has_vectors) {
        (SearchMode::Hybrid, false) => SearchMode::Bm25,
        (m, _) => m,
    }
}

/// How many candidates each ranker contributes per requested hit.
const OVERFETCH: usize = 4;

impl Retriever<'_> {
    /// The mode that will actually run for `requested` (see [`effective_mode`]).
    pub fn effective_mode(&self, requested: SearchMode) -> SearchMode {
        effective_mode(requested, self.dense.is_some())
    }

    /// Ranked passage ids with fused scores (no hydration).
    pub fn rank(&self, req: &SearchRequest) -> Result<Vec<(PassageId, f32)>> {
        let allowed = self.store.filter_sources(&req.filters)?;
        let allowed = allowed.as_ref();
        let depth = (req.limit * OVERFETCH).max(50);
        let mode = self.effective_mode(req.mode);
        let bm25 = match mode {
            SearchMode::Bm25 | SearchMode::Hybrid => {
                self.lexical.search(&req.query, depth, allowed)?
            }
            SearchMode::Dense => Vec::new(),
        };
        let dense = match mode {
            SearchMode::Dense | SearchMode::Hybrid => {
                let d = self.dense.as_ref().ok_or(RetrieveError::NoVectors)?;
                let q = d
                    .embedder
                    .embed(&[req.query.as_str()])
                    .map_err(|e| RetrieveError::Dense(e.to_string()))?;
                let q = q.into_iter().next().unwrap_or_default();
                d.vectors
                    .search(&q, depth, allowed)
                    .map_err(|e| RetrieveError::Dense(e.to_string()))?
            }
            SearchMode::Bm25 => Vec::new(),
        };
        let mut ranked = match mode {
            SearchMode::Bm25 => bm25,
            SearchMode::Dense => dense,
            SearchMode::Hybrid => fuse_scores(&[(&bm25, 1.0), (&dense, self.dense_weight)]),
        };
        ranked.truncate(depth);
        Ok(ranked)
    }

    /// Ranked, hydrated hits with highlighted spans. Passages of sources that are not
    /// (or no longer) indexed are skipped.
    pub fn search(&self, req: &SearchRequest) -> Result<Vec<SearchHit>> {
        let ranked = self.rank(req)?;
        let ids: Vec<PassageId> = ranked.iter().map(|(id, _)| id.clone()).collect();
        let scores: HashMap<&PassageId, f32> = ranked.iter().map(|(id, s)| (id, *s)).collect();
        let mut hits = Vec::with_capacity(req.limit);
        for (passage, source) in self.store.passages(&ids)? {
            if hits.len() == req.limit {
                break;
            }
            let score = scores.get(&passage.id).copied().unwrap_or(0.0);
            let highlights = self.lexical.highlight(&req.query, &passage.text);
            hits.push(SearchHit {
                passage,
                source,
                score,
                highlights,
            });
        }
        Ok(hits)
    }
}
