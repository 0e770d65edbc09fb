use crate::{Format, Passage, Source, SourceKind};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// How to rank passages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Lexical BM25 only.
    Bm25,
    /// Dense vectors only (needs the embedding model).
    Dense,
    /// Both, fused. The default when vectors exist; falls back to BM25 otherwise.
    #[default]
    Hybrid,
}

impl SearchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SearchMode::Bm25 => "bm25",
            SearchMode::Dense => "dense",
            SearchMode::Hybrid => "hybrid",
        }
    }
}

/// Metadata filters applied to every search mode.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchFilters {
    /// Case-insensitive substring of the publisher.
    pub publisher: Option<String>,
    /// Keep only these kinds (empty = all).
    pub kinds: Vec<SourceKind>,
    /// Keep only these formats (empty = all).
    pub formats: Vec<Format>,
    /// Published on or after.
    pub from: Option<NaiveDate>,
    /// Published on or before (also how `--as-of` restricts evidence).
    pub to: Option<NaiveDate>,
    /// Leave out syndicated copies (keep the original only).
    pub skip_duplicates: bool,
    /// Let sources without a publication date through `from`/`to` (their date is
    /// unknown, not out of range). `--as-of` sets it, so an undated library still
    /// answers, and the brief says how many of its sources are undated.
    #[serde(default)]
    pub keep_undated: bool,
}

impl SearchFilters {
    /// Whether a source published on `published` passes the `from`/`to` range (an
    /// undated source passes only with `keep_undated`). The store applies the same rule
    /// in SQL; this is the one copy for everything that filters in memory.
    pub fn admits_date(&self, published: Option<NaiveDate>) -> bool {
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        match published {
            None => self.keep_undated,
            Some(p) => self.from.is_none_or(|f| p >= f) && self.to.is_none_or(|t| p <= t),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    pub query: String,
    pub limit: usize,
    pub mode: SearchMode,
    pub filters: SearchFilters,
}

impl SearchRequest {
    pub fn new(query: impl Into<String>, limit: usize) -> Self {
        SearchRequest {
            query: query.into(),
            limit,
            mode: SearchMode::default(),
            filters: SearchFilters::default(),
        }
    }
}

/// One ranked passage with its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub passage: Passage,
    pub source: Source,
    pub score: f32,
    /// Character ranges *within the passage text* that matched the query terms.
    pub highlights: Vec<(u64, u64)>,
}

/// Progress reporting for long work. The CLI draws bars; the server streams events.
pub trait Progress: Send + Sync {
    /// A new stage begins, with its total units when known.
    fn stage(&self, name: &str, total: Option<u64>);
    /// `n` more units of the current stage are done.
    fn advance(&self, n: u64);
    /// A line worth showing the user (a skipped file, a warning).
    fn message(&self, msg: &str);
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn message(&self, _: &str) {}
}

/// A search hit as JSON: the one shape that `verity search --json` prints and
/// `GET /api/search` answers with (the web page reads these field names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = SearchHitView))]
pub struct SearchHitJson {
    /// `<source-id>:<ordinal>`.
    pub passage_id: String,
    pub source_id: String,
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub published: Option<NaiveDate>,
    pub kind: Option<String>,
    pub url: Option<String>,
    /// Where the source was read from.
    pub path: String,
    /// The passage text.
    pub text: String,
    /// Character offsets of the passage in the source text.
    pub start: u64,
    pub end: u64,
    pub score: f32,
    /// Character ranges within `text` that matched the query, as `[start, end]` pairs.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Vec<u64>>))]
    pub highlights: Vec<(u64, u64)>,
    pub attribution: Option<String>,
    pub duplicate_of: Option<String>,
}

impl From<&SearchHit> for SearchHitJson {
    fn from(h: &SearchHit) -> Self {
        let s = &h.source;
        SearchHitJson {
            passage_id: h.passage.id.to_string(),
            source_id: s.id.to_string(),
            title: s.meta.title.clone(),
            publisher: s.meta.publisher.clone(),
            published: s.meta.published,
            kind: s.meta.kind.map(|k| k.as_str().to_string()),
            url: s.meta.url.clone(),
            path: s.location.clone(),
            text: h.passage.text.clone(),
            start: h.passage.start,
            end: h.passage.end,
            score: h.score,
            highlights: h.highlights.clone(),
            attribution: s.meta.attribution.clone(),
            duplicate_of: s.duplicate_of.as_ref().map(|d| d.to_string()),
        }
    }
}
