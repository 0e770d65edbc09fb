//! The library as evidence for the brief builder. Composition itself lives in
//! `verity-compose`; running and storing checks is in `checks.rs`.

use crate::Library;
use verity_compose::Evidence;
use verity_types::{SearchHit, SearchRequest};

impl Evidence for Library {
    fn search(&self, req: &SearchRequest) -> std::result::Result<Vec<SearchHit>, String> {
        Library::search(self, req).map_err(|e| e.to_string())
    }

    fn has_dense(&self) -> bool {
        self.has_vectors()
    }

    fn similarity(&self, query: &str, texts: &[&str]) -> Option<Vec<f32>> {
        let embedder = self.embedder()?;
        let mut all = Vec::with_capacity(texts.len() + 1);
        all.push(query);
        all.extend_from_slice(texts);
        // A failed embedding only loses this one signal of the topic gate.
        let vecs = embedder.embed(&all).ok()?;
        let (q, rest) = vecs.split_first()?;
        Some(rest.iter().map(|v| verity_embed::cosine(q, v)).collect())
    }
}
