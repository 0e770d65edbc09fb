//! Each reader against the fixtures in `tests/fixtures/` (all fictional).

#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use std::path::{Path, PathBuf};
use verity_ingest::{chunk, read_file, walk, IngestError, ReadOptions};
use verity_types::{char_slice, Document, Format, SourceKind};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read_one(name: &str) -> Result<Document, IngestError> {
    let mut docs = read_file(&fixture(name), &ReadOptions::default());
    assert_eq!(docs.len(), 1, "{name}: expected one result");
    docs.remove(0)
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

#[test]
fn html_main_content_and_metadata() {
    let doc = read_one("weir-repair-bill.html").unwrap();
    assert_eq!(doc.format, Format::Html);
    assert_eq!(
        doc.meta.title.as_deref(),
        Some("Weir repair bill doubles to £4.2m, audit finds")
    );
    assert_eq!(
        doc.meta.publisher.as_deref(),
        Some("The Kellbridge Gazette")
    );
    assert_eq!(doc.meta.author.as_deref(), Some("Ada Quill"));
    // JSON-LD datePublished beats the (different) article:published_time tag.
    assert_eq!(doc.meta.published, date(2024, 3, 5));
    assert_eq!(
        doc.meta.url.as_deref(),
        Some("https://gazette.kellbridge.example/news/weir-repair-bill")
    );
    assert_eq!(doc.meta.kind, Some(SourceKind::News));
    assert_eq!(doc.meta.attribution, None);

    let text = &doc.text;
    for kept in [
        "Weir repair bill doubles to £4.2m, audit finds",
        "The cost of repairing the Marlowe Weir on the River Kell has more than doubled, from an estimated £2.0m in 2021 to £4.2m",
        "weir’s foundations was finished. “Several risks were known and not priced,” the report said.",
        "“out of date already” & that savings",
        "What the audit found",
        "Three change orders added £1.1m to the price.",
        "Year\nEstimate\n2021\n£2.0m\n2024\n£4.2m",
        "Marlowe Weir\nA stone weir built in 1861",
        "Residents can read the full findings in the audit summary on the county website.",
    ] {
        assert!(text.contains(kept), "missing {kept:?} in:\n{text}");
    }
    for gone in [
        "cookies",
        "Skip to content",
        "Home",
        "Contact us",
        "Share on",
        "Related stories",
        "Anglers welcome",
        "Quick links",
        "Bin collection",
        "Most read",
        "Ferry timetable",
        "All rights reserved",
        "dataLayer",
        "tracking-code",
        "font-family",
        "Several risks were known and not priced.”\n", // the pull quote aside
    ] {
        assert!(
            !text.contains(gone),
            "boilerplate {gone:?} left in:\n{text}"
        );
    }
    // Paragraphs stay separate, whitespace is collapsed.
    assert!(text.contains("£4.2m, according to a report published on Monday by the Marlowe County Audit Office.\n\nThe auditors"));
    assert!(!text.contains("  "));
    assert!(text.starts_with(
        "Weir repair bill doubles to £4.2m, audit finds\n\nBy Ada Quill · 5 March 2024\n\nThe cost"
    ));
    assert!(text.ends_with("The council will answer questions at its meeting on 14 March."));
}

#[test]
fn markdown_front_matter_and_body() {
    let doc = read_one("council-statement.md").unwrap();
    assert_eq!(doc.format, Format::Markdown);
    assert_eq!(
        doc.meta.title.as_deref(),
        Some("Statement on the Marlowe Weir audit")
    );
    assert_eq!(
        doc.meta.publisher.as_deref(),
        Some("Kellbridge Borough Council")
    );
    assert_eq!(
        doc.meta.author.as_deref(),
        Some("Office of the Council Leader")
    );
    assert_eq!(doc.meta.published, date(2024, 3, 6));
    assert_eq!(
        doc.meta.url.as_deref(),
        Some("https://www.kellbridge.example/news/weir-audit-statement")
    );
    assert_eq!(doc.meta.kind, Some(SourceKind::Official));
    assert_eq!(
        doc.text,
        "Council responds to weir audit\n\n\
         The Kellbridge Borough Council welcomes the report of the Marlowe County Audit Office\n\
         and accepts its main recommendation.\n\n\
         Costs\n\n\
         The council notes that the audit's figure of £4.2m was calculated in December. Since then,\n\
         savings of £0.3m have been agreed with the contractor. See the cost schedule\n\
         for details.\n\n\
         The footpath will reopen in the spring.\n\
         The fish pass design is now final.\n\n\
         \"We should have finished the survey first,\" said council leader Bram Oakes."
    );
}

#[test]
fn latin1_text_is_decoded() {
    let doc = read_one("riverside-notes-latin1.txt").unwrap();
    assert_eq!(doc.format, Format::Text);
    assert_eq!(
        doc.meta.title.as_deref(),
        Some("Notes from the riverside café meeting")
    );
    assert!(
        doc.text.contains("Renée Fässler and José Núñez"),
        "{}",
        doc.text
    );
    assert!(
        doc.text.contains("cost €1.2m, not the €0.8m"),
        "{}",
        doc.text
    );
    assert!(!doc.text.contains('\r'), "line endings normalised");
    assert!(doc.text.contains("consulted.\n\nThe engineers"));
}

#[test]
fn utf16_text_is_decoded() {
    let doc = read_one("footpath-notice-utf16.txt").unwrap();
    assert_eq!(
        doc.meta.title.as_deref(),
        Some("Public notice: Marlowe Weir footpath closure")
    );
    assert!(doc
        .text
        .starts_with("Public notice: Marlowe Weir footpath closure\n\nThe footpath"));
    assert!(doc.text.ends_with("(Fictional notice for software tests.)"));
}

#[test]
fn binary_junk_is_rejected_with_reason() {
    let e = read_one("binary-junk.txt").unwrap_err();
    assert_eq!(e.reason_code(), "binary");
    let msg = e.to_string();
    assert!(
        msg.contains("binary-junk.txt") && msg.contains("NUL byte"),
        "{msg}"
    );
}

#[test]
fn empty_and_blank_files_are_rejected() {
    for name in ["empty.txt", "blank.md"] {
        let e = read_one(name).unwrap_err();
        assert_eq!(e.reason_code(), "empty", "{name}");
        assert!(e.to_string().contains(name), "{e}");
    }
}

#[test]
fn pdf_text_and_info_dictionary() {
    let doc = read_one("weir-audit-summary.pdf").unwrap();
    assert_eq!(doc.format, Format::Pdf);
    assert_eq!(
        doc.meta.title.as_deref(),
        Some("Marlowe Weir repairs: audit summary")
    );
    assert_eq!(
        doc.meta.author.as_deref(),
        Some("Marlowe County Audit Office")
    );
    assert_eq!(doc.meta.published, date(2024, 3, 4));
    assert!(
        doc.text.contains("Summary: Marlowe Weir repairs"),
        "{}",
        doc.text
    );
    assert!(
        doc.text
            .contains("Three change orders added 1.1 million pounds to the price."),
        "{}",
        doc.text
    );
    assert!(doc
        .text
        .contains("We make six recommendations to Kellbridge Borough Council."));
}

#[test]
fn truncated_pdf_is_corrupt() {
    let e = read_one("truncated.pdf").unwrap_err();
    assert_eq!(e.reason_code(), "corrupt_pdf");
    assert!(e.to_string().contains("truncated.pdf"), "{e}");
}

#[test]
fn non_pdf_named_pdf_says_what_it_is() {
    let e = read_one("not-really.pdf").unwrap_err();
    assert_eq!(e.reason_code(), "corrupt_pdf");
    assert!(e.to_string().contains("ZIP archive"), "{e}");
}

#[test]
fn jsonl_bad_line_does_not_sink_the_rest() {
    let path = fixture("weir-updates.jsonl");
    let docs = read_file(&path, &ReadOptions::default());
    assert_eq!(docs.len(), 4, "blank line skipped, bad line reported");
    let loc = |n: usize| format!("{}#L{n}", path.display());

    let d1 = docs[0].as_ref().unwrap();
    assert_eq!(d1.location, loc(1));
    assert_eq!(d1.format, Format::Jsonl);
    assert_eq!(
        d1.meta.title.as_deref(),
        Some("Coalition calls for temporary bridge")
    );
    assert_eq!(d1.meta.kind, Some(SourceKind::Advocacy));
    assert_eq!(d1.meta.published, date(2024, 3, 7));
    assert_eq!(
        d1.meta.url.as_deref(),
        Some("https://cleanrivers.example/news/bridge")
    );

    let d2 = docs[1].as_ref().unwrap();
    assert_eq!(d2.location, loc(2));
    assert_eq!(d2.meta.published, date(2022, 6, 3));
    assert_eq!(d2.meta.author.as_deref(), Some("Press Office"));
    assert_eq!(d2.meta.kind, Some(SourceKind::Official));

    let e = docs[2].as_ref().unwrap_err();
    assert_eq!(e.reason_code(), "bad_json");
    assert_eq!(e.location(), loc(4));

    let d5 = docs[3].as_ref().unwrap();
    assert_eq!(d5.location, loc(5));
    assert_eq!(
        d5.meta.kind,
        Some(SourceKind::Opinion),
        "explicit kind beats publisher"
    );
    assert_eq!(d5.meta.published, date(2024, 3, 8));
}

#[test]
fn size_cap_is_checked_before_reading() {
    let opts = ReadOptions {
        max_bytes: 1000,
        ..ReadOptions::default()
    };
    let e = read_file(&fixture("weir-repair-bill.html"), &opts)
        .remove(0)
        .unwrap_err();
    assert_eq!(e.reason_code(), "too_large");
    let msg = e.to_string();
    assert!(msg.contains("5516 bytes") || msg.contains("KiB"), "{msg}");
    assert!(msg.contains("1000 B"), "{msg}");
}

#[test]
fn missing_file_is_unreadable() {
    let e = read_file(Path::new("/no/such/file.txt"), &ReadOptions::default())
        .remove(0)
        .unwrap_err();
    assert_eq!(e.reason_code(), "unreadable");
    assert!(e.to_string().contains("/no/such/file.txt"));
}

#[test]
fn every_good_fixture_chunks_back_exactly() {
    let listing = walk(&fixture("")).unwrap();
    let mut good = 0;
    for path in &listing.files {
        for doc in read_file(path, &ReadOptions::default())
            .into_iter()
            .flatten()
        {
            good += 1;
            for c in chunk(&doc.text) {
                assert_eq!(char_slice(&doc.text, c.start, c.end), Some(c.text));
            }
        }
    }
    assert!(good >= 10, "{good}");
}

#[test]
fn walk_lists_sorted_and_reports_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("b/deeper")).unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    for f in [
        "z.txt",
        "a.md",
        "b/page.HTML",
        "b/deeper/r.pdf",
        "b/x.jsonl",
        "notes.docx",
        "README",
        ".hidden.txt",
        ".git/config.txt",
    ] {
        std::fs::write(root.join(f), "x").unwrap();
    }
    let r = walk(root).unwrap();
    let rel: Vec<String> = r
        .files
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert_eq!(
        rel,
        [
            "a.md",
            "b/deeper/r.pdf",
            "b/page.HTML",
            "b/x.jsonl",
            "z.txt"
        ]
    );
    let skipped: Vec<(String, &str)> = r
        .skipped
        .iter()
        .map(|s| {
            (
                s.path.strip_prefix(root).unwrap().display().to_string(),
                s.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0].0, "README");
    assert!(skipped[0].1.contains("no file extension"));
    assert_eq!(skipped[1].0, "notes.docx");
    assert!(skipped[1].1.contains("`.docx`"));

    // A single file is its own listing; a missing path is an error.
    assert_eq!(
        walk(&root.join("z.txt")).unwrap().files,
        vec![root.join("z.txt")]
    );
    assert_eq!(
        walk(&root.join("nope")).unwrap_err().reason_code(),
        "unreadable"
    );
}

#[cfg(unix)]
#[test]
fn walk_does_not_follow_folder_links() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::fs::write(root.join("sub/a.txt"), "x").unwrap();
    std::os::unix::fs::symlink(root, root.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink(root.join("sub/a.txt"), root.join("link.txt")).unwrap();
    let r = walk(root).unwrap();
    assert_eq!(r.files, vec![root.join("link.txt"), root.join("sub/a.txt")]);
    assert!(r.skipped[0].reason.contains("not followed"));
}

#[test]
fn kind_rules_from_toml_apply_when_reading() {
    let rules = verity_ingest::KindRules::from_toml_str(
        "[[rule]]\nkind = \"reference\"\nlocation = [\"riverside-notes\"]\n",
    )
    .unwrap();
    let opts = ReadOptions {
        kind_rules: rules,
        ..ReadOptions::default()
    };
    let doc = read_file(&fixture("riverside-notes-latin1.txt"), &opts)
        .remove(0)
        .unwrap();
    assert_eq!(doc.meta.kind, Some(SourceKind::Reference));
}
