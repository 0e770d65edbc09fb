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
    let entities = text::entities(&statement);
    let dates = text::dates(&statement);
    let figures = text::figures(&statement);

    // Key terms: the words left when entities, dates and figures are taken out.
    let mut rest = statement.clone();
    for s in entities.iter().chain(&dates).chain(&figures) {
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

    // The compact form every perspective query builds on: entities and key terms.
    let compact = entities
        .iter()
        .cloned()
        .chain(key_terms.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let compact = if compact.trim().is_empty() {
        hypothesis.clone()
    } else {
        compact
    };
    let keys = key_terms.join(" ");

    let mut aspects = Vec::new();
    let mut core_queries = vec![statement.clone()];
    if compact != statement {
        core_queries.push(compact.clone());
    }
    aspects.push(Aspect {
        kind: AspectKind::Core,
        label: statement.clone(),
        queries: core_queries,
    });
    for k in &key_terms {
        aspects.push(Aspect {
            kind: AspectKind::Term,
            label: k.clone(),
            queries: Vec::new(),
        });
    }
    for e in entities.iter().take(MAX_ENTITY_ASPECTS) {
        aspects.push(Aspect {
            kind: AspectKind::Entity,
            label: e.clone(),
            queries: vec![join(&[e, &keys])],
        });
    }
    let main_entity = entities.first().cloned().unwrap_or_default();
    for f in figures.iter().take(MAX_FIGURE_ASPECTS) {
        aspects.push(Aspect {
            kind: AspectKind::Figure,
            label: f.clone(),
            queries: vec![join(&[f, &keys, &main_entity])],
        });
    }
    for d in dates.iter().take(MAX_DATE_ASPECTS) {
        aspects.push(Aspect {
            kind: AspectKind::Date,
            label: d.clone(),
            queries: Vec::new(),
        });
    }
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
    for (kind, label, cue) in perspectives {
        aspects.push(Aspect {
            kind,
            label: label.to_string(),
            queries: vec![join(&[&compact, cue])],
        });
    }
    Ok(Plan {
        mode,
        statement,
        hypothesis,
        entities,
        dates,
        figures,
        key_terms,
        aspects,
    })
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
