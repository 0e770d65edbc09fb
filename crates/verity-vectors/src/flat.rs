//! Row storage shared by both indexes: one contiguous `f32` matrix, passage ids per row,
//! tombstones for removed rows, and maps from passage and source to live rows.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};

use rayon::prelude::*;
use verity_types::{PassageId, SourceId};

use crate::{check_vector, dot, VectorError};

/// Rows per parallel scan chunk; below two chunks a scan stays on the calling thread.
const SCAN_CHUNK_ROWS: usize = 8192;

#[derive(Debug, Clone)]
pub(crate) struct Flat {
    pub dim: usize,
    pub ids: Vec<PassageId>,
    pub data: Vec<f32>,
    pub deleted: Vec<bool>,
    pub n_deleted: usize,
    pos: HashMap<PassageId, u32>,
    by_source: HashMap<SourceId, Vec<u32>>,
}

/// A scored row, ordered by score then row (so heaps and sorts are deterministic).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scored {
    pub score: f32,
    pub row: u32,
}

impl Eq for Scored {}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.row.cmp(&self.row))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Keeps the `k` best of what it is offered.
pub(crate) struct TopK {
    k: usize,
    // Min-heap through Reverse: the root is the worst kept.
    heap: BinaryHeap<std::cmp::Reverse<Scored>>,
}

impl TopK {
    pub fn new(k: usize) -> Self {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    #[inline]
    pub fn offer(&mut self, s: Scored) {
        if self.k == 0 {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push(std::cmp::Reverse(s));
        } else if let Some(worst) = self.heap.peek() {
            if s > worst.0 {
                self.heap.pop();
                self.heap.push(std::cmp::Reverse(s));
            }
        }
    }

    /// Best first.
    pub fn into_sorted(self) -> Vec<Scored> {
        let mut v: Vec<Scored> = self.heap.into_iter().map(|r| r.0).collect();
        v.sort_by(|a, b| b.cmp(a));
        v
    }
}

impl Flat {
    pub fn new(dim: usize) -> Self {
        Flat {
            dim,
            ids: Vec::new(),
            data: Vec::new(),
            deleted: Vec::new(),
            n_deleted: 0,
            pos: HashMap::new(),
            by_source: HashMap::new(),
        }
    }

    /// Rebuild from stored rows (used when loading).
    pub fn from_parts(dim: usize, ids: Vec<PassageId>, data: Vec<f32>, deleted: Vec<bool>) -> Self {
        let n_deleted = deleted.iter().filter(|d| **d).count();
        let mut f = Flat {
            dim,
            ids,
            data,
            deleted,
            n_deleted,
            pos: HashMap::new(),
            by_source: HashMap::new(),
        };
        f.rebuild_maps();
        f
    }

    fn rebuild_maps(&mut self) {
        self.pos.clear();
        self.by_source.clear();
        for (row, id) in self.ids.iter().enumerate() {
            if self.deleted[row] {
                continue;
            }
            // A later row for the same id supersedes an earlier one.
            if let Some(old) = self.pos.insert(id.clone(), row as u32) {
                self.deleted[old as usize] = true;
                self.n_deleted += 1;
                if let Some(rows) = self.by_source.get_mut(&id.source) {
                    rows.retain(|r| *r != old);
                }
            }
            self.by_source
                .entry(id.source.clone())
                .or_default()
                .push(row as u32);
        }
    }

    /// Rows stored, including tombstoned ones.
    pub fn rows(&self) -> usize {
        self.ids.len()
    }

    /// Live vectors.
    pub fn live(&self) -> usize {
        self.ids.len() - self.n_deleted
    }

    #[inline]
    pub fn row(&self, r: u32) -> &[f32] {
        let start = r as usize * self.dim;
        &self.data[start..start + self.dim]
    }

    pub fn validate(&self, items: &[(PassageId, Vec<f32>)]) -> Result<(), VectorError> {
        for (id, v) in items {
            check_vector(&|| format!("passage {id}"), v, self.dim)?;
        }
        Ok(())
    }

    /// Append a row; an existing live row for the same id is tombstoned. Returns the row.
    pub fn push(&mut self, id: &PassageId, v: &[f32]) -> u32 {
        let row = self.ids.len() as u32;
        if let Some(old) = self.pos.insert(id.clone(), row) {
            self.deleted[old as usize] = true;
            self.n_deleted += 1;
            if let Some(rows) = self.by_source.get_mut(&id.source) {
                rows.retain(|r| *r != old);
            }
        }
        self.ids.push(id.clone());
        self.data.extend_from_slice(v);
        self.deleted.push(false);
        self.by_source
            .entry(id.source.clone())
            .or_default()
            .push(row);
        row
    }

    /// Tombstone every live row of a source; returns how many.
    pub fn tombstone_source(&mut self, source: &SourceId) -> usize {
        let Some(rows) = self.by_source.remove(source) else {
            return 0;
        };
        for &r in &rows {
            self.deleted[r as usize] = true;
            self.pos.remove(&self.ids[r as usize]);
        }
        self.n_deleted += rows.len();
        rows.len()
    }

    /// Drop tombstoned rows for good.
    pub fn compact(&mut self) {
        if self.n_deleted == 0 {
            return;
        }
        let dim = self.dim;
        let mut w = 0usize;
        for r in 0..self.ids.len() {
            if self.deleted[r] {
                continue;
            }
            if w != r {
                self.ids.swap(w, r);
                self.data.copy_within(r * dim..(r + 1) * dim, w * dim);
            }
            w += 1;
        }
        self.ids.truncate(w);
        self.data.truncate(w * dim);
        self.deleted = vec![false; w];
        self.n_deleted = 0;
        self.rebuild_maps();
    }

    /// Live rows of the allowed sources.
    pub fn allowed_rows(&self, allowed: &HashSet<SourceId>) -> Vec<u32> {
        let mut rows: Vec<u32> = allowed
            .iter()
            .filter_map(|s| self.by_source.get(s))
            .flatten()
            .copied()
            .collect();
        rows.sort_unstable();
        rows
    }

    pub fn allowed_count(&self, allowed: &HashSet<SourceId>) -> usize {
        allowed
            .iter()
            .filter_map(|s| self.by_source.get(s))
            .map(|r| r.len())
            .sum()
    }

    /// Exact top-`k` over the given rows (tombstones skipped).
    pub fn scan_rows(&self, query: &[f32], k: usize, rows: &[u32]) -> Vec<Scored> {
        let scan = |chunk: &[u32]| {
            let mut top = TopK::new(k);
            for &r in chunk {
                if !self.deleted[r as usize] {
                    top.offer(Scored {
                        score: dot(query, self.row(r)),
                        row: r,
                    });
                }
            }
            top.into_sorted()
        };
        if rows.len() < 2 * SCAN_CHUNK_ROWS {
            return scan(rows);
        }
        merge(rows.par_chunks(SCAN_CHUNK_ROWS).map(scan).collect(), k)
    }

    /// Exact top-`k` over every live row.
    pub fn scan_all(&self, query: &[f32], k: usize) -> Vec<Scored> {
        let n = self.rows();
        let scan = |start: usize, end: usize| {
            let mut top = TopK::new(k);
            for r in start..end {
                if !self.deleted[r] {
                    top.offer(Scored {
                        score: dot(query, self.row(r as u32)),
                        row: r as u32,
                    });
                }
            }
            top.into_sorted()
        };
        if n < 2 * SCAN_CHUNK_ROWS {
            return scan(0, n);
        }
        let parts: Vec<Vec<Scored>> = (0..n.div_ceil(SCAN_CHUNK_ROWS))
            .into_par_iter()
            .map(|c| scan(c * SCAN_CHUNK_ROWS, ((c + 1) * SCAN_CHUNK_ROWS).min(n)))
            .collect();
        merge(parts, k)
    }

    /// Turn scored rows into results, best first, ties broken by passage id.
    pub fn results(&self, mut hits: Vec<Scored>) -> Vec<(PassageId, f32)> {
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| self.ids[a.row as usize].cmp(&self.ids[b.row as usize]))
        });
        hits.into_iter()
            .map(|s| (self.ids[s.row as usize].clone(), s.score))
            .collect()
    }

    /// Exact search honouring an optional source filter.
    pub fn exact_search(
        &self,
        query: &[f32],
        limit: usize,
        allowed: Option<&HashSet<SourceId>>,
    ) -> Vec<Scored> {
        match allowed {
            None => self.scan_all(query, limit),
            Some(set) => self.scan_rows(query, limit, &self.allowed_rows(set)),
        }
    }
}

fn merge(parts: Vec<Vec<Scored>>, k: usize) -> Vec<Scored> {
    let mut top = TopK::new(k);
    for s in parts.into_iter().flatten() {
        top.offer(s);
    }
    top.into_sorted()
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
    fn topk_keeps_best() {
        let mut t = TopK::new(3);
        for (i, s) in [0.1, 0.9, 0.5, 0.7, 0.2].iter().enumerate() {
            t.offer(Scored {
                score: *s,
                row: i as u32,
            });
        }
        let rows: Vec<u32> = t.into_sorted().iter().map(|s| s.row).collect();
        assert_eq!(rows, vec![1, 3, 2]);
    }

    #[test]
    fn push_replaces_and_tombstone_and_compact() {
        let mut f = Flat::new(2);
        f.push(&pid("a", 0), &[1.0, 0.0]);
        f.push(&pid("a", 1), &[0.0, 1.0]);
        f.push(&pid("b", 0), &[0.5, 0.5]);
        f.push(&pid("a", 0), &[0.0, -1.0]); // replaces a:0
        assert_eq!(f.live(), 3);
        assert_eq!(f.rows(), 4);
        assert_eq!(f.tombstone_source(&SourceId::new("a")), 2);
        assert_eq!(f.tombstone_source(&SourceId::new("zzz")), 0);
        assert_eq!(f.live(), 1);
        f.compact();
        assert_eq!(f.rows(), 1);
        assert_eq!(f.ids, vec![pid("b", 0)]);
        assert_eq!(f.data, vec![0.5, 0.5]);
    }

    #[test]
    fn from_parts_resolves_duplicate_ids_to_last_row() {
        let f = Flat::from_parts(
            1,
            vec![pid("a", 0), pid("a", 0)],
            vec![1.0, 2.0],
            vec![false, false],
        );
        assert_eq!(f.live(), 1);
        let hits = f.scan_all(&[1.0], 5);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].row, 1);
    }
}
