//! Write, step 3: number the sources in reading order (the verdict's sources first) and
//! count how each numbered source leans, for the angles.

use std::collections::HashMap;

use verity_types::{BriefSource, Citation, Finding, Sentence, SourceId, Stance};

use crate::compose;
use crate::gather::Cand;
use crate::pipeline::writing::select::Selection;

/// The numbered sources.
#[derive(Debug, Clone)]
pub(crate) struct Numbered {
    /// The number of each cited source.
    pub numbers: HashMap<SourceId, usize>,
    /// The sources list, in number order.
    pub sources: Vec<BriefSource>,
    /// Supporting and contradicting sentences cited from each source number.
    pub stance_of: HashMap<usize, (usize, usize)>,
}

/// Numbers the sources that the verdict, the summary and the findings cite, and sets the
/// numbers on the summary's and findings' citations (dropping any to an unnumbered
/// source). With `nee` (nothing settles the claim) no sentence counts as taking a side.
pub(crate) fn run(
    sel: &Selection<'_>,
    cands: &[Cand],
    summary: &mut [Sentence],
    findings: &mut [Finding],
    nee: bool,
) -> Numbered {
    let verdict_sentences: Vec<Sentence> = sel
        .verdict_sides
        .0
        .iter()
        .chain(&sel.verdict_sides.1)
        .map(|p| sel.comp.sentence(*p, false))
        .collect();
    let mut order: Vec<&Citation> = Vec::new();
    for s in verdict_sentences
        .iter()
        .chain(summary.iter())
        .chain(findings.iter().flat_map(|f| &f.sentences))
    {
        order.extend(&s.citations);
    }
    let (numbers, sources) = compose::number_sources(&order, cands);
    let set_numbers = |s: &mut Sentence| {
        for c in &mut s.citations {
            c.n = numbers.get(&c.source_id).copied().unwrap_or(0);
        }
        s.citations.retain(|c| c.n > 0);
    };
    summary.iter_mut().for_each(set_numbers);
    for f in findings.iter_mut() {
        f.sentences.iter_mut().for_each(set_numbers);
    }
    let read = verdict_sentences
        .iter()
        .chain(summary.iter())
        .chain(findings.iter().flat_map(|f| &f.sentences));
    let stance_of = stance_counts(read, &numbers, nee);
    Numbered {
        numbers,
        sources,
        stance_of,
    }
}

/// Supporting and contradicting sentences per source number.
fn stance_counts<'a>(
    sentences: impl Iterator<Item = &'a Sentence>,
    numbers: &HashMap<SourceId, usize>,
    nee: bool,
) -> HashMap<usize, (usize, usize)> {
    let mut stance_of: HashMap<usize, (usize, usize)> = HashMap::new();
    for s in sentences {
        for c in &s.citations {
            let Some(n) = numbers.get(&c.source_id) else {
                continue;
            };
            let e = stance_of.entry(*n).or_insert((0, 0));
            match if nee { None } else { s.stance } {
                Some(Stance::Supports) => e.0 += 1,
                Some(Stance::Contradicts) => e.1 += 1,
                _ => {}
            }
        }
    }
    stance_of
}

#[cfg(test)]
mod tests {
    use verity_types::PassageId;

    use super::*;

    fn cited(stance: Option<Stance>, sources: &[&str]) -> Sentence {
        Sentence {
            text: "The Ashby dam cracked.".into(),
            citations: sources
                .iter()
                .map(|s| Citation {
                    n: 0,
                    source_id: SourceId::new(*s),
                    passage_id: PassageId {
                        source: SourceId::new(*s),
                        ordinal: 0,
                    },
                    start: 0,
                    end: 5,
                    quote: "Ashby".into(),
                })
                .collect(),
            attribution: None,
            stance,
            stance_scores: None,
            support: None,
            model_support: None,
            flagged: false,
        }
    }

    #[test]
    fn stances_are_counted_per_numbered_source() {
        let numbers: HashMap<SourceId, usize> =
            [(SourceId::new("aaaa"), 1), (SourceId::new("bbbb"), 2)].into();
        let sents = [
            cited(Some(Stance::Supports), &["aaaa", "bbbb"]),
            cited(Some(Stance::Contradicts), &["bbbb"]),
            cited(Some(Stance::Neutral), &["aaaa"]),
            cited(Some(Stance::Supports), &["cccc"]),
        ];
        let counts = stance_counts(sents.iter(), &numbers, false);
        assert_eq!(counts.len(), 2);
        assert_eq!(counts[&1], (1, 0));
        assert_eq!(counts[&2], (1, 1));

        // When nothing settles the claim, every numbered source is listed, on no side.
        let counts = stance_counts(sents.iter(), &numbers, true);
        assert_eq!(counts[&1], (0, 0));
        assert_eq!(counts[&2], (0, 0));
    }
}
