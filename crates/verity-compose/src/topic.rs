//! Topic gate: a passage is evidence on a claim only when it is about the claim's subject.
//!
//! A stance model trained on caption-style NLI reads two sentences about different
//! things as a contradiction ("the Berlin Wall was a guarded barrier" against a claim
//! about the Great Wall of China). A careful reader instead asks first whether the
//! passage is about the claim's subject at all. Here that is decided from measured
//! signals, never from the stance model:
//!
//! - the claim's **subject**: its first named entity (the grammatical subject of most
//!   claims: "*Colombo* lies on the west coast of Sri Lanka"), or, for a claim without
//!   a name, the head noun phrase it opens with ("*Face masks* reduce ...");
//! - whether the sentence **in its context** (source title, the sentence before, the
//!   sentence) holds that subject: for a described subject, its head noun ("patients" for
//!   "Young patients"); else at least three quarters of the subject's IDF weight
//!   over the candidate passages, including its most distinctive word ("Herod the Great"
//!   and "Defensive wall" are not the Great Wall of China); a named subject must be named,
//!   its words capitalised ("the largest moon of Saturn" is not about the Moon);
//! - whether the sentence itself restates most of the claim (IDF-weighted coverage of
//!   the claim's terms at least [`RESTATES_CLAIM`]): such a sentence is about the claim
//!   whatever it calls the subject;
//! - the embedding similarity of the source's title to the subject, where the library
//!   has an embedder: a title at least [`TITLE_SIMILARITY`] similar counts as on the
//!   subject even when the words differ ("USA" for "United States");
//! - what the sentence itself is about: in a source titled for another named thing, a
//!   sentence whose subject is that thing or a pronoun for it ("Slightly larger than
//!   Earth's Moon, Io is ...", "It is observable from Earth ...") is off the subject.
//!
//! A sentence that fails the gate is neutral: it never counts toward a verdict and is
//! never listed as a finding in claim mode.

use std::collections::BTreeSet;

use verity_types::Plan;

use crate::gather::Cand;
use crate::judge::Idf;
use crate::{text, Evidence};

/// A sentence covering at least this IDF-weighted share of the claim's terms is about the
/// claim, whatever subject it names.
pub const RESTATES_CLAIM: f32 = 0.6;

/// IDF-weighted share of the claim's terms that a sentence holding a described subject's
/// head noun must also cover, in its context, to count as about the subject.
pub const HEAD_COVERAGE: f32 = 0.35;

/// Share of the subject's IDF weight the context must hold.
pub const SUBJECT_SHARE: f32 = 0.75;

/// Cosine similarity of a source title to the subject above which the source is taken to
/// be about the subject. Measured with MiniLM on titles: aliases sit high ("United States"
/// / "USA" 0.89), but so do neighbours that are other subjects ("Apollo 11" / "Apollo"
/// 0.85, "Colombo" / "Sri Lanka" 0.74, "Great Wall of China" / "Berlin Wall" 0.60), so
/// only a near-alias counts.
pub const TITLE_SIMILARITY: f32 = 0.87;

/// Cosine similarity (MiniLM) of a sentence to the whole claim from which a sentence that
/// the words leave off the subject is about the claim in other words (a sentence speaking
/// of another named thing excepted, see [`about_another`]). Chosen on Check-COVID dev
/// claims, where the abstract sentence that settles a lay claim sits at a median of 0.59
/// and other abstracts' sentences at 0.49.
pub const SENTENCE_SIMILARITY: f32 = 0.55;

/// A sentence on the subject only by its similarity counts against the claim only from
/// this similarity on (it may support it from [`SENTENCE_SIMILARITY`]): the stance model
/// reads a related sentence on another point as a contradiction, and missing evidence
/// must never read as false.
pub const SENTENCE_SIMILARITY_CONTRADICTS: f32 = 0.7;

/// At most this many sentences per pass get their similarity to the claim measured.
pub const SENTENCE_SIMILARITY_BUDGET: usize = 48;

/// Words that end a claim's opening noun phrase when it names no entity.
const PHRASE_ENDS: &[&str] = &[
    "is",
    "are",
    "was",
    "were",
    "has",
    "have",
    "had",
    "can",
    "could",
    "will",
    "would",
    "may",
    "might",
    "must",
    "should",
    "does",
    "do",
    "did",
    "cause",
    "causes",
    "caused",
    "reduce",
    "reduces",
    "increase",
    "increases",
    "prevent",
    "prevents",
    "protect",
    "protects",
    "lead",
    "leads",
    "help",
    "helps",
    "make",
    "makes",
    "work",
    "works",
    "kill",
    "kills",
    "spread",
    "spreads",
    "lower",
    "lowers",
    "raise",
    "raises",
];

/// What a claim is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// As written in the claim ("Great Wall of China").
    pub label: String,
    /// Its content terms, stemmed as [`text::term_set`] does.
    pub terms: BTreeSet<String>,
    /// A name (a capitalised entity), which a passage must name as one.
    pub named: bool,
    /// For a described subject, its head noun's term: the last word of the phrase
    /// ("patients" in "Young patients"). Its modifiers narrow the claim, not its topic.
    pub head: Option<String>,
}

/// The subject of a claim: its first named entity that is not a date, else the words it
/// opens with up to its verb. `None` when neither gives a content term.
pub fn subject(plan: &Plan) -> Option<Subject> {
    let named = plan
        .entities
        .iter()
        .find(|e| !text::term_set(e).is_empty() && !plan.dates.contains(e))
        .filter(|e| !is_lone_common_opening(&plan.statement, e))
        .filter(|e| opens_with_name(&plan.statement, e))
        .map(|e| described_name(&plan.statement, e, &plan.entities).unwrap_or(e));
    match named {
        Some(e) => subject_of(e.clone(), true),
        None => described_subject(&plan.statement),
    }
}

/// The subject that the claim's opening words describe (see [`opening_phrase`]).
fn described_subject(statement: &str) -> Option<Subject> {
    subject_of(opening_phrase(statement)?, false)
}

fn subject_of(label: String, is_name: bool) -> Option<Subject> {
    let terms = text::term_set(&label);
    let head = (!is_name)
        .then(|| label.split_whitespace().last())
        .flatten()
        .and_then(|w| text::term_set(w).into_iter().next());
    (!terms.is_empty()).then_some(Subject {
        label,
        terms,
        named: is_name,
        head,
    })
}

/// A claim after an opening phrase of at most four words and a comma ("In 1969, ...").
fn after_opening_clause(statement: &str) -> &str {
    match statement.split_once(", ") {
        Some((head, rest)) if head.split_whitespace().count() <= 4 => rest,
        _ => statement,
    }
}

/// Whether the claim's subject is the name `entity`: the name comes within its first
/// three words (after an article or an opening phrase such as "In 1969,"). "The council
/// vote approving the Clear Taps Programme ..." is about a vote, not the programme.
fn opens_with_name(statement: &str, entity: &str) -> bool {
    let words: Vec<&str> = after_opening_clause(statement).split_whitespace().collect();
    let first = entity.split_whitespace().next().unwrap_or(entity);
    words
        .iter()
        .take(3)
        .any(|w| w.trim_matches(|c: char| !c.is_alphanumeric()) == first)
}

/// The name that an opening description leads up to: "The Turkish city of Adana stands
/// ..." is about Adana and "The Varrish poet Anna Kell wrote ..." about Anna Kell, not
/// about what "Turkish" or "Varrish" names. `first` is the claim's first name; it must be
/// one word, followed by one or two lower-case nouns (and "of") and then another name.
fn described_name<'a>(statement: &str, first: &str, entities: &'a [String]) -> Option<&'a String> {
    if first.contains(' ') {
        return None;
    }
    let words: Vec<&str> = statement
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-'))
        .skip_while(|w| ["The", "A", "An"].contains(w))
        .collect();
    if words.first() != Some(&first) {
        return None;
    }
    let mut k = 1;
    while k < 3 && words.get(k).is_some_and(|w| is_described_noun(w)) {
        k += 1;
    }
    if k == 1 {
        return None;
    }
    if words.get(k) == Some(&"of") {
        k += 1;
    }
    let next = words.get(k)?;
    entities
        .iter()
        .find(|e| e.as_str() != first && e.split_whitespace().next() == Some(*next))
}

/// A lower-case word that can be the noun of a description ("city", "poet"): not a verb,
/// a function word or a word of a phrase such as "in 1850".
fn is_described_noun(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_lowercase)
        && !is_verb(w)
        && !text::is_stopword(w)
        && !crate::parts::verb_shaped(w, None)
}

/// A single capitalised word that only opens the claim ("Young patients with ...") is a
/// capital of position, not a name: the opening phrase describes the subject better.
fn is_lone_common_opening(statement: &str, entity: &str) -> bool {
    let words: Vec<&str> = statement.split_whitespace().collect();
    !entity.contains(' ')
        && statement.trim_start().starts_with(entity)
        && words.get(1).is_some_and(|w| {
            w.chars().next().is_some_and(|c| c.is_lowercase())
                && !is_verb(w)
                && !verb_before_determiner(w, words.get(2).copied())
        })
}

/// Words that open a noun phrase: after a verb-shaped word, they make it a verb ("China
/// *produces* more wheat", "Kellbridge *holds* the record"), where a noun is followed by a
/// preposition or a verb ("Young swimmers in ...", "Face masks reduce ...").
const PHRASE_OPENERS: &[&str] = &[
    "the", "a", "an", "more", "most", "many", "much", "few", "fewer", "less", "some", "no", "its",
    "their", "his", "her", "all", "every", "several",
];

fn verb_before_determiner(w: &str, next: Option<&str>) -> bool {
    crate::parts::verb_shaped(w, next)
        && next.is_some_and(|n| PHRASE_OPENERS.contains(&n.to_lowercase().as_str()))
}

fn is_verb(w: &str) -> bool {
    PHRASE_ENDS.contains(
        &w.to_lowercase()
            .trim_matches(|c: char| !c.is_alphanumeric()),
    )
}

/// The claim's opening noun phrase: its words up to the first verb or function word that
/// ends it, without a leading article ("The face masks sold ..." → "face masks sold").
fn opening_phrase(statement: &str) -> Option<String> {
    let mut words = Vec::new();
    for w in statement.split_whitespace() {
        let core = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
        let lower = core.to_lowercase();
        if words.is_empty() && ["the", "a", "an"].contains(&lower.as_str()) {
            continue;
        }
        if is_verb(core) || (text::is_stopword(&lower) && !words.is_empty()) || words.len() == 4 {
            break;
        }
        words.push(core.to_string());
        if w.ends_with([',', ';', ':']) {
            break;
        }
    }
    let phrase = words.join(" ");
    (!text::term_set(&phrase).is_empty()).then_some(phrase)
}

/// Verbs that end a sentence's subject ("Io *is* the fourth-largest moon").
const SUBJECT_ENDS: &[&str] = &[
    "is", "are", "was", "were", "has", "have", "had", "can", "could", "will", "would", "may",
    "might", "must", "does", "did", "remains", "became", "becomes", "lies", "lie", "covers",
    "includes", "contains", "refers", "means", "consists",
];

/// Pronouns that stand for what the source is about ("It is observable from Earth").
const SUBJECT_PRONOUNS: &[&str] = &["it", "its", "they", "their", "this", "these", "he", "she"];

/// What a sentence is about: the names (capitalised words) before its first verb, from
/// the last comma on ("Slightly larger than Earth's Moon, Io is ..." → `io`), and whether
/// that is a pronoun (standing for the source's own subject). `None` when no verb comes within
/// the first 15 words.
pub fn sentence_subject(sentence: &str) -> Option<(BTreeSet<String>, bool)> {
    let words: Vec<&str> = sentence.split_whitespace().take(15).collect();
    let verb = words.iter().enumerate().position(|(i, w)| {
        let lower = w.to_lowercase();
        let core = lower.trim_matches(|c: char| !c.is_alphanumeric());
        // A past tense after the first word ("he relocated", "The tower opened").
        let past = i > 0 && core.len() > 4 && core.ends_with("ed") && !w.ends_with(',');
        SUBJECT_ENDS.contains(&core) || past
    })?;
    let before = &words[..verb];
    let from = before
        .iter()
        .rposition(|w| w.ends_with(','))
        .map_or(0, |i| i + 1);
    let phrase = before[from..].join(" ");
    let first = phrase
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_lowercase();
    let pronoun = SUBJECT_PRONOUNS.contains(&first.trim_matches(|c: char| !c.is_alphanumeric()));
    Some((text::name_terms(&phrase), pronoun))
}

/// A title without a trailing disambiguation ("Titan (moon)" → "Titan").
pub fn bare_title(title: &str) -> &str {
    match title.rfind(" (") {
        Some(i) if title.ends_with(')') => &title[..i],
        _ => title,
    }
}

/// The inputs of the gate for one sentence.
pub struct GateInput<'a> {
    /// Terms of the sentence with its context (title, the sentence before, itself).
    pub context_terms: &'a BTreeSet<String>,
    /// Of those, the terms of capitalised words (see [`text::name_terms`]).
    pub context_names: &'a BTreeSet<String>,
    /// IDF-weighted coverage of the claim's terms by the sentence itself.
    pub coverage: f32,
    /// The same coverage by the sentence in its context (title, the sentence before).
    pub context_coverage: f32,
    /// Embedding similarity of the source title to the subject, when measured.
    pub title_similarity: Option<f32>,
    /// Terms of the source's title, disambiguation dropped (see [`bare_title`]).
    pub title_terms: &'a BTreeSet<String>,
    /// What the sentence itself is about (see [`sentence_subject`]).
    pub sentence_subject: Option<&'a (BTreeSet<String>, bool)>,
}

/// Whether a sentence speaks of another named thing: in a source titled for another
/// named thing, a sentence whose subject is that thing or a pronoun for it ("Io is ...",
/// "It is observable ...") speaks of the claim's subject only in passing, however many
/// of the claim's words it uses. No other signal brings such a sentence back.
pub fn about_another(subject: &Subject, idf: &Idf, input: &GateInput<'_>) -> bool {
    let title_is_other = subject.named
        && !input.title_terms.is_empty()
        && subject_share(subject, idf, input.title_terms) < SUBJECT_SHARE;
    input.sentence_subject.is_some_and(|(about, pronoun)| {
        let names_subject = subject_share(subject, idf, about) >= SUBJECT_SHARE;
        let names_title = !about.is_disjoint(input.title_terms);
        title_is_other && !names_subject && (*pronoun || names_title)
    })
}

/// Whether a sentence is about `subject` (see the module docs for the rule).
pub fn on_subject(subject: &Subject, idf: &Idf, input: &GateInput<'_>) -> bool {
    if about_another(subject, idf, input) {
        return false;
    }
    if input.coverage >= RESTATES_CLAIM {
        return true;
    }
    if input
        .title_similarity
        .is_some_and(|s| s >= TITLE_SIMILARITY)
    {
        return true;
    }
    // A name must be named (capitalised); a described subject ("the council vote") may be
    // written either way.
    let have = if subject.named {
        input.context_names
    } else {
        input.context_terms
    };
    // A described subject is the thing its head noun names: a sentence about patients is
    // about "young patients" (whether it settles the "young" is the stance's question),
    // when it also shares a good part of the claim; a head noun alone ("the *right* of
    // women to vote" for "An affirmative right to appeal ...") is a shared word, not a
    // shared subject.
    let head_held = subject.head.as_ref().is_some_and(|h| have.contains(h));
    if head_held && input.context_coverage >= HEAD_COVERAGE {
        return true;
    }
    subject_share(subject, idf, have) >= SUBJECT_SHARE
        && rarest(subject, idf).is_none_or(|t| have.contains(t))
}

/// A candidate passage must write a one-word name this many times in lower case, and never
/// with a capital inside a sentence, before the name is taken for a common word.
const MIN_LOWER_CASE_USES: usize = 2;

/// The subject as the candidates write it. A one-word name that opens the claim
/// ("Scientists have isolated ...") may be a capital of position only: when the candidate
/// passages write the word in lower case inside their sentences ("... the scientists
/// found ...") and never capitalise it there, it is a common word, and the claim is about
/// what its opening words describe. "Colombo" and "Moon" keep their capitals in running
/// text and stay names. `None` when the subject stands as planned.
pub(crate) fn as_written(subject: &Subject, claim: &str, cands: &[Cand]) -> Option<Subject> {
    let opening = claim.split_whitespace().next()?;
    let opening = opening.trim_matches(|c: char| !c.is_alphanumeric() && c != '-');
    if !subject.named || subject.label.contains(' ') || opening != subject.label {
        return None;
    }
    let (lower, capitalised) = casings(&subject.label, cands);
    if lower < MIN_LOWER_CASE_USES || capitalised > 0 {
        return None;
    }
    described_subject(claim).filter(|s| !s.named)
}

/// How often the candidate passages write `word` (any inflection, as stemmed) in lower
/// case, and with a capital inside a sentence (not as its first word, nor after a colon:
/// "CONCLUSIONS: Smoking ..." capitalises by position too, and the sentence splitter
/// does not cut there).
fn casings(word: &str, cands: &[Cand]) -> (usize, usize) {
    let wanted = text::stem(&word.to_lowercase());
    let (mut lower, mut capitalised) = (0, 0);
    for c in cands {
        let mut sentence_start = true;
        for w in c.hit.passage.text.split_whitespace() {
            let core = w.trim_matches(|c: char| !c.is_alphanumeric());
            let starts = std::mem::replace(&mut sentence_start, w.ends_with(['.', '!', '?', ':']));
            if core.is_empty() || text::stem(&core.to_lowercase()) != wanted {
                continue;
            }
            match core.chars().next() {
                Some(ch) if ch.is_lowercase() => lower += 1,
                Some(_) if !starts => capitalised += 1,
                _ => {}
            }
        }
    }
    (lower, capitalised)
}

/// Sets `on_subject` on every sentence of `cands`, about the subject as the candidates
/// write it (see [`as_written`]), from three kinds of signal in turn: the words (see
/// [`on_subject`]); where the words leave all of a candidate's sentences off the subject,
/// its title's embedding similarity to the subject (once per candidate, in one batch);
/// and where a sentence is still off the subject without speaking of another named thing
/// (see [`about_another`]), its own embedding similarity to the claim (see
/// [`SENTENCE_SIMILARITY`]): "blood group A was associated with a higher risk for
/// acquiring COVID-19" is about a claim on "blood type A" in other words.
pub(crate) fn gate(
    cands: &mut [Cand],
    subject: &Subject,
    claim: &str,
    idf: &Idf,
    ev: &dyn Evidence,
) {
    let written = as_written(subject, claim, cands);
    let subject = written.as_ref().unwrap_or(subject);
    let (off, mut undecided) = apply_words(cands, subject, idf);
    if measure_titles(cands, subject, ev, &off) {
        undecided = apply_words(cands, subject, idf).1;
    }
    measure_sentences(cands, claim, ev, undecided);
}

/// The word rules over every sentence. Returns the candidates left wholly off the subject
/// with no title similarity measured yet, and the `(candidate, sentence)` pairs off the
/// subject that speak of no other named thing.
fn apply_words(
    cands: &mut [Cand],
    subject: &Subject,
    idf: &Idf,
) -> (Vec<usize>, Vec<(usize, usize)>) {
    let mut off = Vec::new();
    let mut undecided = Vec::new();
    for (ci, c) in cands.iter_mut().enumerate() {
        let sim = c.title_similarity;
        let title = c.hit.source.meta.title.as_deref().unwrap_or("");
        let title_terms = text::term_set(bare_title(title));
        for (si, s) in c.sents.iter_mut().enumerate() {
            let about = sentence_subject(&s.text);
            let input = GateInput {
                context_terms: &s.context_terms,
                context_names: &s.context_names,
                coverage: s.coverage,
                context_coverage: s.context_coverage,
                title_similarity: sim,
                title_terms: &title_terms,
                sentence_subject: about.as_ref(),
            };
            s.on_subject = on_subject(subject, idf, &input);
            if !s.on_subject && !about_another(subject, idf, &input) {
                undecided.push((ci, si));
            }
        }
        if sim.is_none() && c.sents.iter().all(|s| !s.on_subject) {
            off.push(ci);
        }
    }
    (off, undecided)
}

/// Measures the title similarity of the candidates in `off`; whether any was measured.
fn measure_titles(cands: &mut [Cand], subject: &Subject, ev: &dyn Evidence, off: &[usize]) -> bool {
    let titled: Vec<(usize, String)> = off
        .iter()
        .filter_map(|&ci| {
            let title = cands[ci].hit.source.meta.title.as_deref()?;
            Some((ci, bare_title(title).to_string()))
        })
        .filter(|(_, t)| !t.trim().is_empty())
        .collect();
    if titled.is_empty() {
        return false;
    }
    let titles: Vec<&str> = titled.iter().map(|(_, t)| t.as_str()).collect();
    let Some(sims) = ev.similarity(&subject.label, &titles) else {
        return false;
    };
    for ((ci, _), sim) in titled.iter().zip(sims) {
        cands[*ci].title_similarity = Some(sim);
    }
    true
}

/// Measures the similarity to the claim of the undecided sentences that could be judged
/// (quotable, sharing a claim term), best placed first, at most
/// [`SENTENCE_SIMILARITY_BUDGET`] of them, in one batch (a sentence an earlier pass
/// measured keeps its value); a sentence at least [`SENTENCE_SIMILARITY`] similar is on
/// the subject.
fn measure_sentences(
    cands: &mut [Cand],
    claim: &str,
    ev: &dyn Evidence,
    mut undecided: Vec<(usize, usize)>,
) {
    undecided.retain(|&(ci, si)| {
        let s = &cands[ci].sents[si];
        s.quotable && s.coverage > 0.0
    });
    let priority =
        |&(ci, si): &(usize, usize)| cands[ci].sents[si].coverage * cands[ci].rank_weight();
    undecided.sort_by(|a, b| priority(b).total_cmp(&priority(a)).then(a.cmp(b)));
    undecided.truncate(SENTENCE_SIMILARITY_BUDGET);
    // A later pass over the same candidates measures only what is new: the claim is the
    // same, and so is a sentence's similarity to it.
    let (known, fresh): (Vec<_>, Vec<_>) = undecided
        .into_iter()
        .partition(|&(ci, si)| cands[ci].sents[si].claim_similarity.is_some());
    for (ci, si) in known {
        let s = &mut cands[ci].sents[si];
        s.on_subject = s.claim_similarity.is_some_and(|x| x >= SENTENCE_SIMILARITY);
    }
    if fresh.is_empty() {
        return;
    }
    let texts: Vec<&str> = fresh
        .iter()
        .map(|&(ci, si)| cands[ci].sents[si].text.as_str())
        .collect();
    let Some(sims) = ev.similarity(claim, &texts) else {
        return;
    };
    for ((ci, si), sim) in fresh.into_iter().zip(sims) {
        let s = &mut cands[ci].sents[si];
        s.claim_similarity = Some(sim);
        s.on_subject = sim >= SENTENCE_SIMILARITY;
    }
}

/// IDF-weighted share of the subject's terms found in `have` (terms no candidate holds
/// weigh as the rarest ones do: a name no passage uses is still missing).
fn subject_share(subject: &Subject, idf: &Idf, have: &BTreeSet<String>) -> f32 {
    let total: f32 = subject.terms.iter().map(|t| idf.idf(t)).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let got: f32 = subject
        .terms
        .iter()
        .filter(|t| have.contains(*t))
        .map(|t| idf.idf(t))
        .sum();
    got / total
}

/// The subject's most distinctive term among the candidates that hold any of it.
fn rarest<'a>(subject: &'a Subject, idf: &Idf) -> Option<&'a String> {
    subject
        .terms
        .iter()
        .filter(|t| idf.df(t) > 0)
        .min_by(|a, b| idf.df(a).cmp(&idf.df(b)).then(b.len().cmp(&a.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::plan;
    use verity_types::Mode;

    fn subj(claim: &str) -> Subject {
        subject(&plan(claim, Mode::Check).unwrap()).unwrap()
    }

    /// The gate on `"Title: sentence"` text, at a given coverage (sentence and context),
    /// reading the sentence's own subject when `read_subject`.
    fn gate_on(s: &Subject, idf: &Idf, t: &str, coverage: f32, read_subject: bool) -> bool {
        let about = sentence_subject(t.split(": ").nth(1).unwrap_or(t));
        on_subject(
            s,
            idf,
            &GateInput {
                context_terms: &text::term_set(t),
                context_names: &text::name_terms(t),
                coverage,
                context_coverage: coverage,
                title_similarity: None,
                title_terms: &text::term_set(t.split(':').next().unwrap_or("")),
                sentence_subject: about.as_ref().filter(|_| read_subject),
            },
        )
    }

    fn idf_of(texts: &[&str]) -> Idf {
        Idf::from_term_sets(texts.iter().map(|t| text::term_set(t)).collect())
    }

    #[test]
    fn subject_is_the_first_name_or_the_opening_phrase() {
        assert_eq!(
            subj("The Kestrel Barrier was built to hold back tides.").label,
            "Kestrel Barrier"
        );
        assert_eq!(
            subj("Port Vellan lies on the west coast of Harlow Island.").label,
            "Port Vellan"
        );
        assert_eq!(
            subj("Face masks reduce the spread of coughs.").label,
            "Face masks"
        );
        // A capital of position is not a name.
        assert_eq!(
            subj("Young swimmers in Port Vellan train at dawn.").label,
            "Young swimmers"
        );
        // A lone name before its verb is a name ("produces more" is a verb phrase).
        let s = subj("Varrow produces more wool than any other county.");
        assert_eq!((s.label.as_str(), s.named), ("Varrow", true));
        assert_eq!(
            subj("In 1850, Port Vellan was a village.").label,
            "Port Vellan"
        );
        // A description before the name is not the subject; the name it leads to is.
        assert_eq!(
            subj("The Varrish city of Port Vellan stands on the Kell River.").label,
            "Port Vellan"
        );
        assert_eq!(
            subj("The Varrish poet Anna Kell wrote ten plays.").label,
            "Anna Kell"
        );
        // A phrase after the description's noun is not part of it.
        assert_eq!(
            subj("Young swimmers in Port Vellan train at dawn.").label,
            "Young swimmers"
        );
        // A name inside a described subject is not the subject.
        assert_eq!(
            subj("The council vote approving the Clear Taps Programme was unanimous.").label,
            "council vote approving"
        );
    }

    #[test]
    fn another_subject_is_off_and_the_same_subject_in_context_is_on() {
        let texts = [
            "Kestrel Barrier: The Kestrel Barrier is a tidal wall on the Vell estuary.",
            "Dunmore Wall: The Dunmore Wall was a guarded wall built to stop raids.",
            "Harlow: Harlow is an island. Its wall was built in 1850.",
            "Kestrel Barrier: It was built to protect the town against raids.",
        ];
        let idf = idf_of(&texts);
        let s = subj("The Kestrel Barrier was built to protect against raids.");
        let gate = |t: &str, coverage: f32| gate_on(&s, &idf, t, coverage, true);
        assert!(!gate(texts[1], 0.3), "another wall is another subject");
        assert!(
            !gate("Herod the Great: He built a barrier wall.", 0.3),
            "2 of 3 words"
        );
        assert!(
            !gate("Kestrel Bay: a kestrel nests by the barrier.", 0.3),
            "not named"
        );
        assert!(!gate(texts[2], 0.1));
        // "It was built ..." is about the barrier: its title says so.
        assert!(gate(texts[3], 0.5));
        // A sentence that restates the claim is about it, whatever it calls the subject,
        // unless it is about its own source's named subject.
        assert!(gate(
            "Vell estuary: A barrier there was built against raids.",
            0.7
        ));
        assert!(!gate(texts[1], 0.7));
    }

    #[test]
    fn a_described_subject_is_its_head_noun() {
        let texts = [
            "Stroke in Varrow: Patients with marsh fever had strokes at any age.",
            "Varrow clinics: Young swimmers train at dawn.",
            "Varrow clinics: Clinic staff recorded 40 strokes.",
        ];
        let idf = idf_of(&texts);
        let s = subj("Young patients with marsh fever can have sudden strokes.");
        assert_eq!(s.label, "Young patients");
        assert_eq!(s.head.as_deref(), Some("patient"));
        let gate_at = |t: &str, coverage: f32| gate_on(&s, &idf, t, coverage, false);
        let gate = |t: &str| gate_at(t, 0.4);
        // About patients, though not about young ones: the stance decides the "young".
        assert!(gate(texts[0]));
        // The head noun with little else of the claim is a shared word.
        assert!(!gate_at(texts[0], 0.2));
        // "Young" alone is not the subject, nor is the claim's other topic.
        assert!(!gate(texts[1]));
        assert!(!gate(texts[2]));
        // A named subject has no head noun: it must be named.
        assert_eq!(subj("Port Vellan lies on the west coast.").head, None);
    }

    #[test]
    fn a_sentence_about_another_named_thing_is_off_subject() {
        let texts = [
            "Kestrel Barrier: The Kestrel Barrier is the only tidal wall in Port Vellan.",
            "Dunmore Weir: Slightly taller than the Kestrel Barrier, the Dunmore Weir is a dam.",
            "Dunmore Weir: It is lower than the Kestrel Barrier.",
            "Vell estuary: The Kestrel Barrier is the estuary's only tidal wall.",
        ];
        let idf = idf_of(&texts);
        let s = subj("The Kestrel Barrier is the only tidal wall in Port Vellan.");
        let gate = |t: &str| {
            let (title, sentence) = t.split_once(": ").unwrap();
            on_subject(
                &s,
                &idf,
                &GateInput {
                    context_terms: &text::term_set(t),
                    context_names: &text::name_terms(t),
                    coverage: 0.3,
                    context_coverage: 0.3,
                    title_similarity: None,
                    title_terms: &text::term_set(bare_title(title)),
                    sentence_subject: sentence_subject(sentence).as_ref(),
                },
            )
        };
        assert!(gate(texts[0]));
        assert!(!gate(texts[1]), "about the weir");
        assert!(!gate(texts[2]), "'it' is the weir");
        assert!(gate(texts[3]), "about the barrier, in another source");
        assert_eq!(bare_title("Titan (moon)"), "Titan");
        assert_eq!(
            sentence_subject("Slightly larger than the Moon, Io is a moon.").map(|s| s.0),
            Some(text::term_set("Io"))
        );
    }

    #[test]
    fn a_similar_title_counts_when_words_differ() {
        let idf = idf_of(&["Vellan: A port.", "Harlow: An island."]);
        let s = subj("Port Vellan is a fishing town.");
        let none = BTreeSet::new();
        let input = |sim| GateInput {
            context_terms: &none,
            context_names: &none,
            coverage: 0.0,
            context_coverage: 0.0,
            title_similarity: sim,
            title_terms: &none,
            sentence_subject: None,
        };
        assert!(!on_subject(&s, &idf, &input(None)));
        assert!(!on_subject(&s, &idf, &input(Some(0.4))));
        assert!(!on_subject(&s, &idf, &input(Some(0.8))));
        assert!(on_subject(&s, &idf, &input(Some(0.9))));
    }

    /// Similarities fixed per sentence: a stand-in for the embedder, so that the rule can
    /// be read apart from the model (the claim-level evals measure it with the real one).
    struct Sims(&'static [(&'static str, f32)]);

    impl Evidence for Sims {
        fn search(
            &self,
            _: &verity_types::SearchRequest,
        ) -> Result<Vec<verity_types::SearchHit>, String> {
            Ok(Vec::new())
        }
        fn has_dense(&self) -> bool {
            true
        }
        fn similarity(&self, _query: &str, texts: &[&str]) -> Option<Vec<f32>> {
            let of = |t: &str| {
                self.0
                    .iter()
                    .find(|(k, _)| t.contains(k))
                    .map_or(0.0, |p| p.1)
            };
            Some(texts.iter().map(|t| of(t)).collect())
        }
    }

    fn doc(title: &'static str, text: &'static str) -> crate::pipeline::testing::Doc {
        crate::pipeline::testing::Doc {
            publisher: title,
            title,
            kind: verity_types::SourceKind::News,
            published: (2024, 1, 1),
            text,
        }
    }

    /// The fixture documents as candidates for `claim`, covered and gated with `ev`.
    fn gated(claim: &str, docs: &[crate::pipeline::testing::Doc], ev: &Sims) -> Vec<Cand> {
        let mut cands = crate::pipeline::testing::cands(docs);
        let s = subject(&plan(claim, Mode::Check).unwrap()).unwrap();
        let idf = Idf::over(&cands);
        crate::judge::cover(&mut cands, &text::term_set(claim), &BTreeSet::new(), &idf);
        gate(&mut cands, &s, claim, &idf, ev);
        cands
    }

    #[test]
    fn a_sentence_close_to_the_claim_in_other_words_is_on_subject() {
        let claim = "Face coverings cut the spread of Harlow fever in crowded halls.";
        let docs = [
            doc(
                "Harlow fever study",
                "Wearing masks indoors halved transmission among the people tested in Harlow.",
            ),
            doc(
                "Harlow fever study, part two",
                "Harlow volunteers kept records of the outbreak.",
            ),
        ];
        // The words alone do not carry "face coverings" to "masks".
        let cands = gated(claim, &docs, &Sims(&[]));
        assert!(cands.iter().all(|c| c.sents.iter().all(|s| !s.on_subject)));
        // A close sentence is on the subject; one below the line stays off.
        let sims = Sims(&[("masks", 0.8), ("volunteers", SENTENCE_SIMILARITY - 0.1)]);
        let cands = gated(claim, &docs, &sims);
        assert!(cands[0].sents[0].on_subject);
        assert_eq!(cands[0].sents[0].claim_similarity, Some(0.8));
        assert!(!cands[1].sents[0].on_subject);
    }

    #[test]
    fn similarity_never_brings_back_a_sentence_about_another_named_thing() {
        let claim = "The Kestrel Barrier shields Port Vellan from storm surges.";
        let docs = [doc(
            "Dunmore Weir",
            "It is the only wall that shields the Vell harbour from storm surges.",
        )];
        let cands = gated(claim, &docs, &Sims(&[("shields", 0.95)]));
        let sent = &cands[0].sents[0];
        assert!(!sent.on_subject, "'It' is the weir");
        assert_eq!(sent.claim_similarity, None, "not measured at all");
    }

    #[test]
    fn an_opening_capital_the_passages_write_in_lower_case_is_a_common_word() {
        let claim = "Surveyors have mapped every channel of the Kell marsh with drones.";
        let planned = subj(claim);
        assert!(
            planned.named,
            "the plan reads the opening capital as a name"
        );
        let docs = [doc(
            "Kell marsh",
            "Two surveyors flew over the marsh last spring. The surveyors counted herons.",
        )];
        let cands = crate::pipeline::testing::cands(&docs);
        let written = as_written(&planned, claim, &cands).expect("a common word");
        assert!(!written.named);
        assert_eq!(written.head.as_deref(), Some("surveyor"));
        // As a name, "Surveyors" must be capitalised, so the sentence was off the subject;
        // as what the claim describes, the sentence holds its head noun.
        let t = "Kell marsh: Two surveyors flew over the marsh last spring.";
        let idf = idf_of(&[t]);
        assert!(!gate_on(&planned, &idf, t, 0.4, true));
        assert!(gate_on(&written, &idf, t, 0.4, true));
        let gated = gated(claim, &docs, &Sims(&[]));
        assert!(gated[0].sents[0].on_subject);

        // A word the passages capitalise inside a sentence is a name, and one they never
        // write in lower case is too: "Tarrow" stays a name.
        let named = subj("Tarrow is a port on the west coast of Harlow Island.");
        assert!(named.named);
        let stays_named = |text: &'static str| {
            let c = crate::pipeline::testing::cands(&[doc("Harlow ports", text)]);
            as_written(&named, "Tarrow is a port on the west coast.", &c).is_none()
        };
        assert!(stays_named(
            "The port of Tarrow is busy; tarrow nets and tarrow boats dry there."
        ));
        assert!(stays_named("Tarrow is a port. Ferries leave Harlow daily."));
        assert!(!stays_named(
            "Tarrow nets, tarrow boats and tarrow ropes dry on the quay."
        ));
    }
}
