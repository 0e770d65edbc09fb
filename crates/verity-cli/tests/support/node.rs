//! One `verity serve --worker` process on a PostgreSQL store, driven over HTTP: what
//! the multi-node tests (`multinode.rs`, `ingest_jobs.rs`) share.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::common::{run_ok, verity};

/// Upper bound on any wait, so that a broken build fails instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(180);
/// Leases short enough that a killed node's job moves on within seconds.
pub const LEASE_MS: &str = "1500";

/// One `verity serve --worker` process.
pub struct Node {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Node {
    pub fn start(data: &Path, store: &str, extra: &[&str]) -> Node {
        let mut child = verity(data)
            .args([
                "--store",
                store,
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--worker",
            ])
            .args(["--lease-ms", LEASE_MS, "--queue", "1000"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Read the address it serves on, then keep draining its log.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("verity: serving http://") {
                    let _ = tx.send(rest.split('/').next().unwrap_or_default().to_string());
                }
            }
        });
        let addr = rx
            .recv_timeout(PATIENCE)
            .expect("the node printed the address it serves on");
        Node {
            child,
            addr: addr.parse().unwrap(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, sig: &str) {
        run_ok(std::process::Command::new("kill").args([sig, &self.pid().to_string()]));
    }

    /// An HTTP/1.1 request; the status and the body.
    pub fn http(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
        let mut s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, body.to_string())
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        self.http("GET", path, "application/json", b"")
    }

    pub fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    pub fn submit(&self, claim: &str) -> String {
        let body = json!({ "claim": claim }).to_string();
        let (status, body) = self.http("POST", "/api/checks", "application/json", body.as_bytes());
        assert_eq!(status, 202, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        v["id"].as_str().unwrap().to_string()
    }

    /// Upload one file; on a shared store it is queued: the ingest job's id.
    pub fn upload(&self, name: &str, data: &[u8]) -> String {
        let b = "verityboundary7";
        let mut body = format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
        let ctype = format!("multipart/form-data; boundary={b}");
        let (status, body) = self.http("POST", "/api/sources", &ctype, &body);
        assert_eq!(status, 202, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["state"], "queued", "{v:#}");
        v["id"].as_str().unwrap().to_string()
    }

    /// Poll `path` until it answers 200; meanwhile only a 503 with error `code` is
    /// accepted, for at most [`PATIENCE`].
    pub fn wait_until_answering(&self, path: &str, code: &str) {
        let start = Instant::now();
        loop {
            let (status, body) = self.get(path);
            if status == 200 {
                return;
            }
            assert_eq!(status, 503, "GET {path}: {body}");
            let err: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(err["error"]["code"], code, "GET {path}: {err:#}");
            assert!(start.elapsed() < PATIENCE, "GET {path} still 503: {body}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The ingest job, polled until `done(job)` or [`PATIENCE`] runs out.
    pub fn wait_for_ingest(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let v = self.get_json(&format!("/api/sources/jobs/{id}"));
            if done(&v) {
                return v;
            }
            assert!(start.elapsed() < PATIENCE, "ingest job {id} stuck: {v:#}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The check, polled until `done(check)` or [`PATIENCE`] runs out.
    pub fn wait_for(&self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let v = self.get_json(&format!("/api/checks/{id}"));
            if done(&v) {
                return v;
            }
            assert!(start.elapsed() < PATIENCE, "check {id} stuck: {v:#}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The pid in a job's worker id (`host:pid:n`), in a check's or an ingest job's view.
pub fn worker_pid(view: &Value) -> u32 {
    let worker = view["job"]["worker"].as_str().unwrap_or_default();
    worker
        .split(':')
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}
