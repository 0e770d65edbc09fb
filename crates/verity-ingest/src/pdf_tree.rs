//! Structure checks that run before `pdf-extract` walks a PDF, for the walks it does
//! without a guard:
//!
//! * the page tree, from the catalog's `/Pages`: a node reached twice (a `/Kids` cycle or
//!   a shared node), more than [`MAX_PDF_TREE_DEPTH`] levels, or more pages than
//!   [`PdfLimits::max_pages`] is refused;
//! * each page's `/Parent` chain, which `pdf-extract` follows without end to inherit
//!   `/Resources` and `/MediaBox`: a loop or a chain longer than the depth cap is refused;
//! * the content it runs: page content (a `/Contents` array may name one stream many
//!   times) and every form or image drawn with `Do` (`pdf-extract` runs any XObject as
//!   content, recursively, with no cycle check — a form that draws itself overflows the
//!   stack). A `Do` cycle, forms nested deeper than [`MAX_PDF_FORM_DEPTH`], more than
//!   [`MAX_PDF_XOBJECT_CALLS`] calls, or more than
//!   [`PdfLimits::max_decompressed_bytes`] of content run in all (each use counted) is
//!   refused.

use crate::{
    IngestError, PdfLimits, MAX_INFLATE_SETTING, MAX_PDF_FORM_DEPTH, MAX_PDF_PAGES_SETTING,
    MAX_PDF_TREE_DEPTH, MAX_PDF_XOBJECT_CALLS,
};
use pdf_extract::content::Content;
use pdf_extract::{Dictionary, Document, Object, ObjectId, Stream};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

fn corrupt(location: &str, detail: String) -> IngestError {
    IngestError::CorruptPdf {
        location: location.to_string(),
        detail,
    }
}

fn too_complex(
    location: &str,
    what: &'static str,
    limit: u64,
    setting: &'static str,
) -> IngestError {
    IngestError::PdfTooComplex {
        location: location.to_string(),
        what,
        limit,
        setting,
    }
}

/// The pages of the document, in no particular order, after checking the page tree.
pub(crate) fn walk_pages(
    doc: &Document,
    max_pages: usize,
    location: &str,
) -> Result<Vec<ObjectId>, IngestError> {
    let Ok(root) = doc
        .catalog()
        .and_then(|c| c.get(b"Pages"))
        .and_then(Object::as_reference)
    else {
        return Ok(Vec::new());
    };
    let mut pages = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![(root, 0usize)];
    while let Some((id, depth)) = stack.pop() {
        if !seen.insert(id) {
            return Err(corrupt(
                location,
                format!(
                    "its page tree loops: object {} {} is reached twice",
                    id.0, id.1
                ),
            ));
        }
        let Ok(node) = doc.get_dictionary(id) else {
            continue;
        };
        let is_root = depth == 0;
        match node.get_type() {
            Ok(b"Page") if !is_root => {
                pages.push(id);
                if pages.len() > max_pages {
                    return Err(too_complex(
                        location,
                        "pages",
                        max_pages as u64,
                        MAX_PDF_PAGES_SETTING,
                    ));
                }
                continue;
            }
            Ok(b"Pages") => {}
            _ if is_root => {}
            _ => continue,
        }
        if depth >= MAX_PDF_TREE_DEPTH {
            return Err(corrupt(location, format!("its page tree nests more than {MAX_PDF_TREE_DEPTH} levels deep (the cap, `MAX_PDF_TREE_DEPTH`)")));
        }
        push_kids(doc, node, depth, &mut stack);
    }
    Ok(pages)
}

fn push_kids(doc: &Document, node: &Dictionary, depth: usize, stack: &mut Vec<(ObjectId, usize)>) {
    let Ok(kids) = node.get_deref(b"Kids", doc).and_then(Object::as_array) else {
        return;
    };
    // Reversed so that pages come off the stack in document order.
    for kid in kids.iter().rev() {
        if let Ok(id) = kid.as_reference() {
            stack.push((id, depth + 1));
        }
    }
}

/// Check that every page's `/Parent` chain ends (no loop, at most the depth cap long).
pub(crate) fn check_parents(
    doc: &Document,
    pages: &[ObjectId],
    location: &str,
) -> Result<(), IngestError> {
    let mut ends: HashSet<ObjectId> = HashSet::new();
    for &page in pages {
        let mut chain = vec![page];
        let mut node = doc.get_dictionary(page).ok();
        while let Some(dict) = node {
            let Ok(parent) = dict.get(b"Parent").and_then(Object::as_reference) else {
                break;
            };
            if ends.contains(&parent) {
                break;
            }
            if chain.contains(&parent) {
                return Err(corrupt(
                    location,
                    format!(
                        "its /Parent links loop: object {} {} is its own ancestor",
                        parent.0, parent.1
                    ),
                ));
            }
            if chain.len() > MAX_PDF_TREE_DEPTH {
                return Err(corrupt(location, format!("a page's /Parent chain is longer than {MAX_PDF_TREE_DEPTH} links (the cap, `MAX_PDF_TREE_DEPTH`)")));
            }
            chain.push(parent);
            node = doc.get_dictionary(parent).ok();
        }
        ends.extend(chain);
    }
    Ok(())
}

/// `pdf-extract`'s `get_inherited` for a dictionary value (chains already checked).
fn inherited_dict<'a>(
    doc: &'a Document,
    mut dict: &'a Dictionary,
    key: &[u8],
) -> Option<&'a Dictionary> {
    for _ in 0..=MAX_PDF_TREE_DEPTH + 1 {
        if let Some(d) = deref_dict(doc, dict.get(key).ok()) {
            return Some(d);
        }
        let parent = dict.get(b"Parent").and_then(Object::as_reference).ok()?;
        dict = doc.get_dictionary(parent).ok()?;
    }
    None
}

fn deref_dict<'a>(doc: &'a Document, obj: Option<&'a Object>) -> Option<&'a Dictionary> {
    doc.dereference(obj?).ok()?.1.as_dict().ok()
}

/// Content run so far: bytes and `Do` calls, each use counted.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    bytes: u64,
    calls: u64,
}

impl Cost {
    fn add(&mut self, other: Cost) {
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.calls = self.calls.saturating_add(other.calls);
    }
}

/// Walks the content `pdf-extract` will run and totals its cost.
struct Runner<'a> {
    doc: &'a Document,
    /// Decoded sizes of streams that still carry a filter.
    sizes: &'a HashMap<ObjectId, u64>,
    cap: u64,
    location: &'a str,
    total: Cost,
    /// Forms being run, outermost first.
    stack: Vec<ObjectId>,
    /// Cost of a form with the resources it ran with.
    memo: HashMap<(ObjectId, usize), Cost>,
}

impl<'a> Runner<'a> {
    fn check(&self, c: Cost) -> Result<(), IngestError> {
        if c.bytes > self.cap {
            return Err(too_complex(
                self.location,
                "bytes of content to run (a stream used on many pages or forms counts each time)",
                self.cap,
                MAX_INFLATE_SETTING,
            ));
        }
        if c.calls > MAX_PDF_XOBJECT_CALLS {
            return Err(too_complex(
                self.location,
                "form and image calls (`Do`), the fixed cap `MAX_PDF_XOBJECT_CALLS`",
                MAX_PDF_XOBJECT_CALLS,
                "nothing (it is fixed); split the file",
            ));
        }
        Ok(())
    }

    fn decoded_len(&self, id: ObjectId, s: &Stream) -> u64 {
        self.sizes
            .get(&id)
            .copied()
            .unwrap_or(s.content.len() as u64)
    }

    fn page(&mut self, page: ObjectId) -> Result<(), IngestError> {
        let Ok(dict) = self.doc.get_dictionary(page) else {
            return Ok(());
        };
        let ids = self.doc.get_page_contents(page);
        let mut cost = Cost::default();
        for id in &ids {
            if let Ok(s) = self.doc.get_object(*id).and_then(Object::as_stream) {
                cost.bytes = cost.bytes.saturating_add(self.decoded_len(*id, s) + 1);
            }
        }
        self.total.add(cost);
        self.check(self.total)?;
        let Some(resources) = inherited_dict(self.doc, dict, b"Resources") else {
            return Ok(());
        };
        let content = self.doc.get_page_content(page).unwrap_or_default();
        let calls = self.calls(&content, resources, 0)?;
        self.total.add(calls);
        self.check(self.total)
    }

    /// Cost of the `Do` calls in `content` run with `resources`.
    fn calls(
        &mut self,
        content: &[u8],
        resources: &'a Dictionary,
        depth: usize,
    ) -> Result<Cost, IngestError> {
        let mut cost = Cost::default();
        let names = do_names(content);
        if names.is_empty() {
            return Ok(cost);
        }
        let Some(xobjects) = deref_dict(self.doc, resources.get(b"XObject").ok()) else {
            return Ok(cost);
        };
        for name in names {
            cost.calls += 1;
            let Ok(obj) = xobjects.get(&name) else {
                continue;
            };
            let Ok((Some(id), Object::Stream(form))) = self.doc.dereference(obj) else {
                continue;
            };
            cost.add(self.form(id, form, resources, depth + 1)?);
            self.check(cost)?;
        }
        Ok(cost)
    }

    fn form(
        &mut self,
        id: ObjectId,
        form: &'a Stream,
        caller: &'a Dictionary,
        depth: usize,
    ) -> Result<Cost, IngestError> {
        if self.stack.contains(&id) {
            return Err(corrupt(
                self.location,
                format!("form XObject {} {} draws itself (a `Do` cycle)", id.0, id.1),
            ));
        }
        if depth > MAX_PDF_FORM_DEPTH {
            return Err(corrupt(self.location, format!("its forms nest more than {MAX_PDF_FORM_DEPTH} deep (the cap, `MAX_PDF_FORM_DEPTH`)")));
        }
        let resources = deref_dict(self.doc, form.dict.get(b"Resources").ok()).unwrap_or(caller);
        let key = (id, resources as *const Dictionary as usize);
        if let Some(c) = self.memo.get(&key) {
            return Ok(*c);
        }
        let mut cost = Cost {
            bytes: self.decoded_len(id, form),
            calls: 0,
        };
        self.check(cost)?;
        let content = stream_bytes(form);
        self.stack.push(id);
        let inner = self.calls(&content, resources, depth);
        self.stack.pop();
        cost.add(inner?);
        self.memo.insert(key, cost);
        Ok(cost)
    }
}

/// The bytes `pdf-extract` runs for a stream (its size was checked before).
fn stream_bytes(s: &Stream) -> Cow<'_, [u8]> {
    if s.filters().is_ok_and(|f| !f.is_empty()) {
        Cow::Owned(
            s.decompressed_content()
                .unwrap_or_else(|_| s.content.clone()),
        )
    } else {
        Cow::Borrowed(&s.content)
    }
}

/// The operand of every `Do` in `content`, in order, repeats included.
fn do_names(content: &[u8]) -> Vec<Vec<u8>> {
    if !content.windows(2).any(|w| w == b"Do") {
        return Vec::new();
    }
    let Ok(ops) = Content::decode(content) else {
        return Vec::new();
    };
    ops.operations
        .iter()
        .filter(|op| op.operator == "Do")
        .filter_map(|op| op.operands.first()?.as_name().ok().map(<[u8]>::to_vec))
        .collect()
}

/// All structure checks, in the order `pdf-extract` would hit the problems.
pub(crate) fn check(
    doc: &Document,
    limits: &PdfLimits,
    sizes: &HashMap<ObjectId, u64>,
    location: &str,
) -> Result<(), IngestError> {
    let pages = walk_pages(doc, limits.max_pages, location)?;
    check_parents(doc, &pages, location)?;
    let mut runner = Runner {
        doc,
        sizes,
        cap: limits.max_decompressed_bytes,
        location,
        total: Cost::default(),
        stack: Vec::new(),
        memo: HashMap::new(),
    };
    for page in pages {
        runner.page(page)?;
    }
    Ok(())
}
