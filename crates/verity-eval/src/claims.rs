//! Claim-level evaluation: whole claim checks (retrieve, judge, compose, verdict) against
//! a library, each verdict compared with a gold label.
//!
//! The checker is any function from a claim to a [`ClaimPrediction`] (the CLI passes the
//! engine's claim check), so this module never touches a library itself.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use verity_compose::Brief;
use verity_types::{char_slice, Progress, Stance, Verdict};

use crate::pairs::apply_limit;
use crate::{EvalError, Limit};

/// A claim's class: the three gold labels, plus `Mixed`, which only the checker predicts
/// (it is never a gold label, so a `Mixed` prediction is always wrong).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimClass {
    Supported,
    Contradicted,
    NotEnoughEvidence,
    Mixed,
}

/// What [`ClaimClass::parse_gold`] accepts, for error messages.
const GOLD_LABELS: &str = "supported, contradicted, not_enough_evidence";

impl ClaimClass {
    /// The gold labels, in the order of every table (the confusion matrix's rows).
    pub const GOLD: [ClaimClass; 3] = [
        ClaimClass::Supported,
        ClaimClass::Contradicted,
        ClaimClass::NotEnoughEvidence,
    ];
    /// Every predicted class (the confusion matrix's columns): the gold labels, then `Mixed`.
    pub const PREDICTED: [ClaimClass; 4] = [
        ClaimClass::Supported,
        ClaimClass::Contradicted,
        ClaimClass::NotEnoughEvidence,
        ClaimClass::Mixed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClaimClass::Supported => "supported",
            ClaimClass::Contradicted => "contradicted",
            ClaimClass::NotEnoughEvidence => "not_enough_evidence",
            ClaimClass::Mixed => "mixed",
        }
    }

    /// Reads a gold label: `supported`, `contradicted` or `not_enough_evidence` (any case;
    /// spaces or hyphens may stand for the underscores). `mixed` is not a gold label.
    pub fn parse_gold(raw: &str) -> Option<Self> {
        let norm = raw.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        match norm.as_str() {
            "supported" => Some(ClaimClass::Supported),
            "contradicted" => Some(ClaimClass::Contradicted),
            "not_enough_evidence" => Some(ClaimClass::NotEnoughEvidence),
            _ => None,
        }
    }

    /// The class of a verdict on Verity's scale: Supported and Mostly supported →
    /// supported; Contradicted and Mostly unsupported → contradicted; Not enough evidence
    /// → not_enough_evidence; Mixed → mixed.
    pub fn from_verdict(v: Verdict) -> Self {
        match v {
            Verdict::Supported | Verdict::MostlySupported => ClaimClass::Supported,
            Verdict::Contradicted | Verdict::MostlyUnsupported => ClaimClass::Contradicted,
            Verdict::NotEnoughEvidence => ClaimClass::NotEnoughEvidence,
            Verdict::Mixed => ClaimClass::Mixed,
        }
    }

    /// Position in [`ClaimClass::PREDICTED`] (and in [`ClaimClass::GOLD`] for gold labels).
    fn index(self) -> usize {
        match self {
            ClaimClass::Supported => 0,
            ClaimClass::Contradicted => 1,
            ClaimClass::NotEnoughEvidence => 2,
            ClaimClass::Mixed => 3,
        }
    }
}

/// One labelled claim of a claims file.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledClaim {
    /// 1-based line number in the file.
    pub line: usize,
    pub claim: String,
    /// A gold label (never [`ClaimClass::Mixed`]).
    pub label: ClaimClass,
    /// Free-form group for per-kind accuracy (e.g. `composed`, `extracted-auth`).
    pub kind: Option<String>,
}

/// Claims read from one file.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimSet {
    pub path: PathBuf,
    pub claims: Vec<LabelledClaim>,
}

/// Reads a claims file: JSON Lines with `claim`, `label` (`supported`, `contradicted` or
/// `not_enough_evidence`) and an optional `kind`; other fields are ignored, blank lines
/// skipped. `limit` picks which claims to keep, in file order.
pub fn load_claims(path: &Path, limit: Limit) -> Result<ClaimSet, EvalError> {
    #[derive(Deserialize)]
    struct Rec {
        claim: String,
        label: String,
        #[serde(default)]
        kind: Option<String>,
    }
    let f = std::fs::File::open(path).map_err(|e| EvalError::io(path, e))?;
    let mut claims = Vec::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line_no = i + 1;
        let line = line.map_err(|e| EvalError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let rec: Rec = serde_json::from_str(&line).map_err(|source| EvalError::ClaimRecord {
            path: path.to_path_buf(),
            line: line_no,
            source,
        })?;
        let claim = rec.claim.trim();
        if claim.is_empty() {
            return Err(EvalError::EmptyClaim {
                path: path.to_path_buf(),
                line: line_no,
            });
        }
        let label = ClaimClass::parse_gold(&rec.label).ok_or_else(|| EvalError::UnknownLabel {
            path: path.to_path_buf(),
            line: line_no,
            label: rec.label.clone(),
            expected: GOLD_LABELS,
        })?;
        let kind = rec
            .kind
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty());
        claims.push(LabelledClaim {
            line: line_no,
            claim: claim.to_string(),
            label,
            kind,
        });
    }
    if claims.is_empty() {
        return Err(EvalError::Empty {
            path: path.to_path_buf(),
            what: "claims",
        });
    }
    Ok(ClaimSet {
        path: path.to_path_buf(),
        claims: apply_limit(claims, limit),
    })
}

/// Where a brief cites a passage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CitedBy {
    /// The verdict line: a span of one of the verdict's strongest sources that no summary
    /// or finding sentence cites.
    Verdict,
    /// A sentence of the executive summary.
    Summary,
    /// A sentence of a numbered finding.
    Finding,
}

/// Which side of the verdict a source was counted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictSide {
    Supporting,
    Contradicting,
}

/// One span a brief cites.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CitedPassage {
    pub source_title: String,
    pub source_id: String,
    pub passage_id: String,
    /// Character offsets into the source's text.
    pub start: u64,
    pub end: u64,
    /// The exact cited text.
    pub text: String,
    /// Stance toward the claim: the citing sentence's, or the verdict side's.
    pub stance: Option<Stance>,
    pub cited_by: CitedBy,
    /// The finding's number, for `cited_by: finding`.
    pub finding: Option<usize>,
    /// Set when the source is among the verdict's strongest supporting or contradicting
    /// sources.
    pub verdict_side: Option<VerdictSide>,
}

/// What a checker says about one claim.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimPrediction {
    pub verdict: Verdict,
    /// The scale's label ("Mostly supported").
    pub label: String,
    pub confidence: f32,
    /// The stance judge that produced it.
    pub judge: String,
    pub judge_neural: bool,
    /// Every span the brief cites, once: the verdict line's first, then the summary's and
    /// the findings' in reading order.
    pub cited: Vec<CitedPassage>,
}

impl ClaimPrediction {
    /// The verdict and cited spans of a claim check's brief; `None` when the brief has no
    /// verdict (a question, not a claim).
    pub fn from_brief(brief: &Brief) -> Option<Self> {
        let v = brief.verdict.as_ref()?;
        let side_of = |n: usize| {
            if v.supporting.contains(&n) {
                Some(VerdictSide::Supporting)
            } else if v.contradicting.contains(&n) {
                Some(VerdictSide::Contradicting)
            } else {
                None
            }
        };
        let title_of = |n: usize| brief.source(n).map(|s| s.title.clone()).unwrap_or_default();
        let mut cited = Vec::new();
        // The verdict line's own citations are not kept in the brief; they are the spans
        // of its sources that no summary or finding sentence cites.
        let in_sentences: HashSet<(String, u64, u64)> = brief
            .sentences()
            .flat_map(|s| &s.citations)
            .map(|c| (c.passage_id.to_string(), c.start, c.end))
            .collect();
        let mut seen: HashSet<(String, u64, u64)> = HashSet::new();
        let sides = v
            .supporting
            .iter()
            .map(|n| (*n, VerdictSide::Supporting, Stance::Supports))
            .chain(
                v.contradicting
                    .iter()
                    .map(|n| (*n, VerdictSide::Contradicting, Stance::Contradicts)),
            );
        for (n, side, stance) in sides {
            let Some(src) = brief.source(n) else { continue };
            for p in &src.passages {
                for &(start, end) in &p.cited {
                    let key = (p.id.to_string(), start, end);
                    if in_sentences.contains(&key) || seen.contains(&key) {
                        continue;
                    }
                    let (Some(s), Some(e)) = (start.checked_sub(p.start), end.checked_sub(p.start))
                    else {
                        continue;
                    };
                    let Some(text) = char_slice(&p.text, s, e) else {
                        continue;
                    };
                    cited.push(CitedPassage {
                        source_title: src.title.clone(),
                        source_id: src.id.to_string(),
                        passage_id: key.0.clone(),
                        start,
                        end,
                        text: text.to_string(),
                        stance: Some(stance),
                        cited_by: CitedBy::Verdict,
                        finding: None,
                        verdict_side: Some(side),
                    });
                    seen.insert(key);
                }
            }
        }
        let sentences = brief
            .summary
            .iter()
            .map(|s| (CitedBy::Summary, None, s))
            .chain(brief.findings.iter().flat_map(|f| {
                f.sentences
                    .iter()
                    .map(|s| (CitedBy::Finding, Some(f.number), s))
            }));
        for (cited_by, finding, s) in sentences {
            for c in &s.citations {
                let key = (c.passage_id.to_string(), c.start, c.end);
                if !seen.insert(key.clone()) {
                    continue;
                }
                cited.push(CitedPassage {
                    source_title: title_of(c.n),
                    source_id: c.source_id.to_string(),
                    passage_id: key.0,
                    start: c.start,
                    end: c.end,
                    text: c.quote.clone(),
                    stance: s.stance,
                    cited_by,
                    finding,
                    verdict_side: side_of(c.n),
                });
            }
        }
        Some(ClaimPrediction {
            verdict: v.verdict,
            label: v.label.clone(),
            confidence: v.confidence,
            judge: brief.judge.clone(),
            judge_neural: brief.judge_neural,
            cited,
        })
    }
}

/// One checked claim: a line of the `--out` file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimOutcome {
    /// Line of the claims file.
    pub line: usize,
    pub claim: String,
    pub gold: ClaimClass,
    pub kind: Option<String>,
    pub predicted: ClaimClass,
    /// The verdict's label on Verity's scale ("Mostly supported").
    pub verdict: String,
    pub confidence: f32,
    /// Time the check took.
    pub seconds: f64,
    pub cited: Vec<CitedPassage>,
}

impl ClaimOutcome {
    pub fn correct(&self) -> bool {
        self.gold == self.predicted
    }
}

/// Precision, recall and F1 of one gold class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimClassMetrics {
    pub label: ClaimClass,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Claims with this gold label.
    pub gold: u64,
    /// Claims predicted as this class.
    pub predicted: u64,
}

/// Accuracy over the claims of one kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindAccuracy {
    pub kind: String,
    pub claims: u64,
    pub correct: u64,
    pub accuracy: f64,
}

/// Gold rows × predicted columns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimConfusion {
    /// Gold labels, one per row: [`ClaimClass::GOLD`].
    pub rows: Vec<ClaimClass>,
    /// Predicted classes, one per column: [`ClaimClass::PREDICTED`] (`mixed` last).
    pub columns: Vec<ClaimClass>,
    /// `counts[gold][predicted]`.
    pub counts: [[u64; 4]; 3],
}

/// Seconds per claim check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct ClaimTiming {
    pub mean: f64,
    /// Nearest-rank percentiles.
    pub p50: f64,
    pub p95: f64,
    pub total: f64,
}

/// The result of [`eval_claims`] (or [`claims_report`] on outcomes in memory).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimsReport {
    /// Where the claims came from (empty when scored from memory).
    pub dataset: String,
    /// The stance judge the checks used (empty when unknown).
    pub judge: String,
    pub judge_neural: bool,
    pub claims: usize,
    pub correct: u64,
    pub accuracy: f64,
    /// Mean F1 over the gold classes present.
    pub macro_f1: f64,
    /// Per gold class, in the order supported, contradicted, not_enough_evidence.
    pub per_class: Vec<ClaimClassMetrics>,
    /// Claims predicted `mixed` (each one wrong).
    pub mixed: u64,
    /// Per kind, sorted by name; empty when no claim has a kind (claims without one are
    /// grouped as `(none)` when others have one).
    pub per_kind: Vec<KindAccuracy>,
    pub confusion: ClaimConfusion,
    pub seconds_per_claim: ClaimTiming,
}

/// The kind name of claims without a kind, in per-kind tables.
pub const NO_KIND: &str = "(none)";

/// A checker: one claim in, its prediction out (the error is reported with the claim's line).
pub type ClaimChecker<'a> =
    dyn FnMut(&str) -> Result<ClaimPrediction, Box<dyn std::error::Error + Send + Sync>> + 'a;

/// Runs `check` on every claim of `set` in order, writing each outcome as one JSON line
/// to `out` (when given) as soon as it is known, and returns the report. Progress counts
/// claims done. The first failing check stops the run with the claim's line number.
pub fn eval_claims(
    set: &ClaimSet,
    check: &mut ClaimChecker<'_>,
    out: Option<&Path>,
    progress: &dyn Progress,
) -> Result<ClaimsReport, EvalError> {
    let mut writer = match out {
        Some(p) => Some((
            p,
            std::io::BufWriter::new(std::fs::File::create(p).map_err(|e| EvalError::io(p, e))?),
        )),
        None => None,
    };
    progress.stage("claims", Some(set.claims.len() as u64));
    let mut outcomes = Vec::with_capacity(set.claims.len());
    let mut judge: Option<(String, bool)> = None;
    for c in &set.claims {
        let start = Instant::now();
        let pred = check(&c.claim).map_err(|source| EvalError::Check {
            line: c.line,
            claim: shorten(&c.claim, 80),
            source,
        })?;
        let seconds = start.elapsed().as_secs_f64();
        judge.get_or_insert_with(|| (pred.judge.clone(), pred.judge_neural));
        let o = ClaimOutcome {
            line: c.line,
            claim: c.claim.clone(),
            gold: c.label,
            kind: c.kind.clone(),
            predicted: ClaimClass::from_verdict(pred.verdict),
            verdict: pred.label,
            confidence: pred.confidence,
            seconds,
            cited: pred.cited,
        };
        if let Some((path, w)) = writer.as_mut() {
            let line = serde_json::to_string(&o).map_err(|e| EvalError::Format {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
            writeln!(w, "{line}")
                .and_then(|()| w.flush())
                .map_err(|e| EvalError::io(path, e))?;
        }
        outcomes.push(o);
        progress.advance(1);
    }
    let mut r = claims_report(&outcomes);
    r.dataset = set.path.display().to_string();
    if let Some((name, neural)) = judge {
        r.judge = name;
        r.judge_neural = neural;
    }
    Ok(r)
}

fn shorten(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((b, _)) => format!("{}…", &s[..b]),
        None => s.to_string(),
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

/// The nearest-rank percentile `p` (in `(0, 1]`) of ascending `sorted`; 0 when empty.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Metrics of checked claims (dataset and judge left empty). An outcome whose gold label
/// is `Mixed` (which [`load_claims`] never produces) is left out.
pub fn claims_report(outcomes: &[ClaimOutcome]) -> ClaimsReport {
    let outcomes: Vec<&ClaimOutcome> = outcomes
        .iter()
        .filter(|o| o.gold != ClaimClass::Mixed)
        .collect();
    let mut counts = [[0u64; 4]; 3];
    for o in &outcomes {
        counts[o.gold.index()][o.predicted.index()] += 1;
    }
    let correct: u64 = (0..3).map(|i| counts[i][i]).sum();
    let per_class: Vec<ClaimClassMetrics> = ClaimClass::GOLD
        .iter()
        .map(|&label| {
            let i = label.index();
            let tp = counts[i][i];
            let predicted: u64 = (0..3).map(|g| counts[g][i]).sum();
            let gold: u64 = counts[i].iter().sum();
            let (precision, recall) = (ratio(tp, predicted), ratio(tp, gold));
            ClaimClassMetrics {
                label,
                precision,
                recall,
                f1: f1(precision, recall),
                gold,
                predicted,
            }
        })
        .collect();
    let present: Vec<&ClaimClassMetrics> = per_class.iter().filter(|c| c.gold > 0).collect();
    let macro_f1 = if present.is_empty() {
        0.0
    } else {
        present.iter().map(|c| c.f1).sum::<f64>() / present.len() as f64
    };
    let mut per_kind = Vec::new();
    if outcomes.iter().any(|o| o.kind.is_some()) {
        let mut by: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for o in &outcomes {
            let e = by.entry(o.kind.as_deref().unwrap_or(NO_KIND)).or_default();
            e.0 += 1;
            e.1 += u64::from(o.correct());
        }
        per_kind = by
            .into_iter()
            .map(|(kind, (claims, correct))| KindAccuracy {
                kind: kind.to_string(),
                claims,
                correct,
                accuracy: ratio(correct, claims),
            })
            .collect();
    }
    let mut secs: Vec<f64> = outcomes.iter().map(|o| o.seconds).collect();
    secs.sort_by(f64::total_cmp);
    let total: f64 = secs.iter().sum();
    let seconds_per_claim = ClaimTiming {
        mean: if secs.is_empty() {
            0.0
        } else {
            total / secs.len() as f64
        },
        p50: percentile(&secs, 0.5),
        p95: percentile(&secs, 0.95),
        total,
    };
    ClaimsReport {
        dataset: String::new(),
        judge: String::new(),
        judge_neural: false,
        claims: outcomes.len(),
        correct,
        accuracy: ratio(correct, outcomes.len() as u64),
        macro_f1,
        per_class,
        mixed: (0..3).map(|g| counts[g][3]).sum(),
        per_kind,
        confusion: ClaimConfusion {
            rows: ClaimClass::GOLD.to_vec(),
            columns: ClaimClass::PREDICTED.to_vec(),
            counts,
        },
        seconds_per_claim,
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

impl ClaimsReport {
    /// A plain-text report for the terminal.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let name = if self.dataset.is_empty() {
            "claims in memory"
        } else {
            &self.dataset
        };
        let _ = writeln!(s, "Claim evaluation: {name}");
        let _ = writeln!(s, "  {} claims", self.claims);
        if !self.judge.is_empty() {
            let kind = if self.judge_neural {
                ""
            } else {
                " [not neural]"
            };
            let _ = writeln!(s, "  judge: {}{kind}", self.judge);
        }
        let _ = writeln!(
            s,
            "\nAccuracy {} ({}/{})  macro-F1 {}",
            pct(self.accuracy),
            self.correct,
            self.claims,
            pct(self.macro_f1)
        );
        let _ = writeln!(
            s,
            "\n{:<21}{:>10}{:>9}{:>9}{:>7}{:>11}",
            "class", "precision", "recall", "F1", "gold", "predicted"
        );
        for c in &self.per_class {
            let _ = writeln!(
                s,
                "{:<21}{:>10}{:>9}{:>9}{:>7}{:>11}",
                c.label.as_str(),
                pct(c.precision),
                pct(c.recall),
                pct(c.f1),
                c.gold,
                c.predicted
            );
        }
        let _ = writeln!(
            s,
            "{:<21}{:>10}{:>9}{:>9}{:>7}{:>11}",
            "mixed", "-", "-", "-", 0, self.mixed
        );
        if self.mixed > 0 {
            let _ = writeln!(
                s,
                "  (mixed is never a gold label: each of the {} is counted wrong)",
                self.mixed
            );
        }
        if !self.per_kind.is_empty() {
            let width = self
                .per_kind
                .iter()
                .map(|k| k.kind.chars().count())
                .max()
                .unwrap_or(0)
                .max(4)
                + 2;
            let _ = writeln!(
                s,
                "\n{:<width$}{:>8}{:>9}{:>10}",
                "kind", "claims", "correct", "accuracy"
            );
            for k in &self.per_kind {
                let _ = writeln!(
                    s,
                    "{:<width$}{:>8}{:>9}{:>10}",
                    k.kind,
                    k.claims,
                    k.correct,
                    pct(k.accuracy)
                );
            }
        }
        let _ = writeln!(s, "\nConfusion (rows gold, columns predicted):");
        let _ = write!(s, "{:<21}", "");
        for c in &self.confusion.columns {
            let _ = write!(s, "{:>21}", c.as_str());
        }
        let _ = writeln!(s);
        for (label, row) in self.confusion.rows.iter().zip(&self.confusion.counts) {
            let _ = write!(s, "{:<21}", label.as_str());
            for n in row {
                let _ = write!(s, "{n:>21}");
            }
            let _ = writeln!(s);
        }
        let t = &self.seconds_per_claim;
        let _ = writeln!(
            s,
            "\nSeconds per claim: mean {:.2}  p50 {:.2}  p95 {:.2}  ({} claims in {:.1} s)",
            t.mean, t.p50, t.p95, self.claims, t.total
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_types::NoProgress;
    use ClaimClass::*;

    fn outcome(gold: ClaimClass, predicted: ClaimClass, kind: Option<&str>) -> ClaimOutcome {
        ClaimOutcome {
            line: 0,
            claim: "The Dunmore ferry runs hourly.".into(),
            gold,
            kind: kind.map(str::to_string),
            predicted,
            verdict: String::new(),
            confidence: 0.5,
            seconds: 1.0,
            cited: Vec::new(),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn verdicts_map_onto_classes() {
        assert_eq!(ClaimClass::from_verdict(Verdict::Supported), Supported);
        assert_eq!(
            ClaimClass::from_verdict(Verdict::MostlySupported),
            Supported
        );
        assert_eq!(
            ClaimClass::from_verdict(Verdict::Contradicted),
            Contradicted
        );
        assert_eq!(
            ClaimClass::from_verdict(Verdict::MostlyUnsupported),
            Contradicted
        );
        assert_eq!(
            ClaimClass::from_verdict(Verdict::NotEnoughEvidence),
            NotEnoughEvidence
        );
        assert_eq!(ClaimClass::from_verdict(Verdict::Mixed), Mixed);
        assert_eq!(ClaimClass::parse_gold(" Supported "), Some(Supported));
        assert_eq!(
            ClaimClass::parse_gold("not enough evidence"),
            Some(NotEnoughEvidence)
        );
        assert_eq!(ClaimClass::parse_gold("mixed"), None);
    }

    /// gold: S S S C C N N   pred: S C M C S N M
    fn hand_made() -> Vec<ClaimOutcome> {
        [
            (Supported, Supported, Some("composed")),
            (Supported, Contradicted, Some("composed")),
            (Supported, Mixed, Some("extracted-auth")),
            (Contradicted, Contradicted, Some("composed")),
            (Contradicted, Supported, Some("extracted-auth")),
            (NotEnoughEvidence, NotEnoughEvidence, None),
            (NotEnoughEvidence, Mixed, Some("composed")),
        ]
        .into_iter()
        .map(|(g, p, k)| outcome(g, p, k))
        .collect()
    }

    #[test]
    fn confusion_counts_put_mixed_in_its_own_column() {
        let r = claims_report(&hand_made());
        assert_eq!(r.claims, 7);
        assert_eq!(
            r.confusion.counts,
            [[1, 1, 0, 1], [1, 1, 0, 0], [0, 0, 1, 1]],
            "rows gold S, C, N; columns predicted S, C, N, mixed"
        );
        assert_eq!(r.confusion.columns.last(), Some(&Mixed));
        assert_eq!(r.mixed, 2);
        let cells: u64 = r.confusion.counts.iter().flatten().sum();
        assert_eq!(cells, 7);
        assert_eq!(r.correct, 3);
        assert!(close(r.accuracy, 3.0 / 7.0));
    }

    #[test]
    fn precision_recall_and_f1_by_hand() {
        let r = claims_report(&hand_made());
        // supported:    tp 1, predicted 2 (S, and C's miss), gold 3 → P 1/2, R 1/3, F1 2/5.
        // contradicted: tp 1, predicted 2, gold 2 → P 1/2, R 1/2, F1 1/2.
        // not_enough:   tp 1, predicted 1, gold 2 → P 1, R 1/2, F1 2/3.
        // The two `mixed` predictions lower recall only: no class's precision counts them.
        let want = [
            (Supported, 0.5, 1.0 / 3.0, 0.4, 3, 2),
            (Contradicted, 0.5, 0.5, 0.5, 2, 2),
            (NotEnoughEvidence, 1.0, 0.5, 2.0 / 3.0, 2, 1),
        ];
        assert_eq!(r.per_class.len(), 3);
        for (c, (label, p, rc, f, gold, pred)) in r.per_class.iter().zip(want) {
            assert_eq!(c.label, label);
            assert!(close(c.precision, p), "{c:?}");
            assert!(close(c.recall, rc), "{c:?}");
            assert!(close(c.f1, f), "{c:?}");
            assert_eq!((c.gold, c.predicted), (gold, pred), "{c:?}");
        }
        assert!(close(r.macro_f1, (0.4 + 0.5 + 2.0 / 3.0) / 3.0));
    }

    #[test]
    fn per_kind_accuracy_groups_claims_without_a_kind() {
        let r = claims_report(&hand_made());
        let got: Vec<(&str, u64, u64)> = r
            .per_kind
            .iter()
            .map(|k| (k.kind.as_str(), k.claims, k.correct))
            .collect();
        assert_eq!(
            got,
            vec![
                ("(none)", 1, 1),
                ("composed", 4, 2),
                ("extracted-auth", 2, 0)
            ]
        );
        assert!(close(r.per_kind[1].accuracy, 0.5));
        // No kinds at all: no table.
        let plain: Vec<ClaimOutcome> = hand_made()
            .into_iter()
            .map(|mut o| {
                o.kind = None;
                o
            })
            .collect();
        assert!(claims_report(&plain).per_kind.is_empty());
    }

    #[test]
    fn macro_f1_ignores_gold_classes_that_are_absent() {
        let r = claims_report(&[
            outcome(Supported, Supported, None),
            outcome(Contradicted, Mixed, None),
        ]);
        // supported F1 1, contradicted F1 0; not_enough_evidence has no gold claims.
        assert!(close(r.macro_f1, 0.5));
        assert_eq!(r.per_class[2].gold, 0);
    }

    #[test]
    fn seconds_are_nearest_rank_percentiles() {
        let mut v = hand_made();
        for (o, s) in v.iter_mut().zip([0.7, 0.1, 0.5, 0.3, 0.2, 0.6, 0.4]) {
            o.seconds = s;
        }
        let t = claims_report(&v).seconds_per_claim;
        assert!(close(t.mean, 2.8 / 7.0));
        assert!(close(t.p50, 0.4), "{t:?}"); // rank ceil(3.5) = 4 of 0.1..0.7
        assert!(close(t.p95, 0.7), "{t:?}"); // rank ceil(6.65) = 7
        assert!(close(t.total, 2.8));
    }

    #[test]
    fn loads_claims_and_names_the_bad_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("claims.jsonl");
        std::fs::write(
            &p,
            "{\"claim\": \"The Dunmore ferry runs hourly.\", \"label\": \"supported\", \"kind\": \"a\", \"id\": 7}\n\
             \n\
             {\"claim\": \"The Dunmore ferry is free.\", \"label\": \"Not enough evidence\"}\n",
        )
        .unwrap();
        let set = load_claims(&p, Limit::All).unwrap();
        assert_eq!(set.claims.len(), 2);
        assert_eq!(set.claims[0].kind.as_deref(), Some("a"));
        assert_eq!(set.claims[1].line, 3);
        assert_eq!(set.claims[1].label, NotEnoughEvidence);
        assert_eq!(load_claims(&p, Limit::First(1)).unwrap().claims.len(), 1);

        std::fs::write(
            &p,
            "{\"claim\": \"The Dunmore ferry runs hourly.\", \"label\": \"supported\"}\n\
             {\"claim\": \"The Dunmore ferry is free.\", \"label\": \"mixed\"}\n",
        )
        .unwrap();
        let e = load_claims(&p, Limit::All).unwrap_err();
        assert!(
            matches!(&e, EvalError::UnknownLabel { line: 2, label, .. } if label == "mixed"),
            "{e:?}"
        );
        assert!(e.to_string().contains("line 2"), "{e}");

        std::fs::write(&p, "{\"claim\": \"The Dunmore ferry runs hourly.\"}\n").unwrap();
        let e = load_claims(&p, Limit::All).unwrap_err();
        assert!(matches!(e, EvalError::ClaimRecord { line: 1, .. }), "{e:?}");
        std::fs::write(&p, "{\"claim\": \"  \", \"label\": \"supported\"}\n").unwrap();
        let e = load_claims(&p, Limit::All).unwrap_err();
        assert!(matches!(e, EvalError::EmptyClaim { line: 1, .. }), "{e:?}");
        std::fs::write(&p, "\n\n").unwrap();
        let e = load_claims(&p, Limit::All).unwrap_err();
        assert!(matches!(e, EvalError::Empty { .. }), "{e:?}");
    }

    fn prediction(verdict: Verdict) -> ClaimPrediction {
        ClaimPrediction {
            verdict,
            label: verdict.label().to_string(),
            confidence: 0.8,
            judge: "fixed".into(),
            judge_neural: false,
            cited: Vec::new(),
        }
    }

    #[test]
    fn eval_writes_one_line_per_claim_and_names_a_failing_line() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("claims.jsonl");
        std::fs::write(
            &p,
            "{\"claim\": \"The Dunmore ferry runs hourly.\", \"label\": \"supported\"}\n\
             {\"claim\": \"The Dunmore ferry is free.\", \"label\": \"contradicted\"}\n\
             {\"claim\": \"The Dunmore ferry has a cafe.\", \"label\": \"not_enough_evidence\"}\n",
        )
        .unwrap();
        let set = load_claims(&p, Limit::All).unwrap();
        let out = d.path().join("verdicts.jsonl");
        let mut check =
            |c: &str| -> Result<ClaimPrediction, Box<dyn std::error::Error + Send + Sync>> {
                Ok(prediction(if c.contains("hourly") {
                    Verdict::MostlySupported
                } else {
                    Verdict::Mixed
                }))
            };
        let r = eval_claims(&set, &mut check, Some(&out), &NoProgress).unwrap();
        assert_eq!(r.claims, 3);
        assert_eq!(r.correct, 1);
        assert_eq!(r.mixed, 2);
        assert_eq!(r.judge, "fixed");
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["predicted"], "supported");
        assert_eq!(lines[0]["verdict"], "Mostly supported");
        assert_eq!(lines[1]["gold"], "contradicted");
        assert_eq!(lines[1]["predicted"], "mixed");
        let text = r.render_text();
        assert!(text.contains("Accuracy 33.3% (1/3)"), "{text}");
        assert!(text.contains("mixed is never a gold label"), "{text}");
        assert_eq!(
            serde_json::to_value(&r).unwrap()["confusion"]["counts"][1][3],
            1
        );

        let mut failing =
            |c: &str| -> Result<ClaimPrediction, Box<dyn std::error::Error + Send + Sync>> {
                if c.contains("free") {
                    Err("the library is empty".into())
                } else {
                    Ok(prediction(Verdict::Supported))
                }
            };
        let e = eval_claims(&set, &mut failing, None, &NoProgress).unwrap_err();
        assert!(matches!(e, EvalError::Check { line: 2, .. }), "{e:?}");
    }
}
