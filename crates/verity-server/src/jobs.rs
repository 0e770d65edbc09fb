//! The check queue: a bounded channel of jobs, a few workers that run each check on a
//! blocking thread, and live progress for subscribers.
//!
//! A check moves `queued → running → done | failed`; every transition is written to the
//! store (so history survives restarts) and broadcast to the check's subscribers, who
//! also get the current state the moment they subscribe.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, watch};
use utoipa::ToSchema;
use verity_engine::Library;
use verity_store::StoredCheck;
use verity_types::Progress;

use crate::error::{ApiError, Code};

/// Question (`ask`) or claim (`check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckMode {
    Ask,
    Check,
}

impl CheckMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckMode::Ask => "ask",
            CheckMode::Check => "check",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ask" => Some(CheckMode::Ask),
            "check" => Some(CheckMode::Check),
            _ => None,
        }
    }
}

/// What a check runs on: stored with the check, so that "check again" can repeat it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CheckInput {
    pub input: String,
    pub mode: CheckMode,
    /// Use only sources published on or before this date.
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
    /// Keep (flagged) sentences that fail the support check.
    #[serde(default)]
    pub show_unsupported: bool,
}

/// Where a check is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Queued => "queued",
            CheckStatus::Running => "running",
            CheckStatus::Done => "done",
            CheckStatus::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(CheckStatus::Queued),
            "running" => Some(CheckStatus::Running),
            "done" => Some(CheckStatus::Done),
            "failed" => Some(CheckStatus::Failed),
            _ => None,
        }
    }
    pub fn is_final(self) -> bool {
        matches!(self, CheckStatus::Done | CheckStatus::Failed)
    }
}

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
pub fn final_event(c: &StoredCheck) -> Option<JobEvent> {
    match CheckStatus::parse(&c.status)? {
        CheckStatus::Done => Some(JobEvent::Done { id: c.id.clone() }),
        CheckStatus::Failed => Some(JobEvent::Failed {
            id: c.id.clone(),
            error: c.error.clone().unwrap_or_default(),
        }),
        _ => None,
    }
}

/// Runs one check. This is the only place that calls the engine's check pipeline; it
/// returns the brief as JSON (the same JSON as `verity check --format json`).
pub fn run_job(
    lib: &Library,
    request: &CheckInput,
    progress: &dyn Progress,
) -> Result<serde_json::Value, String> {
    let req = verity_engine::CheckRequest {
        input: request.input.clone(),
        mode: match request.mode {
            CheckMode::Ask => verity_compose::Mode::Ask,
            CheckMode::Check => verity_compose::Mode::Check,
        },
        as_of: request.as_of,
        show_unsupported: request.show_unsupported,
        explain: false,
    };
    let today = chrono::Local::now().date_naive();
    lib.run_check(&req, today, progress)
        .map(|brief| verity_render::render_json(&brief))
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
    record: StoredCheck,
    input: CheckInput,
    live: Arc<Live>,
}

/// The queue, its workers and the checks in flight.
pub(crate) struct Jobs {
    lib: Arc<Library>,
    tx: Mutex<Option<mpsc::Sender<Job>>>,
    live: Mutex<HashMap<String, Arc<Live>>>,
    paused: watch::Sender<bool>,
    shutting_down: AtomicBool,
    capacity: usize,
    workers: usize,
    counter: AtomicU64,
    handles: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Jobs {
    /// Create the queue and spawn the workers (needs a tokio runtime).
    pub(crate) fn start(lib: Arc<Library>, capacity: usize, workers: usize) -> Arc<Jobs> {
        let capacity = capacity.max(1);
        let workers = workers.max(1);
        let (tx, rx) = mpsc::channel(capacity);
        let (paused, _) = watch::channel(false);
        let jobs = Arc::new(Jobs {
            lib,
            tx: Mutex::new(Some(tx)),
            live: Mutex::new(HashMap::new()),
            paused,
            shutting_down: AtomicBool::new(false),
            capacity,
            workers,
            counter: AtomicU64::new(0),
            handles: Mutex::new(Vec::new()),
        });
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let mut handles = Vec::with_capacity(workers);
        for _ in 0..workers {
            handles.push(tokio::spawn(worker(jobs.clone(), rx.clone())));
        }
        *jobs.handles.lock().unwrap_or_else(|e| e.into_inner()) = handles;
        jobs
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

    /// A new, unique, roughly time-ordered check id.
    fn new_id(&self) -> String {
        let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!(
            "{:013x}{:04x}",
            nanos / 1000,
            (n ^ u64::from(std::process::id())) & 0xffff
        )
    }

    /// Record a new check and queue it. The record is written only when the queue has
    /// room, so a refused check leaves no trace.
    pub(crate) async fn submit(
        &self,
        input: CheckInput,
        retry_after: u64,
    ) -> Result<StoredCheck, ApiError> {
        let closing = || {
            ApiError::new(
                Code::ShuttingDown,
                "the server is shutting down and takes no new checks; try again when it is back",
            )
            .retry_after(retry_after)
        };
        if self.is_shutting_down() {
            return Err(closing());
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
        let record = StoredCheck {
            id: self.new_id(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            mode: input.mode.as_str().to_string(),
            input: input.input.clone(),
            status: CheckStatus::Queued.as_str().to_string(),
            request: serde_json::to_string(&input).map_err(ApiError::internal)?,
            brief: None,
            error: None,
        };
        // Live before stored, so that a subscriber never finds a queued check that is
        // not live.
        let live = Live::new();
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(record.id.clone(), live.clone());
        let lib = self.lib.clone();
        let r = record.clone();
        let stored = tokio::task::spawn_blocking(move || lib.store().put_check(&r))
            .await
            .map_err(ApiError::from)
            .and_then(|r| r.map_err(ApiError::from));
        if let Err(e) = stored {
            self.live
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&record.id);
            return Err(e);
        }
        permit.send(Job {
            record: record.clone(),
            input,
            live,
        });
        Ok(record)
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
        let all = futures_util::future::join_all(handles);
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(
                "checks still running at shutdown; they will be marked failed at the next start"
            );
        }
    }

    async fn finish(&self, job: &Job, outcome: Result<serde_json::Value, String>) {
        let mut record = job.record.clone();
        let ev = match outcome {
            Ok(brief) => match serde_json::to_string(&brief) {
                Ok(s) => {
                    record.status = CheckStatus::Done.as_str().into();
                    record.brief = Some(s);
                    JobEvent::Done {
                        id: record.id.clone(),
                    }
                }
                Err(e) => fail(&mut record, format!("could not serialise the brief: {e}")),
            },
            Err(e) => fail(&mut record, e),
        };
        self.store(record).await;
        job.live.emit(ev);
        self.live
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&job.record.id);
    }

    async fn store(&self, record: StoredCheck) {
        let lib = self.lib.clone();
        let id = record.id.clone();
        match tokio::task::spawn_blocking(move || lib.store().put_check(&record)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(check = %id, error = %e, "could not store a check"),
            Err(e) => tracing::error!(check = %id, error = %e, "could not store a check"),
        }
    }
}

fn fail(record: &mut StoredCheck, error: String) -> JobEvent {
    record.status = CheckStatus::Failed.as_str().into();
    record.error = Some(error.clone());
    JobEvent::Failed {
        id: record.id.clone(),
        error,
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
        record.status = CheckStatus::Running.as_str().into();
        jobs.store(record).await;
        job.live.emit(JobEvent::Status {
            status: CheckStatus::Running,
            stage: None,
            done: 0,
            total: None,
        });
        let lib = jobs.lib.clone();
        let input = job.input.clone();
        let progress = LiveProgress(job.live.clone());
        let outcome = tokio::task::spawn_blocking(move || run_job(&lib, &input, &progress))
            .await
            .unwrap_or_else(|e| Err(format!("the check crashed: {e}")));
        jobs.finish(&job, outcome).await;
    }
}

/// Mark checks that a previous process left `queued` or `running` as failed.
pub(crate) fn fail_interrupted(lib: &Library) -> Result<usize, verity_store::StoreError> {
    const PAGE: usize = 500;
    let mut stale = Vec::new();
    let mut offset = 0;
    loop {
        let page = lib.store().list_checks(offset, PAGE)?;
        let n = page.len();
        stale.extend(page.into_iter().filter(|c| {
            matches!(
                CheckStatus::parse(&c.status),
                Some(CheckStatus::Queued | CheckStatus::Running)
            )
        }));
        if n < PAGE {
            break;
        }
        offset += n;
    }
    for mut c in stale.iter().cloned() {
        c.status = CheckStatus::Failed.as_str().into();
        c.error = Some("the server stopped before this check finished; submit it again".into());
        lib.store().put_check(&c)?;
    }
    Ok(stale.len())
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
        for s in [
            CheckStatus::Queued,
            CheckStatus::Running,
            CheckStatus::Done,
            CheckStatus::Failed,
        ] {
            assert_eq!(CheckStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(CheckMode::parse("ask"), Some(CheckMode::Ask));
    }
}
