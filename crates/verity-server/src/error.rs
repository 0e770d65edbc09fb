//! Every error the API can answer, as a stable code with an HTTP status and a hint.
//!
//! The codes, their statuses and hints live in one place for the CLI and the server
//! alike: [`verity_types::ErrorCode`] (here `Code`). Handlers return [`ApiError`].
//! Anything that implements [`HasCode`] (engine errors, axum's extractor rejections,
//! ...) converts into one with `?`. Responses that inner
//! layers produce without a JSON body (the body-size limit's 413, the timeout's 408, an
//! unknown route's 404) are rewritten by [`json_errors`] so that every error a client
//! sees has the same shape:
//!
//! ```json
//! {"error": {"code": "queue_full", "message": "...", "hint": "retry after ..."}}
//! ```

use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use verity_engine::EngineError;

/// A stable, machine-readable error code. Clients match on these strings; the
/// messages and hints are for people and may change.
pub use verity_types::ErrorCode as Code;

/// The HTTP status a code is answered with.
pub fn http_status(code: Code) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Errors that know which [`Code`] they answer with.
pub trait HasCode {
    fn error_code(&self) -> Code;
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable code (see the `Code` schema).
    pub code: Code,
    /// What happened, for people.
    pub message: String,
    /// What to do next, for people (one per code).
    pub hint: String,
    /// Extra data for some codes (the ingest report for `ingest_failed` and
    /// `url_refused`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<Value>,
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub details: Option<Value>,
    /// Seconds for the `Retry-After` header (429 and 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(Code::InvalidRequest, message)
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn internal(what: impl std::fmt::Display) -> Self {
        ApiError::new(
            Code::Internal,
            format!("internal error: {}", redact_paths(&what.to_string())),
        )
    }
}

/// Library errors name files on the server; answers name only the file.
impl<E: HasCode + std::fmt::Display> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError::new(e.error_code(), redact_paths(&e.to_string()))
    }
}

/// Characters that end a path inside a message.
fn ends_path(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '`' | '\'' | '"' | '(' | ')' | ',' | ';' | '<' | '>' | '[' | ']'
        )
}

/// Does this word look like an absolute path (`/a/b`, `C:\a`)?
fn is_absolute_path(word: &str) -> bool {
    let b = word.as_bytes();
    let unix = word.starts_with('/') && word[1..].contains('/');
    let windows = b.len() > 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'\\';
    unix || windows
}

/// `word` with an absolute path replaced by its last component (trailing `:` and `.`
/// kept).
fn redact_word(word: &str) -> String {
    if !is_absolute_path(word) {
        return word.to_string();
    }
    let body = word.trim_end_matches([':', '.']);
    let tail = &word[body.len()..];
    let name = body
        .rsplit(['/', '\\'])
        .find(|p| !p.is_empty())
        .unwrap_or("(path)");
    format!("{name}{tail}")
}

/// `msg` with every absolute file path (the library directory, uploads, models, temp
/// files) replaced by its file name, so that answers do not reveal the server's layout.
pub fn redact_paths(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut word = String::new();
    for c in msg.chars() {
        if ends_path(c) {
            out.push_str(&redact_word(&word));
            word.clear();
            out.push(c);
        } else {
            word.push(c);
        }
    }
    out.push_str(&redact_word(&word));
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.code == Code::Internal {
            tracing::error!(message = %self.message, "internal error");
        }
        let status = http_status(self.code);
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                hint: self.code.hint().to_string(),
                message: self.message,
                details: self.details,
            },
        };
        let mut resp = (status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if matches!(self.code, Code::MissingToken | Code::InvalidToken) {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"verity\""),
            );
        }
        resp
    }
}

impl HasCode for EngineError {
    fn error_code(&self) -> Code {
        self.code()
    }
}

impl HasCode for tokio::task::JoinError {
    fn error_code(&self) -> Code {
        Code::Internal
    }
}

impl HasCode for std::io::Error {
    fn error_code(&self) -> Code {
        Code::Internal
    }
}

impl HasCode for JsonRejection {
    fn error_code(&self) -> Code {
        match self {
            JsonRejection::JsonSyntaxError(_) => Code::MalformedJson,
            JsonRejection::JsonDataError(_) => Code::InvalidRequest,
            JsonRejection::MissingJsonContentType(_) => Code::UnsupportedMediaType,
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
            _ => Code::InvalidRequest,
        }
    }
}

impl HasCode for QueryRejection {
    fn error_code(&self) -> Code {
        Code::InvalidRequest
    }
}

impl HasCode for PathRejection {
    fn error_code(&self) -> Code {
        Code::InvalidRequest
    }
}

impl HasCode for MultipartRejection {
    fn error_code(&self) -> Code {
        if self.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Code::PayloadTooLarge
        } else {
            Code::InvalidRequest
        }
    }
}

impl HasCode for MultipartError {
    fn error_code(&self) -> Code {
        if self.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Code::PayloadTooLarge
        } else {
            Code::InvalidRequest
        }
    }
}

/// The code for an error status that arrived without a JSON body.
fn code_for_status(status: StatusCode) -> Code {
    match status {
        StatusCode::BAD_REQUEST => Code::InvalidRequest,
        StatusCode::UNAUTHORIZED => Code::MissingToken,
        StatusCode::FORBIDDEN => Code::ReadOnly,
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => Code::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => Code::RequestTimeout,
        StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        StatusCode::URI_TOO_LONG => Code::UriTooLong,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => Code::HeadersTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => Code::InvalidRequest,
        StatusCode::TOO_MANY_REQUESTS => Code::QueueFull,
        StatusCode::SERVICE_UNAVAILABLE => Code::ShuttingDown,
        _ => Code::Internal,
    }
}

fn message_for(code: Code, method: &str, path: &str) -> String {
    match code {
        Code::NotFound => {
            format!("no endpoint at {method} {path}; GET /api/openapi.json lists them")
        }
        Code::MethodNotAllowed => {
            format!("{path} does not accept {method}; GET /api/openapi.json lists the methods")
        }
        Code::RequestTimeout => format!(
            "{method} {path} took longer than the server's request timeout; try a narrower request"
        ),
        Code::PayloadTooLarge => format!(
            "the body of {method} {path} is larger than this server accepts; send a smaller file"
        ),
        Code::UnsupportedMediaType => {
            format!("{method} {path} needs a JSON or multipart body with a matching Content-Type")
        }
        Code::UriTooLong => {
            "the request's URL is longer than this server accepts; send long input in a JSON body"
                .to_string()
        }
        Code::HeadersTooLarge => {
            "the request's headers are larger than this server accepts; send fewer or shorter headers"
                .to_string()
        }
        _ => format!("{method} {path} failed with status {code:?}"),
    }
}

/// Longest request URL (path and query) accepted, in bytes; longer ones get 414. (hyper
/// itself stops at 64 KiB; [`crate::conn`] gives that answer the JSON shape too.)
pub const MAX_URI_BYTES: usize = 16 * 1024;

/// Middleware: refuse over-long URLs, and give every error response without a JSON body
/// the standard error shape. A 413 also closes the connection: the rest of the refused
/// body is never read, so the connection cannot carry the client's next request (a
/// pooled client that reused it would see its next request cut off).
pub async fn json_errors(req: Request, next: Next) -> Response {
    let mut resp = shaped_errors(req, next).await;
    if resp.status() == StatusCode::PAYLOAD_TOO_LARGE {
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

async fn shaped_errors(req: Request, next: Next) -> Response {
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return ApiError::new(
            Code::UriTooLong,
            format!("the request's URL is {uri_len} bytes, over this server's {MAX_URI_BYTES}; send long input in a JSON body"),
        )
        .into_response();
    }
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let code = code_for_status(status);
    let mut out = ApiError::new(code, message_for(code, &method, &path)).into_response();
    *out.status_mut() = status;
    for h in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(v) = resp.headers().get(&h) {
            out.headers_mut().insert(h, v.clone());
        }
    }
    out
}

/// The standard error shape as a JSON value (for tests and the OpenAPI examples).
pub fn error_json(code: Code, message: &str) -> Value {
    json!({"error": {"code": code.as_str(), "message": message, "hint": code.hint()}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_names() {
        for c in [
            Code::MalformedJson,
            Code::QueueFull,
            Code::CheckNotFound,
            Code::ShuttingDown,
            Code::PayloadTooLarge,
        ] {
            assert_eq!(serde_json::to_value(c).unwrap(), json!(c.as_str()));
        }
    }

    #[test]
    fn engine_errors_map_to_codes() {
        assert_eq!(EngineError::ReadOnly.error_code(), Code::ReadOnly);
        assert_eq!(
            EngineError::UnknownSource("x".into()).error_code(),
            Code::SourceNotFound
        );
        assert_eq!(http_status(Code::QueueFull), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(EngineError::EmptyLibrary.error_code(), Code::EmptyLibrary);
    }

    #[test]
    fn absolute_paths_are_reduced_to_file_names() {
        assert_eq!(
            redact_paths("could not read `/tmp/.tmpX/data/uploads/up-1/a b.txt`: gone"),
            "could not read `a b.txt`: gone"
        );
        assert_eq!(
            redact_paths("model missing at /home/u/models/verity-stance/: run setup"),
            "model missing at verity-stance: run setup"
        );
        assert_eq!(
            redact_paths("open C:\\data\\lib.db failed"),
            "open lib.db failed"
        );
        for kept in [
            "could not fetch `https://x.example/a/b`: HTTP 404",
            "no endpoint at GET /api; see docs",
            "ratio 1/2 and and/or",
        ] {
            assert_eq!(redact_paths(kept), kept);
        }
    }

    #[test]
    fn every_code_has_an_http_status() {
        for c in Code::ALL {
            let s = http_status(*c);
            assert_eq!(s.as_u16(), c.status(), "{c:?}");
            assert!(s.is_client_error() || s.is_server_error(), "{c:?}");
        }
    }

    #[test]
    fn error_response_has_the_documented_shape() {
        let resp = ApiError::new(Code::QueueFull, "full")
            .retry_after(3)
            .into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "3");
    }
}
