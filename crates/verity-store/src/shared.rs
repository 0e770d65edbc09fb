//! What both backends share: passage spans packed as one blob per source, slicing
//! passages from a source's text, search filters as SQL, and page counts.

use crate::{NewSource, StoreError};
use chrono::NaiveDate;
use verity_types::{
    DocMeta, Format, Passage, PassageId, PassageSpan, SearchFilters, Source, SourceId, SourceKind,
};

pub(crate) fn bad_span(pid: &PassageId) -> StoreError {
    StoreError::Corrupt(format!(
        "passage {pid} points outside its source's text; re-ingest the source"
    ))
}

/// A source's passage spans as stored: `(start, end)` character offsets, in passage order,
/// each as two little-endian `u64`s.
pub(crate) fn encode_spans(spans: impl ExactSizeIterator<Item = (u64, u64)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(spans.len() * 16);
    for (start, end) in spans {
        out.extend_from_slice(&start.to_le_bytes());
        out.extend_from_slice(&end.to_le_bytes());
    }
    out
}

/// The spans [`encode_spans`] wrote; `None` if the blob is not a whole number of spans.
pub(crate) fn decode_spans(blob: &[u8]) -> Option<Spans> {
    if !blob.len().is_multiple_of(16) {
        return None;
    }
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
    Some(
        blob.chunks_exact(16)
            .map(|s| (word(&s[..8]), word(&s[8..])))
            .collect(),
    )
}

pub(crate) fn corrupt_spans(id: &SourceId) -> StoreError {
    StoreError::Corrupt(format!(
        "the passage spans of source {id} are unreadable; re-ingest the source"
    ))
}

/// Passage spans as `(start, end)` character offsets, in passage order.
pub(crate) type Spans = Vec<(u64, u64)>;

/// Byte offsets of a set of character offsets into one text, found in a single pass, so
/// slicing every passage of a large source stays linear in its length.
pub(crate) struct CharIndex(std::collections::HashMap<u64, usize>);

impl CharIndex {
    pub(crate) fn new(text: &str, offsets: impl Iterator<Item = u64>) -> CharIndex {
        let mut wanted: Vec<u64> = offsets.collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut map = std::collections::HashMap::with_capacity(wanted.len());
        let mut next = wanted.iter().copied().peekable();
        let bytes = text
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(text.len()));
        for (n, b) in (0u64..).zip(bytes) {
            while next.peek() == Some(&n) {
                map.insert(n, b);
                next.next();
            }
            if next.peek().is_none() {
                break;
            }
        }
        CharIndex(map)
    }

    pub(crate) fn slice<'t>(&self, text: &'t str, start: u64, end: u64) -> Option<&'t str> {
        let (b0, b1) = self.bytes(start, end)?;
        text.get(b0..b1)
    }

    fn bytes(&self, start: u64, end: u64) -> Option<(usize, usize)> {
        Some((*self.0.get(&start)?, *self.0.get(&end)?)).filter(|(b0, b1)| b0 <= b1)
    }
}

/// A count for SQL's LIMIT/OFFSET, which take an i64. `as i64` would wrap an offset of
/// 2^63 or more to a negative number, which SQLite reads as 0 — the first page again —
/// so counts past i64::MAX saturate.
pub(crate) fn sql_count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Every passage of a source, in order, sliced from its text.
pub(crate) fn slice_passages(
    id: &SourceId,
    text: &str,
    spans: Spans,
) -> Result<Vec<Passage>, StoreError> {
    let bytes = CharIndex::new(text, spans.iter().flat_map(|s| [s.0, s.1]));
    spans
        .into_iter()
        .enumerate()
        .map(|(ordinal, (start, end))| {
            let pid = PassageId {
                source: id.clone(),
                ordinal: ordinal as u32,
            };
            let text = bytes
                .slice(text, start, end)
                .ok_or_else(|| bad_span(&pid))?;
            Ok(Passage {
                id: pid,
                start,
                end,
                text: text.to_string(),
            })
        })
        .collect()
}

/// A stored source as it was written (see `Store::export_source`): its row, text, spans
/// (with their byte offsets again) and fingerprint.
pub(crate) fn exported(
    source: Source,
    text: String,
    spans: &[u8],
    fingerprint: Option<Vec<u8>>,
) -> Result<NewSource, StoreError> {
    let spans = decode_spans(spans).ok_or_else(|| corrupt_spans(&source.id))?;
    let bytes = CharIndex::new(&text, spans.iter().flat_map(|s| [s.0, s.1]));
    let passages = spans
        .iter()
        .enumerate()
        .map(|(ordinal, &(start, end))| {
            let pid = PassageId {
                source: source.id.clone(),
                ordinal: ordinal as u32,
            };
            let bytes = bytes.bytes(start, end).ok_or_else(|| bad_span(&pid))?;
            Ok(PassageSpan { start, end, bytes })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok(NewSource {
        id: source.id,
        location: source.location,
        format: source.format,
        meta: source.meta,
        text,
        passages,
        fingerprint: fingerprint.unwrap_or_default(),
        duplicate_of: source.duplicate_of,
        ingested_at: Some(source.ingested_at),
    })
}

/// Search filters as a SQL condition on `sources` and its arguments, in order; `None`
/// when no filter is set. `mark(n)` writes the placeholder of the n-th argument (from 1):
/// `?n` for SQLite, `$n` for PostgreSQL. Both compare dates as `YYYY-MM-DD` text.
pub(crate) fn filter_condition(
    f: &SearchFilters,
    mark: fn(usize) -> String,
) -> Option<(String, Vec<String>)> {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<String> = Vec::new();
    let marks = |args: &Vec<String>, n: usize| -> String {
        (args.len() + 1..=args.len() + n)
            .map(mark)
            .collect::<Vec<_>>()
            .join(",")
    };
    if let Some(p) = f.publisher.as_deref().filter(|p| !p.trim().is_empty()) {
        clauses.push(format!(
            "lower(coalesce(publisher,'')) LIKE {}",
            marks(&args, 1)
        ));
        args.push(format!("%{}%", p.trim().to_lowercase()));
    }
    if !f.kinds.is_empty() {
        clauses.push(format!(
            "coalesce(kind,'other') IN ({})",
            marks(&args, f.kinds.len())
        ));
        args.extend(f.kinds.iter().map(|k| k.as_str().to_string()));
    }
    if !f.formats.is_empty() {
        clauses.push(format!("format IN ({})", marks(&args, f.formats.len())));
        args.extend(f.formats.iter().map(|k| k.as_str().to_string()));
    }
    let undated = if f.keep_undated {
        " OR published IS NULL"
    } else {
        ""
    };
    if let Some(d) = f.from {
        clauses.push(format!("(published >= {}{undated})", marks(&args, 1)));
        args.push(d.format("%Y-%m-%d").to_string());
    }
    if let Some(d) = f.to {
        clauses.push(format!("(published <= {}{undated})", marks(&args, 1)));
        args.push(d.format("%Y-%m-%d").to_string());
    }
    if f.skip_duplicates {
        clauses.push("duplicate_of IS NULL".into());
    }
    if clauses.is_empty() {
        return None;
    }
    Some((clauses.join(" AND "), args))
}

/// A `sources` row as both stores read it, columns in the order their queries select
/// them; [`SourceRow::into_source`] is the one place the stored strings become a
/// [`Source`].
pub(crate) struct SourceRow {
    pub id: String,
    pub location: String,
    pub format: String,
    pub title: Option<String>,
    pub publisher: Option<String>,
    pub author: Option<String>,
    pub published: Option<String>,
    pub url: Option<String>,
    pub kind: Option<String>,
    pub attribution: Option<String>,
    pub ingested_at: String,
    pub char_len: i64,
    pub passage_count: i64,
    pub duplicate_of: Option<String>,
}

impl SourceRow {
    pub(crate) fn into_source(self) -> Source {
        Source {
            id: SourceId::new(self.id),
            location: self.location,
            format: Format::parse(&self.format).unwrap_or(Format::Text),
            meta: DocMeta {
                title: self.title,
                publisher: self.publisher,
                author: self.author,
                published: self
                    .published
                    .and_then(|p| NaiveDate::parse_from_str(&p, "%Y-%m-%d").ok()),
                url: self.url,
                kind: self.kind.and_then(|k| SourceKind::parse(&k)),
                attribution: self.attribution,
            },
            ingested_at: self.ingested_at,
            char_len: self.char_len as u64,
            passage_count: self.passage_count as u32,
            duplicate_of: self.duplicate_of.map(SourceId::new),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_index_slices_multibyte_text_in_one_pass() {
        let text = "Café “Vellan” — naïve ending";
        let spans = [(0u64, 4u64), (5, 13), (16, 28)];
        let idx = CharIndex::new(text, spans.iter().flat_map(|s| [s.0, s.1]));
        let got: Vec<&str> = spans
            .iter()
            .map(|&(a, b)| idx.slice(text, a, b).unwrap())
            .collect();
        assert_eq!(got, vec!["Café", "“Vellan”", "naïve ending"]);
        // Offsets past the end are not found.
        let idx = CharIndex::new(text, [0, 29].into_iter());
        assert_eq!(idx.slice(text, 0, 29), None);
    }

    #[test]
    fn filter_placeholders_count_up_across_clauses() {
        let f = SearchFilters {
            publisher: Some("Ledger".into()),
            kinds: vec![
                verity_types::SourceKind::News,
                verity_types::SourceKind::Audit,
            ],
            from: chrono::NaiveDate::from_ymd_opt(2024, 1, 1),
            ..Default::default()
        };
        let (cond, args) = filter_condition(&f, |n| format!("${n}")).unwrap();
        assert!(cond.contains("LIKE $1"), "{cond}");
        assert!(cond.contains("IN ($2,$3)"), "{cond}");
        assert!(cond.contains("published >= $4"), "{cond}");
        assert_eq!(args, ["%ledger%", "news", "audit", "2024-01-01"]);
        assert!(filter_condition(&SearchFilters::default(), |n| format!("?{n}")).is_none());
    }
}
