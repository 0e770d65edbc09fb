//! The check queue: a bounded channel of jobs, a few workers that run each check on a
//! blocking thread, and live progress for subscribers.
//!
//! A check moves `queued → running → done | failed`; every transition is written to the
//! library's check history (`Library::put_check`, so history survives restarts) and
//! broadcast to the check's subscribers, who also get the current state the moment they
//! subscribe.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;
use tokio::sync::{broadcast, mpsc, watch};
use utoipa::ToSchema;
use verity_engine::{Brief, Check, CheckStatus, Library, Request};
use verity_types::Progress;

use crate::error::{ApiError, Code};
use crate::workers::{WorkerConfig, WorkerPool};

/// Question (`ask`) or claim (`check`): the engine's `Mode`, under the name the API's
/// schema gives it.
pub use verity_engine::Mode as CheckMode;

/// One progress event, sent as a server-sent event whose `event:` is the `type` field.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum JobEvent {
    /// Current state: sent first to every subscriber, and on `queued → running`.
    Status {
        status: CheckStatus,
        stage: Option<String>,
        done: u64,
        total: Option<u64>,
    },
    /// A pipeline stage began.
    Stage { name: String, total: Option<u64> },
    /// Units of the current stage finished (`done` of `total` so far).
    Advance {
        n: u64,
        done: u64,
        total: Option<u64>,
    },
    /// A line worth showing.
    Message { text: String },
    /// The brief is ready at `GET /api/checks/{id}`.
    Done { id: String },
    /// The check failed.
    Failed { id: String, error: String },
}

impl JobEvent {
    pub fn name(&self) -> &'static str {
        match self {
            JobEvent::Status { .. } => "status",
            JobEvent::Stage { .. } => "stage",
            JobEvent::Advance { .. } => "advance",
            JobEvent::Message { .. } => "message",
            JobEvent::Done { .. } => "done",
            JobEvent::Failed { .. } => "failed",
        }
    }
    pub fn is_final(&self) -> bool {
        matches!(self, JobEvent::Done { .. } | JobEvent::Failed { .. })
    }
}

/// The final event for a stored check that has finished.
pub fn final_event(c: &Check) -> Option<JobEvent> {
    match c.status {
        CheckStatus::Done => Some(JobEvent::Done {
            id: c.id.to_string(),
        }),
        CheckStatus::Failed => Some(JobEvent::Failed {
            id: c.id.to_string(),
            error: c.error.clone().unwrap_or_default(),
        }),
        _ => None,
    }
}

/// Runs one check. This is the only place that calls the engine's check pipeline; a
/// failure is answered as its message, with server paths cut out.
pub fn run_job(lib: &Library, request: &Request, progress: &dyn Progress) -> Result<Brief, String> {
    let today = chrono::Local::now().date_naive();
    lib.run_check(request, today, progress)
        .map_err(|e| crate::error::redact_paths(&e.to_string()))
}

struct LiveState {
    status: CheckStatus,
    stage: Option<String>,
    done: u64,
    total: Option<u64>,
    finished: Option<JobEvent>,
}

/// A check that this process is queueing or running.
pub(crate) struct Live {
    state: Mutex<LiveState>,
    tx: broadcast::Sender<JobEvent>,
}

impl Live {
    fn new() -> Arc<Self> {
        let (tx, _) = broadcast::channel(256);
        Arc::new(Live {
            state: Mutex::new(LiveState {
                status: CheckStatus::Queued,
                stage: None,
                done: 0,
                total: None,
                finished: None,
            }),
            tx,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LiveState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Apply an event to the snapshot and broadcast it, atomically with respect to
    /// [`Live::subscribe`].
    fn emit(&self, ev: JobEvent) {
        let mut st = self.lock();
        match &ev {
            JobEvent::Status { status, .. } => st.status = *status,
            JobEvent::Stage { name, total } => {
                st.stage = Some(name.clone());
                st.total = *total;
                st.done = 0;
            }
            JobEvent::Advance { n, .. } => st.done += n,
            JobEvent::Message { .. } => {}
            JobEvent::Done { .. } => {
                st.status = CheckStatus::Done;
                st.finished = Some(ev.clone());
            }
            JobEvent::Failed { .. } => {
                st.status = CheckStatus::Failed;
                st.finished = Some(ev.clone());
            }
        }
        let ev = match ev {
            JobEvent::Advance { n, .. } => JobEvent::Advance {
                n,
                done: st.done,
                total: st.total,
            },
            other => other,
        };
        // No receivers is fine.
        let _ = self.tx.send(ev);
    }

    /// The current state as events to send first, and a receiver for what follows.
    pub(crate) fn subscribe(&self) -> (Vec<JobEvent>, broadcast::Receiver<JobEvent>) {
        let st = self.lock();
        let rx = self.tx.subscribe();
        let mut first = vec![JobEvent::Status {
            status: st.status,
            stage: st.stage.clone(),
            done: st.done,
            total: st.total,
        }];
        if let Some(f) = &st.finished {
            first.push(f.clone());
        }
        (first, rx)
    }
}

/// Progress that streams to a live check's subscribers.
struct LiveProgress(Arc<Live>);

impl Progress for LiveProgress {
    fn stage(&self, name: &str, total: Option<u64>) {
        self.0.emit(JobEvent::Stage {
            name: name.to_string(),
            total,
        });
    }
    fn advance(&self, n: u64) {
        self.0.emit(JobEvent::Advance {
            n,
            done: 0,
            total: None,
        });
    }
    fn message(&self, msg: &str) {
        self.0.emit(JobEvent::Message {
            text: msg.to_string(),
        });
    }
}

/// A queued check.
pub(crate) struct Job {
    record: Check,
    live: Arc<Live>,
    queued_at: Instant,
}

/// The queue, its workers and the checks in flight. On a shared (PostgreSQL) store the
/// checks go to the store's job queue instead, which this process's [`WorkerPool`] (with
/// `--worker`) and every other node's workers run.
pub(crate) struct Jobs {
    lib: Arc<Library>,
    /// Checks go through the store's job queue.
    shared: bool,
    pool: Mutex<Option<WorkerPool>>,
    running: AtomicUsize,
    tx: Mutex<Option<mpsc::Sender<Job>>>,
    live: Mutex<HashMap<String, Arc<Live>>>,
    paused: watch::Sender<bool>,
    shutting_down: AtomicBool,
    capacity: usize,
    workers: usize,
    handles: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Jobs {
    /// Create the queue and spawn the workers (needs a tokio runtime): this process's
    /// own, or on a shared store, with `run_worker`, a pool of the shared queue's.
    pub(crate) fn start(
        lib: Arc<Library>,
        capacity: usize,
        workers: usize,
        run_worker: Option<&WorkerConfig>,
    ) -> std::io::Result<Arc<Jobs>> {
        let capacity = capacity.max(1);
        let workers = workers.max(1);
        let shared = lib.has_shared_store();
        let pool = match (shared, run_worker) {
            (true, Some(cfg)) => Some(WorkerPool::start(&lib, cfg)?),
            _ => None,
        };
        let (tx, rx) = mpsc::channel(capacity);
        let (paused, _) = watch::channel(false);
        let jobs = Arc::new(Jobs {
            shared,
            pool: Mutex::new(pool),
            running: AtomicUsize::new(0),
            lib,
            tx: Mutex::new(Some(tx)),
            live: Mutex::new(HashMap::new()),
            paused,
            shutting_down: AtomicBool::new(false),
            capacity,
            workers,
            handles: Mutex::new(Vec::new()),
        });
        if !shared {
            let rx = Arc::new(tokio::sync::Mutex::new(rx));
            let handles = (0..workers)
                .map(|_| tokio::spawn(worker(jobs.clone(), rx.clone())))
                .collect();
            *jobs.handles.lock().unwrap_or_else(|e| e.into_inner()) = handles;
        }
        Ok(jobs)
    }

    /// Whether checks go through the store's shared job queue.
    pub(crate) fn is_shared(&self) -> bool {
        self.shared
    }

    /// Checks this process's own workers are running.
    pub(crate) fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn workers(&self) -> usize {
        self.workers
    }

    /// Checks waiting in the queue (not yet picked up by a worker).
    pub(crate) fn queued(&self) -> usize {
        match &*self.tx.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(tx) => self.capacity - tx.capacity(),
            None => 0,
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        *self.paused.borrow()
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    pub(crate) fn set_paused(&self, paused: bool) {
        self.paused.send_replace(paused);
    }

    /// Record a new check and queue it. The record is written only when the queue has
    /// room, so a refused check leaves no trace.
    pub(crate) async fn submit(
        &self,
        request: Request,
        retry_after: u64,
    ) -> Result<Check, ApiError> {
        let closing = || closing(retry_after);
        if self.is_shutting_down() {
            return Err(closing());
        }
        if self.shared {
            return self.submit_shared(request, retry_after).await;
        }
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(tx) = tx else {
            return Err(closing());
        };
        let permit = match tx.try_reserve() {
            Ok(p) => p,
            Err(mpsc::error::TrySendError::Full(())) => {
                return Err(ApiError::new(
                    Code::QueueFull,
                    format!(
                        "the check queue is full ({} waiting); retry in {retry_after} s",
                        self.capacity
                    ),
                )
                .retry_after(retry_after))
            }
            Err(mpsc::error::TrySendError::Closed(())) => return Err(closing()),
        };
        let record = Check::queued(request);
        // Live before stored, so that a subscriber never finds a queued check that is
        // not live.
        let live = Live::new();
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(record.id.to_string(), live.clone());
        let lib = self.lib.clone();
        let r = record.clone();
        let stored = tokio::task::spawn_blocking(move || lib.put_check(&r))
            .await
            .map_err(ApiError::from)
            .and_then(|r| r.map_err(ApiError::from));
        if let Err(e) = stored {
            self.live
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(record.id.as_str());
            return Err(e);
        }
        permit.send(Job {
            record: record.clone(),
            live,
            queued_at: Instant::now(),
        });
        Ok(record)
    }

    /// Store the check and queue its job in the store's shared queue; 429 when as many
    /// jobs wait there as this server's queue would hold.
    async fn submit_shared(&self, request: Request, retry_after: u64) -> Result<Check, ApiError> {
        let (lib, capacity) = (self.lib.clone(), self.capacity);
        let today = chrono::Local::now().date_naive();
        tokio::task::spawn_blocking(move || lib.enqueue_check(request, today, capacity))
            .await?
            .map_err(|e| queue_error(e, retry_after))
    }

    /// Queue an ingest of `files` and `spec.urls` in the store's shared queue; 429 when
    /// as many jobs wait there as this server's queue would hold.
    pub(crate) async fn submit_ingest(
        &self,
        spec: verity_engine::IngestSpec,
        files: Vec<verity_engine::JobFile>,
        retry_after: u64,
    ) -> Result<String, ApiError> {
        if self.is_shutting_down() {
            return Err(closing(retry_after));
        }
        let (lib, capacity) = (self.lib.clone(), self.capacity);
        tokio::task::spawn_blocking(move || lib.enqueue_ingest(spec, files, capacity))
            .await?
            .map_err(|e| queue_error(e, retry_after))
    }

    /// The live state of a check this process is queueing or running.
    pub(crate) fn live(&self, id: &str) -> Option<Arc<Live>> {
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// Refuse new checks from now on; queued ones will fail instead of running.
    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.set_paused(false);
    }

    /// Stop taking checks: new ones get 503, queued ones fail, running ones finish.
    /// Waits up to `grace` for the workers.
    pub(crate) async fn shutdown(&self, grace: std::time::Duration) {
        self.begin_shutdown();
        let handles = std::mem::take(&mut *self.handles.lock().unwrap_or_else(|e| e.into_inner()));
        let pool = self.pool.lock().unwrap_or_else(|e| e.into_inner()).take();
        let pool = tokio::task::spawn_blocking(move || pool.map(WorkerPool::stop));
        let all = async move {
            futures_util::future::join_all(handles).await;
            let _ = pool.await;
        };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                "checks still running at shutdown; they will be marked failed at the next start"
            );
        }
    }

    async fn finish(&self, job: &Job, outcome: Result<Brief, String>) {
        let mut record = job.record.clone();
        let id = record.id.to_string();
        let ev = match outcome.and_then(|brief| record.finish(&brief).map_err(|e| e.to_string())) {
            Ok(()) => JobEvent::Done { id },
            Err(error) => {
                record.fail(error.clone());
                JobEvent::Failed { id, error }
            }
        };
        self.lib
            .record_local_job(matches!(ev, JobEvent::Done { .. }), job.queued_at.elapsed());
        self.store(record).await;
        job.live.emit(ev);
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(job.record.id.as_str());
    }

    async fn store(&self, record: Check) {
        let lib = self.lib.clone();
        let id = record.id.clone();
        match tokio::task::spawn_blocking(move || lib.put_check(&record)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(check = %id, error = %e, "could not store a check"),
            Err(e) => tracing::error!(check = %id, error = %e, "could not store a check"),
        }
    }
}

async fn worker(jobs: Arc<Jobs>, rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
    let mut paused = jobs.paused.subscribe();
    loop {
        // While paused, take nothing new ...
        if paused.wait_for(|p| !*p).await.is_err() {
            return;
        }
        let job = { rx.lock().await.recv().await };
        let Some(job) = job else { return };
        // ... and hold what was taken until resumed (it stays `queued`).
        if paused.wait_for(|p| !*p).await.is_err() {
            return;
        }
        if jobs.is_shutting_down() {
            let outcome =
                Err("the server shut down before this check ran; submit it again".to_string());
            jobs.finish(&job, outcome).await;
            continue;
        }
        let mut record = job.record.clone();
        record.status = CheckStatus::Running;
        jobs.store(record).await;
        job.live.emit(JobEvent::Status {
            status: CheckStatus::Running,
            stage: None,
            done: 0,
            total: None,
        });
        let lib = jobs.lib.clone();
        let request = job.record.request.clone();
        let progress = LiveProgress(job.live.clone());
        jobs.running.fetch_add(1, Ordering::SeqCst);
        let outcome = tokio::task::spawn_blocking(move || run_job(&lib, &request, &progress))
            .await
            .unwrap_or_else(|e| Err(format!("the check crashed: {e}")));
        jobs.running.fetch_sub(1, Ordering::SeqCst);
        jobs.finish(&job, outcome).await;
    }
}

/// 503: the server takes no new work while it shuts down.
fn closing(retry_after: u64) -> ApiError {
    ApiError::new(
        Code::ShuttingDown,
        "the server is shutting down and takes no new checks or ingests; try again when it is back",
    )
    .retry_after(retry_after)
}

/// An engine error from queuing a job; a full queue is a 429 with `Retry-After`.
fn queue_error(e: verity_engine::EngineError, retry_after: u64) -> ApiError {
    match e {
        verity_engine::EngineError::QueueFull { queued } => ApiError::new(
            Code::QueueFull,
            format!("the job queue is full ({queued} waiting); retry in {retry_after} s"),
        )
        .retry_after(retry_after),
        other => other.into(),
    }
}

/// Mark checks that a previous process left `queued` or `running` as failed.
pub(crate) fn fail_interrupted(lib: &Library) -> Result<usize, verity_engine::EngineError> {
    lib.fail_unfinished_checks("the server stopped before this check finished; submit it again")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn late_subscribers_get_the_current_state_and_the_end() {
        let live = Live::new();
        live.emit(JobEvent::Stage {
            name: "retrieve".into(),
            total: Some(4),
        });
        live.emit(JobEvent::Advance {
            n: 3,
            done: 0,
            total: None,
        });
        let (first, _) = live.subscribe();
        assert_eq!(
            first,
            vec![JobEvent::Status {
                status: CheckStatus::Queued,
                stage: Some("retrieve".into()),
                done: 3,
                total: Some(4)
            }]
        );
        live.emit(JobEvent::Failed {
            id: "c".into(),
            error: "x".into(),
        });
        let (first, _) = live.subscribe();
        assert_eq!(first.len(), 2);
        assert!(first[1].is_final());
    }

    #[test]
    fn advance_events_carry_running_totals() {
        let live = Live::new();
        let (_, mut rx) = live.subscribe();
        let p = LiveProgress(live.clone());
        p.stage("judge", Some(10));
        p.advance(4);
        p.advance(2);
        let evs: Vec<JobEvent> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(
            evs.last(),
            Some(&JobEvent::Advance {
                n: 2,
                done: 6,
                total: Some(10)
            })
        );
    }

    #[test]
    fn statuses_round_trip() {
        for s in CheckStatus::ALL {
            assert_eq!(CheckStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(CheckMode::parse("ask"), Some(CheckMode::Ask));
        assert_eq!(CheckMode::parse("check"), Some(verity_engine::Mode::Check));
    }
}
