//! Verity's brief builder: from a question or a claim, plus an evidence library and a
//! stance model, build a [`Brief`] — a balanced, cited report in which every sentence is
//! a source sentence tied to an exact span of a stored source, and has been checked
//! against the passage it cites.
//!
//! The builder depends on no storage: the library comes in through the [`Evidence`]
//! trait and the stance model through [`verity_judge::StanceModel`].
//!
//! [`build_brief`] runs six stages (in `src/pipeline/`), each a function from a typed
//! input to a typed output:
//!
//! ```text
//! plan ──▶ gather (sub-queries, fusion, diversity) ──▶ judge (per sentence)
//!      ──▶ second pass for uncovered aspects (gaps) ──▶ aggregate (verdict, parts)
//!      ──▶ write: select (summary, findings, bottom line) ──▶ check every sentence
//!         ──▶ number sources ──▶ verdict block, angles, follow-ups, notes
//! ```
//!
//! The brief's types ([`Brief`], [`Mode`], [`Plan`], ...) live in `verity-types`, so that
//! a renderer needs only that crate; they are re-exported here.
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
mod pipeline;
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
pub use verity_llm::{ChatModel, LlmConfig, LlmError, OpenAiChat};
pub use verity_types::{
    AngleGroup, Angles, Brief, BriefSource, CandidateScore, Citation, ClaimPart, Currency,
    Divergence, DropReason, DroppedSentence, Explain, Finding, Gap, Lean, Mode, Perspective,
    PlannerAudit, ProposedQuery, Sentence, SubQueryRun, UsedPassage, ValueMismatch, VerdictBlock,
    Verification, WriterAudit,
};

/// Version of the LLM writer's prompt files (`prompts/`), as recorded in
/// [`WriterAudit::prompt_version`].
pub const WRITER_PROMPT_VERSION: &str = pipeline::llm_writing::PROMPT_VERSION;
/// Version of the claim-help prompt (`prompts/claim-help.txt`), as recorded in
/// [`PlannerAudit::prompt_version`].
pub const PLANNER_PROMPT_VERSION: &str = pipeline::llm_planning::PROMPT_VERSION;

use chrono::NaiveDate;
use verity_judge::StanceModel;
use verity_types::{Progress, SearchHit, SearchRequest};

use crate::pipeline::aggregation::{self, AggregateInput};
use crate::pipeline::judging::{self, JudgePass};
use crate::pipeline::writing::{self, WriteInput};
use crate::pipeline::{gathering, planning, second_pass};

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
    /// With a language model: let it split the claim into parts and propose queries for
    /// the second retrieval pass (validated before use; see [`Brief::planner`]).
    pub llm_claims: bool,
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
            llm_claims: false,
        }
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
    build_brief_with_writer(req, ev, judge, None, progress)
}

/// [`build_brief`], then, with a `writer`, the prose rewritten by that language model
/// from the brief's numbered passages: every sentence it writes is checked against the
/// passages it cites by the same support check ([`support_scores`]), sent back once when
/// it fails, then dropped and counted in [`Brief::writer`]. The verdict, sources, angles
/// and gaps stay as built. Without a writer it is exactly [`build_brief`].
pub fn build_brief_with_writer(
    req: &BriefRequest,
    ev: &dyn Evidence,
    judge: &dyn StanceModel,
    writer: Option<&dyn ChatModel>,
    progress: &dyn Progress,
) -> Result<Brief, ComposeError> {
    let helper = writer.filter(|_| req.llm_claims);
    let brief = build_extracted(req, ev, judge, helper, progress)?;
    match writer {
        Some(chat) => pipeline::llm_writing::run(brief, chat, judge, req, progress),
        None => Ok(brief),
    }
}

fn build_extracted(
    req: &BriefRequest,
    ev: &dyn Evidence,
    judge: &dyn StanceModel,
    helper: Option<&dyn ChatModel>,
    progress: &dyn Progress,
) -> Result<Brief, ComposeError> {
    let planned = planning::run(req, progress)?;
    let help = match helper {
        Some(chat) if planned.plan.mode == Mode::Check => {
            progress.stage("claim help", None);
            Some(pipeline::llm_planning::propose(
                chat,
                &planned.plan.statement,
            )?)
        }
        _ => None,
    };
    let extra = help
        .as_ref()
        .map(PlannerAudit::queries_run)
        .unwrap_or_default();
    let pass = JudgePass::new(&planned, judge, ev);
    let mut gathered = gathering::run(req, ev, &planned.plan, progress)?;
    let judged = judging::run(&pass, req, &mut gathered.cands, progress)?;
    let mut covered = second_pass::run(&pass, req, gathered, judged, &extra, progress)?;
    let model_runs = std::mem::take(&mut covered.model_runs);
    let assessed = aggregation::run(&AggregateInput {
        plan: &planned.plan,
        cands: &covered.gathered.cands,
        named: &planned.named,
        judge,
        max_judge_pairs: req.max_judge_pairs,
        parts: help
            .as_ref()
            .filter(|h| h.parts_used)
            .map(|h| h.parts_proposed.as_slice()),
    })?;
    let mut brief = writing::run(
        WriteInput {
            req,
            plan: planned.plan,
            judge,
            has_dense: ev.has_dense(),
            covered,
            assessed,
        },
        progress,
    )?;
    if let Some(mut h) = help {
        for (q, (hits, added)) in h.queries.iter_mut().filter(|q| q.run).zip(model_runs) {
            (q.hits, q.added) = (hits, added);
        }
        brief.notes.push(pipeline::llm_planning::note(&h));
        brief.planner = Some(h);
    }
    Ok(brief)
}
