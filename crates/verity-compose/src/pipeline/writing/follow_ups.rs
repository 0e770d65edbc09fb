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
