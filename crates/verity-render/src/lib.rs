//! Verity's brief renderers: the same [`Brief`] as terminal text, Markdown, a standalone
//! HTML page, JSON (every sentence with its citations, spans and scores) and schema.org
//! ClaimReview JSON-LD.
//!
//! Every renderer prints the sections in the order of the design ("The brief"):
//! question or "Fact check: <claim>"; checked-on date, evidence currency and disclaimer
//! (with notes on how the brief was made); the verdict (claim mode); the executive
//! summary; the numbered findings; sources and their angles; evidence gaps; the sources
//! list with the exact passages used and their character offsets; five follow-up
//! questions; and a closing line on the per-sentence support check.
//!
//! Rendering never fails: every renderer returns a value for any brief.
//!
//! ```
//! use verity_compose::{build_brief, BriefRequest, Evidence, Mode};
//! use verity_judge::LexicalStance;
//! use verity_types::{NoProgress, SearchHit, SearchRequest};
//!
//! struct Empty;
//! impl Evidence for Empty {
//!     fn search(&self, _: &SearchRequest) -> Result<Vec<SearchHit>, String> { Ok(vec![]) }
//!     fn has_dense(&self) -> bool { false }
//! }
//! let today = chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
//! let req = BriefRequest::new("Is the Dunmore weir open?", Mode::Ask, today);
//! let brief = build_brief(&req, &Empty, &LexicalStance::new(), &NoProgress).unwrap();
//! let md = verity_render::render_markdown(&brief);
//! assert!(md.starts_with("# Is the Dunmore weir open?"));
//! let html = verity_render::render_html(&brief);
//! assert!(html.contains("<!DOCTYPE html>"));
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod claimreview;
mod html;
mod json;
mod markdown;
#[cfg(test)]
#[path = "../tests/common/sample.rs"]
mod sample;
mod terminal;

pub use claimreview::{render_claimreview, CLAIMREVIEW_AUTHOR};
pub use html::render_html;
pub use json::{render_json, render_json_value, JSON_FORMAT, JSON_VERSION};
pub use markdown::render_markdown;
pub use terminal::render_terminal;

use chrono::NaiveDate;
use verity_types::{Brief, BriefSource, Lean, Mode, Sentence};

/// "1 December 2025".
pub(crate) fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// The checked-on line: date, evidence currency.
pub(crate) fn currency_line(b: &Brief) -> String {
    let mut s = format!("Checked on {}.", long_date(b.checked_on));
    match (b.currency.newest, b.currency.oldest) {
        (Some(n), Some(o)) if n != o => s.push_str(&format!(
            " Evidence current to {} (newest source used); oldest source used {}.",
            long_date(n),
            long_date(o)
        )),
        (Some(n), _) => s.push_str(&format!(
            " Evidence current to {} (newest source used).",
            long_date(n)
        )),
        _ => s.push_str(" The sources used carry no dates."),
    }
    if b.currency.undated > 0 {
        s.push_str(&format!(
            " {} source(s) used are undated.",
            b.currency.undated
        ));
    }
    if let Some(a) = b.as_of {
        s.push_str(&format!(
            " Evidence restricted to sources published by {}.",
            long_date(a)
        ));
    }
    s
}

/// " [1] [3]" for a sentence's citations (deduplicated, in order).
pub(crate) fn citation_numbers(s: &Sentence) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for c in &s.citations {
        if !out.contains(&c.n) {
            out.push(c.n);
        }
    }
    out
}

/// How a kind group leans, in words.
pub(crate) fn lean_words(lean: Lean, mode: Mode) -> &'static str {
    match (lean, mode) {
        (Lean::Supports, Mode::Check) => "lean towards supporting the claim",
        (Lean::Supports, Mode::Ask) => "lean towards the question's premise",
        (Lean::Contradicts, Mode::Check) => "lean towards contradicting or complicating the claim",
        (Lean::Contradicts, Mode::Ask) => "lean towards complicating it",
        (Lean::Split, _) => "are split",
        (Lean::Neutral, _) => "are cited for context and take no side",
    }
}

/// "Title — Publisher · kind · date".
pub(crate) fn source_byline(s: &BriefSource) -> String {
    let mut parts = Vec::new();
    if let Some(p) = &s.publisher {
        parts.push(p.clone());
    }
    parts.push(s.kind.as_str().to_string());
    parts.push(
        s.published
            .map(long_date)
            .unwrap_or_else(|| "undated".to_string()),
    );
    parts.join(" · ")
}

/// Split a passage into (text, cited?) pieces by the cited spans (source offsets).
pub(crate) fn passage_pieces(p: &verity_types::UsedPassage) -> Vec<(String, bool)> {
    let chars: Vec<char> = p.text.chars().collect();
    let n = chars.len() as u64;
    let mut out: Vec<(String, bool)> = Vec::new();
    let mut pos = 0u64;
    let mut spans: Vec<(u64, u64)> = p
        .cited
        .iter()
        .filter_map(|(a, b)| {
            let a = a.checked_sub(p.start)?;
            let b = b.checked_sub(p.start)?;
            (a < b && b <= n).then_some((a, b))
        })
        .collect();
    spans.sort();
    for (a, b) in spans {
        if a < pos {
            continue;
        }
        if a > pos {
            out.push((chars[pos as usize..a as usize].iter().collect(), false));
        }
        out.push((chars[a as usize..b as usize].iter().collect(), true));
        pos = b;
    }
    if pos < n {
        out.push((chars[pos as usize..].iter().collect(), false));
    }
    out
}

/// The sentences a language model wrote that the check refused (listed with
/// `--show-unsupported`), one line each: "(summary, cites no passage) text".
pub(crate) fn refused_lines(b: &Brief) -> Vec<String> {
    let Some(w) = &b.writer else {
        return Vec::new();
    };
    w.refused
        .iter()
        .map(|d| {
            let why = d.reason.map_or("refused", |r| r.describe());
            format!(
                "Written by the model and refused ({}, {}): {}",
                d.section, why, d.text
            )
        })
        .collect()
}

/// The closing line on the support check.
pub(crate) fn verification_line(b: &Brief) -> String {
    let v = &b.verification;
    let supported = v.checked.saturating_sub(v.dropped.len() + v.flagged);
    let mut s = format!(
        "Support check: {} of {} sentences are supported by the passages they cite ({:.0}%, threshold {}, judged by {}).",
        supported,
        v.checked,
        v.share_supported * 100.0,
        v.threshold,
        b.judge
    );
    if !v.dropped.is_empty() {
        s.push_str(&format!(" Left out: {}.", v.dropped.len()));
    }
    if v.flagged > 0 {
        s.push_str(&format!(" {} are shown flagged as unsupported.", v.flagged));
    }
    if v.verbatim > 0 {
        s.push_str(&format!(
            " {} passed as verbatim quotes although the model scored them lower.",
            v.verbatim
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_types::{PassageId, SourceId, UsedPassage};

    #[test]
    fn passage_pieces_mark_cited_spans_by_char_offsets() {
        let p = UsedPassage {
            id: PassageId {
                source: SourceId::new("abcd"),
                ordinal: 0,
            },
            start: 10,
            end: 10 + 12,
            text: "Añb weir. Ok".into(),
            cited: vec![(10, 19)],
        };
        let pieces = passage_pieces(&p);
        assert_eq!(pieces[0], ("Añb weir.".to_string(), true));
        assert_eq!(pieces[1], (" Ok".to_string(), false));
    }
}
