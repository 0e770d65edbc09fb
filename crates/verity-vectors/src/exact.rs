//! Brute-force search over a contiguous matrix: exact, and simple enough to trust.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use verity_types::{PassageId, SourceId};

use crate::flat::Flat;
use crate::persist::{self, Meta};
use crate::{check_vector, VectorError, VectorIndex};

/// Exact dot-product search. Scans every vector per query (split across threads for large
/// indexes); a source filter scans only the allowed sources' rows.
#[derive(Debug, Clone)]
pub struct ExactIndex {
    pub(crate) flat: Flat,
    pub(crate) model: String,
    pub(crate) dir: Option<PathBuf>,
}

impl ExactIndex {
    /// An empty index kept in memory only (`save` does nothing).
    pub fn new(dim: usize, model: impl Into<String>) -> Self {
        ExactIndex {
            flat: Flat::new(dim),
            model: model.into(),
            dir: None,
        }
    }

    /// An empty index that saves to `dir` (nothing is written until `save`).
    pub fn create(dir: &Path, dim: usize, model: impl Into<String>) -> Self {
        ExactIndex {
            dir: Some(dir.to_path_buf()),
            ..Self::new(dim, model)
        }
    }

    /// Load a saved index. An HNSW index on disk loads too (its graph is ignored).
    pub fn open(dir: &Path) -> Result<Self, VectorError> {
        let (meta, mut flat, _) = persist::read_flat(dir)?;
        flat.compact();
        Ok(ExactIndex {
            flat,
            model: meta.model,
            dir: Some(dir.to_path_buf()),
        })
    }

    pub fn dim(&self) -> usize {
        self.flat.dim
    }

    /// Name of the embedding model the vectors came from.
    pub fn model(&self) -> &str {
        &self.model
    }

    pub(crate) fn meta(&self) -> Meta {
        Meta {
            format: persist::FORMAT,
            kind: "exact".into(),
            dim: self.flat.dim,
            model: self.model.clone(),
            rows: self.flat.rows(),
            deleted: Vec::new(),
            hnsw: None,
        }
    }
}

impl VectorIndex for ExactIndex {
    fn add(&mut self, items: &[(PassageId, Vec<f32>)]) -> Result<(), VectorError> {
        self.flat.validate(items)?;
        for (id, v) in items {
            self.flat.push(id, v);
        }
        // Replacements leave tombstones; an exact index keeps none.
        self.flat.compact();
        Ok(())
    }

    fn remove_source(&mut self, id: &SourceId) -> Result<(), VectorError> {
        if self.flat.tombstone_source(id) > 0 {
            self.flat.compact();
        }
        Ok(())
    }

    fn search(
        &self,
        query: &[f32],
        limit: usize,
        allowed: Option<&HashSet<SourceId>>,
    ) -> Result<Vec<(PassageId, f32)>, VectorError> {
        check_vector(&|| "the query".to_string(), query, self.flat.dim)?;
        Ok(self
            .flat
            .results(self.flat.exact_search(query, limit, allowed)))
    }

    fn len(&self) -> usize {
        self.flat.live()
    }

    fn save(&self) -> Result<(), VectorError> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let meta = self.meta();
        persist::write_generation(dir, |gen| persist::write_flat(gen, &self.flat, &meta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pid(s: &str, n: u32) -> PassageId {
        PassageId {
            source: SourceId::new(s),
            ordinal: n,
        }
    }

    #[test]
    fn search_ranks_filters_and_replaces() {
        let mut ix = ExactIndex::new(2, "m");
        ix.add(&[
            (pid("a", 0), vec![1.0, 0.0]),
            (pid("a", 1), vec![0.8, 0.6]),
            (pid("b", 0), vec![0.0, 1.0]),
        ])
        .unwrap();
        let hits = ix.search(&[1.0, 0.0], 2, None).unwrap();
        assert_eq!(hits[0], (pid("a", 0), 1.0));
        assert_eq!(hits[1].0, pid("a", 1));

        let only_b: HashSet<SourceId> = [SourceId::new("b")].into();
        let hits = ix.search(&[1.0, 0.0], 5, Some(&only_b)).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].0, pid("b", 0));

        ix.add(&[(pid("a", 0), vec![0.0, -1.0])]).unwrap();
        assert_eq!(ix.len(), 3);
        assert_eq!(ix.search(&[1.0, 0.0], 1, None).unwrap()[0].0, pid("a", 1));

        ix.remove_source(&SourceId::new("a")).unwrap();
        assert_eq!(ix.len(), 1);
        assert!(ix.search(&[1.0, 0.0], 0, None).unwrap().is_empty());
    }

    #[test]
    fn wrong_dimension_and_nan_are_rejected() {
        let mut ix = ExactIndex::new(3, "m");
        let err = ix.add(&[(pid("a", 0), vec![1.0])]).unwrap_err().to_string();
        assert!(err.contains("passage a:0 has 1 dimensions"), "{err}");
        let err = ix
            .add(&[(pid("a", 0), vec![1.0, f32::NAN, 0.0])])
            .unwrap_err();
        assert!(matches!(err, VectorError::NotFinite { .. }));
        assert_eq!(ix.len(), 0, "a rejected batch adds nothing");
        assert!(ix.search(&[1.0, 0.0], 1, None).is_err());
    }

    #[test]
    fn save_and_open_round_trip() {
        let tmp = tempfile::tempdir().unwrap();
        let mut ix = ExactIndex::create(tmp.path(), 2, "model-x");
        ix.add(&[(pid("a", 0), vec![0.6, 0.8]), (pid("b", 3), vec![1.0, 0.0])])
            .unwrap();
        ix.save().unwrap();
        ix.remove_source(&SourceId::new("b")).unwrap();
        ix.save().unwrap();
        let back = ExactIndex::open(tmp.path()).unwrap();
        assert_eq!(back.model(), "model-x");
        assert_eq!(back.len(), 1);
        assert_eq!(back.search(&[0.6, 0.8], 5, None).unwrap()[0].0, pid("a", 0));
    }

    #[test]
    fn opening_nothing_is_not_found() {
        let tmp = tempfile::tempdir().unwrap();
        let err = ExactIndex::open(&tmp.path().join("none")).unwrap_err();
        assert!(matches!(err, VectorError::NotFound { .. }));
    }

    #[test]
    fn truncated_vectors_file_is_corrupt() {
        let tmp = tempfile::tempdir().unwrap();
        let mut ix = ExactIndex::create(tmp.path(), 2, "m");
        ix.add(&[(pid("a", 0), vec![0.6, 0.8])]).unwrap();
        ix.save().unwrap();
        let gen = persist::current_generation(tmp.path()).unwrap().unwrap();
        std::fs::write(gen.join("vectors.f32"), [0u8; 5]).unwrap();
        let err = ExactIndex::open(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("damaged"), "{err}");
    }
}
