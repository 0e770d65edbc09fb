//! Hostile inputs through the real `verity` binary (issue 14): special files are
//! refused by name and never opened, the size cap names its flag, and titles or text
//! with terminal escape sequences print without them.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::Path;
use std::process::Command;

mod common;
use common::{run_ok, verity};

/// The JSON report of an ingest; exit status 0, or 2 when inputs failed.
fn ingest_json(data: &Path, args: &[&str]) -> Value {
    let out = verity(data)
        .arg("ingest")
        .arg("--json")
        .args(args)
        .output()
        .expect("run verity");
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "verity failed: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

#[test]
fn fifos_and_device_links_are_refused_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("lib");
    let docs = tmp.path().join("docs");
    std::fs::create_dir(&docs).unwrap();
    std::fs::write(
        docs.join("weir.txt"),
        "The Kellbridge weir closes for repairs on Monday.",
    )
    .unwrap();
    // A FIFO with no writer (reading it would hang the ingest) and a link to
    // /dev/zero (metadata length 0, endless content).
    let fifo = docs.join("pipe.txt");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let zero = docs.join("zero.md");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();

    let r = ingest_json(&data, &[docs.to_str().unwrap()]);
    assert_eq!(r["added"], 1, "{r}");
    let skipped = r["skipped"].as_array().unwrap();
    let reason = |p: &Path| {
        skipped
            .iter()
            .find(|s| s["location"] == p.display().to_string())
            .and_then(|s| s["message"].as_str())
            .unwrap_or_else(|| panic!("{} not skipped: {r}", p.display()))
            .to_string()
    };
    assert!(reason(&fifo).contains("FIFO"));
    assert!(reason(&zero).contains("character device"));

    // Named on the command line, each is a failure that names the file.
    for (path, kind) in [(&fifo, "FIFO"), (&zero, "character device")] {
        let r = ingest_json(&data, &[path.to_str().unwrap()]);
        let f = &r["failed"][0];
        assert_eq!(f["reason"], "special_file", "{r}");
        assert_eq!(f["location"], path.display().to_string());
        let msg = f["message"].as_str().unwrap();
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains(kind),
            "{msg}"
        );
    }
}

#[test]
fn size_cap_error_names_the_file_and_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("lib");
    let big = tmp.path().join("big.txt");
    std::fs::write(&big, "The weir is shut. ".repeat(100_000)).unwrap();
    let r = ingest_json(&data, &["--max-size-mb", "1", big.to_str().unwrap()]);
    let f = &r["failed"][0];
    assert_eq!(f["reason"], "too_large", "{r}");
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("big.txt") && msg.contains("1.0 MiB") && msg.contains("--max-size-mb"),
        "{msg}"
    );
}

#[test]
fn search_and_sources_print_no_terminal_escapes() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("lib");
    let doc = tmp.path().join("evil.md");
    // The title sets the window title (OSC 0) and clears the screen (CSI 2J); the body
    // recolours text, writes the clipboard (OSC 52) and uses the one-byte C1 CSI.
    std::fs::write(
        &doc,
        format!("---\ntitle: \"Weir \\e]0;pwned\\a report\\e[2J\"\npublisher: \"Gazette\\e[31m\"\n---\n\
         The Kellbridge \u{1b}[31mweir\u{1b}[0m closes for repairs on Monday.\u{1b}]52;c;ZXZpbA==\u{7} \
         Work on the \u{9b}2Jsluice gates starts at dawn.\n{}",
        // Enough plain text that a few control characters do not make it look binary.
        "The council approved the repair budget after a long debate. ".repeat(20)
        ),
    )
    .unwrap();
    let r = ingest_json(&data, &[doc.to_str().unwrap()]);
    assert_eq!(r["added"], 1, "{r}");
    let search = run_ok(verity(&data).args(["search", "weir repairs"]));
    let sources = run_ok(verity(&data).arg("sources"));
    for out in [&search, &sources] {
        let text = String::from_utf8(out.stdout.clone()).unwrap();
        assert!(text.contains("Weir"), "{text}");
        for bad in ['\u{1b}', '\u{7}', '\u{9b}'] {
            assert!(!text.contains(bad), "{bad:?} in {text:?}");
        }
        assert!(
            !text.contains("pwned") && !text.contains("ZXZpbA"),
            "{text}"
        );
    }
    let text = String::from_utf8(search.stdout).unwrap();
    // The title keeps its words; only the sequences between them are gone.
    assert!(text.contains("Weir  report"), "{text}");
    assert!(text.contains("sluice gates"), "{text}");
}

/// The failures of an ingest report by location file name: `(reason, message)`.
fn failure_of(report: &Value, file: &str) -> (String, String) {
    let f = report["failed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("no failure for {file}: {report}"));
    (
        f["reason"].as_str().unwrap().to_string(),
        f["message"].as_str().unwrap().to_string(),
    )
}

/// A folder with one honest PDF (read through the parse worker) and one Markdown file.
fn pdf_and_notes(dir: &Path) -> std::path::PathBuf {
    let docs = dir.join("docs");
    std::fs::create_dir(&docs).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../verity-ingest/tests/fixtures/weir-audit-summary.pdf");
    std::fs::copy(fixture, docs.join("weir-audit-summary.pdf")).unwrap();
    std::fs::write(
        docs.join("notes.md"),
        "# Pier notes\n\nThe Port Vellan ferry pier grows by forty metres this spring.\n",
    )
    .unwrap();
    docs
}

#[test]
fn pdfs_are_read_in_a_parse_worker_and_a_stalled_one_is_one_named_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = pdf_and_notes(tmp.path());
    // Default isolation: the PDF goes through `verity parse-worker` and comes back read.
    let r = ingest_json(&tmp.path().join("a"), &[docs.to_str().unwrap()]);
    assert_eq!(r["added"], 2, "{r}");

    // A deadline no parse can meet stands in for a parser that never returns: the
    // worker is killed, the PDF is one named failure and the Markdown file still goes in.
    let dir = tmp.path().join("b");
    let r = ingest_json(&dir, &[docs.to_str().unwrap(), "--parse-timeout-secs", "0"]);
    assert_eq!(r["added"], 1, "{r}");
    let (reason, message) = failure_of(&r, "weir-audit-summary.pdf");
    assert_eq!(reason, "parse_timeout");
    assert!(message.contains("--parse-timeout-secs"), "{message}");
    let out = run_ok(verity(&dir).args(["sources", "--json"]));
    let sources: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sources.as_array().unwrap().len(), 1, "{sources}");
}

#[test]
fn a_parse_worker_over_its_memory_cap_is_stopped_not_the_ingest() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = pdf_and_notes(tmp.path());
    // 48 MB of text, every format isolated, a 192 MB address-space cap: enough for a
    // worker to start and read the small files, not to hold this one three times over
    // (bytes, decoded text, parsed text). That worker dies alone.
    let line = "The harbour board of Port Vellan met again about the ferry pier.\n";
    std::fs::write(
        docs.join("minutes.md"),
        line.repeat(48 * 1024 * 1024 / line.len()),
    )
    .unwrap();
    let r = ingest_json(
        &tmp.path().join("lib"),
        &[
            docs.to_str().unwrap(),
            "--parse-isolation",
            "all",
            "--parse-memory-mb",
            "192",
        ],
    );
    let (reason, message) = failure_of(&r, "minutes.md");
    assert_eq!(reason, "parse_crashed", "{message}");
    assert!(message.contains("--parse-memory-mb"), "{message}");
    assert_eq!(r["added"], 2, "the PDF and the notes still go in: {r}");
    assert_eq!(r["failed"].as_array().unwrap().len(), 1, "{r}");
}

/// A PDF whose one Flate stream inflates to `zeros` bytes.
fn inflating_pdf(zeros: usize) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![0u8; zeros]).unwrap();
    let stream = z.finish().unwrap();
    let mut pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n".to_vec();
    pdf.extend_from_slice(
        format!(
            "3 0 obj\n<< /Length {} /Filter /FlateDecode >>\nstream\n",
            stream.len()
        )
        .as_bytes(),
    );
    pdf.extend_from_slice(&stream);
    pdf.extend_from_slice(b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n");
    pdf
}

#[test]
fn the_inflate_cap_reaches_the_parse_worker() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = pdf_and_notes(tmp.path());
    // 8 MiB of zeros in a few KB: over a 1 MB inflate cap, far under the default one.
    std::fs::write(docs.join("bomb.pdf"), inflating_pdf(8 * 1024 * 1024)).unwrap();
    let r = ingest_json(
        &tmp.path().join("lib"),
        &[docs.to_str().unwrap(), "--max-inflate-mb", "1"],
    );
    let (reason, message) = failure_of(&r, "bomb.pdf");
    assert_eq!(reason, "decompressed_too_large", "{message}");
    assert!(message.contains("--max-inflate-mb"), "{message}");
    assert_eq!(r["added"], 2, "{r}");
}
