//! Write, step 6: the notes on how the brief was made, and `--explain`'s scores.

use verity_types::{CandidateScore, Explain, Mode, SubQueryRun, Verification};

use crate::gather::Cand;
use crate::judge;
use crate::pipeline::aggregation::Assessed;
use crate::pipeline::judging::Judged;

/// What the notes report on.
pub(crate) struct NoteFacts<'a> {
    pub mode: Mode,
    /// The stance model's name, when it is the lexical fallback.
    pub lexical_judge: Option<&'a str>,
    pub has_dense: bool,
    pub as_of: Option<chrono::NaiveDate>,
    /// Cited sources without a date.
    pub undated: usize,
    pub verification: &'a Verification,
}

/// Things the reader must know about how the brief was made.
pub(crate) fn notes(f: &NoteFacts<'_>) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(name) = f.lexical_judge {
        notes.push(format!(
            "Stance was judged by the lexical fallback ({}), not the entailment model: it counts shared words and negations, so treat stances{} as a rough guide.",
            name,
            if f.mode == Mode::Check { " and the verdict" } else { "" }
        ));
    }
    if !f.has_dense {
        notes.push(
            "Dense (semantic) search was not available: evidence was found by keyword (BM25) search only, which misses paraphrases.".to_string(),
        );
    }
    if let Some(d) = f.as_of {
        notes.push(match f.undated {
            0 => format!("Evidence restricted to sources published on or before {d}."),
            1 => format!(
                "Evidence restricted to sources published on or before {d}; 1 source carries no date and was kept, so whether it predates {d} is unknown."
            ),
            n => format!(
                "Evidence restricted to sources published on or before {d}; {n} sources carry no date and were kept, so whether they predate {d} is unknown."
            ),
        });
    }
    let v = f.verification;
    if !v.dropped.is_empty() {
        notes.push(format!(
            "{} of {} sentences were left out because the passages they cite do not support them (support below {}).",
            v.dropped.len(),
            v.checked,
            v.threshold
        ));
    }
    if v.verbatim > 0 {
        notes.push(format!(
            "The stance model scored {} of {} quoted source sentences below the support threshold against their own passages; they are kept because they are verbatim quotes, but the model's stances on these sources are unreliable.",
            v.verbatim, v.checked
        ));
    }
    if v.flagged > 0 {
        notes.push(format!(
            "{} sentence(s) are shown although the passages they cite do not support them; they are marked as unsupported.",
            v.flagged
        ));
    }
    notes
}

/// `--explain`: the sub-queries run and every candidate's scores.
pub(crate) fn explain(
    runs: Vec<SubQueryRun>,
    cands: &[Cand],
    judged: &Judged,
    assessed: &Assessed,
) -> Explain {
    Explain {
        runs,
        focus_terms: judged.focus.clone(),
        candidates: cands
            .iter()
            .map(|c| candidate_score(c, cands, assessed))
            .collect(),
        judged_pairs: judged.pairs,
    }
}

/// One candidate's scores: its deciding sentence (else its best-covering judged one) and
/// its weight in the verdict.
fn candidate_score(c: &Cand, cands: &[Cand], assessed: &Assessed) -> CandidateScore {
    let best = judge::deciding_sentence(c).or_else(|| {
        c.sents
            .iter()
            .enumerate()
            .filter(|(_, s)| s.scores.is_some())
            .max_by(|a, b| a.1.coverage.total_cmp(&b.1.coverage))
            .map(|(i, _)| i)
    });
    let weight = assessed
        .deciding
        .iter()
        .position(|(ci, _)| {
            cands
                .get(*ci)
                .is_some_and(|x| x.hit.passage.id == c.hit.passage.id)
        })
        .map(|i| assessed.agg.weights[i])
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(v: &Verification) -> NoteFacts<'_> {
        NoteFacts {
            mode: Mode::Check,
            lexical_judge: None,
            has_dense: true,
            as_of: None,
            undated: 0,
            verification: v,
        }
    }

    #[test]
    fn a_neural_dense_unrestricted_clean_brief_has_no_notes() {
        let v = Verification::default();
        assert!(notes(&facts(&v)).is_empty());
    }

    #[test]
    fn each_caveat_gets_its_note() {
        let v = Verification {
            threshold: 0.5,
            checked: 4,
            verbatim: 2,
            flagged: 1,
            ..Verification::default()
        };
        let mut f = facts(&v);
        f.lexical_judge = Some("lexical-v1");
        f.has_dense = false;
        f.as_of = chrono::NaiveDate::from_ymd_opt(2019, 12, 31);
        f.undated = 2;
        let n = notes(&f);
        assert_eq!(n.len(), 5, "{n:#?}");
        assert!(n[0].contains("(lexical-v1)") && n[0].contains("stances and the verdict"));
        assert!(n[1].starts_with("Dense (semantic) search was not available"));
        assert!(
            n[2].contains("2019-12-31; 2 sources carry no date"),
            "{}",
            n[2]
        );
        assert!(n[3].starts_with("The stance model scored 2 of 4"));
        assert!(n[4].starts_with("1 sentence(s) are shown"));

        f.mode = Mode::Ask;
        f.undated = 1;
        let n = notes(&f);
        assert!(n[0].contains("treat stances as a rough guide"), "{}", n[0]);
        assert!(n[2].contains("1 source carries no date"), "{}", n[2]);
    }
}
