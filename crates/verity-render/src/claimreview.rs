//! schema.org ClaimReview JSON-LD, for publishing a claim check.

use serde_json::{json, Value};
use verity_types::{Brief, Mode, Verdict};

/// The `author` of every ClaimReview Verity writes.
pub const CLAIMREVIEW_AUTHOR: &str = "Verity (automated fact-check brief)";

/// Renders a claim check as schema.org `ClaimReview` JSON-LD.
///
/// - `claimReviewed`: the claim; `datePublished`: the checked-on date; `author`: an
///   `Organization`; `url`: the page the review is published at, when given.
/// - `reviewRating`: a `Rating` whose `alternateName` is the verdict's label. On the
///   true/false axis the scale maps to `ratingValue` 5 (Supported), 4 (Mostly supported),
///   3 (Mixed), 2 (Mostly unsupported), 1 (Contradicted), with `bestRating` 5 and
///   `worstRating` 1.
/// - **Not enough evidence claims no numeric rating**: it is not a point on the true/false
///   axis, so the `Rating` carries only `alternateName` ("Not enough evidence"), never a
///   `ratingValue` that a reader or a search engine could take for "false".
/// - `itemReviewed`: the `Claim`, with the claim text as `name`, and as `appearance`
///   the cited sources that state or contradict it (their URL or location).
/// - A question brief (ask mode) is not a claim check: it renders with the question as
///   `claimReviewed` and an `alternateName`-only rating "Not rated: question, not a
///   claim"; callers should offer ClaimReview for claim checks only.
pub fn render_claimreview(b: &Brief, url: Option<&str>) -> Value {
    let rating = match (&b.verdict, b.mode) {
        (Some(v), Mode::Check) => match v.verdict.rating() {
            Some(value) if v.verdict != Verdict::NotEnoughEvidence => json!({
                "@type": "Rating",
                "ratingValue": value,
                "bestRating": 5,
                "worstRating": 1,
                "alternateName": v.label,
            }),
            _ => json!({
                "@type": "Rating",
                "alternateName": v.label,
            }),
        },
        _ => json!({
            "@type": "Rating",
            "alternateName": "Not rated: question, not a claim",
        }),
    };
    let appearance: Vec<Value> = b
        .verdict
        .as_ref()
        .map(|v| {
            v.supporting
                .iter()
                .chain(&v.contradicting)
                .filter_map(|n| b.source(*n))
                .map(|s| {
                    let mut cw = json!({
                        "@type": "CreativeWork",
                        "url": s.location,
                        "name": s.title,
                    });
                    if let Some(d) = s.published {
                        cw["datePublished"] = json!(d.to_string());
                    }
                    if let Some(p) = &s.publisher {
                        cw["publisher"] = json!({"@type": "Organization", "name": p});
                    }
                    cw
                })
                .collect()
        })
        .unwrap_or_default();
    let mut item = json!({
        "@type": "Claim",
        "name": b.statement,
    });
    if !appearance.is_empty() {
        item["appearance"] = Value::Array(appearance);
    }
    let mut review = json!({
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "claimReviewed": b.statement,
        "datePublished": b.checked_on.to_string(),
        "author": {
            "@type": "Organization",
            "name": CLAIMREVIEW_AUTHOR,
        },
        "reviewRating": rating,
        "itemReviewed": item,
    });
    if let Some(v) = &b.verdict {
        review["reviewBody"] = json!(v.conclusion);
    }
    if let Some(u) = url {
        review["url"] = json!(u);
    }
    review
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{sample_claim_brief, sample_nee_brief};

    fn required(v: &Value) {
        assert_eq!(v["@context"], "https://schema.org");
        assert_eq!(v["@type"], "ClaimReview");
        assert!(v["claimReviewed"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(v["datePublished"].as_str().is_some_and(|s| s.len() == 10));
        assert_eq!(v["author"]["@type"], "Organization");
        assert!(v["author"]["name"].as_str().is_some());
        assert_eq!(v["reviewRating"]["@type"], "Rating");
        assert!(v["reviewRating"]["alternateName"].as_str().is_some());
        assert_eq!(v["itemReviewed"]["@type"], "Claim");
    }

    #[test]
    fn claimreview_has_the_required_fields() {
        let b = sample_claim_brief();
        let v = render_claimreview(&b, Some("https://checks.example/ferry"));
        required(&v);
        assert_eq!(v["reviewRating"]["ratingValue"], 3);
        assert_eq!(v["reviewRating"]["bestRating"], 5);
        assert_eq!(v["reviewRating"]["worstRating"], 1);
        assert_eq!(v["reviewRating"]["alternateName"], "Mixed");
        assert_eq!(v["url"], "https://checks.example/ferry");
        assert_eq!(v["datePublished"], "2025-12-01");
        assert_eq!(
            v["itemReviewed"]["appearance"].as_array().map(Vec::len),
            Some(2)
        );
    }

    #[test]
    fn not_enough_evidence_claims_no_numeric_rating() {
        let v = render_claimreview(&sample_nee_brief(), None);
        required(&v);
        let r = v["reviewRating"].as_object().unwrap();
        assert_eq!(r["alternateName"], "Not enough evidence");
        for k in ["ratingValue", "bestRating", "worstRating"] {
            assert!(!r.contains_key(k), "{k} present");
        }
        assert!(v.get("url").is_none());
    }
}
