//! Brief faithfulness: over a set of questions, how much of what the briefs say passes
//! the citation check, how much is dropped, and what a brief costs, for the extractive
//! composer and for a language-model writer side by side.

use std::time::Duration;

use serde::Serialize;
use verity_types::Brief;

/// One way of writing briefs, measured over the same questions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaithfulnessArm {
    /// "extractive", or "llm MODEL".
    pub label: String,
    pub briefs: usize,
    /// Sentences written: the composer's picks (extractive) or the model's statements.
    pub written: usize,
    /// Of those, the ones that passed the check against the passages they cite.
    pub passing: usize,
    /// `passing / written` (1 when nothing was written).
    pub share_passing: f64,
    /// Written sentences the check dropped, per brief.
    pub dropped_per_brief: f64,
    /// Sentences in the finished brief (summary and findings), per brief.
    pub sentences_per_brief: f64,
    /// Wall time of a whole brief, seconds (mean).
    pub seconds_per_brief: f64,
    /// The model's share of that time, seconds (mean); absent without a model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_seconds_per_brief: Option<f64>,
    /// Prompt plus completion tokens per brief, as the server counted them; absent
    /// without a model or when the server does not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_per_brief: Option<f64>,
}

/// The arms side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaithfulnessReport {
    pub questions: usize,
    pub arms: Vec<FaithfulnessArm>,
}

/// One arm from its briefs and the wall time of each. A brief with a writer audit is
/// measured on what the model wrote; one without, on the composer's own check.
pub fn faithfulness_arm(label: impl Into<String>, briefs: &[(Brief, Duration)]) -> FaithfulnessArm {
    let n = briefs.len().max(1) as f64;
    let (mut written, mut passing, mut dropped, mut in_brief) = (0usize, 0usize, 0usize, 0usize);
    let (mut model_ms, mut tokens, mut token_briefs) = (0u64, 0u64, 0usize);
    let mut seconds = 0.0;
    let mut with_model = false;
    for (b, took) in briefs {
        seconds += took.as_secs_f64();
        in_brief += b.sentences().filter(|s| !s.flagged).count();
        match &b.writer {
            Some(w) => {
                with_model = true;
                written += w.written;
                passing += w.written.saturating_sub(w.dropped);
                dropped += w.dropped;
                model_ms += w.latency_ms;
                if let (Some(p), Some(c)) = (w.prompt_tokens, w.completion_tokens) {
                    tokens += p + c;
                    token_briefs += 1;
                }
            }
            None => {
                let v = &b.verification;
                let refused = v.dropped.len() + v.flagged;
                written += v.checked;
                passing += v.checked.saturating_sub(refused);
                dropped += refused;
            }
        }
    }
    FaithfulnessArm {
        label: label.into(),
        briefs: briefs.len(),
        written,
        passing,
        share_passing: if written == 0 {
            1.0
        } else {
            round3(passing as f64 / written as f64)
        },
        dropped_per_brief: round3(dropped as f64 / n),
        sentences_per_brief: round3(in_brief as f64 / n),
        seconds_per_brief: round3(seconds / n),
        model_seconds_per_brief: with_model.then(|| round3(model_ms as f64 / 1000.0 / n)),
        tokens_per_brief: (token_briefs > 0).then(|| round3(tokens as f64 / token_briefs as f64)),
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl FaithfulnessReport {
    /// A plain-text table, one column per arm.
    pub fn table(&self) -> String {
        let mut rows: Vec<(String, Vec<String>)> = vec![(
            "".into(),
            self.arms.iter().map(|a| a.label.clone()).collect(),
        )];
        let mut row = |name: &str, f: &dyn Fn(&FaithfulnessArm) -> String| {
            rows.push((name.to_string(), self.arms.iter().map(f).collect()));
        };
        row("briefs", &|a| a.briefs.to_string());
        row("sentences written", &|a| a.written.to_string());
        row("passing the citation check", &|a| {
            format!("{} ({:.1}%)", a.passing, a.share_passing * 100.0)
        });
        row("dropped per brief", &|a| {
            format!("{:.2}", a.dropped_per_brief)
        });
        row("sentences in the brief", &|a| {
            format!("{:.2}", a.sentences_per_brief)
        });
        row("seconds per brief", &|a| {
            format!("{:.2}", a.seconds_per_brief)
        });
        row("  of which the model", &|a| {
            opt(a.model_seconds_per_brief, 2)
        });
        row("tokens per brief", &|a| opt(a.tokens_per_brief, 0));
        let first = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
        let mut out = format!("questions: {}\n", self.questions);
        for (name, cells) in rows {
            out.push_str(&format!("{name:<first$}"));
            for c in cells {
                out.push_str(&format!("  {c:>22}"));
            }
            out.push('\n');
        }
        out
    }
}

fn opt(x: Option<f64>, decimals: usize) -> String {
    x.map_or("-".into(), |v| format!("{v:.decimals$}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use verity_types::{Verification, WriterAudit};

    /// A real (empty) brief from the composer.
    fn empty_brief() -> Brief {
        struct Empty;
        impl verity_compose::Evidence for Empty {
            fn search(
                &self,
                _: &verity_types::SearchRequest,
            ) -> Result<Vec<verity_types::SearchHit>, String> {
                Ok(Vec::new())
            }
            fn has_dense(&self) -> bool {
                false
            }
        }
        let today = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        let req = verity_compose::BriefRequest::new(
            "Why did the weir fail?",
            verity_types::Mode::Ask,
            today,
        );
        verity_compose::build_brief(
            &req,
            &Empty,
            &verity_judge::LexicalStance::new(),
            &verity_types::NoProgress,
        )
        .unwrap()
    }

    #[test]
    fn arms_count_what_was_written_and_what_passed() {
        let mut plain = empty_brief();
        plain.verification = Verification {
            checked: 10,
            kept: 8,
            dropped: vec![
                verity_types::DroppedSentence {
                    section: "summary".into(),
                    text: "a".into(),
                    support: 0.1,
                    reason: None
                };
                2
            ],
            ..Verification::default()
        };
        let mut written = plain.clone();
        written.writer = Some(WriterAudit {
            written: 6,
            kept: 2,
            dropped: 4,
            latency_ms: 3000,
            prompt_tokens: Some(900),
            completion_tokens: Some(100),
            ..WriterAudit::default()
        });
        let secs = Duration::from_secs(4);
        let a = faithfulness_arm("extractive", &[(plain.clone(), secs), (plain, secs)]);
        assert_eq!(
            (a.written, a.passing, a.share_passing, a.dropped_per_brief),
            (20, 16, 0.8, 2.0)
        );
        assert_eq!(
            (
                a.seconds_per_brief,
                a.model_seconds_per_brief,
                a.tokens_per_brief
            ),
            (4.0, None, None)
        );
        let b = faithfulness_arm("llm m", &[(written, secs)]);
        assert_eq!(
            (b.written, b.passing, b.share_passing, b.dropped_per_brief),
            (6, 2, 0.333, 4.0)
        );
        assert_eq!(
            (b.model_seconds_per_brief, b.tokens_per_brief),
            (Some(3.0), Some(1000.0))
        );
        let r = FaithfulnessReport {
            questions: 2,
            arms: vec![a, b],
        };
        let t = r.table();
        assert!(
            t.contains("passing the citation check")
                && t.contains("16 (80.0%)")
                && t.contains("2 (33.3%)"),
            "{t}"
        );
    }
}
