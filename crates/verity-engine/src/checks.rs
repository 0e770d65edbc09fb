//! The checks history: one request type, one check id scheme and one stored shape of a
//! check, for the CLI and the server alike. A check moves `queued → running → done |
//! failed`; the CLI stores it once, done, and the server at every step.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use verity_compose::{Brief, Mode};
use verity_store::StoredCheck;
use verity_types::Progress;

use crate::diff::{diff, BriefDiff};
pub use crate::llm::LlmOptions;
use crate::{EngineError, Library, Result};

/// Longest question or claim accepted, in characters.
pub const MAX_INPUT_CHARS: usize = 2000;

/// How to run a check, beyond its text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOptions {
    /// Only evidence published on or before this date.
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
    /// Keep sentences that fail the support check, flagged, instead of dropping them.
    #[serde(default)]
    pub show_unsupported: bool,
    /// Record the plan, sub-queries and scores in the brief.
    #[serde(default)]
    pub explain: bool,
    /// Have a language model write the prose ([`LlmOptions`]); absent: the extractive
    /// brief, exactly as without the option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmOptions>,
}

/// A question to answer (`ask`) or a claim to check (`check`): what `verity ask|check`
/// and `POST /api/checks` both turn their input into, and what a check stores so that
/// "check again" repeats it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub mode: Mode,
    pub text: String,
    #[serde(default)]
    pub options: CheckOptions,
}

impl Request {
    pub fn new(mode: Mode, text: impl Into<String>) -> Self {
        Request {
            mode,
            text: text.into(),
            options: CheckOptions::default(),
        }
    }

    /// The request with its text trimmed, or why it cannot run.
    pub fn validated(mut self) -> Result<Self> {
        self.text = self.text.trim().to_string();
        if self.text.is_empty() {
            return Err(EngineError::EmptyInput);
        }
        if self.text.chars().count() > MAX_INPUT_CHARS {
            return Err(EngineError::InputTooLong {
                max: MAX_INPUT_CHARS,
            });
        }
        Ok(self)
    }
}

/// Where a check is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl CheckStatus {
    pub const ALL: [CheckStatus; 4] = [
        CheckStatus::Queued,
        CheckStatus::Running,
        CheckStatus::Done,
        CheckStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Queued => "queued",
            CheckStatus::Running => "running",
            CheckStatus::Done => "done",
            CheckStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        CheckStatus::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn is_final(self) -> bool {
        matches!(self, CheckStatus::Done | CheckStatus::Failed)
    }
}

impl std::fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A check's id: 17 hex digits, the microseconds since 1970 then 16 bits that differ
/// between ids made in the same microsecond, so ids sort roughly by time. Ids of older
/// libraries (the CLI's `20241119T101500123-1a2b3c`) are kept as they were.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CheckId(String);

impl CheckId {
    /// A new, unique, roughly time-ordered id.
    pub fn generate() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let micros = chrono::Utc::now().timestamp_micros();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        CheckId(format!(
            "{:013x}{:04x}",
            micros,
            (n ^ u64::from(std::process::id())) & 0xffff
        ))
    }

    pub fn new(id: impl Into<String>) -> Self {
        CheckId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One line of the history: what `verity checks` and `GET /api/checks` list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckSummary {
    pub id: String,
    pub status: CheckStatus,
    pub mode: Mode,
    pub input: String,
    pub created_at: String,
    /// The verdict label (claims, once done).
    pub verdict: Option<String>,
    /// Number of sources the brief cites (once done).
    pub sources: Option<usize>,
    pub error: Option<String>,
}

/// One check in the history.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub id: CheckId,
    /// RFC 3339 in UTC with microseconds, so that history sorts by time as text.
    pub created_at: String,
    pub status: CheckStatus,
    pub request: Request,
    /// The brief's JSON once done (kept as JSON, so briefs of older versions still load).
    pub brief: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
}

impl Check {
    /// A new queued check of `request`, with a fresh id.
    pub fn queued(request: Request) -> Self {
        Check {
            id: CheckId::generate(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            status: CheckStatus::Queued,
            request,
            brief: None,
            error: None,
        }
    }

    /// Finished with `brief`.
    pub fn finish(&mut self, brief: &Brief) -> Result<()> {
        self.brief =
            Some(
                serde_json::to_value(brief).map_err(|source| EngineError::Serialize {
                    what: "brief",
                    source,
                })?,
            );
        self.status = CheckStatus::Done;
        self.error = None;
        Ok(())
    }

    /// Failed, for `reason`.
    pub fn fail(&mut self, reason: impl Into<String>) {
        self.status = CheckStatus::Failed;
        self.error = Some(reason.into());
    }

    /// The verdict's label, for checks of claims that are done.
    pub fn verdict(&self) -> Option<&str> {
        self.brief.as_ref()?.pointer("/verdict/label")?.as_str()
    }

    /// The brief as a typed [`Brief`], to render it again: an
    /// [`EngineError::CheckNotDone`] unless done, and a [`EngineError::BadRecord`] when
    /// this version cannot read the stored brief.
    pub fn done_brief(&self) -> Result<Brief> {
        match (&self.brief, self.status) {
            (Some(v), CheckStatus::Done) => {
                serde_json::from_value(v.clone()).map_err(|e| EngineError::BadRecord {
                    what: "check",
                    id: self.id.to_string(),
                    detail: format!("brief: {e}"),
                })
            }
            _ => Err(EngineError::CheckNotDone {
                id: self.id.to_string(),
                status: self.status,
            }),
        }
    }

    /// The check as one line of the history.
    pub fn summary(&self) -> CheckSummary {
        CheckSummary {
            id: self.id.to_string(),
            status: self.status,
            mode: self.request.mode,
            input: self.request.text.clone(),
            created_at: self.created_at.clone(),
            verdict: self.verdict().map(str::to_string),
            sources: self.source_count(),
            error: self.error.clone(),
        }
    }

    /// How many sources the brief cites.
    pub fn source_count(&self) -> Option<usize> {
        Some(self.brief.as_ref()?.get("sources")?.as_array()?.len())
    }

    /// The one place a check becomes a row.
    fn to_stored(&self) -> Result<StoredCheck> {
        let json = |what, r: serde_json::Result<String>| {
            r.map_err(|source| EngineError::Serialize { what, source })
        };
        Ok(StoredCheck {
            id: self.id.0.clone(),
            created_at: self.created_at.clone(),
            mode: self.request.mode.as_str().to_string(),
            input: self.request.text.clone(),
            status: self.status.as_str().to_string(),
            request: json("check request", serde_json::to_string(&self.request))?,
            brief: self
                .brief
                .as_ref()
                .map(|b| json("brief", serde_json::to_string(b)))
                .transpose()?,
            error: self.error.clone(),
        })
    }

    /// The one place a row becomes a check.
    fn from_stored(row: StoredCheck) -> Result<Check> {
        let bad = |detail: String| EngineError::BadRecord {
            what: "check",
            id: row.id.clone(),
            detail,
        };
        let status = CheckStatus::parse(&row.status)
            .ok_or_else(|| bad(format!("unknown status `{}`", row.status)))?;
        let request: Request =
            serde_json::from_str(&row.request).map_err(|e| bad(format!("request: {e}")))?;
        let brief = row
            .brief
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| bad(format!("brief: {e}")))?;
        Ok(Check {
            id: CheckId(row.id),
            created_at: row.created_at,
            status,
            request,
            brief,
            error: row.error,
        })
    }
}

impl Library {
    /// Answer a question or check a claim: plan, gather, judge, compose and verify a
    /// brief against this library. `today` is the "checked on" date. Stores nothing;
    /// see [`Library::save_check`] and [`Library::put_check`].
    pub fn run_check(
        &self,
        req: &Request,
        today: NaiveDate,
        progress: &dyn Progress,
    ) -> Result<Brief> {
        let req = req.clone().validated()?;
        let (sources, ..) = self.stats()?;
        if sources == 0 {
            return Err(EngineError::EmptyLibrary);
        }
        // Set-up errors (a bad URL, an unset key variable) before any work is done.
        let writer = req
            .options
            .llm
            .as_ref()
            .map(LlmOptions::client)
            .transpose()?;
        let mut br = verity_compose::BriefRequest::new(req.text, req.mode, today);
        br.as_of = req.options.as_of;
        br.show_unsupported = req.options.show_unsupported;
        br.explain = req.options.explain;
        br.llm_claims = req.options.llm.as_ref().is_some_and(|o| o.claims);
        Ok(verity_compose::build_brief_with_writer(
            &br,
            self,
            self.stance_model(),
            writer.as_ref().map(|w| w as &dyn verity_compose::ChatModel),
            progress,
        )?)
    }

    /// Store a check, new or updated (same id).
    pub fn put_check(&self, check: &Check) -> Result<()> {
        Ok(self.store.put_check(&check.to_stored()?)?)
    }

    /// Store a finished check of `req` in the history.
    pub fn save_check(&self, req: &Request, brief: &Brief) -> Result<Check> {
        let mut check = Check::queued(req.clone());
        check.finish(brief)?;
        self.put_check(&check)?;
        Ok(check)
    }

    /// One check.
    pub fn check(&self, id: &str) -> Result<Check> {
        match self.store.check(id)? {
            Some(row) => Check::from_stored(row),
            None => Err(EngineError::UnknownCheck(id.to_string())),
        }
    }

    /// Resolve a full check id or a unique prefix (the rule of [`Library::resolve_id`]).
    pub fn resolve_check_id(&self, raw: &str) -> Result<CheckId> {
        // One id column read; `unique_prefix` takes the full id first. (Probing with
        // `check(raw)` read the whole stored brief only for the caller to read it again.)
        let ids = self.store.check_ids()?;
        match crate::unique_prefix(raw, ids.iter().map(String::as_str), "checks")? {
            Some(id) => Ok(CheckId::new(id)),
            None => Err(EngineError::UnknownCheck(raw.trim().to_string())),
        }
    }

    /// Checks, newest first; an `offset` past the end gives an empty page.
    pub fn checks(&self, offset: usize, limit: usize) -> Result<Vec<Check>> {
        self.store
            .list_checks(offset, limit)?
            .into_iter()
            .map(Check::from_stored)
            .collect()
    }

    /// Run a stored check's request again against the library as it is now, and store
    /// the result as a new check. Returns the new check and its brief.
    pub fn recheck(
        &self,
        id: &str,
        today: NaiveDate,
        progress: &dyn Progress,
    ) -> Result<(Check, Brief)> {
        let earlier = self.check(id)?;
        let brief = self.run_check(&earlier.request, today, progress)?;
        let check = self.save_check(&earlier.request, &brief)?;
        Ok((check, brief))
    }

    /// What changed from check `before` to check `after`; both must be done.
    pub fn diff_checks(&self, before: &str, after: &str) -> Result<BriefDiff> {
        let (b, a) = (self.check(before)?, self.check(after)?);
        let brief = |c: &Check| -> Result<Value> {
            match (&c.brief, c.status) {
                (Some(v), CheckStatus::Done) => Ok(v.clone()),
                _ => Err(EngineError::CheckNotDone {
                    id: c.id.to_string(),
                    status: c.status,
                }),
            }
        };
        Ok(diff(b.id.as_str(), &brief(&b)?, a.id.as_str(), &brief(&a)?))
    }

    /// Mark every check still `queued` or `running` as failed for `reason` (a process
    /// that ran them stopped); returns how many.
    pub fn fail_unfinished_checks(&self, reason: &str) -> Result<usize> {
        const PAGE: usize = 500;
        // Rows are read by their status column; only the unfinished ones are decoded
        // (a finished check's brief JSON is not parsed at start-up).
        let unfinished =
            |row: &StoredCheck| CheckStatus::parse(&row.status).is_none_or(|s| !s.is_final());
        let mut stale = Vec::new();
        let mut offset = 0;
        loop {
            let page = self.store.list_checks(offset, PAGE)?;
            let n = page.len();
            stale.extend(page.into_iter().filter(unfinished));
            if n < PAGE {
                break;
            }
            offset += n;
        }
        for row in stale.iter().cloned() {
            let mut c = Check::from_stored(row)?;
            c.fail(reason);
            self.put_check(&c)?;
        }
        Ok(stale.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_trimmed_and_bounded() {
        let r = Request::new(Mode::Ask, "  Why was the Holloway weir closed? ")
            .validated()
            .unwrap();
        assert_eq!(r.text, "Why was the Holloway weir closed?");
        assert!(matches!(
            Request::new(Mode::Check, " ").validated(),
            Err(EngineError::EmptyInput)
        ));
        let long = "a".repeat(MAX_INPUT_CHARS + 1);
        assert!(matches!(
            Request::new(Mode::Check, long).validated(),
            Err(EngineError::InputTooLong { .. })
        ));
    }

    #[test]
    fn a_check_round_trips_through_its_row() {
        let mut req = Request::new(Mode::Check, "Marrow County hired 40 wardens.");
        req.options.as_of = NaiveDate::from_ymd_opt(2024, 3, 1);
        let mut c = Check::queued(req);
        c.fail("stopped");
        let back = Check::from_stored(c.to_stored().unwrap()).unwrap();
        assert_eq!(back, c);
        let row = c.to_stored().unwrap();
        assert_eq!(row.mode, "check");
        assert_eq!(row.status, "failed");
    }

    #[test]
    fn ids_are_unique_and_sortable() {
        let a = CheckId::generate();
        let b = CheckId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 17);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
    }
}
