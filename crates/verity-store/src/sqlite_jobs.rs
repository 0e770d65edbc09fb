//! The job queue on SQLite (see `jobs.rs`): one process's writer connection serialises
//! claims, and `BEGIN IMMEDIATE` serialises them between processes.

use crate::jobs::{
    add_file_sql, cancel_sql, claim_sql, enqueue_sql, expire_sql, fail_sql, finish_sql,
    heartbeat_sql, held_by, job_state, lease_ms, Dialect, Job, JobFile, JobQueue, JobState, NewJob,
    QueueDepth, FAILED, FINISHED, JOB_COLS,
};
use crate::sqlite::{sql, SqliteStore};
use crate::Result;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use std::time::Duration;

/// SQLite has no clock in milliseconds of its own that every version agrees on; the
/// process's is the one clock for an embedded library.
const DIALECT: Dialect = Dialect {
    now_ms: "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
    param: sqlite_param,
    lock_rows: "",
};

fn sqlite_param(n: usize) -> String {
    format!("?{n}")
}

/// A row of [`JOB_COLS`] with its state still as text.
fn raw_job(r: &Row<'_>) -> rusqlite::Result<(Job, String)> {
    let state: String = r.get(3)?;
    Ok((
        Job {
            id: r.get(0)?,
            kind: r.get(1)?,
            payload: r.get(2)?,
            state: JobState::Queued,
            attempts: r.get(4)?,
            worker: r.get(5)?,
            lease_until: r.get(6)?,
            progress: r.get(7)?,
            result: r.get(8)?,
            error: r.get(9)?,
            created_at: r.get(10)?,
            started_at: r.get(11)?,
            finished_at: r.get(12)?,
        },
        state,
    ))
}

fn typed((mut job, state): (Job, String)) -> Result<Job> {
    job.state = job_state(&job.id, &state)?;
    Ok(job)
}

fn job_on(conn: &Connection, id: &str) -> Result<Option<Job>> {
    let q = format!("SELECT {JOB_COLS} FROM jobs WHERE id=?1");
    conn.query_row(&q, [id], raw_job)
        .optional()
        .map_err(sql("reading a job"))?
        .map(typed)
        .transpose()
}

/// Run one of the lease holder's updates (`update` with parameters id, worker and a value);
/// see [`held_by`].
fn holder_update(
    conn: &Connection,
    update: &str,
    args: [&str; 3],
    ended: &[JobState],
) -> Result<Option<Job>> {
    let n = conn.execute(update, args).map_err(sql("ending a job"))?;
    Ok(held_by(n, job_on(conn, args[0])?, args[1], ended))
}

fn claim_on(conn: &mut Connection, worker: &str, lease: Duration) -> Result<Option<Job>> {
    let act = "claiming a job";
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(act))?;
    tx.execute(&expire_sql(&DIALECT), []).map_err(sql(act))?;
    let claimed = tx
        .query_row(
            &claim_sql(&DIALECT),
            params![worker, lease_ms(lease)],
            raw_job,
        )
        .optional()
        .map_err(sql(act))?;
    tx.commit().map_err(sql(act))?;
    claimed.map(typed).transpose()
}

impl JobQueue for SqliteStore {
    fn enqueue_job(&self, job: &NewJob) -> Result<String> {
        let act = "queuing a job";
        let mut conn = self.write();
        let tx = conn.transaction().map_err(sql(act))?;
        let n = tx
            .execute(
                &enqueue_sql(&DIALECT),
                params![job.id, job.kind, job.payload],
            )
            .map_err(sql(act))?;
        if n > 0 {
            for (seq, f) in job.files.iter().enumerate() {
                tx.execute(
                    &add_file_sql(&DIALECT),
                    params![job.id, seq as i64, f.name, f.data],
                )
                .map_err(sql(act))?;
            }
        }
        tx.commit().map_err(sql(act))?;
        Ok(job.id.clone())
    }

    fn claim_job(&self, worker: &str, lease: Duration) -> Result<Option<Job>> {
        claim_on(&mut self.write(), worker, lease)
    }

    fn heartbeat_job(
        &self,
        id: &str,
        worker: &str,
        lease: Duration,
        progress: Option<&str>,
    ) -> Result<bool> {
        let n = self
            .write()
            .execute(
                &heartbeat_sql(&DIALECT),
                params![id, worker, lease_ms(lease), progress],
            )
            .map_err(sql("extending a job's lease"))?;
        Ok(n > 0)
    }

    fn finish_job(&self, id: &str, worker: &str, result: &str) -> Result<bool> {
        let sql = finish_sql(&DIALECT);
        Ok(holder_update(&self.write(), &sql, [id, worker, result], FINISHED)?.is_some())
    }

    fn fail_job(&self, id: &str, worker: &str, error: &str) -> Result<Option<JobState>> {
        let sql = fail_sql(&DIALECT);
        let job = holder_update(&self.write(), &sql, [id, worker, error], FAILED)?;
        Ok(job.map(|j| j.state))
    }

    fn cancel_job(&self, id: &str, reason: &str) -> Result<Option<JobState>> {
        let conn = self.write();
        conn.execute(&cancel_sql(&DIALECT), params![id, reason])
            .map_err(sql("cancelling a job"))?;
        Ok(job_on(&conn, id)?.map(|j| j.state))
    }

    fn job(&self, id: &str) -> Result<Option<Job>> {
        job_on(&self.read(), id)
    }

    fn queue_depth(&self) -> Result<QueueDepth> {
        self.read()
            .query_row(
                "SELECT count(*) FILTER (WHERE state='queued'), \
                 count(*) FILTER (WHERE state='running') FROM jobs",
                [],
                |r| {
                    Ok(QueueDepth {
                        queued: r.get::<_, i64>(0)?.unsigned_abs(),
                        running: r.get::<_, i64>(1)?.unsigned_abs(),
                    })
                },
            )
            .map_err(sql("counting jobs"))
    }

    fn job_files(&self, id: &str) -> Result<Vec<JobFile>> {
        let act = "reading a job's files";
        let conn = self.read();
        let mut st = conn
            .prepare("SELECT name, data FROM job_files WHERE job_id=?1 ORDER BY seq")
            .map_err(sql(act))?;
        let rows = st
            .query_map([id], |r| {
                Ok(JobFile {
                    name: r.get(0)?,
                    data: r.get(1)?,
                })
            })
            .map_err(sql(act))?;
        rows.collect::<rusqlite::Result<_>>().map_err(sql(act))
    }

    fn drop_job_files(&self, id: &str) -> Result<()> {
        self.write()
            .execute("DELETE FROM job_files WHERE job_id=?1", [id])
            .map_err(sql("deleting a job's files"))?;
        Ok(())
    }
}
