//! `verity serve`: Verity's JSON API and web page.
//!
//! The server is a thin shell over [`verity_engine::Library`], the same library API the
//! CLI calls. It adds what a shared service needs: a bounded check queue with
//! background workers and live progress (server-sent events), a stored history of
//! checks with re-check diffs, uploads, an optional bearer token for writes, a
//! read-only mode, Host and Origin checks against DNS rebinding and cross-site requests
//! (see `safety`), request size limits, timeouts, one JSON error shape with stable
//! codes, an OpenAPI document generated from the code, and a bundled single-page app.
//!
//! ```no_run
//! use std::sync::Arc;
//! use verity_engine::{Library, LibraryOptions};
//! use verity_server::{serve, ServerConfig};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let lib = Library::open(LibraryOptions::new("./verity-data"))?;
//! serve(Arc::new(lib), ServerConfig::default()).await?;
//! # Ok(()) }
//! ```
//!
//! | Endpoint | What it does |
//! |---|---|
//! | `POST /api/checks` | queue a question or claim → 202 `{"id"}` (429 when the queue is full) |
//! | `GET /api/checks/{id}` | status and, once done, the brief |
//! | `GET /api/checks/{id}/events` | progress as server-sent events |
//! | `GET /api/checks/{id}/diff?against=` | what changed since an earlier check |
//! | `GET /api/checks` | history, newest first, paged |
//! | `GET /api/search?q=` | passage search (`verity search --json` fields) |
//! | `GET/POST /api/sources`, `GET/DELETE /api/sources/{id}` | list, add (upload or URL), read, remove |
//! | `POST /api/checks/{id}/cancel` | cancel a queued or running check (shared queue) |
//! | `GET /api/openapi.json`, `GET /api/health` | the API document; liveness |
//! | `GET /healthz`, `GET /readyz`, `GET /metrics` | probes and Prometheus metrics |
//!
//! On a PostgreSQL store, checks go into the store's shared job queue, which the
//! workers of every node (`verity serve --worker`, `verity worker`) run.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod api;
mod assets;
mod conn;
mod error;
mod jobs;
mod openapi;
mod ops;
mod safety;
mod views;
mod workers;

pub use api::{sanitize_file_name, MAX_INPUT_CHARS};
pub use error::{error_json, http_status, redact_paths, ApiError, Code, HasCode};
pub use jobs::{run_job, CheckMode, JobEvent};
pub use openapi::{document as openapi_document, ApiDoc};
pub use verity_engine::{BriefDiff, CheckStatus, DiffSource};
pub use views::*;
pub use workers::{cli_worker, WorkerConfig, WorkerPool};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use verity_engine::Library;

use crate::jobs::Jobs;

/// How `verity serve` runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on (`127.0.0.1:8080` by default; port 0 picks a free one).
    pub addr: SocketAddr,
    /// When set, every write (`POST`, `DELETE`) needs `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// Refuse changes to the library (adding and removing sources). Checks still run and
    /// are recorded.
    pub read_only: bool,
    /// Checks that may wait for a worker; more get 429.
    pub queue_capacity: usize,
    /// Checks run at the same time.
    pub workers: usize,
    /// Largest request body (and uploaded file), in bytes.
    pub max_upload_bytes: usize,
    /// Time limit for ordinary requests (not for event streams or ingests).
    pub request_timeout: Duration,
    /// Time limit for `POST /api/sources`. Reading stops at three quarters of it: inputs
    /// not yet read then are not read (each a `deadline` failure in the report) and what
    /// was read is stored; the last quarter is for that commit, and a request still
    /// running at the limit gets 408.
    pub ingest_timeout: Duration,
    /// Allow `POST /api/sources` URLs on loopback or private networks.
    pub allow_private_urls: bool,
    /// Host names the server answers to besides the address it is bound to, `localhost`
    /// and the loopback addresses (`--allow-host`; `name` for any port, `name:port` for
    /// one). Requests naming any other `Host`, and writes from any other `Origin`, get 403.
    pub allow_hosts: Vec<String>,
    /// Most parts in one multipart upload; more get 413 and nothing is ingested.
    pub max_upload_parts: usize,
    /// Seconds clients are told to wait (`Retry-After`) when the queue is full.
    pub retry_after_secs: u64,
    /// How long shutdown waits for running checks.
    pub shutdown_grace: Duration,
    /// Parse uploads and fetched pages in a capped worker process (see
    /// `verity_engine::Isolation`); `None` parses in the server's own process.
    pub isolation: Option<verity_engine::Isolation>,
    /// On a shared (PostgreSQL) store, also run the shared queue's jobs here
    /// (`--worker`; `workers` of the config then counts them); `None`: only queue them.
    pub run_worker: Option<WorkerConfig>,
    /// `GET /readyz` answers 503 when the indexes are more change-log entries than this
    /// behind the store.
    pub ready_max_lag: u64,
    /// The language model that writes every check's prose (`--llm`); `None`: the
    /// extractive brief. Set by whoever runs the server, never by an API client.
    pub llm: Option<verity_engine::LlmOptions>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token: None,
            read_only: false,
            queue_capacity: 16,
            workers: 1,
            max_upload_bytes: 25 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            ingest_timeout: Duration::from_secs(300),
            allow_private_urls: false,
            allow_hosts: Vec::new(),
            max_upload_parts: 1000,
            retry_after_secs: 5,
            shutdown_grace: Duration::from_secs(10),
            isolation: None,
            run_worker: None,
            ready_max_lag: 1000,
            llm: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("could not listen on {addr}: {source}. Is another program using that port? Pick another with --addr.")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the server stopped with an error: {0}")]
    Serve(#[source] std::io::Error),
    #[error("could not start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("could not read the check history: {0}")]
    History(#[from] verity_engine::EngineError),
}

struct Inner {
    lib: Arc<Library>,
    cfg: ServerConfig,
    jobs: Arc<Jobs>,
    shutdown: watch::Sender<bool>,
    requests: ops::RequestCounters,
}

/// Shared server state: the library, the configuration and the check queue.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// Start the check workers (needs a tokio runtime) and mark checks that a previous
    /// server left unfinished as failed.
    ///
    /// On a shared store, checks left unfinished belong to the shared queue: a worker
    /// claims them again once their lease runs out, so they are left alone.
    pub fn new(lib: Arc<Library>, cfg: ServerConfig) -> Result<AppState, ServerError> {
        if !lib.has_shared_store() {
            let stale = jobs::fail_interrupted(&lib)?;
            if stale > 0 {
                tracing::warn!(
                    stale,
                    "marked checks interrupted by the last shutdown as failed"
                );
            }
        }
        let jobs = Jobs::start(
            lib.clone(),
            cfg.queue_capacity,
            cfg.workers,
            cfg.run_worker.as_ref(),
        )
        .map_err(ServerError::Runtime)?;
        let (shutdown, _) = watch::channel(false);
        Ok(AppState(Arc::new(Inner {
            lib,
            cfg,
            jobs,
            shutdown,
            requests: ops::RequestCounters::default(),
        })))
    }

    pub(crate) fn requests(&self) -> &ops::RequestCounters {
        &self.0.requests
    }

    pub fn lib(&self) -> &Arc<Library> {
        &self.0.lib
    }

    pub fn config(&self) -> &ServerConfig {
        &self.0.cfg
    }

    pub(crate) fn jobs(&self) -> &Jobs {
        &self.0.jobs
    }

    /// Stop the workers from starting checks (queued ones wait). For maintenance and
    /// for tests that need a busy queue.
    pub fn pause_workers(&self) {
        self.0.jobs.set_paused(true);
    }

    /// Let the workers run queued checks again.
    pub fn resume_workers(&self) {
        self.0.jobs.set_paused(false);
    }

    /// Refuse new checks (503) and end every event stream.
    pub fn begin_shutdown(&self) {
        self.0.jobs.begin_shutdown();
        self.0.shutdown.send_replace(true);
    }

    /// Begin shutdown if not yet begun, then wait (up to the configured grace) for the
    /// workers; queued checks are marked failed.
    pub async fn finish_shutdown(&self) {
        self.begin_shutdown();
        self.0.jobs.shutdown(self.0.cfg.shutdown_grace).await;
    }

    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.0.shutdown.subscribe()
    }
}

/// `GET /api/openapi.json`.
async fn openapi_json() -> Json<serde_json::Value> {
    static DOC: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    Json(DOC.get_or_init(openapi::document).clone())
}

/// Writes need the token (when one is set); library changes are refused in read-only mode.
async fn guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if write {
        if let Some(token) = &st.config().token {
            let given = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            match given {
                None => return ApiError::new(
                    Code::MissingToken,
                    "this server needs a token for changes: send `Authorization: Bearer <token>`",
                )
                .into_response(),
                Some(g) if !same_secret(g.as_bytes(), token.as_bytes()) => {
                    return ApiError::new(Code::InvalidToken, "the bearer token is wrong")
                        .into_response()
                }
                Some(_) => {}
            }
        }
        if st.config().read_only && req.uri().path().starts_with("/api/sources") {
            return ApiError::new(
                Code::ReadOnly,
                "this server is read-only: sources cannot be added or removed",
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// Compare secrets in time that does not depend on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn not_found(req: Request) -> Response {
    ApiError::new(
        Code::NotFound,
        format!(
            "no endpoint at {} {}; GET /api/openapi.json lists them",
            req.method(),
            req.uri().path()
        ),
    )
    .into_response()
}

/// The whole application: API, event streams and the web page, answering to the host
/// of `cfg.addr` (see [`router_for`] when the port was picked at bind time).
pub fn router(state: AppState) -> Router {
    let bound = state.config().addr;
    router_for(state, bound)
}

/// The whole application, for a listener bound to `bound`: requests must name that
/// address (or localhost, or an `--allow-host` name) in `Host`.
pub fn router_for(state: AppState, bound: SocketAddr) -> Router {
    let cfg = state.config().clone();
    let hosts = Arc::new(safety::HostPolicy::new(bound, &cfg.allow_hosts));
    let short = TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, cfg.request_timeout);
    // The ingest itself stops reading at 3/4 of `ingest_timeout` (see `api::add_sources`)
    // and answers with what it stored; the last quarter is for that commit.
    let long = TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, cfg.ingest_timeout);
    let timed = Router::new()
        .route("/", get(assets::index))
        .route("/assets/app.js", get(assets::app_js))
        .route("/assets/app.css", get(assets::app_css))
        .route("/api/health", get(api::health))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/api/openapi.json", get(openapi_json))
        .route("/api/search", get(api::search))
        .route("/api/sources", get(api::list_sources))
        .route("/api/sources/jobs/{id}", get(api::get_ingest_job))
        .route(
            "/api/sources/jobs/{id}/cancel",
            post(api::cancel_ingest_job),
        )
        .route(
            "/api/sources/{id}",
            get(api::get_source).delete(api::delete_source),
        )
        .route("/api/checks", get(api::list_checks).post(api::create_check))
        .route("/api/checks/{id}", get(api::get_check))
        .route("/api/checks/{id}/diff", get(api::diff_checks))
        .route("/api/checks/{id}/recheck", post(api::recheck))
        .route("/api/checks/{id}/cancel", post(api::cancel_check))
        .layer(short);
    let ingest = Router::new()
        .route("/api/sources", post(api::add_sources))
        .layer(long);
    let streams = Router::new().route("/api/checks/{id}/events", get(api::check_events));
    timed
        .merge(ingest)
        .merge(streams)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(cfg.max_upload_bytes))
        .layer(RequestBodyLimitLayer::new(cfg.max_upload_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .layer(middleware::from_fn_with_state(hosts, safety::host_guard))
        .layer(middleware::from_fn(error::json_errors))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ops::count_requests,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Listen on `cfg.addr`.
pub async fn bind(cfg: &ServerConfig) -> Result<TcpListener, ServerError> {
    TcpListener::bind(cfg.addr)
        .await
        .map_err(|source| ServerError::Bind {
            addr: cfg.addr,
            source,
        })
}

/// Serve on `listener` until `shutdown` completes; then stop taking checks, end the
/// event streams, let in-flight requests finish and wait for running checks.
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let bound = listener.local_addr().map_err(ServerError::Serve)?;
    let app = router_for(state.clone(), bound);
    let st = state.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down");
        st.begin_shutdown();
    };
    let served = axum::serve(conn::JsonListener(listener), app)
        .with_graceful_shutdown(signal)
        .await
        .map_err(ServerError::Serve);
    state.finish_shutdown().await;
    served
}

/// Serve `lib` on `cfg.addr` until Ctrl-C (or SIGTERM).
pub async fn serve(lib: Arc<Library>, cfg: ServerConfig) -> Result<(), ServerError> {
    let listener = bind(&cfg).await?;
    let state = AppState::new(lib, cfg)?;
    serve_on(listener, state, stop_signal()).await
}

/// Completes on Ctrl-C or, on Unix, SIGTERM.
pub async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// How often `verity serve` applies the shared store's change log.
pub(crate) const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// `verity serve`: build a runtime, serve until Ctrl-C, shut down gracefully. Prints the
/// address it listens on to stderr.
pub fn cli_serve(lib: Library, cfg: ServerConfig) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    rt.block_on(async move {
        let listener = bind(&cfg).await?;
        let addr = listener.local_addr().map_err(ServerError::Serve)?;
        let lib = Arc::new(lib);
        // Sources added or removed through other nodes of a shared store reach this
        // node's indexes within seconds (a no-op on SQLite, which keeps no change log).
        if !lib.is_read_only() {
            Library::follow_changes(&lib, FOLLOW_EVERY).map_err(ServerError::Runtime)?;
        }
        let state = AppState::new(lib, cfg)?;
        for n in state.lib().notices() {
            eprintln!("note: {n}");
        }
        if state.jobs().is_shared() {
            let workers = cfg_workers(state.config());
            eprintln!("verity: checks go to the shared job queue; {workers} worker(s) here");
        } else if state.config().run_worker.is_some() {
            eprintln!("note: --worker needs a PostgreSQL store (--store); this server runs its own checks");
        }
        eprintln!("verity: serving http://{addr}/ (Ctrl-C to stop)");
        serve_on(listener, state, stop_signal()).await
    })?;
    Ok(())
}

/// Shared-queue workers this server runs.
fn cfg_workers(cfg: &ServerConfig) -> usize {
    cfg.run_worker.as_ref().map_or(0, |w| w.workers.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
    }

    #[test]
    fn defaults_match_the_docs() {
        let c = ServerConfig::default();
        assert_eq!(c.queue_capacity, 16);
        assert_eq!(c.workers, 1);
        assert_eq!(c.max_upload_bytes, 25 * 1024 * 1024);
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert_eq!(c.max_upload_parts, 1000);
        assert!(c.allow_hosts.is_empty());
    }
}
