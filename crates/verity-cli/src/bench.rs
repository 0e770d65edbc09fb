//! `verity bench`: ingest throughput, search latency and brief latency.
//!
//! By default the corpus is generated: synthetic English-like text (a Zipf-distributed
//! vocabulary, sentences of 8–30 words, documents of a few passages) so the numbers depend
//! only on this machine and this build. `--library` benchmarks the library at `--data`
//! instead (e.g. the demo corpus after `scripts/demo.sh`). `--briefs N` times N full
//! briefs with the installed models and reports how many of their sentences passed the
//! support check. Numbers go to stdout as a table and, with `--json`, JSON.

use anyhow::{Context, Result};
use clap::Args;
use serde_json::json;
use std::io::Write;
use std::time::Instant;
use verity_engine::{IngestOptions, Library, LibraryOptions, Mode, ModelsMode, Request};
use verity_types::NoProgress;
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
    /// Also time this many briefs (checks and questions), with the installed models.
    #[arg(long, default_value_t = 0)]
    briefs: usize,
    /// Benchmark the library at `--data` (no generated corpus, no ingest): search
    /// latency on `--questions`, and briefs with `--briefs N`.
    #[arg(long)]
    library: bool,
    /// Questions and claims for `--library`, one per line; a line starting `claim:` is
    /// checked as a claim. Default: built-in ones about the Wikipedia demo corpus.
    #[arg(long)]
    questions: Option<std::path::PathBuf>,
}

/// Built-in inputs for `--library` on the demo corpus (Wikipedia lead paragraphs).
const DEMO_INPUTS: &[&str] = &[
    "claim: Apollo 11 was the first crewed mission to land on the Moon.",
    "When was the Great Wall of China built, and why?",
    "claim: Photosynthesis converts light energy into chemical energy.",
    "Who designed the Eiffel Tower?",
    "claim: Penicillin was discovered by Alexander Fleming.",
    "How tall is Mount Everest?",
    "claim: The Amazon River flows into the Pacific Ocean.",
    "What caused the Black Death?",
    "claim: The printing press was invented by Johannes Gutenberg.",
    "How do vaccines work?",
    "claim: DNA carries genetic information in living organisms.",
    "When were the first modern Olympic Games held?",
    "claim: Coffee is made from roasted seeds of the coffee plant.",
    "What is the theory of relativity about?",
    "claim: The Internet grew out of research funded by the United States government.",
    "What drives climate change?",
    "claim: The Moon is the Earth's only natural satellite.",
    "How much of the Earth's surface is covered by water?",
    "claim: Mount Everest is located in the Andes.",
    "Where does the Amazon River begin?",
];

fn parse_input(line: &str) -> Option<(String, Mode)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    match line.strip_prefix("claim:") {
        Some(c) => Some((c.trim().to_string(), Mode::Check)),
        None => Some((line.to_string(), Mode::Ask)),
    }
}

/// Latency and support-check numbers over a set of briefs.
#[derive(serde::Serialize)]
struct BriefStats {
    briefs: usize,
    stance_model: String,
    dense: bool,
    brief_p50_s: f64,
    brief_p95_s: f64,
    sentences_checked: usize,
    sentences_kept: usize,
    share_kept: f64,
    share_model_supported: f64,
    share_kept_as_verbatim_quotes: f64,
}

impl BriefStats {
    fn print(&self) {
        println!(
            "briefs ({} with stance model `{}`, dense retrieval {}): p50 {:.2} s, p95 {:.2} s",
            self.briefs,
            self.stance_model,
            if self.dense { "on" } else { "off" },
            self.brief_p50_s,
            self.brief_p95_s,
        );
        println!(
            "  support check: {} of {} sentences kept ({:.1} %); the stance model itself supported {:.1} %, verbatim quotes {:.1} %",
            self.sentences_kept,
            self.sentences_checked,
            100.0 * self.share_kept,
            100.0 * self.share_model_supported,
            100.0 * self.share_kept_as_verbatim_quotes,
        );
    }
}

fn time_briefs(lib: &Library, inputs: &[(String, Mode)], quiet: bool) -> Result<BriefStats> {
    let today = chrono::Local::now().date_naive();
    let mut lat = Vec::with_capacity(inputs.len());
    let (mut checked, mut kept, mut model_supported, mut verbatim) =
        (0usize, 0usize, 0usize, 0usize);
    for (i, (input, mode)) in inputs.iter().enumerate() {
        let t = Instant::now();
        let b = lib
            .run_check(&Request::new(*mode, input.clone()), today, &NoProgress)
            .with_context(|| format!("brief for {input:?}"))?;
        let secs = t.elapsed().as_secs_f64();
        lat.push(secs);
        let v = &b.verification;
        checked += v.checked;
        kept += v.checked - v.dropped.len();
        model_supported += v.model_supported;
        verbatim += v.verbatim;
        if !quiet {
            eprintln!(
                "brief {}/{}: {secs:.2}s, {} of {} sentences kept: {input}",
                i + 1,
                inputs.len(),
                v.checked - v.dropped.len(),
                v.checked
            );
        }
    }
    lat.sort_by(f64::total_cmp);
    let share = |n: usize| {
        if checked == 0 {
            0.0
        } else {
            n as f64 / checked as f64
        }
    };
    Ok(BriefStats {
        briefs: inputs.len(),
        stance_model: lib.stance_model().name().to_string(),
        dense: lib.vector_count() > 0,
        brief_p50_s: percentile(&lat, 0.5),
        brief_p95_s: percentile(&lat, 0.95),
        sentences_checked: checked,
        sentences_kept: kept,
        share_kept: share(kept),
        share_model_supported: share(model_supported),
        share_kept_as_verbatim_quotes: share(verbatim),
    })
}

/// `--library`: search and brief latency on the library at `data`.
fn run_on_library(
    a: &BenchArgs,
    data: &std::path::Path,
    store: Option<&str>,
    no_models: bool,
    quiet: bool,
) -> Result<()> {
    let inputs: Vec<(String, Mode)> = match &a.questions {
        Some(p) => std::fs::read_to_string(p)
            .with_context(|| format!("reading questions from {}", p.display()))?
            .lines()
            .filter_map(parse_input)
            .collect(),
        None => DEMO_INPUTS.iter().filter_map(|l| parse_input(l)).collect(),
    };
    if inputs.is_empty() {
        anyhow::bail!("no questions to run: the questions file is empty");
    }
    let lib = Library::open(LibraryOptions {
        data_dir: data.to_path_buf(),
        models: ModelsMode::from_no_models(no_models),
        read_only: true,
        models_dir: None,
        store: store.map(str::to_string),
    })
    .with_context(|| format!("could not open the library in `{}`", data.display()))?;
    let (sources, passages, _) = lib.stats()?;
    if sources == 0 {
        anyhow::bail!(
            "the library in `{}` is empty; ingest a corpus first (bash scripts/demo.sh ingests the demo corpus)",
            data.display()
        );
    }
    let mut lat = Vec::new();
    for _ in 0..a.queries.max(1).div_ceil(inputs.len()) {
        for (q, _) in &inputs {
            let t = Instant::now();
            lib.search(&SearchRequest::new(q.clone(), 10))?;
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    lat.sort_by(f64::total_cmp);
    let mode = if lib.vector_count() > 0 {
        "hybrid"
    } else {
        "BM25"
    };
    let briefs = if a.briefs > 0 {
        let n = a.briefs.min(inputs.len());
        Some(time_briefs(&lib, &inputs[..n], quiet)?)
    } else {
        None
    };
    let out = json!({
        "library": data.display().to_string(),
        "sources": sources,
        "passages": passages,
        "search_mode": mode,
        "queries": lat.len(),
        "search_p50_ms": percentile(&lat, 0.5),
        "search_p99_ms": percentile(&lat, 0.99),
        "briefs": briefs,
    });
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "library: {sources} sources, {passages} passages in {}",
            data.display()
        );
        println!(
            "search ({mode}, top 10, {} queries): p50 {:.2} ms, p99 {:.2} ms",
            lat.len(),
            percentile(&lat, 0.5),
            percentile(&lat, 0.99)
        );
        if let Some(b) = &briefs {
            b.print();
        }
    }
    Ok(())
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

/// Run the benchmark; `store` is `--store` (the generated library's store, or the
/// library's with `--library`).
pub fn run(
    a: &BenchArgs,
    data: &std::path::Path,
    store: Option<&str>,
    no_models: bool,
    quiet: bool,
) -> Result<()> {
    if a.library {
        return run_on_library(a, data, store, no_models, quiet);
    }
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
    let mut brief_inputs: Vec<(String, Mode)> = Vec::new();
    {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(&corpus)
                .with_context(|| format!("creating {}", corpus.display()))?,
        );
        for i in 0..docs {
            let words = 240 + rng.below(240);
            let text = document(&vocab, &mut rng, words);
            // Every few hundredth document lends a sentence to the brief benchmark, so its
            // claims have evidence to find.
            if a.briefs > 0 && i % 97 == 0 && brief_inputs.len() < a.briefs {
                if let Some(sentence) = text.split(". ").nth(1) {
                    let mode = if brief_inputs.len().is_multiple_of(2) {
                        Mode::Check
                    } else {
                        Mode::Ask
                    };
                    brief_inputs.push((format!("{sentence}."), mode));
                }
            }
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
        models_dir: None,
        store: store.map(str::to_string),
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
    let briefs = if a.briefs > 0 {
        // Reopen with the installed models (the ingest above was BM25 only: embedding
        // 100,000 passages takes most of an hour on two cores), so briefs are judged by
        // the stance model and retrieve with BM25.
        drop(lib);
        let lib = Library::open(LibraryOptions {
            data_dir: dir.join("library"),
            models: ModelsMode::from_no_models(no_models),
            read_only: true,
            models_dir: Some(verity_engine::ModelDir::resolve(data).root().to_path_buf()),
            store: store.map(str::to_string),
        })?;
        Some(time_briefs(&lib, &brief_inputs, quiet)?)
    } else {
        None
    };
    let out = json!({
        "briefs": briefs,
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
        if let Some(b) = &briefs {
            b.print();
        }
    }
    if a.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
