//! Measure embedding throughput on ~128-token passages.
//!
//! cargo run --release -p verity-embed --example bench_embed -- [MODEL_DIR] [N] [BATCH]
#![allow(clippy::unwrap_used)]
use std::path::PathBuf;
use std::time::Instant;

use verity_embed::{Embedder, MiniLmEmbedder};

/// User + system CPU time of this process (Linux; 0 elsewhere). The machine may be shared,
/// so passages per CPU-second says what an idle machine would do per core.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which is in parentheses): utime is 14th, stime 15th.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

const WORDS: &[&str] = &[
    "council",
    "river",
    "budget",
    "harbour",
    "report",
    "inspectors",
    "Brenmoor",
    "schools",
    "announced",
    "increase",
    "water",
    "agency",
    "residents",
    "funding",
    "survey",
    "bridge",
    "officials",
    "quarterly",
    "shortfall",
    "percent",
    "district",
    "hospital",
    "transport",
    "audit",
    "found",
    "that",
    "the",
    "of",
    "in",
    "was",
    "and",
    "to",
    "by",
    "with",
    "Caldry",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    // The model folder: the first argument, else where `scripts/setup-models.sh` installs it.
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| {
        let models = std::env::var_os("VERITY_MODELS").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../verity-data/models"),
            PathBuf::from,
        );
        models.join("all-minilm-l6-v2")
    });
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(128);
    let batch: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(32);
    let t = Instant::now();
    let model = MiniLmEmbedder::load(&dir)?.with_batch_size(batch);
    eprintln!("loaded in {:.2}s", t.elapsed().as_secs_f64());

    // Deterministic pseudo-text, each grown until it is ~128 tokens.
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut passages = Vec::with_capacity(n);
    let mut tokens = 0;
    for _ in 0..n {
        let mut s = String::new();
        loop {
            let w = WORDS[(next() % WORDS.len() as u64) as usize];
            s.push_str(w);
            s.push(if next() % 9 == 0 { '.' } else { ' ' });
            if s.len() > 500 && model.token_count(&s)? >= 128 {
                break;
            }
        }
        tokens += model.token_count(&s)?;
        passages.push(s);
    }
    let refs: Vec<&str> = passages.iter().map(|s| s.as_str()).collect();
    model.embed(&refs[..batch.min(n)])?; // warm up
    let cpu0 = cpu_seconds();
    let t = Instant::now();
    let v = model.embed(&refs)?;
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    println!(
        "{n} passages, {:.0} tokens avg, batch {batch}, threads {}: {:.2}s wall, {:.1} passages/s; \
         {:.2} CPU-s, {:.1} passages per CPU-second (dim {})",
        tokens as f64 / n as f64,
        rayon::current_num_threads(),
        secs,
        n as f64 / secs,
        cpu,
        n as f64 / cpu,
        v[0].len()
    );
    Ok(())
}
