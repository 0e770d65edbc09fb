//! Checks as jobs of the store's queue (`verity_store::JobQueue`), so that any node
//! sharing a PostgreSQL store can run a check submitted to any other.
//!
//! [`Library::enqueue_check`] stores the check `queued` and queues a job whose id is the
//! check's id. A worker ([`Library::run_next_job`], or [`Library::work`] in a loop)
//! claims it under a lease, marks the check `running`, runs it while a heartbeat thread
//! extends the lease and reports progress, then stores the check `done` (or `failed`)
//! and ends the job. The check is written under its one id, so a job run twice (its
//! first worker died after storing, or its lease ran out mid-run) leaves one check, not
//! two. A job that fails is queued again until its attempts run out
//! (`MAX_JOB_ATTEMPTS`); its check stays `queued` meanwhile.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use verity_store::{Job, JobState, NewJob, QueueDepth};
use verity_types::Progress;

use crate::checks::{Check, CheckId, CheckStatus, Request};
use crate::ingest_job::{IngestSpec, INGEST_JOB};
use crate::{EngineError, Library, Result};

/// The kind of a job that runs a check or answers a question.
pub const CHECK_JOB: &str = "check";
/// Environment variable: the lease of a claimed job, in milliseconds.
pub const LEASE_ENV: &str = "VERITY_JOB_LEASE_MS";
/// A claimed job's lease unless told otherwise: a worker that stops heartbeating for
/// this long loses its job to another worker.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);
/// Why a cancelled check failed.
pub(crate) const CANCELLED: &str = "cancelled";

/// What a check job carries: enough to rebuild its record without reading it.
#[derive(Debug, Serialize, Deserialize)]
struct CheckPayload {
    check: CheckId,
    created_at: String,
    request: Request,
    /// The "checked on" date, fixed when queued so that every attempt agrees.
    today: NaiveDate,
}

/// How a worker runs jobs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// This worker's id, unique among every node's workers (see [`WorkerOptions::new`]).
    pub worker: String,
    /// How long a claim holds without a heartbeat.
    pub lease: Duration,
    /// The shortest and longest wait between polls of an empty queue (doubling).
    pub poll: (Duration, Duration),
    /// Hold each claimed job this long before running it (heartbeating meanwhile), and
    /// an ingest job before each of its parts: for tests that must catch a worker
    /// mid-job.
    pub hold: Duration,
    /// How an ingest job parses its files (`None`: in this process).
    pub isolation: Option<verity_ingest::Isolation>,
}

impl WorkerOptions {
    /// Options for worker number `n` of this process: its id names the host, the
    /// process and `n`.
    pub fn new(n: usize, lease: Duration) -> Self {
        let host = std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "node".into());
        WorkerOptions {
            worker: format!("{host}:{}:{n}", std::process::id()),
            lease: lease.max(Duration::from_millis(100)),
            poll: (Duration::from_millis(50), Duration::from_secs(1)),
            hold: Duration::ZERO,
            isolation: None,
        }
    }
}

/// How one job ended for this worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    /// Failed; queued again for another attempt.
    Retrying(String),
    /// Failed for good.
    Failed(String),
    /// Cancelled while it ran; its result was dropped.
    Cancelled,
    /// Another worker took it over (this one's lease ran out); its result was dropped.
    Lost,
}

/// One job a worker ran.
#[derive(Debug, Clone)]
pub struct JobRun {
    /// The job's id (a check's id, or `ingest-…`).
    pub id: String,
    /// `check` or `ingest`.
    pub kind: String,
    pub attempts: i32,
    pub outcome: JobOutcome,
}

/// A check's progress as its worker last reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobProgress {
    pub stage: Option<String>,
    pub done: u64,
    pub total: Option<u64>,
}

/// Where a queued check's job stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobStatus {
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    pub state: String,
    /// Claims so far: 2 or more means a worker failed or died and another took over.
    pub attempts: i32,
    /// The worker that claimed it last (`host:pid:n`).
    pub worker: Option<String>,
    pub progress: Option<JobProgress>,
    pub error: Option<String>,
}

impl From<Job> for JobStatus {
    fn from(j: Job) -> Self {
        JobStatus {
            state: j.state.as_str().to_string(),
            attempts: j.attempts,
            worker: j.worker,
            progress: j.progress.and_then(|p| serde_json::from_str(&p).ok()),
            error: j.error,
        }
    }
}

/// Progress of the running job, kept for the heartbeat to send.
#[derive(Default)]
pub(crate) struct Tracker(Mutex<JobProgress>);

impl Tracker {
    pub(crate) fn json(&self) -> Option<String> {
        serde_json::to_string(&*self.0.lock().unwrap_or_else(|e| e.into_inner())).ok()
    }
}

impl Progress for Tracker {
    fn stage(&self, name: &str, total: Option<u64>) {
        let mut p = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *p = JobProgress {
            stage: Some(name.to_string()),
            done: 0,
            total,
        };
    }
    fn advance(&self, n: u64) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).done += n;
    }
    fn message(&self, _: &str) {}
}

/// Bounds of the job latency histogram (queued → ended), in seconds.
pub const LATENCY_BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0];

/// Counters of the jobs this process ran: what `/metrics` reports.
#[derive(Default)]
pub(crate) struct JobCounters {
    done: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
    cancelled: AtomicU64,
    lost: AtomicU64,
    /// Per bucket of [`LATENCY_BUCKETS`], plus one past the last.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    latency_ms: AtomicU64,
}

/// A snapshot of [`JobCounters`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobMetrics {
    pub done: u64,
    pub retried: u64,
    pub failed: u64,
    pub cancelled: u64,
    pub lost: u64,
    /// Jobs that ended within each of [`LATENCY_BUCKETS`] (cumulative), then all.
    pub latency_buckets: Vec<u64>,
    pub latency_sum_secs: f64,
}

impl JobCounters {
    fn record(&self, outcome: &JobOutcome, latency: Duration) {
        let counter = match outcome {
            JobOutcome::Done => &self.done,
            JobOutcome::Retrying(_) => &self.retried,
            JobOutcome::Failed(_) => &self.failed,
            JobOutcome::Cancelled => &self.cancelled,
            JobOutcome::Lost => &self.lost,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if matches!(outcome, JobOutcome::Done | JobOutcome::Failed(_)) {
            let secs = latency.as_secs_f64();
            let i = LATENCY_BUCKETS.partition_point(|b| *b < secs);
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
            let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
            self.latency_ms.fetch_add(ms, Ordering::Relaxed);
        }
    }

    fn snapshot(&self) -> JobMetrics {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut running = 0;
        let latency_buckets = self
            .buckets
            .iter()
            .map(|b| {
                running += load(b);
                running
            })
            .collect();
        JobMetrics {
            done: load(&self.done),
            retried: load(&self.retried),
            failed: load(&self.failed),
            cancelled: load(&self.cancelled),
            lost: load(&self.lost),
            latency_buckets,
            latency_sum_secs: load(&self.latency_ms) as f64 / 1000.0,
        }
    }
}

/// Milliseconds since 1970, as the store's clocks count.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Library {
    /// Store a new check `queued` and queue its job, unless `max_queued` jobs already
    /// wait ([`EngineError::QueueFull`]: back-pressure, answered as 429).
    pub fn enqueue_check(
        &self,
        request: Request,
        today: NaiveDate,
        max_queued: usize,
    ) -> Result<Check> {
        let request = request.validated()?;
        self.has_room(max_queued)?;
        let check = Check::queued(request);
        let payload = CheckPayload {
            check: check.id.clone(),
            created_at: check.created_at.clone(),
            request: check.request.clone(),
            today,
        };
        let payload = serde_json::to_string(&payload).map_err(|source| EngineError::Serialize {
            what: "check job",
            source,
        })?;
        self.put_check(&check)?;
        self.store.enqueue_job(&NewJob {
            id: check.id.to_string(),
            kind: CHECK_JOB.into(),
            payload,
            files: Vec::new(),
        })?;
        Ok(check)
    }

    /// Back-pressure: [`EngineError::QueueFull`] when `max_queued` jobs already wait.
    pub(crate) fn has_room(&self, max_queued: usize) -> Result<()> {
        let depth = self.store.queue_depth()?;
        if depth.queued >= max_queued as u64 {
            return Err(EngineError::QueueFull {
                queued: depth.queued,
            });
        }
        Ok(())
    }

    /// Claim one job and run it to its end (see the module docs); `None` when the queue
    /// has nothing to run.
    pub fn run_next_job(&self, opts: &WorkerOptions) -> Result<Option<JobRun>> {
        let Some(job) = self.store.claim_job(&opts.worker, opts.lease)? else {
            return Ok(None);
        };
        let work = match decode_payload(&job) {
            Ok(w) => w,
            Err(e) => {
                // Unreadable here, and on every retry: say so and let it go.
                self.store.fail_job(&job.id, &opts.worker, &e.to_string())?;
                return Err(e);
            }
        };
        let outcome = match &work {
            Work::Check(p) => self.run_check_job(&job, p, opts)?,
            Work::Ingest(spec) => self.run_ingest_job(&job, spec, opts)?,
        };
        let latency = Duration::from_millis(u64::try_from(now_ms() - job.created_at).unwrap_or(0));
        self.job_counters.record(&outcome, latency);
        Ok(Some(JobRun {
            id: job.id,
            kind: job.kind,
            attempts: job.attempts,
            outcome,
        }))
    }

    fn run_check_job(
        &self,
        job: &Job,
        p: &CheckPayload,
        opts: &WorkerOptions,
    ) -> Result<JobOutcome> {
        let mut check = Check {
            id: p.check.clone(),
            created_at: p.created_at.clone(),
            status: CheckStatus::Running,
            request: p.request.clone(),
            brief: None,
            error: None,
        };
        self.put_check(&check)?;
        let tracker = Tracker::default();
        let (result, held) = self.with_heartbeat(job, opts, &tracker, || {
            std::thread::sleep(opts.hold);
            self.run_check(&p.request, p.today, &tracker)
        });
        // Still ours? (A last look, with the last progress, so that a cancelled check is
        // not stored done.)
        if !self.still_ours(job, held, &tracker, opts)? {
            return self.lost_or_cancelled(&job.id);
        }
        match result {
            Ok(brief) => {
                check.finish(&brief)?;
                self.put_check(&check)?;
                let result = serde_json::json!({ "check": check.id }).to_string();
                if self.store.finish_job(&job.id, &opts.worker, &result)? {
                    Ok(JobOutcome::Done)
                } else {
                    self.lost_or_cancelled(&job.id)
                }
            }
            Err(e) => self.fail_check_job(job, check, &e.to_string(), opts),
        }
    }

    fn fail_check_job(
        &self,
        job: &Job,
        mut check: Check,
        error: &str,
        opts: &WorkerOptions,
    ) -> Result<JobOutcome> {
        match self.store.fail_job(&job.id, &opts.worker, error)? {
            Some(JobState::Failed) => {
                check.fail(error);
                self.put_check(&check)?;
                Ok(JobOutcome::Failed(error.to_string()))
            }
            Some(_) => {
                check.status = CheckStatus::Queued;
                self.put_check(&check)?;
                Ok(JobOutcome::Retrying(error.to_string()))
            }
            None => self.lost_or_cancelled(&job.id),
        }
    }

    /// Whether `job` is still this worker's after its run: its lease held throughout
    /// (`held`), and a last heartbeat, carrying the last progress, still lands. A
    /// cancelled or re-claimed job's result is then dropped, never stored as done.
    pub(crate) fn still_ours(
        &self,
        job: &Job,
        held: bool,
        tracker: &Tracker,
        opts: &WorkerOptions,
    ) -> Result<bool> {
        let last = tracker.json();
        Ok(held
            && self
                .store
                .heartbeat_job(&job.id, &opts.worker, opts.lease, last.as_deref())?)
    }

    pub(crate) fn lost_or_cancelled(&self, id: &str) -> Result<JobOutcome> {
        let state = self.store.job(id)?.map(|j| j.state);
        Ok(if state == Some(JobState::Cancelled) {
            JobOutcome::Cancelled
        } else {
            JobOutcome::Lost
        })
    }

    /// Run `f` while a thread extends `job`'s lease every third of it. Returns what `f`
    /// returned and whether the lease held throughout.
    pub(crate) fn with_heartbeat<T>(
        &self,
        job: &Job,
        opts: &WorkerOptions,
        tracker: &Tracker,
        f: impl FnOnce() -> T,
    ) -> (T, bool) {
        let held = AtomicBool::new(true);
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::scope(|s| {
            let held = &held;
            s.spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(opts.lease / 3)
                {
                    let progress = tracker.json();
                    match self.store.heartbeat_job(
                        &job.id,
                        &opts.worker,
                        opts.lease,
                        progress.as_deref(),
                    ) {
                        Ok(true) => {}
                        Ok(false) => {
                            held.store(false, Ordering::SeqCst);
                            return;
                        }
                        // The store may be back before the lease runs out.
                        Err(e) => tracing::warn!(job = %job.id, error = %e, "heartbeat failed"),
                    }
                }
            });
            let out = f();
            drop(stop);
            (out, held.load(Ordering::SeqCst))
        })
    }

    /// Run jobs until `stop` is set: claim, run, and poll an empty queue at
    /// `opts.poll`'s pace (doubling while it stays empty, and after errors). Returns the
    /// number of jobs run.
    pub fn work(&self, opts: &WorkerOptions, stop: &AtomicBool) -> usize {
        let (min, max) = opts.poll;
        let mut wait = min;
        let mut ran = 0;
        while !stop.load(Ordering::SeqCst) {
            match self.run_next_job(opts) {
                Ok(Some(run)) => {
                    ran += 1;
                    wait = min;
                    tracing::info!(job = %run.id, kind = %run.kind, attempts = run.attempts, outcome = ?run.outcome, "job ended");
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "could not run a job"),
            }
            let until = Instant::now() + wait;
            while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(min.min(until.saturating_duration_since(Instant::now())));
            }
            wait = (wait * 2).min(max);
        }
        ran
    }

    /// Cancel a queued or running check: its job is never run (or its result is
    /// dropped) and the check fails as `cancelled`. A finished check is left as it is.
    pub fn cancel_check(&self, id: &str) -> Result<Check> {
        let mut check = self.check(id)?;
        if check.status.is_final() {
            return Ok(check);
        }
        if self.store.cancel_job(id, CANCELLED)? != Some(JobState::Cancelled) {
            return self.check(id);
        }
        check.fail(CANCELLED);
        self.put_check(&check)?;
        Ok(check)
    }

    /// Jobs waiting and running in the store's queue.
    pub fn job_queue_depth(&self) -> Result<QueueDepth> {
        Ok(self.store.queue_depth()?)
    }

    /// The job of a check queued with [`Library::enqueue_check`]; `None` for a check
    /// that was not (one the CLI ran, or a server's own queue ran).
    pub fn check_job(&self, id: &str) -> Result<Option<JobStatus>> {
        Ok(self.store.job(id)?.map(JobStatus::from))
    }

    /// Counters of the jobs this process ran.
    pub fn job_metrics(&self) -> JobMetrics {
        self.job_counters.snapshot()
    }

    /// Count a check that a server's own (in-process) queue ran, as the shared queue's
    /// jobs are counted.
    pub fn record_local_job(&self, ok: bool, latency: Duration) {
        let outcome = if ok {
            JobOutcome::Done
        } else {
            JobOutcome::Failed(String::new())
        };
        self.job_counters.record(&outcome, latency);
    }
}

/// What a claimed job asks for.
enum Work {
    Check(CheckPayload),
    Ingest(IngestSpec),
}

fn decode_payload(job: &Job) -> Result<Work> {
    let bad = |detail: String| EngineError::BadRecord {
        what: "job",
        id: job.id.clone(),
        detail,
    };
    let payload = |e: serde_json::Error| bad(format!("payload: {e}"));
    match job.kind.as_str() {
        CHECK_JOB => serde_json::from_str(&job.payload)
            .map(Work::Check)
            .map_err(payload),
        INGEST_JOB => serde_json::from_str(&job.payload)
            .map(Work::Ingest)
            .map_err(payload),
        other => Err(bad(format!(
            "unknown kind `{other}` (a newer Verity queued it)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_buckets_are_cumulative() {
        let c = JobCounters::default();
        c.record(&JobOutcome::Done, Duration::from_millis(70));
        c.record(&JobOutcome::Failed("x".into()), Duration::from_secs(3));
        c.record(&JobOutcome::Lost, Duration::from_secs(3));
        let m = c.snapshot();
        assert_eq!((m.done, m.failed, m.lost), (1, 1, 1));
        assert_eq!(m.latency_buckets[0], 0, "70 ms is over 50 ms");
        assert_eq!(m.latency_buckets[1], 1);
        assert_eq!(m.latency_buckets[6], 2, "3 s is under 5 s");
        assert_eq!(
            *m.latency_buckets.last().unwrap(),
            2,
            "a lost job has no latency"
        );
        assert!((m.latency_sum_secs - 3.07).abs() < 1e-9);
    }

    #[test]
    fn progress_is_reported_as_json() {
        let t = Tracker::default();
        t.stage("judge", Some(8));
        t.advance(3);
        let p: JobProgress = serde_json::from_str(&t.json().unwrap()).unwrap();
        assert_eq!(
            p,
            JobProgress {
                stage: Some("judge".into()),
                done: 3,
                total: Some(8)
            }
        );
    }
}
