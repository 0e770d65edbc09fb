//! The job queue: work (a check or question to run) that any node sharing the store may
//! claim and run.
//!
//! A job is `queued` until a worker claims it; a claim makes it `running` under a
//! *lease*: the worker's id and a deadline (`lease_until`, milliseconds since 1970 by
//! the database's clock on PostgreSQL) that the worker keeps pushing forward with
//! heartbeats. A job whose lease ran out (its worker died or hung) is claimed again by
//! the next worker, with `attempts` counting every claim. The lease holder ends a job
//! `done` (with a result) or reports a failure: the job is queued again until it has
//! been claimed [`MAX_JOB_ATTEMPTS`] times, then it is `failed` for good. Anyone may
//! `cancel` a queued or running job; its worker learns it at its next heartbeat.
//!
//! Finishing, failing and cancelling are idempotent: saying it again changes nothing.
//! Only the current lease holder can finish or fail a job (a worker whose lease ran out
//! and was taken over is told so, and its late answer is dropped).
//!
//! PostgreSQL claims with `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent claimers
//! never wait on each other nor take the same job; SQLite's single writer serialises
//! them. The SQL is written once here, for both dialects ([`Dialect`]).

use crate::Result;
use std::time::Duration;

/// Claims a job may have: a job whose worker failed (or died) this many times is failed
/// for good.
pub const MAX_JOB_ATTEMPTS: i32 = 5;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<JobState> {
        JobState::ALL.into_iter().find(|j| j.as_str() == s)
    }

    /// Done, failed for good, or cancelled: nothing will change it again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Done | JobState::Failed | JobState::Cancelled
        )
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job to queue. The id is the caller's (the engine uses the check's id), so queuing
/// the same job twice is a no-op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub id: String,
    /// What to run (`check`, `ingest`).
    pub kind: String,
    /// What the kind needs, as JSON.
    pub payload: String,
    /// Files the job reads (an upload's bytes), stored with it in the same transaction
    /// in `job_files`, so that whichever node claims the job has them.
    pub files: Vec<JobFile>,
}

/// A file stored with a job: its name (as uploaded) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFile {
    pub name: String,
    pub data: Vec<u8>,
}

/// A job as the `jobs` table holds it. Times are milliseconds since 1970.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub state: JobState,
    /// Claims so far (the first run is attempt 1).
    pub attempts: i32,
    /// The worker that claimed it last.
    pub worker: Option<String>,
    pub lease_until: Option<i64>,
    /// The worker's last progress report (JSON), sent with its heartbeats.
    pub progress: Option<String>,
    /// The result (JSON), once done.
    pub result: Option<String>,
    /// The last failure, or why it was cancelled.
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// Jobs waiting and running.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDepth {
    pub queued: u64,
    pub running: u64,
}

/// The queue's operations; every [`crate::Store`] has them (`tests/store_suite.rs` runs
/// the same tests against SQLite and PostgreSQL).
pub trait JobQueue {
    /// Queue `job` (a no-op when its id is already queued). Returns the job's id.
    fn enqueue_job(&self, job: &NewJob) -> Result<String>;
    /// Claim the oldest queued job, or a running one whose lease ran out, for `worker`
    /// until `lease` from now; `None` when there is nothing to run.
    fn claim_job(&self, worker: &str, lease: Duration) -> Result<Option<Job>>;
    /// Extend `worker`'s lease on a running job to `lease` from now, and record its
    /// progress. False when `worker` no longer holds it (cancelled, or taken over).
    fn heartbeat_job(
        &self,
        id: &str,
        worker: &str,
        lease: Duration,
        progress: Option<&str>,
    ) -> Result<bool>;
    /// The lease holder ends the job `done` with `result`. False when `worker` does not
    /// hold it (and did not already finish it).
    fn finish_job(&self, id: &str, worker: &str, result: &str) -> Result<bool>;
    /// The lease holder reports a failure: the job is queued again, or failed for good
    /// after [`MAX_JOB_ATTEMPTS`] claims. Returns the state it is now in, `None` when
    /// `worker` does not hold it.
    fn fail_job(&self, id: &str, worker: &str, error: &str) -> Result<Option<JobState>>;
    /// Cancel a queued or running job. Returns the state it is now in (a finished job
    /// keeps its state), `None` for an unknown id.
    fn cancel_job(&self, id: &str, reason: &str) -> Result<Option<JobState>>;
    fn job(&self, id: &str) -> Result<Option<Job>>;
    fn queue_depth(&self) -> Result<QueueDepth>;
    /// The files queued with a job, in the order given.
    fn job_files(&self, id: &str) -> Result<Vec<JobFile>>;
    /// Delete the files of a job that has ended (a no-op when it has none).
    fn drop_job_files(&self, id: &str) -> Result<()>;
}

/// The columns of a job, in [`Job`]'s order.
pub(crate) const JOB_COLS: &str = "id, kind, payload, state, attempts, worker, lease_until, \
     progress, result, error, created_at, started_at, finished_at";

/// The `jobs` table (both dialects: `BIGINT` and `TEXT` are SQLite types too).
pub(crate) const JOBS_TABLE: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    worker TEXT,
    lease_until BIGINT,
    progress TEXT,
    result TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, created_at);
";

/// The `job_files` table. One text for both dialects: SQLite keeps a blob as it is in a
/// `BYTEA` (numeric-affinity) column.
pub(crate) const JOB_FILES_TABLE: &str = "
CREATE TABLE IF NOT EXISTS job_files (
    job_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (job_id, seq)
);
";

/// Store one file of a job: parameters (job id, position, name, bytes).
pub(crate) fn add_file_sql(d: &Dialect) -> String {
    let p = d.param;
    format!(
        "INSERT INTO job_files (job_id, seq, name, data) VALUES ({}, {}, {}, {}) \
         ON CONFLICT (job_id, seq) DO NOTHING",
        p(1),
        p(2),
        p(3),
        p(4)
    )
}

/// How one SQL dialect says "now, in milliseconds", numbers its parameters and locks a
/// claimed row.
pub(crate) struct Dialect {
    pub now_ms: &'static str,
    pub param: fn(usize) -> String,
    /// Appended to the claim's row choice (`FOR UPDATE SKIP LOCKED` on PostgreSQL).
    pub lock_rows: &'static str,
}

/// Running jobs whose lease ran out after their last allowed attempt: failed for good.
/// No parameters.
pub(crate) fn expire_sql(d: &Dialect) -> String {
    format!(
        "UPDATE jobs SET state='failed', finished_at={now}, \
         error=coalesce(error, 'its worker stopped') || ' (gave up after {MAX_JOB_ATTEMPTS} attempts)' \
         WHERE state='running' AND lease_until < {now} AND attempts >= {MAX_JOB_ATTEMPTS}",
        now = d.now_ms
    )
}

/// Claim one job: parameters (worker, lease in ms); returns the job's columns.
pub(crate) fn claim_sql(d: &Dialect) -> String {
    let (now, p) = (d.now_ms, d.param);
    format!(
        "UPDATE jobs SET state='running', worker={w}, lease_until={now} + {l}, \
         attempts=attempts + 1, started_at=coalesce(started_at, {now}) \
         WHERE id = (SELECT id FROM jobs WHERE state='queued' \
             OR (state='running' AND lease_until < {now} AND attempts < {MAX_JOB_ATTEMPTS}) \
             ORDER BY created_at, id LIMIT 1 {lock}) \
         RETURNING {JOB_COLS}",
        w = p(1),
        l = p(2),
        lock = d.lock_rows,
    )
}

/// Heartbeat: parameters (id, worker, lease in ms, progress).
pub(crate) fn heartbeat_sql(d: &Dialect) -> String {
    let p = d.param;
    format!(
        "UPDATE jobs SET lease_until={now} + {l}, progress=coalesce({pr}, progress) \
         WHERE id={id} AND worker={w} AND state='running'",
        now = d.now_ms,
        id = p(1),
        w = p(2),
        l = p(3),
        pr = p(4),
    )
}

/// Finish: parameters (id, worker, result).
pub(crate) fn finish_sql(d: &Dialect) -> String {
    let p = d.param;
    format!(
        "UPDATE jobs SET state='done', result={r}, finished_at={now}, lease_until=NULL \
         WHERE id={id} AND worker={w} AND state='running'",
        now = d.now_ms,
        id = p(1),
        w = p(2),
        r = p(3),
    )
}

/// Fail: parameters (id, worker, error); queued again below the attempt cap.
pub(crate) fn fail_sql(d: &Dialect) -> String {
    let p = d.param;
    format!(
        "UPDATE jobs SET error={e}, lease_until=NULL, \
         state=CASE WHEN attempts >= {MAX_JOB_ATTEMPTS} THEN 'failed' ELSE 'queued' END, \
         finished_at=CASE WHEN attempts >= {MAX_JOB_ATTEMPTS} THEN {now} ELSE NULL END \
         WHERE id={id} AND worker={w} AND state='running'",
        now = d.now_ms,
        id = p(1),
        w = p(2),
        e = p(3),
    )
}

/// Cancel: parameters (id, reason).
pub(crate) fn cancel_sql(d: &Dialect) -> String {
    let p = d.param;
    format!(
        "UPDATE jobs SET state='cancelled', error={r}, finished_at={now}, lease_until=NULL \
         WHERE id={id} AND state IN ('queued', 'running')",
        now = d.now_ms,
        id = p(1),
        r = p(2),
    )
}

/// Queue: parameters (id, kind, payload).
pub(crate) fn enqueue_sql(d: &Dialect) -> String {
    let p = d.param;
    format!(
        "INSERT INTO jobs (id, kind, payload, state, created_at) \
         VALUES ({}, {}, {}, 'queued', {}) ON CONFLICT (id) DO NOTHING",
        p(1),
        p(2),
        p(3),
        d.now_ms
    )
}

/// The job as it is after a lease holder's update that changed `changed` rows: `Some`
/// when the update took effect now, or earlier (a repeated call: the job is in one of
/// `ended` with `worker` as its last holder); `None` when `worker` does not hold it.
pub(crate) fn held_by(
    changed: usize,
    job: Option<Job>,
    worker: &str,
    ended: &[JobState],
) -> Option<Job> {
    job.filter(|j| changed > 0 || (j.worker.as_deref() == Some(worker) && ended.contains(&j.state)))
}

/// States a finish leaves, or a repeated finish finds.
pub(crate) const FINISHED: &[JobState] = &[JobState::Done];
/// States a failure leaves, or a repeated failure finds.
pub(crate) const FAILED: &[JobState] = &[JobState::Queued, JobState::Failed];

/// A lease as milliseconds (at least 1).
pub(crate) fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis())
        .unwrap_or(i64::MAX / 4)
        .max(1)
}

/// A stored state, or a typed error for one this version does not know.
pub(crate) fn job_state(id: &str, raw: &str) -> Result<JobState> {
    JobState::parse(raw)
        .ok_or_else(|| crate::StoreError::Corrupt(format!("job {id} has an unknown state `{raw}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_only_ends_are_final() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert!(!JobState::Running.is_final());
        assert!(JobState::Cancelled.is_final());
        assert!(job_state("j", "lost").is_err());
        assert_eq!(lease_ms(Duration::ZERO), 1);
    }
}
