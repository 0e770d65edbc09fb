//! Time Verity's one-pass English analyser against tantivy's equivalent chain on real
//! text, in one run (compare the ratio; absolute numbers move with the machine's load).
//!
//! ```sh
//! cargo run --release -p verity-index --example analyse -- corpus.jsonl [MB]
//! ```
//! Reads the `text` field of each JSONL line (or a plain text file), up to MB megabytes
//! (default 20), and tokenizes it three times with each analyser, alternating.

use std::io::BufRead;
use std::time::Instant;
use tantivy::tokenizer::{TextAnalyzer, Token};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: analyse FILE [MB]")?;
    let limit: usize = args.next().map(|m| m.parse()).transpose()?.unwrap_or(20) * 1_000_000;
    let file = std::io::BufReader::new(std::fs::File::open(&path)?);
    let mut texts = Vec::new();
    let mut bytes = 0;
    for line in file.lines() {
        let line = line?;
        let text = if path.ends_with(".jsonl") {
            let doc: serde_json::Value = serde_json::from_str(&line)?;
            match doc.get("text").and_then(|t| t.as_str()) {
                Some(t) => t.to_string(),
                None => continue,
            }
        } else {
            line
        };
        bytes += text.len();
        texts.push(text);
        if bytes >= limit {
            break;
        }
    }
    let mut ours = TextAnalyzer::from(verity_index::EnglishTokenizer::default());
    let mut theirs = verity_index::reference_analyzer();
    let run = |a: &mut TextAnalyzer| {
        let t = Instant::now();
        let mut n = 0usize;
        for text in &texts {
            a.token_stream(text).process(&mut |_: &Token| n += 1);
        }
        (n, t.elapsed().as_secs_f64())
    };
    println!("{:.1} MB in {} texts", bytes as f64 / 1e6, texts.len());
    for round in 1..=3 {
        let (n, a) = run(&mut ours);
        let (_, b) = run(&mut theirs);
        println!(
            "round {round}: {n} tokens; verity {:.0} ns/token ({:.0} MB/s), tantivy chain {:.0} ns/token; ratio {:.2}",
            a * 1e9 / n as f64,
            bytes as f64 / 1e6 / a,
            b * 1e9 / n as f64,
            b / a
        );
    }
    Ok(())
}
