//! Reading the model's answer, strictly: a line is a heading of the format (`SUMMARY:`,
//! `FINDING n:`, `QUESTIONS:`) or text under one; each text line is split into sentences
//! by Verity's own splitter, and each sentence's `[n]` markers become its citations.
//! Nothing is guessed: text under no heading is kept as such, to be refused.

use once_cell::sync::Lazy;
use regex::Regex;

/// Where a written sentence belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Section {
    Summary,
    /// By the finding's number in the brief.
    Finding(usize),
    Questions,
}

/// One sentence the model wrote.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Written {
    /// `None`: outside every heading.
    pub section: Option<Section>,
    /// Without its citation markers.
    pub text: String,
    /// Passage numbers it cites, as written (unchecked).
    pub cites: Vec<usize>,
}

static HEADING: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^[#*_\s]*(summary|executive summary|finding\s*(\d+)(?:\s*\([^)]{0,160}\))?|(?:follow[- ]?up\s+)?questions)[*_\s]*(?::|$)[*_\s]*(.*)$",
    )
    .expect("valid regex")
});
/// A citation marker, `[3]`, `[2, 5]` or `[2-4]`, with the numbers as group 1.
const MARKER_PATTERN: &str = r"\[\s*(\d{1,4}(?:\s*[-–,;]\s*\d{1,4})*)\s*\]";
static MARKER: Lazy<Regex> = Lazy::new(|| Regex::new(MARKER_PATTERN).expect("valid regex"));
/// Markers opening a piece (the splitter puts "Sentence. [1]"'s marker there).
static LEADING_MARKERS: Lazy<Regex> =
    Lazy::new(|| Regex::new(&format!(r"^\s*(?:{MARKER_PATTERN}\s*)+")).expect("valid regex"));
static LIST_MARK: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^(?:[-*•]\s+|\d{1,2}[.)]\s+)").expect("valid regex"));
static SPACE_BEFORE_PUNCT: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"\s+([.,;:?!])").expect("valid regex"));

/// The sentences of an answer, in order.
pub(crate) fn parse(answer: &str) -> Vec<Written> {
    let mut out: Vec<Written> = Vec::new();
    let mut section: Option<Section> = None;
    for raw in answer.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with("```") {
            continue;
        }
        let text = match HEADING.captures(line) {
            Some(c) => {
                section = Some(heading(&c));
                c.get(3).map_or("", |m| m.as_str()).to_string()
            }
            None => line.to_string(),
        };
        let text = LIST_MARK.replace(text.trim(), "").to_string();
        sentences_into(&mut out, section, &text);
    }
    out
}

fn heading(c: &regex::Captures<'_>) -> Section {
    let word = c.get(1).map_or("", |m| m.as_str()).to_lowercase();
    if let Some(n) = c.get(2).and_then(|m| m.as_str().parse().ok()) {
        Section::Finding(n)
    } else if word.contains("summary") {
        Section::Summary
    } else {
        Section::Questions
    }
}

/// Splits `text` with Verity's sentence splitter; markers after a sentence's full stop
/// ("The weir held. [1] It cost $4 million. [2]") belong to the sentence before them,
/// though the splitter puts them at the start of the next piece, or in a piece of their own.
fn sentences_into(out: &mut Vec<Written>, section: Option<Section>, text: &str) {
    let first_here = out.len();
    for span in verity_text::sentence_spans(text) {
        let mut piece = &text[span];
        let lead = LEADING_MARKERS.find(piece).map_or(0, |m| m.end());
        if lead > 0 && out.len() > first_here {
            if let Some(prev) = out.last_mut() {
                add_cites(prev, cites(&piece[..lead]));
            }
            piece = &piece[lead..];
        }
        let cites = cites(piece);
        let clean = strip_markers(piece);
        if !clean.chars().any(char::is_alphanumeric) {
            if out.len() > first_here {
                if let Some(prev) = out.last_mut() {
                    add_cites(prev, cites);
                }
            }
            continue;
        }
        out.push(Written {
            section,
            text: clean,
            cites,
        });
    }
}

/// Adds citations a sentence does not have yet, in order.
fn add_cites(w: &mut Written, more: Vec<usize>) {
    for k in more {
        if !w.cites.contains(&k) {
            w.cites.push(k);
        }
    }
}

/// Most passages one range marker (`[2-4]`) may name.
const MAX_RANGE: usize = 20;

fn cites(piece: &str) -> Vec<usize> {
    let mut ns: Vec<usize> = MARKER
        .captures_iter(piece)
        .filter_map(|c| c.get(1))
        .flat_map(|m| {
            m.as_str()
                .split([',', ';'])
                .flat_map(range)
                .collect::<Vec<_>>()
        })
        .collect();
    ns.dedup();
    ns
}

/// "3" → [3]; "2-4" → [2, 3, 4]; a reversed or huge range stays its two ends, so that a
/// number the model was not given is still seen and refused.
fn range(item: &str) -> Vec<usize> {
    let mut ends = item
        .split(['-', '–'])
        .filter_map(|n| n.trim().parse::<usize>().ok());
    match (ends.next(), ends.next()) {
        (Some(a), Some(b)) if a <= b && b - a < MAX_RANGE => (a..=b).collect(),
        (Some(a), Some(b)) => vec![a, b],
        (Some(a), None) => vec![a],
        _ => Vec::new(),
    }
}

fn strip_markers(piece: &str) -> String {
    let no_marks = MARKER.replace_all(piece, " ");
    let squashed = no_marks.split_whitespace().collect::<Vec<_>>().join(" ");
    SPACE_BEFORE_PUNCT
        .replace_all(&squashed, "$1")
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(section: Option<Section>, text: &str, cites: &[usize]) -> Written {
        Written {
            section,
            text: text.into(),
            cites: cites.to_vec(),
        }
    }

    #[test]
    fn the_format_is_read_into_sections_and_citations() {
        let answer = "SUMMARY:\nThe Marlow weir was rebuilt in 2021 [1]. It cost $4 million [2][3].\n\n\
                      **FINDING 2:**\n- Repairs closed the towpath [2, 3].\nFinding 1: The council voted twice [1].\n\
                      QUESTIONS:\n1. Who paid for the towpath? [2]\n";
        let got = parse(answer);
        assert_eq!(
            got,
            vec![
                w(
                    Some(Section::Summary),
                    "The Marlow weir was rebuilt in 2021.",
                    &[1]
                ),
                w(Some(Section::Summary), "It cost $4 million.", &[2, 3]),
                w(
                    Some(Section::Finding(2)),
                    "Repairs closed the towpath.",
                    &[2, 3]
                ),
                w(Some(Section::Finding(1)), "The council voted twice.", &[1]),
                w(Some(Section::Questions), "Who paid for the towpath?", &[2]),
            ]
        );
    }

    #[test]
    fn text_outside_the_format_is_kept_unsectioned_and_uncited_text_has_no_cites() {
        let got = parse("Sure! Here is the brief.\nSUMMARY:\nThe weir held. Nobody knows why [9].");
        assert_eq!(got[0], w(None, "Sure!", &[]));
        assert_eq!(got[1], w(None, "Here is the brief.", &[]));
        assert_eq!(got[2], w(Some(Section::Summary), "The weir held.", &[]));
        assert_eq!(got[3], w(Some(Section::Summary), "Nobody knows why.", &[9]));
    }

    #[test]
    fn a_finding_heading_may_carry_its_title_as_the_prompt_lists_it() {
        let got = parse("FINDING 1 (What supports the claim): The board cut sailings [2].");
        assert_eq!(
            got,
            vec![w(
                Some(Section::Finding(1)),
                "The board cut sailings.",
                &[2]
            )]
        );
    }

    #[test]
    fn a_summary_sentence_is_not_a_heading() {
        let got = parse("SUMMARY:\nSummary figures show 40 closures [1].");
        assert_eq!(
            got,
            vec![w(
                Some(Section::Summary),
                "Summary figures show 40 closures.",
                &[1]
            )]
        );
    }

    #[test]
    fn ranges_cite_every_passage_in_them() {
        let got = parse("SUMMARY:\nThe board cut sailings [2-4]. Fares rose [9–10; 1]. Odd [5-2].");
        assert_eq!(got[0].cites, vec![2, 3, 4]);
        assert_eq!(got[1].cites, vec![9, 10, 1]);
        assert_eq!(got[2].cites, vec![5, 2]);
    }

    #[test]
    fn markers_after_a_full_stop_belong_to_the_sentence_before_them() {
        let got = parse(
            "SUMMARY:\nThe weir held in 2021. [3] It cost $4 million. [3][4]\n[2] Odd start.",
        );
        assert_eq!(
            got,
            vec![
                w(Some(Section::Summary), "The weir held in 2021.", &[3]),
                w(Some(Section::Summary), "It cost $4 million.", &[3, 4]),
                w(Some(Section::Summary), "Odd start.", &[2]),
            ]
        );
    }

    #[test]
    fn empty_or_marker_only_answers_give_nothing() {
        assert!(parse("").is_empty());
        assert!(parse("SUMMARY:\n[1]\nQUESTIONS:").is_empty());
    }
}
