//! An in-process stand-in for a chat-completions server, for the failures a real server
//! cannot be made to produce on demand (429, 5xx, garbage, silence, invented citations).
//! Shared by the tests of `verity-llm`, `verity-cli` and `verity-server` (included with
//! `#[path]`).
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One scripted answer: the raw HTTP response, sent after `delay`.
pub struct Canned {
    pub delay: Duration,
    pub response: String,
}

pub fn http(status: &str, headers: &str, body: &str) -> Canned {
    Canned {
        delay: Duration::ZERO,
        response: format!(
            "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
            body.len()
        ),
    }
}

pub fn ok_json(content: &str) -> Canned {
    let body = serde_json::json!({
        "id": "x", "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}
    });
    http(
        "200 OK",
        "content-type: application/json\r\n",
        &body.to_string(),
    )
}

/// Serves `script` in order, one connection each; returns the base URL and the request
/// bodies it received.
pub fn stand_in(script: Vec<Canned>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    thread::spawn(move || {
        for canned in script {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let body = read_request(&stream);
            log.lock().unwrap().push(body);
            thread::sleep(canned.delay);
            let mut stream = stream;
            let _ = stream.write_all(canned.response.as_bytes());
        }
    });
    (url, seen)
}

pub fn read_request(stream: &TcpStream) -> String {
    let mut r = BufReader::new(stream);
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; len];
    let _ = r.read_exact(&mut body);
    String::from_utf8_lossy(&body).into_owned()
}

/// An endpoint that answers every chat request with `content` (one connection each, for
/// as long as the test runs); returns its base URL and the request bodies it received.
pub fn always(content: &str) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let content = content.to_string();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            log.lock().unwrap().push(read_request(&stream));
            let mut stream = stream;
            let _ = stream.write_all(ok_json(&content).response.as_bytes());
        }
    });
    (url, seen)
}
