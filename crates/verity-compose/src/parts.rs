//! Claims with several parts: "Kellbridge was founded in 1850 and is the largest town of
//! Marrow County" states two things that can each be true or false, so each part is
//! checked on its own. Splitting is deliberately conservative: noun-phrase coordinations
//! ("salt and pepper", "between 1850 and 1870") are never split, because a wrong split
//! produces a part the claim never made.

use std::collections::{BTreeSet, HashMap};

use verity_judge::StanceModel;
use verity_types::{ClaimPart, SourceId, StanceScores, Verdict};

use crate::compose::{Composer, Pick};
use crate::error::ComposeError;
use crate::gather::{Cand, Sent};
use crate::judge::{self, Aggregate, EvidenceItem, Idf};
use crate::text;

use once_cell::sync::Lazy;
use regex::Regex;

/// Most parts a claim is split into; the rest stays in the last part.
const MAX_PARTS: usize = 4;

/// Auxiliaries, modals and copulas: a right-hand side starting with one has no subject.
const AUX: &[&str] = &[
    "is", "are", "was", "were", "has", "have", "had", "can", "could", "will", "would", "does",
    "did", "do", "may", "might", "must", "should", "shall",
];

/// Auxiliaries that form a passive or perfect ("was built", "has grown") and so carry over
/// to a bare participle ("… and renamed in 1920" → "… was renamed in 1920").
const CARRIED_AUX: &[&str] = &["is", "are", "was", "were", "has", "have", "had"];

/// Common verbs that do not look like verbs by their ending.
const KNOWN_VERBS: &[&str] = &[
    "remains", "remained", "became", "becomes", "lies", "lay", "sits", "sat", "stands", "stood",
    "runs", "ran", "flows", "holds", "held", "contains", "includes", "serves", "won", "wins",
    "made", "makes", "built", "builds", "grew", "grows", "went", "goes", "came", "comes", "took",
    "takes", "gave", "gives", "left", "leaves", "lost", "loses", "began", "begins", "borders",
    "hosts", "sold", "sells", "rose", "fell", "wrote", "writes", "owns", "employs", "produces",
    "exports", "imports", "covers", "spans", "has", "became",
];

/// Participles without an -ed ending.
const PARTICIPLES: &[&str] = &[
    "built", "made", "known", "sold", "held", "won", "given", "taken", "written", "seen", "done",
    "born", "grown", "begun", "become", "shown", "led", "kept", "left", "found",
];

/// Words ending in -ed that are not verbs.
const ED_NOT_VERBS: &[&str] = &[
    "hundred", "kindred", "sacred", "naked", "wicked", "beloved", "aged", "talented", "red", "bed",
    "need", "speed", "seed", "feed", "shed", "indeed",
];

/// Words ending in -s that are not verbs.
const S_NOT_VERBS: &[&str] = &[
    "this",
    "its",
    "his",
    "hers",
    "yes",
    "always",
    "perhaps",
    "whereas",
    "series",
    "species",
    "news",
    "means",
    "unless",
    "towards",
    "afterwards",
    "besides",
    "plus",
    "was",
    "has",
    "does",
    "is",
    "ours",
    "yours",
    "theirs",
    "sometimes",
    "times",
    "years",
    "days",
];

/// Words after which the next word is a noun, not a verb.
const DETERMINERS: &[&str] = &[
    "the", "a", "an", "its", "his", "her", "their", "this", "these", "those", "our", "my", "your",
    "every", "each", "some", "many", "several", "both", "all", "no", "two", "three", "four",
    "five", "of", "in", "on", "at", "by", "for", "with", "from", "to",
];

/// Words that open an object: after one, a participle is a past tense ("joined the league").
const OBJECT_STARTS: &[&str] = &[
    "the", "a", "an", "its", "his", "her", "their", "this", "these", "those", "our", "my",
];

/// Prepositions; a subject does not start with one and an -s verb is not followed by one.
const PREPS: &[&str] = &[
    "in", "on", "at", "near", "from", "to", "into", "by", "since", "until", "during", "after",
    "before", "of", "for", "with", "between", "across", "along", "under", "over",
];

/// Adverbs that may stand between the conjunction and the verb ("and later renamed").
const ADVERBS: &[&str] = &[
    "also",
    "still",
    "now",
    "later",
    "then",
    "once",
    "currently",
    "formerly",
    "since",
    "eventually",
    "today",
    "originally",
    "subsequently",
];

const PRONOUNS: &[&str] = &["it", "he", "she", "they"];

/// Where a claim may be split: "; ", ", and ", " and ", ", but ", " but ", ", while ",
/// " whereas " and a plain ", " (the last only before a verb phrase).
static SEP_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r";\s+|,\s+(?:and|but|while|whereas)\s+|\s+(?:and|but|while|whereas)\s+|,\s+")
        .expect("valid regex")
});

/// A word without surrounding punctuation, lower-cased.
fn clean(w: &str) -> String {
    w.trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}

fn is_capitalised(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_uppercase)
}

fn letters_only(w: &str) -> bool {
    !w.is_empty() && w.chars().all(|c| c.is_alphabetic() || c == '-')
}

/// Whether a word looks like a verb by its ending (-ed, -s), given the words around it.
pub(crate) fn verb_shaped(word: &str, next: Option<&str>) -> bool {
    if is_capitalised(word) {
        return false;
    }
    let w = clean(word);
    if !letters_only(&w) || next.is_some_and(|n| AUX.contains(&clean(n).as_str())) {
        return false;
    }
    let ed = w.len() > 4 && w.ends_with("ed") && !ED_NOT_VERBS.contains(&w.as_str());
    let s = w.len() >= 4
        && w.ends_with('s')
        && !["ss", "us", "is", "ous", "ics"]
            .iter()
            .any(|e| w.ends_with(e))
        && !S_NOT_VERBS.contains(&w.as_str());
    ed || s
}

fn is_participle(w: &str) -> bool {
    let w = clean(w);
    PARTICIPLES.contains(&w.as_str())
        || (w.len() > 4 && w.ends_with("ed") && !ED_NOT_VERBS.contains(&w.as_str()))
}

/// Index of the first verb of a clause (never its first word), if it has one. A participle
/// right after a comma is an aside ("Kellbridge, founded in 1850, …"), not the verb.
fn first_verb(words: &[&str]) -> Option<usize> {
    (1..words.len()).find(|&i| {
        let w = clean(words[i]);
        let prev = words[i - 1];
        if AUX.contains(&w.as_str()) {
            return true;
        }
        let aside = prev.ends_with(',') && is_participle(words[i]);
        let after_det = DETERMINERS.contains(&clean(prev).as_str());
        if aside || after_det || is_capitalised(words[i]) || in_prep_phrase(words, i) {
            return false;
        }
        let next = words.get(i + 1).copied();
        KNOWN_VERBS.contains(&w.as_str())
            || verb_shaped(words[i], next)
            || base_form(prev, &w, next)
    })
}

/// Whether the word at `i` closes a short phrase opened by a preposition ("movement *of*
/// spiritual practices"): a noun, not the clause's verb. Only guessed verbs are at stake;
/// auxiliaries and known verbs are found before this is asked.
fn in_prep_phrase(words: &[&str], i: usize) -> bool {
    let prep = |k: usize| PREPS.contains(&clean(words[k]).as_str());
    let open_word = |k: usize| !words[k].ends_with([',', ';', ':']) && !is_capitalised(words[k]);
    prep(i - 1) || (i >= 2 && prep(i - 2) && open_word(i - 1))
}

/// A plain verb after a plural or pronoun subject ("Vaccines cause autism").
fn base_form(prev: &str, w: &str, next: Option<&str>) -> bool {
    let p = clean(prev);
    let plural = p.len() > 3
        && p.ends_with('s')
        && !["ss", "us", "is"].iter().any(|e| p.ends_with(e))
        && !S_NOT_VERBS.contains(&p.as_str());
    let subject = plural || ["they", "we", "you", "i"].contains(&p.as_str());
    let function = DETERMINERS.contains(&w)
        || PREPS.contains(&w)
        || ADVERBS.contains(&w)
        || ["and", "or", "but", "than", "that", "which", "who"].contains(&w);
    subject && next.is_some() && letters_only(w) && w.len() >= 3 && !w.ends_with("ly") && !function
}

/// The subject of a clause: its words before the first verb, asides and fronted phrases
/// ("In 1850, …") left out.
fn subject_of(clause: &str) -> Option<String> {
    let words: Vec<&str> = clause.split_whitespace().collect();
    let v = first_verb(&words)?;
    let head = words[..v].join(" ");
    head.split(',')
        .map(str::trim)
        .find(|seg| {
            let first = seg.split_whitespace().next().map(clean).unwrap_or_default();
            !seg.is_empty() && !PREPS.contains(&first.as_str()) && !is_participle(&first)
        })
        .map(str::to_string)
}

/// Skips adverbs at the start of a right-hand side.
fn skip_adverbs(words: &[&str]) -> usize {
    words
        .iter()
        .take_while(|w| ADVERBS.contains(&clean(w).as_str()))
        .count()
}

/// Whether the right-hand side starts with a verb phrase ("is the largest town").
fn starts_with_verb(right: &[&str], left_last: &str) -> bool {
    let k = skip_adverbs(right);
    let Some(first) = right.get(k) else {
        return false;
    };
    let w = clean(first);
    if is_capitalised(first) {
        return false;
    }
    if AUX.contains(&w.as_str()) || KNOWN_VERBS.contains(&w.as_str()) {
        return true;
    }
    let next = right.get(k + 1).copied();
    if next.is_none() || !verb_shaped(first, next) {
        return false;
    }
    if w.ends_with("ed") {
        return true;
    }
    // An -s word after a plural ("parks and gardens near …") or before a preposition
    // ("offices in …") is a noun.
    let plural_left = clean(left_last).ends_with('s');
    let prep_next = next.is_some_and(|n| PREPS.contains(&clean(n).as_str()));
    !plural_left && !prep_next
}

/// Whether the right-hand side is a clause with its own subject ("Port Vellan is small").
/// After "but", "while", "whereas" or ";" a clause is expected, so any verb will do;
/// after "and" the subject must be a name, a pronoun or "the" and one noun.
fn is_full_clause(right: &[&str], clausal_sep: bool) -> bool {
    let Some(v) = first_verb(right) else {
        return false;
    };
    let w = clean(right[v]);
    let prev = right[v - 1];
    let sure = AUX.contains(&w.as_str()) || KNOWN_VERBS.contains(&w.as_str());
    let prep_next = right
        .get(v + 1)
        .is_some_and(|n| PREPS.contains(&clean(n).as_str()));
    let det_noun = v == 2
        && OBJECT_STARTS.contains(&clean(right[0]).as_str())
        && !(w.ends_with('s') && prep_next);
    let named = is_capitalised(prev) || PRONOUNS.contains(&clean(prev).as_str()) || det_noun;
    let subject_ok = right[..v].iter().all(|s| {
        let s = clean(s);
        !PREPS.contains(&s.as_str()) || s == "of"
    });
    v <= 6
        && (sure || named || clausal_sep)
        && subject_ok
        && !right[0].chars().all(|c| c.is_ascii_digit())
}

/// How the text after a separator joins the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    /// Not a split point.
    Keep,
    /// A verb phrase: the left side's subject is repeated.
    VerbPhrase,
    /// A clause with its own subject.
    Clause,
}

/// Noun-phrase coordinations that an "and" must not break: "both … and", "between … and".
fn pairs_open(left: &str) -> bool {
    let words: Vec<String> = left.split_whitespace().map(clean).collect();
    ["both", "between"].iter().any(|p| {
        words
            .iter()
            .rposition(|w| w == p)
            .is_some_and(|i| !words[i..].iter().any(|w| w == "and"))
    })
}

/// Whether to split between `left` (the part so far) and `right` at separator `sep`.
fn join_kind(left: &str, sep: &str, right: &str) -> Join {
    let lower = left.to_lowercase();
    let relative = [", which", ", who", ", whose", ", where"]
        .iter()
        .any(|r| lower.contains(r));
    let left_words: Vec<&str> = left.split_whitespace().collect();
    let right_words: Vec<&str> = right.split_whitespace().collect();
    let is_and = sep.contains("and");
    if relative || (is_and && pairs_open(left)) || first_verb(&left_words).is_none() {
        return Join::Keep;
    }
    let left_last = left_words.last().copied().unwrap_or_default();
    if starts_with_verb(&right_words, left_last) {
        return Join::VerbPhrase;
    }
    let plain_comma = sep.trim() == ",";
    let clausal_sep = sep.contains(';') || !is_and;
    if !plain_comma && is_full_clause(&right_words, clausal_sep) {
        return Join::Clause;
    }
    Join::Keep
}

/// The words repeated before a subjectless verb phrase: the subject, and the left side's
/// auxiliary when the right side is a bare passive participle ("and renamed in 1920").
fn carried_prefix(left: &str, right: &str) -> Option<String> {
    let subject = subject_of(left)?;
    let words: Vec<&str> = left.split_whitespace().collect();
    let right_words: Vec<&str> = right.split_whitespace().collect();
    let v = first_verb(&words)?;
    let aux = clean(words[v]);
    let left_passive = CARRIED_AUX.contains(&aux.as_str())
        && words[v + 1..]
            .iter()
            .find(|w| !ADVERBS.contains(&clean(w).as_str()))
            .is_some_and(|w| is_participle(w));
    let k = skip_adverbs(&right_words);
    let bare = right_words.get(k).is_some_and(|w| is_participle(w));
    let object = right_words
        .get(k + 1)
        .is_some_and(|w| is_capitalised(w) || OBJECT_STARTS.contains(&clean(w).as_str()));
    if left_passive && bare && !object {
        Some(format!("{subject} {aux} "))
    } else {
        Some(format!("{subject} "))
    }
}

/// A finished part: capitalised, trailing separators dropped, closing punctuation added.
fn finish(text: &str, punct: char) -> String {
    let body = text.trim().trim_end_matches([',', ';', ':']).trim_end();
    let mut chars = body.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
    format!("{}{}{punct}", first.unwrap_or_default(), chars.as_str())
}

/// The claim without its trailing "?" and final punctuation, and the punctuation to end
/// each part with.
fn body_and_punct(claim: &str) -> (&str, char) {
    let body = claim.trim().trim_end_matches('?').trim_end();
    match body.chars().last() {
        Some(c @ ('.' | '!')) => (body[..body.len() - c.len_utf8()].trim_end(), c),
        _ => (body, '.'),
    }
}

/// Splits a compound claim into checkable parts, each a full statement that repeats the
/// subject: "Kellbridge was founded in 1850 and is the largest town of Marrow County." ->
/// ["Kellbridge was founded in 1850.", "Kellbridge is the largest town of Marrow County."].
/// A claim that is one statement comes back as one part (the claim itself, trimmed); an
/// empty claim gives no parts.
pub fn split_claim(claim: &str) -> Vec<String> {
    let (body, punct) = body_and_punct(claim);
    if body.is_empty() {
        return Vec::new();
    }
    let seps: Vec<(usize, usize)> = SEP_RE
        .find_iter(body)
        .map(|m| (m.start(), m.end()))
        .collect();
    let mut parts: Vec<String> = Vec::new();
    let (mut start, mut prefix) = (0, String::new());
    for (i, &(s, e)) in seps.iter().enumerate() {
        if parts.len() == MAX_PARTS - 1 {
            break;
        }
        let left = format!("{prefix}{}", &body[start..s]);
        let right = &body[e..seps.get(i + 1).map_or(body.len(), |n| n.0)];
        match join_kind(&left, &body[s..e], right) {
            Join::Keep => continue,
            Join::VerbPhrase => {
                let Some(carried) = carried_prefix(&left, right) else {
                    continue;
                };
                prefix = carried;
                start = e;
            }
            Join::Clause => {
                (prefix, start) = replace_pronoun(&left, body, e);
            }
        }
        parts.push(finish(&left, punct));
    }
    if parts.is_empty() {
        return vec![claim.trim().to_string()];
    }
    parts.push(finish(&format!("{prefix}{}", &body[start..]), punct));
    parts
}

/// A clause opening with a pronoun ("…; it is the largest town") gets the left side's
/// subject instead, so the part stands on its own: (prefix, where the part's text starts).
fn replace_pronoun(left: &str, body: &str, at: usize) -> (String, usize) {
    let rest = &body[at..];
    let first = rest.split_whitespace().next().unwrap_or_default();
    match subject_of(left) {
        Some(subject) if PRONOUNS.contains(&first.to_lowercase().as_str()) => {
            let after = &rest[first.len()..];
            (
                format!("{subject} "),
                at + rest.len() - after.trim_start().len(),
            )
        }
        _ => (String::new(), at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(claim: &str) -> Vec<String> {
        split_claim(claim)
    }

    #[test]
    fn verb_phrase_repeats_the_subject() {
        assert_eq!(
            parts("Kellbridge was founded in 1850 and is the largest town of Marrow County."),
            [
                "Kellbridge was founded in 1850.",
                "Kellbridge is the largest town of Marrow County."
            ]
        );
    }

    #[test]
    fn three_parts() {
        assert_eq!(
            parts("Kellbridge was founded in 1850, lies on the Vell River and has 12,000 inhabitants."),
            [
                "Kellbridge was founded in 1850.",
                "Kellbridge lies on the Vell River.",
                "Kellbridge has 12,000 inhabitants."
            ]
        );
    }

    #[test]
    fn two_full_clauses_keep_their_subjects() {
        assert_eq!(
            parts("Kellbridge is big, but Port Vellan is small."),
            ["Kellbridge is big.", "Port Vellan is small."]
        );
        assert_eq!(
            parts("Kellbridge grew quickly whereas Port Vellan has shrunk."),
            ["Kellbridge grew quickly.", "Port Vellan has shrunk."]
        );
    }

    #[test]
    fn noun_coordinations_are_not_split() {
        for claim in [
            "Salt and pepper are sold in Kellbridge.",
            "It was built by Alice Marrow and Tomas Vell.",
            "The mill ran between 1850 and 1870.",
            "Kellbridge is famous for rock and roll.",
            "Kellbridge has parks and gardens near the river.",
            "Kellbridge has 3 schools and 2 hospitals in the centre.",
        ] {
            assert_eq!(parts(claim), [claim], "{claim}");
        }
    }

    #[test]
    fn single_statement_is_one_part() {
        assert_eq!(
            parts("  Kellbridge was founded in 1850.  "),
            ["Kellbridge was founded in 1850."]
        );
        assert!(parts("   ").is_empty());
    }

    #[test]
    fn both_and_is_not_split() {
        let claim = "Kellbridge is both a port and a market town.";
        assert_eq!(parts(claim), [claim]);
        assert_eq!(
            parts("Kellbridge is both a port and a market town and has a mill."),
            [
                "Kellbridge is both a port and a market town.",
                "Kellbridge has a mill."
            ]
        );
    }

    #[test]
    fn bare_participle_carries_the_auxiliary() {
        assert_eq!(
            parts("The Vell Bridge was built in 1887 and later renamed in 1920."),
            [
                "The Vell Bridge was built in 1887.",
                "The Vell Bridge was later renamed in 1920."
            ]
        );
        assert_eq!(
            parts("Kellbridge was founded in 1850 and joined Marrow County in 1900."),
            [
                "Kellbridge was founded in 1850.",
                "Kellbridge joined Marrow County in 1900."
            ]
        );
    }

    #[test]
    fn question_mark_is_dropped_and_punctuation_kept() {
        assert_eq!(
            parts("Kellbridge was founded in 1850 and is the largest town?"),
            [
                "Kellbridge was founded in 1850.",
                "Kellbridge is the largest town."
            ]
        );
        assert_eq!(
            parts("Kellbridge exports wool and imports grain!"),
            ["Kellbridge exports wool!", "Kellbridge imports grain!"]
        );
    }

    #[test]
    fn pronoun_subject_is_replaced() {
        assert_eq!(
            parts("Kellbridge was founded in 1850; it is the largest town of Marrow County."),
            [
                "Kellbridge was founded in 1850.",
                "Kellbridge is the largest town of Marrow County."
            ]
        );
    }

    #[test]
    fn asides_and_fronted_phrases_are_not_subjects() {
        assert_eq!(
            parts("In 1850, Kellbridge was founded and had a mill."),
            ["In 1850, Kellbridge was founded.", "Kellbridge had a mill."]
        );
        assert_eq!(
            parts("Kellbridge, founded in 1850, is a town and has a mill."),
            [
                "Kellbridge, founded in 1850, is a town.",
                "Kellbridge has a mill."
            ]
        );
        let relative = "Kellbridge, which lies on the Vell, was founded in 1850.";
        assert_eq!(parts(relative), [relative]);
    }

    #[test]
    fn plain_verbs_and_contrastive_clauses_split() {
        assert_eq!(
            parts("Vaccines cause autism and are dangerous."),
            ["Vaccines cause autism.", "Vaccines are dangerous."]
        );
        assert_eq!(
            parts("Smoking causes cancer, while exercise reduces risk."),
            ["Smoking causes cancer.", "Exercise reduces risk."]
        );
        assert_eq!(
            parts("It rained and the river flooded."),
            ["It rained.", "The river flooded."]
        );
    }

    #[test]
    fn noun_phrase_after_and_is_not_a_clause() {
        for claim in [
            "Kellbridge has a church and the old mills near the river.",
            "The towns of Kellbridge and Dunmore are old.",
        ] {
            assert_eq!(parts(claim), [claim], "{claim}");
        }
    }

    #[test]
    fn a_noun_in_a_prepositional_phrase_is_not_a_verb() {
        for claim in [
            "The Vell guild of master weavers and dyers grew rapidly during the 1850s.",
            "The Kellbridge festival of spring songs and dances moved to Dunmore in 1902.",
        ] {
            assert_eq!(parts(claim), [claim], "{claim}");
        }
        // A verb after a prepositional phrase still splits the claim.
        assert_eq!(
            parts("The mill in Kellbridge closed in 1902 and reopened in 1920."),
            [
                "The mill in Kellbridge closed in 1902.",
                "The mill in Kellbridge reopened in 1920."
            ]
        );
    }

    #[test]
    fn one_contradicted_part_makes_the_claim_contradicted() {
        use Verdict::*;
        assert_eq!(combine(&[Supported, Contradicted]), Contradicted);
        assert_eq!(
            combine(&[Contradicted, MostlySupported, Supported]),
            Contradicted
        );
        // A part the evidence only leans against, or is divided on, leaves it Mixed.
        assert_eq!(combine(&[Supported, MostlyUnsupported]), Mixed);
        assert_eq!(combine(&[Supported, Mixed]), Mixed);
        assert_eq!(combine(&[Supported, Supported]), Supported);
        assert_eq!(combine(&[Supported, NotEnoughEvidence]), MostlySupported);
        assert_eq!(combine(&[Contradicted, Contradicted]), Contradicted);
        assert_eq!(
            combine(&[NotEnoughEvidence, NotEnoughEvidence]),
            NotEnoughEvidence
        );
    }

    #[test]
    fn a_sentence_that_supports_the_whole_claim_supports_the_part_it_names() {
        use crate::pipeline::testing::{self, RESERVOIR_DOCS};
        let mut cands = testing::cands(&RESERVOIR_DOCS[..1]);
        let s = &mut cands[0].sents[0];
        s.text = "It has a busy wool market and is a major supply centre for cloth.".into();
        s.terms = text::term_set(&s.text);
        s.relevant = true;
        s.scores = Some(sc(0.8, 0.1));
        let (named, idf) = (BTreeSet::new(), Idf::from_term_sets(vec![s.terms.clone()]));
        let part = |t: &'static str, focus: &[&str]| Part {
            text: t,
            terms: text::term_set(t),
            relation: BTreeSet::new(),
            focus: focus.iter().map(|f| f.to_string()).collect(),
            named: &named,
            idf: &idf,
        };
        // The model alone reads the part as contradicted; the whole claim's support stands.
        let supplier = part("Kellbridge is a major supplier of cloth.", &["cloth"]);
        let (got, counts) = part_stance(&supplier, s, sc(0.1, 0.8), true);
        assert!(counts && got.supports > got.contradicts, "{got:?}");
        // A part the sentence does not name gets no support from it, and the model's
        // reading of the part alone as contradicted does not count either ...
        let founded = part("Kellbridge was founded in 1850.", &["founded"]);
        let (got, counts) = part_stance(&founded, s, sc(0.1, 0.8), true);
        assert!(!counts && got.contradicts > got.supports);
        // ... and neither does any part when the sentence did not support the whole claim.
        s.scores = Some(sc(0.3, 0.2));
        let (got, counts) = part_stance(&supplier, s, sc(0.1, 0.8), true);
        assert!(counts && got.contradicts > got.supports);
    }

    fn sc(supports: f32, contradicts: f32) -> StanceScores {
        StanceScores {
            supports,
            contradicts,
            neutral: 1.0 - supports - contradicts,
        }
    }

    #[test]
    fn at_most_four_parts() {
        let got = parts("Kellbridge is old, is small, has a mill, has a port and has a school.");
        assert_eq!(got.len(), MAX_PARTS);
        assert_eq!(got[3], "Kellbridge has a port and has a school.");
    }
}

/// One part of a claim with its own evidence and verdict.
#[derive(Debug, Clone)]
pub(crate) struct PartOutcome {
    pub text: String,
    pub agg: Aggregate,
    /// The deciding sentence `(ci, si)` of each passage that counts for this part, in the
    /// order of `agg.weights`, with its scores against the part.
    pub deciding: Vec<(usize, usize, StanceScores)>,
}

/// Judges each part of a compound claim on its own: the sentences about the claim's
/// subject that share most of the part's terms are scored against the part (in context,
/// within `pairs` model calls per part), value mismatches are named against the part,
/// and the part's evidence is aggregated with the same rule as a whole claim's.
pub(crate) fn assess_parts(
    parts: &[String],
    cands: &[Cand],
    named: &BTreeSet<String>,
    judge: &dyn StanceModel,
    pairs: usize,
) -> Result<Vec<PartOutcome>, ComposeError> {
    let idf = Idf::over(cands);
    parts
        .iter()
        .map(|part| assess_part(part, cands, named, &idf, judge, pairs))
        .collect()
}

/// One part with what judging it needs.
struct Part<'a> {
    text: &'a str,
    terms: BTreeSet<String>,
    /// Its predicate terms (see `judge::relation_terms`).
    relation: BTreeSet<String>,
    focus: Vec<String>,
    named: &'a BTreeSet<String>,
    idf: &'a Idf,
}

fn assess_part(
    text: &str,
    cands: &[Cand],
    named: &BTreeSet<String>,
    idf: &Idf,
    judge: &dyn StanceModel,
    pairs: usize,
) -> Result<PartOutcome, ComposeError> {
    let terms = text::term_set(text);
    let (focus, _) = judge::focus_terms(&terms, idf);
    let part = Part {
        text,
        relation: judge::relation_terms(text, named),
        terms,
        focus,
        named,
        idf,
    };
    let todo = part_candidates(&part, cands, pairs);
    let neural = judge.is_neural();
    let input: Vec<(&str, &str)> = todo
        .iter()
        .map(|&(ci, si)| {
            let s = &cands[ci].sents[si];
            (
                text,
                if neural {
                    s.context.as_str()
                } else {
                    s.text.as_str()
                },
            )
        })
        .collect();
    let scores = if input.is_empty() {
        Vec::new()
    } else {
        judge::score_pairs(judge, &input, "judging a part of the claim")?
    };
    let mut best: HashMap<usize, (usize, StanceScores)> = HashMap::new();
    for (&(ci, si), sc) in todo.iter().zip(scores) {
        let (sc, counts) = part_stance(&part, &cands[ci].sents[si], sc, neural);
        let lean = (sc.supports - sc.contradicts).abs();
        if counts
            && best
                .get(&ci)
                .is_none_or(|(_, b)| lean > (b.supports - b.contradicts).abs())
        {
            best.insert(ci, (si, sc));
        }
    }
    let mut deciding: Vec<(usize, usize, StanceScores)> = best
        .into_iter()
        .map(|(ci, (si, sc))| (ci, si, sc))
        .collect();
    deciding.sort_by_key(|d| (d.0, d.1));
    let items: Vec<EvidenceItem> = deciding
        .iter()
        .map(|&(ci, _, sc)| EvidenceItem {
            voice: cands[ci].voice(),
            rank: cands[ci].rank,
            scores: sc,
        })
        .collect();
    Ok(PartOutcome {
        text: text.to_string(),
        agg: judge::aggregate(&items),
        deciding,
    })
}

/// The (at most `pairs`) quotable sentences about the claim's subject that share most of
/// the part's terms, best first.
fn part_candidates(part: &Part<'_>, cands: &[Cand], pairs: usize) -> Vec<(usize, usize)> {
    let mut todo: Vec<(usize, usize, f32)> = Vec::new();
    for (ci, c) in cands.iter().enumerate() {
        for (si, s) in c.sents.iter().enumerate() {
            let cov = part.idf.coverage(&part.terms, part.named, &s.terms);
            if s.quotable && s.on_subject && cov > 0.0 {
                todo.push((ci, si, cov * c.rank_weight()));
            }
        }
    }
    todo.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    todo.truncate(pairs.max(1));
    todo.into_iter().map(|(ci, si, _)| (ci, si)).collect()
}

/// A sentence's stance on one part, and whether it counts: a named value mismatch counts
/// as a contradiction; otherwise the same relevance rule as for a whole claim.
fn part_stance(part: &Part<'_>, s: &Sent, sc: StanceScores, neural: bool) -> (StanceScores, bool) {
    let names: BTreeSet<String> = part.terms.intersection(part.named).cloned().collect();
    if judge::states_claim_relation(&names, &s.context_terms)
        && !judge::related_mismatches(part.text, &part.relation, s).is_empty()
    {
        return (judge::mismatch_scores(Some(sc)), true);
    }
    let names_focus = part.focus.iter().any(|f| s.terms.contains(f));
    if let Some(whole) = whole_claim_support(s) {
        if names_focus && whole.supports > sc.supports {
            return (whole, true);
        }
        if sc.contradicts > sc.supports {
            return (sc, false); // no sentence both supports "A and B" and contradicts A
        }
    }
    let related = sc.neutral <= 1.0 - judge::MIN_RELATEDNESS;
    let peak = sc.supports.max(sc.contradicts);
    let counts = related
        && if neural {
            (sc.supports - sc.contradicts).abs() >= judge::NEURAL_MIN_LEAN
                && (names_focus || peak >= 0.85)
        } else {
            names_focus
        };
    (sc, counts)
}

/// A sentence's scores against the whole claim when they count for it as support: what
/// supports "A and B" supports A, so a sentence that does, and names a part's focus, is
/// read as supporting that part too, whatever the model makes of the part alone (a part
/// loses the words that tie it to the sentence: "is a major supplier of clothing" read
/// alone against "... and is a major supply centre for apparels" can come out contradicted).
/// For the same reason, the model's reading of a part alone as contradicted by such a
/// sentence does not count.
fn whole_claim_support(s: &Sent) -> Option<StanceScores> {
    s.scores
        .filter(|_| s.relevant && s.mismatches.is_empty())
        .filter(|w| w.supports - w.contradicts >= judge::NEURAL_MIN_LEAN)
}

/// The verdict of a compound claim from its parts' verdicts. A claim states all of its
/// parts, so one part the evidence contradicts outright makes the claim as stated
/// Contradicted, whatever its other parts' support ("founded in 1850 and the largest city"
/// is false when it was founded in 1870). Otherwise: all parts on one side give that side
/// (Supported only when every part is); parts on both sides, or a Mixed part, give Mixed;
/// supported parts with parts the sources do not settle give Mostly supported when at least
/// half the parts are supported, else Not enough evidence (and likewise Mostly unsupported
/// on the other side).
pub(crate) fn combine(parts: &[Verdict]) -> Verdict {
    use Verdict::*;
    let n = parts.len();
    let sup = parts
        .iter()
        .filter(|v| matches!(v, Supported | MostlySupported))
        .count();
    let con = parts
        .iter()
        .filter(|v| matches!(v, Contradicted | MostlyUnsupported))
        .count();
    if n == 0 || parts.iter().all(|v| *v == NotEnoughEvidence) {
        return NotEnoughEvidence;
    }
    if sup > 0 && parts.contains(&Contradicted) {
        return Contradicted;
    }
    if parts.contains(&Mixed) || (sup > 0 && con > 0) {
        return Mixed;
    }
    let (side, full, partial) = if sup > 0 {
        (sup, Supported, MostlySupported)
    } else {
        (con, Contradicted, MostlyUnsupported)
    };
    if side == n {
        if parts.iter().all(|v| *v == full) {
            full
        } else {
            partial
        }
    } else if 2 * side >= n {
        partial
    } else {
        NotEnoughEvidence
    }
}

/// Adds a part's strongest evidence on each side to the verdict's cited picks, so the
/// part's sources are numbered and the brief can show them next to the part.
pub(crate) fn add_part_picks(
    p: &PartOutcome,
    cands: &[Cand],
    sides: &mut (Vec<Pick>, Vec<Pick>),
    comp: &mut Composer<'_>,
) {
    let strongest = |sign: f32| {
        p.deciding
            .iter()
            .filter(|(_, _, sc)| sign * (sc.supports - sc.contradicts) >= 0.1)
            .max_by(|a, b| {
                let la = sign * (a.2.supports - a.2.contradicts);
                let lb = sign * (b.2.supports - b.2.contradicts);
                la.total_cmp(&lb)
            })
            .map(|&(ci, si, _)| Pick { ci, si })
    };
    for (sign, side) in [(1.0, &mut sides.0), (-1.0, &mut sides.1)] {
        if let Some(pick) = strongest(sign) {
            if !side.contains(&pick) {
                side.push(pick);
                comp.reserve_source(&cands[pick.ci].hit.source.id);
            }
        }
    }
}

/// A part as the brief shows it, with the numbers of its strongest sources on each side.
pub(crate) fn claim_part(
    p: &PartOutcome,
    cands: &[Cand],
    numbers: &HashMap<SourceId, usize>,
) -> ClaimPart {
    let side = |sign: f32| -> Vec<usize> {
        let mut ns: Vec<usize> = p
            .deciding
            .iter()
            .filter(|(_, _, sc)| sign * (sc.supports - sc.contradicts) >= 0.1)
            .filter_map(|(ci, _, _)| numbers.get(&cands[*ci].hit.source.id).copied())
            .collect();
        ns.sort_unstable();
        ns.dedup();
        ns.truncate(3);
        ns
    };
    ClaimPart {
        text: p.text.clone(),
        verdict: p.agg.verdict,
        label: p.agg.verdict.label().to_string(),
        confidence: p.agg.confidence,
        supporting: side(1.0),
        contradicting: side(-1.0),
    }
}

/// One sentence on how the parts came out: "Of its 2 parts, 1 is supported and 1 is
/// contradicted by the sources."
pub(crate) fn summary(parts: &[ClaimPart]) -> String {
    let count = |f: &dyn Fn(Verdict) -> bool| parts.iter().filter(|p| f(p.verdict)).count();
    let sup = count(&|v| matches!(v, Verdict::Supported | Verdict::MostlySupported));
    let con = count(&|v| matches!(v, Verdict::Contradicted | Verdict::MostlyUnsupported));
    let mixed = count(&|v| v == Verdict::Mixed);
    let open = parts.len() - sup - con - mixed;
    let mut bits = Vec::new();
    for (n, what) in [
        (sup, "supported"),
        (con, "contradicted"),
        (mixed, "mixed"),
        (open, "not settled"),
    ] {
        if n > 0 {
            bits.push(format!("{n} {what}"));
        }
    }
    format!(
        "The claim has {} parts, judged one by one: {}.",
        parts.len(),
        bits.join(", ")
    )
}
