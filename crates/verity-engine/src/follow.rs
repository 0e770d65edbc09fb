//! Following a shared store's change log (PostgreSQL with several nodes).
//!
//! Each node keeps its own BM25 and vector indexes as derived state. The store appends
//! an entry to its change log whenever a source becomes `indexed` or starts going
//! (`verity_store::Store::changes_since`); a node applies the entries after the last
//! sequence number it applied, which it keeps in `store-seq` in its data directory
//! (written after the indexes commit, so a crash in between applies some entries twice,
//! which is harmless: applying one drops the source from the indexes and indexes it
//! again if it is still indexed). [`Library::open`] catches up; a server keeps
//! following with [`Library::follow_changes`]. The embedded SQLite store keeps no log:
//! there the indexes are written with the store and this is a no-op.

use crate::{EngineError, Library, Result};
use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::Duration;
use verity_store::{SourceState, Store};
use verity_types::{NoProgress, Progress, SourceId};

/// The file, in the data directory, holding the last change applied.
const APPLIED_FILE: &str = "store-seq";
/// Change-log entries applied per index commit.
const BATCH: usize = 1000;

pub(crate) fn read_applied(dir: &Path) -> Result<i64> {
    match std::fs::read_to_string(dir.join(APPLIED_FILE)) {
        Ok(s) => s.trim().parse().map_err(|_| EngineError::BadRecord {
            what: "applied change number",
            id: APPLIED_FILE.into(),
            detail: format!(
                "`{}` is not a number; delete the file and run `verity reindex`",
                s.trim()
            ),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(source) => Err(EngineError::DataDir {
            path: dir.join(APPLIED_FILE).display().to_string(),
            source,
        }),
    }
}

pub(crate) fn write_applied(dir: &Path, seq: i64) -> Result<()> {
    let (tmp, path) = (dir.join("store-seq.tmp"), dir.join(APPLIED_FILE));
    std::fs::write(&tmp, seq.to_string())
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|source| EngineError::DataDir {
            path: path.display().to_string(),
            source,
        })
}

/// The last sequence number in `store`'s change log, reading on from `from` (which
/// stays the answer without a log).
pub(crate) fn log_head(store: &dyn Store, from: i64) -> Result<i64> {
    let mut head = from;
    while let Some(last) = store.changes_since(head, BATCH)?.last() {
        head = last.seq;
    }
    Ok(head)
}

/// Whether a node can serve: its store answers and its indexes are caught up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Readiness {
    pub ready: bool,
    /// Why not, when not.
    pub reason: Option<String>,
    /// The last change-log entry this node applied, and the store's newest.
    pub applied: i64,
    pub last_change: i64,
    /// Entries not applied yet.
    pub lag: u64,
}

impl Library {
    /// Change-log entries this node has not applied yet (0 on SQLite, which keeps no
    /// log).
    pub fn index_lag(&self) -> Result<(i64, i64)> {
        let last = self.store.last_change()?;
        Ok((read_applied(&self.dir)?, last))
    }

    /// Ready when the store answers and this node's indexes are at most `max_lag`
    /// change-log entries behind it.
    pub fn readiness(&self, max_lag: u64) -> Readiness {
        let not = |reason: String, applied, last_change, lag| Readiness {
            ready: false,
            reason: Some(reason),
            applied,
            last_change,
            lag,
        };
        if let Err(e) = self.store.ping() {
            return not(format!("the store does not answer: {e}"), 0, 0, 0);
        }
        let (applied, last_change) = match self.index_lag() {
            Ok(v) => v,
            Err(e) => return not(format!("could not read the change log: {e}"), 0, 0, 0),
        };
        let lag = u64::try_from(last_change - applied).unwrap_or(0);
        if lag > max_lag {
            let why =
                format!("the indexes are {lag} changes behind the store (more than {max_lag})");
            return not(why, applied, last_change, lag);
        }
        Readiness {
            ready: true,
            reason: None,
            applied,
            last_change,
            lag,
        }
    }

    /// Apply the store's changes made since this node last looked (by other nodes, or by
    /// this one): sources indexed elsewhere are indexed here, removed ones dropped.
    /// Returns the number of change-log entries applied.
    pub fn catch_up(&self) -> Result<usize> {
        let _w = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut applied = read_applied(&self.dir)?;
        let mut total = 0;
        loop {
            let batch = self.store.changes_since(applied, BATCH)?;
            let Some(last) = batch.last().map(|c| c.seq) else {
                return Ok(total);
            };
            let mut ids: Vec<SourceId> = batch.into_iter().map(|c| c.source).collect();
            total += ids.len();
            ids.sort_unstable();
            ids.dedup();
            self.drop_from_indexes(&ids)?;
            let mut live = Vec::new();
            for id in ids {
                if self.store.source(&id)?.is_some() {
                    live.push(id);
                }
            }
            self.index_sources(&live, &NoProgress)?;
            write_applied(&self.dir, last)?;
            applied = last;
        }
    }

    /// `verity reindex`: rebuild this node's indexes from the store (every indexed
    /// source dropped and indexed again), and record the change log as applied.
    /// Returns the number of sources indexed.
    pub fn reindex(&self, progress: &dyn Progress) -> Result<usize> {
        if self.read_only {
            return Err(EngineError::ReadOnly);
        }
        let _w = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let head = log_head(self.store.as_ref(), read_applied(&self.dir)?)?;
        let ids = self.store.sources_in_state(SourceState::Indexed)?;
        progress.stage("reindexing", Some(ids.len() as u64));
        for chunk in ids.chunks(BATCH) {
            self.drop_from_indexes(chunk)?;
            self.index_sources(chunk, &NoProgress)?;
            progress.advance(chunk.len() as u64);
        }
        write_applied(&self.dir, head)?;
        Ok(ids.len())
    }

    /// Keep catching up every `every` on a thread of its own, for as long as `lib` is
    /// alive elsewhere (a server). Failures are logged and retried.
    pub fn follow_changes(lib: &Arc<Library>, every: Duration) -> std::io::Result<()> {
        let weak: Weak<Library> = Arc::downgrade(lib);
        std::thread::Builder::new()
            .name("verity-follow".into())
            .spawn(move || loop {
                std::thread::sleep(every);
                let Some(lib) = weak.upgrade() else {
                    return;
                };
                match lib.catch_up() {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(n, "applied changes from the shared store"),
                    Err(e) => tracing::warn!(error = %e, "could not apply the store's changes"),
                }
            })
            .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_applied_number_round_trips_and_garbage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            read_applied(dir.path()).unwrap(),
            0,
            "a new node has applied nothing"
        );
        write_applied(dir.path(), 42).unwrap();
        assert_eq!(read_applied(dir.path()).unwrap(), 42);
        std::fs::write(dir.path().join(APPLIED_FILE), "forty-two").unwrap();
        let err = read_applied(dir.path()).unwrap_err();
        assert_eq!(err.code(), verity_types::ErrorCode::StoreCorrupt, "{err}");
    }
}
