//! End-to-end tests of the library commands (`ingest`, `search`, `sources`, `remove`)
//! through the real `verity` binary, on the fictional Port Vellan corpus.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};
use verity_types::char_slice;

mod common;
use common::{run_ok, verity};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn story() -> String {
    fixtures().join("story").display().to_string()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

fn ingest_json(data: &Path, args: &[&str]) -> Value {
    let mut c = verity(data);
    c.arg("ingest").arg("--json").args(args);
    json_of(&run_ok(&mut c))
}

fn search_json(data: &Path, args: &[&str]) -> Vec<Value> {
    let mut c = verity(data);
    c.arg("search").arg("--json").args(args);
    json_of(&run_ok(&mut c))
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn story_corpus_ingests_links_the_syndicated_copy_and_is_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("lib");
    let r = ingest_json(&data, &[&story()]);
    assert!(r["failed"].as_array().unwrap().is_empty(), "{r:#}");
    // 43 files, one JSONL with 5 documents.
    assert_eq!(r["added"], 47, "{r:#}");
    assert_eq!(r["duplicates"], 1, "exactly one syndicated copy: {r:#}");
    let links = r["duplicate_links"].as_array().unwrap();
    assert!(
        links[0][0]
            .as_str()
            .unwrap()
            .contains("courier-syndicated-state-funding"),
        "{links:?}"
    );

    let again = ingest_json(&data, &[&story()]);
    assert_eq!(again["added"], 0);
    assert_eq!(again["unchanged"], 47);

    let sources: Value = json_of(&run_ok(verity(&data).args(["sources", "--json"])));
    let sources = sources.as_array().unwrap();
    assert_eq!(sources.len(), 47);
    let copy = sources
        .iter()
        .find(|s| {
            s["location"]
                .as_str()
                .unwrap()
                .contains("courier-syndicated")
        })
        .unwrap();
    let original = sources
        .iter()
        .find(|s| {
            s["location"]
                .as_str()
                .unwrap()
                .contains("wire-state-funding")
        })
        .unwrap();
    assert_eq!(copy["duplicate_of"], original["id"]);
}

#[test]
fn search_hits_carry_spans_that_slice_the_stored_text() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("lib");
    ingest_json(&data, &[&story()]);
    let hits = search_json(
        &data,
        &["restoration fees billed to owners", "--limit", "5"],
    );
    assert!(!hits.is_empty());
    // Every hit's span must slice the source's stored text back to the passage.
    let lib = verity_engine::Library::open(verity_engine::LibraryOptions {
        models: verity_engine::ModelsMode::Off,
        ..verity_engine::LibraryOptions::new(&data)
    })
    .unwrap();
    for h in &hits {
        for key in [
            "passage_id",
            "source_id",
            "title",
            "publisher",
            "published",
            "text",
            "start",
            "end",
            "score",
        ] {
            assert!(h.get(key).is_some(), "hit lacks {key}: {h:#}");
        }
        let id = verity_types::SourceId::new(h["source_id"].as_str().unwrap());
        let text = lib.source_text(&id).unwrap().unwrap();
        let (s, e) = (h["start"].as_u64().unwrap(), h["end"].as_u64().unwrap());
        assert_eq!(char_slice(&text, s, e), h["text"].as_str());
        let passage = h["text"].as_str().unwrap();
        for hl in h["highlights"].as_array().unwrap() {
            let w = char_slice(passage, hl[0].as_u64().unwrap(), hl[1].as_u64().unwrap()).unwrap();
            assert!(!w.trim().is_empty());
        }
    }
}

#[test]
fn filters_restrict_by_kind_publisher_and_date() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("lib");
    ingest_json(&data, &[&story()]);
    let audits = search_json(&data, &["replaced lines", "--kind", "audit"]);
    assert!(!audits.is_empty());
    assert!(audits.iter().all(|h| h["kind"] == "audit"), "{audits:#?}");

    let before = search_json(
        &data,
        &["lead service lines", "--to", "2023-06-30", "--limit", "20"],
    );
    assert!(!before.is_empty());
    assert!(before
        .iter()
        .all(|h| h["published"].as_str().is_some_and(|d| d <= "2023-06-30")));

    let ledger = search_json(
        &data,
        &["council", "--publisher", "ledger", "--limit", "20"],
    );
    assert!(!ledger.is_empty());
    assert!(ledger.iter().all(|h| h["publisher"]
        .as_str()
        .unwrap()
        .to_lowercase()
        .contains("ledger")));
}

#[test]
fn remove_takes_a_source_out_of_search() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("lib");
    ingest_json(&data, &[&story()]);
    let hits = search_json(&data, &["drinking fountain results", "--limit", "1"]);
    let id = hits[0]["source_id"].as_str().unwrap().to_string();
    run_ok(verity(&data).args(["remove", &id[..8]]));
    let after = search_json(&data, &["drinking fountain results", "--limit", "50"]);
    assert!(after.iter().all(|h| h["source_id"] != id.as_str()));
    let out = verity(&data).args(["remove", &id]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no source with id"));
}

#[test]
fn broken_inputs_are_reported_and_the_rest_goes_in() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("inbox");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("good.md"), "---\ntitle: Ferry timetable\npublisher: Vellan Ferry Office\n---\nThe island ferry leaves Port Vellan every hour from seven in the morning. This is a fictional document.\n").unwrap();
    std::fs::write(dir.join("empty.txt"), "   \n").unwrap();
    std::fs::write(
        dir.join("junk.txt"),
        [0u8, 159, 146, 150, 0, 0, 1, 2, 3, 0, 255, 254, 0, 7].repeat(50),
    )
    .unwrap();
    std::fs::write(dir.join("fake.pdf"), b"PK\x03\x04 this is a zip, not a pdf").unwrap();
    std::fs::write(
        dir.join("broken.pdf"),
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage without xref",
    )
    .unwrap();
    std::fs::write(dir.join("big.txt"), "word ".repeat(300_000)).unwrap();
    std::fs::write(
        dir.join("latin1.txt"),
        b"Caf\xe9 owners in Port Vell\xe1n welcomed the new ferry timetable on Monday.",
    )
    .unwrap();
    std::fs::write(
        dir.join("bad.jsonl"),
        "{\"text\": \"A good line about the Vellan quay.\", \"title\": \"Quay\"}\n{not json\n",
    )
    .unwrap();

    let data = tmp.path().join("lib");
    let mut c = verity(&data);
    c.args(["ingest", "--json", "--max-size-mb", "1"]).arg(&dir);
    let r = json_of(&run_ok(&mut c));
    let failed = r["failed"].as_array().unwrap();
    let reason = |name: &str| {
        failed
            .iter()
            .find(|f| f["location"].as_str().unwrap().contains(name))
            .map(|f| f["reason"].as_str().unwrap().to_string())
    };
    assert_eq!(reason("empty.txt").as_deref(), Some("empty"), "{r:#}");
    assert_eq!(reason("junk.txt").as_deref(), Some("binary"), "{r:#}");
    assert!(reason("fake.pdf").is_some(), "{r:#}");
    assert!(reason("broken.pdf").is_some(), "{r:#}");
    assert_eq!(reason("big.txt").as_deref(), Some("too_large"), "{r:#}");
    assert_eq!(reason("bad.jsonl").as_deref(), Some("bad_json"), "{r:#}");
    // good.md, latin1.txt and the good JSONL line went in.
    assert_eq!(r["added"], 3, "{r:#}");
    let hits = search_json(&data, &["café ferry timetable"]);
    assert!(hits
        .iter()
        .any(|h| h["text"].as_str().unwrap().contains("Café")));
    // Every failure names its file and a reason a person can act on.
    for f in failed {
        assert!(!f["message"].as_str().unwrap().is_empty());
    }
}

#[test]
fn an_ingest_killed_midway_leaves_a_library_that_opens_and_searches() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("many.jsonl");
    {
        let mut f = std::fs::File::create(&corpus).unwrap();
        for i in 0..6000 {
            writeln!(
                f,
                "{{\"title\": \"Bulletin {i}\", \"text\": \"Bulletin number {i} from the fictional Marrow County desk. The harbour committee met on day {i} to discuss quay repairs, ferry berths and the flood barrier. Members heard that repair item {i} would cost {} thousand.\"}}",
                i * 3
            )
            .unwrap();
        }
    }
    let data = tmp.path().join("lib");
    let mut child = verity(&data)
        .args(["ingest", "--batch-docs", "50"])
        .arg(&corpus)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once some batches have committed but before it can finish.
    let db = data.join("library.sqlite");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if db.exists() && std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0) > 0 {
            std::thread::sleep(Duration::from_millis(400));
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "ingest finished before it could be killed; make the corpus larger"
    );

    // The library opens (finishing any half-indexed batch) and searches consistently.
    let sources = json_of(&run_ok(verity(&data).args(["sources", "--json"])));
    let n = sources.as_array().unwrap().len();
    assert!(n < 6000, "all {n} documents went in before the kill");
    let hits = search_json(&data, &["harbour committee quay repairs", "--limit", "50"]);
    if n > 0 {
        assert!(!hits.is_empty());
    }
    let ids: std::collections::HashSet<&str> = sources
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for h in &hits {
        assert!(
            ids.contains(h["source_id"].as_str().unwrap()),
            "hit from a source not in the library"
        );
    }
    // Ingesting again completes the corpus without duplicates.
    let r = ingest_json(&data, &[corpus.to_str().unwrap()]);
    assert_eq!(
        r["added"].as_u64().unwrap() + r["unchanged"].as_u64().unwrap(),
        6000
    );
    assert_eq!(r["unchanged"].as_u64().unwrap() as usize, n);
    let sources = json_of(&run_ok(verity(&data).args(["sources", "--json"])));
    assert_eq!(sources.as_array().unwrap().len(), 6000);
}

/// A one-thread HTTP server on 127.0.0.1 that serves one page, for `n` requests.
fn serve_page(n: usize) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = "<html><head><title>Quay notice</title><meta property=\"og:site_name\" content=\"Vellan Harbour Office\"><meta property=\"article:published_time\" content=\"2024-05-02\"></head><body><nav><a href=\"/\">Home</a></nav><main><p>The fictional Vellan harbour quay closes for resurfacing from 6 May to 20 May.</p></main><footer>Quick links</footer></body></html>";
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (format!("http://{addr}/notice.html"), handle)
}

#[test]
fn url_ingest_works_on_loopback_only_when_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("lib");
    let (url, handle) = serve_page(1);
    // Refused without --allow-private (no request is made).
    let mut c = verity(&data);
    c.args(["ingest", "--json", &url]);
    let out = c.output().unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["added"], 0);
    assert_eq!(r["failed"][0]["reason"], "refused_private", "{r:#}");
    // Allowed with it.
    let r = ingest_json(&data, &["--allow-private", &url]);
    assert_eq!(r["added"], 1, "{r:#}");
    handle.join().unwrap();
    let hits = search_json(&data, &["quay resurfacing"]);
    assert_eq!(hits[0]["publisher"], "Vellan Harbour Office");
    assert_eq!(hits[0]["published"], "2024-05-02");
    assert_eq!(hits[0]["url"], url.as_str());
    assert!(!hits[0]["text"].as_str().unwrap().contains("Quick links"));
}

#[test]
fn helpful_errors_for_empty_libraries_and_bad_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("lib");
    let out = verity(&data).args(["search", "anything"]).output().unwrap();
    assert!(out.status.success());
    let out = verity(&data)
        .args(["search", "x", "--kind", "blog"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown kind `blog`"));
    let out = verity(&data)
        .args(["ingest", "/no/such/path"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn engine_errors_print_a_hint_and_exit_with_their_category() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("lib");
    let stderr = |out: &Output| String::from_utf8_lossy(&out.stderr).into_owned();
    // Nothing to check against: not found (66), and the hint names a real command.
    let out = verity(&data)
        .args(["ask", "Who runs the Kellbridge ferry?"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("library is empty"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("hint: add sources first: `verity ingest PATH`"));
    // No such source: not found (66), pointing at `verity sources`.
    let out = verity(&data)
        .args(["remove", "0123456789abcdef"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("hint: `verity sources`"),
        "{}",
        stderr(&out)
    );
    // An empty claim is bad input (64).
    let out = verity(&data).args(["check", "   "]).output().unwrap();
    assert_eq!(out.status.code(), Some(64), "{}", stderr(&out));
    assert!(stderr(&out).contains("hint: "), "{}", stderr(&out));
}

#[test]
fn search_json_has_the_same_fields_as_the_api() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("lib");
    ingest_json(&data, &[&story()]);
    let hits = search_json(&data, &["lead service lines", "-n", "1"]);
    let mut keys: Vec<&str> = hits[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "attribution",
            "duplicate_of",
            "end",
            "highlights",
            "kind",
            "passage_id",
            "path",
            "published",
            "publisher",
            "score",
            "source_id",
            "start",
            "text",
            "title",
            "url"
        ]
    );
}
