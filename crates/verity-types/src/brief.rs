//! The brief: a plain data structure that every renderer reads.
//!
//! Everything the reader sees is here, in reading order, and everything is serialisable
//! so that a brief can be stored, diffed against a later re-check, and sent over the API.

use crate::{Mode, PassageId, Plan, SourceId, SourceKind, Stance, StanceScores, Verdict};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The perspective a finding covers. Findings are ordered by this enum's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Perspective {
    /// Evidence for the claim (or for the question's premise).
    Supports,
    /// Evidence against it, corrections, criticism, caveats.
    Contradicts,
    /// How it works: rules, agreements, definitions, processes.
    Mechanism,
    /// Scale and figures, each quoted with its source and date.
    Figures,
    /// What the sources say nearby when nothing settles the claim.
    Context,
    /// The most recent decisive evidence.
    BottomLine,
}

impl Perspective {
    /// The heading prefix of a finding with this perspective.
    pub fn title(self, mode: Mode) -> &'static str {
        match (self, mode) {
            (Perspective::Supports, Mode::Check) => "What supports the claim",
            (Perspective::Supports, Mode::Ask) => "What the evidence shows",
            (Perspective::Contradicts, Mode::Check) => "What contradicts or complicates it",
            (Perspective::Contradicts, Mode::Ask) => "What complicates the picture",
            (Perspective::Mechanism, _) => "How it works",
            (Perspective::Figures, _) => "Scale and figures",
            (Perspective::Context, Mode::Check) => {
                "Related context, which does not settle the claim"
            }
            (Perspective::Context, Mode::Ask) => "Related context",
            (Perspective::BottomLine, _) => "Bottom line",
        }
    }
}

/// One citation: a span of a source's text. `start..end` are character offsets into the
/// **source** text (not the passage), so `char_slice(source_text, start, end) == quote`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    /// Number of the source in [`Brief::sources`] (1-based), as printed `[n]`.
    pub n: usize,
    pub source_id: SourceId,
    pub passage_id: PassageId,
    pub start: u64,
    pub end: u64,
    /// The exact cited text.
    pub quote: String,
}

/// One sentence of the brief: a (lightly trimmed) source sentence with its citations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sentence {
    pub text: String,
    pub citations: Vec<Citation>,
    /// "Publisher, date" shown with figures, so every number carries its source and date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
    /// Stance of the cited evidence toward the claim (or the question's statement).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stance: Option<Stance>,
    /// The stance model's scores for the cited sentence against the claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stance_scores: Option<StanceScores>,
    /// Support of this sentence by the passages it cites (the check before output): 1
    /// for a verbatim extraction, else the model's score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<f32>,
    /// The stance model's own support score for it, verbatim or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_support: Option<f32>,
    /// Kept although its support is below the threshold (`--show-unsupported`).
    #[serde(default)]
    pub flagged: bool,
}

impl Sentence {
    /// A sentence with its citations and nothing judged or attributed yet.
    pub fn cited(text: impl Into<String>, citations: Vec<Citation>) -> Self {
        Sentence {
            text: text.into(),
            citations,
            attribution: None,
            stance: None,
            stance_scores: None,
            support: None,
            model_support: None,
            flagged: false,
        }
    }
}

/// A numbered finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub number: usize,
    pub perspective: Perspective,
    /// States the finding; built from the lead sentence's key phrase.
    pub heading: String,
    pub sentences: Vec<Sentence>,
}

/// The verdict of a claim check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictBlock {
    pub verdict: Verdict,
    /// The scale's label ("Mostly supported").
    pub label: String,
    /// In `[0, 1]`.
    pub confidence: f32,
    /// One line; generated from the evidence counts (not a source sentence).
    pub conclusion: String,
    /// Source numbers of the strongest supporting and contradicting sources.
    pub supporting: Vec<usize>,
    pub contradicting: Vec<usize>,
    /// Weighted support and contradiction mass (see `verity_compose::aggregate`).
    pub support_weight: f32,
    pub contradict_weight: f32,
    /// Passages that clearly address the claim.
    pub relevant_passages: usize,
    /// Values the claim states that a cited source gives differently ("the claim says
    /// 1887; [3] says 1889").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<ValueMismatch>,
    /// The parts of a compound claim, each with its own verdict (empty for a claim that
    /// is one statement).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<ClaimPart>,
}

/// A value of the claim that a cited source gives differently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValueMismatch {
    /// `figure`, `year`, `date`, `place` or `name`.
    pub kind: String,
    /// As the claim gives it.
    pub claim: String,
    /// As the source gives it.
    pub evidence: String,
    /// The source's number in the brief.
    pub source: usize,
}

impl ValueMismatch {
    /// "the claim says 1887; [3] says 1889".
    pub fn describe(&self) -> String {
        format!(
            "the claim says {}; [{}] says {}",
            self.claim, self.source, self.evidence
        )
    }
}

/// One checkable part of a compound claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimPart {
    pub text: String,
    pub verdict: Verdict,
    pub label: String,
    pub confidence: f32,
    /// Source numbers of the part's strongest supporting and contradicting evidence.
    pub supporting: Vec<usize>,
    pub contradicting: Vec<usize>,
}

/// Which way one kind of source leans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lean {
    Supports,
    Contradicts,
    Split,
    /// Cited for context; takes no side.
    Neutral,
}

/// One kind of source in the "sources and their angles" section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AngleGroup {
    pub kind: SourceKind,
    /// Human label ("Official statements").
    pub label: String,
    /// Source numbers.
    pub sources: Vec<usize>,
    pub publishers: Vec<String>,
    pub supports: usize,
    pub contradicts: usize,
    pub neutral: usize,
    pub lean: Lean,
}

/// Where framings diverge, with the sources on each side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// Generated from the stance pattern; names the sources by number.
    pub text: String,
    pub sources: Vec<usize>,
}

/// The sources-and-angles section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Angles {
    pub groups: Vec<AngleGroup>,
    pub divergences: Vec<Divergence>,
}

/// An aspect the indexed sources do not establish, confirmed by a second retrieval pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// What was looked for ("fluoride", "the figure $45 million").
    pub aspect: String,
    /// Always worded "... not found in the indexed sources".
    pub statement: String,
    /// The broader queries of the second pass.
    pub second_pass_queries: Vec<String>,
    /// Search modes the second pass ran (`bm25`, `dense`).
    pub second_pass_modes: Vec<String>,
    /// Passages the second pass looked at.
    pub second_pass_candidates: usize,
}

/// A passage used by the brief, with the spans cited from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsedPassage {
    pub id: PassageId,
    /// Character offsets of the passage in the source text.
    pub start: u64,
    pub end: u64,
    pub text: String,
    /// Cited spans, as character offsets into the source text.
    pub cited: Vec<(u64, u64)>,
}

/// A numbered source of the brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BriefSource {
    pub n: usize,
    pub id: SourceId,
    pub title: String,
    pub publisher: Option<String>,
    pub kind: SourceKind,
    pub published: Option<NaiveDate>,
    /// URL when known, else the path it was read from.
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
    pub passages: Vec<UsedPassage>,
}

/// How current the evidence is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Currency {
    pub newest: Option<NaiveDate>,
    pub oldest: Option<NaiveDate>,
    /// Cited sources without a date.
    pub undated: usize,
}

/// A sentence the support check removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DroppedSentence {
    pub section: String,
    pub text: String,
    pub support: f32,
    /// Why a sentence a language model wrote was dropped ([`WriterAudit`]); absent for
    /// extracted sentences, which are dropped only for want of support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DropReason>,
}

/// Why the check refused a sentence that a language model wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// It cites no passage.
    NoCitation,
    /// It cites a passage number the model was not given.
    UnknownPassage,
    /// The passages it cites do not support it.
    Unsupported,
    /// It is outside the answer format (no section, a finding the brief does not have,
    /// a follow-up that is not a question, a line of the prompt's markup echoed back).
    Format,
    /// It repeats a sentence the model already wrote in the same section.
    Repeated,
}

impl DropReason {
    pub const ALL: [DropReason; 5] = [
        DropReason::NoCitation,
        DropReason::UnknownPassage,
        DropReason::Unsupported,
        DropReason::Format,
        DropReason::Repeated,
    ];

    /// Words for the brief ("cites no passage").
    pub fn describe(self) -> &'static str {
        match self {
            DropReason::NoCitation => "cites no passage",
            DropReason::UnknownPassage => "cites a passage it was not given",
            DropReason::Unsupported => "not supported by the passages it cites",
            DropReason::Format => "outside the answer format",
            DropReason::Repeated => "repeats a sentence already written",
        }
    }
}

/// What a language model wrote for the brief and what the check made of it: the audit of
/// the optional LLM writer. The model writes prose only; the verdict is Verity's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WriterAudit {
    /// The model name and its endpoint (no credentials).
    pub model: String,
    pub endpoint: String,
    /// Version of the prompt files (`verity-compose/prompts/`).
    pub prompt_version: String,
    /// Chat calls made (1, or 2 when sentences were sent back).
    pub calls: usize,
    /// Wall time of the calls, milliseconds.
    pub latency_ms: u64,
    /// Tokens, as the server counted them (absent when it does not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u64>,
    /// Statements (summary and findings) the model wrote, rewrites included.
    pub written: usize,
    /// Statements in the brief (supported, plus flagged ones with `--show-unsupported`).
    pub kept: usize,
    /// Sentences (statements and questions) sent back once to be rewritten, with the
    /// reason; format slips are not sent back.
    pub sent_back: usize,
    /// Statements refused for good, by reason (`DropReason` order).
    pub dropped: usize,
    pub dropped_by_reason: Vec<(DropReason, usize)>,
    /// Follow-up questions the model wrote, and how many the brief uses.
    pub questions_written: usize,
    pub questions_kept: usize,
    /// The refused sentences themselves (filled with `--show-unsupported`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<DroppedSentence>,
}

/// What a language model proposed for a claim (`--llm-claims`) and what Verity made of
/// it: the parts it split the claim into and the search queries it suggested for the
/// second retrieval pass. Each proposal is validated before use; what was refused says why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlannerAudit {
    /// The model name and its endpoint (no credentials).
    pub model: String,
    pub endpoint: String,
    /// Version of the prompt file (`verity-compose/prompts/claim-help.txt`).
    pub prompt_version: String,
    /// Wall time of the call, milliseconds.
    pub latency_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u64>,
    /// The parts the model proposed, as written.
    pub parts_proposed: Vec<String>,
    /// Whether the verdict was combined from the proposed parts (else from Verity's own
    /// split, or from the claim as one statement).
    pub parts_used: bool,
    /// Why the proposed parts were not used, when they were not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts_refused: Option<String>,
    /// Every query the model proposed, in its order.
    pub queries: Vec<ProposedQuery>,
}

impl PlannerAudit {
    /// The proposed queries that ran, in order.
    pub fn queries_run(&self) -> Vec<&str> {
        proposed_queries_run(&self.queries)
    }
}

/// The queries of `proposed` that ran, in order.
pub fn proposed_queries_run(proposed: &[ProposedQuery]) -> Vec<&str> {
    proposed
        .iter()
        .filter(|q| q.run)
        .map(|q| q.query.as_str())
        .collect()
}

/// One search query a language model proposed, and what came of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProposedQuery {
    pub query: String,
    /// Run in the second retrieval pass.
    pub run: bool,
    /// Why it was not run, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    /// Passages the search returned, and how many of them joined the candidates.
    pub hits: usize,
    pub added: usize,
}

/// The per-sentence support check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub threshold: f32,
    /// Sentences scored.
    pub checked: usize,
    /// Sentences in the brief (supported ones plus flagged ones).
    pub kept: usize,
    /// Kept although unsupported (`show_unsupported`).
    pub flagged: usize,
    /// Sentences at or above the threshold over sentences checked (1 when none).
    pub share_supported: f32,
    /// Sentences that passed only as verbatim extractions of their cited span: the
    /// stance model alone scored them below the threshold.
    #[serde(default)]
    pub verbatim: usize,
    /// Sentences the stance model itself scored at or above the threshold.
    #[serde(default)]
    pub model_supported: usize,
    pub dropped: Vec<DroppedSentence>,
}

/// Scores of one candidate passage, for `--explain`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    pub passage_id: PassageId,
    pub title: String,
    pub publisher: Option<String>,
    /// 0-based rank after fusing every sub-query's results.
    pub rank: usize,
    pub fused: f32,
    /// The passage's deciding sentence and its scores (strongest non-neutral signal).
    pub best_sentence: Option<String>,
    pub scores: Option<StanceScores>,
    pub relevant: bool,
    /// Weight in the verdict (rank × independence), 0 when not relevant.
    pub weight: f32,
}

/// One sub-query and what it returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubQueryRun {
    pub aspect: String,
    pub query: String,
    pub mode: String,
    pub hits: usize,
}

/// What `--explain` prints: the plan's queries, and the scores behind the verdict.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Explain {
    pub runs: Vec<SubQueryRun>,
    pub focus_terms: Vec<String>,
    pub candidates: Vec<CandidateScore>,
    pub judged_pairs: usize,
}

/// A complete brief.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brief {
    pub mode: Mode,
    /// The input as given.
    pub input: String,
    /// The question, or the claim without any "Fact check:" prefix.
    pub statement: String,
    /// "Fact check: <claim>" or the question.
    pub title: String,
    pub checked_on: NaiveDate,
    pub as_of: Option<NaiveDate>,
    pub currency: Currency,
    pub disclaimer: String,
    /// Claim mode only.
    pub verdict: Option<VerdictBlock>,
    pub summary: Vec<Sentence>,
    pub findings: Vec<Finding>,
    pub angles: Angles,
    pub gaps: Vec<Gap>,
    pub sources: Vec<BriefSource>,
    /// Five follow-up questions the evidence raises and the brief does not answer.
    pub follow_ups: Vec<String>,
    /// Things the reader must know about how the brief was made (lexical fallback, ...).
    pub notes: Vec<String>,
    /// Name of the stance model and whether it is neural.
    pub judge: String,
    pub judge_neural: bool,
    pub verification: Verification,
    pub plan: Plan,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explain>,
    /// Present when a language model wrote the prose (`--llm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writer: Option<WriterAudit>,
    /// Present when a language model helped with the claim (`--llm-claims`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planner: Option<PlannerAudit>,
}

impl Brief {
    /// Every sentence of the brief in reading order (summary, then findings).
    pub fn sentences(&self) -> impl Iterator<Item = &Sentence> {
        self.summary
            .iter()
            .chain(self.findings.iter().flat_map(|f| f.sentences.iter()))
    }

    /// The source numbered `n`.
    pub fn source(&self, n: usize) -> Option<&BriefSource> {
        self.sources.iter().find(|s| s.n == n)
    }
}
