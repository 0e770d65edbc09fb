//! Property tests and fuzz harnesses for every reader (issue 14), run under stable Rust.
//!
//! Each harness feeds generated input to the public API (`read_bytes`, `parse_date`) and
//! checks the readers' contract:
//! * no panic and no hang (every read runs on its own thread and must answer within a
//!   deadline, so a parser loop fails the test instead of stalling CI);
//! * a non-empty list of results; a document has non-empty, trimmed text, a kind, and
//!   the location it was read from (`location#L<n>` for a JSONL line);
//! * an error has a non-empty `reason_code()` and a message that names the location.
//!
//! Runs are deterministic: a fixed seed, no failure-persistence files, and modest case
//! counts. For a long local run raise the counts with `PROPTEST_CASES=20000` (every
//! harness then runs that many; proptest applies the variable over the explicit config)
//! and change the seed with `PROPTEST_RNG_SEED=<u64>`. A failing input is also written to
//! `$CARGO_TARGET_TMPDIR/fuzz-failures/` so it can be replayed with the CLI.
//!
//! `VERITY_SEEDS_DIR=<dir>` (see `scripts/hostile-seeds.py`) also reads every file in that
//! folder, PDFs included (the cycle and inflate-bomb seeds end as named failures;
//! `VERITY_SEEDS_PDF=0` leaves PDFs out).

#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;
use verity_ingest::{format_for_path, parse_date, read_bytes, IngestError, ReadOptions};
use verity_types::{Document, Format};

type Results = Vec<Result<Document, IngestError>>;

/// How long one read may take before it counts as a hang. Generous: debug builds on a
/// loaded 2-core machine are slow, and a real hang is forever.
const READ_DEADLINE: Duration = Duration::from_secs(20);

/// `PROPTEST_CASES` when set, else `default`. (`proptest!` applies the variable over
/// any config too; this keeps the config right for a `TestRunner` used directly.)
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn seed(default: u64) -> RngSeed {
    RngSeed::Fixed(
        std::env::var("PROPTEST_RNG_SEED")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default),
    )
}

/// A deterministic config: fixed seed, no persistence files, no forking.
fn config(default_cases: u32, default_seed: u64) -> Config {
    Config {
        cases: cases(default_cases),
        rng_seed: seed(default_seed),
        failure_persistence: None,
        fork: false,
        timeout: 0,
        max_shrink_iters: 256,
        ..Config::default()
    }
}

/// Keep a failing input where it can be replayed.
fn save_failure(name: &str, bytes: &[u8]) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    let path = dir.join(name);
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, bytes)) {
        Ok(()) => format!("input saved to {}", path.display()),
        Err(e) => format!("could not save the input: {e}"),
    }
}

/// Read `bytes` on a thread of its own and wait at most `deadline`. A panic or a hang
/// is an `Err` describing it (the hung thread is left behind; the test fails anyway).
fn read_guarded(
    bytes: Vec<u8>,
    location: &str,
    format: Option<Format>,
    deadline: Duration,
) -> Result<Results, String> {
    let (tx, rx) = mpsc::channel();
    let loc = location.to_string();
    let len = bytes.len();
    let spawned = std::thread::Builder::new()
        .name(format!("read {location}"))
        .spawn(move || {
            let r = read_bytes(&bytes, &loc, format, &ReadOptions::default());
            let _ = tx.send(r);
        });
    if let Err(e) = spawned {
        return Err(format!("could not start a reader thread: {e}"));
    }
    match rx.recv_timeout(deadline) {
        Ok(r) => Ok(r),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "HANG: reading {len} bytes of `{location}` as {format:?} did not finish within {deadline:?}"
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(format!(
            "PANIC: the reader panicked on {len} bytes of `{location}` as {format:?} (see stderr)"
        )),
    }
}

/// The readers' contract for one input read from `location`.
fn check_contract(location: &str, results: &Results) -> Result<(), String> {
    if results.is_empty() {
        return Err("no result at all: expected documents or errors".into());
    }
    for r in results {
        match r {
            Ok(doc) => {
                if doc.text.trim().is_empty() {
                    return Err(format!("a document with blank text: {doc:?}"));
                }
                if doc.text.trim() != doc.text {
                    return Err(format!(
                        "document text is not trimmed: starts {:?}, ends {:?}",
                        doc.text.chars().take(8).collect::<String>(),
                        doc.text.chars().rev().take(8).collect::<String>()
                    ));
                }
                if !doc.location.starts_with(location) {
                    return Err(format!(
                        "document location `{}` is not `{location}`",
                        doc.location
                    ));
                }
                if doc.meta.kind.is_none() {
                    return Err(format!("document without a kind: {:?}", doc.meta));
                }
            }
            Err(e) => {
                if e.reason_code().is_empty() {
                    return Err(format!("error without a reason code: {e:?}"));
                }
                if !e.location().starts_with(location) {
                    return Err(format!(
                        "error location `{}` is not `{location}`",
                        e.location()
                    ));
                }
                let msg = e.to_string();
                if !msg.contains(e.location()) {
                    return Err(format!(
                        "error message does not name `{}`: {msg}",
                        e.location()
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Read with a deadline and check the contract; on failure save the input as `name`.
fn read_and_check(
    bytes: Vec<u8>,
    name: &str,
    format: Option<Format>,
) -> Result<Results, TestCaseError> {
    let location = format!("fuzz/{name}");
    let kept = bytes.clone();
    let outcome = read_guarded(bytes, &location, format, READ_DEADLINE)
        .and_then(|r| check_contract(&location, &r).map(|()| r));
    outcome.map_err(|why| TestCaseError::fail(format!("{why}; {}", save_failure(name, &kept))))
}

fn only_doc(results: &Results) -> Option<&Document> {
    match results.as_slice() {
        [Ok(doc)] => Some(doc),
        _ => None,
    }
}

fn only_err(results: &Results) -> Option<&IngestError> {
    match results.as_slice() {
        [Err(e)] => Some(e),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Shared generators

/// Words that can never spell a marker or markup.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "Port",
            "Vellan",
            "Kellbridge",
            "Marrow",
            "County",
            "weir",
            "ferry",
            "council",
            "the",
            "audit",
            "repairs",
            "budget",
            "harbour",
            "£4.2m",
            "café",
            "naïve",
            "東京",
            "Ωmega",
            "2024",
            "42%",
            "\u{A0}",
            "—",
            "“quoted”",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z]{1,10}",
    ]
}

fn sentence() -> impl Strategy<Value = String> {
    prop::collection::vec(word(), 1..12).prop_map(|w| {
        let mut s = w.join(" ");
        s.push('.');
        s
    })
}

/// Plain prose: sentences, line breaks and paragraph breaks, padded with blanks.
fn prose() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            (
                sentence(),
                prop::sample::select(vec![" ", "\n", "\n\n", "\t"]),
            ),
            1..8,
        ),
        prop::sample::select(vec!["", " ", "\n", "\n\n  "]),
        prop::sample::select(vec!["", " ", "\n", "\t\n"]),
    )
        .prop_map(|(parts, lead, trail)| {
            let mut s = lead.to_string();
            for (sent, sep) in parts {
                s.push_str(&sent);
                s.push_str(sep);
            }
            s.push_str(trail);
            s
        })
}

// ---------------------------------------------------------------------------------------
// HTML

/// One token of generated tag soup.
#[derive(Debug, Clone)]
enum Tok {
    Open(&'static str, Vec<(&'static str, String)>),
    Close(&'static str),
    Text(String),
    Entity(&'static str),
    /// A `<script>` element whose body holds the marker `vscriptmark<n>`.
    Script(u32, bool),
    Comment(String),
    Void(&'static str),
}

/// Tags whose content is ordinary markup (no raw-text elements other than the scripts
/// generated on purpose, no foreign content, no `<select>`).
const TAGS: &[&str] = &[
    "div",
    "span",
    "p",
    "section",
    "article",
    "main",
    "b",
    "i",
    "em",
    "strong",
    "a",
    "ul",
    "li",
    "ol",
    "table",
    "tr",
    "td",
    "h1",
    "h2",
    "blockquote",
    "nav",
    "header",
    "footer",
    "aside",
    "figure",
    "figcaption",
    "pre",
    "code",
    "form",
    "label",
    "dl",
    "dt",
    "dd",
];
const VOIDS: &[&str] = &["br", "hr", "img", "meta", "input", "wbr"];
const ATTRS: &[&str] = &[
    "class",
    "id",
    "role",
    "hidden",
    "style",
    "href",
    "lang",
    "data-x",
    "aria-hidden",
    "title",
];
const ENTITIES: &[&str] = &[
    "&amp;",
    "&lt;",
    "&gt;",
    "&quot;",
    "&#39;",
    "&nbsp;",
    "&#x1F600;",
    "&#0;",
    "&#xD800;",
    "&#99999999;",
    "&bogus;",
    "&",
    "&amp",
    "&lt;script&gt;",
    "&#60;",
];

fn attr_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "nav",
            "menu",
            "breadcrumb",
            "cookie-banner",
            "share",
            "main",
            "content",
            "article",
            "navigation",
            "footer",
            "true",
            "display:none",
            "",
        ])
        .prop_map(str::to_string),
        "[ -~]{0,20}",
    ]
}

fn tok() -> impl Strategy<Value = Tok> {
    prop_oneof![
        4 => (
            prop::sample::select(TAGS),
            prop::collection::vec((prop::sample::select(ATTRS), attr_value()), 0..3)
        )
            .prop_map(|(t, a)| Tok::Open(t, a)),
        3 => prop::sample::select(TAGS).prop_map(Tok::Close),
        5 => sentence().prop_map(Tok::Text),
        1 => prop::sample::select(ENTITIES).prop_map(Tok::Entity),
        1 => (0u32..1_000_000, any::<bool>()).prop_map(|(n, json)| Tok::Script(n, json)),
        1 => "[a-z <>=\"']{0,20}".prop_map(Tok::Comment),
        1 => prop::sample::select(VOIDS).prop_map(Tok::Void),
    ]
}

fn escape_attr(v: &str) -> String {
    v.replace('&', "&amp;").replace('"', "&quot;")
}

fn render_soup(toks: &[Tok]) -> String {
    let mut s = String::new();
    for t in toks {
        match t {
            Tok::Open(tag, attrs) => {
                s.push('<');
                s.push_str(tag);
                for (k, v) in attrs {
                    s.push_str(&format!(" {k}=\"{}\"", escape_attr(v)));
                }
                s.push('>');
            }
            Tok::Close(tag) => s.push_str(&format!("</{tag}>")),
            Tok::Text(t) => s.push_str(t),
            Tok::Entity(e) => s.push_str(e),
            Tok::Script(n, false) => {
                s.push_str(&format!(
                    "<script>var vscriptmark{n} = \"<p>vscriptmark{n}</p>\"; if (a < b && c > d) {{}}</script>"
                ));
            }
            Tok::Script(n, true) => {
                s.push_str(&format!(
                    "<script type=\"application/ld+json\">{{\"@type\": \"NewsArticle\", \"description\": \"vscriptmark{n}\"}}</script>"
                ));
            }
            Tok::Comment(c) => {
                // `--` and `>` inside would end or confuse the comment; the soup keeps
                // comments closed so that the script markers stay inside scripts.
                let c = c.replace(['-', '>'], " ");
                s.push_str(&format!("<!--{c}-->"));
            }
            Tok::Void(tag) => s.push_str(&format!("<{tag}>")),
        }
    }
    s
}

#[derive(Debug, Clone)]
struct Soup {
    /// `<div>`s wrapped around the soup (opened before it, closed after it).
    depth: usize,
    wrapper: &'static str,
    toks: Vec<Tok>,
    doctype: bool,
}

fn soup() -> impl Strategy<Value = Soup> {
    (
        prop_oneof![
            6 => 0usize..40,
            2 => 400usize..600,
            1 => 600usize..3000,
        ],
        prop::sample::select(vec!["div", "span", "section", "b", "blockquote"]),
        prop::collection::vec(tok(), 0..120),
        any::<bool>(),
    )
        .prop_map(|(depth, wrapper, toks, doctype)| Soup {
            depth,
            wrapper,
            toks,
            doctype,
        })
}

fn render_page(s: &Soup) -> String {
    let mut out = String::new();
    if s.doctype {
        out.push_str("<!DOCTYPE html>");
    }
    out.push_str("<html><head><title>Soup</title></head><body>");
    out.push_str(&format!("<{}>", s.wrapper).repeat(s.depth));
    out.push_str(&render_soup(&s.toks));
    out.push_str(&format!("</{}>", s.wrapper).repeat(s.depth));
    out.push_str("</body></html>");
    out
}

proptest! {
    #![proptest_config(config(64, 0x7e51_0001))]

    /// Arbitrary bytes read as HTML.
    #[test]
    fn html_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        read_and_check(bytes, "bytes.html", Some(Format::Html))?;
    }

    /// Arbitrary text (valid UTF-8, markup characters likely) read as HTML.
    #[test]
    fn html_arbitrary_text(text in "[<>/a-z =\"'&;!\\-\\PC]{0,2000}") {
        read_and_check(text.into_bytes(), "text.html", Some(Format::Html))?;
    }

    /// Tag soup: random nesting, unclosed and stray close tags, attributes (including the
    /// boilerplate class words), entities, comments, scripts, and wrappers up to 3,000
    /// deep. Pages nested past the cap are refused `too_deep`; shallow ones never are;
    /// no script body ever reaches the text.
    #[test]
    fn html_tag_soup(s in soup()) {
        let page = render_page(&s);
        let results = read_and_check(page.into_bytes(), "soup.html", Some(Format::Html))?;
        let opens = s.toks.iter().filter(|t| matches!(t, Tok::Open(..))).count();
        if s.depth > verity_ingest::MAX_HTML_DEPTH {
            let e = only_err(&results);
            prop_assert_eq!(e.map(IngestError::reason_code), Some("too_deep"), "{:?}", results);
        } else if s.depth + opens + 4 < verity_ingest::MAX_HTML_DEPTH {
            prop_assert!(
                results.iter().all(|r| r.as_ref().err().map(IngestError::reason_code) != Some("too_deep")),
                "refused a page {} deep: {:?}", s.depth + opens + 3, results
            );
        }
        if let Some(doc) = only_doc(&results) {
            prop_assert!(!doc.text.contains("vscriptmark"), "script body in the text: {}", doc.text);
            prop_assert_eq!(doc.format, Format::Html);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Markdown with YAML front matter

fn yaml_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "title", "publisher", "author", "published", "date", "url", "kind", "source",
            "Title", "authors", "tags",
        ])
        .prop_map(str::to_string),
        1 => "[a-z_]{1,8}",
        1 => Just("? complex".to_string()),
        1 => Just("\"quoted key\"".to_string()),
    ]
}

fn yaml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => sentence(),
        2 => (1900i32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        1 => prop::sample::select(vec![
            "news", "official", "audit", "advocacy", "opinion", "other", "bogus-kind",
        ])
        .prop_map(str::to_string),
        2 => prop::sample::select(vec![
            "[", "]", "{", "{a: 1", "- x", "&a", "*a", "*undefined", "!!binary AAAA", "!!int x",
            "|", ">", "'unterminated", "\"unterminated", "@reserved", "`tick", "%TAG", ": :",
            "null", "~", "true", "1e999", "0x1F", ".nan", "[1, [2, [3]]]", "{name: Ada}",
            "2024-13-45", "not a date",
        ])
        .prop_map(str::to_string),
        1 => "[ -~]{0,30}",
        1 => "\\PC{0,20}",
    ]
}

/// Billion laughs: `levels` anchors, each a list of `width` aliases of the one before.
fn laughs(levels: usize, width: usize, key: &str) -> String {
    let mut y = String::from("l0: &l0 [\"lol\", \"lol\"]\n");
    for i in 1..=levels {
        let refs = vec![format!("*l{}", i - 1); width].join(", ");
        y.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
    }
    y.push_str(&format!("{key}: *l{levels}\n"));
    y
}

#[derive(Debug, Clone)]
enum FrontMatter {
    Fields(Vec<(String, String)>),
    Laughs(usize, usize, String),
    Raw(String),
    None,
}

fn front_matter() -> impl Strategy<Value = FrontMatter> {
    prop_oneof![
        5 => prop::collection::vec((yaml_key(), yaml_value()), 0..8).prop_map(FrontMatter::Fields),
        2 => (1usize..12, 2usize..10, prop::sample::select(vec!["title", "author", "tags", "kind", "published"]))
            .prop_map(|(l, w, k)| FrontMatter::Laughs(l, w, k.to_string())),
        1 => "[ -~\n]{0,200}".prop_map(FrontMatter::Raw),
        1 => Just(FrontMatter::None),
    ]
}

fn render_front_matter(fm: &FrontMatter) -> Option<String> {
    match fm {
        FrontMatter::Fields(fields) => {
            Some(fields.iter().map(|(k, v)| format!("{k}: {v}\n")).collect())
        }
        FrontMatter::Laughs(l, w, k) => Some(laughs(*l, *w, k)),
        FrontMatter::Raw(s) => Some(format!("{s}\n")),
        FrontMatter::None => None,
    }
}

fn markdown_body() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => sentence(),
            1 => sentence().prop_map(|s| format!("# {s}")),
            1 => sentence().prop_map(|s| format!("- **{s}**")),
            1 => sentence().prop_map(|s| format!("[{s}](https://example.invalid/x)")),
            1 => Just("```\ncode <b>x</b>\n```".to_string()),
            1 => Just("<div class=\"x\">inline html</div>".to_string()),
            1 => Just("---".to_string()),
            1 => Just("".to_string()),
        ],
        0..10,
    )
    .prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(config(64, 0x7e51_0002))]

    /// Random front matter (valid, invalid, alias bombs) over a random body. A body with
    /// words always yields a document unless the front matter is refused, and refused
    /// front matter is a `bad_metadata` error (or `binary` when it is mostly junk).
    #[test]
    fn markdown_front_matter(fm in front_matter(), body in markdown_body(), crlf in any::<bool>()) {
        let mut md = String::new();
        if let Some(yaml) = render_front_matter(&fm) {
            md.push_str("---\n");
            md.push_str(&yaml);
            md.push_str("---\n");
        }
        md.push_str(&body);
        if crlf {
            md = md.replace('\n', "\r\n");
        }
        let results = read_and_check(md.into_bytes(), "front.md", Some(Format::Markdown))?;
        if let Some(e) = only_err(&results) {
            prop_assert!(
                // `binary`: front matter full of U+FFFD or control characters trips the
                // binary-junk check, as in any text file.
                matches!(e.reason_code(), "bad_metadata" | "empty" | "binary"),
                "unexpected error for Markdown: {}", e
            );
        }
        if let FrontMatter::Fields(fields) = &fm {
            // Plain `title: words.` with no other title-like key and valid YAML elsewhere.
            if let (Some(doc), [(k, v)]) = (only_doc(&results), fields.as_slice()) {
                if k == "title" && v.ends_with('.') && !v.contains([':', '#', '"', '\'', '[', '{', '&', '*', '`', '|', '>', '!', '%', '@']) {
                    prop_assert_eq!(doc.meta.title.as_deref(), Some(v.trim()));
                }
            }
        }
    }

    /// Arbitrary bytes read as Markdown, with and without a front-matter fence on top.
    #[test]
    fn markdown_arbitrary_bytes(fence in any::<bool>(), bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let mut md = if fence { b"---\n".to_vec() } else { Vec::new() };
        md.extend_from_slice(&bytes);
        read_and_check(md, "bytes.md", Some(Format::Markdown))?;
    }
}

// ---------------------------------------------------------------------------------------
// JSONL

#[derive(Debug, Clone)]
enum Line {
    /// `{"text": ...}` with printable prose: always a document with exactly that text.
    Good(String),
    /// Any JSON value serialized on one line.
    Value(String),
    /// Not JSON at all.
    Garbage(String),
    Blank,
}

fn json_leaf() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "\\PC{0,30}".prop_map(serde_json::Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    json_leaf().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        3 => prop::sample::select(vec![
                            "text", "title", "url", "publisher", "published", "date", "kind",
                            "author", "authors", "source",
                        ])
                        .prop_map(str::to_string),
                        1 => "\\PC{0,8}",
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        3 => prose().prop_filter("has words", |p| !p.trim().is_empty()).prop_map(Line::Good),
        3 => json_value().prop_map(|v| Line::Value(v.to_string())),
        1 => "\\PC{0,40}".prop_map(|s| Line::Value(serde_json::json!({ "text": s }).to_string())),
        1 => prop::sample::select(vec![
            "{", "}", "{\"text\": }", "[1, 2", "{\"text\": \"a\" \"b\"}", "nul", "NaN",
            "{\"text\": \"\\ud800\"}", "{\"text\": \"ok\", \"published\": \"never\"}",
            "{\"text\": \"ok\", \"kind\": \"bogus\"}", "{\"text\": 1e999999}",
            "123456789012345678901234567890123456789", "-1e-999999", "\"just a string\"",
            "{\"text\": \"\\u0000\"}", "{\"text\": \"\\ufeff  lead\"}", "{\"text\": \"\u{FEFF}\u{FEFF} x \u{200B}\"}",
            "{\"text\": \"\\u001b]0;title\\u0007 \\u001b[31mred\"}", "{\"text\": \"ok\", \"title\": {\"name\": [1, {}]}}",
        ])
        .prop_map(|s| Line::Garbage(s.to_string())),
        1 => (1usize..6000).prop_map(|d| Line::Garbage(format!("{}{}", "[".repeat(d), "]".repeat(d)))),
        1 => (1usize..3000).prop_map(|d| Line::Garbage(format!("{{\"text\": \"deep\", \"title\": {}1{}}}", "[".repeat(d), "]".repeat(d)))),
        1 => Just(Line::Blank),
    ]
}

fn render_line(l: &Line) -> String {
    match l {
        // `\n` inside the string is escaped by the serializer; the line stays one line.
        Line::Good(p) => serde_json::json!({ "text": p }).to_string(),
        Line::Value(s) | Line::Garbage(s) => s.clone(),
        Line::Blank => "   ".to_string(),
    }
}

proptest! {
    #![proptest_config(config(64, 0x7e51_0003))]

    /// Random lines: one result per non-blank line, in order, each located at its line;
    /// a good line is a document with exactly its trimmed text.
    #[test]
    fn jsonl_lines(lines in prop::collection::vec(line(), 0..24), bom in any::<bool>(), crlf in any::<bool>()) {
        let sep = if crlf { "\r\n" } else { "\n" };
        let mut body = if bom { "\u{FEFF}".to_string() } else { String::new() };
        body.push_str(&lines.iter().map(render_line).collect::<Vec<_>>().join(sep));
        let results = read_and_check(body.clone().into_bytes(), "lines.jsonl", Some(Format::Jsonl))?;
        let numbered: Vec<(usize, &Line)> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !render_line(l).trim().is_empty())
            .map(|(i, l)| (i + 1, l))
            .collect();
        if numbered.is_empty() {
            let e = only_err(&results);
            prop_assert!(e.is_some(), "{:?}", results);
            return Ok(());
        }
        prop_assert_eq!(results.len(), numbered.len());
        for ((lineno, l), r) in numbered.iter().zip(&results) {
            let want_loc = format!("fuzz/lines.jsonl#L{lineno}");
            match r {
                Ok(doc) => prop_assert_eq!(&doc.location, &want_loc),
                Err(e) => prop_assert_eq!(e.location(), want_loc.as_str()),
            }
            if let Line::Good(p) = l {
                let doc = r.as_ref().map_err(|e| TestCaseError::fail(format!("good line {lineno} failed: {e}")))?;
                prop_assert_eq!(doc.text.as_str(), p.trim());
            }
        }
    }

    /// Arbitrary bytes read as JSONL.
    #[test]
    fn jsonl_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        read_and_check(bytes, "bytes.jsonl", Some(Format::Jsonl))?;
    }
}

// ---------------------------------------------------------------------------------------
// Plain text in random encodings

#[derive(Debug, Clone, Copy)]
enum Enc {
    Utf8,
    Utf8Bom,
    Utf16LeBom,
    Utf16BeBom,
    /// UTF-16LE without a BOM (found by its NUL pattern; ASCII text only).
    Utf16LeBare,
    /// Windows-1252 (guessed; Latin-1 text only).
    Latin1,
}

fn encode(s: &str, enc: Enc) -> Vec<u8> {
    let utf16 = |be: bool, bom: bool| {
        let mut out = Vec::new();
        if bom {
            out.extend_from_slice(if be { &[0xFE, 0xFF] } else { &[0xFF, 0xFE] });
        }
        for u in s.encode_utf16() {
            out.extend_from_slice(&if be { u.to_be_bytes() } else { u.to_le_bytes() });
        }
        out
    };
    match enc {
        Enc::Utf8 => s.as_bytes().to_vec(),
        Enc::Utf8Bom => [&[0xEF, 0xBB, 0xBF][..], s.as_bytes()].concat(),
        Enc::Utf16LeBom => utf16(false, true),
        Enc::Utf16BeBom => utf16(true, true),
        Enc::Utf16LeBare => utf16(false, false),
        Enc::Latin1 => s
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect(),
    }
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    None,
    /// Drop the last byte (odd length for UTF-16).
    DropLast,
    /// Append one stray byte.
    Append(u8),
}

proptest! {
    #![proptest_config(config(128, 0x7e51_0004))]

    /// Prose in a random encoding, maybe with its last byte dropped or a byte added.
    /// Undamaged text whose encoding is certain (UTF-8, a BOM) reads back exactly.
    #[test]
    fn text_encodings(
        text in prose(),
        enc in prop::sample::select(vec![Enc::Utf8, Enc::Utf8Bom, Enc::Utf16LeBom, Enc::Utf16BeBom, Enc::Utf16LeBare, Enc::Latin1]),
        damage in prop_oneof![3 => Just(Damage::None), 1 => Just(Damage::DropLast), 1 => any::<u8>().prop_map(Damage::Append)],
    ) {
        let text = match enc {
            Enc::Utf16LeBare => text.chars().map(|c| if c.is_ascii() { c } else { 'x' }).collect(),
            Enc::Latin1 => text.chars().map(|c| if u32::from(c) < 0x100 { c } else { 'y' }).collect(),
            _ => text,
        };
        let mut bytes = encode(&text, enc);
        match damage {
            Damage::None => {}
            Damage::DropLast => { bytes.pop(); }
            Damage::Append(b) => bytes.push(b),
        }
        let results = read_and_check(bytes, "prose.txt", Some(Format::Text))?;
        let exact = matches!(damage, Damage::None)
            && matches!(enc, Enc::Utf8 | Enc::Utf8Bom | Enc::Utf16LeBom | Enc::Utf16BeBom);
        if exact {
            let doc = only_doc(&results).ok_or_else(|| TestCaseError::fail(format!("{results:?}")))?;
            prop_assert_eq!(doc.text.as_str(), text.trim());
        }
    }

    /// Arbitrary bytes, maybe behind a BOM, read as text.
    #[test]
    fn text_arbitrary_bytes(
        bom in prop::sample::select(vec![&b""[..], b"\xEF\xBB\xBF", b"\xFF\xFE", b"\xFE\xFF", b"\xFF\xFE\0\0"]),
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        read_and_check([bom, &bytes[..]].concat(), "bytes.txt", Some(Format::Text))?;
    }

    /// Arbitrary bytes with no format hint: sniffing picks a reader, the contract holds.
    #[test]
    fn sniffed_arbitrary_bytes(
        head in prop::sample::select(vec![&b""[..], b"<html>", b"---\n", b"{\"text\": \"x\"}\n", b"%PDF-1.4\n", b"\xEF\xBB\xBF<!doctype html>"]),
        bytes in prop::collection::vec(any::<u8>(), 0..1024),
    ) {
        read_and_check([head, &bytes[..]].concat(), "sniffed", None)?;
    }
}

// ---------------------------------------------------------------------------------------
// Dates

fn valid_date() -> impl Strategy<Value = NaiveDate> {
    (1900i32..2100, 1u32..13, 1u32..32)
        .prop_filter_map("a real day", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
}

proptest! {
    #![proptest_config(config(512, 0x7e51_0005))]

    /// Any string: no panic, and a date found reads back from its ISO form.
    #[test]
    fn dates_arbitrary(s in prop_oneof!["\\PC{0,40}", "[0-9DTZ:+\\-/. a-zA-Z,']{0,40}"]) {
        if let Some(d) = parse_date(&s) {
            prop_assert_eq!(parse_date(&d.format("%Y-%m-%d").to_string()), Some(d), "{:?}", s);
        }
    }

    /// Every documented shape of a real date parses to that date.
    #[test]
    fn dates_documented_shapes(d in valid_date(), pad in prop::sample::select(vec!["", " ", "\t", "\n "])) {
        for fmt in [
            "%Y-%m-%d", "%Y-%m-%dT10:00:00Z", "%Y-%m-%dT23:30:00-05:00", "%Y/%m/%d", "%Y%m%d",
            "D:%Y%m%d103000+01'00'", "%B %-d, %Y", "%b. %-d %Y", "%A, %B %-d, %Y", "%-d %B %Y",
            "%d-%b-%Y", "%a, %d %b %Y 10:00:00 GMT",
        ] {
            let s = format!("{pad}{}{pad}", d.format(fmt));
            prop_assert_eq!(parse_date(&s), Some(d), "{:?}", s);
        }
    }

    /// All-numeric day/month forms that could be either are not guessed.
    #[test]
    fn dates_ambiguous_not_guessed(d in 1u32..13, m in 1u32..13, y in 1900i32..2100) {
        prop_assert_eq!(parse_date(&format!("{d:02}/{m:02}/{y}")), None);
    }
}

// ---------------------------------------------------------------------------------------
// PDF: the fixture with random flips, truncations, splices, insertions and deletions

fn pdf_fixture() -> Vec<u8> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/weir-audit-summary.pdf");
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// One mutation; positions are fractions of the current length so they always land.
#[derive(Debug, Clone)]
enum Mutation {
    Flip {
        at: f64,
        xor: u8,
    },
    Set {
        at: f64,
        byte: u8,
    },
    Truncate {
        at: f64,
    },
    /// Copy `len` bytes from `from` over the bytes at `to`.
    Splice {
        from: f64,
        to: f64,
        len: usize,
    },
    Insert {
        at: f64,
        bytes: Vec<u8>,
    },
    Delete {
        at: f64,
        len: usize,
    },
    /// Replace a PDF token with another (numbers, keywords, delimiters).
    Token {
        at: f64,
        tok: &'static str,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (0.0..1.0f64, 1u8..=255).prop_map(|(at, xor)| Mutation::Flip { at, xor }),
        2 => (0.0..1.0f64, any::<u8>()).prop_map(|(at, byte)| Mutation::Set { at, byte }),
        1 => (0.0..1.0f64).prop_map(|at| Mutation::Truncate { at }),
        2 => (0.0..1.0f64, 0.0..1.0f64, 1usize..200).prop_map(|(from, to, len)| Mutation::Splice { from, to, len }),
        1 => (0.0..1.0f64, prop::collection::vec(any::<u8>(), 1..32)).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (0.0..1.0f64, 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        2 => (0.0..1.0f64, prop::sample::select(vec![
            " 0 ", " 1 ", " 99999999 ", " -1 ", " 1 0 R ", " 2 0 R ", " 3 0 R ", "<<", ">>", "[", "]",
            "/Kids", "/Parent", "/Pages", "/Type", "/Length 0", "/Length 999999", "/Filter /FlateDecode",
            "endobj", "stream\n", "endstream", "xref", "trailer", "startxref", "%%EOF", "(", ")", "\\",
        ])).prop_map(|(at, tok)| Mutation::Token { at, tok }),
    ]
}

fn pos(at: f64, len: usize) -> usize {
    ((at * len as f64) as usize).min(len)
}

fn mutate(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let n = b.len();
        match m {
            Mutation::Flip { at, xor } if n > 0 => {
                let i = pos(*at, n - 1);
                b[i] ^= xor;
            }
            Mutation::Set { at, byte } if n > 0 => {
                let i = pos(*at, n - 1);
                b[i] = *byte;
            }
            Mutation::Truncate { at } => b.truncate(pos(*at, n)),
            Mutation::Splice { from, to, len } => {
                let from = pos(*from, n);
                let end = (from + len).min(n);
                let chunk = b[from..end].to_vec();
                let to = pos(*to, n);
                let stop = (to + chunk.len()).min(n);
                b.splice(to..stop, chunk);
            }
            Mutation::Insert { at, bytes } => {
                let i = pos(*at, n);
                b.splice(i..i, bytes.iter().copied());
            }
            Mutation::Delete { at, len } => {
                let i = pos(*at, n);
                b.drain(i..(i + len).min(n));
            }
            Mutation::Token { at, tok } => {
                let i = pos(*at, n);
                let stop = (i + tok.len()).min(n);
                b.splice(i..stop, tok.bytes());
            }
            _ => {}
        }
    }
    b
}

fn pdf_config() -> Config {
    Config {
        // A hang costs the full deadline per shrink step; keep the first failing input.
        max_shrink_iters: 0,
        ..config(48, 0x7e51_0006)
    }
}

proptest! {
    #![proptest_config(pdf_config())]

    /// The fixture PDF, mutated: a document or a `corrupt_pdf`/`empty` error, within the
    /// deadline. A hang fails with `HANG:` and the input is saved.
    #[test]
    fn pdf_mutations(muts in prop::collection::vec(mutation(), 1..8)) {
        let bytes = mutate(pdf_fixture(), &muts);
        let results = read_and_check(bytes, "mutated.pdf", Some(Format::Pdf))?;
        if let Some(e) = only_err(&results) {
            prop_assert!(
                matches!(e.reason_code(), "corrupt_pdf" | "empty" | "encoding" | "binary"),
                "unexpected error for a PDF: {}", e
            );
        }
    }
}

/// A mutated fixture found by `pdf_mutations` (seed 0x7e51_0006, case 4362 of a 20,000
/// case run) on which pdf-extract never returned: its page tree has a `/Parent` cycle,
/// and looking up inherited page settings climbed it for ever. The reader's cycle checks
/// now refuse it before pdf-extract runs.
#[test]
fn pdf_hang_1_returns() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz/pdf-hang-1.pdf");
    let bytes = std::fs::read(&path).unwrap();
    let results = read_guarded(bytes, "pdf-hang-1.pdf", Some(Format::Pdf), READ_DEADLINE)
        .unwrap_or_else(|why| panic!("{why}"));
    check_contract("pdf-hang-1.pdf", &results).unwrap();
}

/// The unmutated fixture reads: the mutation harness starts from a good document.
#[test]
fn pdf_fixture_reads() {
    let results =
        read_guarded(pdf_fixture(), "weir.pdf", Some(Format::Pdf), READ_DEADLINE).unwrap();
    check_contract("weir.pdf", &results).unwrap();
    let doc = only_doc(&results).expect("the fixture is a good PDF");
    assert!(doc.text.contains("Marlowe Weir"), "{}", doc.text);
}

// ---------------------------------------------------------------------------------------
// Seed corpus (scripts/hostile-seeds.py)

/// Every file in `$VERITY_SEEDS_DIR`, read by its extension with a deadline. Skipped
/// (passes) when the variable is unset. PDFs too, unless `VERITY_SEEDS_PDF=0`.
#[test]
fn seed_corpus() {
    let Some(dir) = std::env::var_os("VERITY_SEEDS_DIR") else {
        eprintln!("VERITY_SEEDS_DIR not set; seed corpus skipped");
        return;
    };
    let with_pdf = std::env::var("VERITY_SEEDS_PDF").map_or(true, |v| v != "0");
    let deadline = std::env::var("VERITY_SEEDS_TIMEOUT_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(60), Duration::from_secs);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", PathBuf::from(&dir).display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    assert!(
        !paths.is_empty(),
        "no seeds in {}",
        PathBuf::from(&dir).display()
    );
    let mut failures = Vec::new();
    let mut read = 0;
    for path in &paths {
        let format = format_for_path(path);
        if format == Some(Format::Pdf) && !with_pdf {
            eprintln!("skip {} (VERITY_SEEDS_PDF=0)", path.display());
            continue;
        }
        let bytes = std::fs::read(path).unwrap();
        let location = path.display().to_string();
        let started = std::time::Instant::now();
        let outcome = read_guarded(bytes, &location, format, deadline)
            .and_then(|r| check_contract(&location, &r).map(|()| r));
        read += 1;
        match outcome {
            Ok(r) => {
                let summary: Vec<String> = r
                    .iter()
                    .take(3)
                    .map(|x| match x {
                        Ok(d) => {
                            let esc = |t: &str| t.contains('\u{1b}');
                            let title = d.meta.title.as_deref().is_some_and(esc);
                            format!(
                                "ok ({} chars{}{})",
                                d.text.chars().count(),
                                if title { ", ESC in title" } else { "" },
                                if esc(&d.text) { ", ESC in text" } else { "" }
                            )
                        }
                        Err(e) => e.reason_code().to_string(),
                    })
                    .collect();
                eprintln!(
                    "{}: {} result(s) {:?} in {:.1?}",
                    path.display(),
                    r.len(),
                    summary,
                    started.elapsed()
                );
            }
            Err(why) => failures.push(format!("{}: {why}", path.display())),
        }
    }
    assert!(read > 0, "every seed was skipped");
    assert!(
        failures.is_empty(),
        "seed failures:\n{}",
        failures.join("\n")
    );
}
