//! Finishing work an interruption left half done.
//!
//! The store is the source of truth. A source is written `pending`, then indexed, then
//! marked `indexed`; a removal marks it `removing` first. So on open:
//! - `pending` sources may be partly in the indexes: drop them from every index and
//!   index them again from the stored passages;
//! - `removing` sources may still be in an index: drop them again and delete them.

use crate::{Library, Result};
use verity_store::SourceState;

impl Library {
    pub(crate) fn recover(&self) -> Result<()> {
        let _w = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let removing = self.store.sources_in_state(SourceState::Removing)?;
        for id in &removing {
            self.drop_from_indexes(std::slice::from_ref(id))?;
            self.store.finish_remove(id)?;
        }
        let pending = self.store.sources_in_state(SourceState::Pending)?;
        if pending.is_empty() {
            return Ok(());
        }
        tracing::info!(
            count = pending.len(),
            "re-indexing sources an interruption left pending"
        );
        for id in &pending {
            self.lexical.delete_source(id)?;
            if let Some(v) = &self.vectors {
                v.write()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove_source(id)
                    .map_err(crate::EngineError::from)?;
            }
        }
        self.index_sources(&pending, &verity_types::NoProgress)?;
        self.store.mark_indexed(&pending)?;
        Ok(())
    }
}
