//! The ingest pipeline: inputs → documents → passages → store → indexes.
//!
//! Files are read and chunked in parallel; everything after that runs in batches, each
//! one written to the store as `pending`, added to the indexes and committed, then
//! marked `indexed`. A crash between those steps is finished by `recover` on the next
//! open, so nothing is ever half-searchable.

use crate::{EngineError, Library, Result};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use verity_index::IndexDoc;
use verity_ingest::{FetchOptions, Fingerprint, IngestError, KindRules, ReadOptions};
use verity_store::NewSource;
use verity_types::{Document, PassageId, Progress, SourceId};

/// Knobs for one ingest run.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Allow URLs that resolve to loopback or private addresses.
    pub allow_private: bool,
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Extra publisher-kind rules (TOML), on top of the built-in table.
    pub kind_rules: Option<PathBuf>,
    /// Attribution line stored with every source of this run (e.g. a licence).
    pub attribution: Option<String>,
    /// Compute passage vectors when the embedding model is available.
    pub embed: bool,
    /// Sources per batch (one commit each).
    pub batch_docs: usize,
    /// Characters per batch.
    pub batch_chars: usize,
    pub fetch_timeout: Duration,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            allow_private: false,
            max_bytes: verity_ingest::DEFAULT_MAX_BYTES,
            kind_rules: None,
            attribution: None,
            embed: true,
            batch_docs: 4000,
            batch_chars: 32 * 1024 * 1024,
            fetch_timeout: Duration::from_secs(20),
        }
    }
}

/// One input that could not be ingested.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    pub location: String,
    /// Stable reason code (`unreadable`, `empty`, `too_large`, `corrupt_pdf`, ...).
    pub reason: String,
    pub message: String,
}

/// What an ingest run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    /// New sources stored and indexed.
    pub added: u64,
    /// Inputs whose exact content was already in the library.
    pub unchanged: u64,
    /// New sources that are near-duplicates (syndicated copies) of a stored one; stored
    /// and linked to the original with `duplicate_of`.
    pub duplicates: u64,
    pub failed: Vec<Failure>,
    /// Files left out on purpose (unknown extension, links not followed).
    pub skipped: Vec<Failure>,
    pub passages: u64,
    /// Characters of text added.
    pub chars: u64,
    /// Bytes of text added (UTF-8).
    pub bytes: u64,
    /// Passages embedded.
    pub embedded: u64,
    pub seconds: f64,
    /// Where the time went, in seconds of wall clock on the ingesting thread.
    pub timings: IngestTimings,
    /// Links `(copy, original)` found in this run.
    pub duplicate_links: Vec<(String, String)>,
}

/// Wall-clock seconds per ingest stage (they do not overlap on the ingesting thread, but
/// tantivy and rayon work on other threads beside them).
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestTimings {
    /// Reading and parsing files (parallel).
    pub read: f64,
    /// Hashing, chunking and fingerprinting documents (parallel).
    pub prepare: f64,
    /// Near-duplicate lookups and the store's transaction.
    pub store: f64,
    /// Handing passages to the lexical index, and its commit.
    pub index: f64,
    /// Embedding passages and saving vectors.
    pub embed: f64,
}

impl IngestReport {
    /// Text throughput in MB/s.
    pub fn mb_per_s(&self) -> f64 {
        if self.seconds <= 0.0 {
            0.0
        } else {
            self.bytes as f64 / 1e6 / self.seconds
        }
    }
}

enum Input {
    File(PathBuf),
    Url(String),
}

fn is_url(s: &str) -> bool {
    let l = s.trim_start().to_ascii_lowercase();
    l.starts_with("http://")
        || l.starts_with("https://")
        || (l.contains("://") && !Path::new(s).exists())
}

fn failure(e: &IngestError) -> Failure {
    Failure {
        location: e.location().to_string(),
        reason: e.reason_code().to_string(),
        message: e.to_string(),
    }
}

/// A document ready for the store.
struct Prepared {
    doc: Document,
    id: SourceId,
    passages: Vec<(u64, u64, String)>,
    fingerprint: Fingerprint,
}

/// Locality-sensitive index over MinHash sketches, so that finding the syndicated
/// copies of a new source costs a few hash lookups, not a scan of the library.
struct NearDupIndex {
    bands: HashMap<(u8, u64), Vec<usize>>,
    items: Vec<(SourceId, Fingerprint)>,
}

const ROWS_PER_BAND: usize = 3;

fn band_keys(fp: &Fingerprint) -> Vec<(u8, u64)> {
    // Layout documented by `Fingerprint::to_bytes`: magic, shingle count, bucket minima.
    let bytes = fp.to_bytes();
    let mins: Vec<u32> = bytes
        .get(8..)
        .unwrap_or_default()
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    mins.chunks_exact(ROWS_PER_BAND)
        .enumerate()
        .filter(|(_, rows)| !rows.contains(&u32::MAX)) // empty buckets say nothing
        .map(|(i, rows)| {
            let mut h: u64 = 0xcbf2_9ce4_8422_2325;
            for r in rows {
                h = (h ^ u64::from(*r)).wrapping_mul(0x0100_0000_01b3);
            }
            (i as u8, h)
        })
        .collect()
}

impl NearDupIndex {
    fn new() -> Self {
        NearDupIndex {
            bands: HashMap::new(),
            items: Vec::new(),
        }
    }

    fn insert(&mut self, id: SourceId, fp: Fingerprint) {
        let n = self.items.len();
        for key in band_keys(&fp) {
            self.bands.entry(key).or_default().push(n);
        }
        self.items.push((id, fp));
    }

    /// The most similar stored sketch at or above the threshold.
    fn original_of(&self, fp: &Fingerprint) -> Option<SourceId> {
        let mut seen = HashSet::new();
        let mut best: Option<(f32, usize)> = None;
        for key in band_keys(fp) {
            for &i in self.bands.get(&key).map(Vec::as_slice).unwrap_or_default() {
                if !seen.insert(i) {
                    continue;
                }
                let s = self.items[i].1.similarity(fp);
                if s >= verity_ingest::NEAR_DUP_THRESHOLD && best.is_none_or(|(b, _)| s > b) {
                    best = Some((s, i));
                }
            }
        }
        best.map(|(_, i)| self.items[i].0.clone())
    }
}

impl Library {
    /// Ingest files, folders and URLs. Bad inputs are reported in the result and
    /// skipped; the rest goes in. Errors are returned only when the library itself
    /// cannot be written.
    pub fn ingest(
        &self,
        inputs: &[String],
        opts: &IngestOptions,
        progress: &dyn Progress,
    ) -> Result<IngestReport> {
        if self.read_only {
            return Err(EngineError::ReadOnly);
        }
        if inputs.is_empty() {
            return Err(EngineError::NothingToIngest);
        }
        let _w = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let started = Instant::now();
        let mut report = IngestReport::default();
        let mut kind_rules = KindRules::default();
        if let Some(path) = &opts.kind_rules {
            kind_rules.extend(KindRules::from_toml_file(path)?);
        }
        let ropts = ReadOptions {
            max_bytes: opts.max_bytes,
            kind_rules,
        };

        // 1. Expand inputs into files and URLs.
        let mut work = Vec::new();
        for raw in inputs {
            if is_url(raw) {
                work.push(Input::Url(raw.trim().to_string()));
                continue;
            }
            match verity_ingest::walk(Path::new(raw)) {
                Ok(w) => {
                    work.extend(w.files.into_iter().map(Input::File));
                    report
                        .skipped
                        .extend(w.skipped.into_iter().map(|s| Failure {
                            location: s.path.display().to_string(),
                            reason: "skipped".into(),
                            message: s.reason,
                        }));
                }
                Err(e) => report.failed.push(failure(&e)),
            }
        }

        // 2. Read and chunk in parallel, one batch of inputs at a time so memory stays
        //    bounded on large folders.
        let fetch = FetchOptions {
            allow_private: opts.allow_private,
            timeout: opts.fetch_timeout,
            ..FetchOptions::default()
        };
        progress.stage("reading", Some(work.len() as u64));
        let mut neardup = NearDupIndex::new();
        for (id, bytes) in self.store.fingerprints()? {
            if let Some(fp) = Fingerprint::from_bytes(&bytes) {
                neardup.insert(id, fp);
            }
        }
        let mut batch: Vec<Prepared> = Vec::new();
        let mut batch_chars = 0usize;
        let mut in_run: HashSet<SourceId> = HashSet::new();
        const READ_GROUP: usize = 256;
        for group in work.chunks(READ_GROUP) {
            let t = Instant::now();
            let read: Vec<std::result::Result<Document, IngestError>> = group
                .par_iter()
                .map(|input| match input {
                    Input::File(p) => verity_ingest::read_file(p, &ropts),
                    Input::Url(u) => match verity_ingest::fetch_url_all(u, &fetch, &ropts) {
                        Ok(d) => d,
                        Err(e) => vec![Err(e)],
                    },
                })
                .flatten()
                .collect();
            report.timings.read += t.elapsed().as_secs_f64();
            let t = Instant::now();
            // Hash, chunk and fingerprint per document, not per file: one JSONL file can
            // hold the whole corpus.
            let prepared: Vec<std::result::Result<Prepared, IngestError>> = read
                .into_par_iter()
                .map(|d| d.map(|d| prepare(d, opts.attribution.as_deref())))
                .collect();
            report.timings.prepare += t.elapsed().as_secs_f64();
            progress.advance(group.len() as u64);
            for item in prepared {
                let p = match item {
                    Ok(p) => p,
                    Err(e) => {
                        let f = failure(&e);
                        progress.message(&format!("skipped {}: {}", f.location, f.message));
                        report.failed.push(f);
                        continue;
                    }
                };
                if !in_run.insert(p.id.clone()) {
                    report.unchanged += 1;
                    continue;
                }
                batch_chars += p.doc.text.len();
                batch.push(p);
                if batch.len() >= opts.batch_docs || batch_chars >= opts.batch_chars {
                    self.write_batch(
                        std::mem::take(&mut batch),
                        &mut neardup,
                        opts,
                        &mut report,
                        progress,
                    )?;
                    batch_chars = 0;
                }
            }
        }
        self.write_batch(batch, &mut neardup, opts, &mut report, progress)?;
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    fn write_batch(
        &self,
        batch: Vec<Prepared>,
        neardup: &mut NearDupIndex,
        opts: &IngestOptions,
        report: &mut IngestReport,
        progress: &dyn Progress,
    ) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let t = Instant::now();
        let ids: Vec<SourceId> = batch.iter().map(|p| p.id.clone()).collect();
        let existing = self.store.existing(&ids)?;
        let mut new = Vec::with_capacity(batch.len());
        for p in batch {
            if existing.contains(&p.id) {
                report.unchanged += 1;
                continue;
            }
            let duplicate_of = neardup.original_of(&p.fingerprint);
            if let Some(orig) = &duplicate_of {
                report.duplicates += 1;
                report
                    .duplicate_links
                    .push((p.doc.location.clone(), orig.to_string()));
            } else {
                neardup.insert(p.id.clone(), p.fingerprint.clone());
            }
            report.added += 1;
            report.passages += p.passages.len() as u64;
            report.bytes += p.doc.text.len() as u64;
            report.chars += p.doc.text.chars().count() as u64;
            new.push(NewSource {
                id: p.id,
                location: p.doc.location,
                format: p.doc.format,
                meta: p.doc.meta,
                text: p.doc.text,
                passages: p.passages,
                fingerprint: p.fingerprint.to_bytes(),
                duplicate_of,
            });
        }
        report.timings.store += t.elapsed().as_secs_f64();
        if new.is_empty() {
            return Ok(());
        }
        let t = Instant::now();
        let ids: Vec<SourceId> = new.iter().map(|s| s.id.clone()).collect();
        let docs: Vec<IndexDoc<'_>> = new
            .iter()
            .flat_map(|s| {
                s.passages
                    .iter()
                    .enumerate()
                    .map(|(i, (_, _, text))| IndexDoc {
                        id: PassageId {
                            source: s.id.clone(),
                            ordinal: i as u32,
                        },
                        text,
                    })
            })
            .collect();
        // Stage the passages in the lexical index first: tantivy indexes them on its own
        // threads while the store writes. Nothing staged is visible before the commit,
        // which comes after the store holds the sources as `pending`; if the store write
        // fails, the staged work is rolled back.
        self.lexical.add(&docs)?;
        report.timings.index += t.elapsed().as_secs_f64();
        let t = Instant::now();
        if let Err(e) = self.store.put_sources(&new) {
            self.lexical.rollback()?;
            return Err(e.into());
        }
        report.timings.store += t.elapsed().as_secs_f64();
        let t = Instant::now();
        if opts.embed {
            match self.embed_passages(&docs, progress) {
                Ok(n) => report.embedded += n,
                Err(e) => {
                    // The sources stay `pending`; the next open re-indexes them.
                    self.lexical.rollback()?;
                    return Err(e);
                }
            }
        }
        drop(docs);
        drop(new);
        report.timings.embed += t.elapsed().as_secs_f64();
        let t = Instant::now();
        self.lexical.commit()?;
        report.timings.index += t.elapsed().as_secs_f64();
        let t = Instant::now();
        self.store.mark_indexed(&ids)?;
        report.timings.store += t.elapsed().as_secs_f64();
        Ok(())
    }

    /// Add stored sources to every index and commit (recovery). Returns passages embedded.
    pub(crate) fn index_sources(&self, ids: &[SourceId], progress: &dyn Progress) -> Result<u64> {
        let mut passages = Vec::new();
        for id in ids {
            passages.extend(self.store.passages_of(id)?);
        }
        let docs: Vec<IndexDoc<'_>> = passages
            .iter()
            .map(|p| IndexDoc {
                id: p.id.clone(),
                text: &p.text,
            })
            .collect();
        self.lexical.add(&docs)?;
        self.lexical.commit()?;
        self.embed_passages(&docs, progress)
    }

    /// Embed passages and add them to the vector index (saved before returning). Returns
    /// passages embedded; 0 without an embedding model.
    fn embed_passages(&self, docs: &[IndexDoc<'_>], progress: &dyn Progress) -> Result<u64> {
        let (Some(embedder), Some(vectors)) = (&self.embedder, &self.vectors) else {
            return Ok(0);
        };
        progress.stage("embedding", Some(docs.len() as u64));
        let mut items = Vec::with_capacity(docs.len());
        for chunk in docs.chunks(256) {
            let texts: Vec<&str> = chunk.iter().map(|p| p.text).collect();
            let vecs = embedder
                .embed(&texts)
                .map_err(|e| EngineError::Embed(e.to_string()))?;
            items.extend(chunk.iter().map(|p| p.id.clone()).zip(vecs));
            progress.advance(chunk.len() as u64);
        }
        let mut v = vectors.write().unwrap_or_else(|e| e.into_inner());
        v.add(&items)
            .map_err(|e| EngineError::Vectors(e.to_string()))?;
        v.save().map_err(|e| EngineError::Vectors(e.to_string()))?;
        progress.stage("reading", None);
        Ok(items.len() as u64)
    }
}

fn prepare(mut doc: Document, attribution: Option<&str>) -> Prepared {
    if doc.meta.attribution.is_none() {
        doc.meta.attribution = attribution.map(str::to_string);
    }
    let id = SourceId::from_content(&doc.text);
    let passages = verity_ingest::chunk(&doc.text)
        .into_iter()
        .map(|c| (c.start, c.end, c.text))
        .collect();
    let fingerprint = verity_ingest::fingerprint(&doc.text);
    Prepared {
        doc,
        id,
        passages,
        fingerprint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths() {
        assert!(is_url("https://example.org/a"));
        assert!(is_url("HTTP://example.org"));
        assert!(is_url("ftp://example.org/file"));
        assert!(!is_url("notes/report.md"));
    }

    #[test]
    fn near_dup_index_finds_a_copy_and_not_a_stranger() {
        let story = "The harbour board of Port Vellan voted on Tuesday to extend the ferry \
            pier by forty metres, citing growing summer traffic and the need for a second \
            berth for the island service. Work is due to start in March and cost 2.1 million.";
        let copy = format!("Syndicated from the wire. {story} Reporting by staff.");
        let other = "Marrow County's library will open on Sundays from June, the county \
            librarian said, after a petition signed by 900 residents asked for longer hours.";
        let mut idx = NearDupIndex::new();
        idx.insert(SourceId::new("orig"), verity_ingest::fingerprint(story));
        assert_eq!(
            idx.original_of(&verity_ingest::fingerprint(&copy)),
            Some(SourceId::new("orig"))
        );
        assert_eq!(idx.original_of(&verity_ingest::fingerprint(other)), None);
    }
}
