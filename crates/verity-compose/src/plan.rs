//! Plan: tell a claim from a question, pull out what it names, and derive the aspects
//! worth covering with one or more sub-queries each.

use verity_types::Mode;
pub use verity_types::{Aspect, AspectKind, Plan};

use crate::error::ComposeError;
use crate::text;

/// The prefix that turns any input into a claim check.
pub const FACT_CHECK_PREFIX: &str = "fact check:";

/// The mode an input runs in, and the input without its prefix: input starting
/// "Fact check:" (any case) is a claim whatever mode was asked for.
pub fn detect_mode(input: &str, requested: Mode) -> (Mode, String) {
    let t = text::squash(input);
    let lower = t.to_lowercase();
    if lower.starts_with(FACT_CHECK_PREFIX) {
        let rest = t
            .chars()
            .skip(FACT_CHECK_PREFIX.chars().count())
            .collect::<String>();
        return (Mode::Check, rest.trim().to_string());
    }
    (requested, t)
}

/// Most entity and figure aspects a plan gets (the rest are still matched, not queried).
const MAX_ENTITY_ASPECTS: usize = 4;
const MAX_FIGURE_ASPECTS: usize = 3;
const MAX_DATE_ASPECTS: usize = 2;

/// Plans a brief for `input`.
pub fn plan(input: &str, requested: Mode) -> Result<Plan, ComposeError> {
    let (mode, statement) = detect_mode(input, requested);
    if text::term_set(&statement).is_empty() {
        return Err(ComposeError::EmptyInput);
    }
    let hypothesis = match mode {
        Mode::Check => statement.trim_end_matches('?').to_string(),
        Mode::Ask if statement.trim_end().ends_with('?') => text::question_to_statement(&statement),
        Mode::Ask => statement.clone(),
    };
    let mut plan = Plan {
        mode,
        entities: text::entities(&statement),
        dates: text::dates(&statement),
        figures: text::figures(&statement),
        key_terms: Vec::new(),
        aspects: Vec::new(),
        statement,
        hypothesis,
    };
    plan.key_terms = key_terms(&plan);
    plan.aspects = named_aspects(&plan);
    plan.aspects.extend(perspective_aspects(&plan));
    Ok(plan)
}

/// Key terms: the words left when entities, dates and figures are taken out.
fn key_terms(plan: &Plan) -> Vec<String> {
    let mut rest = plan.statement.clone();
    for s in plan.entities.iter().chain(&plan.dates).chain(&plan.figures) {
        rest = rest.replace(s.as_str(), " ");
    }
    let mut key_terms: Vec<String> = Vec::new();
    for w in rest.split(|c: char| !(c.is_alphanumeric() || c == '-')) {
        let l = w.to_lowercase();
        let l = l.trim_matches('-');
        if l.chars().count() < 3
            || text::is_stopword(l)
            || l.chars().any(|c| c.is_ascii_digit())
            || key_terms.iter().any(|k| k == l)
        {
            continue;
        }
        key_terms.push(l.to_string());
    }
    key_terms
}

/// The compact form every perspective query builds on: entities and key terms (the
/// hypothesis when there are none).
fn compact(plan: &Plan) -> String {
    let compact = plan
        .entities
        .iter()
        .cloned()
        .chain(plan.key_terms.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    if compact.trim().is_empty() {
        plan.hypothesis.clone()
    } else {
        compact
    }
}

/// The core aspect, then one per key term, entity, figure and date the input names.
fn named_aspects(plan: &Plan) -> Vec<Aspect> {
    let aspect = |kind, label: &String, queries| Aspect {
        kind,
        label: label.clone(),
        queries,
    };
    let keys = plan.key_terms.join(" ");
    let compact = compact(plan);
    let mut core_queries = vec![plan.statement.clone()];
    if compact != plan.statement {
        core_queries.push(compact);
    }
    let mut aspects = vec![aspect(AspectKind::Core, &plan.statement, core_queries)];
    for k in &plan.key_terms {
        aspects.push(aspect(AspectKind::Term, k, Vec::new()));
    }
    for e in plan.entities.iter().take(MAX_ENTITY_ASPECTS) {
        aspects.push(aspect(AspectKind::Entity, e, vec![join(&[e, &keys])]));
    }
    let main_entity = plan.entities.first().cloned().unwrap_or_default();
    for f in plan.figures.iter().take(MAX_FIGURE_ASPECTS) {
        let q = join(&[f, &keys, &main_entity]);
        aspects.push(aspect(AspectKind::Figure, f, vec![q]));
    }
    for d in plan.dates.iter().take(MAX_DATE_ASPECTS) {
        aspects.push(aspect(AspectKind::Date, d, Vec::new()));
    }
    aspects
}

/// One aspect per perspective, each queried with the compact form and its cue words.
fn perspective_aspects(plan: &Plan) -> Vec<Aspect> {
    let compact = compact(plan);
    let perspectives = [
        (
            AspectKind::Supporting,
            "evidence for it",
            "confirmed announced approved",
        ),
        (
            AspectKind::Contradicting,
            "evidence against it or complicating it",
            "however criticism audit found not",
        ),
        (
            AspectKind::Mechanism,
            "how it works: rules and agreements",
            "how it works rules agreement requirement",
        ),
        (
            AspectKind::Scale,
            "scale and figures",
            "cost number figures total million per cent",
        ),
    ];
    perspectives
        .into_iter()
        .map(|(kind, label, cue)| Aspect {
            kind,
            label: label.to_string(),
            queries: vec![join(&[&compact, cue])],
        })
        .collect()
}

fn join(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fact_check_prefix_makes_a_claim() {
        let (mode, s) = detect_mode("Fact check:  The Dunmore ferry is free.", Mode::Ask);
        assert_eq!(mode, Mode::Check);
        assert_eq!(s, "The Dunmore ferry is free.");
        let (mode, _) = detect_mode("Is the Dunmore ferry free?", Mode::Ask);
        assert_eq!(mode, Mode::Ask);
    }

    #[test]
    fn plan_extracts_entities_figures_and_terms() {
        let p = plan(
            "The Kellbridge Harbour Trust spent $4 million on the Dunmore weir in March 2022.",
            Mode::Check,
        )
        .unwrap();
        assert_eq!(p.mode, Mode::Check);
        assert_eq!(p.entities, vec!["Kellbridge Harbour Trust", "Dunmore"]);
        assert_eq!(p.figures, vec!["$4 million"]);
        assert_eq!(p.dates, vec!["March 2022"]);
        assert_eq!(p.key_terms, vec!["spent", "weir"]);
        let kinds: Vec<AspectKind> = p.aspects.iter().map(|a| a.kind).collect();
        for k in [
            AspectKind::Core,
            AspectKind::Term,
            AspectKind::Entity,
            AspectKind::Figure,
            AspectKind::Date,
            AspectKind::Supporting,
            AspectKind::Contradicting,
            AspectKind::Mechanism,
            AspectKind::Scale,
        ] {
            assert!(kinds.contains(&k), "missing {k:?}");
        }
        let contra = p
            .aspects
            .iter()
            .find(|a| a.kind == AspectKind::Contradicting)
            .unwrap();
        assert!(contra.queries[0].contains("however"));
        assert!(contra.queries[0].contains("Kellbridge Harbour Trust"));
    }

    #[test]
    fn questions_are_judged_as_statements() {
        let p = plan(
            "Has the Dunmore weir reduced flooding in Kellbridge?",
            Mode::Ask,
        )
        .unwrap();
        assert_eq!(p.mode, Mode::Ask);
        assert_eq!(
            p.hypothesis,
            "The Dunmore weir reduced flooding in Kellbridge"
        );
        assert!(p.key_terms.contains(&"flooding".to_string()));
    }

    #[test]
    fn empty_input_is_an_error() {
        assert!(matches!(
            plan("Fact check: ", Mode::Ask),
            Err(ComposeError::EmptyInput)
        ));
        assert!(matches!(
            plan("  ?  ", Mode::Ask),
            Err(ComposeError::EmptyInput)
        ));
    }
}
