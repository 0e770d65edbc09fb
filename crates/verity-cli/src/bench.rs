//! `verity bench`: ingest throughput and search latency on a generated corpus.
//!
//! The corpus is synthetic English-like text (a Zipf-distributed vocabulary, sentences
//! of 8–30 words, documents of a few passages) so the numbers depend only on this
//! machine and this build. Numbers go to stdout as a table and, with `--json`, JSON.

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use std::io::Write;
use std::time::Instant;
use verity_engine::{IngestOptions, Library, LibraryOptions, ModelsMode};
use verity_types::{SearchMode, SearchRequest};

#[derive(Args)]
pub struct BenchArgs {
    /// Approximate number of passages to generate.
    #[arg(long, default_value_t = 100_000)]
    passages: usize,
    /// Number of search queries to time.
    #[arg(long, default_value_t = 500)]
    queries: usize,
    /// Where to build the throwaway library (default: a temporary directory).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Small deterministic PRNG (xorshift64*), so every run generates the same corpus.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Zipf-like rank in 0..n via inverse power sampling.
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) - 1.0) as usize % n
    }
}

fn vocabulary(n: usize, rng: &mut Rng) -> Vec<String> {
    const SYL: [&str; 24] = [
        "ka", "ri", "mon", "vel", "ta", "lor", "en", "bar", "sti", "qua", "dor", "fen", "gal",
        "hul", "ix", "jor", "ne", "pra", "sol", "tur", "um", "wen", "yar", "zo",
    ];
    (0..n)
        .map(|_| {
            let k = 1 + rng.below(3);
            (0..k)
                .map(|_| SYL[rng.below(SYL.len())])
                .collect::<String>()
        })
        .collect()
}

fn document(vocab: &[String], rng: &mut Rng, words: usize) -> String {
    let mut out = String::with_capacity(words * 7);
    let mut in_sentence = 0;
    let mut sentence_len = 8 + rng.below(22);
    for _ in 0..words {
        let w = &vocab[rng.zipf(vocab.len())];
        if in_sentence == 0 {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push_str(w);
        }
        in_sentence += 1;
        if in_sentence == sentence_len {
            out.push_str(". ");
            in_sentence = 0;
            sentence_len = 8 + rng.below(22);
        } else {
            out.push(' ');
        }
    }
    out.push('.');
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn run(a: &BenchArgs, quiet: bool) -> Result<()> {
    let tmp;
    let dir = match &a.dir {
        Some(d) => d.clone(),
        None => {
            tmp = std::env::temp_dir().join(format!("verity-bench-{}", std::process::id()));
            tmp
        }
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let corpus = dir.join("corpus.jsonl");
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let vocab = vocabulary(30_000, &mut rng);
    // ~120 words per passage, 3 passages per document on average.
    let docs = a.passages.div_ceil(3);
    let gen_start = Instant::now();
    {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(&corpus)
                .with_context(|| format!("creating {}", corpus.display()))?,
        );
        for i in 0..docs {
            let words = 240 + rng.below(240);
            let text = document(&vocab, &mut rng, words);
            let line = json!({"title": format!("Generated document {i}"), "publisher": "Bench Generator", "text": text});
            writeln!(f, "{line}")?;
        }
    }
    if !quiet {
        eprintln!(
            "generated {docs} documents in {:.1}s at {}",
            gen_start.elapsed().as_secs_f64(),
            corpus.display()
        );
    }
    let lib = Library::open(LibraryOptions {
        data_dir: dir.join("library"),
        models: ModelsMode::Off,
        read_only: false,
    })?;
    let bars = crate::progress::Bars::new(quiet);
    let report = lib.ingest(
        &[corpus.display().to_string()],
        &IngestOptions {
            embed: false,
            // The generated corpus is one large JSONL file; the per-file cap is for
            // untrusted inputs, not for this.
            max_bytes: u64::MAX,
            ..IngestOptions::default()
        },
        &bars,
    )?;
    bars.finish();
    if let Some(f) = report.failed.first() {
        anyhow::bail!("the generated corpus did not ingest: {}", f.message);
    }
    let mut lat = Vec::with_capacity(a.queries);
    let mut qrng = Rng(0x0bad_cafe_0000_0042);
    let mut total_hits = 0usize;
    for _ in 0..a.queries {
        let n = 2 + qrng.below(4);
        let q: Vec<&str> = (0..n).map(|_| vocab[qrng.zipf(2_000)].as_str()).collect();
        let mut req = SearchRequest::new(q.join(" "), 10);
        req.mode = SearchMode::Bm25;
        let t = Instant::now();
        total_hits += lib.search(&req)?.len();
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    let out = json!({
        "documents": report.added,
        "passages": report.passages,
        "text_mb": report.bytes as f64 / 1e6,
        "ingest_seconds": report.seconds,
        "ingest_mb_per_s": report.mb_per_s(),
        "ingest_timings": report.timings,
        "queries": a.queries,
        "search_p50_ms": p50,
        "search_p99_ms": p99,
        "mean_hits": total_hits as f64 / a.queries.max(1) as f64,
    });
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "ingest: {} documents, {} passages, {:.1} MB of text in {:.1}s = {:.1} MB/s",
            report.added,
            report.passages,
            report.bytes as f64 / 1e6,
            report.seconds,
            report.mb_per_s()
        );
        let t = &report.timings;
        println!(
            "  stages (s): read {:.2}, prepare {:.2}, store {:.2}, index {:.2}, embed {:.2}",
            t.read, t.prepare, t.store, t.index, t.embed
        );
        println!(
            "search (BM25, top 10, {} queries): p50 {p50:.2} ms, p99 {p99:.2} ms",
            a.queries
        );
    }
    if a.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
