//! The optional LLM writer end to end, through the real `verity` binary:
//!
//! - against a **real** llama.cpp server (`python -m llama_cpp.server` from PyPI
//!   `llama-cpp-python[server]`, installed by `scripts/setup-llm.sh`) serving
//!   SmolLM2-135M-Instruct (installed by `scripts/setup-models.sh`): `verity ask` and
//!   `verity check` through it, every sentence of the brief passing the citation check;
//! - against a deliberately wrong endpoint (a stand-in in this process that answers with
//!   invented citations): those sentences are sent back, dropped and reported;
//! - against nothing at all: a typed error, exit 75.
//!
//! The real-server test skips with a notice when the server or the model is not
//! installed, unless `VERITY_REQUIRE_LLM=1` (set by `scripts/test.sh`), where it fails.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{run_ok, verity, LLM_ENV};
#[path = "../../verity-llm/tests/support/mod.rs"]
mod chat_stand_in;

const QUESTION: &str = "Why was the winter ferry service to Gull Island cut?";
const CLAIM: &str =
    "The Marrow Bay Transport Board cut the winter ferry service to Gull Island in January 2024.";

/// A small fictional corpus: an invented bay, island, board and publishers.
const DOCS: &[(&str, &str)] = &[
    (
        "ferry-board.md",
        "---\ntitle: Marrow Bay ferry timetable changes\npublisher: Marrow Bay Transport Board\npublished: 2024-03-04\nkind: official\n---\n\
         The Marrow Bay Transport Board cut the winter ferry service to Gull Island from six sailings a day to four in January 2024. \
         The board said the cut followed a fall in winter passenger numbers of 30 per cent since 2021. Summer sailings stay at eight a day.\n",
    ),
    (
        "ferry-news.md",
        "---\ntitle: Islanders protest ferry cuts\npublisher: Gull Island Herald\npublished: 2024-02-11\nkind: news\n---\n\
         About 200 Gull Island residents marched in Port Corran on Saturday against the cut to the winter ferry service. \
         The Marrow Bay Transport Board reduced winter sailings to four a day in January 2024. \
         Shopkeepers on the island said deliveries now arrive a day late.\n",
    ),
    (
        "ferry-audit.md",
        "---\ntitle: Review of the Gull Island ferry contract\npublisher: Marrow Bay Audit Office\npublished: 2024-05-20\nkind: audit\n---\n\
         The Marrow Bay Audit Office found that the ferry operator, Corran Sea Links, was paid 4.2 million dollars in 2023 under its contract with the transport board. \
         The audit said the contract sets no minimum number of winter sailings.\n",
    ),
];

fn corpus(dir: &Path) -> PathBuf {
    let docs = dir.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    for (name, text) in DOCS {
        std::fs::write(docs.join(name), text).unwrap();
    }
    docs
}

/// A library of the corpus; `models`: with the installed models (else lexical only).
fn library(dir: &Path, models: bool) -> (PathBuf, bool) {
    let data = dir.join("lib");
    let docs = corpus(dir);
    run_ok(cmd(&data, models).arg("ingest").arg(&docs));
    (data, models)
}

/// `verity` on `data`, with the installed models when `models` (the stance model then
/// judges every sentence), else lexical only.
fn cmd(data: &Path, models: bool) -> Command {
    let mut c = verity(data);
    if models {
        c = Command::new(env!("CARGO_BIN_EXE_verity"));
        c.arg("--data").arg(data).arg("--quiet");
        c.env_remove("VERITY_DATA").env_remove("VERITY_STORE");
        for var in LLM_ENV {
            c.env_remove(var);
        }
    }
    c
}

fn brief_json(lib: &(PathBuf, bool), args: &[&str]) -> Value {
    let out = run_ok(cmd(&lib.0, lib.1).args(args).args(["--format", "json"]));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sentences(b: &Value) -> Vec<&Value> {
    let mut all: Vec<&Value> = b["summary"].as_array().unwrap().iter().collect();
    for f in b["findings"].as_array().unwrap() {
        all.extend(f["sentences"].as_array().unwrap());
    }
    all
}

/// What every brief with a writer promises: each sentence passes the citation check and
/// cites a source of the brief, and the model's sentences are all accounted for.
fn assert_checked(b: &Value) {
    let threshold = b["verification"]["threshold"].as_f64().unwrap();
    let sources = b["sources"].as_array().unwrap().len() as u64;
    for s in sentences(b) {
        let support = s["support"].as_f64().unwrap();
        assert!(support >= threshold, "unsupported sentence kept: {s:#}");
        assert_eq!(s["flagged"], false, "{s:#}");
        let cites = s["citations"].as_array().unwrap();
        assert!(!cites.is_empty(), "{s:#}");
        assert!(cites
            .iter()
            .all(|c| (1..=sources).contains(&c["n"].as_u64().unwrap())));
    }
    let w = &b["writer"];
    let n = |k: &str| w[k].as_u64().unwrap();
    assert!(n("calls") >= 1, "{w:#}");
    assert_eq!(n("written"), n("kept") + n("dropped"), "{w:#}");
    let by_reason: u64 = w["dropped_by_reason"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].as_u64().unwrap())
        .sum();
    assert_eq!(by_reason, n("dropped"), "{w:#}");
    assert!(n("kept") as usize <= sentences(b).len());
    assert_eq!(w["prompt_version"], "write-v2");
    let note = b["notes"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap();
    assert!(
        note.contains(&format!(
            "{} statements written, {} kept",
            n("written"),
            n("kept")
        )),
        "{note}"
    );
}

/// What a brief the model helped plan promises: the audit lists what it proposed, the
/// parts were used only if each passed validation (and then are the verdict's parts), and
/// only validated queries ran.
fn assert_planned(b: &Value) {
    let p = &b["planner"];
    assert_eq!(p["prompt_version"], "claims-v1", "{p:#}");
    let proposed: Vec<&str> = p["parts_proposed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect();
    let judged: Vec<&str> = b["verdict"]["parts"]
        .as_array()
        .map(|a| a.iter().map(|x| x["text"].as_str().unwrap()).collect())
        .unwrap_or_default();
    if p["parts_used"] == true {
        assert_eq!(proposed, judged, "{p:#}");
    } else {
        assert!(p["parts_refused"].is_string(), "{p:#}");
    }
    for q in p["queries"].as_array().unwrap() {
        assert_eq!(q["run"] == true, q["refused"].is_null(), "{q:#}");
    }
    assert!(
        b["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("helped plan this check")),
        "{:#}",
        b["notes"]
    );
}

// ── A real llama.cpp server ────────────────────────────────────────────────────────────

/// The repository's data directory, where the setup scripts install by default.
fn data_dir() -> PathBuf {
    std::env::var_os("VERITY_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../verity-data"))
}

fn server_python() -> PathBuf {
    std::env::var_os("VERITY_LLM_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir().join("llm-venv/bin/python"))
}

fn smollm() -> PathBuf {
    let models = std::env::var_os("VERITY_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| data_dir().join("models"));
    models.join("smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf")
}

/// A llama.cpp server process, killed when dropped.
struct LlamaServer {
    child: Child,
    url: String,
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the server, or says why it cannot (not installed).
fn start_llama_server() -> Option<LlamaServer> {
    let (python, model) = (server_python(), smollm());
    if !python.is_file() || !model.is_file() {
        let required = std::env::var("VERITY_REQUIRE_LLM").is_ok_and(|v| v == "1");
        let why = format!(
            "no llama.cpp server at {} or no SmolLM2 GGUF at {}; install them with \
             `bash scripts/setup-llm.sh` and `bash scripts/setup-models.sh`",
            python.display(),
            model.display()
        );
        assert!(!required, "VERITY_REQUIRE_LLM=1 but {why}");
        eprintln!("SKIP: the real-server LLM test: {why}");
        return None;
    }
    let port = free_port();
    let child = Command::new(&python)
        .args(["-m", "llama_cpp.server", "--model"])
        .arg(&model)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--n_ctx", "4096", "--seed", "7", "--n_threads", "2"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = LlamaServer {
        child,
        url: format!("http://127.0.0.1:{port}/v1"),
    };
    wait_until_models_answer(port);
    Some(server)
}

/// Polls `GET /v1/models` until the server has loaded its model (a guard against a
/// server that never comes up; no timing is asserted).
fn wait_until_models_answer(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.write_all(b"GET /v1/models HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
            let mut head = String::new();
            let _ = BufReader::new(s).read_line(&mut head);
            if head.contains(" 200 ") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("the llama.cpp server on port {port} did not start within 300 s");
}

#[test]
fn a_real_llama_cpp_server_writes_through_ask_and_check_and_every_sentence_is_checked() {
    let Some(server) = start_llama_server() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(tmp.path(), true);
    let llm = ["--llm", server.url.as_str(), "--llm-max-tokens", "300"];

    // `ask` takes the whole answer at once, `check` streams it (server-sent events) and
    // has the model help with the claim too.
    let mut kept_from_model = 0;
    for (command, input, stream) in [("ask", QUESTION, false), ("check", CLAIM, true)] {
        let plain = brief_json(&lib, &[command, input]);
        assert!(plain.get("writer").is_none(), "no --llm, no writer");
        let mut args = vec![command, input];
        args.extend(llm);
        if stream {
            args.extend(["--llm-stream", "--llm-claims"]);
        }
        let written = brief_json(&lib, &args);
        eprintln!("{command}: writer audit {:#}", written["writer"]);
        assert_checked(&written);
        kept_from_model += written["writer"]["kept"].as_u64().unwrap();
        if stream {
            assert_planned(&written);
        }
        let w = &written["writer"];
        assert_eq!(w["endpoint"], format!("{}/chat/completions", server.url));
        // The model was called and wrote sentences, and each was checked: kept when its
        // passages support it, else counted as dropped. SmolLM2-135M seldom cites, so
        // most of what it writes is dropped; a stronger model keeps more. Either way
        // nothing it wrote reaches the brief unchecked.
        assert!(
            w["written"].as_u64().unwrap() + w["questions_written"].as_u64().unwrap() > 0,
            "the model wrote nothing parseable: {w:#}"
        );
        if !stream {
            // A whole answer carries the server's own token counts.
            assert!(w["completion_tokens"].as_u64().unwrap_or(0) > 0, "{w:#}");
        }
        // The verdict and the sources are Verity's, with or without a writer (the
        // model's help with the claim may add evidence to judge, never a verdict).
        let p = &written["planner"];
        let helped = p["parts_used"] == true
            || p["queries"]
                .as_array()
                .is_some_and(|q| q.iter().any(|x| x["run"] == true));
        if !helped {
            assert_eq!(written["verdict"], plain["verdict"]);
            assert_eq!(written["sources"], plain["sources"]);
        }
    }
    // Each passage's sentences reach the model ending in their passage's number, so even
    // a 135M model that copies a sentence cites it: at least one of its sentences passes
    // the check and is in a brief.
    assert!(
        kept_from_model >= 1,
        "no sentence the model wrote survived the check"
    );

    // --show-unsupported lists every refused sentence with its reason.
    let listed = brief_json(
        &lib,
        &[&["check", CLAIM, "--show-unsupported"][..], &llm[..]].concat(),
    );
    let w = &listed["writer"];
    let refused = w["refused"].as_array().map(Vec::len).unwrap_or(0);
    let refused_statements = w["refused"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter(|d| d["section"] != "follow-up questions")
                .count()
        })
        .unwrap_or(0);
    assert_eq!(
        refused_statements as u64,
        w["dropped"].as_u64().unwrap(),
        "{w:#}"
    );
    assert!(
        w["refused"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|d| d["reason"].is_string()),
        "{w:#}"
    );
    eprintln!("check --show-unsupported: {refused} refused sentences listed");
}

// ── A wrong endpoint: invented citations ───────────────────────────────────────────────

/// The wrong endpoint's every answer: sentences citing passages [7], [12] and [9] (it is
/// given three at most).
const INVENTED: &str =
    "SUMMARY:\nThe Marrow Bay Transport Board sold the ferry to Corran Sea Links in 1998 [7].\n\
                        Ferry fares on the Gull Island route doubled in 2023 [12].\n\
                        QUESTIONS:\nWho owns the Gull Island ferry now? [9]\n";

#[test]
fn an_endpoint_that_invents_citations_has_its_sentences_dropped_and_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(tmp.path(), false);
    let (url, seen) = chat_stand_in::always(INVENTED);
    let plain = brief_json(&lib, &["check", CLAIM]);
    let b = brief_json(
        &lib,
        &["check", CLAIM, "--llm", &url, "--llm-model", "inventor"],
    );
    assert_checked(&b);
    let w = &b["writer"];
    assert_eq!(w["model"], "inventor");
    // Sent back once (two statements and the question), with the reason; the same
    // inventions again; dropped.
    assert_eq!(
        (w["calls"].as_u64(), w["sent_back"].as_u64()),
        (Some(2), Some(3)),
        "{w:#}"
    );
    assert_eq!(
        (
            w["written"].as_u64(),
            w["kept"].as_u64(),
            w["dropped"].as_u64()
        ),
        (Some(4), Some(0), Some(4))
    );
    assert_eq!(
        w["dropped_by_reason"],
        serde_json::json!([["unknown_passage", 4]])
    );
    assert_eq!(
        (
            w["questions_written"].as_u64(),
            w["questions_kept"].as_u64()
        ),
        (Some(2), Some(0))
    );
    assert_eq!(
        (w["prompt_tokens"].as_u64(), w["completion_tokens"].as_u64()),
        (Some(24), Some(10))
    );
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 2);
    let second: Value = serde_json::from_str(&requests[1]).unwrap();
    let last = second["messages"].as_array().unwrap().last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        last.contains("sold the ferry") && last.contains("cites a passage it was not given"),
        "{last}"
    );
    // Nothing invented reaches the brief; the extracted prose and the verdict stay.
    assert_eq!(b["summary"], plain["summary"]);
    assert_eq!(b["verdict"], plain["verdict"]);
    assert!(b["follow_ups"]
        .as_array()
        .unwrap()
        .iter()
        .all(|q| q != "Who owns the Gull Island ferry now?"));

    // --show-unsupported lists them in the brief itself.
    let out =
        run_ok(cmd(&lib.0, lib.1).args(["check", CLAIM, "--llm", &url, "--show-unsupported"]));
    // Terminal text is wrapped: compare it with whitespace squashed.
    let text = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("Written by the model and refused (summary, cites a passage it was not given): The Marrow Bay Transport Board sold the ferry"),
        "{text}"
    );
    assert!(
        text.contains("4 dropped (4 cites a passage it was not given)"),
        "{text}"
    );
}

// ── Nothing there ──────────────────────────────────────────────────────────────────────

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_down_endpoint_or_a_missing_key_is_a_typed_error_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = library(tmp.path(), false);
    let down = format!("http://127.0.0.1:{}/v1", free_port());
    let out = cmd(&lib.0, lib.1)
        .args(["check", CLAIM, "--llm", &down, "--llm-timeout", "5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("cannot be reached"),
        "{}",
        stderr_of(&out)
    );
    assert!(stderr_of(&out).contains("hint:"), "{}", stderr_of(&out));

    let out = cmd(&lib.0, lib.1)
        .args([
            "ask",
            QUESTION,
            "--llm",
            &down,
            "--llm-key-env",
            "VERITY_TEST_NO_SUCH_KEY",
        ])
        .env_remove("VERITY_TEST_NO_SUCH_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("VERITY_TEST_NO_SUCH_KEY"),
        "{}",
        stderr_of(&out)
    );

    // The same settings from the environment.
    let out = cmd(&lib.0, lib.1)
        .args(["check", CLAIM])
        .env("VERITY_LLM_URL", &down)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75), "{}", stderr_of(&out));
}
