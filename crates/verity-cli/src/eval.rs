//! `verity eval stance|retrieval|claims|build-healthver|build-checkcovid`: measure Verity
//! on plain files.

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use verity_engine::eval::{self, Limit, PairFormat};
use verity_engine::{IngestOptions, Library, LibraryOptions, ModelsMode};
use verity_types::{SearchMode, SearchRequest};

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Stance accuracy, macro-F1, per-class P/R and confusion matrix on labelled pairs.
    Stance(StanceArgs),
    /// nDCG@10, Recall@10/@100 and MRR for bm25, dense and hybrid on a BEIR-style task.
    Retrieval(RetrievalArgs),
    /// Check labelled claims against the library at --data: accuracy, per-class P/R/F1,
    /// per-kind accuracy, confusion matrix and seconds per claim.
    Claims(ClaimsArgs),
    /// Brief faithfulness over questions: the share of written sentences that pass the
    /// citation check, sentences dropped, seconds and tokens per brief, for the
    /// extractive composer and, with --llm, a language model side by side.
    Faithfulness(FaithfulnessArgs),
    /// Turn HealthVer's CSV into a BEIR-style retrieval task (corpus, queries, qrels).
    BuildHealthver {
        /// healthver_test.csv (or dev).
        csv: PathBuf,
        /// Output directory.
        out: PathBuf,
    },
    /// Turn a Check-COVID folder into corpus.jsonl (to ingest), claims.jsonl (test) and
    /// claims-dev.jsonl (for `verity eval claims`).
    BuildCheckcovid {
        /// The Check-COVID folder (corpus.json and the covidCheck_*.json files).
        dir: PathBuf,
        /// Output directory.
        out: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Auto,
    Jsonl,
    Snli,
    Healthver,
    Rte,
}

#[derive(Args)]
pub struct StanceArgs {
    /// Pairs file: JSONL (claim, evidence, label), SNLI JSONL, HealthVer CSV or RTE TSV.
    #[arg(long)]
    pairs: PathBuf,
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    format: FormatArg,
    /// Use only the first N pairs.
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct FaithfulnessArgs {
    /// Questions, one per line (a line starting "Fact check:" is a claim; empty lines and
    /// lines starting with # are skipped).
    #[arg(long)]
    questions: PathBuf,
    #[command(flatten)]
    llm: crate::brief::LlmArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ClaimsArgs {
    /// Claims file: JSONL with `claim`, `label` (supported, contradicted or
    /// not_enough_evidence) and an optional `kind`; other fields are ignored.
    #[arg(long)]
    claims: PathBuf,
    /// Write one JSON line per claim: gold and predicted class, verdict, confidence and
    /// the cited passages.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Check only the first N claims.
    #[arg(long)]
    limit: Option<usize>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct RetrievalArgs {
    #[arg(long)]
    corpus: PathBuf,
    #[arg(long)]
    queries: PathBuf,
    #[arg(long)]
    qrels: PathBuf,
    /// Where to build the throwaway library (default: a temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    #[arg(long)]
    json: bool,
    /// Run hybrid once per dense weight (BM25's weight is 1), e.g. `0.5,1,2,3`, to tune
    /// the fusion on a development set. Default: the built-in weight only.
    #[arg(long, value_delimiter = ',')]
    dense_weights: Vec<f32>,
}

pub fn run(cmd: &EvalCommand, data: &std::path::Path, no_models: bool, quiet: bool) -> Result<()> {
    let bars = crate::progress::Bars::new(quiet);
    match cmd {
        EvalCommand::Stance(a) => {
            let lib = Library::open(LibraryOptions {
                models: ModelsMode::from_no_models(no_models),
                read_only: true,
                ..LibraryOptions::new(data)
            })?;
            let format = match a.format {
                FormatArg::Auto => PairFormat::Auto,
                FormatArg::Jsonl => PairFormat::Jsonl,
                FormatArg::Snli => PairFormat::Snli,
                FormatArg::Healthver => PairFormat::Healthver,
                FormatArg::Rte => PairFormat::Rte,
            };
            let limit = a.limit.map(Limit::First).unwrap_or(Limit::All);
            let set = eval::load_pairs(&a.pairs, format, limit)?;
            let report = lib.eval_stance(&set, &bars)?;
            bars.finish();
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!("{}", report.render_text());
            }
        }
        EvalCommand::Retrieval(a) => retrieval(a, no_models, &bars)?,
        EvalCommand::Claims(a) => claims(a, data, no_models, quiet, &bars)?,
        EvalCommand::Faithfulness(a) => faithfulness(a, data, no_models, &bars)?,
        EvalCommand::BuildHealthver { csv, out } => {
            let s = eval::build_healthver_retrieval(csv, out)?;
            println!("{}", serde_json::to_string_pretty(&s)?);
        }
        EvalCommand::BuildCheckcovid { dir, out } => {
            let s = eval::build_checkcovid(dir, out).with_context(|| {
                format!("building the Check-COVID task from `{}`", dir.display())
            })?;
            println!("{}", serde_json::to_string_pretty(&s)?);
            let shared = s.test_nei_sharing_a_claim + s.dev_nei_sharing_a_claim;
            if shared > 0 && !quiet {
                eprintln!(
                    "note: {shared} not_enough_evidence claims repeat the text of a supported or \
                     contradicted claim (Check-COVID labels a claim against one abstract's \
                     sentences); against the whole corpus at most one of each pair can be right. \
                     `{}` lists each claim once, labelled as the whole corpus settles it",
                    s.claims_resolved.display()
                );
            }
        }
    }
    Ok(())
}

/// `verity eval claims`: every claim through the same check as `verity check` (default
/// options, the installed models unless --no-models), scored by the engine's eval.
fn claims(
    a: &ClaimsArgs,
    data: &std::path::Path,
    no_models: bool,
    quiet: bool,
    bars: &crate::progress::Bars,
) -> Result<()> {
    let limit = a.limit.map(Limit::First).unwrap_or(Limit::All);
    let set = eval::load_claims(&a.claims, limit)?;
    // Read-only: an evaluation neither recovers, ingests nor saves checks to the history.
    let lib = Library::open(LibraryOptions {
        models: ModelsMode::from_no_models(no_models),
        read_only: true,
        ..LibraryOptions::new(data)
    })
    .with_context(|| format!("could not open the library in `{}`", data.display()))?;
    if !quiet {
        for n in lib.notices() {
            eprintln!("note: {n}");
        }
    }
    let (sources, ..) = lib.stats()?;
    if sources == 0 {
        anyhow::bail!(
            "the library in `{}` is empty: ingest the claims' corpus first \
             (`verity --data {} ingest corpus.jsonl`)",
            data.display(),
            data.display()
        );
    }
    let today = chrono::Local::now().date_naive();
    let report = lib.eval_claims(&set, today, a.out.as_deref(), bars)?;
    bars.finish();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", report.render_text());
    }
    if let (Some(out), false) = (&a.out, quiet) {
        eprintln!("wrote {} verdicts to {}", report.claims, out.display());
    }
    Ok(())
}

fn faithfulness(
    a: &FaithfulnessArgs,
    data: &std::path::Path,
    no_models: bool,
    bars: &crate::progress::Bars,
) -> Result<()> {
    let text = std::fs::read_to_string(&a.questions).with_context(|| {
        format!(
            "could not read the questions in `{}`",
            a.questions.display()
        )
    })?;
    let questions: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    anyhow::ensure!(
        !questions.is_empty(),
        "`{}` holds no questions (one per line)",
        a.questions.display()
    );
    let lib = Library::open(LibraryOptions {
        models: ModelsMode::from_no_models(no_models),
        read_only: true,
        ..LibraryOptions::new(data)
    })
    .with_context(|| format!("could not open the library in `{}`", data.display()))?;
    let today = chrono::Local::now().date_naive();
    let llm = a.llm.options();
    let report = lib.eval_faithfulness(&questions, llm.as_ref(), today, bars)?;
    bars.finish();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

fn retrieval(a: &RetrievalArgs, no_models: bool, bars: &crate::progress::Bars) -> Result<()> {
    let corpus = eval::load_corpus(&a.corpus)?;
    let queries = eval::load_queries(&a.queries)?;
    let qrels = eval::load_qrels(&a.qrels)?;
    let dir = a.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("verity-eval-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // The corpus goes through the real ingest path; each document's id rides in its URL.
    let jsonl = dir.join("corpus.verity.jsonl");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&jsonl)?);
        for d in &corpus {
            let text = if d.title.is_empty() {
                d.text.clone()
            } else {
                format!("{}. {}", d.title, d.text)
            };
            writeln!(
                f,
                "{}",
                json!({"text": text, "url": format!("beir:{}", d.id)})
            )?;
        }
    }
    let mut lib = Library::open(LibraryOptions {
        models: ModelsMode::from_no_models(no_models),
        ..LibraryOptions::new(dir.join("library"))
    })?;
    lib.ingest(
        &[jsonl.display().to_string()],
        &IngestOptions::default(),
        bars,
    )?;
    let mut modes = vec![SearchMode::Bm25];
    if lib.has_vectors() {
        modes.push(SearchMode::Dense);
        modes.push(SearchMode::Hybrid);
    } else {
        eprintln!("note: no embedding model, so only bm25 is measured");
    }
    // Hybrid once per dense weight asked for (the default weight alone by default).
    let mut runs: Vec<(SearchMode, Option<f32>)> = Vec::new();
    for mode in modes {
        if mode == SearchMode::Hybrid && !a.dense_weights.is_empty() {
            runs.extend(a.dense_weights.iter().map(|w| (mode, Some(*w))));
        } else {
            runs.push((mode, None));
        }
    }
    let mut out = serde_json::Map::new();
    for (mode, weight) in runs {
        lib.set_dense_weight(weight.unwrap_or(verity_engine::DEFAULT_DENSE_WEIGHT));
        let label = match weight {
            Some(w) => format!("{}@{w}", mode.as_str()),
            None => mode.as_str().to_string(),
        };
        let lib = &lib;
        let mut search = |q: &str| -> Vec<String> {
            let mut req = SearchRequest::new(q, 100);
            req.mode = mode;
            let hits = lib.search(&req).unwrap_or_default();
            let mut seen = std::collections::HashSet::new();
            hits.into_iter()
                .filter_map(|h| {
                    h.source
                        .meta
                        .url
                        .and_then(|u| u.strip_prefix("beir:").map(str::to_string))
                })
                .filter(|id| seen.insert(id.clone()))
                .collect()
        };
        let report = eval::eval_retrieval(&queries, &qrels, &mut search, bars);
        if !a.json {
            println!("{}", report.render_line(&label));
        }
        out.insert(label, serde_json::to_value(&report)?);
    }
    bars.finish();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    if a.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
