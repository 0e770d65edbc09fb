//! URL ingest against a tiny HTTP server on 127.0.0.1 started by each test.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;
use verity_ingest::{fetch_url, FetchOptions, ReadOptions};
use verity_types::{Format, SourceKind};

const PAGE: &str = r#"<!DOCTYPE html><html><head><title>Ferry timetable changes | Brackenford Herald</title>
<meta property="og:site_name" content="Brackenford Herald">
<meta name="date" content="2024-02-01">
<link rel="canonical" href="/ferry-canonical"></head>
<body><nav><a href="/">Home</a><a href="/x">Other</a></nav>
<article><p>The Brackenford ferry will run every forty minutes from 1 March, the operator said. (Fictional.)</p></article>
<footer>Footer text</footer></body></html>"#;

/// Serve canned responses by path, one thread per connection, until the test ends.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || handle(stream));
        }
    });
    format!("http://{addr}")
}

fn respond(mut s: &TcpStream, status: &str, headers: &[(&str, String)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
}

fn handle(stream: TcpStream) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let html = ("Content-Type", "text/html; charset=utf-8".to_string());
    match path.as_str() {
        "/page.html" => respond(
            &stream,
            "200 OK",
            &[html, ("Content-Length", PAGE.len().to_string())],
            PAGE.as_bytes(),
        ),
        "/notes.md" => {
            let body = b"---\ntitle: Ferry notes\npublisher: Brackenford Ferry Users Association\n---\nThe ferry is late again.";
            respond(
                &stream,
                "200 OK",
                &[("Content-Type", "text/plain".into())],
                body,
            )
        }
        "/latin1.txt" => respond(
            &stream,
            "200 OK",
            &[("Content-Type", "text/plain; charset=iso-8859-1".into())],
            b"Caf\xe9 owners on the quay want a later last sailing.",
        ),
        "/moved" => respond(
            &stream,
            "301 Moved Permanently",
            &[("Location", "/page.html".into())],
            b"",
        ),
        "/loop-a" => respond(&stream, "302 Found", &[("Location", "/loop-b".into())], b""),
        "/loop-b" => respond(&stream, "302 Found", &[("Location", "/loop-a".into())], b""),
        p if p.starts_with("/chain/") => {
            let n: u32 = p["/chain/".len()..].parse().unwrap_or(0);
            let next = if n == 0 {
                "/page.html".to_string()
            } else {
                format!("/chain/{}", n - 1)
            };
            respond(&stream, "302 Found", &[("Location", next)], b"")
        }
        "/to-file" => respond(
            &stream,
            "302 Found",
            &[("Location", "file:///etc/passwd".into())],
            b"",
        ),
        "/big-declared" => {
            // Declares its size up front: refused before reading.
            let body = vec![b'a'; 4096];
            respond(
                &stream,
                "200 OK",
                &[
                    ("Content-Type", "text/plain".into()),
                    ("Content-Length", "4096".into()),
                ],
                &body,
            )
        }
        "/big-streamed" => {
            // No Content-Length: the cap must stop the read.
            let mut s = &stream;
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n",
            );
            for _ in 0..64 {
                if s.write_all(&[b'b'; 1024]).is_err() {
                    break;
                }
            }
        }
        "/slow" => {
            thread::sleep(Duration::from_secs(5));
            respond(
                &stream,
                "200 OK",
                &[("Content-Type", "text/plain".into())],
                b"too late",
            );
        }
        "/dribble" => {
            // Headers at once, then the body a byte at a time: each read is quick, the
            // whole body takes DRIBBLE_BYTES * 100 ms.
            let mut s = &stream;
            let head = format!("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: {DRIBBLE_BYTES}\r\n\r\n");
            let _ = s.write_all(head.as_bytes());
            for _ in 0..DRIBBLE_BYTES {
                if s.write_all(b"d").and_then(|()| s.flush()).is_err() {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
        }
        "/image" => respond(
            &stream,
            "200 OK",
            &[("Content-Type", "image/png".into())],
            b"\x89PNG\r\n\x1a\n",
        ),
        _ => respond(
            &stream,
            "404 Not Found",
            &[("Content-Type", "text/plain".into())],
            b"nope",
        ),
    }
}

/// Body length of `/dribble`.
const DRIBBLE_BYTES: u64 = 100;

fn private_ok() -> FetchOptions {
    FetchOptions {
        allow_private: true,
        ..FetchOptions::default()
    }
}

fn ropts() -> ReadOptions {
    ReadOptions::default()
}

#[test]
fn fetches_html_with_allow_private() {
    let base = serve();
    let doc = fetch_url(&format!("{base}/page.html"), &private_ok(), &ropts()).unwrap();
    assert_eq!(doc.format, Format::Html);
    assert_eq!(doc.location, format!("{base}/page.html"));
    assert_eq!(
        doc.meta.url.as_deref(),
        Some(format!("{base}/page.html").as_str())
    );
    assert_eq!(doc.meta.title.as_deref(), Some("Ferry timetable changes"));
    assert_eq!(doc.meta.publisher.as_deref(), Some("Brackenford Herald"));
    assert_eq!(doc.meta.kind, Some(SourceKind::News));
    assert_eq!(
        doc.text,
        "The Brackenford ferry will run every forty minutes from 1 March, the operator said. (Fictional.)"
    );
}

#[test]
fn refuses_loopback_without_allow_private() {
    let base = serve();
    for url in [
        format!("{base}/page.html"),
        base.replace("127.0.0.1", "localhost") + "/page.html",
    ] {
        let e = fetch_url(&url, &FetchOptions::default(), &ropts()).unwrap_err();
        assert_eq!(e.reason_code(), "refused_private", "{url}: {e}");
        assert!(e.to_string().contains("--allow-private"));
    }
}

#[test]
fn follows_redirects_and_reports_final_url() {
    let base = serve();
    let doc = fetch_url(&format!("{base}/moved"), &private_ok(), &ropts()).unwrap();
    assert_eq!(doc.location, format!("{base}/page.html"));
    assert_eq!(
        doc.meta.url.as_deref(),
        Some(format!("{base}/page.html").as_str())
    );
    // Exactly the limit is fine: 5 hops then the page.
    let doc = fetch_url(&format!("{base}/chain/4"), &private_ok(), &ropts()).unwrap();
    assert_eq!(doc.location, format!("{base}/page.html"));
}

#[test]
fn redirect_loop_and_long_chains_are_stopped() {
    let base = serve();
    let e = fetch_url(&format!("{base}/loop-a"), &private_ok(), &ropts()).unwrap_err();
    assert_eq!(e.reason_code(), "redirect_loop", "{e}");
    let e = fetch_url(&format!("{base}/chain/9"), &private_ok(), &ropts()).unwrap_err();
    assert_eq!(e.reason_code(), "too_many_redirects", "{e}");
    assert!(e.to_string().contains("5 redirects"), "{e}");
}

#[test]
fn redirect_to_other_scheme_is_refused() {
    let base = serve();
    let e = fetch_url(&format!("{base}/to-file"), &private_ok(), &ropts()).unwrap_err();
    assert_eq!(e.reason_code(), "bad_url", "{e}");
}

#[test]
fn oversized_bodies_are_refused() {
    let base = serve();
    let opts = FetchOptions {
        max_bytes: 1000,
        ..private_ok()
    };
    let e = fetch_url(&format!("{base}/big-declared"), &opts, &ropts()).unwrap_err();
    assert_eq!(e.reason_code(), "too_large", "{e}");
    assert!(e.to_string().contains("4096 bytes"), "{e}");
    let e = fetch_url(&format!("{base}/big-streamed"), &opts, &ropts()).unwrap_err();
    assert_eq!(e.reason_code(), "too_large", "{e}");
    assert!(e.to_string().contains("stopped reading"), "{e}");
}

#[test]
fn non_http_schemes_are_refused() {
    for url in [
        "file:///etc/passwd",
        "ftp://127.0.0.1/x",
        "javascript:alert(1)",
    ] {
        let e = fetch_url(url, &private_ok(), &ropts()).unwrap_err();
        assert_eq!(e.reason_code(), "bad_url", "{url}");
    }
}

#[test]
fn http_errors_and_timeouts() {
    let base = serve();
    let e = fetch_url(&format!("{base}/missing"), &private_ok(), &ropts()).unwrap_err();
    assert_eq!(e.reason_code(), "http_status");
    assert!(e.to_string().contains("HTTP 404 Not Found"), "{e}");

    let opts = FetchOptions {
        timeout: Duration::from_millis(700),
        ..private_ok()
    };
    let e = fetch_url(&format!("{base}/slow"), &opts, &ropts()).unwrap_err();
    assert_eq!(e.reason_code(), "timeout");
    assert!(e.to_string().contains("timed out"), "{e}");

    let e = fetch_url(&format!("{base}/image"), &private_ok(), &ropts()).unwrap_err();
    assert_eq!(e.reason_code(), "unsupported");
    assert!(e.to_string().contains("image/png"), "{e}");
}

#[test]
fn content_type_and_charset_pick_the_reader() {
    let base = serve();
    let doc = fetch_url(&format!("{base}/notes.md"), &private_ok(), &ropts()).unwrap();
    assert_eq!(doc.format, Format::Markdown);
    assert_eq!(doc.meta.title.as_deref(), Some("Ferry notes"));
    assert_eq!(doc.meta.kind, Some(SourceKind::Advocacy));
    let doc = fetch_url(&format!("{base}/latin1.txt"), &private_ok(), &ropts()).unwrap();
    assert_eq!(
        doc.text,
        "Café owners on the quay want a later last sailing."
    );
}

#[test]
fn the_deadline_holds_while_a_body_dribbles_in() {
    let base = serve();
    let opts = FetchOptions {
        timeout: Duration::from_secs(1),
        ..private_ok()
    };
    let e = fetch_url(&format!("{base}/dribble"), &opts, &ropts()).unwrap_err();
    assert_eq!(e.reason_code(), "timeout", "{e}");
    match e {
        // Reached the body, and gave up long before its end.
        verity_ingest::IngestError::TimedOut {
            received: Some(n), ..
        } => assert!(n < DRIBBLE_BYTES, "read {n} of {DRIBBLE_BYTES} bytes"),
        other => panic!("expected a timeout while reading the body, got {other:?}"),
    }
}

#[test]
fn the_size_cap_names_the_callers_setting() {
    let base = serve();
    let opts = FetchOptions {
        max_bytes: 1000,
        max_bytes_setting: "`--max-size-mb`",
        ..private_ok()
    };
    for path in ["/big-declared", "/big-streamed"] {
        let e = fetch_url(&format!("{base}{path}"), &opts, &ropts()).unwrap_err();
        assert_eq!(e.reason_code(), "too_large", "{path}: {e}");
        assert!(e.to_string().contains("--max-size-mb"), "{path}: {e}");
    }
}
