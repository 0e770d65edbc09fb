//! What changed between two briefs ("check again"): the verdict, the sources, the
//! sentences. Works on the brief JSON, so stored briefs of any age can be compared.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;

/// A source named in a diff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiffSource {
    pub id: String,
    pub title: String,
}

/// Differences from an earlier brief (`from`) to a later one (`to`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BriefDiff {
    /// The earlier check.
    pub from: String,
    /// The later check.
    pub to: String,
    pub verdict_before: Option<String>,
    pub verdict_after: Option<String>,
    pub verdict_changed: bool,
    pub sources_added: Vec<DiffSource>,
    pub sources_dropped: Vec<DiffSource>,
    pub sentences_added: Vec<String>,
    pub sentences_removed: Vec<String>,
}

fn verdict(b: &Value) -> Option<String> {
    b.get("verdict")?.get("label")?.as_str().map(str::to_string)
}

fn sources(b: &Value) -> Vec<DiffSource> {
    b.get("sources")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|s| {
                    let id = s.get("id")?.as_str()?.to_string();
                    let title = s
                        .get("title")
                        .and_then(Value::as_str)
                        .unwrap_or(&id)
                        .to_string();
                    Some(DiffSource { id, title })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn texts(list: Option<&Value>) -> impl Iterator<Item = String> + '_ {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("text")?.as_str().map(str::to_string))
}

/// The brief's sentences in reading order: summary, then findings.
fn sentences(b: &Value) -> Vec<String> {
    let mut out: Vec<String> = texts(b.get("summary")).collect();
    if let Some(findings) = b.get("findings").and_then(Value::as_array) {
        for f in findings {
            out.extend(texts(f.get("sentences")));
        }
    }
    let mut seen = HashSet::new();
    out.retain(|s| seen.insert(s.clone()));
    out
}

/// Compare two briefs.
pub(crate) fn diff(from_id: &str, before: &Value, to_id: &str, after: &Value) -> BriefDiff {
    let (vb, va) = (verdict(before), verdict(after));
    let (sb, sa) = (sources(before), sources(after));
    let ids_b: HashSet<&str> = sb.iter().map(|s| s.id.as_str()).collect();
    let ids_a: HashSet<&str> = sa.iter().map(|s| s.id.as_str()).collect();
    let (tb, ta) = (sentences(before), sentences(after));
    let set_b: HashSet<&str> = tb.iter().map(String::as_str).collect();
    let set_a: HashSet<&str> = ta.iter().map(String::as_str).collect();
    BriefDiff {
        from: from_id.to_string(),
        to: to_id.to_string(),
        verdict_changed: vb != va,
        verdict_before: vb,
        verdict_after: va,
        sources_added: sa
            .iter()
            .filter(|s| !ids_b.contains(s.id.as_str()))
            .cloned()
            .collect(),
        sources_dropped: sb
            .iter()
            .filter(|s| !ids_a.contains(s.id.as_str()))
            .cloned()
            .collect(),
        sentences_added: ta
            .iter()
            .filter(|s| !set_b.contains(s.as_str()))
            .cloned()
            .collect(),
        sentences_removed: tb
            .iter()
            .filter(|s| !set_a.contains(s.as_str()))
            .cloned()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_verdict_source_and_sentence_changes() {
        let before = json!({
            "verdict": {"label": "Mixed"},
            "summary": [{"text": "The weir was rebuilt."}],
            "findings": [{"sentences": [{"text": "Costs rose."}, {"text": "Work began in May."}]}],
            "sources": [{"id": "a", "title": "Ledger"}, {"id": "b", "title": "Council"}]
        });
        let after = json!({
            "verdict": {"label": "Mostly supported"},
            "summary": [{"text": "The weir was rebuilt."}],
            "findings": [{"sentences": [{"text": "Work began in May."}, {"text": "An audit followed."}]}],
            "sources": [{"id": "a", "title": "Ledger"}, {"id": "c", "title": "Audit office"}]
        });
        let d = diff("old", &before, "new", &after);
        assert!(d.verdict_changed);
        assert_eq!(d.verdict_before.as_deref(), Some("Mixed"));
        assert_eq!(
            d.sources_added,
            vec![DiffSource {
                id: "c".into(),
                title: "Audit office".into()
            }]
        );
        assert_eq!(d.sources_dropped[0].id, "b");
        assert_eq!(d.sentences_added, vec!["An audit followed.".to_string()]);
        assert_eq!(d.sentences_removed, vec!["Costs rose.".to_string()]);
    }

    #[test]
    fn identical_briefs_have_no_changes() {
        let b = json!({"summary": [{"text": "x"}], "sources": [{"id": "a"}]});
        let d = diff("1", &b, "2", &b);
        assert!(!d.verdict_changed);
        assert!(d.sources_added.is_empty() && d.sources_dropped.is_empty());
        assert!(d.sentences_added.is_empty() && d.sentences_removed.is_empty());
    }
}
