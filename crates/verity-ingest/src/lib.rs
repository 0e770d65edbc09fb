//! Verity's readers: files, folders and URLs in, [`Document`]s out; and the chunker
//! that splits a document's text into sentence-aware passages with exact character
//! offsets.
//!
//! This crate stores nothing. The engine calls it to read inputs, then stores and
//! indexes what comes back.
//!
//! | Input | Reader | Metadata |
//! |---|---|---|
//! | `.txt`, `.text` | encoding detected (UTF-8, BOMs, UTF-16, else a guess: Latin-1/Windows-1252 and friends); binary junk rejected | header lines (`Subject:`, `Date:`, `From:`, `By ...`, a capitalised letterhead); title = first short line, else file stem |
//! | `.md`, `.markdown` | optional YAML front matter; markup stripped lightly | `title`, `publisher`, `author`, `published`, `url`, `kind`; title falls back to the first `# ` heading |
//! | `.html`, `.htm`, `.xhtml` | main content only (see [`html`](crate#html)) | JSON-LD, OpenGraph, Dublin Core, `citation_*`, `<title>`, canonical link |
//! | `.pdf` | text via `pdf-extract`, panics caught | Info dictionary: `Title`, `Author`, `CreationDate` |
//! | `.jsonl`, `.ndjson` | one document per line, `text` required | `title`, `url`, `publisher`, `published`, `author`, `kind` |
//! | `http(s)://` | [`fetch_url`]: by `Content-Type`, then extension, then sniffing | as above; `url` is the final URL |
//!
//! Every document gets a [`SourceKind`](verity_types::SourceKind) from [`KindRules`] (explicit `kind` first, then
//! publisher and host tables, extendable from TOML — see [`KindRules`] for the format).
//!
//! ## HTML
//! Boilerplate (navigation, menus, breadcrumbs, cookie banners, share bars, "related" and
//! "quick links" lists, headers, footers, forms) is removed by tag, role, class/id words
//! and link density; `<main>` / `<article>` is preferred when present.
//!
//! ## Hostile input
//! * Only regular files are read. The type is checked after following symbolic links
//!   and before opening, so a FIFO is never opened (it would block) and `/dev/zero`
//!   (length 0, endless) is never read; [`walk`] lists such files as skipped, and a
//!   path to one given directly is a `special_file` error.
//! * Every file is read through `take(max_bytes + 1)`: a file that grows, or whose
//!   length is not what it says, stops one byte past [`ReadOptions::max_bytes`]
//!   (`--max-size-mb`, 50 MB by default) with a `too_large` error naming the file, the
//!   cap and the setting.
//! * HTML nested deeper than [`MAX_HTML_DEPTH`] (512) elements is refused
//!   (`too_deep`) after one linear tokenizer pass, before the tree builder (quadratic
//!   in depth) sees it.
//! * PDFs are checked before `pdf-extract` sees them ([`PdfLimits`]): every compressed
//!   stream is inflated through a counter capped at
//!   [`PdfLimits::max_decompressed_bytes`] (64 MiB, `--max-inflate-mb`) — first over
//!   the raw bytes, before `lopdf` inflates object and cross-reference streams, then
//!   inside `lopdf`'s loader, where an object filter decodes each object stream's
//!   filter chain under the budget and counts the objects its index lists (against
//!   [`PdfLimits::max_objects`]) before `lopdf` unpacks it, then over each parsed
//!   stream's filter chain (Flate, LZW, ASCII85) — so a decompression bomb stops one
//!   byte past the cap (`decompressed_too_large`). The page tree, `/Parent` chains and
//!   form XObjects (`Do`) are walked with visited sets and depth caps: a cycle is
//!   `corrupt_pdf`; more pages or objects than the caps, or more content to run than the
//!   inflate cap, is `pdf_too_complex`. Left: `lopdf` loads an *encrypted* PDF without
//!   calling the filter, and decodes cross-reference streams before any object is read,
//!   so there only the raw-byte pass and the parse worker's memory cap hold.
//!
//! ## Errors
//! A bad input yields an [`IngestError`] naming the file or URL and the reason, with a
//! stable [`IngestError::reason_code`] for summaries. For JSONL a bad line is one `Err`
//! among the other lines' `Ok`s.
//!
//! ```
//! use verity_ingest::{chunk, read_bytes, ReadOptions};
//! use verity_types::{char_slice, Format, SourceKind};
//!
//! let md = b"---\ntitle: Weir repairs\npublisher: Kellbridge Gazette\npublished: 2024-03-05\n---\n\
//! The weir at Kellbridge will close for repairs. Work starts on Monday.";
//! let doc = read_bytes(md, "weir.md", Some(Format::Markdown), &ReadOptions::default())
//!     .remove(0)
//!     .unwrap();
//! assert_eq!(doc.meta.title.as_deref(), Some("Weir repairs"));
//! assert_eq!(doc.meta.kind, Some(SourceKind::News));
//! for c in chunk(&doc.text) {
//!     assert_eq!(char_slice(&doc.text, c.start, c.end), Some(c.text));
//! }
//! ```

// Tests may unwrap (HELPERS.md); library code may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod chunk;
mod date;
mod decode;
mod error;
mod fetch;
mod fingerprint;
mod html;
mod isolate;
mod kind;
mod markdown;
mod pdf;
#[cfg(test)]
mod pdf_fixtures;
mod pdf_inflate;
mod pdf_tree;
mod plaintext;

pub use chunk::{chunk, Chunk, MAX_WORDS, MIN_WORDS, TARGET_WORDS};
pub use date::parse_date;
pub use error::IngestError;
pub use fetch::{fetch_bytes, is_non_public, is_url, FetchOptions, Fetched};
pub use fingerprint::{fingerprint, Fingerprint, NEAR_DUP_THRESHOLD};
pub use isolate::{
    serve_worker, Isolation, IsolationScope, WorkerError, DEFAULT_PARSE_MEMORY,
    DEFAULT_PARSE_TIMEOUT,
};
pub use kind::KindRules;
pub use verity_text::sentences;

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use verity_types::{DocMeta, Document, Format};

/// Default cap on the size of one input file.
pub const DEFAULT_MAX_BYTES: u64 = 50 * 1024 * 1024;

/// The setting that raises [`ReadOptions::max_bytes`] from the command line, named in
/// `too_large` errors.
pub const MAX_BYTES_SETTING: &str = "`--max-size-mb`";

pub use html::MAX_HTML_DEPTH;

/// Default cap on the bytes a PDF's compressed streams may expand to, per document.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 64 * 1024 * 1024;
/// Default cap on the pages of one PDF.
pub const DEFAULT_MAX_PDF_PAGES: usize = 10_000;
/// Default cap on the objects of one PDF.
pub const DEFAULT_MAX_PDF_OBJECTS: usize = 500_000;
/// Page-tree levels (and `/Parent` links) followed before a PDF is refused; fixed.
pub const MAX_PDF_TREE_DEPTH: usize = 64;
/// Form XObjects nested inside each other (`Do` inside a form) before a PDF is refused.
pub const MAX_PDF_FORM_DEPTH: usize = 32;
/// `Do` operators (form and image calls, counted each time they run) per PDF.
pub const MAX_PDF_XOBJECT_CALLS: u64 = 100_000;

/// The setting that raises [`PdfLimits::max_decompressed_bytes`], named in errors.
pub const MAX_INFLATE_SETTING: &str = "`--max-inflate-mb`";
/// The setting that raises [`PdfLimits::max_pages`], named in errors.
pub const MAX_PDF_PAGES_SETTING: &str = "`--max-pdf-pages`";
/// The setting that raises [`PdfLimits::max_objects`], named in errors.
pub const MAX_PDF_OBJECTS_SETTING: &str = "`--max-pdf-objects`";

/// Caps on what one PDF may cost, checked before `pdf-extract` sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PdfLimits {
    /// Bytes that compressed streams may expand to, per document (`decompressed_too_large`
    /// past it). Counted while inflating, so a bomb never expands past the cap; also the
    /// cap on the content the text extractor runs (pages and forms, each time used).
    pub max_decompressed_bytes: u64,
    /// Pages in the page tree (`pdf_too_complex` past it).
    pub max_pages: usize,
    /// Objects in the document (`pdf_too_complex` past it).
    pub max_objects: usize,
}

impl Default for PdfLimits {
    fn default() -> Self {
        PdfLimits {
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
            max_pages: DEFAULT_MAX_PDF_PAGES,
            max_objects: DEFAULT_MAX_PDF_OBJECTS,
        }
    }
}

/// How to read files.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Files larger than this are rejected (`too_large`): before opening when the file
    /// says it is larger, and while reading (one byte past the cap) when it grows or
    /// its length is not known.
    pub max_bytes: u64,
    /// What raises `max_bytes`, for the `too_large` message (the CLI flag by default).
    pub max_bytes_setting: &'static str,
    /// Publisher/host → kind rules.
    pub kind_rules: KindRules,
    /// Parse the formats it covers in a worker process (`None`: everything in process).
    pub isolation: Option<Isolation>,
    /// Caps on PDF expansion and structure.
    pub pdf: PdfLimits,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            max_bytes: DEFAULT_MAX_BYTES,
            max_bytes_setting: MAX_BYTES_SETTING,
            kind_rules: KindRules::default(),
            isolation: None,
            pdf: PdfLimits::default(),
        }
    }
}

/// The format a file extension stands for, if Verity reads it.
pub fn format_for_extension(ext: &str) -> Option<Format> {
    Some(match ext.to_ascii_lowercase().as_str() {
        "txt" | "text" => Format::Text,
        "md" | "markdown" | "mdown" | "mkd" => Format::Markdown,
        "html" | "htm" | "xhtml" => Format::Html,
        "pdf" => Format::Pdf,
        "jsonl" | "ndjson" => Format::Jsonl,
        _ => return None,
    })
}

/// The format of a path by its extension.
pub fn format_for_path(path: &Path) -> Option<Format> {
    path.extension()
        .and_then(|e| e.to_str())
        .and_then(format_for_extension)
}

/// Guess a format from content alone (used when the extension says nothing).
pub fn sniff_format(bytes: &[u8]) -> Format {
    if bytes.starts_with(b"%PDF-") {
        return Format::Pdf;
    }
    let head = &bytes[..bytes.len().min(1024)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let lower: Vec<u8> = head[start..]
        .iter()
        .take(64)
        .map(u8::to_ascii_lowercase)
        .collect();
    if lower.starts_with(b"<!doctype html")
        || lower.starts_with(b"<html")
        || lower.starts_with(b"<head")
    {
        return Format::Html;
    }
    if head.starts_with(b"---\n") || head.starts_with(b"---\r\n") {
        return Format::Markdown;
    }
    if lower.starts_with(b"{") {
        let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        if serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(first_line)
            .is_ok_and(|m| m.contains_key("text"))
        {
            return Format::Jsonl;
        }
    }
    Format::Text
}

/// Everything a reader needs besides the bytes.
struct Input<'a> {
    location: &'a str,
    /// Charset from an HTTP `Content-Type`.
    charset: Option<&'a str>,
    /// Base URL for relative links (fetched pages).
    base_url: Option<&'a str>,
    /// Title of last resort: the file stem or last URL segment.
    fallback_title: Option<String>,
    /// The URL a fetched document was finally read from; it becomes `meta.url`.
    final_url: Option<&'a str>,
}

fn fallback_title_for(location: &str) -> Option<String> {
    if let Ok(u) = url::Url::parse(location) {
        if matches!(u.scheme(), "http" | "https") {
            let seg = u
                .path_segments()
                .and_then(|mut s| s.rfind(|p| !p.is_empty()).map(str::to_string));
            return seg
                .map(|s| {
                    Path::new(&s)
                        .file_stem()
                        .map(|x| x.to_string_lossy().into_owned())
                        .unwrap_or(s)
                })
                .or_else(|| u.host_str().map(str::to_string));
        }
    }
    Path::new(location)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
}

/// Read one file (format by extension, then content sniffing). JSONL yields one
/// document per line; a bad line is an `Err` in the `Vec` and the others still come
/// back. Every other format yields exactly one element.
pub fn read_file(path: &Path, opts: &ReadOptions) -> Vec<Result<Document, IngestError>> {
    vec_or_err(read_file_inner(path, opts))
}

fn vec_or_err(
    r: Result<Vec<Result<Document, IngestError>>, IngestError>,
) -> Vec<Result<Document, IngestError>> {
    r.unwrap_or_else(|e| vec![Err(e)])
}

fn read_file_inner(
    path: &Path,
    opts: &ReadOptions,
) -> Result<Vec<Result<Document, IngestError>>, IngestError> {
    let location = path.display().to_string();
    let unreadable = |e: std::io::Error| IngestError::Unreadable {
        location: location.clone(),
        detail: e.to_string(),
    };
    // `metadata` follows symbolic links: the type checked is the target's.
    let meta = std::fs::metadata(path).map_err(unreadable)?;
    if meta.is_dir() {
        return Err(IngestError::Unsupported {
            location: location.clone(),
            detail: "it is a folder; list its files with `walk` first".into(),
        });
    }
    // Checked before opening: opening a FIFO for reading blocks until a writer comes.
    refuse_special(&meta, &location)?;
    if meta.len() > opts.max_bytes {
        return Err(IngestError::TooLarge {
            location: location.clone(),
            size: Some(meta.len()),
            limit: opts.max_bytes,
            setting: opts.max_bytes_setting,
        });
    }
    let file = open_regular(path).map_err(unreadable)?;
    // The path may have been swapped for something else since `metadata`: check what
    // was actually opened.
    let meta = file.metadata().map_err(unreadable)?;
    refuse_special(&meta, &location)?;
    let bytes = read_capped(file, meta.len(), opts, &location)?;
    let input = Input {
        location: &location,
        charset: None,
        base_url: None,
        fallback_title: fallback_title_for(&location),
        final_url: None,
    };
    Ok(read_input(&bytes, format_for_path(path), &input, opts))
}

/// What kind of special file this is, or `None` for a regular file (or a folder).
fn special_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    let ft = meta.file_type();
    if ft.is_file() || ft.is_dir() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if ft.is_char_device() {
            return Some("a character device");
        }
        if ft.is_block_device() {
            return Some("a block device");
        }
        if ft.is_socket() {
            return Some("a socket");
        }
    }
    Some("a special file")
}

fn refuse_special(meta: &std::fs::Metadata, location: &str) -> Result<(), IngestError> {
    match special_kind(meta) {
        Some(kind) => Err(IngestError::SpecialFile {
            location: location.to_string(),
            kind,
        }),
        None => Ok(()),
    }
}

/// Open for reading without ever blocking: should a FIFO have been swapped in after the
/// type check, `O_NONBLOCK` makes the open return at once (and the type check on the
/// handle then refuses it). On a regular file the flag changes nothing.
fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NONBLOCK);
    }
    o.open(path)
}

/// Read all of `r`, but never more than `opts.max_bytes`: reading stops one byte past
/// the cap, whatever the file claimed its size was (it may grow, or be a device that
/// reports 0). `size_hint` only presizes the buffer.
fn read_capped<R: std::io::Read>(
    r: R,
    size_hint: u64,
    opts: &ReadOptions,
    location: &str,
) -> Result<Vec<u8>, IngestError> {
    use std::io::Read;
    let cap = opts.max_bytes;
    let presize = usize::try_from(size_hint.min(cap).saturating_add(1)).unwrap_or(usize::MAX);
    let mut bytes = Vec::with_capacity(presize.min(64 * 1024 * 1024));
    r.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| IngestError::Unreadable {
            location: location.to_string(),
            detail: e.to_string(),
        })?;
    if bytes.len() as u64 > cap {
        return Err(IngestError::TooLarge {
            location: location.to_string(),
            size: None,
            limit: cap,
            setting: opts.max_bytes_setting,
        });
    }
    Ok(bytes)
}

/// Read bytes that came from `location` (a path or URL, used in messages and
/// `Document::location`). `format` overrides sniffing, except that bytes starting with
/// `%PDF-` are always read as PDF.
pub fn read_bytes(
    bytes: &[u8],
    location: &str,
    format: Option<Format>,
    opts: &ReadOptions,
) -> Vec<Result<Document, IngestError>> {
    if bytes.len() as u64 > opts.max_bytes {
        return vec![Err(IngestError::TooLarge {
            location: location.to_string(),
            size: Some(bytes.len() as u64),
            limit: opts.max_bytes,
            setting: opts.max_bytes_setting,
        })];
    }
    let input = Input {
        location,
        charset: None,
        base_url: None,
        fallback_title: fallback_title_for(location),
        final_url: None,
    };
    read_input(bytes, format, &input, opts)
}

fn read_input(
    bytes: &[u8],
    hint: Option<Format>,
    input: &Input<'_>,
    opts: &ReadOptions,
) -> Vec<Result<Document, IngestError>> {
    let format = if bytes.starts_with(b"%PDF-") {
        Format::Pdf
    } else {
        hint.unwrap_or_else(|| sniff_format(bytes))
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return vec![Err(IngestError::Empty {
            location: input.location.to_string(),
            detail: if bytes.is_empty() {
                "the file is empty".into()
            } else {
                "it holds only whitespace".into()
            },
        })];
    }
    if format == Format::Jsonl {
        return read_jsonl(bytes, input, opts);
    }
    vec![read_single(bytes, format, input, opts)
        .map(|(meta, text)| finish(meta, text, format, input, opts))]
}

/// Read one non-JSONL document into (metadata, text): in a worker process when
/// `opts.isolation` covers its format, else here.
fn read_single(
    bytes: &[u8],
    format: Format,
    input: &Input<'_>,
    opts: &ReadOptions,
) -> Result<(DocMeta, String), IngestError> {
    match &opts.isolation {
        Some(iso) if iso.covers(format) => isolate::read_in_worker(bytes, format, input, opts, iso),
        _ => read_single_here(bytes, format, input, opts),
    }
}

/// Read one non-JSONL document into (metadata, text) in this process.
fn read_single_here(
    bytes: &[u8],
    format: Format,
    input: &Input<'_>,
    opts: &ReadOptions,
) -> Result<(DocMeta, String), IngestError> {
    let location = input.location;
    let (meta, text) = match format {
        Format::Pdf => pdf::read_pdf(bytes, location, &opts.pdf)?,
        Format::Html => {
            let declared = input
                .charset
                .map(str::to_string)
                .or_else(|| decode::html_meta_charset(bytes));
            let s = decode::decode_text(bytes, declared.as_deref(), location)?;
            html::read_html_capped(&s, input.base_url, location)?
        }
        Format::Markdown => {
            let s = decode::decode_text(bytes, input.charset, location)?;
            markdown::read_markdown(&s, location)?
        }
        Format::Text | Format::Jsonl => {
            let s = decode::decode_text(bytes, input.charset, location)?;
            let text = s.trim().to_string();
            (plaintext::text_meta(&text), text)
        }
    };
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(IngestError::Empty {
            location: location.to_string(),
            detail: match format {
                Format::Html => "no text left once markup and page furniture were removed".into(),
                Format::Pdf => "no extractable text (a scanned PDF? run OCR on it first)".into(),
                Format::Markdown => "no text after the front matter".into(),
                _ => "it holds only whitespace".into(),
            },
        });
    }
    Ok((meta, text))
}

fn finish(
    mut meta: DocMeta,
    text: String,
    format: Format,
    input: &Input<'_>,
    opts: &ReadOptions,
) -> Document {
    if meta.title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        meta.title = input.fallback_title.clone();
    }
    meta.attribution = None;
    if let Some(url) = input.final_url {
        // A JSONL line's own `url` is more specific than the file it came in.
        if format != Format::Jsonl || meta.url.is_none() {
            meta.url = Some(url.to_string());
        }
    }
    let kind = opts.kind_rules.classify(&meta, input.location);
    meta.kind = Some(kind);
    Document {
        location: input.location.to_string(),
        format,
        meta,
        text,
    }
}

fn json_field_str(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(json_field_str).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        serde_json::Value::Object(m) => m.get("name").and_then(json_field_str),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn read_jsonl_line(
    line: &[u8],
    location: &str,
    lineno: usize,
    input: &Input<'_>,
    opts: &ReadOptions,
) -> Result<Document, IngestError> {
    let bad = |detail: String| IngestError::BadJson {
        location: location.to_string(),
        detail,
    };
    let s = std::str::from_utf8(line).map_err(|e| bad(format!("not UTF-8 ({e})")))?;
    let v: serde_json::Value = serde_json::from_str(s).map_err(|e| bad(e.to_string()))?;
    let serde_json::Value::Object(obj) = v else {
        return Err(bad(format!("expected an object, found {}", json_type(&v))));
    };
    let text = match obj.get("text") {
        // Normalised before trimming: a leading BOM that `normalize_newlines` drops can
        // hide whitespace behind it.
        Some(serde_json::Value::String(t)) => decode::normalize_newlines(t).trim().to_string(),
        Some(other) => {
            return Err(bad(format!(
                "\"text\" must be a string, found {}",
                json_type(other)
            )))
        }
        None => return Err(bad("missing the \"text\" field".into())),
    };
    if text.trim().is_empty() {
        return Err(IngestError::Empty {
            location: location.to_string(),
            detail: "its \"text\" is blank".into(),
        });
    }
    let mut meta = DocMeta::default();
    // `published` is applied before `date` so it wins.
    for key in [
        "title",
        "publisher",
        "source",
        "author",
        "authors",
        "published",
        "date",
        "url",
        "kind",
    ] {
        if let Some(v) = obj.get(key) {
            markdown::meta_field(&mut meta, key, json_field_str(v), location)?;
        }
    }
    let line_input = Input {
        location,
        charset: None,
        base_url: None,
        fallback_title: input
            .fallback_title
            .as_ref()
            .map(|t| format!("{t} (line {lineno})")),
        final_url: input.final_url,
    };
    Ok(finish(meta, text, Format::Jsonl, &line_input, opts))
}

fn read_jsonl(
    bytes: &[u8],
    input: &Input<'_>,
    opts: &ReadOptions,
) -> Vec<Result<Document, IngestError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let lines: Vec<(usize, &[u8])> = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim_ascii()))
        .filter(|(_, line)| !line.is_empty())
        .collect();
    // One JSONL file can hold a whole corpus: parse its lines in parallel (in order).
    let mut out: Vec<Result<Document, IngestError>> = lines
        .into_par_iter()
        .map(|(lineno, line)| {
            let location = format!("{}#L{lineno}", input.location);
            read_jsonl_line(line, &location, lineno, input, opts)
        })
        .collect();
    if out.is_empty() {
        out.push(Err(IngestError::Empty {
            location: input.location.to_string(),
            detail: "no JSON lines".into(),
        }));
    }
    out
}

/// The format of a fetched body: `Content-Type` first, then the URL's extension, then
/// the content itself. `None` when the server says it is something Verity cannot read.
fn format_for_fetched(
    content_type: Option<&str>,
    url: &str,
    body: &[u8],
) -> Result<Option<Format>, String> {
    let by_ext = url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.path_segments()
                .and_then(|mut s| s.next_back().map(str::to_string))
        })
        .and_then(|last| format_for_path(Path::new(&last)));
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default();
    Ok(match mime.as_str() {
        "text/html" | "application/xhtml+xml" => Some(Format::Html),
        "application/pdf" | "application/x-pdf" => Some(Format::Pdf),
        "text/markdown" | "text/x-markdown" => Some(Format::Markdown),
        "application/jsonl"
        | "application/x-ndjson"
        | "application/jsonlines"
        | "application/x-jsonlines" => Some(Format::Jsonl),
        "text/plain" => Some(match by_ext {
            Some(f @ (Format::Markdown | Format::Jsonl)) => f,
            _ => Format::Text,
        }),
        "" | "application/octet-stream" | "binary/octet-stream" => {
            by_ext.or_else(|| Some(sniff_format(body)))
        }
        m if m.starts_with("text/") => by_ext.or(Some(Format::Text)),
        m => {
            if body.starts_with(b"%PDF-") {
                Some(Format::Pdf)
            } else if let Some(f) = by_ext {
                Some(f)
            } else {
                return Err(format!("the server sent `{m}`, which Verity cannot read (it reads HTML, text, Markdown, PDF and JSONL)"));
            }
        }
    })
}

fn charset_of(content_type: Option<&str>) -> Option<String> {
    content_type?.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Fetch an `http(s)` URL (see [`FetchOptions`] and [`fetch_bytes`] for the safety
/// rules) and read it as HTML, plain text, Markdown, PDF or JSONL (by `Content-Type`,
/// then extension, then content). `location` and `meta.url` are the final URL after
/// redirects. A JSONL body yields its first good line only; use [`fetch_url_all`] for
/// every line.
pub fn fetch_url(
    url: &str,
    opts: &FetchOptions,
    ropts: &ReadOptions,
) -> Result<Document, IngestError> {
    let mut docs = fetch_url_all(url, opts, ropts)?;
    let first_ok = docs.iter().position(Result::is_ok).unwrap_or(0);
    docs.swap_remove(first_ok)
}

/// Like [`fetch_url`], returning every document (JSONL bodies give one per line).
pub fn fetch_url_all(
    url: &str,
    opts: &FetchOptions,
    ropts: &ReadOptions,
) -> Result<Vec<Result<Document, IngestError>>, IngestError> {
    let fetched = fetch_bytes(url, opts)?;
    let format = format_for_fetched(
        fetched.content_type.as_deref(),
        &fetched.final_url,
        &fetched.body,
    )
    .map_err(|detail| IngestError::Unsupported {
        location: fetched.final_url.clone(),
        detail,
    })?;
    let charset = charset_of(fetched.content_type.as_deref());
    let input = Input {
        location: &fetched.final_url,
        charset: charset.as_deref(),
        base_url: Some(&fetched.final_url),
        fallback_title: fallback_title_for(&fetched.final_url),
        final_url: Some(&fetched.final_url),
    };
    // The body is already capped by `opts.max_bytes`.
    Ok(read_input(&fetched.body, format, &input, ropts))
}

/// One path `walk` left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// What [`walk`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalkResult {
    /// Ingestible files, sorted by path.
    pub files: Vec<PathBuf>,
    /// Files with unknown extensions, unreadable entries and links not followed.
    pub skipped: Vec<Skipped>,
}

/// Recursively list ingestible files under `dir`, sorted. Hidden files and folders
/// (names starting with `.`) are skipped silently; files with unknown extensions,
/// unreadable entries, symbolic links to folders (not followed, to avoid cycles) and
/// special files (FIFOs, sockets, devices, or links to them; never opened) are listed
/// in `skipped` with a reason. A file path yields just that file; a path to a special
/// file is an error (`special_file`).
pub fn walk(dir: &Path) -> Result<WalkResult, IngestError> {
    let location = dir.display().to_string();
    let meta = std::fs::metadata(dir).map_err(|e| IngestError::Unreadable {
        location: location.clone(),
        detail: e.to_string(),
    })?;
    let mut result = WalkResult::default();
    if !meta.is_dir() {
        // An explicit path to a FIFO, device or socket is an error, not a skip.
        refuse_special(&meta, &location)?;
        match format_for_path(dir) {
            Some(_) => result.files.push(dir.to_path_buf()),
            None => result.skipped.push(Skipped {
                path: dir.to_path_buf(),
                reason: unknown_extension_reason(dir),
            }),
        }
        return Ok(result);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) if d == dir => {
                return Err(IngestError::Unreadable {
                    location,
                    detail: e.to_string(),
                })
            }
            Err(e) => {
                result.skipped.push(Skipped {
                    path: d.clone(),
                    reason: format!("folder could not be read: {e}"),
                });
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    result.skipped.push(Skipped {
                        path: d.clone(),
                        reason: format!("folder entry could not be read: {e}"),
                    });
                    continue;
                }
            };
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let ft = match entry.file_type() {
                Ok(ft) => ft,
                Err(e) => {
                    result.skipped.push(Skipped {
                        path,
                        reason: format!("could not be read: {e}"),
                    });
                    continue;
                }
            };
            let is_dir = if ft.is_symlink() {
                match std::fs::metadata(&path) {
                    Ok(m) if m.is_dir() => {
                        result.skipped.push(Skipped {
                            path,
                            reason: "symbolic link to a folder (not followed)".into(),
                        });
                        continue;
                    }
                    Ok(m) => {
                        if let Some(kind) = special_kind(&m) {
                            result.skipped.push(Skipped {
                                path,
                                reason: format!(
                                    "symbolic link to {kind}, not a regular file (not read)"
                                ),
                            });
                            continue;
                        }
                        false
                    }
                    Err(e) => {
                        result.skipped.push(Skipped {
                            path,
                            reason: format!("broken symbolic link: {e}"),
                        });
                        continue;
                    }
                }
            } else if !ft.is_dir() && !ft.is_file() {
                // A FIFO, socket or device: never opened (a FIFO would block the walk's
                // reader for ever, a device may never end).
                let kind = std::fs::symlink_metadata(&path)
                    .ok()
                    .and_then(|m| special_kind(&m))
                    .unwrap_or("a special file");
                result.skipped.push(Skipped {
                    path,
                    reason: format!("{kind}, not a regular file (not read)"),
                });
                continue;
            } else {
                ft.is_dir()
            };
            if is_dir {
                stack.push(path);
            } else if format_for_path(&path).is_some() {
                result.files.push(path);
            } else {
                let reason = unknown_extension_reason(&path);
                result.skipped.push(Skipped { path, reason });
            }
        }
    }
    result.files.sort();
    result.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(result)
}

fn unknown_extension_reason(path: &Path) -> String {
    match path.extension() {
        Some(ext) => format!(
            "unsupported extension `.{}` (Verity reads .txt, .md, .markdown, .html, .htm, .pdf, .jsonl)",
            ext.to_string_lossy()
        ),
        None => "no file extension (rename it to .txt, .md, .html, .pdf or .jsonl)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_types::SourceKind;

    fn opts() -> ReadOptions {
        ReadOptions::default()
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff_format(b"%PDF-1.7"), Format::Pdf);
        assert_eq!(sniff_format(b"\n  <!DOCTYPE HTML><html>"), Format::Html);
        assert_eq!(sniff_format(b"---\ntitle: x\n---\n"), Format::Markdown);
        assert_eq!(
            sniff_format(b"{\"text\": \"a\"}\n{\"text\": \"b\"}"),
            Format::Jsonl
        );
        assert_eq!(sniff_format(b"{\"other\": 1}"), Format::Text);
        assert_eq!(sniff_format(b"plain words"), Format::Text);
    }

    #[test]
    fn bytes_reader_sets_kind_and_title() {
        let docs = read_bytes(
            b"Brackenford notes\n\nThe weir is shut.",
            "/x/notes.txt",
            None,
            &opts(),
        );
        let d = docs[0].as_ref().unwrap();
        assert_eq!(d.format, Format::Text);
        assert_eq!(d.meta.title.as_deref(), Some("Brackenford notes"));
        assert_eq!(d.meta.kind, Some(SourceKind::Other));
        let d = read_bytes(b"one line", "/x/notes.txt", None, &opts())
            .remove(0)
            .unwrap();
        assert_eq!(d.meta.title.as_deref(), Some("notes"));
    }

    #[test]
    fn whitespace_only_is_empty() {
        for b in [&b""[..], b"  \n\t "] {
            let e = read_bytes(b, "e.txt", None, &opts()).remove(0).unwrap_err();
            assert_eq!(e.reason_code(), "empty");
        }
        let e = read_bytes(
            b"<html><nav><a href=/>x</a></nav></html>",
            "e.html",
            Some(Format::Html),
            &opts(),
        )
        .remove(0)
        .unwrap_err();
        assert_eq!(e.reason_code(), "empty");
    }

    #[test]
    fn read_bytes_respects_cap() {
        let o = ReadOptions {
            max_bytes: 3,
            ..opts()
        };
        let e = read_bytes(b"abcd", "x.txt", None, &o)
            .remove(0)
            .unwrap_err();
        assert_eq!(e.reason_code(), "too_large");
    }

    /// A reader that never ends and counts what was taken from it: a device, or a file
    /// that grows while it is read, whatever its metadata said.
    struct Endless<'a>(&'a std::cell::Cell<u64>);

    impl std::io::Read for Endless<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(b'a');
            self.0.set(self.0.get() + buf.len() as u64);
            Ok(buf.len())
        }
    }

    #[test]
    fn cap_holds_while_reading_an_endless_input() {
        let taken = std::cell::Cell::new(0);
        let o = ReadOptions {
            max_bytes: 10_000,
            ..opts()
        };
        // Its metadata said 0 bytes.
        let e = read_capped(Endless(&taken), 0, &o, "/x/zero.txt").unwrap_err();
        assert_eq!(e.reason_code(), "too_large");
        assert_eq!(taken.get(), 10_001, "read one byte past the cap, no more");
        let msg = e.to_string();
        assert!(
            msg.contains("/x/zero.txt") && msg.contains("10000 bytes"),
            "{msg}"
        );
        assert!(msg.contains(MAX_BYTES_SETTING), "{msg}");
        let ok = read_capped(&b"abc"[..], 3, &o, "x").unwrap();
        assert_eq!(ok, b"abc");
    }

    #[test]
    fn fetched_formats() {
        let f = |ct: Option<&str>, url: &str, body: &[u8]| format_for_fetched(ct, url, body);
        assert_eq!(
            f(Some("text/html; charset=utf-8"), "http://a/x", b""),
            Ok(Some(Format::Html))
        );
        assert_eq!(
            f(Some("text/plain"), "http://a/x.md", b""),
            Ok(Some(Format::Markdown))
        );
        assert_eq!(
            f(Some("application/octet-stream"), "http://a/x.pdf", b""),
            Ok(Some(Format::Pdf))
        );
        assert_eq!(f(None, "http://a/x", b"<html>"), Ok(Some(Format::Html)));
        assert!(f(Some("image/png"), "http://a/x", b"\x89PNG").is_err());
        assert_eq!(
            charset_of(Some("text/html; charset=\"ISO-8859-1\"")).as_deref(),
            Some("ISO-8859-1")
        );
    }

    #[test]
    fn url_fallback_titles() {
        assert_eq!(
            fallback_title_for("https://a.example/news/weir-closed.html").as_deref(),
            Some("weir-closed")
        );
        assert_eq!(
            fallback_title_for("https://a.example/").as_deref(),
            Some("a.example")
        );
        assert_eq!(
            fallback_title_for("/tmp/x/report.pdf").as_deref(),
            Some("report")
        );
    }

    #[test]
    fn jsonl_text_behind_a_bom_is_trimmed() {
        // Found by the fuzz harness (tests/fuzz_parsers.rs): the BOM was dropped after
        // trimming, leaving the whitespace behind it in the text.
        let docs = read_bytes(
            b"{\"text\": \"\\ufeff  lead\\r\\n\"}\n{\"text\": \"\\ufeff \\u000c \"}",
            "x.jsonl",
            Some(Format::Jsonl),
            &opts(),
        );
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].as_ref().unwrap().text, "lead");
        assert_eq!(docs[1].as_ref().unwrap_err().reason_code(), "empty");
    }
}
