//! A test server on 127.0.0.1:0 over a temporary library holding the story corpus.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;
use tokio::task::JoinHandle;
use verity_engine::{IngestOptions, Library, LibraryOptions, ModelsMode};
use verity_server::{AppState, ServerConfig};
use verity_types::NoProgress;

pub fn story_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/story")
}

pub struct TestServer {
    pub base: String,
    pub state: AppState,
    pub client: reqwest::Client,
    pub dir: TempDir,
    handle: JoinHandle<()>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Open a library in a fresh temp dir and ingest the story corpus (BM25 only).
pub fn story_library() -> (TempDir, Library) {
    let dir = tempfile::tempdir().unwrap();
    let lib = open_library(&dir);
    let opts = IngestOptions {
        embed: false,
        ..IngestOptions::default()
    };
    let report = lib
        .ingest(&[story_dir().display().to_string()], &opts, &NoProgress)
        .unwrap();
    assert!(report.added > 10, "{report:?}");
    (dir, lib)
}

pub fn open_library(dir: &TempDir) -> Library {
    Library::open(LibraryOptions {
        data_dir: dir.path().join("data"),
        models: ModelsMode::Off,
        read_only: false,
        models_dir: None,
        store: None,
    })
    .unwrap()
}

pub fn config() -> ServerConfig {
    ServerConfig {
        addr: "127.0.0.1:0".parse().unwrap(),
        ..ServerConfig::default()
    }
}

impl TestServer {
    pub async fn start(cfg: ServerConfig) -> TestServer {
        let (dir, lib) = tokio::task::spawn_blocking(story_library).await.unwrap();
        TestServer::start_with(dir, lib, cfg).await
    }

    pub async fn start_with(dir: TempDir, lib: Library, cfg: ServerConfig) -> TestServer {
        let listener = verity_server::bind(&cfg).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = AppState::new(Arc::new(lib), cfg).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        let handle = tokio::spawn(async move {
            verity_server::serve_on(listener, st, async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            base: format!("http://{addr}"),
            state,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            dir,
            handle,
            stop: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let r = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// `POST /api/sources` with one file part.
    pub async fn upload(&self, bytes: Vec<u8>, file_name: &str) -> (u16, Value) {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_string()),
        );
        let r = self
            .client
            .post(self.url("/api/sources"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let r = self.client.delete(self.url(path)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Stop serving and wait for the server task (and its workers) to end.
    pub async fn stop(mut self) -> TempDir {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), &mut self.handle)
            .await
            .expect("server stops")
            .unwrap();
        self.dir
    }

    /// Read server-sent events until a `done`/`failed` event (or the stream ends).
    pub async fn events(&self, id: &str) -> Vec<(String, Value)> {
        let resp = self
            .client
            .get(self.url(&format!("/api/checks/{id}/events")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        read_events(resp).await
    }
}

pub async fn read_events(mut resp: reqwest::Response) -> Vec<(String, Value)> {
    let mut buf = String::new();
    let mut out = Vec::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(120), resp.chunk())
            .await
            .expect("an event within 120 s")
            .unwrap();
        let Some(chunk) = chunk else { return out };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(i) = buf.find("\n\n") {
            let block: String = buf.drain(..i + 2).collect();
            let mut name = String::from("message");
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if data.is_empty() {
                continue; // keep-alive comment
            }
            let v: Value = serde_json::from_str(&data).unwrap();
            let last = name == "done" || name == "failed";
            out.push((name, v));
            if last {
                return out;
            }
        }
    }
}

/// Assert the standard error shape and return the code.
pub fn code(body: &Value) -> &str {
    let e = &body["error"];
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    e["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

/// Poll a check until it is done or failed.
pub async fn wait_final(s: &TestServer, id: &str) -> Value {
    for _ in 0..600 {
        let (st, v) = s.get(&format!("/api/checks/{id}")).await;
        assert_eq!(st, 200);
        if v["status"] == "done" || v["status"] == "failed" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("check {id} did not finish");
}
