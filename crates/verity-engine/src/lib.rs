//! Verity's library API.
//!
//! A [`Library`] is a directory on disk holding a document store (SQLite), a BM25 index
//! (tantivy), optionally passage vectors, and the models it found. The `verity` CLI and
//! `verity serve` are thin shells over this type: every feature is a method here.
//!
//! ```no_run
//! use verity_engine::{Library, LibraryOptions, IngestOptions};
//! use verity_types::{NoProgress, SearchRequest};
//! let lib = Library::open(LibraryOptions::new("./verity-data"))?;
//! let report = lib.ingest(&["notes/".to_string()], &IngestOptions::default(), &NoProgress)?;
//! println!("added {}", report.added);
//! for hit in lib.search(&SearchRequest::new("flood barrier cost", 5))? {
//!     println!("{} {}", hit.score, hit.passage.text);
//! }
//! # Ok::<(), verity_engine::EngineError>(())
//! ```

mod brief;
mod checks;
mod diff;
pub mod eval;
mod follow;
mod ingest;
mod ingest_job;
mod llm;
mod migrate;
mod models;
mod queue;
mod recover;

/// Test support for crates above the engine: a fresh PostgreSQL schema per test
/// (`VERITY_TEST_PG`), so that their tests need not depend on the store crate.
pub mod testing {
    pub use verity_store::testing::{fresh_pg, TestDb, REQUIRE_PG_ENV, TEST_PG_ENV};
}

pub use checks::{
    Check, CheckId, CheckOptions, CheckStatus, CheckSummary, Request, MAX_INPUT_CHARS,
};
pub use diff::{BriefDiff, DiffSource};
pub use follow::Readiness;
pub use ingest::{Failure, IngestOptions, IngestReport, IngestTimings, EMBED_BATCH_DOCS};
pub use ingest_job::{IngestJobStatus, IngestSpec, INGEST_JOB, JOB_BATCH_DOCS};
pub use llm::{
    LlmOptions, DEFAULT_LLM_MODEL, LLM_CLAIMS_ENV, LLM_KEY_ENV_ENV, LLM_MAX_TOKENS_ENV,
    LLM_MODEL_ENV, LLM_STREAM_ENV, LLM_TIMEOUT_ENV, LLM_URL_ENV,
};
pub use migrate::{copy_library, CopyReport};
pub use models::ModelsMode;
pub use queue::{
    JobMetrics, JobOutcome, JobProgress, JobRun, JobStatus, WorkerOptions, CHECK_JOB,
    DEFAULT_LEASE, LATENCY_BUCKETS, LEASE_ENV,
};
pub use verity_compose::{Brief, Mode};
pub use verity_ingest::PdfLimits;
pub use verity_ingest::{
    serve_worker as serve_parse_worker, Isolation, IsolationScope, DEFAULT_PARSE_MEMORY,
    DEFAULT_PARSE_TIMEOUT,
};
pub use verity_models::{InstalledModel, ModelDir};
pub use verity_retrieve::DEFAULT_DENSE_WEIGHT;
pub use verity_store::{JobFile, QueueDepth, MAX_JOB_ATTEMPTS};
pub use verity_types::ErrorCode;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use verity_embed::Embedder;
use verity_index::{LexicalIndex, TantivyIndex};
use verity_judge::StanceModel;
use verity_retrieve::{Dense, Retriever};
use verity_store::{Store, StoreLocation};
use verity_types::{SearchHit, SearchMode, SearchRequest, Source, SourceId};
use verity_vectors::VectorIndex;

/// Environment variable naming the data directory.
pub const DATA_ENV: &str = "VERITY_DATA";
/// Environment variable naming the store (a `postgres://` URL); unset: SQLite.
pub const STORE_ENV: &str = "VERITY_STORE";
/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "verity-data";

/// Everything that can stop an engine call. Each variant classifies what went wrong;
/// [`EngineError::code`] maps it to the stable [`ErrorCode`] that the CLI (exit status,
/// hint) and the server (HTTP status, `{code, message, hint}`) answer with.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("could not create the data directory `{path}`: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] verity_store::StoreError),
    #[error(transparent)]
    Index(#[from] verity_index::IndexError),
    #[error(transparent)]
    Retrieve(#[from] verity_retrieve::RetrieveError),
    #[error(transparent)]
    Ingest(#[from] verity_ingest::IngestError),
    #[error(transparent)]
    Vectors(#[from] verity_vectors::VectorError),
    #[error("embedding failed: {0}")]
    Embed(#[from] verity_embed::EmbedError),
    #[error("could not compose the brief: {0}")]
    Compose(#[from] verity_compose::ComposeError),
    #[error("the language model is not set up: {0}")]
    Llm(#[from] verity_compose::LlmError),
    #[error("no source with id `{0}` in this library; `verity sources` lists them")]
    UnknownSource(String),
    #[error("`{prefix}` matches {matches} {what}; give more of the id")]
    AmbiguousId {
        prefix: String,
        matches: usize,
        /// What the ids name: `sources` or `checks`.
        what: &'static str,
    },
    #[error("no check with id `{0}` in this library's history")]
    UnknownCheck(String),
    #[error(
        "check `{id}` is {status}, not done; only a finished check has a brief to show or compare"
    )]
    CheckNotDone { id: String, status: CheckStatus },
    #[error("the question or claim is empty")]
    EmptyInput,
    #[error("the question or claim is longer than {max} characters")]
    InputTooLong { max: usize },
    #[error("nothing to ingest: give files, folders or http(s) URLs")]
    NothingToIngest,
    #[error("the library is empty: ingest some sources first (`verity ingest PATH`)")]
    EmptyLibrary,
    #[error("no library in `{0}` (it holds no library.sqlite); give the --data directory of an existing library")]
    NoLibrary(String),
    #[error("this library is open read-only")]
    ReadOnly,
    #[error("the stored {what} `{id}` is unreadable: {detail}")]
    BadRecord {
        what: &'static str,
        id: String,
        detail: String,
    },
    #[error("the job queue is full ({queued} waiting)")]
    QueueFull { queued: u64 },
    #[error(
        "no ingest job with id `{0}`; POST /api/sources answers with the id of the job it queued"
    )]
    UnknownJob(String),
    #[error("`{name}` is {bytes} bytes, over the {max}-byte limit of a queued ingest; split it into smaller files")]
    FileTooLarge { name: String, bytes: u64, max: u64 },
    #[error("a shared job queue needs a PostgreSQL store; this library is the SQLite file in its data directory")]
    NoSharedQueue,
    #[error("could not serialise the {what}: {source}")]
    Serialize {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

fn io_code(e: &std::io::Error) -> ErrorCode {
    // ENOSPC and EDQUOT; `ErrorKind::StorageFull` is not stable on every toolchain.
    match e.raw_os_error() {
        Some(28 | 122) => ErrorCode::DiskFull,
        _ => ErrorCode::IoError,
    }
}

fn store_code(e: &verity_store::StoreError) -> ErrorCode {
    use verity_store::StoreError;
    if e.is_bad_url() {
        ErrorCode::StoreUrlInvalid
    } else if e.is_unavailable() {
        ErrorCode::StoreUnavailable
    } else if e.is_disk_full() {
        ErrorCode::DiskFull
    } else if e.is_corrupt() {
        ErrorCode::StoreCorrupt
    } else if e.is_busy() {
        ErrorCode::IndexLocked
    } else if matches!(e, StoreError::SchemaTooNew { .. }) {
        ErrorCode::LibraryTooNew
    } else if e.is_io() {
        ErrorCode::IoError
    } else {
        ErrorCode::Internal
    }
}

fn index_code(e: &verity_index::IndexError) -> ErrorCode {
    use verity_index::IndexError;
    match e {
        IndexError::Locked { .. } => ErrorCode::IndexLocked,
        IndexError::Open { .. } => ErrorCode::IndexCorrupt,
        _ => ErrorCode::Internal,
    }
}

fn vector_code(e: &verity_vectors::VectorError) -> ErrorCode {
    use verity_vectors::VectorError;
    match e {
        VectorError::Corrupt { .. } | VectorError::NotFound { .. } => ErrorCode::IndexCorrupt,
        VectorError::ModelMismatch { .. } => ErrorCode::ModelMissing,
        VectorError::Io { source, .. } => io_code(source),
        _ => ErrorCode::ModelFailed,
    }
}

impl EngineError {
    /// The stable code this error answers with.
    pub fn code(&self) -> ErrorCode {
        use verity_ingest::IngestError;
        use verity_retrieve::RetrieveError;
        match self {
            EngineError::DataDir { source, .. } => io_code(source),
            EngineError::Store(e) => store_code(e),
            EngineError::Index(e) => index_code(e),
            EngineError::Retrieve(e) => match e {
                RetrieveError::Store(e) => store_code(e),
                RetrieveError::Index(e) => index_code(e),
                RetrieveError::NoVectors => ErrorCode::ModelMissing,
                RetrieveError::Dense(_) => ErrorCode::ModelFailed,
            },
            EngineError::Ingest(e) => match e {
                IngestError::RefusedPrivate { .. } | IngestError::BadUrl { .. } => {
                    ErrorCode::UrlRefused
                }
                IngestError::BadRules { .. } => ErrorCode::InvalidRequest,
                IngestError::Unsupported { .. } => ErrorCode::UnsupportedType,
                _ => ErrorCode::IngestFailed,
            },
            EngineError::Vectors(e) => vector_code(e),
            EngineError::Embed(_) => ErrorCode::ModelFailed,
            EngineError::Compose(e) => match e {
                verity_compose::ComposeError::EmptyInput => ErrorCode::InvalidRequest,
                verity_compose::ComposeError::Search { .. } => ErrorCode::Internal,
                verity_compose::ComposeError::Writer { source, .. } => llm_code(source),
                _ => ErrorCode::ModelFailed,
            },
            EngineError::Llm(e) => llm_code(e),
            EngineError::UnknownSource(_) => ErrorCode::SourceNotFound,
            EngineError::AmbiguousId { .. } => ErrorCode::AmbiguousId,
            EngineError::UnknownCheck(_) => ErrorCode::CheckNotFound,
            EngineError::CheckNotDone { .. } => ErrorCode::CheckNotDone,
            EngineError::EmptyInput | EngineError::InputTooLong { .. } => ErrorCode::InvalidRequest,
            EngineError::NothingToIngest => ErrorCode::NothingToIngest,
            EngineError::EmptyLibrary | EngineError::NoLibrary(_) => ErrorCode::EmptyLibrary,
            EngineError::ReadOnly => ErrorCode::ReadOnly,
            EngineError::BadRecord { .. } => ErrorCode::StoreCorrupt,
            EngineError::Serialize { .. } => ErrorCode::Internal,
            EngineError::QueueFull { .. } => ErrorCode::QueueFull,
            EngineError::NoSharedQueue => ErrorCode::NoSharedQueue,
            EngineError::UnknownJob(_) => ErrorCode::JobNotFound,
            EngineError::FileTooLarge { .. } => ErrorCode::PayloadTooLarge,
        }
    }

    /// What to do next (the code's hint).
    pub fn hint(&self) -> &'static str {
        self.code().hint()
    }
}

/// The code of a language-model failure.
fn llm_code(e: &verity_compose::LlmError) -> ErrorCode {
    use verity_compose::LlmError;
    match e {
        LlmError::BadUrl { .. } | LlmError::MissingKey { .. } => ErrorCode::LlmConfigInvalid,
        LlmError::BadAnswer { .. } => ErrorCode::LlmBadAnswer,
        e if e.is_transient() => ErrorCode::LlmUnavailable,
        _ => ErrorCode::LlmRefused,
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// Fewest characters of an id that [`Library::resolve_id`] and
/// [`Library::resolve_check_id`] take as a prefix.
pub const MIN_ID_PREFIX: usize = 4;

/// The one rule for ids typed by hand (`verity remove`, `verity checks show`): the full
/// id, else the one id that starts with `raw` when `raw` has at least [`MIN_ID_PREFIX`]
/// characters. `Ok(None)`: nothing matches; several matches are an
/// [`EngineError::AmbiguousId`] over `what`.
fn unique_prefix<'a>(
    raw: &str,
    ids: impl Iterator<Item = &'a str>,
    what: &'static str,
) -> Result<Option<String>> {
    let raw = raw.trim();
    let mut matches = Vec::new();
    for id in ids {
        if id == raw {
            return Ok(Some(id.to_string()));
        }
        if raw.len() >= MIN_ID_PREFIX && id.starts_with(raw) {
            matches.push(id);
        }
    }
    match matches.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.to_string())),
        many => Err(EngineError::AmbiguousId {
            prefix: raw.to_string(),
            matches: many.len(),
            what,
        }),
    }
}

/// How to open a library.
#[derive(Debug, Clone)]
pub struct LibraryOptions {
    pub data_dir: PathBuf,
    pub models: ModelsMode,
    /// Refuse writes (ingest, remove).
    pub read_only: bool,
    /// Where the models are; `None`: `$VERITY_MODELS`, else `<data_dir>/models`.
    pub models_dir: Option<PathBuf>,
    /// The store: a `postgres://` URL ([`STORE_ENV`], `--store`); `None`: the SQLite
    /// file `library.sqlite` in `data_dir`. Indexes and vectors stay in `data_dir`.
    pub store: Option<String>,
}

impl LibraryOptions {
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        LibraryOptions {
            data_dir: data_dir.into(),
            models: ModelsMode::Auto,
            read_only: false,
            models_dir: None,
            store: None,
        }
    }
}

/// An open library. Cheap to share between threads (`Arc<Library>`); writes are
/// serialised internally.
pub struct Library {
    dir: PathBuf,
    read_only: bool,
    store: Box<dyn Store>,
    lexical: Box<dyn LexicalIndex>,
    vectors: Option<RwLock<Box<dyn VectorIndex>>>,
    embedder: Option<Arc<dyn Embedder>>,
    stance: Arc<dyn StanceModel>,
    models: ModelDir,
    notices: Vec<String>,
    write_lock: Mutex<()>,
    dense_weight: f32,
    /// Whether the store is shared by several nodes (PostgreSQL).
    shared: bool,
    job_counters: queue::JobCounters,
}

impl Library {
    /// Open (creating if needed) the library in `opts.data_dir`, load the models it can
    /// find, and finish any ingest or removal that an interruption left half done.
    pub fn open(opts: LibraryOptions) -> Result<Self> {
        let dir = opts.data_dir.clone();
        std::fs::create_dir_all(&dir).map_err(|source| EngineError::DataDir {
            path: dir.display().to_string(),
            source,
        })?;
        let location = StoreLocation::new(opts.store.as_deref(), &dir)?;
        let shared = matches!(location, StoreLocation::Postgres(_));
        let store = location.open()?;
        let lexical = TantivyIndex::open(&dir.join("bm25"))?;
        let loaded = models::load(&dir, opts.models_dir.as_deref(), opts.models);
        let vectors = match &loaded.embedder {
            Some(e) => Some(RwLock::new(models::open_vectors(&dir, e.as_ref())?)),
            None => None,
        };
        let lib = Library {
            dir,
            read_only: opts.read_only,
            store,
            lexical: Box::new(lexical),
            vectors,
            embedder: loaded.embedder,
            stance: loaded.stance,
            models: loaded.dir,
            notices: loaded.notices,
            write_lock: Mutex::new(()),
            dense_weight: verity_retrieve::DEFAULT_DENSE_WEIGHT,
            shared,
            job_counters: queue::JobCounters::default(),
        };
        if !lib.read_only {
            lib.recover()?;
            lib.catch_up()?;
        }
        Ok(lib)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether writes (ingest, remove, following the store's changes) are refused.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Whether the store is shared by several nodes (a PostgreSQL store): then checks
    /// go through the store's job queue, which any node's workers run.
    pub fn has_shared_store(&self) -> bool {
        self.shared
    }

    /// Lines to show the user once: models that are missing and what that turns off.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Where models are looked for.
    pub fn model_dir(&self) -> &ModelDir {
        &self.models
    }

    /// The stance model in use (neural, or the lexical fallback).
    pub fn stance_model(&self) -> &dyn StanceModel {
        self.stance.as_ref()
    }

    /// The embedder, when dense retrieval is available.
    pub fn embedder(&self) -> Option<&dyn Embedder> {
        self.embedder.as_deref()
    }

    /// Whether dense (vector) search can run.
    pub fn has_vectors(&self) -> bool {
        self.vectors.is_some()
    }

    /// Weight of the dense ranking in hybrid fusion (BM25's is 1); for tuning, see
    /// `verity eval retrieval --dense-weights`.
    pub fn set_dense_weight(&mut self, weight: f32) {
        self.dense_weight = weight;
    }

    /// Passages with a vector (0 without an embedding model).
    pub fn vector_count(&self) -> usize {
        self.vectors
            .as_ref()
            .map_or(0, |v| v.read().unwrap_or_else(|e| e.into_inner()).len())
    }

    /// Search passages. Hybrid (the default) falls back to BM25 without vectors.
    pub fn search(&self, req: &SearchRequest) -> Result<Vec<SearchHit>> {
        let guard = self
            .vectors
            .as_ref()
            .map(|v| v.read().unwrap_or_else(|e| e.into_inner()));
        let dense = match (&self.embedder, &guard) {
            (Some(e), Some(v)) => Some(Dense {
                embedder: e.as_ref(),
                vectors: v.as_ref(),
            }),
            _ => None,
        };
        let r = Retriever {
            store: self.store.as_ref(),
            lexical: self.lexical.as_ref(),
            dense,
            dense_weight: self.dense_weight,
        };
        Ok(r.search(req)?)
    }

    /// The mode a search with `requested` will run in.
    pub fn effective_mode(&self, requested: SearchMode) -> SearchMode {
        verity_retrieve::effective_mode(requested, self.has_vectors())
    }

    /// Every indexed source, newest first.
    pub fn sources(&self) -> Result<Vec<Source>> {
        Ok(self.store.list_sources()?)
    }

    /// One source.
    pub fn source(&self, id: &SourceId) -> Result<Option<Source>> {
        Ok(self.store.source(id)?)
    }

    /// A source's full stored text (for opening a cited span in context).
    pub fn source_text(&self, id: &SourceId) -> Result<Option<String>> {
        Ok(self.store.source_text(id)?)
    }

    /// A source's passages, in order, each sliced from its text.
    pub fn passages(&self, id: &SourceId) -> Result<Vec<verity_types::Passage>> {
        Ok(self.store.passages_of(id)?)
    }

    /// Counts over indexed sources: (sources, passages, characters).
    pub fn stats(&self) -> Result<(u64, u64, u64)> {
        Ok(self.store.stats()?)
    }

    /// Resolve a full id or a unique prefix (at least [`MIN_ID_PREFIX`] characters) to a
    /// source id.
    pub fn resolve_id(&self, raw: &str) -> Result<SourceId> {
        let sources = self.store.list_sources()?;
        let ids = sources.iter().map(|s| s.id.as_str());
        match unique_prefix(raw, ids, "sources")? {
            Some(id) => Ok(SourceId::new(id)),
            None => Err(EngineError::UnknownSource(raw.trim().to_string())),
        }
    }

    /// Take a source out of the store and every index.
    pub fn remove(&self, id: &SourceId) -> Result<Source> {
        if self.read_only {
            return Err(EngineError::ReadOnly);
        }
        let _w = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let source = self
            .store
            .source(id)?
            .ok_or_else(|| EngineError::UnknownSource(id.to_string()))?;
        self.store.begin_remove(id)?;
        self.drop_from_indexes(std::slice::from_ref(id))?;
        self.store.finish_remove(id)?;
        Ok(source)
    }

    /// Take sources out of every index (committed and saved).
    fn drop_from_indexes(&self, ids: &[SourceId]) -> Result<()> {
        for id in ids {
            self.lexical.delete_source(id)?;
        }
        self.lexical.commit()?;
        if let Some(v) = &self.vectors {
            let mut w = v.write().unwrap_or_else(|e| e.into_inner());
            for id in ids {
                w.remove_source(id).map_err(EngineError::from)?;
            }
            drop(w);
            // Saved under a read lock, so searches go on meanwhile (see `embed_passages`).
            v.read()
                .unwrap_or_else(|e| e.into_inner())
                .save()
                .map_err(EngineError::from)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_resolve_by_full_id_or_unique_prefix() {
        let ids = ["0193c2aa00011", "0193c2ab00022", "77aa"];
        let find = |raw: &str| unique_prefix(raw, ids.into_iter(), "checks");
        assert_eq!(find("0193c2aa").unwrap().as_deref(), Some("0193c2aa00011"));
        assert_eq!(
            find(" 0193c2ab ").unwrap().as_deref(),
            Some("0193c2ab00022")
        );
        // A full id matches itself, however short.
        assert_eq!(find("77aa").unwrap().as_deref(), Some("77aa"));
        assert_eq!(
            find("0193").map_err(|e| e.code()),
            Err(ErrorCode::AmbiguousId)
        );
        assert!(matches!(
            find("0193"),
            Err(EngineError::AmbiguousId {
                matches: 2,
                what: "checks",
                ..
            })
        ));
        // Too short to be a prefix, and no match at all.
        assert_eq!(find("019").unwrap(), None);
        assert_eq!(find("ffff").unwrap(), None);
    }
}
