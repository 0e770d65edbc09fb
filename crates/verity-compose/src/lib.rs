//! Verity's brief builder: from a question or a claim, plus an evidence library and a
//! stance model, build a [`Brief`] — a balanced, cited report in which every sentence is
//! a source sentence tied to an exact span of a stored source, and has been checked
//! against the passage it cites.
//!
//! The builder depends on no storage: the library comes in through the [`Evidence`]
//! trait and the stance model through [`verity_judge::StanceModel`].
//!
//! ```text
//! plan ──▶ gather (sub-queries, fusion, diversity) ──▶ judge (per sentence)
//!      ──▶ second pass for uncovered aspects ──▶ verdict (claim mode)
//!      ──▶ compose (summary, findings, bottom line) ──▶ verify every sentence
//!      ──▶ number sources, angles, gaps, follow-ups
//! ```
//!
//! ```
//! use chrono::NaiveDate;
//! use verity_compose::{build_brief, BriefRequest, Evidence, Mode};
//! use verity_judge::LexicalStance;
//! use verity_types::{NoProgress, SearchHit, SearchRequest};
//!
//! struct Empty;
//! impl Evidence for Empty {
//!     fn search(&self, _: &SearchRequest) -> Result<Vec<SearchHit>, String> { Ok(vec![]) }
//!     fn has_dense(&self) -> bool { false }
//! }
//!
//! let today = NaiveDate::from_ymd_opt(2025, 12, 1).unwrap();
//! let req = BriefRequest::new("Fact check: The Dunmore weir was rebuilt in 2021.", Mode::Ask, today);
//! let brief = build_brief(&req, &Empty, &LexicalStance::new(), &NoProgress).unwrap();
//! assert_eq!(brief.mode, Mode::Check);
//! assert_eq!(brief.verdict.unwrap().label, "Not enough evidence");
//! assert!(brief.gaps.iter().all(|g| g.statement.contains("not found in the indexed sources")));
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod compose;
mod error;
mod gather;
mod judge;
mod mismatch;
mod parts;
mod plan;
mod text;
mod topic;
mod verify;

// The brief's types live in `verity-types` so that renderers need not depend on the
// builder; they are re-exported here under their old paths.
pub use compose::kind_label;
pub use error::ComposeError;
pub use judge::{aggregate, Aggregate, EvidenceItem, MIN_MASS, MIN_RELATEDNESS};
pub use plan::{detect_mode, plan, Aspect, AspectKind, Plan, FACT_CHECK_PREFIX};
pub use verify::{
    display_text, support_scores, verify_sentences, Verified, DEFAULT_SUPPORT_THRESHOLD,
};
pub use verity_types::{
    AngleGroup, Angles, Brief, BriefSource, CandidateScore, Citation, ClaimPart, Currency,
    Divergence, DroppedSentence, Explain, Finding, Gap, Lean, Mode, Perspective, Sentence,
    SubQueryRun, UsedPassage, ValueMismatch, VerdictBlock, Verification,
};

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use verity_judge::StanceModel;
use verity_types::{Passage, PassageId, Progress, SearchHit, SearchMode, SearchRequest, Verdict};

use crate::compose::{Composer, Pick};
use crate::gather::{Cand, Query};
use crate::judge::Idf;

/// Evidence access; the engine implements it over its library.
pub trait Evidence: Send + Sync {
    /// Ranked passages for a request (filters applied: `to` for `--as-of`,
    /// `skip_duplicates` for syndicated copies).
    fn search(&self, req: &SearchRequest) -> Result<Vec<SearchHit>, String>;
    /// Whether dense/hybrid search is available (affects the second-pass strategy and the
    /// notes).
    fn has_dense(&self) -> bool;
    /// Cosine similarity of `query` to each of `texts` under the library's sentence
    /// embedder (used by the topic gate on source titles); `None` without one.
    fn similarity(&self, _query: &str, _texts: &[&str]) -> Option<Vec<f32>> {
        None
    }
}

/// Default number of candidate passages kept after the first retrieval pass.
pub const DEFAULT_MAX_CANDIDATES: usize = 40;
/// Default number of (hypothesis, sentence) pairs the stance model scores in the first
/// pass; the second pass may add a third as many.
pub const DEFAULT_MAX_JUDGE_PAIRS: usize = 96;
/// Default number of model tokens (claim and sentence, summed over pairs) the stance model
/// reads in the first pass; the second pass may add a third as many. Whichever of this and
/// [`DEFAULT_MAX_JUDGE_PAIRS`] is reached first ends the pass. The cross-encoder reads
/// about 3,700 tokens a second on a 2-core laptop (measured), so this bounds the first pass
/// to under two seconds even where claims and sentences are long; on typical text (a
/// 12-word claim, 25-word sentences: ~55 tokens a pair) the pair limit is reached first.
pub const DEFAULT_MAX_JUDGE_TOKENS: usize = 6_000;
/// Default number of sources one brief cites.
pub const DEFAULT_MAX_SOURCES: usize = 12;
/// Candidates the second retrieval pass asks for per query.
pub const SECOND_PASS_LIMIT: usize = 50;

/// What to build a brief for.
#[derive(Debug, Clone, PartialEq)]
pub struct BriefRequest {
    /// The question or claim. Input starting "Fact check:" is a claim whatever `mode` says.
    pub input: String,
    pub mode: Mode,
    /// Use only sources published on or before this date.
    pub as_of: Option<NaiveDate>,
    /// The "checked on" date.
    pub today: NaiveDate,
    /// Keep sentences that fail the support check, flagged, instead of dropping them.
    pub show_unsupported: bool,
    /// Support a sentence needs from the passages it cites.
    pub support_threshold: f32,
    /// Make the stance model the only judge of support: verbatim quotes get no pass
    /// (see [`verify_sentences`]). Useful to evaluate a model; with a weak one it empties
    /// the brief.
    pub strict_support: bool,
    /// Most sources the brief cites.
    pub max_sources: usize,
    /// Candidate passages kept after the first retrieval pass.
    pub max_candidates: usize,
    /// Stance-model pairs scored in the first pass (bounds the time the judge takes).
    pub max_judge_pairs: usize,
    /// Stance-model tokens read in the first pass (see [`DEFAULT_MAX_JUDGE_TOKENS`]).
    pub max_judge_tokens: usize,
    /// Fill [`Brief::explain`] with the sub-queries and scores.
    pub explain: bool,
}

impl BriefRequest {
    /// A request with the default settings.
    pub fn new(input: impl Into<String>, mode: Mode, today: NaiveDate) -> Self {
        BriefRequest {
            input: input.into(),
            mode,
            as_of: None,
            today,
            show_unsupported: false,
            support_threshold: DEFAULT_SUPPORT_THRESHOLD,
            strict_support: false,
            max_sources: DEFAULT_MAX_SOURCES,
            max_candidates: DEFAULT_MAX_CANDIDATES,
            max_judge_pairs: DEFAULT_MAX_JUDGE_PAIRS,
            max_judge_tokens: DEFAULT_MAX_JUDGE_TOKENS,
            explain: false,
        }
    }
}

/// What a judging pass leaves for the rest of the brief.
struct Judged {
    /// Pairs the stance model scored.
    pairs: usize,
    /// The claim's distinctive terms and those no candidate holds (see
    /// [`judge::focus_terms`]).
    focus: Vec<String>,
    missing: Vec<String>,
    /// Terms that tie a sentence to what was asked (see [`judge::anchor_terms`]).
    anchors: BTreeSet<String>,
}

/// One judging pass over the candidates: coverage, the topic gate (claim mode), the
/// stance model within a budget, named value mismatches (claim mode), and which judged
/// sentences count (see [`judge::mark_relevant`]), all over one IDF table.
struct JudgePass<'a> {
    plan: &'a Plan,
    subject: Option<&'a topic::Subject>,
    hyp_terms: &'a BTreeSet<String>,
    named: &'a BTreeSet<String>,
    judge: &'a dyn StanceModel,
    ev: &'a dyn Evidence,
}

impl JudgePass<'_> {
    fn run(&self, cands: &mut [Cand], budget: judge::Budget) -> Result<Judged, ComposeError> {
        let idf = Idf::over(cands);
        judge::cover(cands, self.hyp_terms, self.named, &idf);
        if let Some(subject) = self.subject {
            topic::gate(cands, subject, &idf, self.ev);
        }
        let judged = judge::judge_sentences(cands, &self.plan.hypothesis, self.judge, budget)?;
        let mode = self.plan.mode;
        if mode == Mode::Check {
            judge::apply_mismatches(cands, &self.plan.hypothesis, self.named);
        }
        let (focus, missing) = judge::focus_terms(self.hyp_terms, &idf);
        let anchors = judge::anchor_terms(mode, &self.plan.entities, &focus, &idf);
        judge::mark_relevant(
            cands,
            mode,
            self.judge.is_neural(),
            self.subject.is_some(),
            &focus,
            &missing,
            &anchors,
        );
        Ok(Judged {
            pairs: judged,
            focus,
            missing,
            anchors,
        })
    }
}

/// The disclaimer every brief carries.
pub const DISCLAIMER: &str = "This brief was assembled automatically from the indexed sources by selecting and ranking their sentences. It can be wrong or incomplete: open the cited passages and verify them before relying on it.";

/// Builds a brief. See the crate docs for the pipeline; the verdict rule is documented on
/// [`aggregate`], the support check on [`verify_sentences`].
pub fn build_brief(
    req: &BriefRequest,
    ev: &dyn Evidence,
    judge: &dyn StanceModel,
    progress: &dyn Progress,
) -> Result<Brief, ComposeError> {
    // ── Plan ───────────────────────────────────────────────────────────────────────
    progress.stage("plan", None);
    let plan = plan::plan(&req.input, req.mode)?;
    let mode = plan.mode;
    let neural = judge.is_neural();
    let hyp_terms = text::term_set(&plan.hypothesis);
    let named: BTreeSet<String> = plan
        .entities
        .iter()
        .flat_map(|e| text::term_set(e))
        .collect();

    // ── Gather ─────────────────────────────────────────────────────────────────────
    let queries: Vec<Query<'_>> = plan
        .aspects
        .iter()
        .flat_map(|a| {
            a.queries.iter().map(move |q| Query {
                aspect: &a.label,
                text: q.clone(),
                limit: a.kind.limit(),
                mode: SearchMode::Hybrid,
                weight: a.kind.fusion_weight(),
            })
        })
        .collect();
    progress.stage("retrieve", Some(queries.len() as u64));
    let (hits, mut runs) = gather::retrieve(ev, &queries, req.as_of, || progress.advance(1))?;
    let mut cands: Vec<Cand> = gather::select(hits, req.max_candidates.max(1), &[])
        .into_iter()
        .map(|(h, f)| gather::candidate(h, f))
        .collect();
    for (i, c) in cands.iter_mut().enumerate() {
        c.rank = i;
    }
    rank_by_fused(&mut cands);
    gather::mark_boilerplate(&mut cands);

    // ── Judge ──────────────────────────────────────────────────────────────────────
    let subject = (mode == Mode::Check)
        .then(|| topic::subject(&plan))
        .flatten();
    let pass = JudgePass {
        plan: &plan,
        subject: subject.as_ref(),
        hyp_terms: &hyp_terms,
        named: &named,
        judge,
        ev,
    };
    progress.stage("judge", Some(req.max_judge_pairs as u64));
    let Judged {
        pairs: mut judged,
        mut focus,
        mut missing,
        mut anchors,
    } = pass.run(
        &mut cands,
        judge::Budget {
            pairs: req.max_judge_pairs,
            tokens: req.max_judge_tokens,
        },
    )?;
    progress.advance(judged as u64);

    // ── Second pass for aspects nothing covered yet ────────────────────────────────
    let uncovered = uncovered_aspects(&plan, &cands, &missing);
    let mut pending: Vec<(usize, Vec<String>, Vec<String>, usize)> = Vec::new();
    if !uncovered.is_empty() {
        progress.stage("second pass", Some(uncovered.len() as u64));
        let mut modes = vec![SearchMode::Bm25];
        if ev.has_dense() {
            modes.push(SearchMode::Dense);
        }
        let mut added = 0usize;
        for &ai in &uncovered {
            let aspect = &plan.aspects[ai];
            let texts = second_pass_queries(&plan, aspect);
            let qs: Vec<Query<'_>> = texts
                .iter()
                .flat_map(|t| {
                    modes.iter().map(move |m| Query {
                        aspect: &aspect.label,
                        text: t.clone(),
                        limit: SECOND_PASS_LIMIT,
                        mode: *m,
                        weight: 1.0,
                    })
                })
                .collect();
            let (hits, r) = gather::retrieve(ev, &qs, req.as_of, || {})?;
            let seen = hits.len();
            runs.extend(r);
            // A few of the best new passages join the pool, so that a hit is judged.
            let room = 16usize.saturating_sub(added).min(6);
            let fresh = gather::select(hits, room, &cands);
            for (h, f) in fresh {
                let mut c = gather::candidate(h, f);
                c.rank = cands.len();
                cands.push(c);
                added += 1;
            }
            pending.push((
                ai,
                texts,
                modes.iter().map(|m| m.as_str().to_string()).collect(),
                seen,
            ));
            progress.advance(1);
        }
        if added > 0 {
            gather::mark_boilerplate(&mut cands);
            let again = pass.run(
                &mut cands,
                judge::Budget {
                    pairs: (req.max_judge_pairs / 3).max(8),
                    tokens: req.max_judge_tokens / 3,
                },
            )?;
            judged += again.pairs;
            (focus, missing, anchors) = (again.focus, again.missing, again.anchors);
        }
    }
    let still: HashSet<usize> = uncovered_aspects(&plan, &cands, &missing)
        .into_iter()
        .collect();
    let gaps: Vec<Gap> = pending
        .into_iter()
        .filter(|(ai, ..)| still.contains(ai))
        .map(|(ai, queries, modes, seen)| gap_for(&plan, &plan.aspects[ai], queries, modes, seen))
        .collect();

    // ── Verdict ────────────────────────────────────────────────────────────────────
    let mut deciding: Vec<(usize, usize)> = Vec::new();
    for (ci, c) in cands.iter().enumerate() {
        if let Some(si) = judge::deciding_sentence(c) {
            deciding.push((ci, si));
        }
    }
    let items: Vec<judge::EvidenceItem> = deciding
        .iter()
        .filter_map(|&(ci, si)| {
            Some(judge::EvidenceItem {
                voice: cands[ci].voice(),
                rank: cands[ci].rank,
                scores: cands[ci].sents[si].scores?,
            })
        })
        .collect();
    let mut agg = judge::aggregate(&items);
    // A compound claim: each part judged on its own, the verdict combined from theirs.
    let claim_parts = match mode {
        Mode::Check => parts::split_claim(&plan.statement),
        Mode::Ask => Vec::new(),
    };
    let part_outcomes = if claim_parts.len() > 1 {
        let pairs = (req.max_judge_pairs / claim_parts.len()).max(12);
        parts::assess_parts(&claim_parts, &cands, &named, judge, pairs)?
    } else {
        Vec::new()
    };
    if !part_outcomes.is_empty() {
        let vs: Vec<Verdict> = part_outcomes.iter().map(|p| p.agg.verdict).collect();
        agg.verdict = parts::combine(&vs);
        agg.confidence = part_outcomes
            .iter()
            .map(|p| p.agg.confidence)
            .fold(1.0f32, f32::min);
    }
    let verdict = (mode == Mode::Check).then_some(agg.verdict);
    let share =
        (agg.support + agg.contradict > 0.0).then(|| agg.support / (agg.support + agg.contradict));

    // ── Compose ────────────────────────────────────────────────────────────────────
    progress.stage("compose", None);
    let mut comp = Composer::new(&cands, mode, verdict, &focus, &anchors, req.max_sources);
    // The verdict's strongest sources on each side (at most three each) are cited by the
    // verdict line, so they come first.
    let mut verdict_sides: (Vec<Pick>, Vec<Pick>) = (Vec::new(), Vec::new());
    if mode == Mode::Check && agg.verdict != Verdict::NotEnoughEvidence {
        let mut ranked: Vec<(usize, f32)> =
            (0..deciding.len()).map(|i| (i, agg.weights[i])).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut voices_seen: HashSet<String> = HashSet::new();
        for (i, _) in ranked {
            let (ci, si) = deciding[i];
            let Some(sc) = cands[ci].sents[si].scores else {
                continue;
            };
            if !voices_seen.insert(cands[ci].voice()) {
                continue;
            }
            let lean = sc.supports - sc.contradicts;
            let side = if lean >= 0.1 {
                &mut verdict_sides.0
            } else if lean <= -0.1 {
                &mut verdict_sides.1
            } else {
                continue;
            };
            if side.len() < 3 {
                side.push(Pick { ci, si });
                comp.reserve_source(&cands[ci].hit.source.id);
            }
        }
    }

    for p in &part_outcomes {
        parts::add_part_picks(p, &cands, &mut verdict_sides, &mut comp);
    }

    let summary_picks = pick_summary(&mut comp, mode, verdict, share);
    // The bottom line is reserved before the findings so that they cannot use up the
    // newest decisive evidence.
    let bottom = comp.bottom_line(share);
    let mut finding_picks: Vec<(Perspective, Vec<Pick>)> = Vec::new();
    let nee = verdict == Some(Verdict::NotEnoughEvidence);
    let order = [
        Perspective::Supports,
        Perspective::Contradicts,
        Perspective::Mechanism,
        Perspective::Figures,
        Perspective::Context,
    ];
    for persp in order {
        if persp == Perspective::Context && !(nee || finding_picks.len() < 3) {
            continue;
        }
        let pool = comp.pool(persp);
        let first = comp.take(&pool, 3);
        if first.is_empty() {
            continue;
        }
        finding_picks.push((persp, first));
        let rest = comp.pool(persp);
        // A perspective with plenty left gets a second finding (context only when nothing
        // settles the claim, where it is all the brief has).
        if rest.len() >= 3 && finding_picks.len() < 5 && (persp != Perspective::Context || nee) {
            let second = comp.take(&rest, 3);
            if !second.is_empty() {
                finding_picks.push((persp, second));
            }
        }
        if finding_picks.len() >= 7 {
            break;
        }
    }
    if !bottom.is_empty() {
        finding_picks.push((Perspective::BottomLine, bottom));
    }

    // ── Verify every sentence ──────────────────────────────────────────────────────
    progress.stage("verify", None);
    let section_name = |i: usize| -> String {
        if i == 0 {
            "summary".to_string()
        } else {
            format!("finding {i}")
        }
    };
    let mut sections: Vec<Vec<Sentence>> = Vec::new();
    sections.push(
        summary_picks
            .iter()
            .map(|p| comp.sentence(*p, false))
            .collect(),
    );
    for (persp, picks) in &finding_picks {
        let attr = *persp == Perspective::Figures;
        sections.push(picks.iter().map(|p| comp.sentence(*p, attr)).collect());
    }
    let passages: HashMap<PassageId, Passage> = cands
        .iter()
        .map(|c| (c.hit.passage.id.clone(), c.hit.passage.clone()))
        .collect();
    let flat: Vec<(usize, Sentence)> = sections
        .into_iter()
        .enumerate()
        .flat_map(|(i, s)| s.into_iter().map(move |x| (i, x)))
        .collect();
    let (sec_of, sents): (Vec<usize>, Vec<Sentence>) = flat.into_iter().unzip();
    let checked = sents.len();
    let threshold = req.support_threshold;
    let support = verify::support_scores(&sents, &passages, judge, !req.strict_support, threshold)?;
    let mut sections: Vec<Vec<Sentence>> = vec![Vec::new(); finding_picks.len() + 1];
    let mut dropped_log = Vec::new();
    let mut flagged = 0usize;
    let mut verbatim = 0usize;
    let mut model_supported = 0usize;
    for ((sec, mut s), (sup, model)) in sec_of.into_iter().zip(sents).zip(support) {
        s.support = Some(sup);
        s.model_support = Some(model);
        if model >= threshold {
            model_supported += 1;
        }
        if sup >= threshold && model < threshold {
            verbatim += 1;
        }
        if sup >= threshold {
            sections[sec].push(s);
            continue;
        }
        dropped_log.push(DroppedSentence {
            section: section_name(sec),
            text: s.text.clone(),
            support: sup,
        });
        if req.show_unsupported {
            s.flagged = true;
            flagged += 1;
            sections[sec].push(s);
        }
    }
    let supported = checked - dropped_log.len();
    let verification = Verification {
        threshold,
        checked,
        kept: supported + flagged,
        flagged,
        share_supported: if checked == 0 {
            1.0
        } else {
            ((supported as f32 / checked as f32) * 1000.0).round() / 1000.0
        },
        verbatim,
        model_supported,
        dropped: if req.show_unsupported {
            Vec::new()
        } else {
            dropped_log
        },
    };

    let mut section_iter = sections.into_iter();
    let mut summary = section_iter.next().unwrap_or_default();
    summary.retain(|s| !s.citations.is_empty());
    let mut findings: Vec<Finding> = Vec::new();
    for ((persp, _), mut sents) in finding_picks.iter().zip(section_iter) {
        sents.retain(|s| !s.citations.is_empty());
        let Some(lead) = sents.first() else {
            continue;
        };
        findings.push(Finding {
            number: findings.len() + 1,
            perspective: *persp,
            heading: compose::heading(*persp, mode, &lead.text),
            sentences: sents,
        });
    }

    // ── Number sources in reading order ────────────────────────────────────────────
    let verdict_sentences: Vec<Sentence> = verdict_sides
        .0
        .iter()
        .chain(&verdict_sides.1)
        .map(|p| comp.sentence(*p, false))
        .collect();
    let mut order: Vec<&Citation> = Vec::new();
    for s in &verdict_sentences {
        order.extend(&s.citations);
    }
    for s in summary
        .iter()
        .chain(findings.iter().flat_map(|f| &f.sentences))
    {
        order.extend(&s.citations);
    }
    let (numbers, sources) = compose::number_sources(&order, &cands);
    let set_numbers = |s: &mut Sentence| {
        for c in &mut s.citations {
            c.n = numbers.get(&c.source_id).copied().unwrap_or(0);
        }
        s.citations.retain(|c| c.n > 0);
    };
    summary.iter_mut().for_each(set_numbers);
    for f in &mut findings {
        f.sentences.iter_mut().for_each(set_numbers);
    }

    // Stance counts per source number, for the angles.
    let mut stance_of: HashMap<usize, (usize, usize)> = HashMap::new();
    let mut count = |n: usize, st: Option<verity_types::Stance>| {
        let e = stance_of.entry(n).or_insert((0, 0));
        match st {
            Some(verity_types::Stance::Supports) => e.0 += 1,
            Some(verity_types::Stance::Contradicts) => e.1 += 1,
            _ => {}
        }
    };
    for s in verdict_sentences
        .iter()
        .chain(summary.iter())
        .chain(findings.iter().flat_map(|f| &f.sentences))
    {
        for c in &s.citations {
            if let Some(n) = numbers.get(&c.source_id) {
                count(*n, if nee { None } else { s.stance });
            }
        }
    }

    let n_of = |picks: &[Pick]| -> Vec<usize> {
        let mut v: Vec<usize> = picks
            .iter()
            .filter_map(|p| numbers.get(&cands[p.ci].hit.source.id).copied())
            .collect();
        v.dedup();
        v
    };
    let verdict_block = (mode == Mode::Check).then(|| {
        let supporting = n_of(&verdict_sides.0);
        let contradicting = n_of(&verdict_sides.1);
        let mismatches = value_mismatches(&cands, &deciding, &numbers);
        let parts: Vec<ClaimPart> = part_outcomes
            .iter()
            .map(|p| parts::claim_part(p, &cands, &numbers))
            .collect();
        let mut conclusion = conclusion(agg.verdict, &items, &agg);
        if let Some(m) = mismatches.first() {
            conclusion.push_str(&format!(" Mismatch: {}.", m.describe()));
        }
        if !parts.is_empty() {
            conclusion.push_str(&format!(" {}", parts::summary(&parts)));
        }
        VerdictBlock {
            verdict: agg.verdict,
            label: agg.verdict.label().to_string(),
            confidence: agg.confidence,
            conclusion,
            supporting,
            contradicting,
            support_weight: agg.support,
            contradict_weight: agg.contradict,
            relevant_passages: items.len(),
            mismatches,
            parts,
        }
    });

    let angles = compose::angles(&sources, &stance_of, mode);
    let currency = Currency {
        newest: sources.iter().filter_map(|s| s.published).max(),
        oldest: sources.iter().filter_map(|s| s.published).min(),
        undated: sources.iter().filter(|s| s.published.is_none()).count(),
    };

    // ── Follow-up questions ────────────────────────────────────────────────────────
    let figures: Vec<(String, String)> = findings
        .iter()
        .flat_map(|f| &f.sentences)
        .filter_map(|s| {
            let fig = text::figures(&s.text).into_iter().next()?;
            let src = s.citations.first().and_then(|c| sources.get(c.n - 1))?;
            let who = src.publisher.clone().unwrap_or_else(|| src.title.clone());
            let attr = match src.published {
                Some(d) => format!("{who}, {d}"),
                None => who,
            };
            Some((fig, attr))
        })
        .filter(|(fig, _)| !plan.figures.contains(fig))
        .collect();
    let plan_entities: HashSet<String> = plan.entities.iter().map(|e| e.to_lowercase()).collect();
    let mut ent_sources: HashMap<String, BTreeSet<usize>> = HashMap::new();
    for s in summary
        .iter()
        .chain(findings.iter().flat_map(|f| &f.sentences))
    {
        let n = s.citations.first().map(|c| c.n).unwrap_or(0);
        for e in text::entities(&s.text) {
            // Names of two or more capitalised words ("Marrow County Audit Office");
            // datelines and acronym runs ("HALDEN (TPW)") are not names.
            let titled = e
                .split_whitespace()
                .filter(|w| w.chars().skip(1).any(|c| c.is_lowercase()))
                .count();
            let el = e.to_lowercase();
            let in_plan = plan_entities
                .iter()
                .any(|p| p.contains(&el) || el.contains(p.as_str()))
                || plan.statement.to_lowercase().contains(&el);
            if titled >= 2 && !in_plan {
                ent_sources.entry(e).or_default().insert(n);
            }
        }
    }
    let mut evidence_entities: Vec<(String, usize)> =
        ent_sources.into_iter().map(|(e, s)| (e, s.len())).collect();
    evidence_entities.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let has_mechanism = findings
        .iter()
        .any(|f| f.perspective == Perspective::Mechanism);
    let supporting_publisher = verdict_block
        .as_ref()
        .and_then(|v| v.supporting.first())
        .and_then(|n| sources.get(n - 1))
        .and_then(|s| s.publisher.clone());
    let has_contradiction = verdict_block
        .as_ref()
        .is_some_and(|v| !v.contradicting.is_empty());
    let follow_ups = compose::follow_ups(&compose::FollowUpInput {
        plan: &plan,
        gaps: &gaps,
        figures,
        angles: &angles,
        evidence_entities: evidence_entities.into_iter().map(|(e, _)| e).collect(),
        newest: currency.newest,
        has_mechanism,
        supporting_publisher,
        has_contradiction,
    });

    // ── Notes ──────────────────────────────────────────────────────────────────────
    let mut notes = Vec::new();
    if !neural {
        notes.push(format!(
            "Stance was judged by the lexical fallback ({}), not the entailment model: it counts shared words and negations, so treat stances{} as a rough guide.",
            judge.name(),
            if mode == Mode::Check { " and the verdict" } else { "" }
        ));
    }
    if !ev.has_dense() {
        notes.push(
            "Dense (semantic) search was not available: evidence was found by keyword (BM25) search only, which misses paraphrases.".to_string(),
        );
    }
    if let Some(d) = req.as_of {
        notes.push(match currency.undated {
            0 => format!("Evidence restricted to sources published on or before {d}."),
            1 => format!(
                "Evidence restricted to sources published on or before {d}; 1 source carries no date and was kept, so whether it predates {d} is unknown."
            ),
            n => format!(
                "Evidence restricted to sources published on or before {d}; {n} sources carry no date and were kept, so whether they predate {d} is unknown."
            ),
        });
    }
    if !verification.dropped.is_empty() {
        notes.push(format!(
            "{} of {} sentences were left out because the passages they cite do not support them (support below {}).",
            verification.dropped.len(),
            verification.checked,
            verification.threshold
        ));
    }
    if verification.verbatim > 0 {
        notes.push(format!(
            "The stance model scored {} of {} quoted source sentences below the support threshold against their own passages; they are kept because they are verbatim quotes, but the model's stances on these sources are unreliable.",
            verification.verbatim, verification.checked
        ));
    }
    if verification.flagged > 0 {
        notes.push(format!(
            "{} sentence(s) are shown although the passages they cite do not support them; they are marked as unsupported.",
            verification.flagged
        ));
    }

    let explain = req.explain.then(|| Explain {
        runs,
        focus_terms: focus.clone(),
        candidates: cands
            .iter()
            .map(|c| {
                let best = judge::deciding_sentence(c).or_else(|| {
                    c.sents
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| s.scores.is_some())
                        .max_by(|a, b| a.1.coverage.total_cmp(&b.1.coverage))
                        .map(|(i, _)| i)
                });
                let weight = deciding
                    .iter()
                    .position(|(ci, _)| {
                        cands
                            .get(*ci)
                            .is_some_and(|x| x.hit.passage.id == c.hit.passage.id)
                    })
                    .map(|i| agg.weights[i])
                    .unwrap_or(0.0);
                CandidateScore {
                    passage_id: c.hit.passage.id.clone(),
                    title: c
                        .hit
                        .source
                        .meta
                        .title
                        .clone()
                        .unwrap_or_else(|| c.hit.source.location.clone()),
                    publisher: c.hit.source.meta.publisher.clone(),
                    rank: c.rank,
                    fused: c.fused,
                    best_sentence: best.map(|i| c.sents[i].text.clone()),
                    scores: best.and_then(|i| c.sents[i].scores),
                    relevant: c.sents.iter().any(|s| s.relevant),
                    weight,
                }
            })
            .collect(),
        judged_pairs: judged,
    });

    let title = match mode {
        Mode::Check => format!("Fact check: {}", plan.statement),
        Mode::Ask => plan.statement.clone(),
    };
    Ok(Brief {
        mode,
        input: req.input.clone(),
        statement: plan.statement.clone(),
        title,
        checked_on: req.today,
        as_of: req.as_of,
        currency,
        disclaimer: DISCLAIMER.to_string(),
        verdict: verdict_block,
        summary,
        findings,
        angles,
        gaps,
        sources,
        follow_ups,
        notes,
        judge: judge.name().to_string(),
        judge_neural: neural,
        verification,
        plan,
        explain,
    })
}

/// Ranks candidates by fused score (rank 0 = best), whatever order selection left them in.
fn rank_by_fused(cands: &mut [Cand]) {
    let mut idx: Vec<usize> = (0..cands.len()).collect();
    idx.sort_by(|&a, &b| {
        cands[b]
            .fused
            .total_cmp(&cands[a].fused)
            .then(cands[a].hit.passage.id.cmp(&cands[b].hit.passage.id))
    });
    for (r, i) in idx.into_iter().enumerate() {
        cands[i].rank = r;
    }
}

/// Aspects with no relevant evidence among the candidates (indices into `plan.aspects`).
fn uncovered_aspects(plan: &Plan, cands: &[Cand], missing: &[String]) -> Vec<usize> {
    let any_relevant = cands.iter().any(|c| c.sents.iter().any(|s| s.relevant));
    let lean_exists = |want_support: bool| {
        cands.iter().any(|c| {
            c.sents.iter().any(|s| {
                s.relevant
                    && s.scores.is_some_and(|sc| {
                        let lean = sc.supports - sc.contradicts;
                        if want_support {
                            lean >= 0.1
                        } else {
                            lean <= -0.1
                        }
                    })
            })
        })
    };
    let contains = |needle: &str| {
        let n = needle.to_lowercase();
        cands
            .iter()
            .any(|c| c.hit.passage.text.to_lowercase().contains(&n))
    };
    let mut out = Vec::new();
    for (i, a) in plan.aspects.iter().enumerate() {
        let uncovered = match a.kind {
            AspectKind::Core => !any_relevant,
            AspectKind::Term => {
                let ts = text::term_set(&a.label);
                !ts.is_empty() && ts.iter().all(|t| missing.contains(t))
            }
            AspectKind::Entity => !contains(&a.label),
            AspectKind::Date => !contains(&a.label),
            AspectKind::Figure => match text::figure_number(&a.label) {
                Some(num) => !cands.iter().any(|c| c.terms.contains(&num)),
                None => false,
            },
            AspectKind::Supporting => {
                plan.mode == Mode::Check && any_relevant && !lean_exists(true)
            }
            AspectKind::Contradicting => {
                plan.mode == Mode::Check && any_relevant && !lean_exists(false)
            }
            AspectKind::Mechanism | AspectKind::Scale => false,
        };
        if uncovered {
            out.push(i);
        }
    }
    out
}

/// Broader queries for the second pass: drop terms, keep entities.
fn second_pass_queries(plan: &Plan, a: &Aspect) -> Vec<String> {
    let keys = plan.key_terms.join(" ");
    let ents = plan.entities.join(" ");
    let main = plan.entities.first().cloned().unwrap_or_default();
    let mut qs: Vec<String> = match a.kind {
        AspectKind::Core => vec![keys.clone(), format!("{ents} {keys}")],
        AspectKind::Term => vec![a.label.clone(), format!("{} {main}", a.label)],
        AspectKind::Entity => vec![a.label.clone()],
        AspectKind::Figure => vec![a.label.clone(), format!("{} {keys}", a.label)],
        AspectKind::Date => vec![format!("{} {keys}", a.label)],
        AspectKind::Supporting => vec![format!("{ents} {keys}")],
        AspectKind::Contradicting => vec![format!("{ents} {keys} not however")],
        AspectKind::Mechanism | AspectKind::Scale => vec![],
    };
    let mut out: Vec<String> = Vec::new();
    for q in qs.drain(..) {
        let q = text::squash(&q);
        if !q.is_empty() && !out.contains(&q) {
            out.push(q);
        }
    }
    out
}

/// The gap line for an aspect the second pass could not cover. Never says "false".
fn gap_for(plan: &Plan, a: &Aspect, queries: Vec<String>, modes: Vec<String>, seen: usize) -> Gap {
    let (aspect, statement) = match a.kind {
        AspectKind::Core => match plan.mode {
            Mode::Check => (
                a.label.clone(),
                format!(
                    "Evidence that addresses the claim as stated (\"{}\") was not found in the indexed sources.",
                    a.label.trim_end_matches('.')
                ),
            ),
            Mode::Ask => (
                a.label.clone(),
                "A passage that answers the question as asked was not found in the indexed sources."
                    .to_string(),
            ),
        },
        AspectKind::Term => (
            format!("\"{}\"", a.label),
            format!(
                "Any mention of \"{}\" was not found in the indexed sources.",
                a.label
            ),
        ),
        AspectKind::Entity => (
            a.label.clone(),
            format!("Any mention of {} was not found in the indexed sources.", a.label),
        ),
        AspectKind::Figure => (
            format!("the figure {}", a.label),
            format!("The figure {} was not found in the indexed sources.", a.label),
        ),
        AspectKind::Date => (
            a.label.clone(),
            format!(
                "A mention of {} in connection with this topic was not found in the indexed sources.",
                a.label
            ),
        ),
        AspectKind::Supporting => (
            "evidence supporting the claim".to_string(),
            "Evidence supporting the claim was not found in the indexed sources.".to_string(),
        ),
        AspectKind::Contradicting => (
            "evidence contradicting the claim".to_string(),
            "Evidence contradicting the claim was not found in the indexed sources.".to_string(),
        ),
        AspectKind::Mechanism | AspectKind::Scale => (
            a.label.clone(),
            format!("Material on {} was not found in the indexed sources.", a.label),
        ),
    };
    Gap {
        aspect,
        statement,
        second_pass_queries: queries,
        second_pass_modes: modes,
        second_pass_candidates: seen,
    }
}

/// The verdict's one-line conclusion, generated from the evidence counts.
/// The value mismatches of the deciding sentences whose sources the brief cites, each
/// named once.
fn value_mismatches(
    cands: &[Cand],
    deciding: &[(usize, usize)],
    numbers: &HashMap<verity_types::SourceId, usize>,
) -> Vec<ValueMismatch> {
    let mut out: Vec<ValueMismatch> = Vec::new();
    for &(ci, si) in deciding {
        let Some(&source) = numbers.get(&cands[ci].hit.source.id) else {
            continue;
        };
        for m in &cands[ci].sents[si].mismatches {
            let v = ValueMismatch {
                kind: m.kind.noun().to_string(),
                claim: m.claim.clone(),
                evidence: m.evidence.clone(),
                source,
            };
            if !out
                .iter()
                .any(|o| o.claim == v.claim && o.evidence == v.evidence)
            {
                out.push(v);
            }
        }
    }
    out
}

fn conclusion(v: Verdict, items: &[judge::EvidenceItem], agg: &Aggregate) -> String {
    if v == Verdict::NotEnoughEvidence {
        return "No passage in the indexed sources clearly addresses this claim, so they can neither confirm nor refute it; the claim is open until other sources settle it.".to_string();
    }
    let mut pro: HashSet<&str> = HashSet::new();
    let mut con: HashSet<&str> = HashSet::new();
    for it in items {
        let lean = it.scores.supports - it.scores.contradicts;
        if lean >= 0.1 {
            pro.insert(&it.voice);
        } else if lean <= -0.1 {
            con.insert(&it.voice);
        }
    }
    let plural = |n: usize| if n == 1 { "publisher" } else { "publishers" };
    let lead = match v {
        Verdict::Supported => "The evidence found supports the claim",
        Verdict::MostlySupported => "The evidence found mostly supports the claim",
        Verdict::Mixed => "The evidence found is divided",
        Verdict::MostlyUnsupported => "The evidence found mostly goes against the claim",
        Verdict::Contradicted => "The evidence found contradicts the claim",
        Verdict::NotEnoughEvidence => "",
    };
    format!(
        "{lead}: passages from {} {} lean towards it and from {} {} against it (weighted support {:.2}, contradiction {:.2}).",
        pro.len(),
        plural(pro.len()),
        con.len(),
        plural(con.len()),
        agg.support,
        agg.contradict
    )
}

/// Summary: 2–4 sentences. Claim mode leads with the winning side, then the other side,
/// then a figure or a rule; question mode takes one of each perspective.
fn pick_summary(
    comp: &mut Composer<'_>,
    mode: Mode,
    verdict: Option<Verdict>,
    share: Option<f32>,
) -> Vec<Pick> {
    let mut out = Vec::new();
    let order: Vec<Perspective> = match (mode, verdict) {
        (Mode::Check, Some(Verdict::NotEnoughEvidence)) => {
            vec![
                Perspective::Context,
                Perspective::Mechanism,
                Perspective::Figures,
            ]
        }
        (Mode::Check, _) if share.unwrap_or(0.5) < 0.5 => vec![
            Perspective::Contradicts,
            Perspective::Supports,
            Perspective::Figures,
            Perspective::Mechanism,
        ],
        _ => vec![
            Perspective::Supports,
            Perspective::Contradicts,
            Perspective::Figures,
            Perspective::Mechanism,
        ],
    };
    for p in &order {
        if out.len() >= 3 {
            break;
        }
        let pool = comp.pool(*p);
        out.extend(comp.take(&pool, 1));
    }
    // At least two sentences when the evidence has them.
    for p in order.iter().chain(&[Perspective::Context]) {
        if out.len() >= 2 {
            break;
        }
        let pool = comp.pool(*p);
        out.extend(comp.take(&pool, 2 - out.len()));
    }
    out
}
