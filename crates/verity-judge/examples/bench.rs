//! Measures stance pairs/s on pairs of exactly `--tokens` tokens (default 128).
//!
//! ```text
//! cargo run --release -p verity-judge --example bench -- MODEL_DIR TOKENIZER_JSON \
//!     [--pairs 256] [--tokens 128] [--batch-tokens 2048] [--rounds 3]
//! ```
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Instant;

use tokenizers::Tokenizer;
use verity_judge::{CrossEncoderStance, StanceModel};

const WORDS: &[&str] = &[
    "the", "river", "town", "council", "bridge", "market", "morning", "report", "water", "road",
    "north", "school", "said", "after", "during", "year", "people", "new", "old", "city",
    "station", "weather", "train", "summer", "winter", "building", "public", "local", "small",
    "large", "meeting", "village", "farm", "harbour", "boat", "street", "house", "garden",
];

/// CPU seconds (user + system) this process has used, from /proc (Linux only; 0 elsewhere).
/// The machine is shared, so wall-clock rates undercount what the code can do; pairs per
/// CPU-second times the core count is the rate an idle machine would give if the work
/// scaled perfectly.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of the file (utime, stime) are 11 and 12 after the `)`.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        return Err("usage: bench MODEL_DIR TOKENIZER_JSON [--pairs N] [--tokens T] [--batch-tokens B] [--rounds R]".into());
    }
    let mut n_pairs = 256usize;
    let mut tokens = 128usize;
    let mut batch = 2048usize;
    let mut rounds = 3usize;
    let mut i = 2;
    while i + 1 < args.len() {
        let v: usize = args[i + 1].parse()?;
        match args[i].as_str() {
            "--pairs" => n_pairs = v,
            "--tokens" => tokens = v,
            "--batch-tokens" => batch = v,
            "--rounds" => rounds = v,
            o => return Err(format!("unknown argument {o}").into()),
        }
        i += 2;
    }
    let model_dir = PathBuf::from(&args[0]);
    let tok_path = PathBuf::from(&args[1]);
    let model = CrossEncoderStance::load(&model_dir, &tok_path)?.with_batch_tokens(batch);
    let mut tok = Tokenizer::from_file(&tok_path)?;
    tok.with_padding(None);
    tok.with_truncation(None)?;
    // Fictional pairs padded word by word to exactly `tokens` tokens.
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(n_pairs);
    for p in 0..n_pairs {
        let claim =
            format!("The bridge in Dunmore number {p} reopened to traffic in May after repairs.");
        let mut ev = String::new();
        let mut w = p;
        loop {
            let next = format!("{ev}{} ", WORDS[w % WORDS.len()]);
            let n = tok.encode((claim.as_str(), next.trim_end()), true)?.len();
            if n > tokens {
                break;
            }
            ev = next;
            w += 7;
        }
        pairs.push((claim, ev.trim_end().to_string()));
    }
    let lens: Vec<usize> = pairs
        .iter()
        .map(|(c, e)| tok.encode((c.as_str(), e.as_str()), true).map(|e| e.len()))
        .collect::<Result<_, _>>()?;
    let mean = lens.iter().sum::<usize>() as f64 / lens.len() as f64;
    let refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(c, e)| (c.as_str(), e.as_str()))
        .collect();
    model.score(&refs[..8.min(refs.len())])?; // warm-up
    let mut best = 0.0f64;
    let mut best_cpu = 0.0f64;
    for r in 0..rounds {
        let t = Instant::now();
        let c = cpu_seconds();
        let out = model.score(&refs)?;
        let secs = t.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - c;
        let rate = out.len() as f64 / secs;
        let per_cpu = if cpu > 0.0 {
            out.len() as f64 / cpu
        } else {
            0.0
        };
        best = best.max(rate);
        best_cpu = best_cpu.max(per_cpu);
        eprintln!(
            "round {r}: {} pairs in {secs:.2} s wall, {cpu:.2} CPU-s = {rate:.1} pairs/s, {per_cpu:.1} pairs per CPU-second",
            out.len()
        );
    }
    println!(
        "{{\"pairs\": {n_pairs}, \"mean_tokens\": {mean:.1}, \"batch_tokens\": {batch}, \"threads\": {}, \"best_pairs_per_sec\": {best:.1}, \"best_pairs_per_cpu_sec\": {best_cpu:.1}}}",
        rayon::current_num_threads()
    );
    Ok(())
}
