//! Write, step 5: what the follow-up questions draw on (figures the findings quote,
//! names the evidence raises that the input does not) and the questions themselves.

use std::collections::{BTreeSet, HashMap, HashSet};

use verity_types::{Angles, BriefSource, Finding, Gap, Perspective, Plan, Sentence, VerdictBlock};

use crate::compose::{self, FollowUpInput};
use crate::text;

/// What the follow-ups read from the finished parts of the brief.
pub(crate) struct FollowUpSources<'a> {
    pub plan: &'a Plan,
    pub summary: &'a [Sentence],
    pub findings: &'a [Finding],
    pub sources: &'a [BriefSource],
    pub gaps: &'a [Gap],
    pub angles: &'a Angles,
    pub verdict: Option<&'a VerdictBlock>,
    pub newest: Option<chrono::NaiveDate>,
}

/// Five follow-up questions (see [`compose::follow_ups`]).
pub(crate) fn run(f: &FollowUpSources<'_>) -> Vec<String> {
    let supporting_publisher = f
        .verdict
        .and_then(|v| v.supporting.first())
        .and_then(|n| f.sources.get(n - 1))
        .and_then(|s| s.publisher.clone());
    compose::follow_ups(&FollowUpInput {
        plan: f.plan,
        gaps: f.gaps,
        figures: figures(f),
        angles: f.angles,
        evidence_entities: evidence_entities(f),
        newest: f.newest,
        has_mechanism: f
            .findings
            .iter()
            .any(|x| x.perspective == Perspective::Mechanism),
        supporting_publisher,
        has_contradiction: f.verdict.is_some_and(|v| !v.contradicting.is_empty()),
    })
}

/// The first figure of each finding sentence that the input does not give, with "who,
/// when" of the source it cites.
fn figures(f: &FollowUpSources<'_>) -> Vec<(String, String)> {
    f.findings
        .iter()
        .flat_map(|x| &x.sentences)
        .filter_map(|s| {
            let fig = text::figures(&s.text).into_iter().next()?;
            let src = s.citations.first().and_then(|c| f.sources.get(c.n - 1))?;
            let who = src.publisher.clone().unwrap_or_else(|| src.title.clone());
            let attr = match src.published {
                Some(d) => format!("{who}, {d}"),
                None => who,
            };
            Some((fig, attr))
        })
        .filter(|(fig, _)| !f.plan.figures.contains(fig))
        .collect()
}

/// Names of two or more capitalised words in the summary and findings that the input
/// does not name, the most widely cited first.
fn evidence_entities(f: &FollowUpSources<'_>) -> Vec<String> {
    let plan_entities: HashSet<String> = f.plan.entities.iter().map(|e| e.to_lowercase()).collect();
    let statement = f.plan.statement.to_lowercase();
    let mut ent_sources: HashMap<String, BTreeSet<usize>> = HashMap::new();
    for s in f
        .summary
        .iter()
        .chain(f.findings.iter().flat_map(|x| &x.sentences))
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
                || statement.contains(&el);
            if titled >= 2 && !in_plan {
                ent_sources.entry(e).or_default().insert(n);
            }
        }
    }
    let mut ranked: Vec<(String, usize)> =
        ent_sources.into_iter().map(|(e, s)| (e, s.len())).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.into_iter().map(|(e, _)| e).collect()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use verity_types::{Citation, Mode, PassageId, SourceId, SourceKind};

    use super::*;
    use crate::plan::plan;

    fn cited(text: &str) -> Sentence {
        let id = SourceId::new("0123456789abcdef");
        let passage_id = PassageId {
            source: id.clone(),
            ordinal: 0,
        };
        crate::pipeline::testing::cited_sentence(
            text,
            Citation {
                n: 1,
                source_id: id,
                passage_id,
                start: 0,
                end: 4,
                quote: text.into(),
            },
        )
    }

    fn source() -> BriefSource {
        BriefSource {
            n: 1,
            id: SourceId::new("0123456789abcdef"),
            title: "Reservoir shut as dam repairs begin".into(),
            publisher: Some("Ashby Courier".into()),
            kind: SourceKind::News,
            published: NaiveDate::from_ymd_opt(2019, 7, 2),
            location: "fixtures/courier.md".into(),
            attribution: None,
            passages: Vec::new(),
        }
    }

    #[test]
    fn new_figures_and_names_from_the_findings_feed_the_questions() {
        let plan = plan(
            "Fact check: The Tarrow Valley Water Board closed the Ashby reservoir in 2019.",
            Mode::Check,
        )
        .unwrap();
        let findings = vec![Finding {
            number: 1,
            perspective: Perspective::Figures,
            heading: "Scale and figures".into(),
            sentences: vec![cited(
                "The Brenmoor Dam Trust said repairs by the Tarrow Valley Water Board cost $4 million.",
            )],
        }];
        let sources = vec![source()];
        let angles = Angles::default();
        let f = FollowUpSources {
            plan: &plan,
            summary: &[],
            findings: &findings,
            sources: &sources,
            gaps: &[],
            angles: &angles,
            verdict: None,
            newest: sources[0].published,
        };
        assert_eq!(
            figures(&f),
            vec![(
                "$4 million".to_string(),
                "Ashby Courier, 2019-07-02".to_string()
            )]
        );
        let names = evidence_entities(&f);
        assert!(
            names.contains(&"Brenmoor Dam Trust".to_string()),
            "{names:?}"
        );
        assert!(names.iter().all(|n| !n.contains("Tarrow")), "{names:?}");
        let qs = run(&f);
        assert_eq!(qs.len(), 5);
        assert!(qs[0].starts_with("How was the figure of $4 million (Ashby Courier, 2019-07-02)"));
        assert!(
            qs[1].starts_with("What part does Brenmoor Dam Trust play in this"),
            "{qs:#?}"
        );
    }
}
