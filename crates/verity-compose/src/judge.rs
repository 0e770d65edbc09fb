//! Judge: score candidate sentences against the hypothesis, decide which ones clearly
//! address it, and aggregate their stances into a verdict.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use verity_judge::StanceModel;
use verity_types::{Mode, StanceScores, Verdict};

use crate::error::ComposeError;
use crate::gather::Cand;
use crate::mismatch;
use crate::topic::SENTENCE_SIMILARITY_CONTRADICTS;

/// A sentence counts as taking a stance when its neutral probability is at most
/// `1 - MIN_RELATEDNESS`.
pub const MIN_RELATEDNESS: f32 = 0.5;

/// How far a neural judgement must lean one way (`|supports − contradicts|`) to count.
pub const NEURAL_MIN_LEAN: f32 = 0.3;

/// Below this net weighted evidence (see [`aggregate`]) the verdict is Not enough
/// evidence.
pub const MIN_MASS: f32 = 0.3;

/// Document frequencies of terms over the candidate passages.
pub(crate) struct Idf {
    n: usize,
    df: HashMap<String, usize>,
}

impl Idf {
    /// Over the candidates' passages, each with its source title (a passage is about what
    /// its title names even where its text says "it").
    pub fn over(cands: &[Cand]) -> Self {
        Self::from_term_sets(
            cands
                .iter()
                .map(|c| {
                    let mut t = c.terms.clone();
                    if let Some(title) = &c.hit.source.meta.title {
                        t.extend(crate::text::term_set(title));
                    }
                    t
                })
                .collect(),
        )
    }
    /// Over any documents, given as term sets.
    pub fn from_term_sets(docs: Vec<BTreeSet<String>>) -> Self {
        let mut df: HashMap<String, usize> = HashMap::new();
        for terms in &docs {
            for t in terms {
                *df.entry(t.clone()).or_default() += 1;
            }
        }
        Idf { n: docs.len(), df }
    }
    pub fn df(&self, t: &str) -> usize {
        self.df.get(t).copied().unwrap_or(0)
    }
    pub fn idf(&self, t: &str) -> f32 {
        (1.0 + self.n as f32 / (1.0 + self.df(t) as f32)).ln()
    }
    /// Weighted share of `wanted` found in `have`: each term weighs its IDF, doubled for
    /// the words of named entities (what a question or claim is about). Terms no
    /// candidate holds are left out of the total: nothing could cover them.
    pub fn coverage(
        &self,
        wanted: &BTreeSet<String>,
        named: &BTreeSet<String>,
        have: &BTreeSet<String>,
    ) -> f32 {
        let weight = |t: &String| {
            if named.contains(t) {
                2.0 * self.idf(t)
            } else {
                self.idf(t)
            }
        };
        let total: f32 = wanted.iter().filter(|t| self.df(t) > 0).map(weight).sum();
        if total <= 0.0 {
            return 0.0;
        }
        let got: f32 = wanted
            .iter()
            .filter(|t| have.contains(*t))
            .map(weight)
            .sum();
        got / total
    }
}

/// Sets each candidate's and sentence's coverage of the hypothesis terms (`named`: the
/// words of its entities).
pub(crate) fn cover(
    cands: &mut [Cand],
    hyp: &BTreeSet<String>,
    named: &BTreeSet<String>,
    idf: &Idf,
) {
    for c in cands.iter_mut() {
        c.topical = idf.coverage(hyp, named, &c.terms);
        for s in &mut c.sents {
            s.coverage = idf.coverage(hyp, named, &s.terms);
            s.context_coverage = idf.coverage(hyp, named, &s.context_terms);
        }
    }
}

/// The claim's distinctive terms: the (up to) two hypothesis terms that the fewest
/// candidate passages contain; and the terms no candidate contains at all.
pub(crate) fn focus_terms(hyp: &BTreeSet<String>, idf: &Idf) -> (Vec<String>, Vec<String>) {
    let mut ts: Vec<&String> = hyp.iter().collect();
    ts.sort_by(|a, b| {
        idf.df(a)
            .cmp(&idf.df(b))
            .then(b.chars().count().cmp(&a.chars().count()))
            .then(a.cmp(b))
    });
    let focus = ts.iter().take(2).map(|t| t.to_string()).collect();
    let missing = ts
        .iter()
        .filter(|t| idf.df(t) == 0)
        .map(|t| t.to_string())
        .collect();
    (focus, missing)
}

/// Sentences shorter than this many words are shown to the lexical fallback together
/// with the sentence before them.
const SHORT_SENTENCE_WORDS: usize = 10;

/// Terms that tie a sentence to what was asked: the words of the named entities that
/// fewer than 80% of the candidates hold (a name every passage carries ties nothing), and
/// the focus terms that occur at all. A question is about its selective names when it
/// has any (its verbs, "treated fairly", are too vague to anchor on); a claim is about
/// both. Empty when there are none.
pub(crate) fn anchor_terms(
    mode: Mode,
    entities: &[String],
    focus: &[String],
    idf: &Idf,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in entities {
        for t in crate::text::term_set(e) {
            if idf.df(&t) > 0 && (idf.df(&t) as f32) < 0.8 * idf.n as f32 {
                out.insert(t);
            }
        }
    }
    if mode == Mode::Ask && !out.is_empty() {
        return out;
    }
    for f in focus {
        if idf.df(f) > 0 {
            out.insert(f.clone());
        }
    }
    out
}

/// How much one judging pass may read: at most `pairs` pairs and about `tokens` model
/// tokens (the first pair always goes in).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    pub pairs: usize,
    pub tokens: usize,
}

/// Scores `pairs` with `judge`, one score per pair or a typed error naming the `stage`.
pub(crate) fn score_pairs(
    judge: &dyn StanceModel,
    pairs: &[(&str, &str)],
    stage: &'static str,
) -> Result<Vec<StanceScores>, ComposeError> {
    let scores = judge.score(pairs).map_err(|source| ComposeError::Judge {
        model: judge.name().to_string(),
        stage,
        source: Box::new(source),
    })?;
    if scores.len() != pairs.len() {
        return Err(ComposeError::JudgeCount {
            model: judge.name().to_string(),
            stage,
            expected: pairs.len(),
            got: scores.len(),
        });
    }
    Ok(scores)
}

/// Scores not-yet-judged sentences that share a term with the hypothesis, best
/// candidates first, within `budget`. Returns how many pairs were scored.
///
/// The neural judge reads each sentence in context: with its source title and the
/// sentence before it ([`verity_judge::in_context`]), the form it was trained on, so "It
/// is located on the west coast" knows what "it" is. The lexical fallback reads a short
/// sentence ("The vote was not unanimous.") together with the one before it in the
/// passage, because word overlap needs the subject that a short sentence leaves implicit.
/// Either way the quote stays the sentence itself, and in claim mode the lexical
/// relevance gate still asks the sentence itself to name a distinctive term of the claim.
pub(crate) fn judge_sentences(
    cands: &mut [Cand],
    hypothesis: &str,
    judge: &dyn StanceModel,
    budget: Budget,
) -> Result<usize, ComposeError> {
    let neural = judge.is_neural();
    let mut todo: Vec<(usize, usize, f32)> = Vec::new();
    for (ci, c) in cands.iter().enumerate() {
        for (si, s) in c.sents.iter().enumerate() {
            if s.scores.is_none() && s.quotable && s.on_subject && s.coverage > 0.0 {
                let priority = (s.coverage + 0.25 * c.topical) * c.rank_weight();
                todo.push((ci, si, priority));
            }
        }
    }
    todo.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
    todo.truncate(budget.pairs);
    let mut texts: Vec<String> = todo
        .iter()
        .map(|(ci, si, _)| {
            let sents = &cands[*ci].sents;
            let s = &sents[*si];
            if neural {
                s.context.clone()
            } else if *si > 0 && s.text.split_whitespace().count() < SHORT_SENTENCE_WORDS {
                format!("{} {}", sents[*si - 1].text, s.text)
            } else {
                s.text.clone()
            }
        })
        .collect();
    // The token budget, in priority order: stop at the first pair that would overrun it.
    let claim_cost = judge.token_cost(hypothesis) + 3; // [CLS] claim [SEP] ... [SEP]
    let mut spent = 0usize;
    let within = texts
        .iter()
        .position(|t| {
            spent += claim_cost + judge.token_cost(t);
            spent > budget.tokens
        })
        .unwrap_or(texts.len())
        .max(1);
    todo.truncate(within);
    texts.truncate(within);
    if todo.is_empty() {
        return Ok(0);
    }
    let pairs: Vec<(&str, &str)> = texts.iter().map(|t| (hypothesis, t.as_str())).collect();
    let scores = score_pairs(judge, &pairs, "judging evidence")?;
    for ((ci, si, _), sc) in todo.iter().zip(scores) {
        cands[*ci].sents[*si].scores = Some(sc);
    }
    Ok(todo.len())
}

/// A sentence's values are compared with the claim's only when it states the claim's own
/// relation: in its context (title, the sentence before) it holds at least this share of
/// the claim's predicate terms (its content words outside names, figures and dates) and
/// of the words of the names the claim gives. "The council *approved* the programme in
/// April 2023" says nothing of when a *contractor strike delayed* it.
pub const MISMATCH_MIN_RELATION: f32 = 0.66;

/// A figure with its unit or counted noun ("thirty bones") names its own slot, so a
/// sentence whose context (title, the sentence before, the sentence) holds this share of
/// the claim's predicate terms is enough for a figure mismatch: "There are thirty bones in
/// each leg." under the title "Human leg" gives the figure of "A human leg is made up of
/// twenty-two bones in total.".
pub const MISMATCH_MIN_FIGURE_RELATION: f32 = 0.34;

/// How strongly a named mismatch counts against the claim.
const MISMATCH_CONTRADICTS: f32 = 0.9;

/// The predicate terms of a claim: its content terms that are not part of a name
/// (`named`), a figure or a date.
pub(crate) fn relation_terms(claim: &str, named: &BTreeSet<String>) -> BTreeSet<String> {
    crate::text::term_set(claim)
        .into_iter()
        .filter(|t| !named.contains(t) && !t.chars().any(|c| c.is_ascii_digit()))
        .collect()
}

/// Whether a sentence with terms `have` states the relation whose predicate terms are
/// `relation` (see [`MISMATCH_MIN_RELATION`]).
pub(crate) fn states_claim_relation(relation: &BTreeSet<String>, have: &BTreeSet<String>) -> bool {
    relation_share(relation, have) >= MISMATCH_MIN_RELATION
}

/// Share of the relation's terms in `have` (1 for a claim without predicate terms). A
/// term counts when `have` holds it or a word of the same relation ("stands on" /
/// "is situated on", see `mismatch::same_relation`), and a name's term when `have` holds
/// the same name in another form ("Turkish" / "Turkey", see `mismatch::name_root`).
fn relation_share(relation: &BTreeSet<String>, have: &BTreeSet<String>) -> f32 {
    if relation.is_empty() {
        return 1.0;
    }
    let stated = |t: &String| {
        if have.contains(t) {
            return true;
        }
        // What depends on `t` alone is worked out once, not once per sentence term.
        let (root, verb) = (mismatch::name_root(t), mismatch::is_relation_verb(t));
        have.iter()
            .any(|h| mismatch::name_root(h) == root || (verb && mismatch::same_relation(t, h)))
    };
    let got = relation.iter().filter(|t| stated(t)).count();
    got as f32 / relation.len() as f32
}

/// The mismatches of a sentence with the claim, as far as the sentence states the claim's
/// relation: all of them when it does in its context (see [`MISMATCH_MIN_RELATION`]),
/// only figure mismatches when its context holds a third of it (see
/// [`MISMATCH_MIN_FIGURE_RELATION`]), none otherwise.
pub(crate) fn related_mismatches(
    claim: &str,
    relation: &BTreeSet<String>,
    s: &crate::gather::Sent,
) -> Vec<crate::mismatch::Mismatch> {
    let share = relation_share(relation, &s.context_terms);
    if share >= MISMATCH_MIN_RELATION {
        return crate::mismatch::mismatches(claim, &s.text);
    }
    if share < MISMATCH_MIN_FIGURE_RELATION {
        return Vec::new();
    }
    crate::mismatch::mismatches(claim, &s.text)
        .into_iter()
        // A figure given as an estimate ("about 4,800") is too loose to name on context alone.
        .filter(|m| m.kind == crate::mismatch::ValueKind::Number && !m.evidence_approx)
        .collect()
}

/// Scores that count a named mismatch as strong contradiction.
pub(crate) fn mismatch_scores(prior: Option<StanceScores>) -> StanceScores {
    let contradicts = prior.map_or(MISMATCH_CONTRADICTS, |sc| {
        sc.contradicts.max(MISMATCH_CONTRADICTS)
    });
    let supports = 0.02;
    StanceScores {
        supports,
        contradicts,
        neutral: (1.0 - supports - contradicts).max(0.0),
    }
}

/// Finds, in the sentences about the claim's subject that state its relation, values the
/// claim gives that they give differently (see `mismatch`), records them on the sentence
/// and scores it as contradicting: a different year, figure, place or name is strong
/// evidence against the claim whatever the model made of the wording. Returns how many
/// sentences have one.
pub(crate) fn apply_mismatches(cands: &mut [Cand], claim: &str, named: &BTreeSet<String>) -> usize {
    let relation = relation_terms(claim, named);
    let names: BTreeSet<String> = crate::text::term_set(claim)
        .intersection(named)
        .cloned()
        .collect();
    let mut found = 0;
    for s in cands.iter_mut().flat_map(|c| c.sents.iter_mut()) {
        if !s.on_subject || !s.quotable || !states_claim_relation(&names, &s.context_terms) {
            s.mismatches.clear();
            continue;
        }
        s.mismatches = related_mismatches(claim, &relation, s);
        if !s.mismatches.is_empty() {
            found += 1;
            s.scores = Some(mismatch_scores(s.scores));
        }
    }
    found
}

/// Decides which judged sentences clearly address the hypothesis.
///
/// - Claim mode: a sentence about another subject (see `topic`) never counts; one about
///   the claim's subject that gives a value of the claim differently (see `mismatch`)
///   always counts, as a contradiction. Otherwise:
/// - Claim mode, neural judge: the judge is not neutral (`neutral <= 1 - MIN_RELATEDNESS`),
///   leans one way by at least [`NEURAL_MIN_LEAN`] (`|supports − contradicts|`), and
///   either the topic gate has placed the sentence on the claim's subject (`gated`), or
///   the sentence names a distinctive term of the claim, or the judge is confident
///   (peak ≥ 0.85) — a paraphrase has to convince the model; when the claim's rarest term
///   occurs in no candidate at all, only a very confident judgement (≥ 0.9) counts. A
///   model that cannot tell "related" from "contradicting" then yields Not enough
///   evidence rather than a confident wrong verdict.
/// - Claim mode, lexical fallback: as above, and the sentence names one of the claim's
///   distinctive terms (`focus`), and the claim's rarest term occurs somewhere in the
///   candidates. Word overlap cannot tell a paraphrase from a coincidence, so a sentence
///   that shares only the claim's topic words ("Port Vellan", "water") is background,
///   not evidence, and a claim whose distinctive word no source uses is not addressed.
/// - Question mode: the judge is not neutral or the sentence covers at least 35% of the
///   question's (IDF-weighted) terms, its passage covers at least 35%, and the sentence
///   holds an anchor term (see [`anchor_terms`]) when there are any.
pub(crate) fn mark_relevant(
    cands: &mut [Cand],
    mode: Mode,
    neural: bool,
    gated: bool,
    focus: &[String],
    missing: &[String],
    anchors: &BTreeSet<String>,
) {
    let rarest_missing = focus.first().is_some_and(|f| missing.contains(f));
    for c in cands.iter_mut() {
        let topical = c.topical;
        for s in &mut c.sents {
            let Some(sc) = s.scores else {
                s.relevant = false;
                continue;
            };
            let related = sc.neutral <= 1.0 - MIN_RELATEDNESS;
            s.relevant = match mode {
                // Another subject is never evidence on the claim.
                Mode::Check if !s.on_subject => false,
                // A value the claim states, given differently by a passage on its subject.
                Mode::Check if !s.mismatches.is_empty() => true,
                // On the subject is not yet on the claim: "Beijing is the capital city of
                // China" is about China but says nothing of its wheat. A sentence counts
                // when it (in its context) holds one of the claim's distinctive terms, or
                // when the model is sure.
                Mode::Check if neural => {
                    let peak = sc.supports.max(sc.contradicts);
                    // On the subject only by its similarity to the claim (see `topic`):
                    // close enough to stand for the claim's own point, but it may speak
                    // against the claim only when very close.
                    let by_similarity = s.claim_similarity.filter(|_| s.on_subject);
                    let allowed = by_similarity.is_none_or(|x| {
                        sc.supports > sc.contradicts || x >= SENTENCE_SIMILARITY_CONTRADICTS
                    });
                    let focus_near = by_similarity.is_some()
                        || focus.iter().any(|f| s.context_terms.contains(f));
                    allowed
                        && related
                        && (sc.supports - sc.contradicts).abs() >= NEURAL_MIN_LEAN
                        && (focus_near || peak >= 0.85)
                        && (!rarest_missing || gated || peak >= 0.9)
                }
                Mode::Check => {
                    related && !rarest_missing && focus.iter().any(|f| s.terms.contains(f))
                }
                Mode::Ask => {
                    topical >= 0.35
                        && (related || s.coverage >= 0.35)
                        && (anchors.is_empty() || s.terms.iter().any(|t| anchors.contains(t)))
                }
            };
        }
    }
}

/// One passage's evidence for the verdict: its deciding sentence's scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceItem {
    /// Who speaks (publisher, else source id): items from one voice are not independent.
    pub voice: String,
    /// 0-based rank of the passage after fusing all sub-queries.
    pub rank: usize,
    pub scores: StanceScores,
}

/// The outcome of [`aggregate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub verdict: Verdict,
    pub confidence: f32,
    /// Net weighted support and contradiction.
    pub support: f32,
    pub contradict: f32,
    /// The weight each item got (rank × independence), in input order.
    pub weights: Vec<f32>,
}

/// Aggregates per-passage stances into a verdict on the fixed scale.
///
/// **The rule.** Each relevant passage contributes through its deciding sentence (the
/// one with the strongest non-neutral signal, as the judge itself does for long text):
///
/// 1. *Weight* `w = rank × independence`. `rank = 1 / (1 + r / 10)` for the passage's
///    0-based fused retrieval rank `r`. `independence = 1 / k` for the passage that is the
///    `k`-th strongest of its voice (publisher): one outlet repeating itself does not
///    outweigh several outlets; syndicated copies never reach this point.
/// 2. *Net lean*: a passage adds `w × max(0, supports − contradicts)` to the support
///    mass `S` and `w × max(0, contradicts − supports)` to the contradiction mass `C`;
///    the part of its probability that is split both ways cancels out.
/// 3. *Not enough evidence* when no passage is relevant or `S + C < MIN_MASS`.
///    Otherwise the share `S / (S + C)` picks the label: ≥ 0.85 Supported, ≥ 0.65 Mostly
///    supported, > 0.35 Mixed, > 0.15 Mostly unsupported, else Contradicted.
/// 4. *Confidence* = `(1 − e^−(S+C)) × (0.5 + 0.5 d)`, where `d` in [0, 1] is how deep
///    the share sits inside its band (1 at the middle of Mixed or at the ends of the
///    scale): more evidence and a clearer lean mean more confidence. For Not enough
///    evidence it is 0.8 when nothing was relevant after the second retrieval pass
///    (retrieval can still miss a paraphrase), 0.6 when a little was.
///
/// Rounded to two decimals so that briefs are stable across runs.
pub fn aggregate(items: &[EvidenceItem]) -> Aggregate {
    // Independence: order each voice's items by strength of lean.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        let la = (items[a].scores.supports - items[a].scores.contradicts).abs();
        let lb = (items[b].scores.supports - items[b].scores.contradicts).abs();
        lb.total_cmp(&la).then(items[a].rank.cmp(&items[b].rank))
    });
    let mut seen_voice: HashMap<&str, usize> = HashMap::new();
    let mut weights = vec![0.0f32; items.len()];
    for i in order {
        let k = seen_voice.entry(items[i].voice.as_str()).or_insert(0);
        *k += 1;
        let rank_w = 1.0 / (1.0 + items[i].rank as f32 / 10.0);
        weights[i] = rank_w / *k as f32;
    }
    let (mut s, mut c) = (0.0f32, 0.0f32);
    for (it, w) in items.iter().zip(&weights) {
        let lean = it.scores.supports - it.scores.contradicts;
        if lean > 0.0 {
            s += w * lean;
        } else {
            c += w * -lean;
        }
    }
    let mass = s + c;
    let round = |x: f32| (x * 100.0).round() / 100.0;
    if items.is_empty() || mass < MIN_MASS {
        return Aggregate {
            verdict: Verdict::NotEnoughEvidence,
            confidence: if items.is_empty() { 0.8 } else { 0.6 },
            support: round(s),
            contradict: round(c),
            weights: weights.into_iter().map(round).collect(),
        };
    }
    let share = s / mass;
    let (verdict, depth) = if share >= 0.85 {
        (Verdict::Supported, (share - 0.85) / 0.15)
    } else if share >= 0.65 {
        (Verdict::MostlySupported, band_depth(share, 0.65, 0.85))
    } else if share > 0.35 {
        (Verdict::Mixed, band_depth(share, 0.35, 0.65))
    } else if share > 0.15 {
        (Verdict::MostlyUnsupported, band_depth(share, 0.15, 0.35))
    } else {
        (Verdict::Contradicted, (0.15 - share) / 0.15)
    };
    let amount = 1.0 - (-mass).exp();
    let confidence = amount * (0.5 + 0.5 * depth.clamp(0.0, 1.0));
    Aggregate {
        verdict,
        confidence: round(confidence.clamp(0.0, 1.0)),
        support: round(s),
        contradict: round(c),
        weights: weights.into_iter().map(round).collect(),
    }
}

/// How deep `x` sits in `[lo, hi]`: 1 at the middle, 0 at the edges.
fn band_depth(x: f32, lo: f32, hi: f32) -> f32 {
    let half = (hi - lo) / 2.0;
    let mid = lo + half;
    1.0 - ((x - mid).abs() / half).min(1.0)
}

/// The deciding sentence of a candidate: among its relevant sentences, the one with the
/// strongest lean either way.
pub(crate) fn deciding_sentence(c: &Cand) -> Option<usize> {
    c.sents
        .iter()
        .enumerate()
        .filter(|(_, s)| s.relevant)
        .filter_map(|(i, s)| s.scores.map(|sc| (i, (sc.supports - sc.contradicts).abs())))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_on_subject_sentence_counts_with_a_distinctive_term_or_a_sure_model() {
        use crate::pipeline::testing::{self, RESERVOIR_DOCS};
        let relevant = |focus: &str, contradicts: f32| {
            let mut cands = testing::cands(&RESERVOIR_DOCS[..1]);
            let s = &mut cands[0].sents[0];
            s.on_subject = true;
            s.context_terms = crate::text::term_set("Ashby reservoir: The reservoir closed.");
            s.scores = Some(StanceScores {
                supports: 0.05,
                contradicts,
                neutral: 0.95 - contradicts,
            });
            mark_relevant(
                &mut cands,
                Mode::Check,
                true,
                true,
                &[focus.to_string()],
                &[],
                &BTreeSet::new(),
            );
            cands[0].sents[0].relevant
        };
        // About the reservoir, but not about the claim's wheat: not evidence on it.
        assert!(!relevant("wheat", 0.75));
        assert!(relevant("reservoir", 0.75));
        assert!(relevant("wheat", 0.9), "a sure model counts");
    }

    #[test]
    fn a_sentence_on_the_subject_by_similarity_supports_but_rarely_contradicts() {
        use crate::pipeline::testing::{self, RESERVOIR_DOCS};
        let relevant = |similarity: f32, supports: f32, contradicts: f32| {
            let mut cands = testing::cands(&RESERVOIR_DOCS[..1]);
            let s = &mut cands[0].sents[0];
            s.on_subject = true;
            s.claim_similarity = Some(similarity);
            s.context_terms = crate::text::term_set("Ashby reservoir: The reservoir closed.");
            s.scores = Some(StanceScores {
                supports,
                contradicts,
                neutral: 1.0 - supports - contradicts,
            });
            mark_relevant(
                &mut cands,
                Mode::Check,
                true,
                true,
                &["wheat".to_string()],
                &[],
                &BTreeSet::new(),
            );
            cands[0].sents[0].relevant
        };
        // Close in meaning stands in for the claim's distinctive words ...
        assert!(relevant(0.6, 0.7, 0.1));
        // ... for support; a lean against the claim needs a much closer sentence.
        assert!(!relevant(0.6, 0.1, 0.7));
        assert!(relevant(SENTENCE_SIMILARITY_CONTRADICTS, 0.1, 0.7));
        // The model must still lean.
        assert!(!relevant(0.8, 0.4, 0.35));
    }

    #[test]
    fn the_title_completes_the_claims_relation_for_a_mismatch() {
        use crate::pipeline::testing::{self, RESERVOIR_DOCS};
        let claim = "The Vell loom was introduced in the 16th century, raising hand output.";
        let relation = relation_terms(claim, &BTreeSet::new());
        let mut cands = testing::cands(&RESERVOIR_DOCS[..1]);
        let s = &mut cands[0].sents[0];
        s.text = "The Vell loom was introduced in the 13th century, raising output.".into();
        s.terms = crate::text::term_set(&s.text);
        s.context_terms = s.terms.clone();
        let found = |s: &crate::gather::Sent| related_mismatches(claim, &relation, s).len();
        assert_eq!(found(s), 1, "the sentence states the relation");
        // Without "hand" and "raising" the sentence alone falls short ...
        s.text = "The Vell loom was introduced in the 13th century.".into();
        s.terms = crate::text::term_set(&s.text);
        s.context_terms = s.terms.clone();
        assert_eq!(found(s), 0);
        // ... and its title and the sentence before complete it.
        s.context_terms = crate::text::term_set(&format!("Hand looms: Raising output. {}", s.text));
        assert_eq!(found(s), 1);
    }

    #[test]
    fn a_relation_in_other_words_and_a_name_in_another_form_still_state_the_claim() {
        let claim =
            "The Varrish town of Kellbridge stands on the Orme River, 35 km inland from the coast.";
        let relation = relation_terms(claim, &crate::text::name_terms(claim));
        let names: BTreeSet<String> = crate::text::name_terms(claim);
        let have = crate::text::term_set(
            "Kellbridge: Kellbridge is a market town in Varra. \
             The town is situated on the Arne River, 35 km inland from the coast.",
        );
        // "situated" states what "stands" does, and "Varra" names what "Varrish" does.
        assert!(states_claim_relation(&relation, &have));
        assert!(states_claim_relation(&names, &have));
        // Another relation does not: "flows" is not "stands".
        let other = crate::text::term_set("The Arne River flows past the town to the coast.");
        assert!(!states_claim_relation(&relation, &other));
        // The place in that one slot is then named as given differently.
        let found = crate::mismatch::mismatches(
            claim,
            "The town is situated on the Arne River, 35 km inland from the coast.",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        // Unrelated verbs are never one relation.
        assert!(!crate::mismatch::same_relation("stand", "flow"));
        assert!(crate::mismatch::same_relation("stand", "situat"));
        assert_eq!(
            crate::mismatch::name_root("turkish"),
            crate::mismatch::name_root("turkey")
        );
        assert_ne!(
            crate::mismatch::name_root("city"),
            crate::mismatch::name_root("cite")
        );
    }

    fn item(voice: &str, rank: usize, s: f32, c: f32) -> EvidenceItem {
        EvidenceItem {
            voice: voice.into(),
            rank,
            scores: StanceScores {
                supports: s,
                contradicts: c,
                neutral: 1.0 - s - c,
            },
        }
    }

    #[test]
    fn no_evidence_is_not_enough_evidence() {
        let a = aggregate(&[]);
        assert_eq!(a.verdict, Verdict::NotEnoughEvidence);
        // A faint lean is not enough either.
        let a = aggregate(&[item("a", 0, 0.4, 0.3)]);
        assert_eq!(a.verdict, Verdict::NotEnoughEvidence);
    }

    #[test]
    fn agreement_gives_the_ends_of_the_scale() {
        let a = aggregate(&[item("a", 0, 0.8, 0.1), item("b", 1, 0.7, 0.1)]);
        assert_eq!(a.verdict, Verdict::Supported);
        assert!(a.confidence > 0.5, "{a:?}");
        let a = aggregate(&[item("a", 0, 0.1, 0.8), item("b", 1, 0.1, 0.7)]);
        assert_eq!(a.verdict, Verdict::Contradicted);
    }

    #[test]
    fn disagreement_is_mixed() {
        let a = aggregate(&[item("a", 0, 0.8, 0.1), item("b", 0, 0.1, 0.8)]);
        assert_eq!(a.verdict, Verdict::Mixed);
        assert!(a.confidence > 0.0 && a.confidence <= 1.0);
    }

    #[test]
    fn one_voice_repeating_itself_counts_less() {
        // Three passages of one publisher for, two independent ones against.
        let items = [
            item("gazette", 0, 0.8, 0.1),
            item("gazette", 1, 0.8, 0.1),
            item("gazette", 2, 0.8, 0.1),
            item("audit", 3, 0.1, 0.8),
            item("board", 4, 0.1, 0.8),
        ];
        let a = aggregate(&items);
        assert_eq!(a.weights[0], 1.0);
        assert!(a.weights[1] < 0.5 && a.weights[2] < 0.35, "{:?}", a.weights);
        assert_eq!(a.verdict, Verdict::Mixed, "{a:?}");
        // Without the independence rule the gazette would have carried it.
        let s_naive: f32 = 3.0 * 0.7;
        assert!(a.support < s_naive);
    }

    #[test]
    fn rank_lowers_weight() {
        let a = aggregate(&[item("a", 0, 0.8, 0.1), item("b", 20, 0.8, 0.1)]);
        assert!(a.weights[1] < a.weights[0]);
    }
}
