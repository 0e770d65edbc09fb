//! The ingest pipeline: inputs → documents → passages → store → indexes.
//!
//! Files are read and chunked in parallel; everything after that runs in batches, each
//! one written to the store as `pending`, added to the indexes and committed, then
//! marked `indexed`. A crash between those steps is finished by `recover` on the next
//! open, so nothing is ever half-searchable.

use crate::{EngineError, Library, Result};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use verity_index::IndexDoc;
use verity_ingest::{
    FetchOptions, Fingerprint, IngestError, Isolation, KindRules, PdfLimits, ReadOptions,
};
use verity_store::NewSource;
use verity_types::{Document, PassageId, PassageSpan, Progress, SourceId};

/// Knobs for one ingest run.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Allow URLs that resolve to loopback or private addresses.
    pub allow_private: bool,
    /// Largest file or fetched URL body accepted, in bytes; enforced while reading.
    pub max_bytes: u64,
    /// What raises `max_bytes`, named in `too_large` failures (`--max-size-mb` by
    /// default; the server names its own setting).
    pub max_bytes_setting: &'static str,
    /// Extra publisher-kind rules (TOML), on top of the built-in table.
    pub kind_rules: Option<PathBuf>,
    /// Attribution line stored with every source of this run (e.g. a licence).
    pub attribution: Option<String>,
    /// Compute passage vectors when the embedding model is available.
    pub embed: bool,
    /// Sources per commit. When passages are embedded, commits come every
    /// [`EMBED_BATCH_DOCS`] sources at most, so that an interrupted run loses (and the next
    /// open redoes) a minute of embedding, not the whole run.
    pub batch_docs: usize,
    /// Bytes of text per commit.
    pub batch_chars: usize,
    pub fetch_timeout: Duration,
    /// Parse the formats it covers in a worker process with a deadline and a memory cap
    /// (`None`: every parser runs in this process; the CLI and the server turn it on).
    pub isolation: Option<Isolation>,
    /// Caps on PDF expansion and structure (inflated bytes, pages, objects).
    pub pdf: PdfLimits,
    /// Overall deadline: files not yet read when it passes are not read (each is a
    /// `deadline` failure), and what was read before is committed as usual.
    pub deadline: Option<Duration>,
}

/// Most sources per batch when passages are embedded (about a minute of embedding on a
/// 2-core laptop).
pub const EMBED_BATCH_DOCS: usize = 2_000;

/// Sources in the reading thread's first hand-off to the writer (later ones double up to
/// a commit's worth). Far smaller than a commit, so the writer starts after a fraction of
/// a second of parsing, not after a whole commit's worth.
const HANDOFF_DOCS: usize = 2_000;
/// Bytes of text in the first hand-off.
const HANDOFF_BYTES: usize = 4 * 1024 * 1024;
/// How long the writer waits for the next batch, holding staged work and the write lock,
/// before it commits what it has and lets the lock go. Short enough that a file that is
/// slow to parse does not hold up other writers; long enough that a steady reader fills
/// whole commits.
const IDLE_COMMIT: Duration = Duration::from_secs(2);

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            allow_private: false,
            max_bytes: verity_ingest::DEFAULT_MAX_BYTES,
            max_bytes_setting: verity_ingest::MAX_BYTES_SETTING,
            kind_rules: None,
            attribution: None,
            embed: true,
            batch_docs: 16_000,
            batch_chars: 32 * 1024 * 1024,
            fetch_timeout: Duration::from_secs(20),
            isolation: None,
            pdf: PdfLimits::default(),
            deadline: None,
        }
    }
}

/// One input that could not be ingested.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Failure {
    pub location: String,
    /// Stable reason code (`unreadable`, `empty`, `too_large`, `corrupt_pdf`, ...).
    pub reason: String,
    pub message: String,
}

/// What an ingest run did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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

/// Wall-clock seconds per ingest stage. Reading and preparing run on the calling thread,
/// storing and indexing on a writer thread beside it (and tantivy and rayon on threads of
/// their own), so the stages overlap and may add up to more than the run's seconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IngestTimings {
    /// Reading and parsing files (parallel).
    pub read: f64,
    /// Hashing, chunking and fingerprinting documents (parallel).
    pub prepare: f64,
    /// Near-duplicate lookups and the store's transaction, side by side with handing the
    /// passages to the lexical index (tantivy indexes them on its own threads).
    pub store: f64,
    /// The lexical index's commit (finishing and writing its segments).
    pub index: f64,
    /// Embedding passages and saving vectors.
    pub embed: f64,
}

impl IngestReport {
    /// Add the counts of `other` (the writer's share of a run) to this one.
    pub(crate) fn absorb(&mut self, other: IngestReport) {
        self.added += other.added;
        self.unchanged += other.unchanged;
        self.duplicates += other.duplicates;
        self.failed.extend(other.failed);
        self.skipped.extend(other.skipped);
        self.passages += other.passages;
        self.chars += other.chars;
        self.bytes += other.bytes;
        self.embedded += other.embedded;
        self.timings.read += other.timings.read;
        self.timings.prepare += other.timings.prepare;
        self.timings.store += other.timings.store;
        self.timings.index += other.timings.index;
        self.timings.embed += other.timings.embed;
        self.duplicate_links.extend(other.duplicate_links);
    }

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

impl Input {
    fn location(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Url(u) => u.clone(),
        }
    }
}

/// Whether an ingest input names a URL rather than a path: an http(s) URL, or any other
/// `scheme://` that is not an existing file (so the fetcher can say the scheme is not
/// supported, rather than the walker saying no such file).
pub(crate) fn is_url_input(s: &str) -> bool {
    verity_ingest::is_url(s) || (s.contains("://") && !Path::new(s).exists())
}

fn failure(e: &IngestError) -> Failure {
    Failure {
        location: e.location().to_string(),
        reason: e.reason_code().to_string(),
        message: e.to_string(),
    }
}

/// What the reading thread hands the writer, in order.
enum ToWriter {
    /// Prepared sources to store and stage in the indexes (committed with the next commit).
    Batch(Vec<Prepared>),
    /// This many inputs have been read (for progress).
    Read(u64),
}

/// Sources stored as `pending` and staged in the lexical index since the last commit.
#[derive(Default)]
struct Staged {
    ids: Vec<SourceId>,
    /// Bytes of their text.
    bytes: usize,
    /// Their passages were embedded: commit before the next batch.
    embedded: bool,
}

/// A document ready for the store.
struct Prepared {
    doc: Document,
    id: SourceId,
    passages: Vec<PassageSpan>,
    fingerprint: Fingerprint,
    /// Characters of text (counted here, in parallel, not on the writer thread).
    chars: u64,
}

/// Locality-sensitive index over MinHash sketches, so that finding the syndicated
/// copies of a new source costs a few hash lookups, not a scan of the library.
///
/// Each LSH key maps to a chain of the sketches that have it, kept as links in one vector
/// (no allocation per key: a library has tens of keys per source).
struct NearDupIndex {
    heads: FxHashMap<u64, u32>,
    /// `(item, next link)`; `u32::MAX` ends a chain.
    links: Vec<(u32, u32)>,
    items: Vec<(SourceId, Fingerprint)>,
}

const END: u32 = u32::MAX;

/// An indexed sketch (by position) and its similarity to the one looked up.
type Match = (usize, f32);

impl NearDupIndex {
    fn new() -> Self {
        NearDupIndex {
            heads: FxHashMap::default(),
            links: Vec::new(),
            items: Vec::new(),
        }
    }

    fn insert(&mut self, id: SourceId, fp: Fingerprint) {
        let keys = fp.lsh_keys();
        self.insert_keyed(id, fp, &keys);
    }

    fn insert_keyed(&mut self, id: SourceId, fp: Fingerprint, keys: &[u64]) {
        let item = self.items.len() as u32;
        for &key in keys {
            let link = self.links.len() as u32;
            let head = self.heads.entry(key).or_insert(END);
            self.links.push((item, *head));
            *head = link;
        }
        self.items.push((id, fp));
    }

    /// The most similar sketch at or above the threshold among items `from..`, with its
    /// similarity.
    fn best_match(&self, fp: &Fingerprint, keys: &[u64], from: usize) -> Option<Match> {
        let mut candidates = Vec::new();
        for key in keys {
            let mut link = self.heads.get(key).copied().unwrap_or(END);
            while let Some(&(item, next)) = self.links.get(link as usize) {
                if item as usize >= from {
                    candidates.push(item);
                }
                link = next;
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut best: Option<Match> = None;
        for i in candidates {
            let s = self.items[i as usize].1.similarity(fp);
            if s >= verity_ingest::NEAR_DUP_THRESHOLD && best.is_none_or(|(_, b)| s > b) {
                best = Some((i as usize, s));
            }
        }
        best
    }

    /// The most similar stored sketch at or above the threshold.
    #[cfg(test)]
    fn original_of(&self, fp: &Fingerprint) -> Option<SourceId> {
        self.best_match(fp, &fp.lsh_keys(), 0)
            .map(|(i, _)| self.items[i].0.clone())
    }
}

/// Find the original of each fingerprint in a batch, in order, and add the batch's
/// originals to `index`. Matches against the library run in parallel (the index does not
/// change while it is read); matches against earlier sources of the same batch follow one
/// by one. Returns one `Some(original)` per syndicated copy.
fn link_near_duplicates(
    index: &mut NearDupIndex,
    batch: &[(&SourceId, &Fingerprint)],
) -> Vec<Option<SourceId>> {
    let before = index.items.len();
    // Per source: its LSH keys and its best match in the library.
    let found: Vec<(Vec<u64>, Option<Match>)> = batch
        .par_iter()
        .map(|(_, fp)| {
            let keys = fp.lsh_keys();
            let best = index.best_match(fp, &keys, 0);
            (keys, best)
        })
        .collect();
    let mut out = Vec::with_capacity(batch.len());
    for ((id, fp), (keys, in_library)) in batch.iter().zip(found) {
        let best = match (in_library, index.best_match(fp, &keys, before)) {
            (Some(a), Some(b)) => Some(if b.1 > a.1 { b } else { a }),
            (a, b) => a.or(b),
        };
        match best {
            Some((i, _)) => out.push(Some(index.items[i].0.clone())),
            None => {
                index.insert_keyed((*id).clone(), (*fp).clone(), &keys);
                out.push(None);
            }
        }
    }
    out
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
        // No lock here: reading and parsing run unlocked, so a slow or stuck file never
        // blocks another writer. The writer thread takes the library's write lock for each
        // stage-and-commit cycle only (see `write_all`).
        let started = Instant::now();
        let mut report = IngestReport::default();
        let mut kind_rules = KindRules::default();
        if let Some(path) = &opts.kind_rules {
            kind_rules.extend(KindRules::from_toml_file(path)?);
        }
        let ropts = ReadOptions {
            max_bytes: opts.max_bytes,
            max_bytes_setting: opts.max_bytes_setting,
            kind_rules,
            isolation: opts.isolation.clone(),
            pdf: opts.pdf.clone(),
        };

        // 1. Expand inputs into files and URLs.
        let mut work = Vec::new();
        for raw in inputs {
            if is_url_input(raw) {
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
        // One size cap for files and URLs, named by the same setting.
        let fetch = FetchOptions {
            allow_private: opts.allow_private,
            timeout: opts.fetch_timeout,
            max_bytes: opts.max_bytes,
            max_bytes_setting: opts.max_bytes_setting,
            ..FetchOptions::default()
        };
        progress.stage("reading", Some(work.len() as u64));
        let mut neardup = NearDupIndex::new();
        for (id, bytes) in self.store.fingerprints()? {
            if let Some(fp) = Fingerprint::from_bytes(&bytes) {
                neardup.insert(id, fp);
            }
        }
        // 3. Write batches on a writer thread while this one reads and prepares the next:
        //    the store and the index never wait for parsing, nor parsing for a commit.
        let (to_writer, batches) = std::sync::mpsc::sync_channel::<ToWriter>(1);
        let written = std::thread::scope(|scope| {
            let writer = scope.spawn(move || -> Result<IngestReport> {
                let mut written = IngestReport::default();
                self.write_all(batches, &mut neardup, opts, &mut written, progress)?;
                Ok(written)
            });
            self.read_and_prepare(
                &work,
                &ropts,
                &fetch,
                opts,
                &mut report,
                progress,
                to_writer,
            );
            writer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })?;
        report.absorb(written);
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// The writer thread: store and stage each batch, committing every
    /// `opts.batch_docs` sources (or bytes), after each embedded batch, when the reader
    /// has sent nothing for [`IDLE_COMMIT`], and at the end.
    ///
    /// The library's write lock is held from the first batch staged after a commit to the
    /// next commit, never while waiting for the reader: parsing runs unlocked, and a file
    /// that takes long to parse holds up no other writer (a second ingest, a removal).
    fn write_all(
        &self,
        batches: std::sync::mpsc::Receiver<ToWriter>,
        neardup: &mut NearDupIndex,
        opts: &IngestOptions,
        written: &mut IngestReport,
        progress: &dyn Progress,
    ) -> Result<()> {
        use std::sync::mpsc::RecvTimeoutError;
        let mut staged = Staged::default();
        let mut lock = None;
        loop {
            let wait = if lock.is_some() {
                IDLE_COMMIT
            } else {
                Duration::MAX
            };
            let msg = match batches.recv_timeout(wait) {
                Ok(msg) => msg,
                Err(RecvTimeoutError::Timeout) => {
                    self.commit_or_roll_back(&mut staged, written)?;
                    lock = None;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let batch = match msg {
                ToWriter::Batch(batch) => batch,
                ToWriter::Read(n) => {
                    progress.advance(n);
                    continue;
                }
            };
            if lock.is_none() {
                lock = Some(self.write_lock.lock().unwrap_or_else(|e| e.into_inner()));
            }
            let result = self.write_batch(batch, neardup, opts, written, &mut staged, progress);
            if let Err(e) = result {
                self.roll_back_staged()?;
                return Err(e);
            }
            // Embedded batches commit at once (see `EMBED_BATCH_DOCS`).
            if staged.embedded
                || staged.ids.len() >= opts.batch_docs
                || staged.bytes >= opts.batch_chars
            {
                self.commit_or_roll_back(&mut staged, written)?;
                lock = None;
            }
        }
        self.commit_or_roll_back(&mut staged, written)?;
        drop(lock);
        Ok(())
    }

    /// [`Library::commit_staged`], undoing the staged work when it fails.
    fn commit_or_roll_back(&self, staged: &mut Staged, report: &mut IngestReport) -> Result<()> {
        let result = self.commit_staged(staged, report);
        if result.is_err() {
            self.roll_back_staged()?;
        }
        result
    }

    /// The one place a failed write is undone: nothing staged since the last commit may
    /// reach the index later. Its sources are `pending` in the store, and the next open
    /// re-indexes them. Called with the write lock held.
    fn roll_back_staged(&self) -> Result<()> {
        Ok(self.lexical.rollback()?)
    }

    /// Read inputs (in parallel, a group of files at a time so memory stays bounded on
    /// large folders), prepare their documents (in parallel, a chunk at a time, so the
    /// writer starts early even on one big JSONL file) and hand batches to the writer.
    /// Stops early if the writer has stopped (its error is the run's).
    #[allow(clippy::too_many_arguments)]
    fn read_and_prepare(
        &self,
        work: &[Input],
        ropts: &ReadOptions,
        fetch: &FetchOptions,
        opts: &IngestOptions,
        report: &mut IngestReport,
        progress: &dyn Progress,
        to_writer: std::sync::mpsc::SyncSender<ToWriter>,
    ) {
        const READ_GROUP: usize = 256;
        const PREPARE_CHUNK: usize = 4096;
        let started = Instant::now();
        // Hand-offs start small, so the writer starts early, and double up to a commit's
        // size, so the store writes few large transactions.
        let max_docs = if opts.embed && self.embedder.is_some() {
            opts.batch_docs.min(EMBED_BATCH_DOCS)
        } else {
            opts.batch_docs
        };
        let mut batch_docs = max_docs.min(HANDOFF_DOCS);
        let mut batch_bytes = opts.batch_chars.min(HANDOFF_BYTES);
        let mut batch: Vec<Prepared> = Vec::new();
        let mut batch_chars = 0usize;
        let mut in_run: HashSet<SourceId> = HashSet::new();
        for group in work.chunks(READ_GROUP) {
            let t = Instant::now();
            let read: Vec<std::result::Result<Document, IngestError>> = group
                .par_iter()
                .map(
                    |input| match (input, past_deadline(started, opts.deadline)) {
                        (_, Some(e)) => vec![Err(e(input.location()))],
                        (Input::File(p), None) => verity_ingest::read_file(p, ropts),
                        (Input::Url(u), None) => {
                            match verity_ingest::fetch_url_all(u, fetch, ropts) {
                                Ok(d) => d,
                                Err(e) => vec![Err(e)],
                            }
                        }
                    },
                )
                .flatten()
                .collect();
            report.timings.read += t.elapsed().as_secs_f64();
            let mut read = read.into_iter();
            loop {
                // Hash, chunk and fingerprint per document, not per file: one JSONL file
                // can hold the whole corpus.
                let t = Instant::now();
                let chunk: Vec<_> = read.by_ref().take(PREPARE_CHUNK).collect();
                if chunk.is_empty() {
                    break;
                }
                let prepared: Vec<std::result::Result<Prepared, IngestError>> = chunk
                    .into_par_iter()
                    .map(|d| d.map(|d| prepare(d, opts.attribution.as_deref())))
                    .collect();
                report.timings.prepare += t.elapsed().as_secs_f64();
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
                    if batch.len() >= batch_docs || batch_chars >= batch_bytes {
                        let full = ToWriter::Batch(std::mem::take(&mut batch));
                        batch_chars = 0;
                        batch_docs = (batch_docs * 2).min(max_docs);
                        batch_bytes = (batch_bytes * 2).min(opts.batch_chars);
                        if to_writer.send(full).is_err() {
                            return; // the writer failed; it reports why
                        }
                    }
                }
            }
            if to_writer.send(ToWriter::Read(group.len() as u64)).is_err() {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = to_writer.send(ToWriter::Batch(batch));
        }
    }

    /// Store a batch (as `pending`), stage its passages in the lexical index and, when
    /// embedding, embed them; the commit comes later, from [`Library::commit_staged`].
    fn write_batch(
        &self,
        batch: Vec<Prepared>,
        neardup: &mut NearDupIndex,
        opts: &IngestOptions,
        report: &mut IngestReport,
        staged: &mut Staged,
        progress: &dyn Progress,
    ) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let t = Instant::now();
        let ids: Vec<SourceId> = batch.iter().map(|p| p.id.clone()).collect();
        let existing = self.store.existing(&ids)?;
        let batch: Vec<Prepared> = batch
            .into_iter()
            .filter(|p| {
                let stored = existing.contains(&p.id);
                report.unchanged += u64::from(stored);
                !stored
            })
            .collect();
        report.timings.store += t.elapsed().as_secs_f64();
        if batch.is_empty() {
            return Ok(());
        }
        let t = Instant::now();
        let prints: Vec<(&SourceId, &Fingerprint)> =
            batch.iter().map(|p| (&p.id, &p.fingerprint)).collect();
        let originals = link_near_duplicates(neardup, &prints);
        drop(prints);
        let mut new = Vec::with_capacity(batch.len());
        for (p, duplicate_of) in batch.into_iter().zip(originals) {
            if let Some(orig) = &duplicate_of {
                report.duplicates += 1;
                report
                    .duplicate_links
                    .push((p.doc.location.clone(), orig.to_string()));
            }
            report.added += 1;
            report.passages += p.passages.len() as u64;
            report.bytes += p.doc.text.len() as u64;
            report.chars += p.chars;
            // Staged for the next commit (an error below ends the run before any commit).
            staged.bytes += p.doc.text.len();
            staged.ids.push(p.id.clone());
            new.push(NewSource {
                id: p.id,
                location: p.doc.location,
                format: p.doc.format,
                meta: p.doc.meta,
                text: p.doc.text,
                passages: p.passages,
                fingerprint: p.fingerprint.to_bytes(),
                duplicate_of,
                ingested_at: None,
            });
        }
        let docs = index_docs(
            new.iter()
                .map(|s| (&s.id, s.text.as_str(), s.passages.as_slice())),
        );
        // The lexical index takes the passages on one thread while the store writes them on
        // this one, so tantivy's indexing threads and SQLite work side by side. Nothing
        // staged in the index is visible before its commit, which comes after the store
        // holds the sources as `pending`; if either side fails, the writer rolls the staged
        // work back (see `ingest`) and sources already stored stay `pending` until the next
        // open re-indexes them.
        let (added, stored) = std::thread::scope(|scope| {
            let staging = scope.spawn(|| self.lexical.add(&docs));
            let stored = self.store.put_sources(&new);
            let added = staging
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (added, stored)
        });
        added
            .map_err(EngineError::from)
            .and(stored.map_err(EngineError::from))?;
        report.timings.store += t.elapsed().as_secs_f64();
        let t = Instant::now();
        if opts.embed {
            // On an error the sources stay `pending`; the next open re-indexes them.
            let n = self.embed_passages(&docs, progress)?;
            report.embedded += n;
            staged.embedded |= n > 0;
        }
        drop(docs);
        drop(new);
        report.timings.embed += t.elapsed().as_secs_f64();
        Ok(())
    }

    /// Commit what [`Library::write_batch`] staged and mark its sources `indexed`. If the
    /// commit fails, the sources stay `pending` and the next open re-indexes them.
    fn commit_staged(&self, staged: &mut Staged, report: &mut IngestReport) -> Result<()> {
        if staged.ids.is_empty() {
            return Ok(());
        }
        let t = Instant::now();
        self.lexical.commit()?;
        report.timings.index += t.elapsed().as_secs_f64();
        let t = Instant::now();
        self.store.mark_indexed(&staged.ids)?;
        report.timings.store += t.elapsed().as_secs_f64();
        *staged = Staged::default();
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
            let vecs = embed_pool()
                .map_or_else(
                    || embedder.embed(&texts),
                    |p| p.install(|| embedder.embed(&texts)),
                )
                .map_err(EngineError::from)?;
            items.extend(chunk.iter().map(|p| p.id.clone()).zip(vecs));
            progress.advance(chunk.len() as u64);
        }
        vectors
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .add(&items)
            .map_err(EngineError::from)?;
        // Saved under a read lock: searches go on while the index is written to disk
        // (only holders of the library's write lock, like this ingest, ever save).
        vectors
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .save()
            .map_err(EngineError::from)?;
        progress.stage("reading", None);
        Ok(items.len() as u64)
    }
}

/// The threads that embed an ingest's passages: a pool of their own, so that a search's
/// parallel work (the vector scan) never queues behind an embedding batch in the shared
/// pool; the two share the cores through the OS scheduler instead. `None` (the shared
/// pool is used) if the threads cannot be started.
fn embed_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("verity-embed-{i}"))
            .start_handler(|_| yield_to_searches())
            .build()
            .ok()
    })
    .as_ref()
}

/// Lower this thread's scheduling priority (nice +10), so a server's searches come first
/// and an ingest runs on the CPU time they leave. On Linux niceness is per thread.
#[cfg(target_os = "linux")]
fn yield_to_searches() {
    // SAFETY: `nice` only changes the calling thread's scheduling priority; it takes no
    // pointers and touches no memory. A failure (-1 with errno) only leaves the priority
    // as it was, which is harmless.
    #[allow(unsafe_code)]
    unsafe {
        libc::nice(10);
    }
}

#[cfg(not(target_os = "linux"))]
fn yield_to_searches() {}

/// When the run that started at `started` is past its deadline: the failure for an input
/// not read because of it.
fn past_deadline(
    started: Instant,
    deadline: Option<Duration>,
) -> Option<impl Fn(String) -> IngestError> {
    let limit = deadline.filter(|d| started.elapsed() >= *d)?;
    Some(move |location| IngestError::DeadlinePassed {
        location,
        seconds: limit.as_secs(),
    })
}

/// Passages as the indexes take them, sliced from `(source, text, spans)`.
fn index_docs<'a>(
    sources: impl Iterator<Item = (&'a SourceId, &'a str, &'a [PassageSpan])>,
) -> Vec<IndexDoc<'a>> {
    sources
        .flat_map(|(source, text, passages)| {
            passages.iter().enumerate().map(move |(i, span)| IndexDoc {
                id: PassageId {
                    source: source.clone(),
                    ordinal: i as u32,
                },
                text: span.text(text),
            })
        })
        .collect()
}

fn prepare(mut doc: Document, attribution: Option<&str>) -> Prepared {
    if doc.meta.attribution.is_none() {
        doc.meta.attribution = attribution.map(str::to_string);
    }
    let id = SourceId::from_content(&doc.text);
    // Spans only: the passages' text stays in the document's, sliced when indexed.
    let passages = verity_ingest::chunk(&doc.text)
        .iter()
        .map(|c| c.span())
        .collect();
    let fingerprint = verity_ingest::fingerprint(&doc.text);
    let chars = doc.text.chars().count() as u64;
    Prepared {
        doc,
        id,
        passages,
        fingerprint,
        chars,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_told_from_paths() {
        assert!(is_url_input("https://example.org/a"));
        assert!(is_url_input("HTTP://example.org"));
        assert!(is_url_input("ftp://example.org/file"));
        assert!(!is_url_input("notes/report.md"));
    }

    #[test]
    fn a_batch_links_copies_of_the_library_and_of_itself() {
        let pier = "The harbour board of Port Vellan voted on Tuesday to extend the ferry pier \
            by forty metres, citing growing summer traffic and the need for a second berth for \
            the island service. Work is due to start in March.";
        let school = "Kellbridge's school board closed the east wing after inspectors found \
            damp in three classrooms; pupils will be taught in the town hall until the roof \
            is repaired, which the board expects to take most of the spring term.";
        let mut idx = NearDupIndex::new();
        idx.insert(SourceId::new("lib"), verity_ingest::fingerprint(pier));
        let texts = [
            format!("Wire copy. {pier}"),
            school.to_string(),
            "Marrow County's library will open on Sundays from June, the librarian said.".into(),
            format!("{school} Reporting by staff."),
        ];
        let ids: Vec<SourceId> = (0..texts.len())
            .map(|i| SourceId::new(format!("b{i}")))
            .collect();
        let prints: Vec<Fingerprint> = texts
            .iter()
            .map(|t| verity_ingest::fingerprint(t))
            .collect();
        let batch: Vec<(&SourceId, &Fingerprint)> = ids.iter().zip(&prints).collect();
        let got = link_near_duplicates(&mut idx, &batch);
        assert_eq!(
            got,
            vec![
                Some(SourceId::new("lib")),
                None,
                None,
                Some(SourceId::new("b1"))
            ]
        );
        // Originals of the batch are indexed for the next one; copies are not.
        assert_eq!(idx.items.len(), 3);
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
