//! Verity's dense vector index: passage embeddings in, nearest passages out.
//!
//! [`VectorIndex`] is the trait retrieval talks to. Two implementations sit behind it:
//!
//! - [`ExactIndex`]: a contiguous `f32` matrix searched by brute-force dot product. Exact,
//!   and fast enough for libraries up to tens of thousands of passages.
//! - [`HnswIndex`]: the same matrix plus a hierarchical navigable small-world graph, for
//!   libraries where scanning every vector per query gets slow. Approximate; a source
//!   filter too narrow for the graph falls back to an exact scan of the allowed rows.
//!
//! [`AutoIndex`] picks between them by size ([`DEFAULT_HNSW_THRESHOLD`] vectors) and is what
//! a library should open. Vectors are expected to be L2-normalised, so the score is the
//! cosine similarity.
//!
//! On disk an index is a directory of generations: each [`VectorIndex::save`] writes a
//! complete new `gen-NNNNNNNN/` (temp name, fsync, rename) and then atomically repoints the
//! `CURRENT` file, so a crash at any moment leaves the previous or the new index, never a
//! mix.
//!
//! ```
//! use std::collections::HashSet;
//! use verity_types::{PassageId, SourceId};
//! use verity_vectors::{AutoIndex, VectorIndex};
//!
//! let dir = tempfile::tempdir()?;
//! let mut index = AutoIndex::open_or_create(dir.path(), 2, "toy-model")?;
//! let pid = |s: &str, n| PassageId { source: SourceId::new(s), ordinal: n };
//! index.add(&[(pid("a", 0), vec![1.0, 0.0]), (pid("b", 0), vec![0.0, 1.0])])?;
//! index.save()?;
//!
//! let index = AutoIndex::open(dir.path())?;
//! let hits = index.search(&[0.9, 0.1], 1, None)?;
//! assert_eq!(hits[0].0, pid("a", 0));
//! let only_b: HashSet<SourceId> = [SourceId::new("b")].into();
//! assert_eq!(index.search(&[0.9, 0.1], 1, Some(&only_b))?[0].0, pid("b", 0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod auto;
mod exact;
mod flat;
mod hnsw;
mod persist;

use std::collections::HashSet;
use std::path::PathBuf;

use verity_types::{PassageId, SourceId};

pub use auto::{AutoIndex, IndexKind, DEFAULT_HNSW_THRESHOLD};
pub use exact::ExactIndex;
pub use hnsw::{recall, HnswIndex, HnswParams};

/// A searchable set of passage vectors.
pub trait VectorIndex: Send + Sync {
    /// Add vectors; a passage id already present has its vector replaced.
    fn add(&mut self, items: &[(PassageId, Vec<f32>)]) -> Result<(), VectorError>;
    /// Drop every vector of a source (no-op when it has none).
    fn remove_source(&mut self, id: &SourceId) -> Result<(), VectorError>;
    /// The `limit` passages most similar to `query`, best first, with their dot-product
    /// scores. With `allowed`, only passages of those sources are returned.
    fn search(
        &self,
        query: &[f32],
        limit: usize,
        allowed: Option<&HashSet<SourceId>>,
    ) -> Result<Vec<(PassageId, f32)>, VectorError>;
    /// Number of vectors held.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Persist to the index's directory (atomically). A no-op for in-memory indexes.
    fn save(&self) -> Result<(), VectorError>;
}

/// What went wrong in the vector index.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    #[error("vector for {what} has {got} dimensions, but this index holds {want}-dimensional vectors; was it made by a different embedding model?")]
    Dimension {
        what: String,
        got: usize,
        want: usize,
    },
    #[error("vector for {what} contains a NaN or infinite value; the embedding model produced bad output for it")]
    NotFinite { what: String },
    #[error("vectors in {path} were made by {stored}, not {wanted}; delete that directory and ingest the sources again (`verity ingest`) with the current model")]
    ModelMismatch {
        path: PathBuf,
        stored: String,
        wanted: String,
    },
    #[error("no vector index in {path}; it is created when passages are first embedded")]
    NotFound { path: PathBuf },
    #[error("vector index {path} is damaged ({reason}); delete that directory and ingest the sources again (`verity ingest`) to rebuild it")]
    Corrupt { path: PathBuf, reason: String },
    #[error("vector index {path}: {op} failed: {source}")]
    Io {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// Dot product, written so the compiler vectorises it (eight independent accumulators).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s = acc.iter().sum::<f32>();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

pub(crate) fn check_vector(
    what: &dyn Fn() -> String,
    v: &[f32],
    dim: usize,
) -> Result<(), VectorError> {
    if v.len() != dim {
        return Err(VectorError::Dimension {
            what: what(),
            got: v.len(),
            want: dim,
        });
    }
    if !v.iter().all(|x| x.is_finite()) {
        return Err(VectorError::NotFinite { what: what() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_naive() {
        let a: Vec<f32> = (0..37).map(|i| i as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..37).map(|i| (i as f32).sin()).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-3);
    }
}
