//! Near-duplicate detection on the fictional weir stories: a syndicated copy (own
//! header and footer, a handful of edited words) is caught; different stories on the
//! same topic, sharing names and figures, are not.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use verity_ingest::{fingerprint, read_file, Fingerprint, ReadOptions, NEAR_DUP_THRESHOLD};

fn fp(name: &str) -> Fingerprint {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/neardup")
        .join(name);
    let doc = read_file(&path, &ReadOptions::default()).remove(0).unwrap();
    fingerprint(&doc.text)
}

#[test]
fn syndicated_copy_is_caught() {
    let original = fp("gazette-original.txt");
    let copy = fp("courier-syndicated.txt");
    let s = original.similarity(&copy);
    eprintln!("original vs syndicated copy: {s:.3}");
    assert!(s >= NEAR_DUP_THRESHOLD + 0.1, "{s}");
    assert!(original.is_near_duplicate(&copy));
    assert_eq!(s, copy.similarity(&original), "symmetric");
}

#[test]
fn same_topic_different_stories_are_not() {
    let names = [
        "gazette-original.txt",
        "courier-own-story.txt",
        "coalition-release.txt",
    ];
    let fps: Vec<Fingerprint> = names.iter().map(|n| fp(n)).collect();
    for i in 0..fps.len() {
        for j in i + 1..fps.len() {
            let s = fps[i].similarity(&fps[j]);
            eprintln!("{} vs {}: {s:.3}", names[i], names[j]);
            assert!(
                s < NEAR_DUP_THRESHOLD - 0.3,
                "{} vs {}: {s}",
                names[i],
                names[j]
            );
        }
    }
    let copy = fp("courier-syndicated.txt");
    assert!(
        copy.similarity(&fps[1]) < 0.2,
        "same outlet, different story"
    );
}

#[test]
fn fingerprints_survive_storage() {
    let a = fp("gazette-original.txt");
    let b = Fingerprint::from_bytes(&a.to_bytes()).unwrap();
    assert_eq!(a.similarity(&b), 1.0);
}

fn original_text() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/neardup/gazette-original.txt");
    read_file(&path, &ReadOptions::default())
        .remove(0)
        .unwrap()
        .text
}

#[test]
fn trimmed_and_reframed_copies_are_caught() {
    let orig = original_text();
    let base = fingerprint(&orig);
    // Cut for length: the last paragraph dropped, a new header on top.
    let paras: Vec<&str> = orig.split("\n\n").collect();
    let trimmed = format!(
        "From our partners at the Gazette. Shared under licence.\n\n{}",
        paras[..paras.len() - 1].join("\n\n")
    );
    // Light copy-editing: figures and a few words restyled.
    let edited = orig
        .replace("£2.0m", "£2 million")
        .replace("£4.2m", "£4.2 million")
        .replace("more than doubled", "doubled")
        .replace("Council leader", "The council's leader");
    for (name, variant) in [("trimmed", trimmed), ("edited", edited)] {
        let s = base.similarity(&fingerprint(&variant));
        eprintln!("original vs {name}: {s:.3}");
        assert!(s >= NEAR_DUP_THRESHOLD, "{name}: {s}");
    }
}
