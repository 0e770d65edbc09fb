//! PDF: text through `pdf-extract`, title/author/date from the Info dictionary through
//! the `lopdf` that `pdf-extract` itself uses (re-exported by it, so there is one lopdf).
//!
//! `pdf-extract` can panic on malformed files; the whole read runs under
//! `catch_unwind` and a panic becomes a `corrupt_pdf` error. While it runs, the panic
//! hook stays quiet for this thread so a bad file does not spray a backtrace over the
//! progress bar.

use crate::{date::parse_date, pdf_inflate, pdf_tree, IngestError, PdfLimits};
use pdf_extract::{Document, LoadOptions, Object, ObjectId, PlainTextOutput, Stream};
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use verity_types::DocMeta;

thread_local! {
    static QUIET_PANICS: Cell<bool> = const { Cell::new(false) };
    /// The caps `lopdf` is held to while it loads a document on this thread (its
    /// object filter is a plain `fn`, so it reaches them here; `lopdf` is built without
    /// rayon, so the filter runs on the loading thread).
    static LOAD_GUARD: RefCell<Option<LoadGuard>> = const { RefCell::new(None) };
}

/// Which cap a load ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tripped {
    Inflate,
    Objects,
}

/// What a load may still spend on object streams, which `lopdf` unpacks while loading,
/// before any later check: the inflate budget, and the objects their indexes list (the
/// other objects are each read from the file, so its size bounds them; they are counted
/// after the load). It also keeps the object numbers the indexes list: only those can be
/// objects unpacked from a stream (see [`guard_object`]).
struct LoadGuard {
    budget: pdf_inflate::Budget,
    max_objects: usize,
    objects: usize,
    listed: HashSet<u32>,
    tripped: Option<Tripped>,
}

impl LoadGuard {
    fn trip(&mut self, why: Tripped) -> bool {
        self.tripped.get_or_insert(why);
        false
    }

    /// Count the entries of an object stream's index (number pairs), and keep the object
    /// numbers it lists; false once past the cap, before anything of it is kept.
    fn count(&mut self, index: &[u8]) -> bool {
        self.objects = self.objects.saturating_add(index_words(index).count() / 2);
        if self.objects > self.max_objects {
            return self.trip(Tripped::Objects);
        }
        let numbers = index_words(index)
            .step_by(2)
            .filter_map(|w| std::str::from_utf8(w).ok()?.parse::<u32>().ok());
        self.listed.extend(numbers);
        true
    }

    /// Admit one object as `lopdf` reads it. An object stream is decoded here under the
    /// budget (so `lopdf`'s own unbounded decode finds plain bytes), and the objects its
    /// index lists are counted before `lopdf` unpacks them. Once a cap is hit, nothing
    /// more is admitted, so the load ends quickly.
    fn admit(&mut self, object: &mut Object) -> bool {
        if self.tripped.is_some() {
            return false;
        }
        let Object::Stream(stream) = object else {
            return true;
        };
        if !stream.dict.has_type(b"ObjStm") {
            return true;
        }
        if pdf_inflate::expand_one(stream, &mut self.budget).is_err() {
            return self.trip(Tripped::Inflate);
        }
        self.count(index_of(stream))
    }
}

/// The index of an (already decoded) object stream: its bytes before `/First`, number
/// pairs (object number, offset).
fn index_of(stream: &Stream) -> &[u8] {
    let first = stream
        .dict
        .get(b"First")
        .and_then(Object::as_i64)
        .map_or(0, |f| usize::try_from(f).unwrap_or(0));
    &stream.content[..first.min(stream.content.len())]
}

fn index_words(index: &[u8]) -> impl Iterator<Item = &[u8]> {
    index
        .split(u8::is_ascii_whitespace)
        .filter(|w| !w.is_empty())
}

/// `lopdf`'s object filter: keep what the guard admits. `lopdf` keeps what it returns for
/// an object unpacked from an object stream, and ignores it for a top-level object (it
/// goes on with the object it passed in). So only an object whose number an admitted
/// stream's index lists gets a copy back; any other, and every stream (an object stream
/// holds no streams), gets a null, and no copy of it is made.
fn guard_object(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    let (admitted, listed) = LOAD_GUARD.with(|g| match g.borrow_mut().as_mut() {
        Some(g) => (g.admit(object), g.listed.contains(&id.0)),
        None => (true, true),
    });
    match object {
        _ if !admitted => None,
        Object::Stream(_) => Some((id, Object::Null)),
        other if listed => Some((id, other.clone())),
        _ => Some((id, Object::Null)),
    }
}

/// `Document::load_mem` with [`guard_object`] watching each object as it is read.
fn load_guarded(bytes: &[u8], location: &str, limits: &PdfLimits) -> Result<Document, IngestError> {
    let guard = LoadGuard {
        budget: pdf_inflate::Budget::new(limits.max_decompressed_bytes),
        max_objects: limits.max_objects,
        objects: 0,
        listed: HashSet::new(),
        tripped: None,
    };
    LOAD_GUARD.with(|g| *g.borrow_mut() = Some(guard));
    let loaded = Document::load_mem_with_options(bytes, LoadOptions::with_filter(guard_object));
    let tripped = LOAD_GUARD
        .with(|g| g.borrow_mut().take())
        .and_then(|g| g.tripped);
    match tripped {
        Some(Tripped::Inflate) => Err(pdf_inflate::too_large(
            location,
            limits.max_decompressed_bytes,
        )),
        Some(Tripped::Objects) => Err(too_many_objects(location, limits)),
        None => loaded.map_err(|e| corrupt(location, e.to_string())),
    }
}

fn too_many_objects(location: &str, limits: &PdfLimits) -> IngestError {
    IngestError::PdfTooComplex {
        location: location.to_string(),
        what: "objects",
        limit: limits.max_objects as u64,
        setting: crate::MAX_PDF_OBJECTS_SETTING,
    }
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

fn corrupt(location: &str, detail: String) -> IngestError {
    IngestError::CorruptPdf {
        location: location.to_string(),
        detail,
    }
}

/// Load the document with every expansion and walk capped (see [`crate::pdf_inflate`]
/// and [`crate::pdf_tree`]); what comes back is safe to hand to `pdf-extract`.
fn load_checked(bytes: &[u8], location: &str, limits: &PdfLimits) -> Result<Document, IngestError> {
    let cap = limits.max_decompressed_bytes;
    pdf_inflate::prescan(bytes, cap).map_err(|_| pdf_inflate::too_large(location, cap))?;
    let mut doc = load_guarded(bytes, location, limits)?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(corrupt(
            location,
            "it is encrypted with a password; save an unprotected copy".into(),
        ));
    }
    if doc.objects.len() > limits.max_objects {
        return Err(too_many_objects(location, limits));
    }
    let sizes = pdf_inflate::expand_streams(&mut doc, cap)
        .map_err(|_| pdf_inflate::too_large(location, cap))?;
    pdf_tree::check(&doc, limits, &sizes, location)?;
    Ok(doc)
}

fn extract(
    bytes: &[u8],
    location: &str,
    limits: &PdfLimits,
) -> Result<(DocMeta, String), IngestError> {
    let doc = load_checked(bytes, location, limits)?;
    let meta = info_meta(&doc);
    let mut raw = String::new();
    {
        let mut output = PlainTextOutput::new(&mut raw);
        pdf_extract::output_doc(&doc, &mut output).map_err(|e| corrupt(location, e.to_string()))?;
    }
    Ok((meta, tidy(&raw)))
}

/// Read PDF bytes into (Info metadata, text).
pub(crate) fn read_pdf(
    bytes: &[u8],
    location: &str,
    limits: &PdfLimits,
) -> Result<(DocMeta, String), IngestError> {
    if !bytes.starts_with(b"%PDF-") {
        return Err(IngestError::CorruptPdf {
            location: location.to_string(),
            detail: format!("not a PDF: {}", describe_start(bytes)),
        });
    }
    install_quiet_hook();
    QUIET_PANICS.with(|q| q.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(|| extract(bytes, location, limits)));
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
        let e = read_pdf(b"PK\x03\x04rest", "a.pdf", &PdfLimits::default()).unwrap_err();
        assert_eq!(e.reason_code(), "corrupt_pdf");
        assert!(e.to_string().contains("ZIP archive"), "{e}");
        let e = read_pdf(b"hello\x01world", "a.pdf", &PdfLimits::default()).unwrap_err();
        assert!(e.to_string().contains("`hello\\x01world`"), "{e}");
        let e = read_pdf(b"<!DOCTYPE html><html>", "a.pdf", &PdfLimits::default()).unwrap_err();
        assert!(e.to_string().contains("HTML page"), "{e}");
    }

    #[test]
    fn garbage_after_header_is_corrupt_not_a_crash() {
        let e = read_pdf(
            b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage",
            "a.pdf",
            &PdfLimits::default(),
        )
        .unwrap_err();
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

    use crate::pdf_fixtures::{
        build, deflate, deflated_zeros, obj, one_page, stream, text_content,
    };

    const MIB: u64 = 1024 * 1024;

    fn small_caps() -> PdfLimits {
        PdfLimits {
            max_decompressed_bytes: MIB,
            ..PdfLimits::default()
        }
    }

    /// Room for the 16 MiB test bombs.
    fn roomy_caps() -> PdfLimits {
        PdfLimits {
            max_decompressed_bytes: 64 * MIB,
            ..PdfLimits::default()
        }
    }

    fn read(bytes: &[u8], limits: &PdfLimits) -> Result<String, IngestError> {
        read_pdf(bytes, "hostile.pdf", limits).map(|(_, text)| text)
    }

    #[test]
    fn a_plain_text_pdf_still_extracts() {
        let pdf = one_page(&text_content("Hello Verity"), "", "", &[]);
        assert_eq!(read(&pdf, &PdfLimits::default()).unwrap(), "Hello Verity");
        let packed = one_page(
            &deflate(&text_content("Hello Verity")),
            "/Filter /FlateDecode",
            "",
            &[],
        );
        assert_eq!(read(&packed, &small_caps()).unwrap(), "Hello Verity");
    }

    /// Catalog, then `pages` as objects 2.., then one page (text) and its font.
    fn tree(pages: &[&str], page_parent: &str) -> Vec<u8> {
        let n = pages.len() + 2;
        let mut objects = vec![obj("<< /Type /Catalog /Pages 2 0 R >>")];
        objects.extend(pages.iter().map(|p| obj(p)));
        objects.push(obj(&format!(
            "<< /Type /Page /Parent {page_parent} /Resources << /Font << /F1 {} 0 R >> >> \
             /Contents {} 0 R >>",
            n + 1,
            n + 2
        )));
        objects.push(obj(
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ));
        objects.push(stream("", &text_content("Hello Verity")));
        build(&objects)
    }

    fn assert_corrupt(e: &IngestError, needle: &str) {
        assert_eq!(e.reason_code(), "corrupt_pdf", "{e}");
        assert!(e.to_string().contains("hostile.pdf"), "{e}");
        assert!(e.to_string().contains(needle), "{e}");
    }

    #[test]
    fn a_pages_node_that_is_its_own_parent_is_refused() {
        // No /MediaBox anywhere: pdf-extract would climb /Parent for ever.
        let pdf = tree(
            &["<< /Type /Pages /Kids [3 0 R] /Count 1 /Parent 2 0 R >>"],
            "2 0 R",
        );
        let e = read(&pdf, &PdfLimits::default()).unwrap_err();
        assert_corrupt(&e, "/Parent links loop");
    }

    #[test]
    fn two_pages_nodes_that_list_each_other_are_refused() {
        let pdf = tree(
            &[
                "<< /Type /Pages /Kids [3 0 R] /Count 1 /Parent 3 0 R >>",
                "<< /Type /Pages /Kids [2 0 R 4 0 R] /Count 1 /Parent 2 0 R >>",
            ],
            "3 0 R",
        );
        let e = read(&pdf, &PdfLimits::default()).unwrap_err();
        assert_corrupt(&e, "page tree loops");
    }

    #[test]
    fn kids_that_contain_their_parent_are_refused() {
        let pdf = tree(
            &["<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 1 >>"],
            "2 0 R",
        );
        let e = read(&pdf, &PdfLimits::default()).unwrap_err();
        assert_corrupt(&e, "object 2 0 is reached twice");
    }

    #[test]
    fn a_parent_chain_that_loops_outside_the_tree_is_refused() {
        // The tree is 2 -> page 5; the page's /Parent is 3, and 3 and 4 point at each other.
        let pdf = tree(
            &[
                "<< /Type /Pages /Kids [5 0 R] /Count 1 >>",
                "<< /Type /Pages /Parent 4 0 R >>",
                "<< /Type /Pages /Parent 3 0 R >>",
            ],
            "3 0 R",
        );
        let e = read(&pdf, &PdfLimits::default()).unwrap_err();
        assert_corrupt(&e, "/Parent links loop");
    }

    #[test]
    fn a_form_that_draws_itself_is_refused() {
        // Without the check pdf-extract recurses until the stack overflows (an abort,
        // which catch_unwind cannot catch).
        let form = stream("/Type /XObject /Subtype /Form /BBox [0 0 10 10]", b"/X Do");
        let pdf = one_page(b"/X Do", "", "/XObject << /X 6 0 R >>", &[form]);
        let e = read(&pdf, &PdfLimits::default()).unwrap_err();
        assert_corrupt(&e, "draws itself");
    }

    #[test]
    fn a_content_array_naming_one_stream_many_times_is_capped() {
        // 64 KiB of content named 64 times: 4 MiB to run, over a 1 MiB cap.
        let refs = "4 0 R ".repeat(64);
        let pdf = build(&[
            obj("<< /Type /Catalog /Pages 2 0 R >>"),
            obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
            obj(&format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 9 9] /Contents [{refs}] >>"
            )),
            stream("", &vec![b' '; 64 * 1024]),
        ]);
        let e = read(&pdf, &small_caps()).unwrap_err();
        assert_eq!(e.reason_code(), "pdf_too_complex", "{e}");
        assert!(e.to_string().contains("--max-inflate-mb"), "{e}");
        assert_eq!(read(&pdf, &PdfLimits::default()).unwrap(), "");
    }

    #[test]
    fn page_and_object_caps_apply() {
        let kids: Vec<String> = (3..8).map(|i| format!("{i} 0 R")).collect();
        let mut objects = vec![
            obj("<< /Type /Catalog /Pages 2 0 R >>"),
            obj(&format!(
                "<< /Type /Pages /Kids [{}] /Count 5 >>",
                kids.join(" ")
            )),
        ];
        for _ in 3..8 {
            objects.push(obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>"));
        }
        let pdf = build(&objects);
        let pages = PdfLimits {
            max_pages: 3,
            ..PdfLimits::default()
        };
        let e = read(&pdf, &pages).unwrap_err();
        assert_eq!(e.reason_code(), "pdf_too_complex");
        assert!(
            e.to_string().contains("more than 3 pages")
                && e.to_string().contains("--max-pdf-pages"),
            "{e}"
        );
        let few = PdfLimits {
            max_objects: 4,
            ..PdfLimits::default()
        };
        let e = read(&pdf, &few).unwrap_err();
        assert!(
            e.to_string().contains("more than 4 objects")
                && e.to_string().contains("--max-pdf-objects"),
            "{e}"
        );
    }

    fn assert_bomb(e: &IngestError) {
        assert_eq!(e.reason_code(), "decompressed_too_large", "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains("hostile.pdf")
                && msg.contains("1.0 MiB")
                && msg.contains("--max-inflate-mb"),
            "{msg}"
        );
    }

    #[test]
    fn a_flate_bomb_in_page_content_is_refused() {
        let bomb = deflated_zeros(16 * MIB as usize);
        assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
        let pdf = one_page(&bomb, "/Filter /FlateDecode", "", &[]);
        assert_bomb(&read(&pdf, &small_caps()).unwrap_err());
        // Under a cap it fits in, the same file reads (it has no text).
        assert_eq!(read(&pdf, &roomy_caps()).unwrap(), "");
    }

    #[test]
    fn an_object_stream_bomb_is_refused_before_lopdf_inflates_it() {
        let bomb = deflated_zeros(16 * MIB as usize);
        let objstm = stream("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", &bomb);
        let pdf = one_page(&text_content("Hi"), "", "", &[objstm]);
        assert_bomb(&read(&pdf, &small_caps()).unwrap_err());
    }

    #[test]
    fn a_bomb_behind_another_filter_is_refused() {
        // ASCII85 first: the raw bytes do not look like zlib, so only the parsed-stream
        // pass sees the Flate stage.
        let a85 = ascii85(&deflated_zeros(16 * MIB as usize));
        let pdf = one_page(&a85, "/Filter [/ASCII85Decode /FlateDecode]", "", &[]);
        assert_bomb(&read(&pdf, &small_caps()).unwrap_err());
    }

    /// An object stream whose data is `index` then `body`, encoded by `encode` and
    /// declared with `filter`.
    fn object_stream(
        index: &str,
        body: &str,
        filter: &str,
        encode: fn(&[u8]) -> Vec<u8>,
    ) -> Vec<u8> {
        let data = format!("{index}{body}");
        let n = index.split_whitespace().count() / 2;
        let dict = format!("/Type /ObjStm /N {n} /First {} {filter}", index.len());
        stream(&dict, &encode(data.as_bytes()))
    }

    fn a85_flate(data: &[u8]) -> Vec<u8> {
        ascii85(&deflate(data))
    }

    #[test]
    fn objects_in_a_filtered_object_stream_still_load() {
        // The page's font lives in an object stream behind two filters; the guard decodes
        // it under the budget and lopdf unpacks the plain bytes.
        let pdf = build(&[
            obj("<< /Type /Catalog /Pages 2 0 R >>"),
            obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>"),
            obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
                 /Resources << /Font << /F1 6 0 R >> >> /Contents 4 0 R >>"),
            stream("", &text_content("Hello Verity")),
            object_stream(
                "6 0 ",
                "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
                "/Filter [/ASCII85Decode /FlateDecode]",
                a85_flate,
            ),
        ]);
        assert_eq!(read(&pdf, &small_caps()).unwrap(), "Hello Verity");
    }

    #[test]
    fn an_object_stream_bomb_behind_another_filter_is_refused_while_lopdf_loads() {
        // The raw bytes are ASCII85, so the prescan sees no zlib; without the load guard
        // lopdf inflates all 16 MiB while loading and no later pass sees a filter.
        let a85 = ascii85(&deflated_zeros(16 * MIB as usize));
        let objstm = stream(
            "/Type /ObjStm /N 1 /First 4 /Filter [/ASCII85Decode /FlateDecode]",
            &a85,
        );
        let pdf = one_page(&text_content("Hi"), "", "", &[objstm]);
        assert_bomb(&read(&pdf, &small_caps()).unwrap_err());
        assert_eq!(read(&pdf, &roomy_caps()).unwrap(), "Hi");
    }

    #[test]
    fn an_object_stream_listing_too_many_objects_is_refused_before_it_is_unpacked() {
        // 50 index entries, all naming object 5: unpacked, they would add nothing to the
        // document, so only a count of the index (before lopdf unpacks it) refuses them.
        let index = "5 0 ".repeat(50);
        let objstm = object_stream(&index, "null", "/Filter /FlateDecode", deflate);
        let pdf = one_page(&text_content("Hi"), "", "", &[objstm]);
        let few = PdfLimits {
            max_objects: 20,
            ..PdfLimits::default()
        };
        let e = read(&pdf, &few).unwrap_err();
        assert_eq!(e.reason_code(), "pdf_too_complex", "{e}");
        assert!(
            e.to_string().contains("more than 20 objects")
                && e.to_string().contains("--max-pdf-objects"),
            "{e}"
        );
        assert_eq!(read(&pdf, &PdfLimits::default()).unwrap(), "Hi");
    }

    #[test]
    fn an_lzw_bomb_is_refused() {
        let zeros = vec![0u8; 8 * MIB as usize];
        let lzw = weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
            .encode(&zeros)
            .unwrap();
        assert!(lzw.len() < MIB as usize / 4, "{}", lzw.len());
        let pdf = one_page(&lzw, "/Filter /LZWDecode", "", &[]);
        assert_bomb(&read(&pdf, &small_caps()).unwrap_err());
    }

    fn ascii85(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in data.chunks(4) {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            let mut n = u32::from_be_bytes(word);
            if n == 0 && chunk.len() == 4 {
                out.push(b'z');
                continue;
            }
            let mut digits = [0u8; 5];
            for d in digits.iter_mut().rev() {
                *d = (n % 85) as u8 + b'!';
                n /= 85;
            }
            out.extend_from_slice(&digits[..chunk.len() + 1]);
        }
        out.extend_from_slice(b"~>");
        out
    }
}
