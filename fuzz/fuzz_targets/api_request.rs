//! Any request to the API, in process: the first byte picks the route and the content
//! type, the rest is the body (or the query, or the path). Contract: no panic, no hang,
//! never a 5xx; a 4xx carries the JSON error shape (code, message, hint); a 2xx from the
//! API is JSON. The library underneath is a small one of fictional stories, lexical
//! search only; what the requests add to it stays for the next ones.
#![no_main]

use axum::body::Body;
use axum::http::{header, Method, Request};
use axum::Router;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;
use verity_engine::{IngestOptions, Library, LibraryOptions, ModelsMode};
use verity_server::{router, AppState, ServerConfig};
use verity_types::NoProgress;

const BOUNDARY: &str = "fuzzboundary";

struct Server {
    rt: tokio::runtime::Runtime,
    app: Router,
    _dir: tempfile::TempDir,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let lib = Library::open(LibraryOptions {
            data_dir: dir.path().join("data"),
            models: ModelsMode::Off,
            read_only: false,
            models_dir: None,
            store: None,
        })
        .expect("a library");
        let stories = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/story");
        let opts = IngestOptions {
            embed: false,
            ..IngestOptions::default()
        };
        lib.ingest(&[stories.display().to_string()], &opts, &NoProgress)
            .expect("the story corpus");
        let cfg = ServerConfig {
            addr: "127.0.0.1:8080".parse().expect("an address"),
            max_upload_bytes: 256 * 1024,
            ..ServerConfig::default()
        };
        let app = rt
            .block_on(async { AppState::new(Arc::new(lib), cfg).map(router) })
            .expect("the server state");
        Server { rt, app, _dir: dir }
    })
}

/// The request the input stands for, or `None` when its bytes cannot be a URI.
fn request(pick: u8, rest: &[u8]) -> Option<Request<Body>> {
    let text = String::from_utf8_lossy(rest);
    let (method, uri, content_type, body) = match pick % 7 {
        0 => (
            Method::POST,
            "/api/checks".to_string(),
            "application/json".to_string(),
            rest.to_vec(),
        ),
        1 => (
            Method::POST,
            "/api/sources".to_string(),
            "application/json".to_string(),
            rest.to_vec(),
        ),
        2 => (
            Method::POST,
            "/api/sources".to_string(),
            format!("multipart/form-data; boundary={BOUNDARY}"),
            rest.to_vec(),
        ),
        3 => (
            Method::GET,
            format!("/api/search?{text}"),
            String::new(),
            Vec::new(),
        ),
        4 => (
            Method::GET,
            format!("/api/{text}"),
            String::new(),
            Vec::new(),
        ),
        5 => {
            // The first line is the content type, the rest the body.
            let (ct, body) = text.split_once('\n').unwrap_or((&text, ""));
            (
                Method::POST,
                "/api/checks".to_string(),
                ct.to_string(),
                body.as_bytes().to_vec(),
            )
        }
        _ => (
            Method::DELETE,
            format!("/api/sources/{text}"),
            String::new(),
            Vec::new(),
        ),
    };
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "127.0.0.1:8080");
    if !content_type.is_empty() {
        b = b.header(header::CONTENT_TYPE, content_type);
    }
    b.body(Body::from(body)).ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Some(req) = request(pick, rest) else {
        return;
    };
    let uri = req.uri().clone();
    let s = server();
    let (status, bytes) = s.rt.block_on(async {
        let resp = s
            .app
            .clone()
            .oneshot(req)
            .await
            .expect("the router is infallible");
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("a body");
        (status, bytes)
    });
    let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
    assert!(status < 500, "{status} for {uri}: {shown}");
    if status >= 400 {
        let v: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{status} for {uri}, not JSON ({e}): {shown}"));
        for field in ["code", "message", "hint"] {
            assert!(
                v["error"][field].as_str().is_some_and(|f| !f.is_empty()),
                "{status} for {uri} without an error {field}: {shown}"
            );
        }
    } else if status < 300 && uri.path().starts_with("/api/") {
        assert!(
            serde_json::from_slice::<Value>(&bytes).is_ok(),
            "{status} for {uri}, not JSON: {shown}"
        );
    }
});
