//! Small text helpers: content terms, capitalised spans, dates and figures.

use std::collections::BTreeSet;

use once_cell::sync::Lazy;
use regex::Regex;

/// The stemmer and stop-word list every stage shares (`verity-text`), re-exported so
/// `text::stem` and `text::is_stopword` keep their names here.
pub use verity_text::{is_stopword, stem};

/// Words that start a question and go when it is turned into a statement.
const QUESTION_LEADS: &[&str] = &[
    "has", "have", "had", "did", "does", "do", "is", "are", "was", "were", "can", "could", "will",
    "would", "should", "may", "might", "must", "how", "what", "why", "who", "when", "where",
    "which", "whom", "whose",
];

/// Words that may sit inside a capitalised name ("University of Lowmere").
const NAME_CONNECTORS: &[&str] = &["of", "for", "de", "la", "von", "van"];

/// Content terms of a text: lower-cased, stemmed words without stop words; numbers are
/// kept with thousands separators removed ("1,200" → "1200", "$22" → "22").
pub fn terms(text: &str) -> Vec<String> {
    let lower = text.to_lowercase().replace("n't", " not");
    let mut out = Vec::new();
    for raw in lower.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == ',' || c == '\'')) {
        let w = raw.trim_matches(|c: char| c == '.' || c == ',' || c == '\'');
        let w = w.strip_suffix("'s").unwrap_or(w);
        if w.is_empty() {
            continue;
        }
        if w.chars().any(|c| c.is_ascii_digit()) {
            let n: String = w.chars().filter(|c| *c != ',').collect();
            let n = n.trim_end_matches('.').to_string();
            if !n.is_empty() {
                out.push(n);
            }
            continue;
        }
        for part in w.split(['.', ',', '\'']).filter(|p| !p.is_empty()) {
            if part.chars().count() > 1 && !is_stopword(part) {
                out.push(stem(part));
            }
        }
    }
    out
}

/// Distinct content terms.
pub fn term_set(text: &str) -> BTreeSet<String> {
    terms(text).into_iter().collect()
}

/// Terms of the capitalised words of a text (and of its numbers): the words it uses as
/// names. "The Moon" names the Moon; "the largest moon of Saturn" does not.
pub fn name_terms(text: &str) -> BTreeSet<String> {
    let capitalised: Vec<&str> = text
        .split_whitespace()
        .filter(|w| {
            w.trim_start_matches(|c: char| !c.is_alphanumeric())
                .chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
        })
        .collect();
    term_set(&capitalised.join(" "))
}

/// Collapse runs of whitespace into one space and trim.
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Turn a question into a statement for the judge: drop the question word(s) and the
/// question mark ("Has the plan cut costs?" → "The plan cut costs").
pub fn question_to_statement(q: &str) -> String {
    let q = squash(q);
    let q = q.trim_end_matches(['?', '.', '!']).trim();
    let mut words: Vec<&str> = q.split(' ').collect();
    while words.len() > 2 {
        let first = words[0].to_lowercase();
        if QUESTION_LEADS.contains(&first.as_str()) || first == "many" || first == "much" {
            words.remove(0);
        } else {
            break;
        }
    }
    let s = words.join(" ");
    upper_first(&s)
}

pub fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Month names and their abbreviations, as a regex alternation (longer forms first
/// where one is a prefix of another: "Sept" before "Sep").
pub(crate) const MONTHS: &str = "January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec";

/// Weekday names, lower case.
const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The number (1–12) of a month name or its abbreviation, any case ("Sept" → 9).
pub(crate) fn month_number(name: &str) -> Option<u32> {
    let key: String = name.to_lowercase().chars().take(3).collect();
    if key.chars().count() < 3 {
        return None;
    }
    MONTHS
        .split('|')
        .take(12)
        .position(|m| m.to_lowercase().starts_with(&key))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// Whether a word is a month or weekday name (or a month's abbreviation), any case.
pub(crate) fn is_calendar_word(w: &str) -> bool {
    let l = w.to_lowercase();
    let l = l.trim_end_matches('.');
    MONTHS.split('|').any(|m| m.to_lowercase() == l) || WEEKDAYS.contains(&l)
}

static DATE_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(&format!(
        r"\b(?:\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}} (?:{m}) \d{{4}}|(?:{m}) \d{{1,2}}, \d{{4}}|(?:{m}) \d{{4}}|(?:19|20)\d{{2}})\b",
        m = MONTHS
    ))
    .expect("static date regex is valid")
});

static FIGURE_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)(?:[$€£]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:million|billion|thousand|bn|m|k)\b)?|\b\d[\d,]*(?:\.\d+)?\s?(?:%|per ?cent\b|percent\b|parts per billion\b|ppb\b|million\b|billion\b|thousand\b)|\b\d{1,3}(?:,\d{3})+\b|\b\d+(?:\.\d+)?\b)",
    )
    .expect("static figure regex is valid")
});

/// Dates named in a text ("11 April 2023", "March 2024", "2023").
pub fn dates(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in DATE_RE.find_iter(text) {
        let s = m.as_str().to_string();
        // A bare year inside a longer date already found adds nothing.
        if out.iter().any(|d| d.contains(&s)) {
            continue;
        }
        out.retain(|d| !s.contains(d.as_str()));
        out.push(s);
    }
    out
}

/// Figures named in a text ("$22 million", "40 per cent", "1,200"), years and day
/// numbers of dates left out.
pub fn figures(text: &str) -> Vec<String> {
    let date_spans: Vec<(usize, usize)> = DATE_RE
        .find_iter(text)
        .map(|m| (m.start(), m.end()))
        .collect();
    let mut out: Vec<String> = Vec::new();
    for m in FIGURE_RE.find_iter(text) {
        let inside_date = date_spans
            .iter()
            .any(|(a, b)| m.start() >= *a && m.end() <= *b);
        if inside_date {
            continue;
        }
        let s = m.as_str().trim().to_string();
        // A lone small number without a unit ("2", "7") is rarely a figure worth a query.
        let bare = s.chars().all(|c| c.is_ascii_digit());
        if bare && s.len() < 3 {
            continue;
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// Whether a text holds a figure (a number that is not just a year or a day of a date).
pub fn has_figure(text: &str) -> bool {
    !figures(text).is_empty()
}

/// The number inside a figure, normalised ("$22 million" → "22", "1,200" → "1200").
pub fn figure_number(fig: &str) -> Option<String> {
    let digits: String = fig
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == '.')
        .filter(|c| *c != ',')
        .collect();
    let d = digits.trim_end_matches('.').to_string();
    (!d.is_empty()).then_some(d)
}

/// Capitalised spans: runs of capitalised words (or acronyms), joined by a few
/// connectors, with leading articles and possessives removed. The first word of the text
/// counts only when it is not a function or question word.
pub fn entities(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out: Vec<String> = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut pending_connector: Option<&str> = None;
    let flush = |cur: &mut Vec<String>, out: &mut Vec<String>| {
        if !cur.is_empty() {
            let s = cur.join(" ");
            if !out.contains(&s) {
                out.push(s);
            }
            cur.clear();
        }
    };
    for (i, raw) in words.iter().enumerate() {
        let (core, ends_clause) = clean_word(raw);
        let capital = core.chars().next().is_some_and(|c| c.is_uppercase())
            && core.chars().any(|c| c.is_alphabetic());
        let lower = core.to_lowercase();
        let sentence_start =
            i == 0 || words[i - 1].ends_with(['.', '?', '!', ':']) || words[i - 1].ends_with(".\"");
        let skip_start =
            sentence_start && (is_stopword(&lower) || QUESTION_LEADS.contains(&lower.as_str()));
        if capital && !skip_start && !core.is_empty() {
            if let Some(c) = pending_connector.take() {
                if !cur.is_empty() {
                    cur.push(c.to_string());
                }
            }
            cur.push(core.clone());
        } else if !cur.is_empty()
            && NAME_CONNECTORS.contains(&lower.as_str())
            && pending_connector.is_none()
            && !ends_clause
        {
            pending_connector = Some(raw);
            continue;
        } else {
            pending_connector = None;
            flush(&mut cur, &mut out);
        }
        if ends_clause {
            pending_connector = None;
            flush(&mut cur, &mut out);
        }
    }
    flush(&mut cur, &mut out);
    // A span that is just a month or a weekday is a date, not a name.
    out.retain(|e| !is_calendar_word(e));
    out
}

/// A word without surrounding punctuation and possessive; and whether punctuation after
/// it ends a clause.
fn clean_word(raw: &str) -> (String, bool) {
    let ends_clause = raw.ends_with([',', '.', ';', ':', '?', '!', ')', '"', '\'']);
    let w = raw.trim_matches(|c: char| !c.is_alphanumeric());
    let w = w
        .strip_suffix("'s")
        .or_else(|| w.strip_suffix("’s"))
        .unwrap_or(w);
    (w.to_string(), ends_clause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_stem_and_normalise_numbers() {
        let t = terms("The council's 1,200 lines were replaced for $22 million.");
        assert!(t.contains(&"council".to_string()));
        assert!(t.contains(&"1200".to_string()));
        assert!(t.contains(&"22".to_string()));
        assert!(t.contains(&"replac".to_string()));
        assert!(!t.contains(&"the".to_string()));
    }

    #[test]
    fn questions_become_statements() {
        assert_eq!(
            question_to_statement("Has the Dunmore ferry cut its fares?"),
            "The Dunmore ferry cut its fares"
        );
        assert_eq!(
            question_to_statement("How many boats sail from Kellbridge?"),
            "Boats sail from Kellbridge"
        );
    }

    #[test]
    fn entities_are_capitalised_spans() {
        let e = entities(
            "Did the Harlow Water Board and the University of Kellbridge agree on the Dunmore weir plan?",
        );
        assert_eq!(
            e,
            vec!["Harlow Water Board", "University of Kellbridge", "Dunmore"]
        );
        let e = entities("Eastfold's council approved it in May 2021.");
        assert_eq!(e, vec!["Eastfold"]);
    }

    #[test]
    fn dates_and_figures_are_told_apart() {
        let text = "On 11 April 2023 the board approved $22 million, 40 per cent more than in March 2021, for 1,200 pipes.";
        assert_eq!(dates(text), vec!["11 April 2023", "March 2021"]);
        assert_eq!(figures(text), vec!["$22 million", "40 per cent", "1,200"]);
        assert_eq!(figure_number("$22 million").as_deref(), Some("22"));
        assert_eq!(figure_number("1,200").as_deref(), Some("1200"));
        assert!(!has_figure("It opened in 2021."));
    }
}
