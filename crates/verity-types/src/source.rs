use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable identity of a source: the first 16 hex digits of the BLAKE3 hash of its
/// normalised text. Re-ingesting the same content yields the same id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SourceId(String);

impl SourceId {
    pub fn from_content(text: &str) -> Self {
        let hash = blake3::hash(text.as_bytes());
        SourceId(hash.to_hex()[..16].to_string())
    }
    /// Wrap an id read back from storage or typed by a user.
    pub fn new(raw: impl Into<String>) -> Self {
        SourceId(raw.into())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Identity of a passage: its source plus its ordinal within that source.
/// Rendered as `<source-id>:<ordinal>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PassageId {
    pub source: SourceId,
    pub ordinal: u32,
}

impl PassageId {
    pub fn parse(raw: &str) -> Option<Self> {
        let (src, ord) = raw.rsplit_once(':')?;
        Some(PassageId {
            source: SourceId::new(src),
            ordinal: ord.parse().ok()?,
        })
    }
}

impl fmt::Display for PassageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.ordinal)
    }
}

/// The file format a source was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Markdown,
    Html,
    Pdf,
    Jsonl,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Jsonl => "jsonl",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "text" => Format::Text,
            "markdown" => Format::Markdown,
            "html" => Format::Html,
            "pdf" => Format::Pdf,
            "jsonl" => Format::Jsonl,
            _ => return None,
        })
    }
}

/// What kind of voice a source speaks with. Drives the "sources and their angles"
/// section of a brief and the `--kind` search filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// Government or agency statements, press releases, official records.
    Official,
    /// News reporting.
    News,
    /// Audits, inspectors, watchdogs, ombudsmen.
    Audit,
    /// Advocacy groups, campaigns, unions, trade bodies.
    Advocacy,
    /// Academic papers, research institutes.
    Academic,
    /// Encyclopedic reference works.
    Reference,
    /// Opinion and commentary.
    Opinion,
    /// Not known.
    Other,
}

impl SourceKind {
    pub const ALL: [SourceKind; 8] = [
        SourceKind::Official,
        SourceKind::News,
        SourceKind::Audit,
        SourceKind::Advocacy,
        SourceKind::Academic,
        SourceKind::Reference,
        SourceKind::Opinion,
        SourceKind::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Official => "official",
            SourceKind::News => "news",
            SourceKind::Audit => "audit",
            SourceKind::Advocacy => "advocacy",
            SourceKind::Academic => "academic",
            SourceKind::Reference => "reference",
            SourceKind::Opinion => "opinion",
            SourceKind::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase();
        SourceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Metadata a reader extracts from a document. Every field is optional because real
/// sources rarely carry all of it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocMeta {
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub author: Option<String>,
    pub published: Option<NaiveDate>,
    /// Canonical URL when known (from the fetch, or canonical/og:url tags).
    pub url: Option<String>,
    pub kind: Option<SourceKind>,
    /// Licence or attribution line to show with every citation of this source.
    pub attribution: Option<String>,
}

/// A document as produced by a reader, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Where it came from: a file path or a URL. For JSONL, `path#line`.
    pub location: String,
    pub format: Format,
    pub meta: DocMeta,
    /// Extracted plain text. Passage offsets index into this string.
    pub text: String,
}

/// A stored source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub id: SourceId,
    pub location: String,
    pub format: Format,
    pub meta: DocMeta,
    /// When it was added to the library (RFC 3339).
    pub ingested_at: String,
    /// Length of the stored text in characters.
    pub char_len: u64,
    pub passage_count: u32,
    /// When this source is a syndicated copy of another, the id of that original.
    pub duplicate_of: Option<SourceId>,
}

/// A passage: a sentence-aligned span of its source's text.
/// `start..end` are **character** (Unicode scalar) offsets into the source text;
/// `char_slice(source_text, start, end) == text` always holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    pub id: PassageId,
    pub start: u64,
    pub end: u64,
    pub text: String,
}

/// Where a passage lies in its source's text: as characters (what the store keeps and
/// citations use) and as bytes (to slice the text out without counting characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassageSpan {
    /// Character offset of the first character.
    pub start: u64,
    /// Character offset one past the last character.
    pub end: u64,
    /// The same span as byte offsets `[from, to)` into the source text.
    pub bytes: (usize, usize),
}

impl PassageSpan {
    /// The span of a whole text.
    pub fn whole(text: &str) -> Self {
        PassageSpan {
            start: 0,
            end: text.chars().count() as u64,
            bytes: (0, text.len()),
        }
    }

    /// The passage's text in `source`, the text the span was made from (empty if the
    /// byte span does not fit `source`).
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        let text = source.get(self.bytes.0..self.bytes.1);
        debug_assert!(text.is_some(), "a passage span outside its source");
        text.unwrap_or_default()
    }
}

/// Stance of a passage toward a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stance {
    Supports,
    Contradicts,
    Neutral,
}

impl Stance {
    pub fn as_str(self) -> &'static str {
        match self {
            Stance::Supports => "supports",
            Stance::Contradicts => "contradicts",
            Stance::Neutral => "neutral",
        }
    }
}

/// Probabilities over the three stances; sums to 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StanceScores {
    pub supports: f32,
    pub contradicts: f32,
    pub neutral: f32,
}

impl StanceScores {
    pub fn label(&self) -> Stance {
        if self.supports >= self.contradicts && self.supports >= self.neutral {
            Stance::Supports
        } else if self.contradicts >= self.neutral {
            Stance::Contradicts
        } else {
            Stance::Neutral
        }
    }
}

/// The fixed verdict scale of a claim check. "Not enough evidence" is never "false".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Supported,
    MostlySupported,
    Mixed,
    MostlyUnsupported,
    Contradicted,
    NotEnoughEvidence,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Supported => "Supported",
            Verdict::MostlySupported => "Mostly supported",
            Verdict::Mixed => "Mixed",
            Verdict::MostlyUnsupported => "Mostly unsupported",
            Verdict::Contradicted => "Contradicted",
            Verdict::NotEnoughEvidence => "Not enough evidence",
        }
    }
    /// Position on the ClaimReview rating scale (1 = worst, 5 = best); `None` for
    /// "Not enough evidence", which has no place on the true/false axis.
    pub fn rating(self) -> Option<u8> {
        match self {
            Verdict::Supported => Some(5),
            Verdict::MostlySupported => Some(4),
            Verdict::Mixed => Some(3),
            Verdict::MostlyUnsupported => Some(2),
            Verdict::Contradicted => Some(1),
            Verdict::NotEnoughEvidence => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_id_is_stable_and_content_addressed() {
        let a = SourceId::from_content("one");
        assert_eq!(a, SourceId::from_content("one"));
        assert_ne!(a, SourceId::from_content("two"));
    }

    #[test]
    fn passage_id_round_trips() {
        let id = PassageId {
            source: SourceId::new("abcdef0123456789"),
            ordinal: 7,
        };
        assert_eq!(PassageId::parse(&id.to_string()), Some(id));
        assert_eq!(PassageId::parse("nocolon"), None);
    }

    #[test]
    fn kinds_parse_case_insensitively() {
        assert_eq!(SourceKind::parse(" Audit "), Some(SourceKind::Audit));
        assert_eq!(SourceKind::parse("blog"), None);
    }
}
