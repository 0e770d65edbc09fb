//! Publication dates in the many shapes real pages and files write them.
//!
//! The calendar date is taken as written: `2024-03-05T23:30:00-05:00` is 5 March, the
//! day the publisher says it published, not the UTC day.

use chrono::NaiveDate;
use once_cell::sync::Lazy;
use regex::Regex;

static ISO: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:$|[T\s_]|[+-]\d|Z)").expect("valid regex")
});
static COMPACT: Lazy<Regex> = Lazy::new(|| {
    // PDF `D:20240305...` and bare `20240305`.
    Regex::new(r"^(?:D:)?(\d{4})(\d{2})(\d{2})(?:$|\d|[T\sZ+-])").expect("valid regex")
});
static MONTH_FIRST: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)\b([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
        .expect("valid regex")
});
static DAY_FIRST: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)\b(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?[\s-]+([a-z]{3,9})\.?,?[\s-]+(\d{4})\b")
        .expect("valid regex")
});

fn month_number(name: &str) -> Option<u32> {
    let n = name.to_ascii_lowercase();
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    MONTHS
        .iter()
        .position(|m| *m == n || (n.len() >= 3 && m.starts_with(n.as_str())))
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// Parse a date written as `2024-03-05`, `2024-03-05T10:00:00Z` (any RFC 3339 / ISO 8601
/// date-time), `2024/03/05`, `20240305`, PDF's `D:20240305103000+01'00'`, `March 5, 2024`,
/// `Mar. 5th 2024`, `Tuesday, 5 March 2024`, `5-Mar-2024` or RFC 2822
/// (`Tue, 05 Mar 2024 10:00:00 GMT`). Ambiguous all-numeric forms like `05/03/2024` are
/// not guessed.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(c) = ISO.captures(s) {
        return ymd(&c[1], &c[2], &c[3]);
    }
    if let Some(c) = COMPACT.captures(s) {
        return ymd(&c[1], &c[2], &c[3]);
    }
    for c in MONTH_FIRST.captures_iter(s) {
        if let Some(m) = month_number(&c[1]) {
            if let Some(d) = ymd(&c[3], &m.to_string(), &c[2]) {
                return Some(d);
            }
        }
    }
    for c in DAY_FIRST.captures_iter(s) {
        if let Some(m) = month_number(&c[2]) {
            if let Some(d) = ymd(&c[3], &m.to_string(), &c[1]) {
                return Some(d);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn parses_many_forms() {
        for s in [
            "2024-03-05",
            "2024-03-05T10:00:00Z",
            "2024-03-05T23:30:00-05:00",
            "2024-03-05 10:00",
            "2024/3/5",
            "20240305",
            "D:20240305103000+01'00'",
            "March 5, 2024",
            "Mar. 5th 2024",
            "Tuesday, March 5, 2024",
            "5 March 2024",
            "5th of March, 2024",
            "05-Mar-2024",
            "Tue, 05 Mar 2024 10:00:00 GMT",
            "Published: 5 March 2024, 10:00",
            "Sept 5, 2024",
        ] {
            let want = if s.starts_with("Sept") {
                d(2024, 9, 5)
            } else {
                d(2024, 3, 5)
            };
            assert_eq!(parse_date(s), want, "{s}");
        }
    }

    #[test]
    fn rejects_nonsense_and_ambiguity() {
        for s in [
            "",
            "soon",
            "05/03/2024",
            "2024-13-45",
            "Smarch 5, 2024",
            "May",
        ] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }
}
