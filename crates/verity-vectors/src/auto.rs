//! The index a library opens: exact while small, HNSW once large.

use std::collections::HashSet;
use std::path::Path;

use verity_types::{PassageId, SourceId};

use crate::exact::ExactIndex;
use crate::hnsw::{HnswIndex, HnswParams};
use crate::persist;
use crate::{VectorError, VectorIndex};

/// Size at which [`AutoIndex`] switches from exact search to HNSW. Exact search over
/// 20,000 384-dimensional vectors takes a few milliseconds; beyond that the graph pays off.
pub const DEFAULT_HNSW_THRESHOLD: usize = 20_000;

/// Which structure an [`AutoIndex`] currently uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexKind {
    Exact,
    Hnsw,
}

impl IndexKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IndexKind::Exact => "exact",
            IndexKind::Hnsw => "hnsw",
        }
    }
}

#[derive(Debug)]
enum Inner {
    Exact(ExactIndex),
    Hnsw(HnswIndex),
}

/// Exact below a size threshold, HNSW at or above it (and back to exact when removals
/// shrink it below half the threshold).
#[derive(Debug)]
pub struct AutoIndex {
    inner: Inner,
    threshold: usize,
    params: HnswParams,
}

impl AutoIndex {
    /// An empty in-memory index (`save` does nothing).
    pub fn in_memory(dim: usize, model: &str) -> Self {
        AutoIndex {
            inner: Inner::Exact(ExactIndex::new(dim, model)),
            threshold: DEFAULT_HNSW_THRESHOLD,
            params: HnswParams::default(),
        }
    }

    /// Load the index saved in `dir`.
    pub fn open(dir: &Path) -> Result<Self, VectorError> {
        let params = HnswParams::default();
        let (kind, _) = stored_kind(dir)?.ok_or_else(|| VectorError::NotFound {
            path: dir.to_path_buf(),
        })?;
        let inner = if kind == "hnsw" {
            Inner::Hnsw(HnswIndex::open(dir, params)?)
        } else {
            Inner::Exact(ExactIndex::open(dir)?)
        };
        Ok(AutoIndex {
            inner,
            threshold: DEFAULT_HNSW_THRESHOLD,
            params,
        })
    }

    /// Load the index in `dir`, or start an empty one there. An existing index made by a
    /// different model or with a different dimension is an error (mixing would make
    /// scores meaningless).
    pub fn open_or_create(dir: &Path, dim: usize, model: &str) -> Result<Self, VectorError> {
        if persist::current_generation(dir)?.is_none() {
            return Ok(AutoIndex {
                inner: Inner::Exact(ExactIndex::create(dir, dim, model)),
                threshold: DEFAULT_HNSW_THRESHOLD,
                params: HnswParams::default(),
            });
        }
        let ix = Self::open(dir)?;
        if ix.dim() != dim || ix.model() != model {
            return Err(VectorError::ModelMismatch {
                path: dir.to_path_buf(),
                stored: format!("{} ({} dims)", ix.model(), ix.dim()),
                wanted: format!("{model} ({dim} dims)"),
            });
        }
        Ok(ix)
    }

    /// Switch to HNSW at `n` vectors instead of [`DEFAULT_HNSW_THRESHOLD`] (takes effect
    /// at the next change).
    pub fn with_threshold(mut self, n: usize) -> Self {
        self.threshold = n.max(1);
        self
    }

    /// HNSW parameters used when the graph is next built.
    pub fn with_hnsw_params(mut self, params: HnswParams) -> Self {
        self.params = params;
        self
    }

    pub fn kind(&self) -> IndexKind {
        match self.inner {
            Inner::Exact(_) => IndexKind::Exact,
            Inner::Hnsw(_) => IndexKind::Hnsw,
        }
    }

    pub fn dim(&self) -> usize {
        match &self.inner {
            Inner::Exact(ix) => ix.dim(),
            Inner::Hnsw(ix) => ix.dim(),
        }
    }

    /// Name of the embedding model the vectors came from.
    pub fn model(&self) -> &str {
        match &self.inner {
            Inner::Exact(ix) => ix.model(),
            Inner::Hnsw(ix) => ix.model(),
        }
    }

    fn index(&self) -> &dyn VectorIndex {
        match &self.inner {
            Inner::Exact(ix) => ix,
            Inner::Hnsw(ix) => ix,
        }
    }

    fn index_mut(&mut self) -> &mut dyn VectorIndex {
        match &mut self.inner {
            Inner::Exact(ix) => ix,
            Inner::Hnsw(ix) => ix,
        }
    }

    fn rebalance(&mut self) {
        let len = self.len();
        let placeholder = Inner::Exact(ExactIndex::new(1, ""));
        self.inner = match std::mem::replace(&mut self.inner, placeholder) {
            Inner::Exact(ix) if len >= self.threshold => {
                Inner::Hnsw(HnswIndex::from_exact(ix, self.params))
            }
            Inner::Hnsw(ix) if len < self.threshold / 2 => Inner::Exact(ix.into_exact()),
            other => other,
        };
    }
}

/// Kind and model recorded in a saved index, `None` when nothing is saved.
fn stored_kind(dir: &Path) -> Result<Option<(String, String)>, VectorError> {
    let Some(gen) = persist::current_generation(dir)? else {
        return Ok(None);
    };
    let path = gen.join("meta.json");
    let meta: persist::Meta = serde_json::from_slice(&persist::read_bytes(&path)?)
        .map_err(|e| persist::corrupt(&path, e.to_string()))?;
    Ok(Some((meta.kind, meta.model)))
}

impl VectorIndex for AutoIndex {
    fn add(&mut self, items: &[(PassageId, Vec<f32>)]) -> Result<(), VectorError> {
        self.index_mut().add(items)?;
        self.rebalance();
        Ok(())
    }

    fn remove_source(&mut self, id: &SourceId) -> Result<(), VectorError> {
        self.index_mut().remove_source(id)?;
        self.rebalance();
        Ok(())
    }

    fn search(
        &self,
        query: &[f32],
        limit: usize,
        allowed: Option<&HashSet<SourceId>>,
    ) -> Result<Vec<(PassageId, f32)>, VectorError> {
        self.index().search(query, limit, allowed)
    }

    fn len(&self) -> usize {
        self.index().len()
    }

    fn save(&self) -> Result<(), VectorError> {
        self.index().save()
    }
}
