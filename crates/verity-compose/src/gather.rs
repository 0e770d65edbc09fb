//! Gather: run the sub-queries, fuse their rankings, drop syndicated copies, cap what
//! one source contributes and prefer a spread of publishers; then split each candidate
//! passage into sentences with exact offsets.

use std::collections::{BTreeSet, HashMap, HashSet};

use verity_types::{
    char_slice, PassageId, SearchFilters, SearchHit, SearchMode, SearchRequest, StanceScores,
    SubQueryRun,
};

use crate::error::ComposeError;
use crate::text;
use crate::Evidence;

/// Reciprocal-rank-fusion constant: a hit at rank r of a sub-query adds
/// `weight / (RRF_K + r + 1)`.
pub const RRF_K: f32 = 60.0;

/// Most passages one source contributes to the candidates.
pub const MAX_PASSAGES_PER_SOURCE: usize = 3;

/// One sentence of a candidate passage.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    /// Character offsets within the passage text, whitespace trimmed.
    pub start: u64,
    pub end: u64,
    /// The exact passage slice.
    pub raw: String,
    /// Display text: whitespace squashed, list markers and emphasis marks removed.
    pub text: String,
    pub terms: BTreeSet<String>,
    /// Fit to be quoted as a sentence of the brief.
    pub quotable: bool,
    /// Stance scores against the hypothesis, when judged.
    pub scores: Option<StanceScores>,
    /// Counts towards the verdict (see `judge`).
    pub relevant: bool,
    /// IDF-weighted share of the hypothesis terms this sentence holds.
    pub coverage: f32,
    /// The same share over the sentence's context terms (`context_terms`).
    pub context_coverage: f32,
    /// What the stance model reads: the sentence with its source title and the sentence
    /// before it ([`verity_judge::in_context`]).
    pub context: String,
    /// Terms of what the sentence is about: its title and itself, and the sentence before
    /// when it refers back to it (see [`refers_back`]).
    pub context_terms: BTreeSet<String>,
    /// Of those, the terms of capitalised words (see [`text::name_terms`]).
    pub context_names: BTreeSet<String>,
    /// About the claim's subject (see `topic`); only such sentences count in claim mode.
    pub on_subject: bool,
    /// Embedding similarity of the sentence to the claim, when the topic gate measured it.
    pub claim_similarity: Option<f32>,
    /// Values the claim states that this sentence gives differently (see `mismatch`).
    pub mismatches: Vec<crate::mismatch::Mismatch>,
}

/// A candidate passage with its source.
#[derive(Debug, Clone)]
pub(crate) struct Cand {
    pub hit: SearchHit,
    pub fused: f32,
    /// 0-based position by fused score.
    pub rank: usize,
    pub sents: Vec<Sent>,
    pub terms: BTreeSet<String>,
    /// IDF-weighted share of the hypothesis terms the whole passage holds.
    pub topical: f32,
    /// Embedding similarity of the source title to the claim's subject, when measured.
    pub title_similarity: Option<f32>,
}

impl Cand {
    /// The voice independence is counted by: the publisher, else the source itself.
    pub fn voice(&self) -> String {
        self.hit
            .source
            .meta
            .publisher
            .as_deref()
            .map(|p| p.trim().to_lowercase())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| self.hit.source.id.to_string())
    }
    pub fn rank_weight(&self) -> f32 {
        1.0 / (1.0 + self.rank as f32 / 10.0)
    }
}

/// One search to run.
pub(crate) struct Query<'a> {
    pub aspect: &'a str,
    pub text: String,
    pub limit: usize,
    pub mode: SearchMode,
    pub weight: f32,
}

/// Fused hits (best first) with their fused scores, and the runs for `--explain`.
pub(crate) type Retrieved = (Vec<(SearchHit, f32)>, Vec<SubQueryRun>);

/// Runs `queries`, fusing their rankings; hits of sources in `skip` are left out.
/// Returns the fused hits (best first) and the runs for `--explain`.
pub(crate) fn retrieve(
    ev: &dyn Evidence,
    queries: &[Query<'_>],
    as_of: Option<chrono::NaiveDate>,
    mut on_done: impl FnMut(),
) -> Result<Retrieved, ComposeError> {
    let mut fused: HashMap<PassageId, (SearchHit, f32)> = HashMap::new();
    let mut runs = Vec::new();
    for q in queries {
        let req = SearchRequest {
            query: q.text.clone(),
            limit: q.limit,
            mode: q.mode,
            filters: SearchFilters {
                to: as_of,
                keep_undated: true,
                skip_duplicates: true,
                ..SearchFilters::default()
            },
        };
        let hits = ev.search(&req).map_err(|message| ComposeError::Search {
            query: q.text.clone(),
            message,
        })?;
        runs.push(SubQueryRun {
            aspect: q.aspect.to_string(),
            query: q.text.clone(),
            mode: q.mode.as_str().to_string(),
            hits: hits.len(),
        });
        for (r, hit) in hits.into_iter().enumerate() {
            // Syndicated copies count once: the original is in the library too.
            if hit.source.duplicate_of.is_some() {
                continue;
            }
            // `as_of` is also enforced here, for evidence backends that ignore filters.
            if !req.filters.admits_date(hit.source.meta.published) {
                continue;
            }
            let add = q.weight / (RRF_K + r as f32 + 1.0);
            fused
                .entry(hit.passage.id.clone())
                .and_modify(|e| e.1 += add)
                .or_insert((hit, add));
        }
        on_done();
    }
    let mut out: Vec<(SearchHit, f32)> = fused.into_values().collect();
    out.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then_with(|| a.0.passage.id.cmp(&b.0.passage.id))
    });
    Ok((out, runs))
}

/// Picks up to `max` candidates from fused hits: at most
/// [`MAX_PASSAGES_PER_SOURCE`] per source, and a publisher's n-th passage competes with
/// its score divided by `1 + n / 2` (a maximal-marginal-relevance style spread, so one
/// publisher does not fill the brief). `existing` passages are not picked again.
pub(crate) fn select(
    hits: Vec<(SearchHit, f32)>,
    max: usize,
    existing: &[Cand],
) -> Vec<(SearchHit, f32)> {
    let seen: HashSet<&PassageId> = existing.iter().map(|c| &c.hit.passage.id).collect();
    let mut per_source: HashMap<String, usize> = HashMap::new();
    let mut per_voice: HashMap<String, usize> = HashMap::new();
    for c in existing {
        *per_source.entry(c.hit.source.id.to_string()).or_default() += 1;
        *per_voice.entry(c.voice()).or_default() += 1;
    }
    let mut pool: Vec<(SearchHit, f32)> = hits
        .into_iter()
        .filter(|(h, _)| !seen.contains(&h.passage.id))
        .collect();
    let mut out = Vec::new();
    while out.len() < max && !pool.is_empty() {
        let mut best: Option<(usize, f32)> = None;
        for (i, (h, score)) in pool.iter().enumerate() {
            if per_source
                .get(h.source.id.as_str())
                .is_some_and(|n| *n >= MAX_PASSAGES_PER_SOURCE)
            {
                continue;
            }
            let n = per_voice.get(&voice_of(h)).copied().unwrap_or(0);
            let adjusted = score / (1.0 + n as f32 / 2.0);
            if best.is_none_or(|(_, b)| adjusted > b) {
                best = Some((i, adjusted));
            }
        }
        let Some((i, _)) = best else { break };
        let (h, score) = pool.remove(i);
        *per_source.entry(h.source.id.to_string()).or_default() += 1;
        *per_voice.entry(voice_of(&h)).or_default() += 1;
        out.push((h, score));
    }
    out
}

fn voice_of(h: &SearchHit) -> String {
    h.source
        .meta
        .publisher
        .as_deref()
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| h.source.id.to_string())
}

/// Turns a selected hit into a candidate with its sentences split out.
pub(crate) fn candidate(hit: SearchHit, fused: f32) -> Cand {
    let text = &hit.passage.text;
    let title = hit.source.meta.title.as_deref().unwrap_or("");
    let mut sents = Vec::new();
    for (a, b) in verity_ingest::sentences(text) {
        let Some(raw) = char_slice(text, a, b) else {
            continue;
        };
        // Trim whitespace and keep the offsets exact.
        let lead = raw.chars().take_while(|c| c.is_whitespace()).count() as u64;
        let trail = raw.chars().rev().take_while(|c| c.is_whitespace()).count() as u64;
        if a + lead >= b.saturating_sub(trail) {
            continue;
        }
        let (mut start, end) = (a + lead, b - trail);
        let Some(mut raw) = char_slice(text, start, end) else {
            continue;
        };
        let mut display = clean_display(raw);
        // A sentence that leans on the one before it is quoted together with it (one
        // exact span of the passage), so "They were built as protection against ..."
        // keeps the "Great Wall" it is about.
        let joins_previous = leans_on_previous(&display)
            && sents.last().is_some_and(|p: &Sent| {
                p.text.split_whitespace().count() + display.split_whitespace().count() <= 70
            });
        if joins_previous {
            let prev_start = sents.pop().map_or(start, |p| p.start);
            if let Some(joined) = char_slice(text, prev_start, end) {
                (start, raw) = (prev_start, joined);
                display = clean_display(raw);
            }
        }
        let quotable = is_quotable(&display);
        let before = sents.last().map_or("", |p| p.text.as_str());
        let context = verity_judge::in_context(title, before, &display);
        // What the sentence is about, for the topic gate: its title and itself, and the
        // sentence before only when it refers back ("It lies ...", "The city ..."): a
        // neighbour that mentions the subject in passing does not make it the topic.
        let about = if refers_back(&display) {
            context.clone()
        } else {
            verity_judge::in_context(title, "", &display)
        };
        sents.push(Sent {
            start,
            end,
            raw: raw.to_string(),
            terms: text::term_set(&display),
            context_terms: text::term_set(&about),
            context_names: text::name_terms(&about),
            context,
            text: display,
            quotable,
            scores: None,
            relevant: false,
            coverage: 0.0,
            context_coverage: 0.0,
            on_subject: true,
            claim_similarity: None,
            mismatches: Vec::new(),
        });
    }
    let terms = text::term_set(text);
    Cand {
        hit,
        fused,
        rank: 0,
        sents,
        terms,
        topical: 0.0,
        title_similarity: None,
    }
}

/// Light trimming for display: squash whitespace, drop list markers, quote markers,
/// emphasis marks and a leading news dateline ("KELLBRIDGE, Harlow (KP) — "). Never
/// changes the words of the sentence itself.
pub(crate) fn clean_display(raw: &str) -> String {
    let mut s = text::squash(raw).replace("**", "").replace("__", "");
    if let Some(i) = s.find(" — ") {
        let head = &s[..i];
        let letters: Vec<char> = head.chars().filter(|c| c.is_alphabetic()).collect();
        let upper = letters.iter().filter(|c| c.is_uppercase()).count();
        if head.chars().count() <= 40
            && !letters.is_empty()
            && upper * 10 >= letters.len() * 6
            && s[i + " — ".len()..].split_whitespace().count() >= 4
        {
            s = s[i + " — ".len()..].to_string();
        }
    }
    loop {
        let t = s.trim_start();
        let stripped = ["- ", "* ", "• ", "> ", "– "]
            .iter()
            .find_map(|m| t.strip_prefix(m));
        match stripped {
            Some(rest) => s = rest.to_string(),
            None => break,
        }
    }
    balance_quotes(s.trim())
}

/// Drops a quote mark left unmatched at either end when a quotation was split into
/// sentences (`"We start in May.` or `We start in May."`).
fn balance_quotes(s: &str) -> String {
    let mut t = s.to_string();
    for (open, close) in [('"', '"'), ('“', '”')] {
        let opens = t.chars().filter(|c| *c == open).count();
        let closes = t.chars().filter(|c| *c == close).count();
        let unbalanced = if open == close {
            opens % 2 == 1
        } else {
            opens != closes
        };
        if !unbalanced {
            continue;
        }
        if t.starts_with(open) && (open == close || opens > closes) {
            t = t[open.len_utf8()..].trim_start().to_string();
        } else if t.ends_with(close) && (open == close || closes > opens) {
            t = t[..t.len() - close.len_utf8()].trim_end().to_string();
        }
    }
    t
}

/// A sentence fit to quote: a real sentence (4–70 words, ends like one, not a question,
/// not a table row or heading).
pub(crate) fn is_quotable(s: &str) -> bool {
    let words = s.split_whitespace().count();
    if !(4..=70).contains(&words) {
        return false;
    }
    if s.starts_with(['#', '|']) || s.contains(" | ") {
        return false;
    }
    let end = s.trim_end_matches(['"', '\'', '”', '’', ')']);
    if !end.ends_with(['.', '!']) || s.ends_with('?') {
        return false;
    }
    !leans_on_previous(s)
}

/// Whether a sentence needs the one before it to be understood. One that opens with a
/// personal or possessive pronoun ("Its mean diameter is ...", "They were built ...")
/// names its subject in the sentence before: quoted alone it reads as if about something
/// else. A short one that opens with a demonstrative or "it" leans the same way ("It does
/// not reopen."); a long one usually stands alone ("It is estimated that ...").
pub(crate) fn leans_on_previous(s: &str) -> bool {
    let first = s.split_whitespace().next().unwrap_or("").to_lowercase();
    let first = first.trim_matches(|c: char| !c.is_alphanumeric());
    if ["its", "their", "his", "her", "he", "she", "they", "them"].contains(&first) {
        return true;
    }
    ["it", "this", "that", "these", "those", "such"].contains(&first)
        && s.split_whitespace().count() < 10
}

/// Whether a sentence opens by referring back to what came before: a pronoun or a
/// determiner ("It lies ...", "The city ...", "This was ...").
pub(crate) fn refers_back(s: &str) -> bool {
    let first = s.split_whitespace().next().unwrap_or("").to_lowercase();
    let first = first.trim_matches(|c: char| !c.is_alphanumeric());
    [
        "it", "its", "they", "their", "them", "he", "she", "his", "her", "this", "these", "that",
        "those", "the", "such",
    ]
    .contains(&first)
}

/// Marks sentences that repeat in three or more sources (footers, disclaimers) as not
/// quotable.
pub(crate) fn mark_boilerplate(cands: &mut [Cand]) {
    let mut sources_of: HashMap<String, HashSet<String>> = HashMap::new();
    for c in cands.iter() {
        for s in &c.sents {
            sources_of
                .entry(s.text.to_lowercase())
                .or_default()
                .insert(c.hit.source.id.to_string());
        }
    }
    for c in cands.iter_mut() {
        for s in &mut c.sents {
            if sources_of
                .get(&s.text.to_lowercase())
                .is_some_and(|set| set.len() >= 3)
            {
                s.quotable = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(text: &str) -> SearchHit {
        let id = verity_types::SourceId::new("s");
        SearchHit {
            passage: verity_types::Passage {
                id: verity_types::PassageId {
                    source: id.clone(),
                    ordinal: 0,
                },
                start: 0,
                end: text.chars().count() as u64,
                text: text.into(),
            },
            source: verity_types::Source {
                id,
                location: "s.txt".into(),
                format: verity_types::Format::Text,
                meta: verity_types::DocMeta::default(),
                ingested_at: "2026-01-01T00:00:00Z".into(),
                char_len: text.chars().count() as u64,
                passage_count: 1,
                duplicate_of: None,
            },
            score: 1.0,
            highlights: Vec::new(),
        }
    }

    #[test]
    fn display_trimming_keeps_words() {
        assert_eq!(
            clean_display("- **Finding 1:** the  weir\n was late."),
            "Finding 1: the weir was late."
        );
        assert_eq!(
            clean_display("KELLBRIDGE, Harlow (KP) — The weir reopened on Monday."),
            "The weir reopened on Monday."
        );
        assert_eq!(clean_display("We start in May.\""), "We start in May.");
        assert_eq!(clean_display("“We start in May."), "We start in May.");
        assert_eq!(
            clean_display("He said \"yes\" twice."),
            "He said \"yes\" twice."
        );
        assert_eq!(
            clean_display("The weir — rebuilt in 2021 — reopened."),
            "The weir — rebuilt in 2021 — reopened."
        );
    }

    #[test]
    fn quotable_sentences() {
        assert!(is_quotable("The Dunmore weir reopened to boats on 3 May."));
        assert!(!is_quotable("Key findings"));
        assert!(!is_quotable("Did the Dunmore weir reopen to boats in May?"));
        assert!(!is_quotable("| 2023 | 14 | 9 | 12 | 15 |"));
        assert!(!is_quotable("It does not reopen."));
        // ... but joined to the sentence before it, it is quoted in context.
        let c = candidate(
            hit("The Kestrel barrier was finished in 2023. They say it cost 40 million."),
            1.0,
        );
        assert_eq!(c.sents.len(), 1);
        assert_eq!(
            c.sents[0].text,
            "The Kestrel barrier was finished in 2023. They say it cost 40 million."
        );
        assert!(c.sents[0].quotable);
        assert!(!is_quotable(
            "Its mean diameter is about half the Earth's, and its surface area is large."
        ));
        assert!(!is_quotable(
            "He was the first person to walk on the quay at Port Vellan."
        ));
        assert!(is_quotable(
            "It is estimated that the works will take four years to finish in full."
        ));
        assert!(is_quotable("The vote was not unanimous."));
    }
}
