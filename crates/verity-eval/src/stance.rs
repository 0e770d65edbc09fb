//! Stance evaluation: accuracy, macro-F1, per-class scores, confusion matrix, speed.

use std::fmt::Write as _;
use std::time::Instant;

use serde::Serialize;
use verity_judge::StanceModel;
use verity_types::{Progress, Stance};

use crate::{EvalError, PairSet, StancePair};

/// Label order used in every table of the report.
const ORDER: [Stance; 3] = [Stance::Supports, Stance::Contradicts, Stance::Neutral];

/// Pairs handed to the model per call (progress is reported after each).
const CHUNK: usize = 256;

fn idx(s: Stance) -> usize {
    match s {
        Stance::Supports => 0,
        Stance::Contradicts => 1,
        Stance::Neutral => 2,
    }
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    pub label: Stance,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Gold pairs of this class.
    pub support: u64,
}

/// The result of [`eval_stance`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StanceReport {
    pub model: String,
    pub neural: bool,
    /// Where the pairs came from (empty when evaluated from memory).
    pub dataset: String,
    pub format: String,
    /// Gold labels are supports vs not-supports (see [`PairSet::binary`]).
    pub binary: bool,
    pub pairs: usize,
    /// 3-class accuracy.
    pub accuracy: f64,
    /// Mean F1 over the classes present in the gold labels.
    pub macro_f1: f64,
    /// Per class, in the order supports, contradicts, neutral.
    pub per_class: Vec<ClassMetrics>,
    /// Rows: gold; columns: predicted; order supports, contradicts, neutral.
    pub confusion: [[u64; 3]; 3],
    /// Accuracy of supports vs not-supports (predicted contradicts and neutral merged).
    pub binary_accuracy: f64,
    /// Macro-F1 of supports vs not-supports.
    pub binary_macro_f1: f64,
    pub seconds: f64,
    pub pairs_per_sec: f64,
}

/// Runs `model` over `set` and fills in where the pairs came from.
pub fn eval_pair_set(
    set: &PairSet,
    model: &dyn StanceModel,
    progress: &dyn Progress,
) -> Result<StanceReport, EvalError> {
    let mut r = eval_stance(&set.pairs, model, progress)?;
    r.dataset = set.path.display().to_string();
    r.format = set.format.as_str().to_string();
    r.binary = set.binary;
    Ok(r)
}

/// Scores every pair with `model` and compares the argmax label with the gold label.
pub fn eval_stance(
    pairs: &[StancePair],
    model: &dyn StanceModel,
    progress: &dyn Progress,
) -> Result<StanceReport, EvalError> {
    progress.stage("stance", Some(pairs.len() as u64));
    let start = Instant::now();
    let mut predicted = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(CHUNK) {
        let input: Vec<(&str, &str)> = chunk
            .iter()
            .map(|p| (p.claim.as_str(), p.evidence.as_str()))
            .collect();
        let scores = model.score(&input)?;
        predicted.extend(scores.iter().map(|s| s.label()));
        progress.advance(chunk.len() as u64);
    }
    let seconds = start.elapsed().as_secs_f64();
    let gold: Vec<Stance> = pairs.iter().map(|p| p.label).collect();
    let mut r = report_from(&gold, &predicted);
    r.model = model.name().to_string();
    r.neural = model.is_neural();
    r.seconds = seconds;
    r.pairs_per_sec = if seconds > 0.0 {
        pairs.len() as f64 / seconds
    } else {
        0.0
    };
    Ok(r)
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

/// Metrics from gold and predicted labels (timing fields left at zero).
fn report_from(gold: &[Stance], predicted: &[Stance]) -> StanceReport {
    let mut confusion = [[0u64; 3]; 3];
    for (g, p) in gold.iter().zip(predicted) {
        confusion[idx(*g)][idx(*p)] += 1;
    }
    let n: u64 = gold.len() as u64;
    let correct: u64 = (0..3).map(|i| confusion[i][i]).sum();
    let per_class: Vec<ClassMetrics> = ORDER
        .iter()
        .enumerate()
        .map(|(i, &label)| {
            let tp = confusion[i][i];
            let pred: u64 = (0..3).map(|g| confusion[g][i]).sum();
            let support: u64 = confusion[i].iter().sum();
            let precision = ratio(tp, pred);
            let recall = ratio(tp, support);
            ClassMetrics {
                label,
                precision,
                recall,
                f1: f1(precision, recall),
                support,
            }
        })
        .collect();
    let present: Vec<&ClassMetrics> = per_class.iter().filter(|c| c.support > 0).collect();
    let macro_f1 = if present.is_empty() {
        0.0
    } else {
        present.iter().map(|c| c.f1).sum::<f64>() / present.len() as f64
    };
    // Binary: supports vs everything else.
    let tp = confusion[0][0];
    let fp = confusion[1][0] + confusion[2][0];
    let fn_ = confusion[0][1] + confusion[0][2];
    let tn = n - tp - fp - fn_;
    let f1_pos = f1(ratio(tp, tp + fp), ratio(tp, tp + fn_));
    let f1_neg = f1(ratio(tn, tn + fn_), ratio(tn, tn + fp));
    let classes_present = u32::from(tp + fn_ > 0) + u32::from(tn + fp > 0);
    let binary_macro_f1 = if classes_present == 0 {
        0.0
    } else {
        (f1_pos * f64::from(u32::from(tp + fn_ > 0)) + f1_neg * f64::from(u32::from(tn + fp > 0)))
            / f64::from(classes_present)
    };
    StanceReport {
        model: String::new(),
        neural: false,
        dataset: String::new(),
        format: String::new(),
        binary: false,
        pairs: gold.len(),
        accuracy: ratio(correct, n),
        macro_f1,
        per_class,
        confusion,
        binary_accuracy: ratio(tp + tn, n),
        binary_macro_f1,
        seconds: 0.0,
        pairs_per_sec: 0.0,
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

impl StanceReport {
    /// A plain-text report for the terminal.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let name = if self.dataset.is_empty() {
            "pairs in memory"
        } else {
            &self.dataset
        };
        let _ = writeln!(s, "Stance evaluation: {name}");
        let fmt = if self.format.is_empty() {
            String::new()
        } else {
            format!(", format {}", self.format)
        };
        let _ = writeln!(s, "  {} pairs{fmt}", self.pairs);
        let kind = if self.neural { "" } else { " [not neural]" };
        let _ = writeln!(s, "  model: {}{kind}", self.model);
        if self.binary {
            let _ = writeln!(
                s,
                "  gold labels are binary: `refutes` here means \"does not entail\"; the binary \
                 scores are the ones to compare"
            );
            let _ = writeln!(
                s,
                "\nBinary (supports vs not): accuracy {}  macro-F1 {}",
                pct(self.binary_accuracy),
                pct(self.binary_macro_f1)
            );
            let _ = writeln!(
                s,
                "3-class:                  accuracy {}  macro-F1 {}",
                pct(self.accuracy),
                pct(self.macro_f1)
            );
        } else {
            let _ = writeln!(
                s,
                "\nAccuracy {}  macro-F1 {}",
                pct(self.accuracy),
                pct(self.macro_f1)
            );
            let _ = writeln!(
                s,
                "Binary (supports vs not): accuracy {}  macro-F1 {}",
                pct(self.binary_accuracy),
                pct(self.binary_macro_f1)
            );
        }
        let _ = writeln!(
            s,
            "\n{:<13}{:>10}{:>9}{:>9}{:>9}",
            "class", "precision", "recall", "F1", "gold"
        );
        for c in &self.per_class {
            let _ = writeln!(
                s,
                "{:<13}{:>10}{:>9}{:>9}{:>9}",
                c.label.as_str(),
                pct(c.precision),
                pct(c.recall),
                pct(c.f1),
                c.support
            );
        }
        let _ = writeln!(s, "\nConfusion (rows gold, columns predicted):");
        let _ = writeln!(
            s,
            "{:<13}{:>12}{:>12}{:>12}",
            "", "supports", "contradicts", "neutral"
        );
        for (i, label) in ORDER.iter().enumerate() {
            let row = self.confusion[i];
            let _ = writeln!(
                s,
                "{:<13}{:>12}{:>12}{:>12}",
                label.as_str(),
                row[0],
                row[1],
                row[2]
            );
        }
        let _ = writeln!(
            s,
            "\nSpeed: {:.1} pairs/s ({} pairs in {:.1} s)",
            self.pairs_per_sec, self.pairs, self.seconds
        );
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_judge::{JudgeError, LexicalStance};
    use verity_types::{NoProgress, StanceScores};
    use Stance::*;

    #[test]
    fn metrics_on_a_hand_made_case() {
        // gold:  S S S C C N N N
        // pred:  S S C C N N N S
        let gold = [
            Supports,
            Supports,
            Supports,
            Contradicts,
            Contradicts,
            Neutral,
            Neutral,
            Neutral,
        ];
        let pred = [
            Supports,
            Supports,
            Contradicts,
            Contradicts,
            Neutral,
            Neutral,
            Neutral,
            Supports,
        ];
        let r = report_from(&gold, &pred);
        assert_eq!(r.confusion, [[2, 1, 0], [0, 1, 1], [1, 0, 2]]);
        assert!((r.accuracy - 5.0 / 8.0).abs() < 1e-12);
        // supports: P 2/3, R 2/3; contradicts: P 1/2, R 1/2; neutral: P 2/3, R 2/3.
        let f = [2.0 / 3.0, 0.5, 2.0 / 3.0];
        for (c, want) in r.per_class.iter().zip(f) {
            assert!((c.f1 - want).abs() < 1e-12, "{c:?}");
        }
        assert!((r.macro_f1 - (f.iter().sum::<f64>() / 3.0)).abs() < 1e-12);
        // binary: tp 2, fp 1, fn 1, tn 4 → accuracy 6/8.
        assert!((r.binary_accuracy - 0.75).abs() < 1e-12);
        let f_pos = 2.0 / 3.0;
        let f_neg = 0.8; // P 4/5, R 4/5
        assert!((r.binary_macro_f1 - (f_pos + f_neg) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn macro_f1_ignores_classes_absent_from_gold() {
        let r = report_from(&[Supports, Contradicts], &[Supports, Neutral]);
        // supports F1 1, contradicts F1 0; neutral has no gold pairs.
        assert!((r.macro_f1 - 0.5).abs() < 1e-12);
        assert_eq!(r.per_class[2].support, 0);
    }

    struct Fixed;
    impl StanceModel for Fixed {
        fn name(&self) -> &str {
            "fixed"
        }
        fn is_neural(&self) -> bool {
            false
        }
        fn score(&self, pairs: &[(&str, &str)]) -> Result<Vec<StanceScores>, JudgeError> {
            Ok(pairs
                .iter()
                .map(|_| StanceScores {
                    supports: 0.6,
                    contradicts: 0.3,
                    neutral: 0.1,
                })
                .collect())
        }
    }

    #[test]
    fn eval_runs_a_model_and_renders() {
        let pairs: Vec<StancePair> = (0..300)
            .map(|i| StancePair {
                claim: format!("claim {i}"),
                evidence: "evidence".into(),
                label: if i % 3 == 0 { Supports } else { Neutral },
            })
            .collect();
        let r = eval_stance(&pairs, &Fixed, &NoProgress).unwrap();
        assert_eq!(r.pairs, 300);
        assert!((r.accuracy - 1.0 / 3.0).abs() < 1e-12);
        let text = r.render_text();
        assert!(text.contains("Accuracy 33.3%"), "{text}");
        assert!(text.contains("pairs/s"));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["confusion"][0][0], 100);
        assert_eq!(json["per_class"][0]["label"], "supports");
    }

    #[test]
    fn lexical_judge_gets_the_obvious_fictional_cases() {
        let mk = |c: &str, e: &str, l| StancePair {
            claim: c.into(),
            evidence: e.into(),
            label: l,
        };
        let pairs = vec![
            mk(
                "The Dunmore bridge reopened in May.",
                "The Dunmore bridge reopened to traffic on 3 May.",
                Supports,
            ),
            mk(
                "The Dunmore bridge reopened in May.",
                "The Dunmore bridge has not reopened.",
                Contradicts,
            ),
            mk(
                "The Dunmore bridge reopened in May.",
                "A bakery on Fenwick Street sells rye bread.",
                Neutral,
            ),
        ];
        let r = eval_stance(&pairs, &LexicalStance, &NoProgress).unwrap();
        assert_eq!(r.accuracy, 1.0, "{}", r.render_text());
        assert!(!r.neural);
    }
}
