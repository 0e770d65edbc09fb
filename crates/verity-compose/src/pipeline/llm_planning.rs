//! Stage 1b (optional, `--llm-claims`), the language model helps with a claim: it splits
//! the claim into the facts it states and proposes search queries for the second
//! retrieval pass. Verity validates both before using either, and records everything the
//! model proposed, used or not, in [`PlannerAudit`]:
//!
//! - the parts are used only when every one is checkable: a statement (not a question)
//!   that names its subject, says nothing the claim does not (no figure, date or name
//!   of its own, its words mostly the claim's), and together they cover the claim;
//!   otherwise Verity's own split stands, and the audit says why;
//! - a query is run when it is a few words long and shares a term with the claim; at
//!   most [`MAX_QUERIES`] run.
//!
//! The model decides nothing: the parts are judged against the evidence as Verity's own
//! parts are, and the verdict is Verity's.

use std::collections::BTreeSet;

use verity_llm::{ChatModel, Message};
use verity_types::{PlannerAudit, ProposedQuery};

use crate::error::ComposeError;
use crate::pipeline::llm_writing::{ask, quote};
use crate::text;

/// Version of `prompts/claim-help.txt`; recorded in every brief it helps with.
pub(crate) const PROMPT_VERSION: &str = "claims-v1";

const SYSTEM: &str = include_str!("../../prompts/claim-help.txt");

/// Most parts a claim is split into (as Verity's own splitter).
const MAX_PARTS: usize = 4;
/// Most proposed queries run.
pub(crate) const MAX_QUERIES: usize = 3;
/// Words a query may have.
const QUERY_WORDS: std::ops::RangeInclusive<usize> = 2..=12;
/// Words a part may have.
const PART_WORDS: std::ops::RangeInclusive<usize> = 3..=40;
/// Share of a part's terms that must be the claim's.
const PART_OWN_TERMS: f32 = 0.6;
/// Share of the claim's terms the parts together must cover.
const CLAIM_COVERED: f32 = 0.75;

/// Openers that leave a part's subject unnamed.
const PRONOUNS: &[&str] = &[
    "it", "its", "they", "their", "he", "she", "his", "her", "this", "these", "that", "those",
];

/// Asks `chat` for parts and queries for `claim` and validates them. The audit is all
/// the later stages need: the parts to judge are `parts_proposed` when `parts_used`, the
/// queries to run are [`PlannerAudit::queries_run`]; the second pass fills in each query's
/// hits and added passages.
pub(crate) fn propose(chat: &dyn ChatModel, claim: &str) -> Result<PlannerAudit, ComposeError> {
    let messages = [
        Message::system(SYSTEM.trim_end()),
        Message::user(format!("<claim>{}</claim>", quote(claim))),
    ];
    let reply = ask(chat, &messages)?;
    let (parts, queries) = parse(&reply.content);
    let refused = check_parts(claim, &parts).err();
    Ok(PlannerAudit {
        model: chat.name().to_string(),
        endpoint: chat.endpoint().to_string(),
        prompt_version: PROMPT_VERSION.to_string(),
        latency_ms: reply.elapsed.as_millis() as u64,
        prompt_tokens: reply.prompt_tokens,
        completion_tokens: reply.completion_tokens,
        parts_proposed: parts,
        parts_used: refused.is_none(),
        parts_refused: refused,
        queries: check_queries(claim, &queries),
    })
}

/// Which list of the answer a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum List {
    Parts,
    Queries,
}

/// The lines under `PARTS:` and under `QUERIES:`, list marks and quotes taken off; text
/// under no heading is ignored.
fn parse(answer: &str) -> (Vec<String>, Vec<String>) {
    let (mut parts, mut queries) = (Vec::new(), Vec::new());
    let mut under: Option<List> = None;
    for raw in answer.lines() {
        let line = raw.trim().trim_matches(['*', '#', '_']).trim();
        let body = match heading(line) {
            Some((list, rest)) => {
                under = Some(list);
                rest
            }
            None => line,
        };
        let item = clean_item(body);
        match under {
            _ if item.is_empty() => {}
            Some(List::Parts) => parts.push(item),
            Some(List::Queries) => queries.push(item),
            None => {}
        }
    }
    (parts, queries)
}

/// `PARTS:` or `QUERIES:` opening a line, with what follows it on that line.
fn heading(line: &str) -> Option<(List, &str)> {
    let (head, rest) = line.split_once(':')?;
    match head.trim().to_lowercase().as_str() {
        "parts" => Some((List::Parts, rest)),
        "queries" => Some((List::Queries, rest)),
        _ => None,
    }
}

/// A list line without its mark ("1.", "-", "•") and quotes.
fn clean_item(line: &str) -> String {
    let t = line.trim();
    let t = t.trim_start_matches(['-', '*', '•']).trim_start();
    let digits = t.chars().take_while(char::is_ascii_digit).count();
    let t = if digits > 0 && digits <= 2 && t[digits..].starts_with(['.', ')']) {
        &t[digits + 1..]
    } else {
        t
    };
    text::squash(t.trim().trim_matches(['"', '“', '”', '\'']))
}

/// Whether every part is checkable and together they cover the claim; else why not.
fn check_parts(claim: &str, parts: &[String]) -> Result<(), String> {
    if parts.len() < 2 {
        return Err("the model found one statement in the claim".into());
    }
    if parts.len() > MAX_PARTS {
        return Err(format!(
            "the model proposed {} parts; at most {MAX_PARTS} are judged",
            parts.len()
        ));
    }
    let claim_terms = text::term_set(claim);
    let mut covered: BTreeSet<String> = BTreeSet::new();
    let mut seen: Vec<BTreeSet<String>> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let n = i + 1;
        let terms =
            checkable(claim, &claim_terms, part).map_err(|why| format!("part {n} {why}"))?;
        if seen.contains(&terms) {
            return Err(format!("part {n} repeats an earlier part"));
        }
        covered.extend(terms.intersection(&claim_terms).cloned());
        seen.push(terms);
    }
    let share = covered.len() as f32 / claim_terms.len().max(1) as f32;
    if share < CLAIM_COVERED {
        return Err(format!(
            "the parts leave out part of the claim (they cover {:.0}% of its terms)",
            share * 100.0
        ));
    }
    Ok(())
}

/// A part's terms when it is checkable on its own; else why it is not.
fn checkable(
    claim: &str,
    claim_terms: &BTreeSet<String>,
    part: &str,
) -> Result<BTreeSet<String>, String> {
    let words = part.split_whitespace().count();
    if !PART_WORDS.contains(&words) {
        return Err(format!("has {words} words"));
    }
    if part.contains('?') {
        return Err("is a question".into());
    }
    let first = part
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    if PRONOUNS.contains(&first.as_str()) {
        return Err("does not name its subject".into());
    }
    let claim_lower = claim.to_lowercase();
    let new_value = text::figures(part)
        .into_iter()
        .chain(text::dates(part))
        .find(|v| !claim_lower.contains(&v.to_lowercase()));
    if let Some(v) = new_value {
        return Err(format!("states a value the claim does not ({v})"));
    }
    if let Some(name) = text::name_terms(part)
        .into_iter()
        .find(|t| !claim_terms.contains(t))
    {
        return Err(format!("names what the claim does not ({name})"));
    }
    let terms = text::term_set(part);
    if terms.len() < 2 {
        return Err("says too little to check".into());
    }
    let own = terms.intersection(claim_terms).count() as f32 / terms.len() as f32;
    if own < PART_OWN_TERMS {
        return Err("is not in the claim's words".into());
    }
    Ok(terms)
}

/// Every proposed query with whether it runs: a few words, sharing a term with the claim,
/// not a repeat; the first [`MAX_QUERIES`] that pass run.
fn check_queries(claim: &str, queries: &[String]) -> Vec<ProposedQuery> {
    let claim_terms = text::term_set(claim);
    let mut run: Vec<BTreeSet<String>> = vec![claim_terms.clone()];
    queries
        .iter()
        .map(|q| {
            let terms = text::term_set(q);
            let words = q.split_whitespace().count();
            let refused = if !QUERY_WORDS.contains(&words) {
                Some(format!("has {words} words"))
            } else if terms.is_disjoint(&claim_terms) {
                Some("shares no term with the claim".into())
            } else if run.contains(&terms) {
                Some("repeats the claim or an earlier query".into())
            } else if run.len() > MAX_QUERIES {
                Some(format!("only {MAX_QUERIES} queries are run"))
            } else {
                run.push(terms);
                None
            };
            ProposedQuery {
                query: q.clone(),
                run: refused.is_none(),
                refused,
                hits: 0,
                added: 0,
            }
        })
        .collect()
}

/// The note a brief carries when the model helped with its claim.
pub(crate) fn note(a: &PlannerAudit) -> String {
    let parts = if a.parts_used {
        format!(
            "split the claim into {} parts, which were judged one by one",
            a.parts_proposed.len()
        )
    } else {
        format!(
            "proposed {} claim parts, not used ({})",
            a.parts_proposed.len(),
            a.parts_refused.as_deref().unwrap_or("refused")
        )
    };
    let run: Vec<&ProposedQuery> = a.queries.iter().filter(|q| q.run).collect();
    let listed: Vec<String> = run
        .iter()
        .map(|q| format!("\"{}\" ({} found, {} added)", q.query, q.hits, q.added))
        .collect();
    let queries = if listed.is_empty() {
        format!("proposed {} search queries, none run", a.queries.len())
    } else {
        format!(
            "proposed {} search queries, {} run in the second pass: {}",
            a.queries.len(),
            run.len(),
            listed.join("; ")
        )
    };
    format!(
        "The language model `{}` helped plan this check: it {parts}; it {queries}. What it proposed was validated before use, and the verdict is Verity's own.",
        a.model
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLAIM: &str = "Kellbridge was founded in 1850 and is the largest town of Marrow County.";

    fn strings(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_answer_is_read_under_its_headings() {
        let (parts, queries) = parse(
            "Sure.\n**PARTS:**\n1. Kellbridge was founded in 1850.\n- \"Kellbridge is the largest town of Marrow County.\"\nQUERIES: Kellbridge founding year\n• largest town Marrow County\n",
        );
        assert_eq!(
            parts,
            strings(&[
                "Kellbridge was founded in 1850.",
                "Kellbridge is the largest town of Marrow County."
            ])
        );
        assert_eq!(
            queries,
            strings(&["Kellbridge founding year", "largest town Marrow County"])
        );
    }

    #[test]
    fn checkable_parts_that_cover_the_claim_are_used() {
        let parts = strings(&[
            "Kellbridge was founded in 1850.",
            "Kellbridge is the largest town of Marrow County.",
        ]);
        assert_eq!(check_parts(CLAIM, &parts), Ok(()));
    }

    #[test]
    fn a_part_that_is_not_checkable_sends_the_whole_split_back() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["Kellbridge was founded in 1850 and is the largest town of Marrow County."],
                "one statement",
            ),
            (
                &[
                    "Kellbridge was founded in 1851.",
                    "Kellbridge is the largest town of Marrow County.",
                ],
                "value the claim does not (1851)",
            ),
            (
                &[
                    "Kellbridge was founded in 1850.",
                    "It is the largest town of Marrow County.",
                ],
                "part 2 does not name its subject",
            ),
            (
                &[
                    "Kellbridge was founded in 1850.",
                    "Kellbridge is the largest town of Dunmere County.",
                ],
                "names what the claim does not",
            ),
            (
                &[
                    "Kellbridge was founded in 1850.",
                    "Was Kellbridge the largest town of Marrow County?",
                ],
                "part 2 is a question",
            ),
            (
                &[
                    "Kellbridge was founded in 1850.",
                    "Kellbridge was founded in 1850.",
                ],
                "part 2 repeats",
            ),
            (
                &[
                    "Kellbridge was founded in 1850.",
                    "Kellbridge has fine weather.",
                ],
                "part 2 is not in the claim's words",
            ),
            (
                &["Kellbridge was founded in 1850.", "Kellbridge is a town."],
                "leave out part of the claim",
            ),
        ];
        for (parts, why) in cases {
            let err = check_parts(CLAIM, &strings(parts)).unwrap_err();
            assert!(err.contains(why), "{parts:?}: {err}");
        }
    }

    #[test]
    fn queries_run_when_short_on_topic_and_new() {
        let got = check_queries(
            CLAIM,
            &strings(&[
                "Kellbridge founding year",
                "weather",
                "cheap flights to anywhere now",
                "Kellbridge founding year",
                "largest town Marrow County",
                "Marrow County towns by population",
                "Kellbridge history",
            ]),
        );
        assert_eq!(
            verity_types::proposed_queries_run(&got),
            vec![
                "Kellbridge founding year",
                "largest town Marrow County",
                "Marrow County towns by population"
            ]
        );
        let why = |i: usize| got[i].refused.clone().unwrap();
        assert!(why(1).contains("1 words"), "{}", why(1));
        assert!(why(2).contains("no term"), "{}", why(2));
        assert!(why(3).contains("repeats"), "{}", why(3));
        assert!(why(6).contains("only 3"), "{}", why(6));
    }
}
