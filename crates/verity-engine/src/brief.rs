//! Questions and claims: the engine's side of the brief. Composition itself lives in
//! `verity-compose`; here the library lends it evidence and the stance model, and every
//! finished check is stored so that history and re-checks work.

use crate::{EngineError, Library, Result};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use verity_compose::{build_brief, Brief, BriefRequest, Evidence, Mode};
use verity_types::{Progress, SearchHit, SearchRequest};

/// A question to answer or a claim to check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRequest {
    pub input: String,
    pub mode: Mode,
    /// Only evidence published on or before this date.
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
    /// Keep sentences that fail the support check, flagged, instead of dropping them.
    #[serde(default)]
    pub show_unsupported: bool,
    /// Record the plan, sub-queries and scores in the brief.
    #[serde(default)]
    pub explain: bool,
}

impl CheckRequest {
    pub fn new(input: impl Into<String>, mode: Mode) -> Self {
        CheckRequest {
            input: input.into(),
            mode,
            as_of: None,
            show_unsupported: false,
            explain: false,
        }
    }
}

impl Evidence for Library {
    fn search(&self, req: &SearchRequest) -> std::result::Result<Vec<SearchHit>, String> {
        Library::search(self, req).map_err(|e| e.to_string())
    }

    fn has_dense(&self) -> bool {
        self.has_vectors()
    }

    fn similarity(&self, query: &str, texts: &[&str]) -> Option<Vec<f32>> {
        let embedder = self.embedder()?;
        let mut all = Vec::with_capacity(texts.len() + 1);
        all.push(query);
        all.extend_from_slice(texts);
        // A failed embedding only loses this one signal of the topic gate.
        let vecs = embedder.embed(&all).ok()?;
        let (q, rest) = vecs.split_first()?;
        Some(rest.iter().map(|v| verity_embed::cosine(q, v)).collect())
    }
}

impl Library {
    /// Answer a question or check a claim: plan, gather, judge, compose and verify a
    /// brief against this library. `today` is the "checked on" date.
    pub fn run_check(
        &self,
        req: &CheckRequest,
        today: NaiveDate,
        progress: &dyn Progress,
    ) -> Result<Brief> {
        if req.input.trim().is_empty() {
            return Err(EngineError::Invalid(
                "the question or claim is empty".to_string(),
            ));
        }
        let (sources, ..) = self.stats()?;
        if sources == 0 {
            return Err(EngineError::EmptyLibrary);
        }
        let mut br = BriefRequest::new(req.input.clone(), req.mode, today);
        br.as_of = req.as_of;
        br.show_unsupported = req.show_unsupported;
        br.explain = req.explain;
        build_brief(&br, self, self.stance.as_ref(), progress)
            .map_err(|e| EngineError::Compose(e.to_string()))
    }
}

impl Library {
    /// Store a finished check in the history; returns its id.
    pub fn save_check(&self, req: &CheckRequest, brief: &Brief) -> Result<String> {
        let now = chrono::Utc::now();
        let id = format!(
            "{}-{}",
            now.format("%Y%m%dT%H%M%S%3f"),
            &verity_types::SourceId::from_content(&req.input).as_str()[..6]
        );
        let check = verity_store::StoredCheck {
            id: id.clone(),
            // The same format as the server's checks, so history sorts by time as text.
            created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            mode: req.mode.as_str().to_string(),
            input: req.input.clone(),
            status: "done".into(),
            request: serde_json::to_string(req).map_err(|e| EngineError::Invalid(e.to_string()))?,
            brief: Some(
                serde_json::to_string(brief).map_err(|e| EngineError::Invalid(e.to_string()))?,
            ),
            error: None,
        };
        self.store.put_check(&check)?;
        Ok(id)
    }
}
