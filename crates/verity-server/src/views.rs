//! The JSON shapes of the API. Each one derives its OpenAPI schema; the ones that mirror
//! library types (`Source`, `SearchHit`, `IngestReport`) are tested to serialise exactly
//! like the CLI's `--json` output.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use verity_engine::{Failure, IngestReport};
use verity_types::{DocMeta, Source};

use crate::jobs::CheckMode;
use verity_engine::CheckStatus;

/// Metadata of a source, as extracted at ingest.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MetaView {
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub author: Option<String>,
    pub published: Option<NaiveDate>,
    pub url: Option<String>,
    /// official, news, audit, advocacy, academic, reference, opinion or other.
    pub kind: Option<String>,
    pub attribution: Option<String>,
}

impl From<&DocMeta> for MetaView {
    fn from(m: &DocMeta) -> Self {
        MetaView {
            title: m.title.clone(),
            publisher: m.publisher.clone(),
            author: m.author.clone(),
            published: m.published,
            url: m.url.clone(),
            kind: m.kind.map(|k| k.as_str().to_string()),
            attribution: m.attribution.clone(),
        }
    }
}

/// A stored source (the same JSON as `verity sources --json`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SourceView {
    pub id: String,
    /// File path or URL it was read from.
    pub location: String,
    /// text, markdown, html, pdf or jsonl.
    pub format: String,
    pub meta: MetaView,
    /// When it was added (RFC 3339).
    pub ingested_at: String,
    /// Length of the stored text in characters.
    pub char_len: u64,
    pub passage_count: u32,
    /// Id of the original when this source is a syndicated copy.
    pub duplicate_of: Option<String>,
}

impl From<&Source> for SourceView {
    fn from(s: &Source) -> Self {
        SourceView {
            id: s.id.to_string(),
            location: s.location.clone(),
            format: s.format.as_str().to_string(),
            meta: MetaView::from(&s.meta),
            ingested_at: s.ingested_at.clone(),
            char_len: s.char_len,
            passage_count: s.passage_count,
            duplicate_of: s.duplicate_of.as_ref().map(|d| d.to_string()),
        }
    }
}

/// A source with its full stored text, so that a cited span can be shown in context.
/// Citation offsets are Unicode scalar (code point) offsets into `text`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceDetail {
    pub source: SourceView,
    pub text: String,
}

/// Answer to `DELETE /api/sources/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Removed {
    pub removed: SourceView,
}

/// One search hit: the one shape shared with `verity search --json`.
pub use verity_types::SearchHitJson as SearchHitView;

/// Query parameters of `GET /api/search`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The query text.
    pub q: Option<String>,
    /// Hits to return (1–100, default 10).
    pub limit: Option<usize>,
    /// bm25, dense or hybrid (default; BM25 when the library has no vectors).
    pub mode: Option<String>,
    /// Case-insensitive substring of the publisher.
    pub publisher: Option<String>,
    /// Comma-separated kinds (official, news, audit, advocacy, academic, reference, opinion, other).
    pub kind: Option<String>,
    /// Comma-separated formats (text, markdown, html, pdf, jsonl).
    pub format: Option<String>,
    /// Published on or after (YYYY-MM-DD).
    pub from: Option<String>,
    /// Published on or before (YYYY-MM-DD).
    pub to: Option<String>,
}

/// One input that could not be ingested.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FailureView {
    pub location: String,
    /// Stable reason code (`unreadable`, `empty`, `too_large`, `refused_private`, ...).
    pub reason: String,
    pub message: String,
}

impl From<&Failure> for FailureView {
    fn from(f: &Failure) -> Self {
        FailureView {
            location: f.location.clone(),
            reason: f.reason.clone(),
            message: f.message.clone(),
        }
    }
}

/// What an ingest did (the same JSON as `verity ingest --json`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IngestReportView {
    pub added: u64,
    pub unchanged: u64,
    pub duplicates: u64,
    pub failed: Vec<FailureView>,
    pub skipped: Vec<FailureView>,
    pub passages: u64,
    pub chars: u64,
    pub bytes: u64,
    pub embedded: u64,
    pub seconds: f64,
    /// Wall-clock seconds per ingest stage.
    pub timings: IngestTimingsView,
    /// `[copy location, original id]` pairs.
    #[schema(value_type = Vec<Vec<String>>)]
    pub duplicate_links: Vec<(String, String)>,
}

impl From<&IngestReport> for IngestReportView {
    fn from(r: &IngestReport) -> Self {
        IngestReportView {
            added: r.added,
            unchanged: r.unchanged,
            duplicates: r.duplicates,
            failed: r.failed.iter().map(FailureView::from).collect(),
            skipped: r.skipped.iter().map(FailureView::from).collect(),
            passages: r.passages,
            chars: r.chars,
            bytes: r.bytes,
            embedded: r.embedded,
            seconds: r.seconds,
            timings: IngestTimingsView {
                read: r.timings.read,
                prepare: r.timings.prepare,
                store: r.timings.store,
                index: r.timings.index,
                embed: r.timings.embed,
            },
            duplicate_links: r.duplicate_links.clone(),
        }
    }
}

/// Where an ingest's time went, in seconds (see `verity_engine::IngestTimings`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IngestTimingsView {
    /// Reading and parsing files.
    pub read: f64,
    /// Hashing, chunking and fingerprinting.
    pub prepare: f64,
    /// Near-duplicate lookups and the store's writes.
    pub store: f64,
    /// The lexical index's work and commit.
    pub index: f64,
    /// Embedding passages and saving vectors.
    pub embed: f64,
}

/// Body of `POST /api/sources` when adding a URL.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddUrl {
    /// An http(s) URL. Private and loopback addresses are refused.
    pub url: String,
    /// Attribution line stored with the source (e.g. a licence).
    #[serde(default)]
    pub attribution: Option<String>,
}

/// Body of `POST /api/checks`: exactly one of `question` and `claim`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCheck {
    /// An open question (a brief without a verdict).
    #[serde(default)]
    pub question: Option<String>,
    /// A claim to check (a brief with a verdict).
    #[serde(default)]
    pub claim: Option<String>,
    /// Use only sources published on or before this date.
    #[serde(default)]
    pub as_of: Option<NaiveDate>,
    /// Keep, flagged, the sentences that fail the support check.
    #[serde(default)]
    pub show_unsupported: bool,
}

/// Answer to `POST /api/sources` on a shared (PostgreSQL) store: the ingest is a job
/// of the shared queue, which any node's worker runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestAccepted {
    /// The job's id (`ingest-…`).
    pub id: String,
    /// `queued`.
    pub state: String,
    /// Where to poll (`GET /api/sources/jobs/{id}`).
    pub status_url: String,
}

/// A queued ingest: its job (state, attempts, worker, documents done of the total) and,
/// once done, its report.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestJobView {
    pub id: String,
    pub job: verity_engine::JobStatus,
    pub report: Option<IngestReportView>,
}

/// Answer to `POST /api/checks`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckAccepted {
    pub id: String,
    pub status: CheckStatus,
    /// Where to poll.
    pub status_url: String,
    /// Where to stream progress (server-sent events).
    pub events_url: String,
}

/// A check and, once done, its brief.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckView {
    pub id: String,
    pub status: CheckStatus,
    pub mode: CheckMode,
    pub input: String,
    pub created_at: String,
    pub as_of: Option<NaiveDate>,
    pub show_unsupported: bool,
    /// The brief (the same JSON as `verity check --format json`) once `status` is `done`.
    #[schema(value_type = Option<Object>)]
    pub brief: Option<Value>,
    /// Why it failed, once `status` is `failed`.
    pub error: Option<String>,
    /// On a shared (PostgreSQL) store: the check's job in the shared queue (attempts,
    /// the worker that ran it, its last progress report).
    pub job: Option<verity_engine::JobStatus>,
}

/// One line of the history: the engine's, so `verity checks --json` lists the same.
pub use verity_engine::CheckSummary;

/// A page of the history, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckPage {
    pub items: Vec<CheckSummary>,
    pub offset: usize,
    pub limit: usize,
    /// Offset of the next page, when there is one.
    pub next_offset: Option<usize>,
}

/// Query parameters of `GET /api/checks`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Checks to skip (default 0).
    pub offset: Option<usize>,
    /// Checks per page (1–100, default 20).
    pub limit: Option<usize>,
}

/// Query parameters of `GET /api/checks/{id}/diff`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// The earlier check to compare against.
    pub against: String,
}

/// Queue state in `GET /api/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueView {
    pub capacity: usize,
    /// Checks waiting for a worker.
    pub queued: usize,
    pub workers: usize,
    pub paused: bool,
}

/// Answer to `GET /api/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `shutting_down`.
    pub status: String,
    pub version: String,
    pub sources: u64,
    pub passages: u64,
    pub read_only: bool,
    /// Whether writes need `Authorization: Bearer <token>`.
    pub token_required: bool,
    /// Whether dense (vector) search is available.
    pub vectors: bool,
    pub queue: QueueView,
    /// What the library says about missing models.
    pub notices: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_types::*;

    fn source() -> Source {
        Source {
            id: SourceId::new("0123456789abcdef"),
            location: "notes/a.md".into(),
            format: Format::Markdown,
            meta: DocMeta {
                title: Some("Weir works".into()),
                publisher: Some("Dunmore Ledger".into()),
                author: None,
                published: NaiveDate::from_ymd_opt(2023, 4, 1),
                url: None,
                kind: Some(SourceKind::News),
                attribution: Some("CC BY".into()),
            },
            ingested_at: "2026-01-01T00:00:00Z".into(),
            char_len: 40,
            passage_count: 2,
            duplicate_of: Some(SourceId::new("fedcba9876543210")),
        }
    }

    #[test]
    fn source_view_serialises_like_source() {
        let s = source();
        assert_eq!(
            serde_json::to_value(SourceView::from(&s)).unwrap(),
            serde_json::to_value(&s).unwrap()
        );
    }

    #[test]
    fn hit_view_has_the_cli_field_set() {
        let s = source();
        let h = SearchHit {
            passage: Passage {
                id: PassageId {
                    source: s.id.clone(),
                    ordinal: 1,
                },
                start: 5,
                end: 9,
                text: "weir".into(),
            },
            source: s,
            score: 1.5,
            highlights: vec![(0, 4)],
        };
        let v = serde_json::to_value(SearchHitView::from(&h)).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut want = vec![
            "passage_id",
            "source_id",
            "title",
            "publisher",
            "published",
            "kind",
            "url",
            "path",
            "text",
            "start",
            "end",
            "score",
            "highlights",
            "attribution",
            "duplicate_of",
        ];
        want.sort_unstable();
        assert_eq!(keys, want);
        assert_eq!(v["passage_id"], "0123456789abcdef:1");
        assert_eq!(v["highlights"], serde_json::json!([[0, 4]]));
        assert_eq!(v["published"], "2023-04-01");
        assert_eq!(v["kind"], "news");
    }

    #[test]
    fn report_view_serialises_like_the_report() {
        let r = IngestReport {
            added: 2,
            failed: vec![Failure {
                location: "x".into(),
                reason: "empty".into(),
                message: "m".into(),
            }],
            duplicate_links: vec![("a".into(), "b".into())],
            seconds: 0.5,
            ..IngestReport::default()
        };
        assert_eq!(
            serde_json::to_value(IngestReportView::from(&r)).unwrap(),
            serde_json::to_value(&r).unwrap()
        );
    }
}
