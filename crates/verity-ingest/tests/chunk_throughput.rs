//! Chunker throughput on generated prose. Ignored by default; measure with
//! `cargo test --release -p verity-ingest --test chunk_throughput -- --ignored --nocapture`.

#![allow(clippy::unwrap_used)]

use std::time::Instant;
use verity_ingest::{chunk, fingerprint};

/// Deterministic pseudo-prose with abbreviations, decimals, quotes and paragraphs.
fn generate(bytes: usize) -> String {
    const WORDS: &[&str] = &[
        "the",
        "council",
        "said",
        "weir",
        "repairs",
        "would",
        "cost",
        "more",
        "than",
        "expected",
        "Dr.",
        "Ames",
        "U.S.",
        "engineers",
        "3.5",
        "million",
        "pounds",
        "e.g.",
        "survey",
        "foundations",
        "Kellbridge",
        "residents",
        "“quoted”",
        "river",
        "Kell",
        "Mr.",
        "Oakes",
        "é",
    ];
    let mut s = String::with_capacity(bytes + 200);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut n = 0u64;
    while s.len() < bytes {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let w = WORDS[(x % WORDS.len() as u64) as usize];
        let pos_in_sentence = n % 17;
        if pos_in_sentence == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                s.extend(f.to_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push_str(w);
        }
        n += 1;
        let (pos_in_sentence, pos_in_paragraph) = (n % 17, n % 170);
        s.push_str(match pos_in_sentence {
            0 if pos_in_paragraph == 0 => ".\n\n",
            0 => ". ",
            _ => " ",
        });
    }
    s
}

#[test]
#[ignore = "benchmark; run in release mode"]
fn chunker_throughput() {
    let text = generate(64 * 1024 * 1024);
    let mb = text.len() as f64 / 1e6;
    let mut best = f64::MAX;
    let mut count = 0;
    for _ in 0..3 {
        let t = Instant::now();
        count = chunk(&text).len();
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "chunk: {mb:.1} MB in {best:.3}s = {:.0} MB/s ({count} passages)",
        mb / best
    );
    let t = Instant::now();
    let f = fingerprint(&text);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "fingerprint: {:.0} MB/s ({} shingles)",
        mb / secs,
        f.shingle_count()
    );
    assert!(mb / best > 50.0, "chunker slower than 50 MB/s");
}

#[test]
fn generated_text_chunks_to_target_sizes() {
    let text = generate(200_000);
    let chunks = chunk(&text);
    let sizes: Vec<usize> = chunks
        .iter()
        .map(|c| c.text.split_whitespace().count())
        .collect();
    let avg = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
    assert!((60.0..=200.0).contains(&avg), "average {avg}");
    assert!(sizes.iter().all(|&n| n <= 200), "{sizes:?}");
}
