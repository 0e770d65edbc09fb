//! The job queue on PostgreSQL (see `jobs.rs`): claims take `FOR UPDATE SKIP LOCKED`
//! row locks, so concurrent workers on any node never wait for each other nor take the
//! same job; lease times are the database's clock, the one clock every node shares.

use crate::jobs::{
    add_file_sql, cancel_sql, claim_sql, enqueue_sql, expire_sql, fail_sql, finish_sql,
    heartbeat_sql, held_by, job_state, lease_ms, Dialect, Job, JobFile, JobQueue, JobState, NewJob,
    QueueDepth, FAILED, FINISHED, JOB_COLS,
};
use crate::postgres::{pg, PgStore};
use crate::Result;
use postgres::{Client, GenericClient, Row};
use std::time::Duration;

const DIALECT: Dialect = Dialect {
    now_ms: "(extract(epoch FROM clock_timestamp()) * 1000)::bigint",
    param: pg_param,
    lock_rows: "FOR UPDATE SKIP LOCKED",
};

fn pg_param(n: usize) -> String {
    format!("${n}")
}

fn job_from_row(r: &Row) -> Result<Job> {
    let act = "reading a job";
    let get = |e| pg(act)(e);
    let state: String = r.try_get(3).map_err(get)?;
    let id: String = r.try_get(0).map_err(get)?;
    Ok(Job {
        state: job_state(&id, &state)?,
        id,
        kind: r.try_get(1).map_err(get)?,
        payload: r.try_get(2).map_err(get)?,
        attempts: r.try_get(4).map_err(get)?,
        worker: r.try_get(5).map_err(get)?,
        lease_until: r.try_get(6).map_err(get)?,
        progress: r.try_get(7).map_err(get)?,
        result: r.try_get(8).map_err(get)?,
        error: r.try_get(9).map_err(get)?,
        created_at: r.try_get(10).map_err(get)?,
        started_at: r.try_get(11).map_err(get)?,
        finished_at: r.try_get(12).map_err(get)?,
    })
}

fn job_on(c: &mut impl GenericClient, id: &str) -> Result<Option<Job>> {
    let q = format!("SELECT {JOB_COLS} FROM jobs WHERE id=$1");
    c.query_opt(&q, &[&id])
        .map_err(pg("reading a job"))?
        .map(|r| job_from_row(&r))
        .transpose()
}

fn claim_on(c: &mut Client, worker: &str, lease: Duration) -> Result<Option<Job>> {
    let act = "claiming a job";
    let mut tx = c.transaction().map_err(pg(act))?;
    tx.execute(&expire_sql(&DIALECT), &[]).map_err(pg(act))?;
    let row = tx
        .query_opt(&claim_sql(&DIALECT), &[&worker, &lease_ms(lease)])
        .map_err(pg(act))?;
    tx.commit().map_err(pg(act))?;
    row.map(|r| job_from_row(&r)).transpose()
}

/// Run one of the lease holder's updates (`update` with parameters id, worker, `value`);
/// `Some(job)` as it is now when it took effect now or earlier (`ended` states with
/// `worker` as the last holder), `None` when `worker` does not hold it.
fn holder_update(
    c: &mut Client,
    update: &str,
    (id, worker, value): (&str, &str, &str),
    ended: &[JobState],
) -> Result<Option<Job>> {
    let n = c
        .execute(update, &[&id, &worker, &value])
        .map_err(pg("ending a job"))?;
    Ok(held_by(n as usize, job_on(c, id)?, worker, ended))
}

/// Queue a job and its files in one transaction: no worker sees a job without them.
fn enqueue_on(c: &mut Client, job: NewJob) -> Result<String> {
    let act = "queuing a job";
    let mut tx = c.transaction().map_err(pg(act))?;
    let n = tx
        .execute(&enqueue_sql(&DIALECT), &[&job.id, &job.kind, &job.payload])
        .map_err(pg(act))?;
    if n > 0 {
        let add = tx.prepare(&add_file_sql(&DIALECT)).map_err(pg(act))?;
        for (seq, f) in job.files.iter().enumerate() {
            let seq = i32::try_from(seq).unwrap_or(i32::MAX);
            tx.execute(&add, &[&job.id, &seq, &f.name, &f.data])
                .map_err(pg(act))?;
        }
    }
    tx.commit().map_err(pg(act))?;
    Ok(job.id)
}

impl JobQueue for PgStore {
    fn enqueue_job(&self, job: &NewJob) -> Result<String> {
        let job = job.clone();
        self.run(move |c| enqueue_on(c, job))
    }

    fn claim_job(&self, worker: &str, lease: Duration) -> Result<Option<Job>> {
        let worker = worker.to_string();
        self.run(move |c| claim_on(c, &worker, lease))
    }

    fn heartbeat_job(
        &self,
        id: &str,
        worker: &str,
        lease: Duration,
        progress: Option<&str>,
    ) -> Result<bool> {
        let (id, worker) = (id.to_string(), worker.to_string());
        let progress = progress.map(str::to_string);
        self.run(move |c| {
            let n = c
                .execute(
                    &heartbeat_sql(&DIALECT),
                    &[&id, &worker, &lease_ms(lease), &progress],
                )
                .map_err(pg("extending a job's lease"))?;
            Ok(n > 0)
        })
    }

    fn finish_job(&self, id: &str, worker: &str, result: &str) -> Result<bool> {
        let args = (id.to_string(), worker.to_string(), result.to_string());
        self.run(move |c| {
            let sql = finish_sql(&DIALECT);
            let job = holder_update(c, &sql, (&args.0, &args.1, &args.2), FINISHED)?;
            Ok(job.is_some())
        })
    }

    fn fail_job(&self, id: &str, worker: &str, error: &str) -> Result<Option<JobState>> {
        let args = (id.to_string(), worker.to_string(), error.to_string());
        self.run(move |c| {
            let sql = fail_sql(&DIALECT);
            let job = holder_update(c, &sql, (&args.0, &args.1, &args.2), FAILED)?;
            Ok(job.map(|j| j.state))
        })
    }

    fn cancel_job(&self, id: &str, reason: &str) -> Result<Option<JobState>> {
        let (id, reason) = (id.to_string(), reason.to_string());
        self.run(move |c| {
            c.execute(&cancel_sql(&DIALECT), &[&id, &reason])
                .map_err(pg("cancelling a job"))?;
            Ok(job_on(c, &id)?.map(|j| j.state))
        })
    }

    fn job(&self, id: &str) -> Result<Option<Job>> {
        let id = id.to_string();
        self.run(move |c| job_on(c, &id))
    }

    fn queue_depth(&self) -> Result<QueueDepth> {
        self.run(|c| {
            let act = "counting jobs";
            let r = c
                .query_one(
                    "SELECT count(*) FILTER (WHERE state='queued'), \
                     count(*) FILTER (WHERE state='running') FROM jobs",
                    &[],
                )
                .map_err(pg(act))?;
            let n = |i| {
                r.try_get::<_, i64>(i)
                    .map(i64::unsigned_abs)
                    .map_err(pg(act))
            };
            Ok(QueueDepth {
                queued: n(0)?,
                running: n(1)?,
            })
        })
    }

    fn job_files(&self, id: &str) -> Result<Vec<JobFile>> {
        let id = id.to_string();
        self.run(move |c| {
            let act = "reading a job's files";
            let rows = c
                .query(
                    "SELECT name, data FROM job_files WHERE job_id=$1 ORDER BY seq",
                    &[&id],
                )
                .map_err(pg(act))?;
            rows.iter()
                .map(|r| {
                    Ok(JobFile {
                        name: r.try_get(0).map_err(pg(act))?,
                        data: r.try_get(1).map_err(pg(act))?,
                    })
                })
                .collect()
        })
    }

    fn drop_job_files(&self, id: &str) -> Result<()> {
        let id = id.to_string();
        self.run(move |c| {
            c.execute("DELETE FROM job_files WHERE job_id=$1", &[&id])
                .map_err(pg("deleting a job's files"))?;
            Ok(())
        })
    }
}
