//! Metadata from the head of a plain-text file, where memos, letters, releases and
//! transcripts put it:
//!
//! ```text
//! TOWN OF KELLBRIDGE                         ← letterhead: publisher
//! Report to Council                          ← title (unless a Subject:/Title: line says otherwise)
//! Date of report: 4 April 2024               ← published
//! From: Ana Brisk, Director of Works         ← author
//! Subject: Weir repairs, revised budget      ← title
//! ```
//!
//! Conservative by design: a first line is taken as the publisher only when it is
//! written in capitals (letterhead style) or names an organisation the kind table knows
//! ("... Council", "... Coalition", "... Radio"), and only when more header lines
//! follow it. Otherwise the first line is the title when it is short and not prose.

use crate::{date::parse_date, kind::looks_like_organisation};
use chrono::NaiveDate;
use verity_types::DocMeta;

/// How many non-blank lines at the top are searched for header fields.
const HEAD_LINES: usize = 15;

fn is_all_caps(s: &str) -> bool {
    s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_lowercase)
}

fn reads_as_prose(s: &str) -> bool {
    s.ends_with(['.', ',', ';', ':']) || s.chars().count() > 160
}

/// `Key: value` with a short alphabetic key.
fn key_value(line: &str) -> Option<(String, &str)> {
    let (k, v) = line.split_once(':')?;
    let k = k.trim();
    let v = v.trim();
    let ok = !k.is_empty()
        && k.len() <= 20
        && k.chars().all(|c| c.is_alphabetic() || c == ' ')
        && !v.is_empty()
        && !v.starts_with("//");
    ok.then(|| (k.to_lowercase(), v))
}

const TITLE_KEYS: &[&str] = &["title", "subject", "headline"];
const DATE_KEYS: &[&str] = &[
    "date of report",
    "date published",
    "published",
    "released",
    "date issued",
    "issued",
    "date",
    "dated",
];
const DATE_PREFIXES: &[&str] = &[
    "Released ",
    "Published ",
    "Issued ",
    "Broadcast ",
    "Dated ",
    "Posted ",
];
const AUTHOR_KEYS: &[&str] = &[
    "author",
    "authors",
    "by",
    "from",
    "written by",
    "prepared by",
];
const PUBLISHER_KEYS: &[&str] = &["publisher", "source", "organisation", "organization"];
const ALL_KEYS: &[&[&str]] = &[
    TITLE_KEYS,
    DATE_KEYS,
    AUTHOR_KEYS,
    PUBLISHER_KEYS,
    &["re", "url", "link"],
];

fn is_known_key(k: &str) -> bool {
    ALL_KEYS.iter().any(|keys| keys.contains(&k))
}

/// Metadata from the head of a plain-text document (already decoded and trimmed).
pub(crate) fn text_meta(text: &str) -> DocMeta {
    let mut meta = DocMeta::default();
    let head: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(HEAD_LINES)
        .collect();
    let first_block: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.is_empty())
        .take(8)
        .collect();

    let mut title_kv: Option<String> = None;
    let mut re_line: Option<String> = None;
    let mut date: Option<(usize, NaiveDate)> = None; // (priority, date); lower wins
    let mut consider_date = |prio: usize, d: Option<NaiveDate>| {
        if let Some(d) = d {
            if date.is_none_or(|(p, _)| prio < p) {
                date = Some((prio, d));
            }
        }
    };
    for line in &head {
        if let Some((k, v)) = key_value(line) {
            if TITLE_KEYS.contains(&k.as_str()) {
                title_kv.get_or_insert_with(|| v.to_string());
            } else if k == "re" {
                re_line.get_or_insert_with(|| v.to_string());
            } else if let Some(p) = DATE_KEYS.iter().position(|dk| *dk == k) {
                consider_date(p, parse_date(v));
            } else if AUTHOR_KEYS.contains(&k.as_str()) {
                meta.author.get_or_insert_with(|| v.to_string());
            } else if PUBLISHER_KEYS.contains(&k.as_str()) {
                meta.publisher.get_or_insert_with(|| v.to_string());
            } else if matches!(k.as_str(), "url" | "link") && v.starts_with("http") {
                meta.url.get_or_insert_with(|| v.to_string());
            }
            continue;
        }
        if let Some(rest) = DATE_PREFIXES.iter().find_map(|p| line.strip_prefix(p)) {
            consider_date(DATE_KEYS.len(), parse_date(rest));
        } else if let Some(rest) = line.strip_prefix("By ") {
            // "By Ada Quill, The Kellbridge Gazette, 5 March 2024"
            let name = rest.split([',', '|', '·']).next().unwrap_or("").trim();
            if !name.is_empty() && name.split_whitespace().count() <= 5 {
                meta.author.get_or_insert_with(|| name.to_string());
            }
            consider_date(DATE_KEYS.len() + 1, parse_date(rest));
        } else if line.chars().count() <= 40 && line.split_whitespace().count() <= 5 {
            consider_date(DATE_KEYS.len() + 2, parse_date(line));
        }
    }
    meta.published = date.map(|(_, d)| d);

    // Letterhead: an organisation name on the first line, more header lines below.
    let mut letterhead_title: Option<String> = None;
    if first_block.len() >= 2 && meta.publisher.is_none() {
        let first = first_block[0];
        let org_like = is_all_caps(first)
            || (looks_like_organisation(first) && first.split_whitespace().count() <= 8);
        if org_like
            && first.chars().count() <= 80
            && !reads_as_prose(first)
            && key_value(first).is_none()
        {
            meta.publisher = Some(first.to_string());
            let second = first_block[1];
            let second_is_field = key_value(second).is_some_and(|(k, _)| is_known_key(&k))
                || DATE_PREFIXES.iter().any(|p| second.starts_with(p));
            if !second_is_field && !reads_as_prose(second) {
                letterhead_title = Some(second.to_string());
            }
        }
    }
    let first_line_title = head
        .first()
        .filter(|l| head.len() >= 2 && !reads_as_prose(l) && l.chars().count() <= 120)
        .map(|l| l.to_string());
    meta.title = title_kv
        .or(letterhead_title)
        .or(re_line)
        .or(first_line_title);
    meta
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn staff_report_header() {
        let t = "TOWN OF KELLBRIDGE\nREPORT TO COUNCIL\n\nReport number: W-2024-03\nMeeting date: 14 April 2024\n\
                 Date of report: 4 April 2024\nFrom: Ana Brisk, Director of Works\nSubject: Weir repairs - revised budget\n\n\
                 1. Purpose\n\nThis report asks Council to approve a revised budget.";
        let m = text_meta(t);
        assert_eq!(m.publisher.as_deref(), Some("TOWN OF KELLBRIDGE"));
        assert_eq!(m.title.as_deref(), Some("Weir repairs - revised budget"));
        assert_eq!(m.published, d(2024, 4, 4));
        assert_eq!(m.author.as_deref(), Some("Ana Brisk, Director of Works"));
    }

    #[test]
    fn release_and_letter_and_transcript() {
        let m = text_meta("CLEAN RIVERS COALITION\nFish pass survey results - spring 2024\nReleased 14 May 2024\n\nWhat we did\n\nVolunteers counted fish.");
        assert_eq!(m.publisher.as_deref(), Some("CLEAN RIVERS COALITION"));
        assert_eq!(
            m.title.as_deref(),
            Some("Fish pass survey results - spring 2024")
        );
        assert_eq!(m.published, d(2024, 5, 14));

        let m = text_meta("Clean Rivers Coalition\nOpen letter to the Kellbridge Borough Council\n\n2 October 2024\n\nRe: The weir\n\nDear Councillors,\n\nWe write.");
        assert_eq!(m.publisher.as_deref(), Some("Clean Rivers Coalition"));
        assert_eq!(
            m.title.as_deref(),
            Some("Open letter to the Kellbridge Borough Council")
        );
        assert_eq!(m.published, d(2024, 10, 2));

        let m = text_meta("KELL VALLEY RADIO - MORNING SHOW\nTranscript: interview with the council leader\nBroadcast 14 October 2025\nHost: Tam Reed\n\nTAM REED: Welcome.");
        assert_eq!(
            m.publisher.as_deref(),
            Some("KELL VALLEY RADIO - MORNING SHOW")
        );
        assert_eq!(
            m.title.as_deref(),
            Some("Transcript: interview with the council leader")
        );
        assert_eq!(m.published, d(2025, 10, 14));
    }

    #[test]
    fn byline_gives_author_and_date() {
        let m = text_meta("Weir repair bill doubles\n\nBy Ada Quill, The Kellbridge Gazette, 5 March 2024\n\nThe cost rose.");
        assert_eq!(m.title.as_deref(), Some("Weir repair bill doubles"));
        assert_eq!(m.author.as_deref(), Some("Ada Quill"));
        assert_eq!(m.published, d(2024, 3, 5));
        assert_eq!(m.publisher, None);
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        // A short title line over a subtitle is not a letterhead.
        let m = text_meta(
            "Weir closes for repairs\nWork starts Monday and lasts a year\n\nMore text here.",
        );
        assert_eq!(m.publisher, None);
        assert_eq!(m.title.as_deref(), Some("Weir closes for repairs"));
        let m = text_meta("This is prose. It goes on.\nAnd on.");
        assert_eq!(m, DocMeta::default());
        assert_eq!(text_meta("One line only"), DocMeta::default());
        // Times and URLs are not keys.
        let m = text_meta("Notes\nSee https://x.example at 10:30 today\n");
        assert_eq!(m.url, None);
    }
}
