//! Measures stance pairs/s on pairs of exactly `--tokens` tokens (default 128).
//!
//! ```text
//! cargo run --release -p verity-judge --example bench -- MODEL_DIR TOKENIZER_JSON \
//!     [--pairs 256] [--tokens 128] [--batch 32] [--rounds 3]
//! ```

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

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        return Err("usage: bench MODEL_DIR TOKENIZER_JSON [--pairs N] [--tokens T] [--batch B] [--rounds R]".into());
    }
    let mut n_pairs = 256usize;
    let mut tokens = 128usize;
    let mut batch = 32usize;
    let mut rounds = 3usize;
    let mut i = 2;
    while i + 1 < args.len() {
        let v: usize = args[i + 1].parse()?;
        match args[i].as_str() {
            "--pairs" => n_pairs = v,
            "--tokens" => tokens = v,
            "--batch" => batch = v,
            "--rounds" => rounds = v,
            o => return Err(format!("unknown argument {o}").into()),
        }
        i += 2;
    }
    let model_dir = PathBuf::from(&args[0]);
    let tok_path = PathBuf::from(&args[1]);
    let model = CrossEncoderStance::load(&model_dir, &tok_path)?.with_batch_size(batch);
    let mut tok = Tokenizer::from_file(&tok_path)?;
    tok.with_padding(None);
    tok.with_truncation(None)?;
    // Fictional pairs padded word by word to exactly `tokens` tokens.
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(n_pairs);
    for p in 0..n_pairs {
        let claim = format!("The bridge in Dunmore number {p} reopened to traffic in May after repairs.");
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
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(c, e)| (c.as_str(), e.as_str())).collect();
    model.score(&refs[..batch.min(refs.len())])?; // warm-up
    let mut best = 0.0f64;
    for r in 0..rounds {
        let t = Instant::now();
        let out = model.score(&refs)?;
        let secs = t.elapsed().as_secs_f64();
        let rate = out.len() as f64 / secs;
        best = best.max(rate);
        eprintln!("round {r}: {} pairs in {secs:.2} s = {rate:.1} pairs/s", out.len());
    }
    println!(
        "{{\"pairs\": {n_pairs}, \"mean_tokens\": {mean:.1}, \"batch\": {batch}, \"threads\": {}, \"best_pairs_per_sec\": {best:.1}}}",
        rayon::current_num_threads()
    );
    Ok(())
}
