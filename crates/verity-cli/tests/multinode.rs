//! Several `verity serve --worker` nodes on one PostgreSQL store: a source ingested
//! through one node is found through the other, checks submitted to either are each run
//! once by some node's worker, and a node killed mid-check loses the check to another
//! node once its lease runs out. Needs `VERITY_TEST_PG` (see `verity_engine::testing`);
//! skips without it (fails with `VERITY_REQUIRE_PG=1`). Prints the index catch-up lag and
//! the check throughput with one and two nodes working.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod common;
use common::{run_ok, verity};

#[path = "support/node.rs"]
mod node;
use node::{worker_pid, Node, LEASE_MS, PATIENCE};

fn story() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/story")
}

/// The check has ended, and so has its job (the worker stores the check, then ends
/// the job).
fn is_final(v: &Value) -> bool {
    let ended = |s: &Value| s == "done" || s == "failed";
    ended(&v["status"]) && (v["job"].is_null() || ended(&v["job"]["state"]))
}

/// Submit `n` checks, alternating between `nodes`, wait for all; the views and seconds.
fn run_checks(nodes: &[&Node], n: usize, tag: &str) -> (Vec<Value>, f64) {
    let start = Instant::now();
    let ids: Vec<String> = (0..n)
        .map(|i| {
            let claim = format!("The Vellan water utility replaced lead pipes ({tag} {i}).");
            nodes[i % nodes.len()].submit(&claim)
        })
        .collect();
    let views: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| nodes[i % nodes.len()].wait_for(id, is_final))
        .collect();
    (views, start.elapsed().as_secs_f64())
}

/// How many checks each worker pid ran.
fn split(views: &[Value]) -> HashMap<u32, usize> {
    let mut by = HashMap::new();
    for v in views {
        assert_eq!(v["status"], "done", "{v:#}");
        assert_eq!(v["job"]["attempts"], 1, "run exactly once: {v:#}");
        assert_eq!(v["job"]["state"], "done", "{v:#}");
        *by.entry(worker_pid(v)).or_insert(0) += 1;
    }
    by
}

/// Every check in the history, counted through the API.
fn history_len(node: &Node) -> usize {
    let mut total = 0;
    let mut offset = 0;
    loop {
        let page = node.get_json(&format!("/api/checks?limit=100&offset={offset}"));
        total += page["items"].as_array().unwrap().len();
        match page["next_offset"].as_u64() {
            Some(next) => offset = next as usize,
            None => return total,
        }
    }
}

/// Ingest through node A, then poll node B's search until it finds the new source.
fn ingest_on_a_search_on_b(a: &Node, b: &Node) {
    let text = "---\ntitle: Quillmarsh ferry timetable\n---\nThe Quillmarsh ferry \
                leaves Port Vellan every forty minutes from the north quay.\n";
    // Queued on the shared store; A's worker ingests it while B waits (SIGSTOP), so that
    // B learns of it from the change log, as a node that did not ingest it.
    b.signal("-STOP");
    let job = a.upload("quillmarsh.md", text.as_bytes());
    let done = a.wait_for_ingest(&job, |v| v["job"]["state"] == "done");
    b.signal("-CONT");
    assert_eq!(done["report"]["added"], 1, "{done:#}");
    assert_eq!(worker_pid(&done), a.pid(), "{done:#}");
    let start = Instant::now();
    let path = "/api/search?q=Quillmarsh%20ferry&mode=bm25";
    loop {
        let hits = b.get_json(path);
        if !hits.as_array().unwrap().is_empty() {
            break;
        }
        assert!(start.elapsed() < PATIENCE, "node B never saw the source");
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!(
        "MEASURED index catch-up lag (ingest on A → search hit on B): {:.3} s",
        start.elapsed().as_secs_f64()
    );
    let ready = b.get_json("/readyz");
    assert_eq!(ready["ready"], true, "{ready:#}");
    assert_eq!(ready["lag"], 0, "{ready:#}");
}

fn report_throughput(what: &str, views: &[Value], secs: f64, nodes: &[&Node]) {
    let by = split(views);
    let per: Vec<String> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| format!("node {}: {}", i + 1, by.get(&n.pid()).unwrap_or(&0)))
        .collect();
    eprintln!(
        "MEASURED {what}: {} checks in {secs:.2} s = {:.1} checks/s ({})",
        views.len(),
        views.len() as f64 / secs,
        per.join(", ")
    );
}

#[test]
fn two_nodes_share_one_library_and_one_queue() {
    let Some(db) = verity_engine::testing::fresh_pg("cli_multinode") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    run_ok(
        verity(&tmp.path().join("seed"))
            .args(["--store", &db.url, "ingest"])
            .arg(story()),
    );
    let a = Node::start(&tmp.path().join("a"), &db.url, &[]);
    let b = Node::start(&tmp.path().join("b"), &db.url, &[]);
    assert_eq!(a.get("/healthz").0, 200);

    ingest_on_a_search_on_b(&a, &b);

    // One node working: B is stopped (SIGSTOP) while A runs the batch.
    b.signal("-STOP");
    let (one, secs) = run_checks(&[&a], 100, "one node");
    b.signal("-CONT");
    report_throughput("throughput, 1 node × 1 worker", &one, secs, &[&a, &b]);
    assert_eq!(split(&one).get(&a.pid()), Some(&100));

    // Both nodes: 200 checks, each done exactly once, both did some.
    let (two, secs) = run_checks(&[&a, &b], 200, "two nodes");
    report_throughput("throughput, 2 nodes × 1 worker", &two, secs, &[&a, &b]);
    let by = split(&two);
    assert!(by.get(&a.pid()).is_some_and(|n| *n > 0), "{by:?}");
    assert!(by.get(&b.pid()).is_some_and(|n| *n > 0), "{by:?}");
    assert_eq!(by.values().sum::<usize>(), 200);
    // No check stored twice: the history holds exactly what was submitted.
    assert_eq!(history_len(&b), 300);

    let metrics = a.get("/metrics");
    assert_eq!(metrics.0, 200);
    assert!(metrics.1.contains("verity_jobs_queued 0"), "{}", metrics.1);
    // A's jobs: the ingest, the 100 checks it ran alone and its share of the 200.
    let done_line = format!(
        "verity_jobs_total{{outcome=\"done\"}} {}",
        1 + 100 + by[&a.pid()]
    );
    assert!(metrics.1.contains(&done_line), "{}", metrics.1);

    kill_a_node_mid_check(a, &b, &tmp.path().join("a"), &db.url);
    assert_eq!(history_len(&b), 301);
}

/// A node that holds its checks (a test hook) is killed with SIGKILL while it runs one;
/// node B takes the check over when the lease runs out.
fn kill_a_node_mid_check(a: Node, b: &Node, data: &Path, store: &str) {
    drop(a);
    b.signal("-STOP");
    let victim = Node::start(data, store, &["--debug-hold-job-ms", "600000"]);
    let id = victim.submit("The Vellan water utility replaced lead pipes (killed).");
    let running = victim.wait_for(&id, |v| v["status"] == "running");
    assert_eq!(worker_pid(&running), victim.pid(), "{running:#}");
    assert_eq!(running["job"]["attempts"], 1);
    let victim_pid = victim.pid();
    drop(victim); // SIGKILL, mid-check
    let killed_at = Instant::now();
    b.signal("-CONT");
    let done = b.wait_for(&id, is_final);
    assert_eq!(done["status"], "done", "{done:#}");
    assert_eq!(done["job"]["attempts"], 2, "{done:#}");
    assert_eq!(worker_pid(&done), b.pid());
    assert_ne!(worker_pid(&done), victim_pid);
    eprintln!(
        "MEASURED kill -9 mid-check: finished on the other node {:.2} s after the kill \
         (lease {LEASE_MS} ms), attempts = 2",
        killed_at.elapsed().as_secs_f64()
    );
}
