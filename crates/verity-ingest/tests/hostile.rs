//! Hostile files (issue 14): special files are never opened, and byte caps hold while
//! reading. Every fixture is made here, in a temporary folder.

#![cfg(unix)]
#![allow(clippy::unwrap_used)]

use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::Command;
use verity_ingest::{read_bytes, read_file, walk, IngestError, ReadOptions, MAX_HTML_DEPTH};
use verity_types::Format;

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

fn only_err(mut docs: Vec<Result<verity_types::Document, IngestError>>) -> IngestError {
    assert_eq!(docs.len(), 1);
    docs.remove(0).unwrap_err()
}

#[test]
fn walk_skips_fifos_devices_and_sockets_without_opening_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("notes.txt"), "The weir is shut.").unwrap();
    // A FIFO with no writer: opening it for reading would block for ever.
    mkfifo(&root.join("pipe.txt"));
    // Metadata length 0, content without end.
    std::os::unix::fs::symlink("/dev/zero", root.join("zero.txt")).unwrap();
    let _sock = UnixListener::bind(root.join("sock.md")).unwrap();
    let r = walk(root).unwrap();
    assert_eq!(r.files, vec![root.join("notes.txt")]);
    let reason = |name: &str| {
        r.skipped
            .iter()
            .find(|s| s.path == root.join(name))
            .map(|s| s.reason.clone())
            .unwrap_or_else(|| panic!("{name} not reported: {:?}", r.skipped))
    };
    assert!(
        reason("pipe.txt").contains("FIFO"),
        "{}",
        reason("pipe.txt")
    );
    assert!(reason("zero.txt").contains("character device"));
    assert!(reason("sock.md").contains("socket"));
}

#[test]
fn explicit_special_files_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.txt");
    mkfifo(&fifo);
    let zero = dir.path().join("zero.txt");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    for (path, kind) in [(&fifo, "FIFO"), (&zero, "character device")] {
        // As a command-line argument (walk) ...
        let e = walk(path).unwrap_err();
        assert_eq!(e.reason_code(), "special_file");
        // ... and read directly: refused before it is opened, so this returns at once.
        let e = only_err(read_file(path, &ReadOptions::default()));
        assert_eq!(e.reason_code(), "special_file");
        assert_eq!(e.location(), path.display().to_string());
        let msg = e.to_string();
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains(kind),
            "{msg}"
        );
    }
    let e = only_err(read_file(Path::new("/dev/null"), &ReadOptions::default()));
    assert_eq!(e.reason_code(), "special_file");
}

#[test]
fn size_cap_names_the_file_cap_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.txt");
    std::fs::write(&path, "word ".repeat(1000)).unwrap();
    let opts = ReadOptions {
        max_bytes: 100,
        ..ReadOptions::default()
    };
    let e = only_err(read_file(&path, &opts));
    assert_eq!(e.reason_code(), "too_large");
    let msg = e.to_string();
    assert!(
        msg.contains("big.txt") && msg.contains("100 B") && msg.contains("--max-size-mb"),
        "{msg}"
    );
    // At the cap exactly is fine.
    let opts = ReadOptions {
        max_bytes: 5000,
        ..ReadOptions::default()
    };
    assert!(read_file(&path, &opts)[0].is_ok());
}

#[test]
fn nested_html_is_refused_at_the_depth_cap() {
    // Issue 14 item 3: 100,000 nested <div>s used to take over a minute (quadratic in
    // depth); the depth scan refuses the page after MAX_HTML_DEPTH + 1 open tags.
    let depth = 100_000;
    let html = format!(
        "<html><body>{}x{}</body></html>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    );
    let e = only_err(read_bytes(
        html.as_bytes(),
        "deep.html",
        Some(Format::Html),
        &ReadOptions::default(),
    ));
    assert_eq!(e.reason_code(), "too_deep");
    assert!(e.to_string().contains(&MAX_HTML_DEPTH.to_string()));
}
