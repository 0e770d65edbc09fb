//! The check before output: every sentence is scored against the passages it cites.

use std::collections::HashMap;

use verity_judge::StanceModel;
use verity_types::{char_slice, Citation, Passage, PassageId, Sentence};

use crate::error::ComposeError;

/// Default support a sentence needs from the passages it cites.
pub const DEFAULT_SUPPORT_THRESHOLD: f32 = 0.5;

/// The result of [`verify_sentences`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verified {
    /// Sentences at or above the threshold, in input order, `support` set.
    pub kept: Vec<Sentence>,
    /// Sentences below it, in input order, `support` set.
    pub dropped: Vec<Sentence>,
}

/// Scores each sentence against the passages it cites and splits them at `threshold`.
///
/// A sentence's support is the highest `supports` probability the stance model gives to
/// it against what it cites: for each citation, the cited span and the whole cited
/// passage are both scored, and one of them entailing the sentence is enough. (Scoring
/// the span matters: a passage that also holds a negation or a different figure
/// elsewhere would otherwise make a crude judge call a verbatim sentence contradicted.)
/// A citation whose span does not lie inside a passage of `passages` or does not match
/// its quoted text gives 0, and a sentence without citations has support 0, so neither
/// can pass.
///
/// **Verbatim extractions.** A sentence whose text is exactly its cited span after
/// Verity's light display trimming (whitespace, list and emphasis markers, a news
/// dateline, an unmatched quote mark; see [`display_text`]) *is* the source sentence, so
/// it is entailed by it whatever a model says: its support is 1. The model still scores
/// it, and that score is kept as `model_support` so a weak model shows up in the brief.
/// Every other sentence (joined, trimmed further, or written by a language model) is
/// judged by the model alone. The check is there to catch trimming or joining that
/// changes the meaning, and sentences written by a language model.
pub fn verify_sentences(
    sentences: Vec<Sentence>,
    passages: &HashMap<PassageId, Passage>,
    judge: &dyn StanceModel,
    threshold: f32,
) -> Result<Verified, ComposeError> {
    let support = support_scores(&sentences, passages, judge, true, threshold)?;
    let mut out = Verified::default();
    for (mut s, (sup, model)) in sentences.into_iter().zip(support) {
        s.support = Some(sup);
        s.model_support = Some(model);
        if sup >= threshold {
            out.kept.push(s);
        } else {
            out.dropped.push(s);
        }
    }
    Ok(out)
}

/// The support of each sentence (see [`verify_sentences`]) and the model's own score,
/// rounded to three decimals, in input order. With `trust_verbatim` false the model's
/// score is the support of every sentence, verbatim quotes included (strict mode).
///
/// The cited spans are scored first; a sentence whose best span score reaches `enough`
/// (the support threshold) is supported whatever its whole passages would score, so only
/// the others have their whole cited passages scored too. That reads a fraction of the
/// tokens (a passage is many times a span) without changing which sentences pass; the
/// model score reported for a passing sentence is then its best span score.
pub fn support_scores(
    sentences: &[Sentence],
    passages: &HashMap<PassageId, Passage>,
    judge: &dyn StanceModel,
    trust_verbatim: bool,
    enough: f32,
) -> Result<Vec<(f32, f32)>, ComposeError> {
    // One pair per (sentence, cited span), then per (sentence, cited passage) where
    // needed; remember which sentence each belongs to.
    let mut spans: Vec<(usize, &str, &str)> = Vec::new();
    let mut whole: Vec<(usize, &str, &str)> = Vec::new();
    for (i, s) in sentences.iter().enumerate() {
        let mut seen: Vec<&PassageId> = Vec::new();
        for c in &s.citations {
            let Some(p) = passages.get(&c.passage_id) else {
                continue;
            };
            // The cited span must lie inside the passage it names, and say what it quotes.
            let local = c
                .start
                .checked_sub(p.start)
                .zip(c.end.checked_sub(p.start))
                .and_then(|(a, b)| char_slice(&p.text, a, b))
                .filter(|q| *q == c.quote && !q.trim().is_empty());
            let Some(local) = local else {
                continue;
            };
            spans.push((i, s.text.as_str(), local));
            if !seen.contains(&&c.passage_id) && p.text.as_str() != local {
                seen.push(&c.passage_id);
                whole.push((i, s.text.as_str(), p.text.as_str()));
            }
        }
    }
    let mut model = vec![0.0f32; sentences.len()];
    score_into(&mut model, &spans, judge)?;
    whole.retain(|(i, ..)| model[*i] < enough);
    score_into(&mut model, &whole, judge)?;
    let round = |x: f32| (x * 1000.0).round() / 1000.0;
    Ok(sentences
        .iter()
        .zip(model)
        .map(|(s, m)| {
            let verbatim = trust_verbatim
                && s.citations
                    .iter()
                    .any(|c| verbatim_quote(c, passages) && display_text(&c.quote) == s.text);
            (if verbatim { 1.0 } else { round(m) }, round(m))
        })
        .collect())
}

/// Scores `(owner, sentence, evidence)` pairs and raises each owner's best support.
fn score_into(
    model: &mut [f32],
    pairs: &[(usize, &str, &str)],
    judge: &dyn StanceModel,
) -> Result<(), ComposeError> {
    if pairs.is_empty() {
        return Ok(());
    }
    let texts: Vec<(&str, &str)> = pairs.iter().map(|(_, s, e)| (*s, *e)).collect();
    let scores =
        crate::judge::score_pairs(judge, &texts, "checking sentences against their sources")?;
    for ((owner, ..), sc) in pairs.iter().zip(scores) {
        model[*owner] = model[*owner].max(sc.supports);
    }
    Ok(())
}

/// Whether a citation's quote is exactly the text at its span in the passage it names.
fn verbatim_quote(c: &Citation, passages: &HashMap<PassageId, Passage>) -> bool {
    passages.get(&c.passage_id).is_some_and(|p| {
        c.start
            .checked_sub(p.start)
            .zip(c.end.checked_sub(p.start))
            .and_then(|(a, b)| char_slice(&p.text, a, b))
            .is_some_and(|q| q == c.quote)
    })
}

/// The light trimming Verity applies to a quoted source sentence for display: squashed
/// whitespace, no list or emphasis markers, no leading news dateline, no unmatched quote
/// mark at either end. It never changes the words of the sentence itself.
pub fn display_text(quote: &str) -> String {
    crate::gather::clean_display(quote)
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_judge::LexicalStance;
    use verity_types::SourceId;

    fn passage() -> Passage {
        let text =
            "The Dunmore ferry carried 41,000 passengers in 2022. Fares rose by 10 per cent in \
                    March after the Kellbridge Harbour Trust raised its mooring charges.";
        Passage {
            id: PassageId {
                source: SourceId::new("aaaabbbbccccdddd"),
                ordinal: 0,
            },
            start: 100,
            end: 100 + text.chars().count() as u64,
            text: text.into(),
        }
    }

    fn sentence(text: &str, p: &Passage) -> Sentence {
        crate::pipeline::testing::cited_sentence(
            text,
            Citation {
                n: 1,
                source_id: p.id.source.clone(),
                passage_id: p.id.clone(),
                start: p.start,
                end: p.start + 52,
                quote: p.text.chars().take(52).collect(),
            },
        )
    }

    #[test]
    fn planted_unsupported_sentence_is_removed() {
        let p = passage();
        let map: HashMap<PassageId, Passage> = [(p.id.clone(), p.clone())].into();
        let good = sentence("The Dunmore ferry carried 41,000 passengers in 2022.", &p);
        let planted = sentence(
            "The Dunmore ferry was sold to a private operator, who cut every winter sailing.",
            &p,
        );
        let v = verify_sentences(
            vec![good.clone(), planted.clone()],
            &map,
            &LexicalStance::new(),
            DEFAULT_SUPPORT_THRESHOLD,
        )
        .unwrap();
        assert_eq!(v.kept.len(), 1);
        assert_eq!(v.kept[0].text, good.text);
        assert!(v.kept[0].support.unwrap() >= DEFAULT_SUPPORT_THRESHOLD);
        assert_eq!(v.dropped.len(), 1);
        assert_eq!(v.dropped[0].text, planted.text);
        assert!(v.dropped[0].support.unwrap() < DEFAULT_SUPPORT_THRESHOLD);
    }

    /// A judge that never finds support: only verbatim extractions pass.
    struct NeverSupports;
    impl StanceModel for NeverSupports {
        fn name(&self) -> &str {
            "never"
        }
        fn is_neural(&self) -> bool {
            true
        }
        fn score(
            &self,
            pairs: &[(&str, &str)],
        ) -> Result<Vec<verity_types::StanceScores>, verity_judge::JudgeError> {
            Ok(pairs
                .iter()
                .map(|_| verity_types::StanceScores {
                    supports: 0.1,
                    contradicts: 0.6,
                    neutral: 0.3,
                })
                .collect())
        }
    }

    #[test]
    fn verbatim_extractions_pass_and_keep_the_model_score() {
        let p = passage();
        let map: HashMap<PassageId, Passage> = [(p.id.clone(), p.clone())].into();
        let verbatim = sentence("The Dunmore ferry carried 41,000 passengers in 2022.", &p);
        // Same span, but the text claims more than the quote says.
        let altered = sentence(
            "The Dunmore ferry carried 41,000 passengers in 2022 alone.",
            &p,
        );
        let v = verify_sentences(vec![verbatim, altered], &map, &NeverSupports, 0.5).unwrap();
        assert_eq!(v.kept.len(), 1);
        assert_eq!(v.kept[0].support, Some(1.0));
        assert_eq!(v.kept[0].model_support, Some(0.1));
        assert_eq!(v.dropped.len(), 1);
        assert_eq!(v.dropped[0].support, Some(0.1));
    }

    #[test]
    fn uncited_or_dangling_sentences_fail() {
        let p = passage();
        let map: HashMap<PassageId, Passage> = HashMap::new();
        let mut s = sentence("The Dunmore ferry carried 41,000 passengers in 2022.", &p);
        let v = verify_sentences(vec![s.clone()], &map, &LexicalStance::new(), 0.5).unwrap();
        assert_eq!(v.dropped.len(), 1, "citation to a missing passage");
        s.citations.clear();
        let v = verify_sentences(vec![s], &map, &LexicalStance::new(), 0.5).unwrap();
        assert_eq!(v.dropped.len(), 1, "no citation at all");
    }
}
