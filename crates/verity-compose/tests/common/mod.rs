//! An in-memory evidence library for tests: the story fixtures read and chunked with
//! verity-ingest, indexed with verity-index's in-RAM tantivy index. It mimics what the
//! engine does (content ids, syndicated-copy detection, date and duplicate filters) without
//! any storage.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use verity_compose::Evidence;
use verity_index::{IndexDoc, LexicalIndex, TantivyIndex};
use verity_ingest::{chunk, fingerprint, read_file, walk, ReadOptions};
use verity_types::{Passage, PassageId, SearchHit, SearchMode, SearchRequest, Source, SourceId};

pub struct MemoryEvidence {
    pub index: TantivyIndex,
    pub sources: HashMap<SourceId, Source>,
    pub texts: HashMap<SourceId, String>,
    pub passages: HashMap<PassageId, Passage>,
}

pub fn story_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/story")
}

impl MemoryEvidence {
    /// Reads every ingestible file under `dir`.
    pub fn from_dir(dir: &Path) -> Self {
        let files = walk(dir).unwrap().files;
        let mut docs = Vec::new();
        for f in files {
            for d in read_file(&f, &ReadOptions::default()) {
                let mut d = d.unwrap();
                // Snapshots must not depend on where the checkout lives.
                let whole_file = d.location == f.display().to_string();
                if let (true, Ok(rel)) = (whole_file, f.strip_prefix(dir)) {
                    let name = dir.file_name().unwrap_or_default().to_string_lossy();
                    d.location = format!("fixtures/{name}/{}", rel.display());
                }
                docs.push(d);
            }
        }
        // Oldest first, so a syndicated copy points at the earlier original.
        docs.sort_by(|a, b| (a.meta.published, &a.location).cmp(&(b.meta.published, &b.location)));
        let index = TantivyIndex::open_in_ram().unwrap();
        let mut sources = HashMap::new();
        let mut texts = HashMap::new();
        let mut passages = HashMap::new();
        let mut prints: Vec<(SourceId, verity_ingest::Fingerprint)> = Vec::new();
        for doc in docs {
            let id = SourceId::from_content(&doc.text);
            if sources.contains_key(&id) {
                continue;
            }
            let fp = fingerprint(&doc.text);
            let duplicate_of = prints
                .iter()
                .find(|(_, p)| p.is_near_duplicate(&fp))
                .map(|(i, _)| i.clone());
            prints.push((id.clone(), fp));
            let chunks = chunk(&doc.text);
            let mut index_docs = Vec::new();
            for (ordinal, c) in chunks.iter().enumerate() {
                let pid = PassageId {
                    source: id.clone(),
                    ordinal: ordinal as u32,
                };
                passages.insert(
                    pid.clone(),
                    Passage {
                        id: pid.clone(),
                        start: c.start,
                        end: c.end,
                        text: c.text.to_string(),
                    },
                );
                index_docs.push((pid, c.text));
            }
            let docs_ref: Vec<IndexDoc<'_>> = index_docs
                .iter()
                .map(|(id, text)| IndexDoc {
                    id: id.clone(),
                    text,
                })
                .collect();
            index.add(&docs_ref).unwrap();
            sources.insert(
                id.clone(),
                Source {
                    id: id.clone(),
                    location: doc.location.clone(),
                    format: doc.format,
                    meta: doc.meta.clone(),
                    ingested_at: "2025-12-01T00:00:00Z".into(),
                    char_len: doc.text.chars().count() as u64,
                    passage_count: chunks.len() as u32,
                    duplicate_of,
                },
            );
            texts.insert(id, doc.text);
        }
        index.commit().unwrap();
        MemoryEvidence {
            index,
            sources,
            texts,
            passages,
        }
    }

    pub fn story() -> Self {
        Self::from_dir(&story_dir())
    }

    /// The source whose location ends with `suffix` (a fixture file name).
    pub fn by_file(&self, suffix: &str) -> Option<&Source> {
        self.sources.values().find(|s| s.location.ends_with(suffix))
    }
}

impl Evidence for MemoryEvidence {
    fn search(&self, req: &SearchRequest) -> Result<Vec<SearchHit>, String> {
        if req.mode == SearchMode::Dense {
            return Err("no vectors in the test library".into());
        }
        let f = &req.filters;
        let allowed: HashSet<SourceId> = self
            .sources
            .values()
            .filter(|s| !(f.skip_duplicates && s.duplicate_of.is_some()))
            .filter(|s| f.admits_date(s.meta.published))
            .map(|s| s.id.clone())
            .collect();
        let ranked = self
            .index
            .search(&req.query, req.limit, Some(&allowed))
            .map_err(|e| e.to_string())?;
        Ok(ranked
            .into_iter()
            .filter_map(|(pid, score)| {
                let passage = self.passages.get(&pid)?.clone();
                let source = self.sources.get(&pid.source)?.clone();
                let highlights = self.index.highlight(&req.query, &passage.text);
                Some(SearchHit {
                    passage,
                    source,
                    score,
                    highlights,
                })
            })
            .collect())
    }

    fn has_dense(&self) -> bool {
        false
    }
}
