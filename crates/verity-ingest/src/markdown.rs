//! Markdown: optional YAML front matter for metadata, and a body stripped lightly of
//! markup so that passages read as prose (headings keep their words, links keep their
//! text, emphasis markers go, paragraphs stay).

use crate::{date::parse_date, IngestError};
use once_cell::sync::Lazy;
use regex::Regex;
use verity_types::{DocMeta, SourceKind};

/// Front matter fields Verity understands. Other keys are ignored.
pub(crate) struct FrontMatter {
    pub meta: DocMeta,
}

/// Split `---\n...\n---` front matter off the top. Returns (yaml, body).
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("---")?;
    let rest = rest.strip_prefix('\n').or_else(|| {
        // `---   \n`
        let t = rest.trim_start_matches([' ', '\t']);
        t.strip_prefix('\n')
    })?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let l = line.trim_end();
        if l == "---" || l == "..." {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

fn yaml_str(v: &serde_yaml::Value) -> Option<String> {
    match v {
        serde_yaml::Value::String(s) => Some(s.trim().to_string()),
        serde_yaml::Value::Number(n) => Some(n.to_string()),
        serde_yaml::Value::Bool(b) => Some(b.to_string()),
        serde_yaml::Value::Sequence(items) => {
            let parts: Vec<String> = items.iter().filter_map(yaml_str).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        serde_yaml::Value::Mapping(m) => m
            .get(serde_yaml::Value::String("name".into()))
            .and_then(yaml_str),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

/// Parse the metadata fields shared by front matter and JSONL: `title`, `publisher`,
/// `author`, `published` (or `date`), `url`, `kind`.
pub(crate) fn meta_field(
    meta: &mut DocMeta,
    key: &str,
    value: Option<String>,
    location: &str,
) -> Result<(), IngestError> {
    let Some(value) = value else { return Ok(()) };
    match key {
        "title" => meta.title = Some(value),
        "publisher" | "source" | "site_name" if meta.publisher.is_none() || key == "publisher" => {
            meta.publisher = Some(value);
        }
        "author" | "authors" => meta.author = Some(value),
        "url" | "canonical_url" => meta.url = Some(value),
        "published" | "date" => {
            if meta.published.is_some() && key == "date" {
                return Ok(());
            }
            meta.published = Some(parse_date(&value).ok_or_else(|| IngestError::BadMetadata {
                location: location.to_string(),
                field: key.to_string(),
                detail: format!(
                    "`{value}` is not a date; write it as YYYY-MM-DD (or an RFC 3339 date-time)"
                ),
            })?);
        }
        "kind" => {
            meta.kind = Some(
                SourceKind::parse(&value).ok_or_else(|| IngestError::BadMetadata {
                    location: location.to_string(),
                    field: "kind".into(),
                    detail: format!(
                        "`{value}` is not a source kind; use one of {}",
                        SourceKind::ALL.map(SourceKind::as_str).join(", ")
                    ),
                })?,
            )
        }
        _ => {}
    }
    Ok(())
}

fn parse_front_matter(yaml: &str, location: &str) -> Result<FrontMatter, IngestError> {
    let mut meta = DocMeta::default();
    if yaml.trim().is_empty() {
        return Ok(FrontMatter { meta });
    }
    let value: serde_yaml::Value =
        serde_yaml::from_str(yaml).map_err(|e| IngestError::BadMetadata {
            location: location.to_string(),
            field: "front matter".into(),
            detail: format!("{e}; fix the YAML between the `---` lines"),
        })?;
    let serde_yaml::Value::Mapping(map) = value else {
        return Err(IngestError::BadMetadata {
            location: location.to_string(),
            field: "front matter".into(),
            detail: "expected `key: value` lines between the `---` lines".into(),
        });
    };
    // `published` beats `date` whatever the key order.
    let mut entries: Vec<(String, Option<String>)> = map
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_ascii_lowercase(), yaml_str(v))))
        .collect();
    entries.sort_by_key(|(k, _)| k != "published");
    for (k, v) in entries {
        meta_field(&mut meta, &k, v, location)?;
    }
    Ok(FrontMatter { meta })
}

static IMAGE: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"!\[([^\]]*)\]\([^)]*\)").expect("valid regex"));
static LINK: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])").expect("valid regex"));
static AUTOLINK: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"<((?:https?|mailto):[^>\s]+)>").expect("valid regex"));
static HTML_TAG: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--.*?-->").expect("valid regex")
});
static STRONG: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(\*\*|__)([^\s*_](?:[^*]*?[^\s*_])?)(\*\*|__)").expect("valid regex")
});
static EM_STAR: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"\*([^\s*](?:[^*]*?[^\s*])?)\*").expect("valid regex"));
static EM_UNDERSCORE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(^|[^\w])_([^\s_](?:[^_]*?[^\s_])?)_([^\w]|$)").expect("valid regex")
});
static STRIKE: Lazy<Regex> = Lazy::new(|| Regex::new(r"~~([^~]+)~~").expect("valid regex"));
static CODE: Lazy<Regex> = Lazy::new(|| Regex::new(r"`+([^`]+)`+").expect("valid regex"));
static REF_DEF: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^\s{0,3}\[[^\]]+\]:\s*\S+").expect("valid regex"));
static BULLET: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^(\s*)[-*+]\s+(\[[ xX]\]\s+)?").expect("valid regex"));
static RULE: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^\s{0,3}([-*_])(\s*[-*_]){2,}\s*$").expect("valid regex"));
static SETEXT: Lazy<Regex> = Lazy::new(|| Regex::new(r"^\s{0,3}(=+|-+)\s*$").expect("valid regex"));
static TABLE_SEP: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$").expect("valid regex")
});

fn strip_inline(line: &str) -> String {
    let s = IMAGE.replace_all(line, "$1");
    let s = LINK.replace_all(&s, "$1");
    let s = AUTOLINK.replace_all(&s, "$1");
    let s = HTML_TAG.replace_all(&s, "");
    let s = CODE.replace_all(&s, "$1");
    let s = STRONG.replace_all(&s, "$2");
    let s = EM_STAR.replace_all(&s, "$1");
    let s = EM_UNDERSCORE.replace_all(&s, "$1$2$3");
    let s = STRIKE.replace_all(&s, "$1");
    decode_basic_entities(&s)
}

fn decode_basic_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The first `# ` heading of a Markdown body, stripped of markup.
fn first_h1(body: &str) -> Option<String> {
    let mut in_fence = false;
    for line in body.lines() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if let Some(h) = t.strip_prefix("# ") {
            let h = strip_inline(h.trim().trim_end_matches('#').trim());
            if !h.is_empty() {
                return Some(h);
            }
        }
    }
    None
}

/// Markdown body → readable text. Paragraphs are separated by one blank line.
fn strip_markdown(body: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut in_fence = false;
    let lines: Vec<&str> = body.lines().collect();
    for (i, raw) in lines.iter().enumerate() {
        let trimmed = raw.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            out.push(String::new());
            continue;
        }
        if in_fence {
            out.push(raw.trim_end().to_string());
            continue;
        }
        // Setext underline under a text line: drop the underline, keep a break.
        if SETEXT.is_match(raw)
            && i > 0
            && !lines[i - 1].trim().is_empty()
            && !trimmed.starts_with("- ")
        {
            out.push(String::new());
            continue;
        }
        if TABLE_SEP.is_match(raw) && !RULE.is_match(raw) {
            continue;
        }
        if RULE.is_match(raw) || REF_DEF.is_match(raw) {
            out.push(String::new());
            continue;
        }
        let mut line = raw.trim_end().to_string();
        // Block quotes.
        loop {
            let t = line.trim_start();
            if let Some(rest) = t.strip_prefix('>') {
                line = rest.strip_prefix(' ').unwrap_or(rest).to_string();
            } else {
                break;
            }
        }
        let t = line.trim_start();
        let hashes = t.chars().take_while(|&c| c == '#').count();
        let after = &t[hashes..];
        let is_heading = (1..=6).contains(&hashes) && (after.is_empty() || after.starts_with(' '));
        if is_heading {
            let h = t.trim_start_matches('#').trim();
            let h = h.trim_end_matches('#').trim_end();
            // Headings stand alone as paragraphs.
            out.push(String::new());
            out.push(strip_inline(h));
            out.push(String::new());
            continue;
        }
        let line = BULLET.replace(&line, "$1").to_string();
        let line = if line.trim_start().starts_with('|') {
            let cells: Vec<&str> = line
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            cells.join(" | ")
        } else {
            line
        };
        out.push(strip_inline(line.trim()));
    }
    // Paragraphs are runs of non-blank lines; one blank line between them.
    let mut paragraphs: Vec<Vec<String>> = vec![Vec::new()];
    for l in out {
        if l.trim().is_empty() {
            if paragraphs.last().is_some_and(|p| !p.is_empty()) {
                paragraphs.push(Vec::new());
            }
        } else if let Some(p) = paragraphs.last_mut() {
            p.push(l);
        }
    }
    paragraphs
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.join("\n"))
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Read decoded Markdown text into (metadata, body text).
pub(crate) fn read_markdown(text: &str, location: &str) -> Result<(DocMeta, String), IngestError> {
    let (mut meta, body) = match split_front_matter(text) {
        Some((yaml, body)) => (parse_front_matter(yaml, location)?.meta, body),
        None => (DocMeta::default(), text),
    };
    if meta.title.is_none() {
        meta.title = first_h1(body);
    }
    Ok((meta, strip_markdown(body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn front_matter_and_body() {
        let md = "---\ntitle: Pipe works delayed\npublisher: Kellbridge Gazette\nauthor: [Ada Quill, Bo Marsh]\npublished: 2024-03-05\nkind: news\nextra: ignored\n---\n# Heading here\n\nThe **works** are *late*, see [the plan](http://x.example/plan).\nSecond line of the same paragraph.\n\n- item one\n- item two\n";
        let (meta, body) = read_markdown(md, "a.md").unwrap();
        assert_eq!(meta.title.as_deref(), Some("Pipe works delayed"));
        assert_eq!(meta.publisher.as_deref(), Some("Kellbridge Gazette"));
        assert_eq!(meta.author.as_deref(), Some("Ada Quill, Bo Marsh"));
        assert_eq!(meta.published, NaiveDate::from_ymd_opt(2024, 3, 5));
        assert_eq!(meta.kind, Some(SourceKind::News));
        assert_eq!(
            body,
            "Heading here\n\nThe works are late, see the plan.\nSecond line of the same paragraph.\n\nitem one\nitem two"
        );
    }

    #[test]
    fn rfc3339_published_and_title_fallback() {
        let md =
            "---\npublished: 2024-03-05T09:30:00+01:00\n---\nIntro line.\n\n# Real Title\n\nBody.";
        let (meta, _) = read_markdown(md, "a.md").unwrap();
        assert_eq!(meta.published, NaiveDate::from_ymd_opt(2024, 3, 5));
        assert_eq!(meta.title.as_deref(), Some("Real Title"));
    }

    #[test]
    fn no_front_matter_is_fine() {
        let (meta, body) =
            read_markdown("Just text with snake_case_name and 2 * 3 = 6.", "a.md").unwrap();
        assert_eq!(meta, DocMeta::default());
        assert_eq!(body, "Just text with snake_case_name and 2 * 3 = 6.");
    }

    #[test]
    fn bad_front_matter_values_are_errors() {
        let e = read_markdown("---\npublished: someday\n---\nx", "a.md").unwrap_err();
        assert_eq!(e.reason_code(), "bad_metadata");
        assert!(e.to_string().contains("someday"), "{e}");
        let e = read_markdown("---\nkind: blog\n---\nx", "a.md").unwrap_err();
        assert!(e.to_string().contains("blog"), "{e}");
        let e = read_markdown("---\ntitle: [unclosed\n---\nx", "a.md").unwrap_err();
        assert_eq!(e.reason_code(), "bad_metadata");
    }

    #[test]
    fn markup_is_stripped_lightly() {
        let md = "Title\n=====\n\n> quoted **bold** and _em_ and `code` and ~~gone~~\n\n---\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![alt text](img.png) <br/> <https://x.example>\n\n[ref]: https://x.example\n\n```\nfn main() {}\n```\n";
        let (_, body) = read_markdown(md, "a.md").unwrap();
        assert_eq!(
            body,
            "Title\n\nquoted bold and em and code and gone\n\na | b\n1 | 2\n\nalt text  https://x.example\n\nfn main() {}"
        );
    }
}
