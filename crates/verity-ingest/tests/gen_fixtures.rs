//! Regenerates the PDF fixtures. They are committed; run this only to change them:
//! `cargo test -p verity-ingest --test gen_fixtures -- --ignored`.
//!
//! Uses the lopdf that pdf-extract re-exports, so the files are ones our reader's own
//! parser writes and reads.

#![allow(clippy::unwrap_used)]

use pdf_extract::content::{Content, Operation};
use pdf_extract::{dictionary, Document, Object, Stream};
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Lines of the fictional audit summary; an empty string is a paragraph gap.
const LINES: &[&str] = &[
    "Marlowe County Audit Office",
    "",
    "Summary: Marlowe Weir repairs",
    "",
    "This summary is fictional and was written for software tests.",
    "The cost of the Marlowe Weir repairs rose from 2.0 million pounds in 2021",
    "to 4.2 million pounds in 2024.",
    "",
    "The main contract was signed before the foundation survey was finished.",
    "Three change orders added 1.1 million pounds to the price.",
    "",
    "We make six recommendations to Kellbridge Borough Council.",
];

fn build_pdf() -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let mut ops = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 11.into()]),
        Operation::new("Td", vec![72.into(), 760.into()]),
    ];
    for line in LINES {
        if line.is_empty() {
            ops.push(Operation::new("Td", vec![0.into(), (-14).into()]));
            continue;
        }
        ops.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
        ops.push(Operation::new("Td", vec![0.into(), (-16).into()]));
    }
    ops.push(Operation::new("ET", vec![]));
    let content = Content { operations: ops };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
    });
    let pages = dictionary! {
        "Type" => "Pages",
        "Kids" => vec![page_id.into()],
        "Count" => 1,
        "Resources" => resources_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    };
    doc.objects.insert(pages_id, Object::Dictionary(pages));
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    doc.trailer.set("Root", catalog_id);
    let info_id = doc.add_object(dictionary! {
        "Title" => Object::string_literal("Marlowe Weir repairs: audit summary"),
        "Author" => Object::string_literal("Marlowe County Audit Office"),
        "Subject" => Object::string_literal("Fictional fixture for Verity tests"),
        "CreationDate" => Object::string_literal("D:20240304120000+00'00'"),
    });
    doc.trailer.set("Info", info_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[test]
#[ignore = "writes the committed PDF fixtures; run by hand"]
fn generate_pdf_fixtures() {
    let pdf = build_pdf();
    std::fs::write(fixtures().join("weir-audit-summary.pdf"), &pdf).unwrap();
    // Cut mid-way through the objects: the header is right, the rest is gone.
    std::fs::write(fixtures().join("truncated.pdf"), &pdf[..pdf.len() * 2 / 5]).unwrap();
}
