//! PDF: text through `pdf-extract`, title/author/date from the Info dictionary through
//! the `lopdf` that `pdf-extract` itself uses (re-exported by it, so there is one lopdf).
//!
//! `pdf-extract` can panic on malformed files; the whole read runs under
//! `catch_unwind` and a panic becomes a `corrupt_pdf` error. While it runs, the panic
//! hook stays quiet for this thread so a bad file does not spray a backtrace over the
//! progress bar.

use crate::{date::parse_date, IngestError};
use pdf_extract::{Document, Object, PlainTextOutput};
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use verity_types::DocMeta;

thread_local! {
    static QUIET_PANICS: Cell<bool> = const { Cell::new(false) };
}
static HOOK: Once = Once::new();

fn install_quiet_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET_PANICS.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Describe the first bytes of a file that should have been a PDF.
fn describe_start(bytes: &[u8]) -> String {
    let known: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "a ZIP archive (maybe a .docx or .xlsx)"),
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"{\\rtf", "an RTF document"),
        (b"\xD0\xCF\x11\xE0", "an old Microsoft Office file"),
        (b"%!PS", "a PostScript file"),
    ];
    for (magic, what) in known {
        if bytes.starts_with(magic) {
            return format!("it is {what}");
        }
    }
    let head = &bytes[..bytes.len().min(12)];
    let trimmed = String::from_utf8_lossy(head);
    let lower = trimmed.trim_start().to_ascii_lowercase();
    if lower.starts_with("<!doctype") || lower.starts_with("<html") {
        return "it is an HTML page".into();
    }
    if head.is_empty() {
        return "it is empty".into();
    }
    let shown: String = head
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                (b as char).to_string()
            } else {
                format!("\\x{b:02X}")
            }
        })
        .collect();
    format!("it starts with `{shown}`, not `%PDF-`")
}

/// PDF text strings: UTF-16BE with BOM, UTF-8 with BOM, else PDFDocEncoding (Latin-1
/// is close enough for metadata).
fn pdf_string(bytes: &[u8]) -> String {
    let s = if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|p| u16::from_be_bytes([p[0], p[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        bytes.iter().map(|&b| b as char).collect()
    };
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn info_meta(doc: &Document) -> DocMeta {
    let mut meta = DocMeta::default();
    let Ok(info_obj) = doc.trailer.get(b"Info") else {
        return meta;
    };
    let Ok((_, info)) = doc.dereference(info_obj) else {
        return meta;
    };
    let Ok(info) = info.as_dict() else {
        return meta;
    };
    let get = |key: &[u8]| -> Option<String> {
        let obj = info.get(key).ok()?;
        let (_, obj) = doc.dereference(obj).ok()?;
        match obj {
            Object::String(bytes, _) => Some(pdf_string(bytes)).filter(|s| !s.is_empty()),
            _ => None,
        }
    };
    meta.title = get(b"Title");
    meta.author = get(b"Author");
    meta.publisher = get(b"Publisher").or_else(|| get(b"Company"));
    meta.published = get(b"CreationDate").and_then(|d| parse_date(&d));
    meta
}

/// Tidy pdf-extract's output: trim lines, collapse runs of spaces and blank lines.
fn tidy(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut blank_run = 0;
    for line in crate::decode::normalize_newlines(raw).lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(&line);
    }
    out
}

fn extract(bytes: &[u8], location: &str) -> Result<(DocMeta, String), IngestError> {
    let corrupt = |detail: String| IngestError::CorruptPdf {
        location: location.to_string(),
        detail,
    };
    let mut doc = Document::load_mem(bytes).map_err(|e| corrupt(e.to_string()))?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(corrupt(
            "it is encrypted with a password; save an unprotected copy".into(),
        ));
    }
    let meta = info_meta(&doc);
    let mut raw = String::new();
    {
        let mut output = PlainTextOutput::new(&mut raw);
        pdf_extract::output_doc(&doc, &mut output).map_err(|e| corrupt(e.to_string()))?;
    }
    Ok((meta, tidy(&raw)))
}

/// Read PDF bytes into (Info metadata, text).
pub(crate) fn read_pdf(bytes: &[u8], location: &str) -> Result<(DocMeta, String), IngestError> {
    if !bytes.starts_with(b"%PDF-") {
        return Err(IngestError::CorruptPdf {
            location: location.to_string(),
            detail: format!("not a PDF: {}", describe_start(bytes)),
        });
    }
    install_quiet_hook();
    QUIET_PANICS.with(|q| q.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(|| extract(bytes, location)));
    QUIET_PANICS.with(|q| q.set(false));
    match result {
        Ok(r) => r,
        Err(payload) => {
            let why = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown failure".into());
            Err(IngestError::CorruptPdf {
                location: location.to_string(),
                detail: format!("the PDF parser gave up ({why})"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_what_a_non_pdf_starts_with() {
        let e = read_pdf(b"PK\x03\x04rest", "a.pdf").unwrap_err();
        assert_eq!(e.reason_code(), "corrupt_pdf");
        assert!(e.to_string().contains("ZIP archive"), "{e}");
        let e = read_pdf(b"hello\x01world", "a.pdf").unwrap_err();
        assert!(e.to_string().contains("`hello\\x01world`"), "{e}");
        let e = read_pdf(b"<!DOCTYPE html><html>", "a.pdf").unwrap_err();
        assert!(e.to_string().contains("HTML page"), "{e}");
    }

    #[test]
    fn garbage_after_header_is_corrupt_not_a_crash() {
        let e = read_pdf(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage", "a.pdf").unwrap_err();
        assert_eq!(e.reason_code(), "corrupt_pdf");
    }

    #[test]
    fn pdf_strings_decode() {
        assert_eq!(pdf_string(b"\xFE\xFF\x00H\x00i"), "Hi");
        assert_eq!(pdf_string(b"Caf\xE9  report"), "Café report");
    }

    #[test]
    fn tidy_collapses() {
        assert_eq!(tidy("  a   b \n\n\n\nc\r\nd  "), "a b\n\nc\nd");
    }
}
