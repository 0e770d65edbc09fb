//! Checks through the store's job queue: queued by one handle, run by a worker, each
//! stored once however often its job runs; cancellation, back-pressure, the attempt cap
//! and readiness. Each test runs on SQLite and, with `VERITY_TEST_PG`, on PostgreSQL.
//! Every place, agency and person here is invented.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use chrono::NaiveDate;
use verity_engine::{
    CheckStatus, EngineError, ErrorCode, IngestOptions, JobOutcome, Library, LibraryOptions, Mode,
    ModelsMode, Request, WorkerOptions, MAX_JOB_ATTEMPTS,
};
use verity_store::StoreLocation;
use verity_types::NoProgress;

const TODAY: Option<NaiveDate> = NaiveDate::from_ymd_opt(2025, 6, 1);

/// Where a test's library lives: a data directory, and a PostgreSQL schema or not.
struct Place {
    dir: tempfile::TempDir,
    store: Option<String>,
    _db: Option<verity_store::testing::TestDb>,
}

impl Place {
    fn open(&self, node: &str) -> Library {
        Library::open(LibraryOptions {
            models: ModelsMode::Off,
            store: self.store.clone(),
            ..LibraryOptions::new(self.dir.path().join(node))
        })
        .unwrap()
    }

    /// The store itself, as a second process would open it.
    fn raw_store(&self, node: &str) -> Box<dyn verity_store::Store> {
        let loc = StoreLocation::new(self.store.as_deref(), &self.dir.path().join(node)).unwrap();
        loc.open().unwrap()
    }
}

/// SQLite, then PostgreSQL when configured.
fn places(name: &str) -> Vec<Place> {
    let mut out = vec![Place {
        dir: tempfile::tempdir().unwrap(),
        store: None,
        _db: None,
    }];
    if let Some(db) = verity_store::testing::fresh_pg(name) {
        out.push(Place {
            dir: tempfile::tempdir().unwrap(),
            store: Some(db.url.clone()),
            _db: Some(db),
        });
    }
    out
}

fn ingest_weir(lib: &Library, dir: &Path) {
    let docs = dir.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(
        docs.join("weir.txt"),
        "The Holloway weir reopened to boats in May 2025 after the sluice gates were replaced.\n",
    )
    .unwrap();
    lib.ingest(
        &[docs.display().to_string()],
        &IngestOptions::default(),
        &NoProgress,
    )
    .unwrap();
}

fn claim() -> Request {
    Request::new(Mode::Check, "The Holloway weir reopened in May 2025.")
}

fn worker(name: &str) -> WorkerOptions {
    WorkerOptions {
        worker: name.into(),
        ..WorkerOptions::new(0, Duration::from_secs(30))
    }
}

#[test]
fn a_queued_check_is_run_by_a_worker_and_stored_once() {
    for place in places("engine_jobs_run_once") {
        let lib = place.open("node");
        ingest_weir(&lib, place.dir.path());
        let queued = lib.enqueue_check(claim(), TODAY.unwrap(), 10).unwrap();
        assert_eq!(queued.status, CheckStatus::Queued);
        assert_eq!(lib.job_queue_depth().unwrap().queued, 1);
        let run = lib.run_next_job(&worker("w1")).unwrap().unwrap();
        assert_eq!((run.outcome, run.attempts), (JobOutcome::Done, 1));
        assert_eq!(run.id, queued.id.as_str());
        let done = lib.check(queued.id.as_str()).unwrap();
        assert_eq!(done.status, CheckStatus::Done);
        assert!(done.verdict().is_some());
        let job = lib.check_job(queued.id.as_str()).unwrap().unwrap();
        assert_eq!((job.state.as_str(), job.attempts), ("done", 1));
        assert_eq!(job.worker.as_deref(), Some("w1"));
        assert!(
            job.progress.is_some(),
            "the last heartbeat's progress is kept"
        );
        assert!(lib.run_next_job(&worker("w1")).unwrap().is_none());
        assert_eq!(lib.checks(0, 10).unwrap().len(), 1);
        assert_eq!(lib.job_metrics().done, 1);
    }
}

#[test]
fn a_job_whose_worker_died_runs_again_into_the_same_check() {
    for place in places("engine_jobs_rerun") {
        let lib = place.open("node");
        ingest_weir(&lib, place.dir.path());
        let queued = lib.enqueue_check(claim(), TODAY.unwrap(), 10).unwrap();
        // Another process claims it, stores nothing more and dies; its lease runs out.
        let other = place.raw_store("node");
        let claimed = other
            .claim_job("dead", Duration::from_millis(30))
            .unwrap()
            .unwrap();
        assert_eq!(claimed.id, queued.id.as_str());
        std::thread::sleep(Duration::from_millis(80));
        let run = lib.run_next_job(&worker("alive")).unwrap().unwrap();
        assert_eq!((run.outcome, run.attempts), (JobOutcome::Done, 2));
        // The dead worker's late answer is refused, and the history has one check.
        assert!(!other.finish_job(&claimed.id, "dead", "{}").unwrap());
        let history = lib.checks(0, 10).unwrap();
        assert_eq!(history.len(), 1, "{history:?}");
        assert_eq!(history[0].status, CheckStatus::Done);
    }
}

#[test]
fn cancelled_checks_never_run_and_a_full_queue_pushes_back() {
    for place in places("engine_jobs_cancel") {
        let lib = place.open("node");
        ingest_weir(&lib, place.dir.path());
        let first = lib.enqueue_check(claim(), TODAY.unwrap(), 1).unwrap();
        let err = lib.enqueue_check(claim(), TODAY.unwrap(), 1).unwrap_err();
        assert!(matches!(err, EngineError::QueueFull { queued: 1 }), "{err}");
        assert_eq!(err.code(), ErrorCode::QueueFull);
        let cancelled = lib.cancel_check(first.id.as_str()).unwrap();
        assert_eq!(cancelled.status, CheckStatus::Failed);
        assert_eq!(cancelled.error.as_deref(), Some("cancelled"));
        // Cancelling again is a no-op.
        assert_eq!(lib.cancel_check(first.id.as_str()).unwrap(), cancelled);
        assert!(lib.run_next_job(&worker("w")).unwrap().is_none());
        assert_eq!(lib.job_queue_depth().unwrap().queued, 0);
        let err = lib.cancel_check("ffffffffffff").unwrap_err();
        assert_eq!(err.code(), ErrorCode::CheckNotFound);
    }
}

#[test]
fn a_check_that_keeps_failing_is_failed_after_the_attempt_cap() {
    for place in places("engine_jobs_cap") {
        // An empty library: every run fails.
        let lib = place.open("node");
        let queued = lib.enqueue_check(claim(), TODAY.unwrap(), 10).unwrap();
        for attempt in 1..=MAX_JOB_ATTEMPTS {
            let run = lib.run_next_job(&worker("w")).unwrap().unwrap();
            assert_eq!(run.attempts, attempt);
            let retrying = matches!(run.outcome, JobOutcome::Retrying(_));
            assert_eq!(retrying, attempt < MAX_JOB_ATTEMPTS, "{:?}", run.outcome);
        }
        assert!(lib.run_next_job(&worker("w")).unwrap().is_none());
        let failed = lib.check(queued.id.as_str()).unwrap();
        assert_eq!(failed.status, CheckStatus::Failed);
        assert!(
            failed.error.unwrap().contains("ingest"),
            "names the next step"
        );
        assert_eq!(
            lib.job_metrics().retried,
            u64::try_from(MAX_JOB_ATTEMPTS - 1).unwrap()
        );
    }
}

#[test]
fn a_node_is_ready_once_its_indexes_catch_up() {
    for place in places("engine_jobs_readiness") {
        let a = place.open("node-a");
        let b = place.open("node-b");
        assert!(b.readiness(0).ready);
        ingest_weir(&a, place.dir.path());
        let r = b.readiness(0);
        if place.store.is_none() {
            assert!(r.ready, "SQLite keeps no log: {r:?}");
            continue;
        }
        assert!(!r.ready, "{r:?}");
        assert_eq!(r.lag, 1);
        assert!(r.reason.unwrap().contains("1 changes behind"));
        assert!(b.readiness(1).ready, "within the allowed lag");
        b.catch_up().unwrap();
        let r = b.readiness(0);
        assert!(r.ready && r.lag == 0 && r.applied == r.last_change, "{r:?}");
    }
}

/// `n` invented documents as JSONL.
fn towns_jsonl(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| {
            format!(
                "{{\"title\": \"Town {i}\", \"text\": \"The ferry of Brannock {i} was run by Ilse Varga {i}, who opened it in {}.\"}}\n",
                1900 + i % 100
            )
        })
        .collect::<String>()
        .into_bytes()
}

fn spec() -> verity_engine::IngestSpec {
    verity_engine::IngestSpec {
        max_bytes: 1 << 20,
        ..Default::default()
    }
}

#[test]
fn a_queued_ingest_is_run_by_another_node_and_a_rerun_adds_nothing() {
    for place in places("engine_ingest_job") {
        // Two nodes on PostgreSQL; on SQLite (one file per data directory) one.
        let a = place.open("a");
        let other = place.store.as_ref().map(|_| place.open("b"));
        let b = other.as_ref().unwrap_or(&a);
        let files = vec![
            verity_engine::JobFile {
                name: "towns.jsonl".into(),
                data: towns_jsonl(1_234),
            },
            verity_engine::JobFile {
                name: "../weir.md".into(),
                data: b"# Weir\n\nThe Holloway weir reopened in May 2025.\n".to_vec(),
            },
        ];
        let id = a.enqueue_ingest(spec(), files.clone(), 10).unwrap();
        let queued = b.ingest_job(&id).unwrap();
        assert_eq!(queued.job.state, "queued");
        assert!(queued.report.is_none());
        let run = b.run_next_job(&worker("wb")).unwrap().unwrap();
        assert_eq!(
            (run.id.as_str(), run.kind.as_str()),
            (id.as_str(), "ingest")
        );
        assert_eq!(run.outcome, JobOutcome::Done);
        let done = a.ingest_job(&id).unwrap();
        let report = done.report.unwrap();
        assert_eq!((report.added, report.unchanged), (1_235, 0), "{report:?}");
        let progress = done.job.progress.unwrap();
        assert_eq!((progress.done, progress.total), (1_235, Some(1_235)));
        assert_eq!(b.stats().unwrap().0, 1_235);
        // The same files again: every document is already stored.
        let again = a.enqueue_ingest(spec(), files, 10).unwrap();
        b.run_next_job(&worker("wb")).unwrap().unwrap();
        let report = a.ingest_job(&again).unwrap().report.unwrap();
        assert_eq!((report.added, report.unchanged), (0, 1_235));
        assert_eq!(b.stats().unwrap().0, 1_235, "nothing stored twice");
        let err = a.ingest_job("ingest-nope").unwrap_err();
        assert_eq!(err.code(), ErrorCode::JobNotFound);
    }
}

#[test]
fn a_dead_attempts_pending_sources_are_finished_by_the_next() {
    for place in places("engine_ingest_rerun") {
        let lib = place.open("node");
        let id = lib
            .enqueue_ingest(
                spec(),
                vec![verity_engine::JobFile {
                    name: "towns.jsonl".into(),
                    data: towns_jsonl(40),
                }],
                10,
            )
            .unwrap();
        // A first worker claims it and "dies" after storing a source, before indexing it.
        let store = place.raw_store("node");
        let short = Duration::from_millis(100);
        assert!(store.claim_job("dead", short).unwrap().is_some());
        let text = "The ferry of Brannock 0 was run by Ilse Varga 0, who opened it in 1900.";
        store
            .put_sources(&[verity_store::NewSource {
                id: verity_types::SourceId::from_content(text),
                location: "towns.jsonl#L1".into(),
                format: verity_types::Format::Text,
                meta: Default::default(),
                text: text.into(),
                passages: vec![verity_types::PassageSpan::whole(text)],
                fingerprint: vec![],
                duplicate_of: None,
                ingested_at: None,
            }])
            .unwrap();
        std::thread::sleep(Duration::from_millis(150));
        let run = lib.run_next_job(&worker("alive")).unwrap().unwrap();
        assert_eq!((run.attempts, run.outcome), (2, JobOutcome::Done));
        assert_eq!(lib.stats().unwrap().0, 40, "the pending one is indexed too");
        assert!(store
            .sources_in_state(verity_store::SourceState::Pending)
            .unwrap()
            .is_empty());
        assert!(store.job_files(&id).unwrap().is_empty(), "files dropped");
    }
}

#[test]
fn a_queued_ingest_can_be_cancelled_and_is_refused_when_the_queue_is_full() {
    for place in places("engine_ingest_cancel") {
        let lib = place.open("node");
        let file = || {
            vec![verity_engine::JobFile {
                name: "towns.jsonl".into(),
                data: towns_jsonl(3),
            }]
        };
        let id = lib.enqueue_ingest(spec(), file(), 1).unwrap();
        let full = lib.enqueue_ingest(spec(), file(), 1).unwrap_err();
        assert_eq!(full.code(), ErrorCode::QueueFull);
        let big = verity_engine::IngestSpec {
            max_bytes: 10,
            ..spec()
        };
        let err = lib.enqueue_ingest(big, file(), 5).unwrap_err();
        assert_eq!(err.code(), ErrorCode::PayloadTooLarge, "{err}");
        assert_eq!(lib.cancel_ingest(&id).unwrap().job.state, "cancelled");
        assert!(lib.run_next_job(&worker("w")).unwrap().is_none());
        assert_eq!(lib.stats().unwrap().0, 0);
    }
}
