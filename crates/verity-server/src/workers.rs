//! Workers of the shared job queue (`verity serve --worker`, `verity worker`): threads
//! that claim checks from the store's jobs table and run them (`Library::work`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use verity_engine::{Library, WorkerOptions};

/// How the shared queue's workers run.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Worker threads.
    pub workers: usize,
    /// A claimed job's lease (`--lease-ms`, `VERITY_JOB_LEASE_MS`).
    pub lease: Duration,
    /// Hold each claimed job this long before running it, and an ingest job before
    /// each part (a test hook; normally zero).
    pub hold: Duration,
    /// How queued ingests parse their files (`--parse-isolation`).
    pub isolation: Option<verity_engine::Isolation>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            workers: 1,
            lease: verity_engine::DEFAULT_LEASE,
            hold: Duration::ZERO,
            isolation: None,
        }
    }
}

/// Running worker threads; [`WorkerPool::stop`] lets each finish its job and return.
pub struct WorkerPool {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<usize>>,
}

impl WorkerPool {
    /// Start `cfg.workers` threads running jobs from `lib`'s store.
    pub fn start(lib: &Arc<Library>, cfg: &WorkerConfig) -> std::io::Result<WorkerPool> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::with_capacity(cfg.workers.max(1));
        for n in 0..cfg.workers.max(1) {
            let mut opts = WorkerOptions::new(n, cfg.lease);
            opts.hold = cfg.hold;
            opts.isolation = cfg.isolation.clone();
            let (lib, stop) = (lib.clone(), stop.clone());
            let handle = std::thread::Builder::new()
                .name(format!("verity-worker-{n}"))
                .spawn(move || lib.work(&opts, &stop))?;
            threads.push(handle);
        }
        Ok(WorkerPool { stop, threads })
    }

    /// Ask every worker to stop after its current job, and wait for them; returns the
    /// number of jobs they ran.
    pub fn stop(self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        self.threads
            .into_iter()
            .map(|t| t.join().unwrap_or(0))
            .sum()
    }
}

/// `verity worker`: run the shared queue's jobs until Ctrl-C (or SIGTERM), keeping this
/// node's indexes caught up with the store meanwhile.
pub fn cli_worker(lib: Library, cfg: WorkerConfig) -> anyhow::Result<()> {
    if !lib.has_shared_store() {
        return Err(verity_engine::EngineError::NoSharedQueue.into());
    }
    let lib = Arc::new(lib);
    Library::follow_changes(&lib, crate::FOLLOW_EVERY)?;
    let pool = WorkerPool::start(&lib, &cfg)?;
    for n in lib.notices() {
        eprintln!("note: {n}");
    }
    eprintln!(
        "verity: {} worker(s) running jobs from the shared queue (Ctrl-C to stop)",
        cfg.workers.max(1)
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(crate::ServerError::Runtime)?;
    rt.block_on(crate::stop_signal());
    eprintln!("verity: stopping after the running jobs");
    let ran = pool.stop();
    eprintln!("verity: ran {ran} job(s)");
    Ok(())
}
