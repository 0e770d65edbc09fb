//! Ingest jobs through the shared queue on PostgreSQL, under failure:
//! - a `verity serve --worker` node is killed (SIGKILL) in the middle of a
//!   5,000-document ingest job; the other node's worker finishes it, and each document
//!   is stored exactly once;
//! - the database itself is stopped (`pg_ctl stop -m immediate`) in the middle of an
//!   ingest and started again: the node answers `store_unavailable` meanwhile, nothing
//!   half-written remains, and the job resumes and completes.
//!
//! Needs `VERITY_TEST_PG` (skips without it; fails with `VERITY_REQUIRE_PG=1`). The
//! restart test stops no shared cluster: it starts a PostgreSQL of its own with the
//! same binaries. Prints documents/s, the time to finish after the failure, and the
//! attempts. Every town and person in the documents is invented.
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::run_ok;

#[path = "support/node.rs"]
mod node;
use node::{worker_pid, Node, PATIENCE};

/// Hold each part of 500 documents this long, so that a failure lands mid-job.
const HOLD_MS: &str = "400";

/// `n` small invented documents as JSONL; document `i` holds the word `brannockI`.
fn towns_jsonl(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| {
            format!(
                "{{\"title\": \"Brannock {i}\", \"text\": \"The ferry of brannock{i} was run by \
                 Ilse Varga of Quillmarsh ward {i}; it opened in {} and carried {} passengers a day.\"}}\n",
                1850 + i % 150,
                20 + i % 300
            )
        })
        .collect::<String>()
        .into_bytes()
}

/// PostgreSQL's binaries (`initdb`, `pg_ctl`, `psql`), as `scripts/pg-cluster.sh`
/// finds them.
fn pg_bin() -> Option<PathBuf> {
    let debian = PathBuf::from("/usr/lib/postgresql/15/bin");
    if debian.join("pg_ctl").exists() {
        return Some(debian);
    }
    let out = Command::new("sh")
        .args(["-c", "command -v pg_ctl"])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Path::new(&path).parent().map(Path::to_path_buf)
}

/// One SQL query's single value, through `psql`.
fn sql(url: &str, query: &str) -> String {
    let bin = pg_bin().expect("psql");
    let out = run_ok(Command::new(bin.join("psql")).args([url, "-Atc", query]));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn sql_n(url: &str, query: &str) -> i64 {
    let v = sql(url, query);
    v.parse().unwrap_or_else(|_| panic!("`{query}` gave `{v}`"))
}

/// The library in the store at `url` is whole: `n` sources, every one indexed with its
/// text and passages, no two with the same text, and each in the change log.
fn assert_whole(url: &str, n: i64) {
    assert_eq!(sql_n(url, "SELECT count(*) FROM sources"), n);
    assert_eq!(
        sql_n(url, "SELECT count(*) FROM sources WHERE state <> 'indexed'"),
        0,
        "nothing left pending"
    );
    assert_eq!(
        sql_n(url, "SELECT count(DISTINCT md5(text)) FROM source_texts"),
        n,
        "no document stored twice"
    );
    let no_passages = "SELECT count(*) FROM sources s LEFT JOIN source_texts t USING (id) \
                       WHERE t.id IS NULL OR s.passage_count < 1 OR length(t.spans) = 0";
    assert_eq!(sql_n(url, no_passages), 0, "every source has its passages");
    let unlogged = "SELECT count(*) FROM sources s WHERE NOT EXISTS \
                    (SELECT 1 FROM changes c WHERE c.source_id = s.id AND c.kind = 'indexed')";
    assert_eq!(
        sql_n(url, unlogged),
        0,
        "every indexed source is in the change log"
    );
    let dangling = "SELECT count(*) FROM changes c WHERE NOT EXISTS \
                    (SELECT 1 FROM sources s WHERE s.id = c.source_id)";
    assert_eq!(
        sql_n(url, dangling),
        0,
        "no change names a source that is not there"
    );
}

fn progress_done(v: &Value) -> u64 {
    v["job"]["progress"]["done"].as_u64().unwrap_or(0)
}

/// Hits for `word` once the node's index has it (it applies the change log every 2 s,
/// its own writes included).
fn search_hits(node: &Node, word: &str) -> usize {
    let start = Instant::now();
    loop {
        let v = node.get_json(&format!("/api/search?q={word}&mode=bm25"));
        let n = v.as_array().map_or(0, Vec::len);
        if n > 0 || start.elapsed() > PATIENCE {
            return n;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_worker_killed_mid_ingest_loses_the_job_to_another_and_nothing_is_stored_twice() {
    let Some(db) = verity_engine::testing::fresh_pg("cli_ingest_kill") else {
        return;
    };
    const DOCS: usize = 5_000;
    let tmp = tempfile::tempdir().unwrap();
    let hold = ["--debug-hold-job-ms", HOLD_MS];
    let victim = Node::start(&tmp.path().join("a"), &db.url, &hold);
    let b = Node::start(&tmp.path().join("b"), &db.url, &[]);
    // B waits (SIGSTOP) so that the victim claims the job.
    b.signal("-STOP");
    let started = Instant::now();
    let id = victim.upload("towns.jsonl", &towns_jsonl(DOCS));
    let mid = victim.wait_for_ingest(&id, |v| progress_done(v) >= 1_000);
    assert_eq!(mid["job"]["state"], "running", "{mid:#}");
    assert_eq!(mid["job"]["progress"]["total"], DOCS, "{mid:#}");
    assert_eq!(worker_pid(&mid), victim.pid());
    let stored_before = sql_n(&db.url, "SELECT count(*) FROM sources");
    let victim_pid = victim.pid();
    drop(victim); // SIGKILL, mid-ingest
    let killed_at = Instant::now();
    b.signal("-CONT");
    let done = b.wait_for_ingest(&id, |v| v["job"]["state"] == "done");
    let after_kill = killed_at.elapsed().as_secs_f64();
    let total = started.elapsed().as_secs_f64();
    assert_eq!(done["job"]["attempts"], 2, "{done:#}");
    assert_eq!(worker_pid(&done), b.pid());
    assert_ne!(worker_pid(&done), victim_pid);
    let report = &done["report"];
    let (added, unchanged) = (
        report["added"].as_i64().unwrap(),
        report["unchanged"].as_i64().unwrap(),
    );
    assert_eq!(added + unchanged, DOCS as i64, "{report:#}");
    assert!(
        unchanged >= 1_000,
        "what the killed worker stored is skipped: {report:#}"
    );
    assert_whole(&db.url, DOCS as i64);
    // Documents from before and after the kill are found through B.
    assert_eq!(search_hits(&b, "brannock7"), 1);
    assert_eq!(search_hits(&b, "brannock4999"), 1);
    eprintln!(
        "MEASURED kill -9 mid-ingest: {DOCS} documents, {stored_before} stored before the \
         kill, finished on the other node {after_kill:.2} s after it (lease {} ms), \
         attempts = 2, {} added + {} skipped on the re-run; {:.0} documents/s overall \
         ({total:.2} s with a {HOLD_MS} ms hold per 500)",
        node::LEASE_MS,
        added,
        unchanged,
        DOCS as f64 / total
    );
}

/// A PostgreSQL cluster of this test's own, that it may stop and start.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// `runuser -u verity-pg --` when running as root (initdb refuses root).
    as_user: Vec<String>,
}

impl Cluster {
    fn start() -> Cluster {
        let bin = pg_bin().expect("PostgreSQL's binaries (initdb, pg_ctl)");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let uid = run_ok(Command::new("id").arg("-u"));
        let root = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let as_user: Vec<String> = if root {
            let _ = Command::new("useradd")
                .args(["--system", "--no-create-home", "verity-pg"])
                .output();
            run_ok(Command::new("chown").args(["verity-pg"]).arg(dir.path()));
            ["runuser", "-u", "verity-pg", "--"]
                .map(String::from)
                .to_vec()
        } else {
            Vec::new()
        };
        let mut c = Cluster {
            bin,
            dir,
            port,
            as_user,
        };
        c.pg(
            "initdb",
            &["-U", "verity", "--auth=trust", "--no-sync", "--locale=C"],
        );
        // The port was free when picked, but another test may take it before the server
        // binds it: try again on a fresh one, then fail with the log on the last try.
        for _ in 0..2 {
            if c.command("pg_ctl", &c.start_args())
                .status()
                .is_ok_and(|s| s.success())
            {
                return c;
            }
            c.port = free_port();
        }
        c.pg_ctl("start");
        c
    }

    fn start_args(&self) -> Vec<String> {
        let log = self.dir.path().join("server.log").display().to_string();
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        ["-l", &log, "-w", "-o", &opts, "start"]
            .map(String::from)
            .to_vec()
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn command<S: AsRef<std::ffi::OsStr>>(&self, tool: &str, args: &[S]) -> Command {
        let tool = self.bin.join(tool).display().to_string();
        let mut cmd = match self.as_user.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(&tool);
                c
            }
            None => Command::new(&tool),
        };
        cmd.args(["-D", &self.data()]).args(args);
        cmd
    }

    fn pg<S: AsRef<std::ffi::OsStr>>(&self, tool: &str, args: &[S]) {
        run_ok(&mut self.command(tool, args));
    }

    fn pg_ctl(&self, action: &str) {
        match action {
            "start" => self.pg("pg_ctl", &self.start_args()),
            _ => self.pg("pg_ctl", &["-m", "immediate", "-w", "stop"]),
        }
    }

    fn url(&self) -> String {
        format!("postgres://verity@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| self.pg_ctl("stop"));
    }
}

#[test]
fn an_ingest_survives_a_database_restart_and_nothing_is_half_written() {
    // The shared cluster's presence says PostgreSQL is installed; this test stops only
    // its own.
    let Some(_shared) = verity_engine::testing::fresh_pg("cli_ingest_pg_restart") else {
        return;
    };
    const DOCS: usize = 3_000;
    let pg = Cluster::start();
    let url = pg.url();
    let tmp = tempfile::tempdir().unwrap();
    let node = Node::start(
        &tmp.path().join("a"),
        &url,
        &["--debug-hold-job-ms", HOLD_MS],
    );
    let started = Instant::now();
    let id = node.upload("towns.jsonl", &towns_jsonl(DOCS));
    node.wait_for_ingest(&id, |v| progress_done(v) >= 500);

    pg.pg_ctl("stop");
    let stopped_at = Instant::now();
    // The node stays up and says what is wrong.
    let (status, body) = node.get(&format!("/api/sources/jobs/{id}"));
    assert_eq!(status, 503, "{body}");
    let err: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["error"]["code"], "store_unavailable", "{err:#}");
    let ready = node.get("/readyz");
    assert_eq!(ready.0, 503, "{}", ready.1);
    // Long enough for the part being ingested to fail and the lease to run out.
    std::thread::sleep(Duration::from_secs(3));
    pg.pg_ctl("start");
    let restarted_at = Instant::now();
    // The first requests after the restart may still meet a connection the restart
    // broke: they get the same clear 503 until the node has reconnected.
    node.wait_until_answering(&format!("/api/sources/jobs/{id}"), "store_unavailable");

    let done = node.wait_for_ingest(&id, |v| {
        v["job"]["state"] == "done" || v["job"]["state"] == "failed"
    });
    assert_eq!(done["job"]["state"], "done", "{done:#}");
    let attempts = done["job"]["attempts"].as_i64().unwrap();
    assert!(
        attempts >= 2,
        "the job ran again after the restart: {done:#}"
    );
    let report = &done["report"];
    assert_eq!(
        report["added"].as_i64().unwrap() + report["unchanged"].as_i64().unwrap(),
        DOCS as i64,
        "{report:#}"
    );
    assert_whole(&url, DOCS as i64);
    assert_eq!(search_hits(&node, "brannock2999"), 1);
    assert!(started.elapsed() < PATIENCE * 2);
    eprintln!(
        "MEASURED database restart mid-ingest: {DOCS} documents; down {:.2} s; done {:.2} s \
         after the restart, attempts = {attempts}; last attempt {} added + {} skipped; \
         error while down: {}",
        (restarted_at - stopped_at).as_secs_f64(),
        restarted_at.elapsed().as_secs_f64(),
        report["added"],
        report["unchanged"],
        err["error"]["message"]
    );
}

#[test]
fn ingest_queue_hands_a_folder_to_the_workers_and_waits_for_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("towns.jsonl"), towns_jsonl(1_200)).unwrap();
    std::fs::write(
        docs.join("lock.md"),
        "# Ostmere lock\n\nTamsin Bryde keeps it.\n",
    )
    .unwrap();
    // Without a shared store there is no queue to hand it to.
    let out = common::verity(&tmp.path().join("local"))
        .args(["ingest", "--queue"])
        .arg(&docs)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PostgreSQL"), "{err}");

    let Some(db) = verity_engine::testing::fresh_pg("cli_ingest_queue") else {
        return;
    };
    let _worker = Node::start(&tmp.path().join("node"), &db.url, &[]);
    let queue = |data: &str| {
        let out = run_ok(
            common::verity(&tmp.path().join(data))
                .args(["--store", &db.url, "ingest", "--queue", "--wait", "--json"])
                .arg(&docs),
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = queue("cli");
    assert_eq!(
        (first["added"].clone(), first["unchanged"].clone()),
        (1_201.into(), 0.into())
    );
    let again = queue("cli2");
    assert_eq!(
        (again["added"].clone(), again["unchanged"].clone()),
        (0.into(), 1_201.into())
    );
    assert_whole(&db.url, 1_201);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
