//! Random request bodies against a real server (issue 14): random JSON values, wrong
//! types, huge strings, deep nesting, invalid UTF-8 and plain junk, POSTed as
//! `application/json` to every endpoint that takes a JSON body (`POST /api/checks`,
//! `POST /api/sources`) and to GET-only routes. Whatever arrives, the server never
//! answers 5xx, every 4xx is the JSON error shape with a `code`, every 2xx is JSON, and
//! `GET /api/health` answers 200 after each request.
//!
//! Deterministic: a fixed seed and 64 cases; `PROPTEST_CASES` raises the count.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde_json::{json, Value};
use std::time::Duration;

/// Small, so that generated huge strings land on both sides of it.
const MAX_BODY: usize = 512 * 1024;

fn runner_config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(64),
        rng_seed: RngSeed::Fixed(
            std::env::var("PROPTEST_RNG_SEED")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0x7e51_5e77),
        ),
        failure_persistence: None,
        fork: false,
        timeout: 0,
        max_shrink_iters: 64,
        ..Config::default()
    }
}

const FIELDS: &[&str] = &[
    "claim",
    "question",
    "as_of",
    "show_unsupported",
    "url",
    "attribution",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(FIELDS).prop_map(str::to_string),
        1 => "\\PC{0,12}",
        1 => Just("__proto__".to_string()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,40}".prop_map(Value::from),
        prop::sample::select(vec![
            "",
            "   ",
            "2024-03-05",
            "2024-13-45",
            "yesterday",
            "Did the weir close?",
            "The weir repairs cost £4.2m.",
            "http://127.0.0.1:9/x",
            "https://10.0.0.1/page",
            "http://localhost/",
            "ftp://example.invalid/",
            "file:///etc/passwd",
            "javascript:1",
            "\u{0}",
            "\u{202E}evil",
            "\u{1b}[31mred\u{1b}]0;title\u{7}",
        ])
        .prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A body as raw bytes, with what it is for the failure message.
#[derive(Clone)]
struct Body(&'static str, Vec<u8>);

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: String = String::from_utf8_lossy(&self.1).chars().take(300).collect();
        write!(f, "{} ({} bytes): {shown:?}", self.0, self.1.len())
    }
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        // Any JSON value at all.
        3 => value().prop_map(|v| Body("random value", v.to_string().into_bytes())),
        // The right field names with values of any type.
        4 => prop::collection::vec((prop::sample::select(FIELDS), leaf()), 0..4)
            .prop_map(|kv| Body("fields", Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()).to_string().into_bytes())),
        // A huge string in a known field: under and over the body limit.
        2 => (prop::sample::select(FIELDS), "[a-zé ]{1,8}", 2_000usize..(2 * MAX_BODY))
            .prop_map(|(k, unit, len)| {
                let s: String = unit.chars().cycle().take(len).collect();
                Body("huge string", json!({ k: s }).to_string().into_bytes())
            }),
        // Deep nesting, bare or under a field.
        2 => (1usize..100_000, any::<bool>(), any::<bool>()).prop_map(|(d, obj, field)| {
            let (open, close) = if obj { ("{\"a\":", "}") } else { ("[", "]") };
            let inner = format!("{}1{}", open.repeat(d), close.repeat(d));
            let s = if field { format!("{{\"claim\": {inner}}}") } else { inner };
            Body("deep nesting", s.into_bytes())
        }),
        // Invalid UTF-8 inside a string, or raw junk.
        2 => prop::collection::vec(128u8..=255, 1..64).prop_map(|junk| {
            let mut b = b"{\"claim\": \"".to_vec();
            b.extend_from_slice(&junk);
            b.extend_from_slice(b"\"}");
            Body("invalid UTF-8", b)
        }),
        1 => prop::collection::vec(any::<u8>(), 0..512).prop_map(|b| Body("random bytes", b)),
        // Edge cases of the JSON grammar.
        2 => prop::sample::select(vec![
            "", " ", "null", "{}", "[]", "{\"claim\": \"a\", \"claim\": \"b\"}",
            "{\"claim\": \"the weir\"} trailing", "{\"claim\": 1e999999}",
            "{\"question\": 123456789012345678901234567890}", "{\"claim\": \"\\ud800\"}",
            "{\"claim\": \"ok\", \"as_of\": \"2024-02-30\"}", "{\"url\": null}", "{\"url\": \"   \"}",
            "{\"url\": \"http://127.0.0.1:1/\", \"attribution\": [1]}", "\u{FEFF}{\"claim\": \"x\"}",
            "{\"claim\": \"x\", \"extra\": 1}", "{'claim': 'single quotes'}", "{\"claim\": \"\\u0000\"}",
        ])
        .prop_map(|s| Body("grammar edge", s.as_bytes().to_vec())),
    ]
}

fn path() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        5 => Just("/api/checks"),
        5 => Just("/api/sources"),
        1 => Just("/api/search"),
        1 => Just("/api/health"),
        1 => Just("/api/checks/nope/diff"),
    ]
}

/// What the server answered, checked against the contract.
fn check_answer(status: u16, bytes: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(bytes);
    let shown: String = text.chars().take(300).collect();
    if status >= 500 {
        return Err(format!("server error {status}: {shown}"));
    }
    let v: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("{status} with a body that is not JSON ({e}): {shown}"))?;
    if status >= 400 {
        let code = v["error"]["code"].as_str().unwrap_or_default();
        let message = v["error"]["message"].as_str().unwrap_or_default();
        let hint = v["error"]["hint"].as_str().unwrap_or_default();
        if code.is_empty() || message.is_empty() || hint.is_empty() {
            return Err(format!(
                "{status} without an error code, message and hint: {shown}"
            ));
        }
    }
    Ok(())
}

#[test]
fn random_json_bodies_get_4xx_json_errors_and_the_server_stays_healthy() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut cfg = config();
    cfg.max_upload_bytes = MAX_BODY;
    let server = rt.block_on(TestServer::start(cfg));
    let mut runner = TestRunner::new(runner_config());
    let statuses = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u32>::new());
    let result = runner.run(&(path(), body()), |(path, body)| {
        let (status, answer, health) = rt.block_on(async {
            let r = server
                .client
                .post(server.url(path))
                .header("content-type", "application/json")
                .body(body.1.clone())
                .send()
                .await
                .map_err(|e| TestCaseError::fail(format!("POST {path}: {e}")))?;
            let status = r.status().as_u16();
            let answer = r
                .bytes()
                .await
                .map_err(|e| TestCaseError::fail(format!("POST {path} body: {e}")))?;
            let health = tokio::time::timeout(Duration::from_secs(30), server.get("/api/health"))
                .await
                .map_err(|_| TestCaseError::fail("GET /api/health did not answer in 30 s"))?;
            Ok::<_, TestCaseError>((status, answer, health))
        })?;
        *statuses.borrow_mut().entry(status).or_default() += 1;
        check_answer(status, &answer)
            .map_err(|why| TestCaseError::fail(format!("POST {path} {body:?}: {why}")))?;
        prop_assert_eq!(
            health.0,
            200,
            "unhealthy after POST {} {:?}: {}",
            path,
            body,
            health.1
        );
        prop_assert_eq!(&health.1["status"], "ok");
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let statuses = statuses.into_inner();
    eprintln!("statuses: {statuses:?}");
    // The run reached past the JSON parser: some bodies were refused for their content.
    assert!(
        statuses.keys().any(|s| (400..500).contains(s)),
        "{statuses:?}"
    );
    rt.shutdown_timeout(Duration::from_secs(5));
}
