//! The JSON API handlers. Each one is a thin call into `verity_engine::Library` (on a
//! blocking thread: the library does synchronous I/O) or into the check queue.

use std::convert::Infallible;
use std::path::{Path as FsPath, PathBuf};
use std::time::Duration;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use futures_util::Stream;
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::sync::broadcast;
use verity_engine::{Check, CheckStatus, EngineError, IngestOptions, Mode};
use verity_types::{
    Format, NoProgress, SearchFilters, SearchMode, SearchRequest, Source, SourceId, SourceKind,
};

use crate::error::{redact_paths, ApiError, Code, ErrorBody};
use crate::jobs::{final_event, JobEvent};
use crate::views::*;
use crate::AppState;
use verity_engine::BriefDiff;

/// Longest question or claim accepted, in characters (the engine's bound).
pub use verity_engine::MAX_INPUT_CHARS;
/// Largest search page.
pub const MAX_LIMIT: usize = 100;

/// Run library work on a blocking thread.
async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(f).await?
}

// ── Health ───────────────────────────────────────────────────────────────────────────

/// Liveness and a summary of the library and the queue.
#[utoipa::path(get, path = "/api/health", tag = "meta",
    responses((status = 200, body = Health)))]
pub async fn health(State(st): State<AppState>) -> Result<Json<Health>, ApiError> {
    let lib = st.lib().clone();
    let shared = st.jobs().is_shared();
    let (sources, passages, shared_queued) = blocking(move || {
        let (sources, passages, _) = lib.stats()?;
        let queued = if shared {
            Some(lib.job_queue_depth()?.queued)
        } else {
            None
        };
        Ok((sources, passages, queued))
    })
    .await?;
    let jobs = st.jobs();
    Ok(Json(Health {
        status: if jobs.is_shutting_down() {
            "shutting_down".into()
        } else {
            "ok".into()
        },
        version: env!("CARGO_PKG_VERSION").into(),
        sources,
        passages,
        read_only: st.config().read_only,
        token_required: st.config().token.is_some(),
        vectors: st.lib().has_vectors(),
        queue: QueueView {
            capacity: jobs.capacity(),
            queued: shared_queued
                .map_or(jobs.queued(), |n| usize::try_from(n).unwrap_or(usize::MAX)),
            workers: jobs.workers(),
            paused: jobs.is_paused(),
        },
        notices: st.lib().notices().to_vec(),
    }))
}

// ── Search ───────────────────────────────────────────────────────────────────────────

fn parse_date(name: &str, raw: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                ApiError::invalid(format!(
                    "`{name}` must be a date like 2024-03-31, not `{s}`"
                ))
            }),
    }
}

fn split_list(raw: Option<&str>) -> impl Iterator<Item = &str> {
    raw.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Turn query parameters into a search request (the CLI's `verity search` flags).
pub fn search_request(p: &SearchParams) -> Result<SearchRequest, ApiError> {
    let q = p.q.as_deref().map(str::trim).unwrap_or_default();
    if q.is_empty() {
        return Err(ApiError::invalid(
            "`q` is required: give the text to search for",
        ));
    }
    if q.chars().count() > MAX_INPUT_CHARS {
        return Err(ApiError::invalid(format!(
            "`q` is longer than {MAX_INPUT_CHARS} characters"
        )));
    }
    let limit = p.limit.unwrap_or(10);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "`limit` must be between 1 and {MAX_LIMIT}"
        )));
    }
    let mode = match p.mode.as_deref().map(str::trim) {
        None | Some("") | Some("hybrid") => SearchMode::Hybrid,
        Some("bm25") => SearchMode::Bm25,
        Some("dense") => SearchMode::Dense,
        Some(m) => {
            return Err(ApiError::invalid(format!(
                "unknown `mode` `{m}`; use bm25, dense or hybrid"
            )))
        }
    };
    let kinds = split_list(p.kind.as_deref())
        .map(|k| {
            SourceKind::parse(k).ok_or_else(|| {
                ApiError::invalid(format!(
                    "unknown `kind` `{k}`; use one of: {}",
                    SourceKind::ALL.map(|k| k.as_str()).join(", ")
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let formats = split_list(p.format.as_deref())
        .map(|f| {
            Format::parse(&f.to_ascii_lowercase()).ok_or_else(|| {
                ApiError::invalid(format!(
                    "unknown `format` `{f}`; use one of: text, markdown, html, pdf, jsonl"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SearchRequest {
        query: q.to_string(),
        limit,
        mode,
        filters: SearchFilters {
            publisher: p
                .publisher
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            kinds,
            formats,
            from: parse_date("from", p.from.as_deref())?,
            to: parse_date("to", p.to.as_deref())?,
            keep_undated: false,
            skip_duplicates: false,
        },
    })
}

/// Search passages (the same hits and fields as `verity search --json`). The mode that
/// actually ran is in the `X-Verity-Search-Mode` header.
#[utoipa::path(get, path = "/api/search", tag = "search", params(SearchParams),
    responses(
        (status = 200, body = Vec<SearchHitView>),
        (status = 400, body = ErrorBody, description = "missing `q` or a bad parameter")))]
pub async fn search(
    State(st): State<AppState>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let req = search_request(&params)?;
    if req.mode == SearchMode::Dense && !st.lib().has_vectors() {
        return Err(ApiError::invalid(
            "dense search needs the embedding model and passage vectors, and this library has none; use mode=bm25 or mode=hybrid",
        ));
    }
    let lib = st.lib().clone();
    let mode = lib.effective_mode(req.mode);
    let hits = blocking(move || Ok(lib.search(&req)?)).await?;
    let body: Vec<SearchHitView> = hits.iter().map(SearchHitView::from).collect();
    Ok(([("x-verity-search-mode", mode.as_str())], Json(body)).into_response())
}

// ── Sources ──────────────────────────────────────────────────────────────────────────

/// Every indexed source, newest first (the same JSON as `verity sources --json`).
#[utoipa::path(get, path = "/api/sources", tag = "sources",
    responses((status = 200, body = Vec<SourceView>)))]
pub async fn list_sources(State(st): State<AppState>) -> Result<Json<Vec<SourceView>>, ApiError> {
    let lib = st.lib().clone();
    let list = blocking(move || Ok(lib.sources()?)).await?;
    Ok(Json(list.iter().map(SourceView::from).collect()))
}

/// A source by full id, else by a unique prefix of at least 4 characters.
fn find_source(lib: &verity_engine::Library, raw: &str) -> Result<Source, ApiError> {
    if let Some(s) = lib.source(&SourceId::new(raw))? {
        return Ok(s);
    }
    let id = lib.resolve_id(raw).map_err(|e| match e {
        EngineError::UnknownSource(_) => ApiError::new(
            Code::SourceNotFound,
            format!("no source with id `{raw}` in this library; GET /api/sources lists them"),
        ),
        other => other.into(),
    })?;
    lib.source(&id)?
        .ok_or_else(|| ApiError::new(Code::SourceNotFound, format!("no source with id `{raw}`")))
}

/// One source with its full text (for showing a cited passage in context).
#[utoipa::path(get, path = "/api/sources/{id}", tag = "sources",
    params(("id" = String, Path, description = "Source id, or a unique prefix of at least 4 characters")),
    responses(
        (status = 200, body = SourceDetail),
        (status = 404, body = ErrorBody, description = "`source_not_found`")))]
pub async fn get_source(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<SourceDetail>, ApiError> {
    let Path(raw) = id?;
    let lib = st.lib().clone();
    let detail = blocking(move || {
        let source = find_source(&lib, &raw)?;
        let text = lib.source_text(&source.id)?.unwrap_or_default();
        Ok(SourceDetail {
            source: SourceView::from(&source),
            text,
        })
    })
    .await?;
    Ok(Json(detail))
}

/// Take a source out of the library (store and every index).
#[utoipa::path(delete, path = "/api/sources/{id}", tag = "sources",
    params(("id" = String, Path, description = "Source id, or a unique prefix of at least 4 characters")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Removed),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`source_not_found`")))]
pub async fn delete_source(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Removed>, ApiError> {
    let Path(raw) = id?;
    let lib = st.lib().clone();
    let removed = blocking(move || {
        let source = find_source(&lib, &raw)?;
        Ok(lib.remove(&source.id)?)
    })
    .await?;
    Ok(Json(Removed {
        removed: SourceView::from(&removed),
    }))
}

/// A file name safe to create: the last path component, with anything but letters,
/// digits, `.`, `-` and `_` replaced, no leading dots, at most 120 characters.
pub fn sanitize_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    name = name.trim_start_matches('.').to_string();
    if name.chars().count() > 120 {
        // Keep the extension, which decides the reader.
        let ext: String = match name.rfind('.') {
            Some(i) if name.len() - i <= 10 => name[i..].to_string(),
            _ => String::new(),
        };
        name = name.chars().take(120 - ext.len()).collect::<String>() + &ext;
    }
    if name.is_empty() || name.chars().all(|c| c == '_' || c == '.') {
        "upload".to_string()
    } else {
        name
    }
}

/// Add sources: a multipart upload (one or more `file` parts, optional `attribution`
/// part), or JSON `{"url": "..."}`. Returns the ingest report; on a shared (PostgreSQL)
/// store, 202 with the id of an ingest job that any node's worker runs (follow it at
/// `GET /api/sources/jobs/{id}`).
#[utoipa::path(post, path = "/api/sources", tag = "sources",
    request_body(
        content(
            (AddUrl = "application/json"),
            (Object = "multipart/form-data", example = json!({"file": "(binary)", "attribution": "optional"}))
        ),
        description = "A URL to fetch, or files to upload as multipart `file` parts"),
    security(("bearer" = [])),
    responses(
        (status = 200, body = IngestReportView, description = "ingested (some inputs may be listed under `failed`)"),
        (status = 202, body = IngestAccepted, description = "on a shared store: queued as an ingest job"),
        (status = 429, body = ErrorBody, description = "`queue_full` (shared store); see `Retry-After`"),
        (status = 400, body = ErrorBody, description = "`url_refused`, `invalid_request`, `malformed_json`"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody, description = "`payload_too_large`, or `too_many_parts` (more parts than `max_upload_parts`; nothing is added)"),
        (status = 415, body = ErrorBody, description = "`unsupported_media_type`, or `unsupported_type` when no uploaded file is of a type Verity reads"),
        (status = 422, body = ErrorBody, description = "`ingest_failed`: nothing could be read")))]
pub async fn add_sources(State(st): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if ctype.starts_with("multipart/form-data") {
        let mp = Multipart::from_request(req, &st).await?;
        upload(st, mp).await
    } else if ctype.starts_with("application/json") {
        let body: Result<Json<AddUrl>, JsonRejection> = Json::from_request(req, &st).await;
        let Json(body) = body?;
        add_url(st, body).await
    } else {
        Err(ApiError::new(
            Code::UnsupportedMediaType,
            "POST /api/sources takes multipart/form-data (file uploads) or application/json ({\"url\": ...})",
        ))
    }
}

fn ingest_options(st: &AppState, attribution: Option<String>) -> IngestOptions {
    IngestOptions {
        allow_private: st.config().allow_private_urls,
        max_bytes: st.config().max_upload_bytes as u64,
        max_bytes_setting: "the server's upload limit (`max_upload_bytes`)",
        attribution: attribution.filter(|a| !a.trim().is_empty()),
        isolation: st.config().isolation.clone(),
        // Files still unread when reading time is up are not read (each a
        // `deadline` failure); what was read is committed and reported.
        deadline: Some(read_deadline(st.config().ingest_timeout)),
        ..IngestOptions::default()
    }
}

/// When an ingest under `limit` stops reading: three quarters in, leaving the rest of
/// the request's time for the commit of what was read.
fn read_deadline(limit: std::time::Duration) -> std::time::Duration {
    limit.mul_f64(0.75)
}

/// The report as answered: failures name no server paths (`prefix`, the upload folder,
/// is cut from locations and messages first, then any other absolute path).
fn report_view(report: &verity_engine::IngestReport, prefix: Option<&str>) -> IngestReportView {
    let clean = |s: &str| {
        let s = match prefix {
            Some(p) => s.replace(p, ""),
            None => s.to_string(),
        };
        redact_paths(&s)
    };
    let mut view = IngestReportView::from(report);
    for f in view.failed.iter_mut().chain(view.skipped.iter_mut()) {
        f.location = clean(&f.location);
        f.message = clean(&f.message);
    }
    view.duplicate_links = view
        .duplicate_links
        .iter()
        .map(|(a, b)| (clean(a), b.clone()))
        .collect();
    view
}

/// Answer with the report, or an error when nothing at all went in.
fn report_or_error(view: IngestReportView) -> Result<Json<IngestReportView>, ApiError> {
    if view.added + view.unchanged == 0 && !view.failed.is_empty() {
        let first = &view.failed[0];
        let code = if matches!(first.reason.as_str(), "refused_private" | "bad_url") {
            Code::UrlRefused
        } else {
            Code::IngestFailed
        };
        let message = first.message.clone();
        let details = serde_json::to_value(&view).unwrap_or(Value::Null);
        return Err(ApiError::new(code, message).with_details(details));
    }
    Ok(Json(view))
}

/// 415 when no uploaded file is of a type Verity reads (every one skipped for its
/// extension, or refused as unsupported).
fn unsupported_upload(view: &IngestReportView) -> Option<ApiError> {
    let refused: Vec<_> = view.skipped.iter().chain(&view.failed).collect();
    let all_unsupported = view.added + view.unchanged + view.duplicates == 0
        && !refused.is_empty()
        && view.failed.iter().all(|f| f.reason == "unsupported");
    all_unsupported.then(|| {
        let first = &refused[0];
        ApiError::new(
            Code::UnsupportedType,
            format!(
                "no uploaded file is of a type Verity reads (`{}`: {}); upload text, Markdown, HTML, PDF or JSONL files",
                first.location, first.message
            ),
        )
        .with_details(serde_json::to_value(view).unwrap_or(Value::Null))
    })
}

async fn add_url(st: AppState, body: AddUrl) -> Result<Response, ApiError> {
    let url = body.url.trim().to_string();
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(ApiError::new(
            Code::UrlRefused,
            format!(
                "`{url}` is not an http(s) URL; give a full address like https://example.org/page"
            ),
        ));
    }
    if st.jobs().is_shared() {
        return queue_ingest(&st, vec![url], Vec::new(), body.attribution).await;
    }
    let opts = ingest_options(&st, body.attribution);
    let lib = st.lib().clone();
    let report = blocking(move || Ok(lib.ingest(&[url], &opts, &NoProgress)?)).await?;
    Ok(report_or_error(report_view(&report, None))?.into_response())
}

/// Queue an ingest job in the shared queue: 202 with its id.
async fn queue_ingest(
    st: &AppState,
    urls: Vec<String>,
    files: Vec<verity_engine::JobFile>,
    attribution: Option<String>,
) -> Result<Response, ApiError> {
    let opts = ingest_options(st, attribution);
    let spec = verity_engine::IngestSpec {
        urls,
        attribution: opts.attribution,
        allow_private: opts.allow_private,
        max_bytes: opts.max_bytes,
    };
    let id = st
        .jobs()
        .submit_ingest(spec, files, st.config().retry_after_secs)
        .await?;
    let accepted = IngestAccepted {
        status_url: format!("/api/sources/jobs/{id}"),
        state: "queued".into(),
        id,
    };
    Ok((StatusCode::ACCEPTED, Json(accepted)).into_response())
}

/// The bytes of the saved upload, for a queued ingest (the folder is removed after).
async fn read_parts(files: &[PathBuf]) -> Result<Vec<verity_engine::JobFile>, ApiError> {
    let mut out = Vec::with_capacity(files.len());
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "upload".into());
        let data = tokio::fs::read(path).await?;
        out.push(verity_engine::JobFile { name, data });
    }
    Ok(out)
}

/// A queued ingest: its job and, once done, its report.
#[utoipa::path(get, path = "/api/sources/jobs/{id}", tag = "sources",
    params(("id" = String, Path, description = "Ingest job id, as `POST /api/sources` answered")),
    responses(
        (status = 200, body = IngestJobView),
        (status = 404, body = ErrorBody, description = "`job_not_found`")))]
pub async fn get_ingest_job(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<IngestJobView>, ApiError> {
    let Path(id) = id?;
    let lib = st.lib().clone();
    let status = blocking(move || Ok(lib.ingest_job(&id)?)).await?;
    Ok(Json(ingest_job_view(status)))
}

/// Cancel a queued or running ingest job: a queued one never runs, a running one stops
/// after the part of 500 documents it is ingesting (what was stored stays).
#[utoipa::path(post, path = "/api/sources/jobs/{id}/cancel", tag = "sources",
    params(("id" = String, Path, description = "Ingest job id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = IngestJobView),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`job_not_found`")))]
pub async fn cancel_ingest_job(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<IngestJobView>, ApiError> {
    let Path(id) = id?;
    let lib = st.lib().clone();
    let status = blocking(move || Ok(lib.cancel_ingest(&id)?)).await?;
    Ok(Json(ingest_job_view(status)))
}

fn ingest_job_view(s: verity_engine::IngestJobStatus) -> IngestJobView {
    IngestJobView {
        report: s.report.as_ref().map(|r| report_view(r, None)),
        id: s.id,
        job: s.job,
    }
}

/// The files and the attribution of one upload.
#[derive(Default)]
struct Parts {
    files: Vec<PathBuf>,
    attribution: Option<String>,
}

/// Save the upload's `file` parts into `dir`; more than `max_parts` parts of any name
/// is a 413.
async fn save_parts(mp: &mut Multipart, dir: &FsPath, max_parts: usize) -> Result<Parts, ApiError> {
    let mut parts = Parts::default();
    let mut seen = 0usize;
    while let Some(mut field) = mp.next_field().await? {
        seen += 1;
        if seen > max_parts {
            return Err(ApiError::new(
                Code::TooManyParts,
                format!("the upload has more than {max_parts} parts, more than this server takes in one request; nothing was added — send the files in smaller batches"),
            ));
        }
        match field.name() {
            Some("attribution") => parts.attribution = Some(field.text().await?),
            Some("file") | Some("files") | Some("file[]") => {
                let name = sanitize_file_name(field.file_name().unwrap_or("upload"));
                let path = unique_path(dir, &name);
                let mut f = tokio::fs::File::create(&path).await?;
                while let Some(chunk) = field.chunk().await? {
                    f.write_all(&chunk).await?;
                }
                f.flush().await?;
                parts.files.push(path);
            }
            _ => {}
        }
    }
    Ok(parts)
}

async fn upload(st: AppState, mut mp: Multipart) -> Result<Response, ApiError> {
    let root = st.lib().dir().join("uploads");
    tokio::fs::create_dir_all(&root).await?;
    let dir = tempfile::Builder::new().prefix("up-").tempdir_in(&root)?;
    // On an error the folder and everything saved so far are removed.
    let parts = save_parts(&mut mp, dir.path(), st.config().max_upload_parts).await?;
    if parts.files.is_empty() {
        return Err(ApiError::invalid(
            "the upload has no `file` part; send the files as multipart parts named `file`",
        ));
    }
    if st.jobs().is_shared() {
        // The worker that claims the job may be on another machine: the bytes go with it.
        let files = read_parts(&parts.files).await?;
        return queue_ingest(&st, Vec::new(), files, parts.attribution).await;
    }
    let opts = ingest_options(&st, parts.attribution);
    let lib = st.lib().clone();
    let inputs: Vec<String> = parts
        .files
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let report = blocking(move || Ok(lib.ingest(&inputs, &opts, &NoProgress)?)).await?;
    let prefix = format!("{}{}", dir.path().display(), std::path::MAIN_SEPARATOR);
    let view = report_view(&report, Some(&prefix));
    // Keep the files that went in, so that each source's location stays openable.
    if report.added > 0 {
        let _kept = dir.keep();
    }
    if let Some(e) = unsupported_upload(&view) {
        return Err(e);
    }
    Ok(report_or_error(view)?.into_response())
}

fn unique_path(dir: &FsPath, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    (1..)
        .map(|i| dir.join(format!("{i}-{name}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

// ── Checks ───────────────────────────────────────────────────────────────────────────

fn check_input(body: NewCheck) -> Result<verity_engine::Request, ApiError> {
    let (text, mode) = match (body.question, body.claim) {
        (Some(q), None) => (q, Mode::Ask),
        (None, Some(c)) => (c, Mode::Check),
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "give either `question` or `claim`, not both",
            ))
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "give `question` (an open question) or `claim` (a claim to check)",
            ))
        }
    };
    let mut req = verity_engine::Request::new(mode, text);
    req.options.as_of = body.as_of;
    req.options.show_unsupported = body.show_unsupported;
    Ok(req.validated()?)
}

/// Queue a check of a claim, or a question to answer. Poll `GET /api/checks/{id}` or
/// stream `GET /api/checks/{id}/events`.
#[utoipa::path(post, path = "/api/checks", tag = "checks", request_body = NewCheck,
    security(("bearer" = [])),
    responses(
        (status = 202, body = CheckAccepted),
        (status = 400, body = ErrorBody, description = "`malformed_json` or `invalid_request`"),
        (status = 401, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "`queue_full`; see `Retry-After`"),
        (status = 503, body = ErrorBody, description = "`shutting_down`")))]
pub async fn create_check(
    State(st): State<AppState>,
    body: Result<Json<NewCheck>, JsonRejection>,
) -> Result<(StatusCode, Json<CheckAccepted>), ApiError> {
    let Json(body) = body?;
    let mut request = check_input(body)?;
    request.options.llm = st.config().llm.clone();
    submit_check(&st, request).await
}

/// Queue `request` on the job machinery; 202 with where to follow it.
async fn submit_check(
    st: &AppState,
    request: verity_engine::Request,
) -> Result<(StatusCode, Json<CheckAccepted>), ApiError> {
    let record = st
        .jobs()
        .submit(request, st.config().retry_after_secs)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(CheckAccepted {
            status_url: format!("/api/checks/{}", record.id),
            events_url: format!("/api/checks/{}/events", record.id),
            id: record.id.to_string(),
            status: CheckStatus::Queued,
        }),
    ))
}

/// Check again: queue a stored check's request (question or claim, with its options)
/// as a new check against the library as it is now. Compare the two with
/// `GET /api/checks/{new}/diff?against={id}` once both are done.
#[utoipa::path(post, path = "/api/checks/{id}/recheck", tag = "checks",
    params(("id" = String, Path, description = "The check to run again")),
    security(("bearer" = [])),
    responses(
        (status = 202, body = CheckAccepted),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`cross_origin` or `host_not_allowed`"),
        (status = 404, body = ErrorBody, description = "`check_not_found`"),
        (status = 429, body = ErrorBody, description = "`queue_full`; see `Retry-After`"),
        (status = 503, body = ErrorBody, description = "`shutting_down`")))]
pub async fn recheck(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<(StatusCode, Json<CheckAccepted>), ApiError> {
    let Path(id) = id?;
    let mut request = load_check(&st, id).await?.request;
    // The endpoint is the server's to choose, now as when it first ran.
    request.options.llm = st.config().llm.clone();
    submit_check(&st, request).await
}

async fn load_check(st: &AppState, id: String) -> Result<Check, ApiError> {
    let lib = st.lib().clone();
    blocking(move || Ok(lib.check(&id)?)).await
}

fn check_view(c: Check, job: Option<verity_engine::JobStatus>) -> CheckView {
    CheckView {
        job,
        status: c.status,
        mode: c.request.mode,
        as_of: c.request.options.as_of,
        show_unsupported: c.request.options.show_unsupported,
        // The same JSON as `verity check --format json`.
        brief: c.brief.map(verity_render::render_json_value),
        id: c.id.to_string(),
        input: c.request.text,
        created_at: c.created_at,
        error: c.error,
    }
}

/// A check: its status and, once done, the brief.
#[utoipa::path(get, path = "/api/checks/{id}", tag = "checks",
    params(("id" = String, Path, description = "Check id")),
    responses((status = 200, body = CheckView), (status = 404, body = ErrorBody, description = "`check_not_found`")))]
pub async fn get_check(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<CheckView>, ApiError> {
    let Path(id) = id?;
    Ok(Json(load_view(&st, id).await?))
}

/// A check with its shared-queue job (when it has one).
async fn load_view(st: &AppState, id: String) -> Result<CheckView, ApiError> {
    let lib = st.lib().clone();
    blocking(move || {
        let check = lib.check(&id)?;
        let job = lib.check_job(check.id.as_str())?;
        Ok(check_view(check, job))
    })
    .await
}

/// Cancel a queued or running check of the shared queue (a PostgreSQL store): it is
/// never run, or its result is dropped, and it ends `failed` as `cancelled`. A finished
/// check is answered as it is.
#[utoipa::path(post, path = "/api/checks/{id}/cancel", tag = "checks",
    params(("id" = String, Path, description = "Check id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = CheckView),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "`check_not_found`"),
        (status = 409, body = ErrorBody, description = "`no_shared_queue`: this server runs checks itself (SQLite)")))]
pub async fn cancel_check(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<CheckView>, ApiError> {
    let Path(id) = id?;
    if !st.jobs().is_shared() {
        return Err(EngineError::NoSharedQueue.into());
    }
    let lib = st.lib().clone();
    let cancelled = blocking(move || Ok(lib.cancel_check(&id)?.id)).await?;
    Ok(Json(load_view(&st, cancelled.to_string()).await?))
}

/// Past checks, newest first.
#[utoipa::path(get, path = "/api/checks", tag = "checks", params(PageParams),
    responses((status = 200, body = CheckPage), (status = 400, body = ErrorBody)))]
pub async fn list_checks(
    State(st): State<AppState>,
    params: Result<Query<PageParams>, QueryRejection>,
) -> Result<Json<CheckPage>, ApiError> {
    let Query(p) = params?;
    let offset = p.offset.unwrap_or(0);
    let limit = p.limit.unwrap_or(20);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "`limit` must be between 1 and {MAX_LIMIT}"
        )));
    }
    let lib = st.lib().clone();
    let mut rows = blocking(move || Ok(lib.checks(offset, limit.saturating_add(1))?)).await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let items = rows.into_iter().map(|c| c.summary()).collect();
    Ok(Json(CheckPage {
        items,
        offset,
        limit,
        // No next page past usize::MAX (`offset + limit` would overflow).
        next_offset: more.then(|| offset.checked_add(limit)).flatten(),
    }))
}

/// What changed from an earlier check (`against`) to this one: verdict, sources,
/// sentences. Both must be done.
#[utoipa::path(get, path = "/api/checks/{id}/diff", tag = "checks",
    params(("id" = String, Path, description = "The later check"), DiffParams),
    responses(
        (status = 200, body = BriefDiff),
        (status = 404, body = ErrorBody, description = "`check_not_found`"),
        (status = 409, body = ErrorBody, description = "`check_not_done`")))]
pub async fn diff_checks(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    params: Result<Query<DiffParams>, QueryRejection>,
) -> Result<Json<BriefDiff>, ApiError> {
    let Path(id) = id?;
    let Query(p) = params?;
    let lib = st.lib().clone();
    let diff = blocking(move || Ok(lib.diff_checks(&p.against, &id)?)).await?;
    Ok(Json(diff))
}

/// Progress of a check as server-sent events. The first event is always the current
/// `status`; then `stage`, `advance` and `message` events from the pipeline, and finally
/// `done` or `failed`, after which the stream ends. A finished check gets its `status`
/// and final event at once.
#[utoipa::path(get, path = "/api/checks/{id}/events", tag = "checks",
    params(("id" = String, Path, description = "Check id")),
    responses(
        (status = 200, content_type = "text/event-stream", body = JobEvent,
            description = "One JSON `JobEvent` per event; the SSE `event:` field is its `type`"),
        (status = 404, body = ErrorBody, description = "`check_not_found`")))]
pub async fn check_events(
    State(st): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let Path(id) = id?;
    // Live first (so no transition is missed), then the store for finished checks.
    let (first, rx) = match st.jobs().live(&id) {
        Some(live) => {
            let (first, rx) = live.subscribe();
            (first, Some(rx))
        }
        None => {
            let c = load_check(&st, id.clone()).await?;
            let mut first = vec![JobEvent::Status {
                status: c.status,
                stage: None,
                done: 0,
                total: None,
            }];
            match final_event(&c) {
                Some(f) => first.push(f),
                // Run by a worker of the shared queue, on any node: follow the store.
                None if st.jobs().is_shared() => {
                    return Ok(sse(first, Some(follow_shared(&st, c.id.to_string())), &st))
                }
                // Stored as in flight, but not in this process: it finished between the
                // two looks, or a previous process left it behind.
                None => first.push(JobEvent::Failed {
                    id: c.id.to_string(),
                    error: "this check is not running in this server; fetch it again or submit it again".into(),
                }),
            }
            (first, None)
        }
    };
    Ok(sse(first, rx, &st))
}

fn sse(
    first: Vec<JobEvent>,
    rx: Option<broadcast::Receiver<JobEvent>>,
    st: &AppState,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = event_stream(first, rx, st.shutdown_signal());
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// How often a stream of a shared-queue check looks at the store.
const FOLLOW_SHARED_EVERY: Duration = Duration::from_millis(500);

/// Events of a check that a shared-queue worker (on any node) runs, read from the store
/// every [`FOLLOW_SHARED_EVERY`]: a `status` event whenever its status or progress
/// changes, then its final event.
fn follow_shared(st: &AppState, id: String) -> broadcast::Receiver<JobEvent> {
    let (tx, rx) = broadcast::channel(16);
    let lib = st.lib().clone();
    tokio::spawn(async move {
        let mut last = None;
        while tx.receiver_count() > 0 {
            tokio::time::sleep(FOLLOW_SHARED_EVERY).await;
            let (lib, id) = (lib.clone(), id.clone());
            let Ok(Ok((check, job))) = tokio::task::spawn_blocking(move || {
                let check = lib.check(&id)?;
                Ok::<_, EngineError>((check.clone(), lib.check_job(check.id.as_str())?))
            })
            .await
            else {
                continue;
            };
            if let Some(end) = final_event(&check) {
                let _ = tx.send(end);
                return;
            }
            let progress = job.and_then(|j| j.progress).unwrap_or_default();
            let ev = JobEvent::Status {
                status: check.status,
                stage: progress.stage,
                done: progress.done,
                total: progress.total,
            };
            if last.as_ref() != Some(&ev) {
                let _ = tx.send(ev.clone());
                last = Some(ev);
            }
        }
    });
    rx
}

struct StreamState {
    pending: std::collections::VecDeque<JobEvent>,
    rx: Option<broadcast::Receiver<JobEvent>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    ended: bool,
}

fn sse_event(ev: &JobEvent) -> Event {
    Event::default()
        .event(ev.name())
        .data(serde_json::to_string(ev).unwrap_or_else(|_| "{}".into()))
}

fn event_stream(
    first: Vec<JobEvent>,
    rx: Option<broadcast::Receiver<JobEvent>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let st = StreamState {
        pending: first.into(),
        rx,
        shutdown,
        ended: false,
    };
    futures_util::stream::unfold(st, |mut st| async move {
        if st.ended {
            return None;
        }
        if let Some(ev) = st.pending.pop_front() {
            st.ended = ev.is_final();
            return Some((Ok(sse_event(&ev)), st));
        }
        let mut rx = st.rx.take()?;
        let next = loop {
            tokio::select! {
                r = rx.recv() => match r {
                    Ok(ev) => break Some(ev),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => break None,
                },
                _ = st.shutdown.wait_for(|s| *s) => break None,
            }
        };
        let ev = next?;
        st.ended = ev.is_final();
        st.rx = Some(rx);
        Some((Ok(sse_event(&ev)), st))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_sanitised() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(
            sanitize_file_name("C:\\Users\\x\\report v2.pdf"),
            "report_v2.pdf"
        );
        assert_eq!(sanitize_file_name(".hidden.md"), "hidden.md");
        assert_eq!(sanitize_file_name(""), "upload");
        assert_eq!(sanitize_file_name(".."), "upload");
        assert_eq!(sanitize_file_name("ünïcode name.txt"), "_n_code_name.txt");
        let long = format!("{}.html", "a".repeat(300));
        let s = sanitize_file_name(&long);
        assert_eq!(s.chars().count(), 120);
        assert!(s.ends_with(".html"));
    }

    #[test]
    fn search_params_are_validated() {
        let mut p = SearchParams {
            q: Some("weir".into()),
            limit: None,
            mode: None,
            publisher: None,
            kind: Some("news, audit".into()),
            format: None,
            from: Some("2023-01-01".into()),
            to: None,
        };
        let r = search_request(&p).unwrap();
        assert_eq!(r.limit, 10);
        assert_eq!(r.filters.kinds, vec![SourceKind::News, SourceKind::Audit]);
        p.kind = Some("blog".into());
        assert_eq!(search_request(&p).unwrap_err().code, Code::InvalidRequest);
        p.kind = None;
        p.from = Some("yesterday".into());
        assert!(search_request(&p).unwrap_err().message.contains("date"));
        p.from = None;
        p.q = Some("  ".into());
        assert!(search_request(&p).is_err());
    }

    #[test]
    fn a_check_needs_exactly_one_input() {
        let nc = |q: Option<&str>, c: Option<&str>| NewCheck {
            question: q.map(str::to_string),
            claim: c.map(str::to_string),
            as_of: None,
            show_unsupported: false,
        };
        assert_eq!(check_input(nc(Some(" Why? "), None)).unwrap().text, "Why?");
        assert_eq!(check_input(nc(None, Some("X"))).unwrap().mode, Mode::Check);
        assert!(check_input(nc(Some("a"), Some("b"))).is_err());
        assert!(check_input(nc(None, None)).is_err());
        assert!(check_input(nc(Some(" "), None)).is_err());
    }
}
