use crate::{IndexDoc, IndexError, LexicalIndex, Result};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermSetQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};
use verity_types::{byte_to_char, PassageId, SourceId};

const TOKENIZER: &str = "verity_en";
const WRITER_HEAP: usize = 256 * 1024 * 1024;
/// Allowed-source sets larger than this filter a deeper unfiltered ranking rather than
/// the query itself (see `search`).
const POST_FILTER_ABOVE: usize = 2_000;

/// BM25 passage index on tantivy, on disk or in RAM.
pub struct TantivyIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    analyzer: TextAnalyzer,
    path: String,
    f_pid: Field,
    f_src: Field,
    f_text: Field,
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::from(crate::stem::EnglishTokenizer::default())
}

fn schema() -> (Schema, Field, Field, Field) {
    let mut b = Schema::builder();
    // The passage id is only read back from hits, never searched: stored, not indexed
    // (100,000 unique terms were a tenth of the term-dictionary work at commit).
    let pid = b.add_text_field("pid", STORED);
    let src = b.add_text_field("src", STRING);
    let text_opts = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let text = b.add_text_field("text", text_opts);
    (b.build(), pid, src, text)
}

fn err(action: &'static str) -> impl FnOnce(tantivy::TantivyError) -> IndexError {
    move |source| IndexError::Tantivy { action, source }
}

impl TantivyIndex {
    /// Open or create the index in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let open_err = |source| IndexError::Open {
            path: dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| open_err(e.into()))?;
        let (schema, ..) = schema();
        let mmap = tantivy::directory::MmapDirectory::open(dir)
            .map_err(|e| open_err(tantivy::TantivyError::from(e)))?;
        let index = Index::open_or_create(mmap, schema).map_err(open_err)?;
        Self::from_index(index, dir.display().to_string())
    }

    /// A throwaway index in memory (tests, evaluations).
    pub fn open_in_ram() -> Result<Self> {
        let (schema, ..) = schema();
        Self::from_index(Index::create_in_ram(schema), "<memory>".into())
    }

    fn from_index(index: Index, path: String) -> Result<Self> {
        let analyzer = analyzer();
        index.tokenizers().register(TOKENIZER, analyzer.clone());
        let schema = index.schema();
        let field = |name: &str| {
            schema.get_field(name).map_err(|e| IndexError::Open {
                path: path.clone(),
                source: e,
            })
        };
        let (f_pid, f_src, f_text) = (field("pid")?, field("src")?, field("text")?);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(err("opening a reader"))?;
        Ok(TantivyIndex {
            index,
            reader,
            writer: Mutex::new(None),
            analyzer,
            path,
            f_pid,
            f_src,
            f_text,
        })
    }

    /// The writer, created on first use so that read-only users never take the lock.
    fn writer(&self) -> Result<MutexGuard<'_, Option<IndexWriter>>> {
        let mut guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            let w = self.index.writer(WRITER_HEAP).map_err(|e| match e {
                tantivy::TantivyError::LockFailure(..) => IndexError::Locked {
                    path: self.path.clone(),
                },
                other => IndexError::Tantivy {
                    action: "opening the index writer",
                    source: other,
                },
            })?;
            *guard = Some(w);
        }
        Ok(guard)
    }

    /// The `limit` best passages for `q`, with their scores.
    fn top(&self, q: &dyn Query, limit: usize) -> Result<Vec<(PassageId, f32)>> {
        let searcher = self.reader.searcher();
        let top = searcher
            .search(q, &TopDocs::with_limit(limit).order_by_score())
            .map_err(err("searching"))?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr).map_err(err("reading a hit"))?;
            if let Some(pid) = d
                .get_first(self.f_pid)
                .and_then(|v| v.as_str())
                .and_then(PassageId::parse)
            {
                out.push((pid, score));
            }
        }
        Ok(out)
    }

    fn terms(&self, text: &str) -> Vec<(String, usize, usize)> {
        let mut a = self.analyzer.clone();
        let mut stream = a.token_stream(text);
        let mut out = Vec::new();
        while let Some(t) = stream.next() {
            out.push((t.text.clone(), t.offset_from, t.offset_to));
        }
        out
    }
}

impl LexicalIndex for TantivyIndex {
    fn add(&self, docs: &[IndexDoc<'_>]) -> Result<()> {
        let mut guard = self.writer()?;
        let Some(w) = guard.as_mut() else {
            return Ok(());
        };
        for d in docs {
            w.add_document(doc!(
                self.f_pid => d.id.to_string(),
                self.f_src => d.id.source.as_str(),
                self.f_text => d.text,
            ))
            .map_err(err("adding a passage"))?;
        }
        Ok(())
    }

    fn delete_source(&self, id: &SourceId) -> Result<()> {
        let guard = self.writer()?;
        if let Some(w) = guard.as_ref() {
            w.delete_term(Term::from_field_text(self.f_src, id.as_str()));
        }
        Ok(())
    }

    fn commit(&self) -> Result<()> {
        {
            let mut guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(w) = guard.as_mut() {
                w.commit().map_err(err("committing the index"))?;
            }
        }
        self.reader.reload().map_err(err("reloading the index"))
    }

    fn rollback(&self) -> Result<()> {
        let mut guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = guard.as_mut() {
            w.rollback().map_err(err("rolling back the index"))?;
        }
        Ok(())
    }

    fn search(
        &self,
        query: &str,
        limit: usize,
        allowed: Option<&HashSet<SourceId>>,
    ) -> Result<Vec<(PassageId, f32)>> {
        if limit == 0 || allowed.is_some_and(|a| a.is_empty()) {
            return Ok(Vec::new());
        }
        // Build the query from analysed terms ourselves: user text never fails to parse.
        let mut seen = HashSet::new();
        let clauses: Vec<(Occur, Box<dyn Query>)> = self
            .terms(query)
            .into_iter()
            .filter(|(t, ..)| seen.insert(t.clone()))
            .map(|(t, ..)| {
                let term = Term::from_field_text(self.f_text, &t);
                let q: Box<dyn Query> = Box::new(tantivy::query::TermQuery::new(
                    term,
                    IndexRecordOption::WithFreqs,
                ));
                (Occur::Should, q)
            })
            .collect();
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let text_q: Box<dyn Query> = Box::new(BooleanQuery::new(clauses));
        let Some(ids) = allowed else {
            return self.top(&*text_q, limit);
        };
        if ids.len() > POST_FILTER_ABOVE {
            // A filter that lets most of a large library through (the usual "no syndicated
            // copies" or "published before the check date") would intersect the query with
            // thousands of source terms: read the unfiltered ranking a little deeper and
            // filter it instead. Same hits (the filter does not change scores); the index
            // filters only when that leaves too few.
            let deeper = limit * 2 + 20;
            let hits = self.top(&*text_q, deeper)?;
            let complete = hits.len() < deeper; // every match was read
            let kept: Vec<(PassageId, f32)> = hits
                .into_iter()
                .filter(|(pid, _)| ids.contains(&pid.source))
                .take(limit)
                .collect();
            if kept.len() >= limit || complete {
                return Ok(kept);
            }
        }
        let terms = ids
            .iter()
            .map(|id| Term::from_field_text(self.f_src, id.as_str()));
        let q = BooleanQuery::new(vec![
            (Occur::Must, text_q),
            (Occur::Must, Box::new(TermSetQuery::new(terms))),
        ]);
        self.top(&q, limit)
    }

    fn highlight(&self, query: &str, text: &str) -> Vec<(u64, u64)> {
        let wanted: HashSet<String> = self.terms(query).into_iter().map(|t| t.0).collect();
        let mut out: Vec<(u64, u64)> = Vec::new();
        // Walk tokens in order, converting byte offsets to char offsets incrementally.
        let (mut last_b, mut last_c) = (0usize, 0u64);
        let mut to_char = |b: usize| -> u64 {
            if b >= last_b {
                last_c += byte_to_char(&text[last_b..b], b - last_b).unwrap_or(0);
            } else {
                last_c = byte_to_char(text, b).unwrap_or(0);
            }
            last_b = b;
            last_c
        };
        for (t, from, to) in self.terms(text) {
            if wanted.contains(&t) {
                let s = to_char(from);
                let e = to_char(to);
                out.push((s, e));
            }
        }
        out
    }

    fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_types::char_slice;

    fn pid(s: &str, o: u32) -> PassageId {
        PassageId {
            source: SourceId::new(s),
            ordinal: o,
        }
    }

    fn sample() -> TantivyIndex {
        let idx = TantivyIndex::open_in_ram().unwrap();
        idx.add(&[
            IndexDoc {
                id: pid("a", 0),
                text: "The Vellan council approved the flood barrier budget.",
            },
            IndexDoc {
                id: pid("a", 1),
                text: "Ferry schedules were unchanged.",
            },
            IndexDoc {
                id: pid("b", 0),
                text: "Auditors questioned the barrier's rising costs.",
            },
        ])
        .unwrap();
        idx.commit().unwrap();
        idx
    }

    #[test]
    fn ranks_matching_passages_and_stems() {
        let idx = sample();
        let hits = idx.search("barriers cost", 10, None).unwrap();
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[0].0, pid("b", 0));
        assert!(idx.search("zeppelin", 10, None).unwrap().is_empty());
        assert!(idx.search("  ()\"[ ", 10, None).unwrap().is_empty());
    }

    #[test]
    fn filters_and_deletes_by_source() {
        let idx = sample();
        let only_a = HashSet::from([SourceId::new("a")]);
        let hits = idx.search("barrier", 10, Some(&only_a)).unwrap();
        assert_eq!(
            hits.iter().map(|h| h.0.clone()).collect::<Vec<_>>(),
            vec![pid("a", 0)]
        );
        idx.delete_source(&SourceId::new("a")).unwrap();
        idx.commit().unwrap();
        assert_eq!(idx.num_docs(), 1);
    }

    #[test]
    fn uncommitted_work_is_invisible() {
        let idx = sample();
        idx.add(&[IndexDoc {
            id: pid("c", 0),
            text: "barrier barrier",
        }])
        .unwrap();
        assert_eq!(idx.search("barrier", 10, None).unwrap().len(), 2);
    }

    #[test]
    fn rollback_drops_staged_work_and_keeps_committed() {
        let idx = sample();
        idx.add(&[IndexDoc {
            id: pid("c", 0),
            text: "barrier barrier",
        }])
        .unwrap();
        idx.rollback().unwrap();
        idx.commit().unwrap();
        assert_eq!(idx.search("barrier", 10, None).unwrap().len(), 2);
        // The writer still works after a rollback.
        idx.add(&[IndexDoc {
            id: pid("d", 0),
            text: "barrier",
        }])
        .unwrap();
        idx.commit().unwrap();
        assert_eq!(idx.search("barrier", 10, None).unwrap().len(), 3);
    }

    #[test]
    fn highlights_are_char_offsets() {
        let idx = sample();
        let text = "Café owners fear the barriers will flood the quay.";
        let hl = idx.highlight("barrier flooding", text);
        let words: Vec<&str> = hl
            .iter()
            .map(|(s, e)| char_slice(text, *s, *e).unwrap())
            .collect();
        assert_eq!(words, vec!["barriers", "flood"]);
    }

    #[test]
    fn on_disk_index_persists_commits_only() {
        let dir = tempfile::tempdir().unwrap();
        {
            let idx = TantivyIndex::open(dir.path()).unwrap();
            idx.add(&[IndexDoc {
                id: pid("a", 0),
                text: "committed words",
            }])
            .unwrap();
            idx.commit().unwrap();
            idx.add(&[IndexDoc {
                id: pid("b", 0),
                text: "uncommitted words",
            }])
            .unwrap();
        }
        let idx = TantivyIndex::open(dir.path()).unwrap();
        assert_eq!(idx.search("words", 10, None).unwrap().len(), 1);
    }
}
