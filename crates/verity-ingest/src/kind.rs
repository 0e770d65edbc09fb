//! Which kind of voice a source speaks with (official, news, audit, ...), guessed from
//! its publisher name and URL host when the source does not say.
//!
//! Order of evidence in [`KindRules::classify`]:
//! 1. an explicit `kind` (front matter, JSONL field, `<meta name="verity:kind">`);
//! 2. the user's TOML rules, in file order, first match wins;
//! 3. the built-in publisher table (whole words, case-insensitive), checked kind by kind
//!    in this order: reference, audit, advocacy, academic, news, official — so
//!    "Office of the Inspector General" is an audit body and "Kellbridge Police Union" an
//!    advocacy group, not official voices;
//! 4. the built-in host table (`.gov` → official, `.edu`/`.ac.` → academic, host labels
//!    that are table words such as `gazette` → news);
//! 5. otherwise [`SourceKind::Other`].

use crate::IngestError;
use serde::Deserialize;
use std::path::Path;
use verity_types::{DocMeta, SourceKind};

/// Built-in publisher words per kind, in priority order.
const DEFAULT_TABLE: &[(SourceKind, &[&str])] = &[
    (
        SourceKind::Reference,
        &[
            "Wikipedia",
            "Encyclopedia",
            "Encyclopaedia",
            "Almanac",
            "Dictionary",
        ],
    ),
    (
        SourceKind::Audit,
        &[
            "Audit",
            "Auditor",
            "Auditors",
            "Inspector",
            "Inspectorate",
            "Ombudsman",
            "Ombudsperson",
            "Comptroller",
            "Watchdog",
            "Accountability Office",
        ],
    ),
    (
        SourceKind::Advocacy,
        &[
            "Coalition",
            "Alliance",
            "Campaign",
            "Association",
            "Foundation",
            "Advocates",
            "Advocacy",
            "Union",
            "Federation",
            "League",
            "Society",
            "Friends of",
            "Action Group",
        ],
    ),
    (
        SourceKind::Academic,
        &[
            "University",
            "Institute",
            "Journal",
            "College",
            "Academy",
            "School of",
            "Research Centre",
            "Research Center",
            "Laboratory",
        ],
    ),
    (
        SourceKind::News,
        &[
            "Gazette",
            "Times",
            "News",
            "Herald",
            "Post",
            "Chronicle",
            "Tribune",
            "Courier",
            "Daily",
            "Weekly",
            "Observer",
            "Dispatch",
            "Sentinel",
            "Reporter",
            "Radio",
            "Broadcasting",
            "Ledger",
            "Wire",
            "Examiner",
            "Mercury",
            "Inquirer",
            "Telegraph",
        ],
    ),
    (
        SourceKind::Official,
        &[
            "Council",
            "Department",
            "Ministry",
            "Office of",
            "Police",
            "Government",
            "Agency",
            "Authority",
            "Commission",
            "Bureau",
            "City of",
            "County",
            "Municipality",
            "Parliament",
            "Mayor",
            "Town of",
            "State of",
            "Borough",
            "Township",
            "Utility",
            "Utilities",
        ],
    ),
];

/// [`DEFAULT_TABLE`] split into lowercased words once, not once per source: classifying
/// every line of a large JSONL file re-split it and was ~4 % of ingest CPU.
static DEFAULT_WORDS: std::sync::LazyLock<Vec<(SourceKind, Vec<Vec<String>>)>> =
    std::sync::LazyLock::new(|| {
        DEFAULT_TABLE
            .iter()
            .map(|(kind, keys)| (*kind, keys.iter().map(|k| words(k)).collect()))
            .collect()
    });

/// Host labels that settle the kind on their own.
const DEFAULT_HOST_LABELS: &[(SourceKind, &[&str])] = &[
    (SourceKind::Reference, &["wikipedia"]),
    (SourceKind::Official, &["gov", "govt", "gouv", "gob", "mil"]),
    (SourceKind::Academic, &["edu", "ac"]),
];

/// Publisher-kind rules: the built-in table plus any rules loaded from TOML.
///
/// # TOML format
///
/// ```toml
/// # Optional: drop the built-in table and use only the rules below.
/// replace_defaults = false
///
/// [[rule]]
/// kind = "news"                        # official, news, audit, advocacy, academic,
///                                      # reference, opinion or other
/// publisher = ["Kellbridge Courier"]   # whole words, case-insensitive
/// host = ["courier.example"]           # the host or any subdomain of it
/// location = ["/opinion/"]             # substring of the path or URL, case-insensitive
/// title = ["Editorial:"]               # substring of the title, case-insensitive
/// ```
///
/// A rule matches when any one of its lists matches. User rules are tried before the
/// built-in table, in file order.
///
/// ```
/// use verity_ingest::KindRules;
/// use verity_types::{DocMeta, SourceKind};
/// let rules = KindRules::from_toml_str(r#"
///     [[rule]]
///     kind = "opinion"
///     location = ["/opinion/"]
/// "#).unwrap();
/// let meta = DocMeta { publisher: Some("Kellbridge Gazette".into()), ..Default::default() };
/// assert_eq!(rules.classify(&meta, "https://gazette.example/opinion/x"), SourceKind::Opinion);
/// assert_eq!(rules.classify(&meta, "https://gazette.example/news/x"), SourceKind::News);
/// ```
#[derive(Debug, Clone)]
pub struct KindRules {
    user: Vec<Rule>,
    defaults: bool,
}

#[derive(Debug, Clone)]
struct Rule {
    kind: SourceKind,
    publisher: Vec<Vec<String>>,
    host: Vec<String>,
    location: Vec<String>,
    title: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    replace_defaults: bool,
    #[serde(default)]
    rule: Vec<RuleFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    kind: String,
    #[serde(default)]
    publisher: Vec<String>,
    #[serde(default)]
    host: Vec<String>,
    #[serde(default)]
    location: Vec<String>,
    #[serde(default)]
    title: Vec<String>,
}

impl Default for KindRules {
    fn default() -> Self {
        KindRules {
            user: Vec::new(),
            defaults: true,
        }
    }
}

/// Lowercased alphanumeric words.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn contains_seq(hay: &[String], needle: &[String]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// The host of a URL-looking location, lowercased.
fn host_of(s: &str) -> Option<String> {
    let u = url::Url::parse(s).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    u.host_str()
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
}

fn host_matches(host: &str, pattern: &str) -> bool {
    let p = pattern.trim().trim_start_matches('.').to_ascii_lowercase();
    !p.is_empty() && (host == p || host.ends_with(&format!(".{p}")))
}

/// Does `s` name an organisation the built-in table knows (a council, a coalition, a
/// newspaper...)? Used to spot letterheads in plain text.
pub(crate) fn looks_like_organisation(s: &str) -> bool {
    let w = words(s);
    DEFAULT_WORDS
        .iter()
        .any(|(_, keys)| keys.iter().any(|k| contains_seq(&w, k)))
}

impl KindRules {
    /// The built-in table only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parse rules from TOML text (format in the type's docs).
    pub fn from_toml_str(s: &str) -> Result<Self, IngestError> {
        Self::parse_toml(s, "<rules>")
    }

    /// Read rules from a TOML file.
    pub fn from_toml_file(path: &Path) -> Result<Self, IngestError> {
        let location = path.display().to_string();
        let s = std::fs::read_to_string(path).map_err(|e| IngestError::BadRules {
            location: location.clone(),
            detail: e.to_string(),
        })?;
        Self::parse_toml(&s, &location)
    }

    fn parse_toml(s: &str, location: &str) -> Result<Self, IngestError> {
        let file: RulesFile = toml::from_str(s).map_err(|e| IngestError::BadRules {
            location: location.to_string(),
            detail: e.to_string().trim().to_string(),
        })?;
        let mut user = Vec::with_capacity(file.rule.len());
        for (i, r) in file.rule.into_iter().enumerate() {
            let kind = SourceKind::parse(&r.kind).ok_or_else(|| IngestError::BadRules {
                location: location.to_string(),
                detail: format!(
                    "rule {} has kind `{}`; use one of {}",
                    i + 1,
                    r.kind,
                    SourceKind::ALL.map(SourceKind::as_str).join(", ")
                ),
            })?;
            user.push(Rule {
                kind,
                publisher: r.publisher.iter().map(|p| words(p)).collect(),
                host: r.host,
                location: r.location.iter().map(|l| l.to_lowercase()).collect(),
                title: r.title.iter().map(|t| t.to_lowercase()).collect(),
            });
        }
        Ok(KindRules {
            user,
            defaults: !file.replace_defaults,
        })
    }

    /// Add rules from another table in front of this one's user rules.
    pub fn extend(&mut self, other: KindRules) {
        let mut user = other.user;
        user.append(&mut self.user);
        self.user = user;
        self.defaults &= other.defaults;
    }

    /// The kind of a source with this metadata found at `location` (path or URL).
    pub fn classify(&self, meta: &DocMeta, location: &str) -> SourceKind {
        if let Some(kind) = meta.kind {
            return kind;
        }
        let publisher = meta.publisher.as_deref().map(words).unwrap_or_default();
        let host = meta
            .url
            .as_deref()
            .and_then(host_of)
            .or_else(|| host_of(location));
        if !self.user.is_empty() {
            if let Some(kind) = self.user_rule(meta, location, &publisher, host.as_deref()) {
                return kind;
            }
        }
        if !self.defaults {
            return SourceKind::Other;
        }
        if !publisher.is_empty() {
            for (kind, keys) in DEFAULT_WORDS.iter() {
                if keys.iter().any(|k| contains_seq(&publisher, k)) {
                    return *kind;
                }
            }
        }
        if let Some(host) = host {
            let labels: Vec<String> = host
                .split(['.', '-'])
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            for (kind, keys) in DEFAULT_HOST_LABELS {
                if keys.iter().any(|k| labels.iter().any(|l| l == k)) {
                    return *kind;
                }
            }
            for (kind, keys) in DEFAULT_WORDS.iter() {
                let hit = keys.iter().any(|k| {
                    // Single words only; long ones may also hide inside a label
                    // (`kellbridgegazette.example`).
                    let [k] = k.as_slice() else { return false };
                    labels
                        .iter()
                        .any(|l| l == k || (k.len() >= 6 && l.contains(k.as_str())))
                });
                if hit {
                    return *kind;
                }
            }
        }
        SourceKind::Other
    }

    /// The first user rule that matches, in file order.
    fn user_rule(
        &self,
        meta: &DocMeta,
        location: &str,
        publisher: &[String],
        host: Option<&str>,
    ) -> Option<SourceKind> {
        let title = meta
            .title
            .as_deref()
            .map(str::to_lowercase)
            .unwrap_or_default();
        let loc_lower = location.to_lowercase();
        let url_lower = meta.url.as_deref().map(str::to_lowercase);
        for rule in &self.user {
            let by_publisher = rule.publisher.iter().any(|p| contains_seq(publisher, p));
            let by_host = host.is_some_and(|h| rule.host.iter().any(|p| host_matches(h, p)));
            let by_location = rule.location.iter().any(|l| {
                loc_lower.contains(l.as_str())
                    || url_lower.as_deref().is_some_and(|u| u.contains(l.as_str()))
            });
            let by_title = rule.title.iter().any(|t| title.contains(t.as_str()));
            if by_publisher || by_host || by_location || by_title {
                return Some(rule.kind);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pubr(p: &str) -> DocMeta {
        DocMeta {
            publisher: Some(p.into()),
            ..Default::default()
        }
    }

    #[test]
    fn default_publisher_table() {
        let r = KindRules::default();
        let cases = [
            ("Marlowe County Audit Office", SourceKind::Audit),
            (
                "Office of the Inspector General for Brackenford",
                SourceKind::Audit,
            ),
            ("Regional Ombudsman", SourceKind::Audit),
            ("Brackenford City Council", SourceKind::Official),
            ("Department of Water Works", SourceKind::Official),
            ("Office of the Mayor of Kellbridge", SourceKind::Official),
            ("Kellbridge Police", SourceKind::Official),
            ("The Kellbridge Gazette", SourceKind::News),
            ("Valley Evening Post", SourceKind::News),
            ("Harbour Tribune", SourceKind::News),
            ("The Vellan Ledger", SourceKind::News),
            ("Tidewater Press Wire", SourceKind::News),
            ("Kellbridge Water Utility", SourceKind::Official),
            ("TOWN OF KELLBRIDGE", SourceKind::Official),
            ("Clean Taps Coalition", SourceKind::Advocacy),
            ("Kellbridge Police Union", SourceKind::Advocacy),
            ("Tenants' Alliance", SourceKind::Advocacy),
            ("University of Brackenford", SourceKind::Academic),
            ("Institute for Water Policy", SourceKind::Academic),
            ("Wikipedia", SourceKind::Reference),
            ("Jo Bloggs", SourceKind::Other),
            // Whole words only: "Postal" is not "Post", "Reunion" is not "Union".
            ("Kellbridge Postal Reunion", SourceKind::Other),
        ];
        for (p, want) in cases {
            assert_eq!(r.classify(&pubr(p), "x.html"), want, "{p}");
        }
    }

    #[test]
    fn hosts_classify_when_publisher_is_silent() {
        let r = KindRules::default();
        let m = DocMeta::default();
        assert_eq!(
            r.classify(&m, "https://water.brackenford.gov/notice"),
            SourceKind::Official
        );
        assert_eq!(
            r.classify(&m, "https://www.kellbridge.gov.example/x"),
            SourceKind::Official
        );
        assert_eq!(
            r.classify(&m, "https://physics.brackenford.edu/x"),
            SourceKind::Academic
        );
        assert_eq!(
            r.classify(&m, "https://en.wikipedia.org/wiki/X"),
            SourceKind::Reference
        );
        assert_eq!(
            r.classify(&m, "https://kellbridgegazette.example/a"),
            SourceKind::News
        );
        assert_eq!(
            r.classify(&m, "https://the-herald.example/a"),
            SourceKind::News
        );
        assert_eq!(r.classify(&m, "/home/x/notes.txt"), SourceKind::Other);
        let with_url = DocMeta {
            url: Some("https://audit.marlowe.example/r".into()),
            ..Default::default()
        };
        assert_eq!(r.classify(&with_url, "report.pdf"), SourceKind::Audit);
    }

    #[test]
    fn explicit_kind_wins() {
        let r = KindRules::default();
        let m = DocMeta {
            publisher: Some("Kellbridge Gazette".into()),
            kind: Some(SourceKind::Opinion),
            ..Default::default()
        };
        assert_eq!(r.classify(&m, "x"), SourceKind::Opinion);
    }

    #[test]
    fn toml_rules_come_first_and_can_replace_defaults() {
        let r = KindRules::from_toml_str(
            r#"
            [[rule]]
            kind = "advocacy"
            publisher = ["Valewatch"]
            [[rule]]
            kind = "official"
            host = ["brackenford.example"]
            [[rule]]
            kind = "opinion"
            title = ["Editorial:"]
            "#,
        )
        .unwrap();
        assert_eq!(r.classify(&pubr("Valewatch"), "x"), SourceKind::Advocacy);
        assert_eq!(
            r.classify(&DocMeta::default(), "https://water.brackenford.example/a"),
            SourceKind::Official
        );
        let ed = DocMeta {
            title: Some("Editorial: fix the pipes".into()),
            publisher: Some("Kellbridge Gazette".into()),
            ..Default::default()
        };
        assert_eq!(r.classify(&ed, "x"), SourceKind::Opinion);
        assert_eq!(
            r.classify(&pubr("Kellbridge Gazette"), "x"),
            SourceKind::News
        );

        let only = KindRules::from_toml_str("replace_defaults = true").unwrap();
        assert_eq!(
            only.classify(&pubr("Kellbridge Gazette"), "x"),
            SourceKind::Other
        );
    }

    #[test]
    fn bad_toml_is_reported() {
        let e = KindRules::from_toml_str("[[rule]]\nkind = \"blog\"\n").unwrap_err();
        assert_eq!(e.reason_code(), "bad_rules");
        assert!(e.to_string().contains("blog"), "{e}");
        let e = KindRules::from_toml_str("[[rule]]\nkind = \"news\"\npublishr = []\n").unwrap_err();
        assert!(e.to_string().contains("publishr"), "{e}");
    }
}
