//! HTML: main-content extraction and metadata.
//!
//! The content root is `<main>` / `[role=main]`, else the `<article>` with the most text,
//! else `<body>`. Inside it, boilerplate is dropped by tag (`nav`, `header`, `footer`,
//! `aside`, `form`, ...), by ARIA role, by class/id words (`menu`, `breadcrumb`, `cookie`,
//! `share`, `related`, `quick-links`, ...), by link density (a block whose text is mostly
//! link text is a menu or a "related" list), and by label (a short "Quick links" or
//! "Share this article" heading). Paragraphs, headings and blocks become paragraphs;
//! list items, table cells and definition terms/descriptions become lines.
//!
//! Nesting is capped at [`MAX_HTML_DEPTH`] elements: before the page is parsed, a
//! linear pass of the HTML tokenizer estimates how deep its elements nest, and a page
//! nested deeper is refused (`too_deep`) rather than flattened — the HTML tree builder
//! scans its stack of open elements on every start tag, so parsing alone is quadratic
//! in depth, and no real page comes near the cap. Main-content extraction is linear in
//! the number of nodes.
//!
//! Metadata comes from JSON-LD first (it is written for machines), then OpenGraph,
//! Dublin Core, Highwire `citation_*` and plain `<meta>` tags, then `<title>` and the
//! first `<h1>`.

use crate::date::parse_date;
use crate::fetch::is_url;
use ego_tree::NodeId;
use once_cell::sync::Lazy;
use regex::Regex;
use scraper::{ElementRef, Html, Node, Selector};
use serde_json::Value;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use verity_types::{DocMeta, SourceKind};

/// The deepest element nesting read. Real pages nest a few dozen elements deep (a few
/// hundred at the very most); a page nested deeper is refused with a `too_deep` error
/// naming the cap, because the HTML tree builder's work grows with the square of depth
/// (100,000 nested `<div>`s took over a minute).
pub const MAX_HTML_DEPTH: usize = 512;

/// Most descendant nodes looked at when deciding whether a short block is a
/// boilerplate label ("Share this story"). A block of under 60 characters spread over
/// more nodes than this is no label, and the bound keeps extraction linear however deep
/// the page nests.
const LABEL_NODE_BUDGET: usize = 64;

/// Elements that never hold children.
const VOID_TAGS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param",
    "source", "track", "wbr", "basefont", "bgsound", "frame",
];

/// Elements whose end tag may be left out, and that the tree builder closes itself
/// (a new `<p>` or `<li>` closes the last one): not counted towards depth, so sloppy
/// pages with thousands of unclosed `<p>`s are not mistaken for deep ones. Nesting
/// through them still counts their other ancestors.
const SELF_CLOSING_BY_PARSER: &[&str] = &[
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot",
    "colgroup", "caption", "rb", "rt", "rtc", "rp", "a", "nobr", "html", "head", "body",
];

/// How deep a page's elements nest, as far as [`scan_depth`] looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DepthScan {
    /// The deepest nesting seen (stops growing at `cap + 1`).
    pub depth: usize,
    /// Tags the scan processed before it stopped: the work done.
    pub tags: usize,
}

impl DepthScan {
    pub fn exceeds(&self, cap: usize) -> bool {
        self.depth > cap
    }
}

/// A token sink that keeps a stack of open elements, as the tree builder would roughly
/// do, and pauses the tokenizer as soon as the stack passes `cap`.
struct DepthSink {
    cap: usize,
    stack: RefCell<Vec<html5ever::LocalName>>,
    /// Open `<svg>`/`<math>` elements: inside them `<x/>` really closes itself.
    foreign: Cell<usize>,
    max: Cell<usize>,
    tags: Cell<usize>,
}

impl html5ever::tokenizer::TokenSink for DepthSink {
    type Handle = ();

    fn process_token(
        &self,
        token: html5ever::tokenizer::Token,
        _line: u64,
    ) -> html5ever::tokenizer::TokenSinkResult<()> {
        use html5ever::tokenizer::states::RawKind;
        use html5ever::tokenizer::{TagKind, Token, TokenSinkResult};
        let Token::TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        self.tags.set(self.tags.get() + 1);
        let name: &str = &tag.name;
        let mut stack = self.stack.borrow_mut();
        match tag.kind {
            TagKind::StartTag => {
                let in_foreign = self.foreign.get() > 0;
                let leaf = VOID_TAGS.contains(&name)
                    || SELF_CLOSING_BY_PARSER.contains(&name)
                    || (in_foreign && tag.self_closing);
                let counted = !leaf;
                if counted {
                    if matches!(name, "svg" | "math") {
                        self.foreign.set(self.foreign.get() + 1);
                    }
                    stack.push(tag.name.clone());
                    self.max.set(self.max.get().max(stack.len()));
                    if stack.len() > self.cap {
                        // Pauses the tokenizer: the scan is over.
                        return TokenSinkResult::Script(());
                    }
                }
                if in_foreign {
                    return TokenSinkResult::Continue;
                }
                // The tree builder switches the tokenizer into raw text for these; so
                // must we, or `<script>"<div>"</script>` would count as a `<div>`.
                match name {
                    "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                    "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                        TokenSinkResult::RawData(RawKind::Rawtext)
                    }
                    "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
                    "plaintext" => TokenSinkResult::Plaintext,
                    _ => TokenSinkResult::Continue,
                }
            }
            TagKind::EndTag => {
                // Close up to the matching open element; a stray end tag is ignored.
                // The stack never holds more than `cap + 1` names, so this is bounded.
                if let Some(i) = stack.iter().rposition(|n| n == &tag.name) {
                    for closed in stack.drain(i..) {
                        if matches!(&*closed, "svg" | "math") {
                            self.foreign.set(self.foreign.get().saturating_sub(1));
                        }
                    }
                }
                TokenSinkResult::Continue
            }
        }
    }
}

/// Estimate how deep `html` nests its elements, in one linear pass of the HTML
/// tokenizer, stopping as soon as the nesting passes `cap`.
pub(crate) fn scan_depth(html: &str, cap: usize) -> DepthScan {
    use html5ever::tokenizer::{BufferQueue, Tokenizer, TokenizerOpts};
    use html5ever::TokenizerResult;
    let sink = DepthSink {
        cap,
        stack: RefCell::new(Vec::new()),
        foreign: Cell::new(0),
        max: Cell::new(0),
        tags: Cell::new(0),
    };
    let tok = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(html.into());
    if let TokenizerResult::Done = tok.feed(&input) {
        tok.end();
    }
    DepthScan {
        depth: tok.sink.max.get(),
        tags: tok.sink.tags.get(),
    }
}

/// Elements whose content is never article text.
const DROP_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
    "iframe", "svg", "button", "select", "input", "textarea", "object", "embed", "canvas", "video",
    "audio", "map", "dialog", "menu", "head", "title", "meta", "link",
];

/// ARIA roles of page furniture.
const DROP_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "menu",
    "menubar",
    "menuitem",
    "dialog",
    "alertdialog",
    "toolbar",
    "tablist",
    "tooltip",
    "alert",
];

/// Words in class or id values that mark page furniture.
const DROP_CLASS_WORDS: &[&str] = &[
    "nav",
    "navbar",
    "navigation",
    "menu",
    "menus",
    "submenu",
    "megamenu",
    "breadcrumb",
    "breadcrumbs",
    "crumbs",
    "cookie",
    "cookies",
    "consent",
    "gdpr",
    "banner",
    "share",
    "sharing",
    "sharebar",
    "social",
    "related",
    "quicklinks",
    "footer",
    "header",
    "masthead",
    "sidebar",
    "sidenav",
    "skip",
    "skiplink",
    "subscribe",
    "newsletter",
    "promo",
    "advert",
    "advertisement",
    "ads",
    "ad",
    "sponsored",
    "pagination",
    "pager",
    "toolbar",
    "widget",
    "popup",
    "modal",
    "overlay",
    "comments",
    "comment",
    "recommended",
    "trending",
    "mostread",
    "popular",
    "signup",
    "login",
    "search",
    "tags",
    "byline-share",
    "print",
    "hidden",
];

/// Two-word class/id phrases that mark page furniture (`quick-links`, `sr-only`).
const DROP_CLASS_PAIRS: &[(&str, &str)] = &[
    ("quick", "links"),
    ("more", "stories"),
    ("most", "read"),
    ("read", "next"),
    ("sr", "only"),
    ("visually", "hidden"),
    ("screen", "reader"),
    ("site", "links"),
    ("useful", "links"),
];

/// Whole-text labels of boilerplate blocks ("Quick links", "Share this story").
static BOILERPLATE_LABEL: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?i)^(quick links|useful links|related( (stories|articles|content|links|reading|coverage|pages))?|more (stories|news|from [\w\s]+)|share( (this|on)( (article|story|page|post))?)?|follow us( on [\w\s]+)?|you (may|might) also (like|be interested in)|read (more|next)|most (read|popular|viewed)|trending( now)?|popular( (stories|articles))?|see also|in this section|on this page|navigation|main menu|menu|skip to (main )?content|advertisement|sponsored( content)?|recommended( for you)?|(sign up|subscribe)( to)?( our)?( newsletter)?|back to top|print( this (page|article))?)$",
    )
    .expect("valid regex")
});

/// Blocks that end a paragraph.
const PARA_TAGS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "dl",
    "figure",
    "hr",
    "address",
    "details",
    "center",
    "fieldset",
    "body",
    "html",
];

/// Blocks that end a line.
const LINE_TAGS: &[&str] = &[
    "li",
    "dt",
    "dd",
    "tr",
    "td",
    "th",
    "br",
    "caption",
    "figcaption",
    "summary",
    "legend",
    "thead",
    "tbody",
    "tfoot",
];

#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    /// Non-whitespace characters of visible text below this node.
    text: usize,
    /// Of which inside `<a>`.
    link: usize,
    links: usize,
}

fn sel(s: &str) -> Selector {
    // Selectors here are constants; a failure is a bug caught by the unit tests.
    Selector::parse(s).unwrap_or_else(|_| panic!("invalid built-in selector {s}"))
}

static SEL_MAIN: Lazy<Selector> = Lazy::new(|| sel("main, [role=main]"));
static SEL_ARTICLE: Lazy<Selector> = Lazy::new(|| sel("article"));
static SEL_BODY: Lazy<Selector> = Lazy::new(|| sel("body"));
static SEL_META: Lazy<Selector> = Lazy::new(|| sel("meta"));
static SEL_TITLE: Lazy<Selector> = Lazy::new(|| sel("title"));
static SEL_CANONICAL: Lazy<Selector> = Lazy::new(|| sel("link[rel]"));
static SEL_JSONLD: Lazy<Selector> = Lazy::new(|| sel("script[type]"));
static SEL_H1: Lazy<Selector> = Lazy::new(|| sel("h1"));
static SEL_TIME: Lazy<Selector> =
    Lazy::new(|| sel("time[pubdate], [itemprop=datePublished], article time[datetime]"));

fn is_invisible_text_parent(name: &str) -> bool {
    matches!(
        name,
        "script" | "style" | "noscript" | "template" | "title" | "head"
    )
}

fn count_visible(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace()).count()
}

/// Visible-text and link-text counts for every element, computed bottom-up.
fn compute_stats(doc: &Html) -> HashMap<NodeId, Stats> {
    let order: Vec<_> = doc.tree.root().descendants().collect();
    let mut stats: HashMap<NodeId, Stats> = HashMap::with_capacity(order.len());
    for node in order.iter().rev() {
        let mut own = stats.get(&node.id()).copied().unwrap_or_default();
        match node.value() {
            Node::Text(t) => {
                let hidden = node
                    .parent()
                    .and_then(|p| {
                        p.value()
                            .as_element()
                            .map(|e| is_invisible_text_parent(e.name()))
                    })
                    .unwrap_or(false);
                if !hidden {
                    own.text = count_visible(t);
                }
            }
            Node::Element(e) if e.name() == "a" => {
                own.link = own.text;
                own.links += 1;
            }
            _ => {}
        }
        stats.insert(node.id(), own);
        if let Some(parent) = node.parent() {
            let p = stats.entry(parent.id()).or_default();
            p.text += own.text;
            p.link += own.link;
            p.links += own.links;
        }
    }
    stats
}

fn class_id_words(el: &scraper::node::Element) -> Vec<String> {
    let mut words = Vec::new();
    for v in el.attr("class").into_iter().chain(el.attr("id")) {
        for w in v.split(|c: char| !c.is_ascii_alphanumeric()) {
            if !w.is_empty() {
                words.push(w.to_ascii_lowercase());
            }
        }
    }
    words
}

fn furniture_by_class(el: &scraper::node::Element) -> bool {
    let words = class_id_words(el);
    words.iter().any(|w| DROP_CLASS_WORDS.contains(&w.as_str()))
        || words.windows(2).any(|p| {
            DROP_CLASS_PAIRS
                .iter()
                .any(|(a, b)| p[0] == *a && p[1] == *b)
        })
}

fn hidden(el: &scraper::node::Element) -> bool {
    if el.attr("hidden").is_some() || el.attr("aria-hidden") == Some("true") {
        return true;
    }
    el.attr("style").is_some_and(|s| {
        let s: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        s.contains("display:none") || s.contains("visibility:hidden")
    })
}

struct Extractor<'a> {
    stats: &'a HashMap<NodeId, Stats>,
    root_text: usize,
    /// Nodes visited looking for boilerplate labels (the work bounded by
    /// LABEL_NODE_BUDGET; tests check it).
    label_nodes: Cell<usize>,
}

impl Extractor<'_> {
    fn stats(&self, id: NodeId) -> Stats {
        self.stats.get(&id).copied().unwrap_or_default()
    }

    /// Should this element and everything under it be left out?
    fn drop(&self, el: ElementRef<'_>) -> bool {
        let e = el.value();
        let name = e.name();
        if DROP_TAGS.contains(&name) || hidden(e) {
            return true;
        }
        if let Some(role) = e.attr("role") {
            if role
                .split_whitespace()
                .any(|r| DROP_ROLES.contains(&r.to_ascii_lowercase().as_str()))
            {
                return true;
            }
        }
        let st = self.stats(el.id());
        if furniture_by_class(e) {
            // A wrapper with a furniture-ish class that holds most of the article is
            // not furniture (`<div class="page has-sidebar">`).
            let holds_article = st.text * 2 > self.root_text && st.text > st.link * 2;
            if !holds_article {
                return true;
            }
        }
        if st.text > 0 {
            let density = st.link as f64 / st.text as f64;
            let dense = match name {
                "ul" | "ol" | "dl" | "menu" => st.links >= 2 && density > 0.5,
                "div" | "section" | "table" | "tbody" | "tr" | "span" => {
                    st.links >= 2 && density > 0.6
                }
                "p" | "li" | "td" | "dd" => st.links >= 3 && density > 0.7,
                _ => false,
            };
            if dense {
                return true;
            }
        }
        if st.text > 0 && st.text < 60 && (PARA_TAGS.contains(&name) || LINE_TAGS.contains(&name)) {
            // At most LABEL_NODE_BUDGET nodes: walking every descendant of every short
            // block made deep nesting quadratic.
            let mut text = String::new();
            let mut nodes = 0usize;
            for node in el.descendants() {
                nodes += 1;
                if nodes > LABEL_NODE_BUDGET {
                    break;
                }
                if let Node::Text(t) = node.value() {
                    text.push_str(t);
                }
            }
            self.label_nodes.set(self.label_nodes.get() + nodes);
            if nodes > LABEL_NODE_BUDGET {
                return false;
            }
            let label = text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace())
                .to_string();
            if BOILERPLATE_LABEL.is_match(&label) {
                return true;
            }
        }
        false
    }
}

/// Accumulates text with collapsed whitespace and requested line/paragraph breaks.
#[derive(Default)]
struct Out {
    buf: String,
    pending_break: u8,
    pending_space: bool,
}

impl Out {
    fn brk(&mut self, n: u8) {
        if n == 0 {
            return;
        }
        self.pending_break = self.pending_break.max(n);
        self.pending_space = false;
    }

    fn text(&mut self, s: &str, pre: bool) {
        for c in s.chars() {
            if matches!(
                c,
                '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{00AD}' | '\u{FEFF}'
            ) {
                continue;
            }
            if pre && c == '\n' {
                self.brk(1);
                continue;
            }
            if c.is_whitespace() {
                if self.pending_break == 0 && !self.buf.is_empty() && !self.buf.ends_with('\n') {
                    self.pending_space = true;
                }
                continue;
            }
            if self.pending_break > 0 {
                if !self.buf.is_empty() {
                    for _ in 0..self.pending_break {
                        self.buf.push('\n');
                    }
                }
                self.pending_break = 0;
                self.pending_space = false;
            } else if self.pending_space {
                self.buf.push(' ');
                self.pending_space = false;
            }
            self.buf.push(c);
        }
    }
}

fn break_strength(name: &str) -> u8 {
    if PARA_TAGS.contains(&name) {
        2
    } else if LINE_TAGS.contains(&name) {
        1
    } else {
        0
    }
}

enum Step<'a> {
    Enter(ego_tree::NodeRef<'a, Node>),
    Exit(u8, bool),
}

fn extract_text(root: ElementRef<'_>, ex: &Extractor<'_>) -> String {
    let mut out = Out::default();
    let mut stack = vec![Step::Enter(*root)];
    let mut pre_depth = 0usize;
    while let Some(step) = stack.pop() {
        match step {
            Step::Exit(strength, was_pre) => {
                if was_pre {
                    pre_depth -= 1;
                }
                out.brk(strength);
            }
            Step::Enter(node) => match node.value() {
                Node::Text(t) => out.text(t, pre_depth > 0),
                Node::Element(e) => {
                    let Some(el) = ElementRef::wrap(node) else {
                        continue;
                    };
                    if node.id() != root.id() && ex.drop(el) {
                        continue;
                    }
                    let strength = break_strength(e.name());
                    let is_pre = e.name() == "pre";
                    if is_pre {
                        pre_depth += 1;
                    }
                    out.brk(strength);
                    stack.push(Step::Exit(strength, is_pre));
                    let children: Vec<_> = node.children().collect();
                    for child in children.into_iter().rev() {
                        stack.push(Step::Enter(child));
                    }
                }
                _ => {}
            },
        }
    }
    out.buf
}

fn choose_root<'a>(doc: &'a Html, stats: &HashMap<NodeId, Stats>) -> ElementRef<'a> {
    let text_of = |e: &ElementRef<'_>| stats.get(&e.id()).map(|s| s.text).unwrap_or(0);
    let body = doc
        .select(&SEL_BODY)
        .next()
        .unwrap_or_else(|| doc.root_element());
    let body_text = text_of(&body);
    let good = |e: &ElementRef<'_>| {
        let t = text_of(e);
        t > 0 && (t * 5 >= body_text || t >= 500)
    };
    let best = |sel: &Selector| doc.select(sel).max_by_key(|e| text_of(e)).filter(good);
    best(&SEL_MAIN)
        .or_else(|| best(&SEL_ARTICLE))
        .unwrap_or(body)
}

// ---------------------------------------------------------------- metadata

/// Metadata sources gathered from one page.
#[derive(Default)]
struct MetaTags {
    /// First value per lowercased name/property/itemprop.
    first: HashMap<String, String>,
    /// All `citation_author` / `dc.creator` values, in order.
    authors: Vec<String>,
}

impl MetaTags {
    fn get(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.first.get(*k).cloned())
    }
}

fn collect_meta(doc: &Html) -> MetaTags {
    let mut m = MetaTags::default();
    for el in doc.select(&SEL_META) {
        let e = el.value();
        let Some(content) = e.attr("content").map(clean_ws).filter(|c| !c.is_empty()) else {
            continue;
        };
        for key in ["name", "property", "itemprop"] {
            if let Some(k) = e.attr(key) {
                let k = k.trim().to_ascii_lowercase();
                if matches!(
                    k.as_str(),
                    "citation_author" | "dc.creator" | "dcterms.creator"
                ) {
                    m.authors.push(content.clone());
                }
                m.first.entry(k).or_insert_with(|| content.clone());
            }
        }
    }
    m
}

fn clean_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The interesting fields of the best JSON-LD node.
#[derive(Default, Debug)]
struct JsonLd {
    headline: Option<String>,
    published: Option<String>,
    publisher: Option<String>,
    author: Option<String>,
    url: Option<String>,
}

const ARTICLE_TYPES: &[&str] = &[
    "NewsArticle",
    "Article",
    "Report",
    "BlogPosting",
    "ScholarlyArticle",
    "AnalysisNewsArticle",
    "ReportageNewsArticle",
    "OpinionNewsArticle",
    "BackgroundNewsArticle",
    "TechArticle",
    "SocialMediaPosting",
    "LiveBlogPosting",
    "GovernmentService",
    "PressRelease",
];
const PAGE_TYPES: &[&str] = &[
    "WebPage",
    "AboutPage",
    "ItemPage",
    "CollectionPage",
    "FAQPage",
];

fn flatten_ld<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten_ld(i, out)),
        Value::Object(map) => {
            if let Some(graph) = map.get("@graph") {
                flatten_ld(graph, out);
            }
            out.push(v);
        }
        _ => {}
    }
}

fn has_type(v: &Value, types: &[&str]) -> bool {
    let matches = |t: &Value| {
        t.as_str().is_some_and(|s| {
            let s = s.rsplit(['/', ':']).next().unwrap_or(s);
            types.contains(&s)
        })
    };
    match v.get("@type") {
        Some(Value::Array(ts)) => ts.iter().any(matches),
        Some(t) => matches(t),
        None => false,
    }
}

/// A name from a string, an object with `name`, an `@id` reference, or an array of those.
fn ld_names(v: &Value, ids: &HashMap<&str, &Value>, depth: u8) -> Vec<String> {
    if depth > 4 {
        return Vec::new();
    }
    match v {
        Value::String(s) => vec![clean_ws(s)],
        Value::Array(items) => items
            .iter()
            .flat_map(|i| ld_names(i, ids, depth + 1))
            .collect(),
        Value::Object(map) => {
            if let Some(name) = map.get("name") {
                return ld_names(name, ids, depth + 1);
            }
            match map
                .get("@id")
                .and_then(Value::as_str)
                .and_then(|id| ids.get(id))
            {
                Some(target) if !std::ptr::eq(*target, v) => ld_names(target, ids, depth + 1),
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect()
}

fn ld_url(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Object(m) => m.get("@id").or_else(|| m.get("url")).and_then(ld_url),
        Value::Array(items) => items.iter().find_map(ld_url),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

fn parse_json_ld(doc: &Html) -> JsonLd {
    let mut values = Vec::new();
    for el in doc.select(&SEL_JSONLD) {
        if !el
            .value()
            .attr("type")
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"))
        {
            continue;
        }
        let raw: String = el.text().collect();
        let raw = raw.trim();
        let raw = raw.strip_prefix("<!--").unwrap_or(raw);
        let raw = raw.strip_suffix("-->").unwrap_or(raw);
        let raw = raw
            .trim()
            .trim_start_matches("//<![CDATA[")
            .trim_end_matches("//]]>");
        if let Ok(v) = serde_json::from_str::<Value>(raw.trim()) {
            values.push(v);
        }
    }
    let mut nodes = Vec::new();
    for v in &values {
        flatten_ld(v, &mut nodes);
    }
    let ids: HashMap<&str, &Value> = nodes
        .iter()
        .filter_map(|n| Some((n.get("@id")?.as_str()?, *n)))
        .collect();
    let Some(node) = nodes
        .iter()
        .find(|n| has_type(n, ARTICLE_TYPES))
        .or_else(|| nodes.iter().find(|n| has_type(n, PAGE_TYPES)))
    else {
        return JsonLd::default();
    };
    let first = |key: &str| {
        node.get(key)
            .map(|v| ld_names(v, &ids, 0))
            .unwrap_or_default()
    };
    let join = |v: Vec<String>| (!v.is_empty()).then(|| v.join(", "));
    JsonLd {
        headline: first("headline")
            .into_iter()
            .next()
            .or_else(|| first("name").into_iter().next()),
        published: node
            .get("datePublished")
            .or_else(|| node.get("dateCreated"))
            .and_then(Value::as_str)
            .map(str::to_string),
        publisher: first("publisher").into_iter().next(),
        author: join(first("author")).or_else(|| join(first("creator"))),
        url: node
            .get("url")
            .and_then(ld_url)
            .or_else(|| node.get("mainEntityOfPage").and_then(ld_url)),
    }
}

fn absolutize(href: &str, base: Option<&str>) -> Option<String> {
    let href = href.trim();
    if let Ok(u) = url::Url::parse(href) {
        return matches!(u.scheme(), "http" | "https").then(|| u.to_string());
    }
    let base = url::Url::parse(base?).ok()?;
    base.join(href).ok().map(|u| u.to_string())
}

/// Drop a trailing " | Site" / " - Site" / " — Site" from a `<title>`.
fn strip_site_suffix(title: &str, site: Option<&str>) -> String {
    if let Some(site) = site {
        for sep in [" | ", " - ", " – ", " — ", " :: ", " · "] {
            if let Some(t) = title.strip_suffix(&format!("{sep}{site}")) {
                return t.trim().to_string();
            }
            if let Some(t) = title.strip_prefix(&format!("{site}{sep}")) {
                return t.trim().to_string();
            }
        }
    }
    title.to_string()
}

fn strip_by(s: String) -> String {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("by ") {
        t[3..].trim().to_string()
    } else {
        t.to_string()
    }
}

fn extract_meta(doc: &Html, base: Option<&str>) -> DocMeta {
    let tags = collect_meta(doc);
    let ld = parse_json_ld(doc);
    let publisher = ld.publisher.clone().or_else(|| {
        tags.get(&[
            "og:site_name",
            "dc.publisher",
            "dcterms.publisher",
            "citation_publisher",
            "publisher",
            "citation_journal_title",
            "application-name",
        ])
    });

    let doc_title = doc
        .select(&SEL_TITLE)
        .next()
        .map(|t| clean_ws(&t.text().collect::<String>()))
        .filter(|t| !t.is_empty())
        .map(|t| strip_site_suffix(&t, publisher.as_deref()));
    let title = ld
        .headline
        .clone()
        .or_else(|| {
            tags.get(&[
                "og:title",
                "dc.title",
                "dcterms.title",
                "citation_title",
                "twitter:title",
                "headline",
            ])
        })
        .or(doc_title)
        .or_else(|| {
            doc.select(&SEL_H1)
                .map(|h| clean_ws(&h.text().collect::<String>()))
                .find(|t| !t.is_empty())
        });

    let authors = if tags.authors.is_empty() {
        None
    } else {
        Some(tags.authors.join(", "))
    };
    let author = ld
        .author
        .clone()
        .or(authors)
        .or_else(|| {
            tags.get(&[
                "author",
                "article:author",
                "byl",
                "parsely-author",
                "sailthru.author",
            ])
            .filter(|a| !is_url(a))
            .map(strip_by)
        })
        .filter(|a| !a.is_empty());

    let time_el = || {
        doc.select(&SEL_TIME).find_map(|t| {
            t.value()
                .attr("datetime")
                .or_else(|| t.value().attr("content"))
                .map(str::to_string)
                .or_else(|| Some(t.text().collect::<String>()))
                .and_then(|s| parse_date(&s))
        })
    };
    let date_keys = [
        "article:published_time",
        "og:published_time",
        "published_time",
        "datepublished",
        "citation_publication_date",
        "citation_date",
        "dc.date.issued",
        "dcterms.issued",
        "dc.date",
        "dcterms.date",
        "dcterms.created",
        "date",
        "pubdate",
        "publishdate",
        "publish_date",
        "parsely-pub-date",
        "sailthru.date",
    ];
    let published = ld
        .published
        .as_deref()
        .and_then(parse_date)
        .or_else(|| {
            date_keys
                .iter()
                .find_map(|k| tags.first.get(*k).and_then(|v| parse_date(v)))
        })
        .or_else(time_el);

    let canonical = doc.select(&SEL_CANONICAL).find_map(|l| {
        let rel = l.value().attr("rel")?;
        rel.split_whitespace()
            .any(|r| r.eq_ignore_ascii_case("canonical"))
            .then(|| l.value().attr("href"))
            .flatten()
            .and_then(|h| absolutize(h, base))
    });
    let url = canonical
        .or_else(|| tags.get(&["og:url"]).and_then(|u| absolutize(&u, base)))
        .or_else(|| ld.url.as_deref().and_then(|u| absolutize(u, base)))
        .or_else(|| {
            tags.get(&["dc.identifier", "citation_public_url"])
                .filter(|u| is_url(u))
        });

    let kind = tags
        .get(&["verity:kind", "verity-kind", "source-kind", "kind"])
        .and_then(|k| SourceKind::parse(&k));
    DocMeta {
        title,
        publisher,
        author,
        published,
        url,
        kind,
        attribution: None,
    }
}

/// Parse an HTML page: (metadata, main text). `base` resolves relative canonical URLs.
/// Read a page: refused (`too_deep`) when it nests deeper than [`MAX_HTML_DEPTH`],
/// before the (quadratic in depth) tree builder sees it.
pub(crate) fn read_html_capped(
    html: &str,
    base: Option<&str>,
    location: &str,
) -> Result<(DocMeta, String), crate::IngestError> {
    if scan_depth(html, MAX_HTML_DEPTH).exceeds(MAX_HTML_DEPTH) {
        return Err(crate::IngestError::TooDeep {
            location: location.to_string(),
            limit: MAX_HTML_DEPTH,
        });
    }
    Ok(read_html(html, base))
}

pub(crate) fn read_html(html: &str, base: Option<&str>) -> (DocMeta, String) {
    let (meta, text, _) = read_html_counted(html, base);
    (meta, text)
}

/// [`read_html`], also giving the nodes visited looking for boilerplate labels.
fn read_html_counted(html: &str, base: Option<&str>) -> (DocMeta, String, usize) {
    let doc = Html::parse_document(html);
    let meta = extract_meta(&doc, base);
    let stats = compute_stats(&doc);
    let root = choose_root(&doc, &stats);
    let ex = Extractor {
        root_text: stats.get(&root.id()).map(|s| s.text).unwrap_or(0),
        stats: &stats,
        label_nodes: Cell::new(0),
    };
    let text = extract_text(root, &ex);
    (meta, text.trim().to_string(), ex.label_nodes.get())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn built_in_selectors_parse() {
        for s in [
            &SEL_MAIN,
            &SEL_ARTICLE,
            &SEL_BODY,
            &SEL_META,
            &SEL_TITLE,
            &SEL_CANONICAL,
            &SEL_JSONLD,
            &SEL_H1,
            &SEL_TIME,
        ] {
            Lazy::force(s);
        }
    }

    #[test]
    fn keeps_blocks_as_paragraphs_and_lines() {
        let (_, text) = read_html(
            "<body><h1>Head</h1><p>One  <b>bold</b>\n word.</p><ul><li>a</li><li>b</li></ul>\
             <table><tr><td>c1</td><td>c2</td></tr></table><dl><dt>Term</dt><dd>Def</dd></dl></body>",
            None,
        );
        assert_eq!(
            text,
            "Head\n\nOne bold word.\n\na\nb\n\nc1\nc2\n\nTerm\nDef"
        );
    }

    #[test]
    fn drops_furniture_and_prefers_main() {
        let html = r#"<html><head><title>T</title><style>p{}</style></head><body>
            <div class="cookie-banner">We use cookies. Accept?</div>
            <nav><a href="/">Home</a><a href="/a">About</a></nav>
            <main><p>Real text of the article, long enough to count as content here.</p>
              <div class="share-bar">Share on Things</div>
              <h3>Quick links</h3>
              <ul><li><a href="/x">Rates</a></li><li><a href="/y">Permits</a></li></ul>
              <p>Second real paragraph &amp; an entity &eacute;.</p>
              <script>var x = 1;</script>
            </main>
            <footer>Copyright</footer></body></html>"#;
        let (_, text) = read_html(html, None);
        assert_eq!(
            text,
            "Real text of the article, long enough to count as content here.\n\nSecond real paragraph & an entity é."
        );
    }

    #[test]
    fn broken_html_still_yields_text() {
        let (_, text) = read_html("<p>First <b>unclosed <p>Second &lt;ok&gt;<div>third", None);
        assert_eq!(text, "First unclosed\n\nSecond <ok>\n\nthird");
    }

    #[test]
    fn json_ld_graph_with_references() {
        let html = r##"<html><head><script type="application/ld+json">
          {"@context":"https://schema.org","@graph":[
            {"@type":"Organization","@id":"#org","name":"Brackenford Herald"},
            {"@type":"WebPage","@id":"https://h.example/p","name":"Page name"},
            {"@type":["NewsArticle"],"headline":"Dam repairs stall","datePublished":"2023-11-02T08:00:00+00:00",
             "publisher":{"@id":"#org"},"author":[{"@type":"Person","name":"Rae Tull"},{"name":"Ok Ban"}],
             "mainEntityOfPage":{"@id":"https://h.example/dam"}}]}
        </script></head><body><p>x</p></body></html>"##;
        let (meta, _) = read_html(html, None);
        assert_eq!(meta.title.as_deref(), Some("Dam repairs stall"));
        assert_eq!(meta.publisher.as_deref(), Some("Brackenford Herald"));
        assert_eq!(meta.author.as_deref(), Some("Rae Tull, Ok Ban"));
        assert_eq!(meta.published, NaiveDate::from_ymd_opt(2023, 11, 2));
        assert_eq!(meta.url.as_deref(), Some("https://h.example/dam"));
    }

    #[test]
    fn meta_tags_and_title_suffix() {
        let html = r#"<head><title>Ferry fares rise | Kellbridge Courier</title>
          <meta property="og:site_name" content="Kellbridge Courier">
          <meta name="author" content="By Nell Orrin">
          <meta name="citation_publication_date" content="2022/07/14">
          <meta name="verity:kind" content="opinion">
          <link rel="canonical" href="/ferry"></head><body><p>x</p></body>"#;
        let (meta, _) = read_html(html, Some("https://courier.example/news/ferry?utm=1"));
        assert_eq!(meta.title.as_deref(), Some("Ferry fares rise"));
        assert_eq!(meta.publisher.as_deref(), Some("Kellbridge Courier"));
        assert_eq!(meta.author.as_deref(), Some("Nell Orrin"));
        assert_eq!(meta.published, NaiveDate::from_ymd_opt(2022, 7, 14));
        assert_eq!(meta.url.as_deref(), Some("https://courier.example/ferry"));
        assert_eq!(meta.kind, Some(SourceKind::Opinion));
    }

    #[test]
    fn link_dense_blocks_go_but_prose_with_a_link_stays() {
        let html = r#"<body><article>
          <p>The council said the <a href="/r">report</a> was late by three weeks and would be published soon.</p>
          <div><a href="/1">One story</a> | <a href="/2">Two story</a> | <a href="/3">Three</a></div>
          <p>Written dates like <time datetime="2021-05-06">6 May</time> are fine.</p>
        </article></body>"#;
        let (meta, text) = read_html(html, None);
        assert_eq!(
            text,
            "The council said the report was late by three weeks and would be published soon.\n\nWritten dates like 6 May are fine."
        );
        assert_eq!(meta.published, NaiveDate::from_ymd_opt(2021, 5, 6));
    }

    #[test]
    fn wrapper_with_furniture_word_is_kept_when_it_holds_the_text() {
        let html = r#"<body><div class="layout has-sidebar"><p>All of the article text lives in this wrapper, which is long.</p></div>
          <div class="sidebar">Side</div></body>"#;
        let (_, text) = read_html(html, None);
        assert_eq!(
            text,
            "All of the article text lives in this wrapper, which is long."
        );
    }

    #[test]
    fn pre_keeps_lines() {
        let (_, text) = read_html("<body><pre>a  b\nc</pre></body>", None);
        assert_eq!(text, "a b\nc");
    }

    fn nested_divs(depth: usize) -> String {
        let mut html = String::from("<html><body>");
        html.push_str(&"<div>".repeat(depth));
        html.push_str("deep text");
        html.push_str(&"</div>".repeat(depth));
        html.push_str("<p>The weir at Kellbridge will close for repairs.</p></body></html>");
        html
    }

    #[test]
    fn depth_scan_stops_at_the_cap() {
        // Issue 14 item 3: 100,000 nested <div>s. The scan stops one tag past the cap
        // instead of reading (or building a tree of) all 200,000 tags.
        let html = nested_divs(100_000);
        let scan = scan_depth(&html, MAX_HTML_DEPTH);
        assert!(scan.exceeds(MAX_HTML_DEPTH));
        assert_eq!(scan.depth, MAX_HTML_DEPTH + 1);
        assert!(scan.tags <= MAX_HTML_DEPTH + 4, "{scan:?}");
        let e = read_html_capped(&html, None, "deep.html").unwrap_err();
        assert_eq!(e.reason_code(), "too_deep");
        let msg = e.to_string();
        assert!(msg.contains("deep.html") && msg.contains("512"), "{msg}");
    }

    #[test]
    fn depth_scan_is_not_fooled_by_sloppy_or_raw_text() {
        // Thousands of unclosed <p>/<li>, void elements, and tags inside script, style,
        // comments and textarea are not nesting.
        let mut html = String::from("<body><ul>");
        html.push_str(&"<li>item <p>para <br><img src=x>".repeat(5_000));
        html.push_str("<script>");
        html.push_str(&"if (a<b) document.write('<div>');".repeat(2_000));
        html.push_str("</script><style>div>p{}</style><!--");
        html.push_str(&"<div>".repeat(2_000));
        html.push_str("--><textarea>");
        html.push_str(&"<div>".repeat(2_000));
        html.push_str("</textarea><svg>");
        html.push_str(&"<path d=\"x\"/>".repeat(2_000));
        html.push_str("</svg></ul>");
        html.push_str(&"<div><span>x</span></div>".repeat(5_000));
        html.push_str("</body>");
        let scan = scan_depth(&html, MAX_HTML_DEPTH);
        assert!(!scan.exceeds(MAX_HTML_DEPTH), "{scan:?}");
        assert!(scan.depth <= 4, "{scan:?}");
        assert!(read_html_capped(&html, None, "sloppy.html").is_ok());
        // Real nesting just under the cap is read.
        let ok = nested_divs(MAX_HTML_DEPTH - 4);
        let (_, text) = read_html_capped(&ok, None, "ok.html").unwrap();
        assert!(
            text.contains("deep text") && text.contains("Kellbridge"),
            "{text}"
        );
    }

    #[test]
    fn label_search_is_linear_in_depth() {
        // Under the cap, extraction's boilerplate-label check looks at a bounded number
        // of nodes per element; it used to walk every descendant of every short block
        // (500 * 500 / 2 = 125,000 nodes here).
        let depth = 500;
        let (_, text, visited) = read_html_counted(&nested_divs(depth), None);
        assert!(text.contains("deep text"));
        assert!(
            visited <= (depth + 8) * (LABEL_NODE_BUDGET + 1),
            "visited {visited}"
        );
    }
}
