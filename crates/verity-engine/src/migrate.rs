//! Copying a library into another store: `verity migrate --from DIR --to postgres://…`.
//!
//! Everything goes through the `Store` trait (no SQL-to-SQL): each indexed source as it
//! was written ([`verity_store::Store::export_source`]: text, passage spans, metadata,
//! fingerprint, duplicate link, ingest time), then the check history. Sources already in
//! the target are skipped and checks are written by id, so a second run adds nothing
//! twice, and a run that was interrupted is finished by the next one. The target's
//! sources arrive `indexed`; the indexes in `DIR` already hold exactly them, so when
//! `DIR` had applied the target's whole change log before (a new database: nothing), the
//! copy's own entries are recorded as applied there too, and `verity --data DIR --store
//! URL` searches the copy at once, without indexing it again.

use crate::{EngineError, Result};
use std::path::Path;
use verity_store::{SourceState, Store, StoreLocation};
use verity_types::{Progress, SourceId};

/// Sources read, written and marked indexed per round trip.
const BATCH: usize = 500;

/// What [`copy_library`] did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CopyReport {
    /// Indexed sources in the library copied from.
    pub sources: usize,
    /// Sources written to the target (the others were there already).
    pub copied: usize,
    /// Checks written to the target (new or refreshed).
    pub checks: usize,
    /// The target, without its password.
    pub to: String,
}

/// Copy the SQLite library in `from_dir` into the store `to` (a `postgres://` URL).
pub fn copy_library(from_dir: &Path, to: &str, progress: &dyn Progress) -> Result<CopyReport> {
    let from_file = from_dir.join("library.sqlite");
    if !from_file.is_file() {
        return Err(EngineError::NoLibrary(from_dir.display().to_string()));
    }
    let from = StoreLocation::Sqlite(from_file).open()?;
    let target = StoreLocation::new(Some(to), from_dir)?;
    let into = target.open()?;
    let mut report = CopyReport {
        to: target.describe(),
        ..CopyReport::default()
    };
    let applied = crate::follow::read_applied(from_dir)?;
    let caught_up = crate::follow::log_head(into.as_ref(), applied)? == applied;
    let ids = from.sources_in_state(SourceState::Indexed)?;
    report.sources = ids.len();
    progress.stage("copying sources", Some(ids.len() as u64));
    for batch in ids.chunks(BATCH) {
        report.copied += copy_sources(from.as_ref(), into.as_ref(), batch)?;
        progress.advance(batch.len() as u64);
    }
    progress.stage("copying checks", None);
    report.checks = copy_checks(from.as_ref(), into.as_ref())?;
    if caught_up {
        let head = crate::follow::log_head(into.as_ref(), applied)?;
        crate::follow::write_applied(from_dir, head)?;
    }
    Ok(report)
}

/// Copy the sources of `batch` that `into` lacks; returns how many.
fn copy_sources(from: &dyn Store, into: &dyn Store, batch: &[SourceId]) -> Result<usize> {
    let there = into.existing(batch)?;
    let mut items = Vec::new();
    for id in batch.iter().filter(|id| !there.contains(*id)) {
        // Gone since the list was read (removed meanwhile): nothing to copy.
        if let Some(item) = from.export_source(id)? {
            items.push(item);
        }
    }
    // Written `pending`, then `indexed`: a copy cut off in between leaves pending
    // sources, which the next `Library::open` indexes again, as after any interruption.
    into.put_sources(&items)?;
    let ids: Vec<SourceId> = items.into_iter().map(|i| i.id).collect();
    into.mark_indexed(&ids)?;
    Ok(ids.len())
}

/// Copy every check, a page at a time; returns how many.
fn copy_checks(from: &dyn Store, into: &dyn Store) -> Result<usize> {
    let mut offset = 0;
    loop {
        let page = from.list_checks(offset, BATCH)?;
        for check in &page {
            into.put_check(check)?;
        }
        offset += page.len();
        if page.len() < BATCH {
            return Ok(offset);
        }
    }
}
