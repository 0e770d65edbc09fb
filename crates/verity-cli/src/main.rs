//! `verity`: check claims and answer questions against your own sources, offline.
//!
//! A thin shell over `verity-engine`: parse arguments, call the library, print.

/// mimalloc: ingest allocates and frees millions of small strings (passages, tokens,
/// index entries) across threads; measured faster than the system allocator there.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod brief;
mod checks;
mod eval;
mod progress;
mod show;

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use verity_engine::{IngestOptions, Library, LibraryOptions, ModelsMode};
use verity_types::{Format, SearchFilters, SearchMode, SearchRequest, SourceKind};

#[derive(Parser)]
#[command(
    name = "verity",
    version,
    about = "Check claims and answer questions against your own sources, offline.",
    long_about = "Verity ingests a body of sources (files, folders, URLs), indexes them on \
        disk, and finds the passages that bear on a question or claim. Everything runs \
        locally: no network and no API key needed."
)]
struct Cli {
    /// Library directory (created if missing).
    #[arg(long, global = true, env = "VERITY_DATA", default_value = verity_engine::DEFAULT_DATA_DIR)]
    data: PathBuf,
    /// Keep the library (sources, passages, check history) in PostgreSQL:
    /// `postgres://USER:PASSWORD@HOST:PORT/DATABASE`. Unset: SQLite in `--data`, which
    /// holds the search indexes either way.
    #[arg(long, global = true, env = verity_engine::STORE_ENV, hide_env_values = true)]
    store: Option<String>,
    /// Use BM25 and the lexical stance judge only, even when models are installed.
    #[arg(long, global = true)]
    no_models: bool,
    /// Print less: no progress bars or notices.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Answer a question with a cited brief.
    Ask(brief::BriefArgs),
    /// Check a claim: a verdict on a fixed scale and a cited brief.
    Check(brief::BriefArgs),
    /// Past checks, newest first; `show`, `recheck` or `diff` them.
    Checks(checks::ChecksArgs),
    /// Add files, folders or http(s) URLs to the library.
    Ingest(IngestArgs),
    /// Search passages.
    Search(SearchArgs),
    /// List the sources in the library.
    Sources {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Take sources out of the library (store and every index).
    Remove {
        /// Source ids (or unique prefixes of at least 4 characters).
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Show installed models, their checksums and what they enable.
    Models {
        #[arg(long)]
        json: bool,
    },
    /// Measure ingest throughput, search latency and brief latency (generated corpus, or
    /// `--library` for the library at --data).
    Bench(bench::BenchArgs),
    /// Evaluate stance, retrieval and claim verdicts on your own labelled files.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Serve the JSON API and the web page.
    Serve(ServeArgs),
    /// Copy a SQLite library (sources, passages, check history) into PostgreSQL; running
    /// it again adds nothing twice.
    Migrate(MigrateArgs),
    /// Rebuild this node's search indexes from the store (sources dropped and indexed
    /// again), e.g. after moving to `--store` with an empty data directory.
    Reindex,
    /// Run checks from the shared job queue of a PostgreSQL store (`--store`) until
    /// Ctrl-C; any node's `verity serve` queues them.
    Worker(WorkerArgs),
    /// Parse one file from stdin in a capped worker process (run by `ingest` and
    /// `serve` themselves; see `--parse-isolation`).
    #[command(hide = true)]
    ParseWorker,
}

/// Where parsers run: in a worker process with a deadline and a memory cap, or here.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum IsolationArg {
    /// PDFs in a worker process; other formats here.
    Pdf,
    /// Every format but JSONL in a worker process (one process per file).
    All,
    /// Every parser in this process (fastest; no deadline or memory cap per file).
    Off,
}

/// Parse isolation settings, shared by `ingest`, `serve` and `worker`.
#[derive(Args)]
struct ParseArgs {
    /// Which files are parsed in a worker process that a deadline and a memory cap can
    /// stop, so a hostile file ends as one named failure.
    #[arg(long, value_enum, default_value_t = IsolationArg::Pdf)]
    parse_isolation: IsolationArg,
    /// Per-file deadline of an isolated parse, in seconds.
    #[arg(long, default_value_t = verity_engine::DEFAULT_PARSE_TIMEOUT.as_secs())]
    parse_timeout_secs: u64,
    /// Address-space cap of a parse worker, in MB.
    #[arg(long, default_value_t = verity_engine::DEFAULT_PARSE_MEMORY / (1024 * 1024))]
    parse_memory_mb: u64,
}

impl ParseArgs {
    /// The isolation to ingest with: this very binary, re-run as `verity parse-worker`.
    fn isolation(&self) -> Result<Option<verity_engine::Isolation>> {
        let scope = match self.parse_isolation {
            IsolationArg::Off => return Ok(None),
            IsolationArg::Pdf => verity_engine::IsolationScope::Pdf,
            IsolationArg::All => verity_engine::IsolationScope::All,
        };
        let exe = std::env::current_exe().context(
            "could not find this program's path to run parse workers; pass --parse-isolation off",
        )?;
        let mut iso = verity_engine::Isolation::new(exe, &["parse-worker"]);
        iso.scope = scope;
        iso.timeout = std::time::Duration::from_secs(self.parse_timeout_secs);
        iso.max_memory = self.parse_memory_mb.saturating_mul(1024 * 1024);
        Ok(Some(iso))
    }
}

#[derive(Args)]
struct MigrateArgs {
    /// The library directory to copy from (its `library.sqlite`).
    #[arg(long)]
    from: PathBuf,
    /// The store to copy into: `postgres://USER:PASSWORD@HOST:PORT/DATABASE`.
    #[arg(long)]
    to: String,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct IngestArgs {
    /// Files, folders (recursive) or http(s) URLs.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// Allow URLs on loopback or private networks.
    #[arg(long)]
    allow_private: bool,
    /// Largest file accepted, in MB.
    #[arg(long, default_value_t = 50)]
    max_size_mb: u64,
    /// Most bytes, in MB, that one PDF's compressed streams may expand to (and most
    /// page content the text extractor runs); past it the PDF is skipped as a
    /// decompression bomb (`decompressed_too_large`).
    #[arg(long, default_value_t = 64)]
    max_inflate_mb: u64,
    /// Most pages in one PDF; past it the PDF is skipped (`pdf_too_complex`).
    #[arg(long, default_value_t = verity_engine::PdfLimits::default().max_pages)]
    max_pdf_pages: usize,
    /// Most objects in one PDF; past it the PDF is skipped (`pdf_too_complex`).
    #[arg(long, default_value_t = verity_engine::PdfLimits::default().max_objects)]
    max_pdf_objects: usize,
    /// A TOML file of extra publisher → kind rules.
    #[arg(long)]
    kind_rules: Option<PathBuf>,
    /// Attribution line stored with every source of this run (e.g. a licence).
    #[arg(long)]
    attribution: Option<String>,
    /// Skip computing passage vectors even if the embedding model is installed.
    #[arg(long)]
    no_embed: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Sources per commit (smaller batches commit more often; for tests and tuning).
    #[arg(long, hide = true, default_value_t = IngestOptions::default().batch_docs)]
    batch_docs: usize,
    /// On a PostgreSQL store: queue the inputs as one ingest job (the files' bytes go
    /// with it) that any node's worker runs, and print its id, instead of ingesting here.
    #[arg(long)]
    queue: bool,
    /// With `--queue`: wait for the job to end and print its report.
    #[arg(long, requires = "queue")]
    wait: bool,
    #[command(flatten)]
    parse: ParseArgs,
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// Require `Authorization: Bearer TOKEN` for writes.
    #[arg(long, env = "VERITY_TOKEN")]
    token: Option<String>,
    /// Refuse changes to the library.
    #[arg(long)]
    read_only: bool,
    /// Checks that may wait in the queue before the server answers 429.
    #[arg(long, default_value_t = 16)]
    queue: usize,
    /// Allow adding URLs on loopback or private networks.
    #[arg(long)]
    allow_private: bool,
    /// Also answer to this host name (`name` for any port, `name:port` for one), e.g.
    /// behind a reverse proxy; repeatable. Other `Host` and `Origin` headers get 403.
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    #[command(flatten)]
    parse: ParseArgs,
    /// On a PostgreSQL store, also run checks from the shared job queue here (without
    /// it, this node only queues them for `verity worker` processes and other nodes).
    #[arg(long)]
    worker: bool,
    #[command(flatten)]
    jobs: JobArgs,
    /// `GET /readyz` answers 503 while this node's indexes are more than this many
    /// store changes behind.
    #[arg(long, default_value_t = 1000)]
    ready_max_lag: u64,
    /// Every check's prose written by this language model (see `verity check --help`).
    #[command(flatten)]
    llm: brief::LlmArgs,
}

/// How this node runs the shared queue's jobs (`serve --worker`, `worker`).
#[derive(Args)]
struct JobArgs {
    /// Checks run at the same time.
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// A claimed job's lease, in milliseconds: a worker silent for this long loses the
    /// job to another.
    #[arg(long, env = verity_engine::LEASE_ENV, default_value_t = 30_000)]
    lease_ms: u64,
    /// Hold each claimed job this long before running it (for tests that stop a worker
    /// mid-job).
    #[arg(long, hide = true, default_value_t = 0)]
    debug_hold_job_ms: u64,
}

impl JobArgs {
    fn config(&self, parse: &ParseArgs) -> Result<verity_server::WorkerConfig> {
        Ok(verity_server::WorkerConfig {
            isolation: parse.isolation()?,
            workers: self.workers.max(1),
            lease: std::time::Duration::from_millis(self.lease_ms),
            hold: std::time::Duration::from_millis(self.debug_hold_job_ms),
        })
    }
}

#[derive(Args)]
struct WorkerArgs {
    #[command(flatten)]
    jobs: JobArgs,
    /// How queued ingests parse their files.
    #[command(flatten)]
    parse: ParseArgs,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Bm25,
    Dense,
    Hybrid,
}

#[derive(Args)]
struct SearchArgs {
    query: String,
    #[arg(long, short = 'n', default_value_t = 10)]
    limit: usize,
    #[arg(long, value_enum, default_value_t = ModeArg::Hybrid)]
    mode: ModeArg,
    /// Only sources whose publisher contains this text.
    #[arg(long)]
    publisher: Option<String>,
    /// Only these kinds (official, news, audit, advocacy, academic, reference, opinion, other).
    #[arg(long, value_delimiter = ',')]
    kind: Vec<String>,
    /// Only these formats (text, markdown, html, pdf, jsonl).
    #[arg(long, value_delimiter = ',')]
    format: Vec<String>,
    /// Published on or after (YYYY-MM-DD).
    #[arg(long)]
    from: Option<NaiveDate>,
    /// Published on or before (YYYY-MM-DD).
    #[arg(long)]
    to: Option<NaiveDate>,
    /// With --from/--to, also keep sources that carry no publication date.
    #[arg(long)]
    keep_undated: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// `verity check ... | head` closes stdout early; the rest of the output has nowhere to
/// go. `println!` then panics with "failed printing to stdout: Broken pipe"; treat that as
/// the normal end of a pipeline (exit quietly, as `cat` does) and leave every other panic
/// to the default hook.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = Cli::parse();
    if let Command::ParseWorker = cli.command {
        return parse_worker();
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VERITY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(e) => report(&e),
    }
}

/// Print an error with what to do next, and choose the exit status by its kind (see
/// `verity_types::Category`): 64 bad input, 65 bad data, 66 not found, 69 unavailable,
/// 70 internal, 74 I/O or disk full, 75 try later, 77 not allowed, 78 set-up. Errors
/// that carry no code (arguments the CLI itself checks) exit with 1.
fn report(e: &anyhow::Error) -> ExitCode {
    eprintln!("error: {e:#}");
    let code = e
        .chain()
        .find_map(|c| c.downcast_ref::<verity_engine::EngineError>())
        .map(verity_engine::EngineError::code);
    match code {
        Some(code) => {
            eprintln!("hint: {}", code.hint());
            ExitCode::from(code.exit_code())
        }
        None => ExitCode::from(1),
    }
}

/// `verity parse-worker`: serve one parse request on stdin/stdout. Failures of the
/// file itself travel in the answer; only a broken request ends here, with status 2.
fn parse_worker() -> ExitCode {
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    match verity_engine::serve_parse_worker(stdin, stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn open(cli: &Cli) -> Result<Library> {
    let lib = Library::open(LibraryOptions {
        data_dir: cli.data.clone(),
        models: ModelsMode::from_no_models(cli.no_models),
        read_only: false,
        models_dir: None,
        store: cli.store.clone(),
    })
    .with_context(|| format!("could not open the library in `{}`", cli.data.display()))?;
    if !cli.quiet {
        for n in lib.notices() {
            eprintln!("note: {n}");
        }
    }
    Ok(lib)
}

/// `verity migrate`: copy the library at `--from` into the store at `--to`.
fn migrate(a: &MigrateArgs, quiet: bool) -> Result<()> {
    let bars = progress::Bars::new(quiet);
    let report = verity_engine::copy_library(&a.from, &a.to, &bars)?;
    bars.finish();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "copied {} of {} sources ({} already there) and {} checks to {}",
        report.copied,
        report.sources,
        report.sources.saturating_sub(report.copied),
        report.checks,
        report.to
    );
    if !quiet {
        eprintln!(
            "note: `verity --data {} --store URL ...` uses the copy with the indexes already built in that directory",
            a.from.display()
        );
    }
    Ok(())
}

fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Ingest(a) if a.queue => return queue_ingest(&open(&cli)?, a),
        Command::Ingest(a) => {
            let lib = open(&cli)?;
            let opts = IngestOptions {
                allow_private: a.allow_private,
                max_bytes: a.max_size_mb.saturating_mul(1024 * 1024),
                kind_rules: a.kind_rules.clone(),
                attribution: a.attribution.clone(),
                embed: !a.no_embed,
                batch_docs: a.batch_docs.max(1),
                isolation: a.parse.isolation()?,
                pdf: verity_engine::PdfLimits {
                    max_decompressed_bytes: a.max_inflate_mb.saturating_mul(1024 * 1024),
                    max_pages: a.max_pdf_pages,
                    max_objects: a.max_pdf_objects,
                },
                ..IngestOptions::default()
            };
            let bar = progress::Bars::new(cli.quiet);
            let report = lib.ingest(&a.inputs, &opts, &bar)?;
            bar.finish();
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                show::ingest_report(&report);
            }
            // Partial success is success; all inputs failing is not.
            if report.added + report.unchanged == 0 && !report.failed.is_empty() {
                return Ok(ExitCode::from(2));
            }
        }
        Command::Search(a) => {
            let lib = open(&cli)?;
            let req = SearchRequest {
                query: a.query.clone(),
                limit: a.limit,
                mode: match a.mode {
                    ModeArg::Bm25 => SearchMode::Bm25,
                    ModeArg::Dense => SearchMode::Dense,
                    ModeArg::Hybrid => SearchMode::Hybrid,
                },
                filters: SearchFilters {
                    publisher: a.publisher.clone(),
                    kinds: parse_kinds(&a.kind)?,
                    formats: parse_formats(&a.format)?,
                    from: a.from,
                    to: a.to,
                    keep_undated: a.keep_undated,
                    skip_duplicates: false,
                },
            };
            let hits = lib.search(&req)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&show::hits_json(&hits))?);
            } else {
                let (n, ..) = lib.stats()?;
                if n == 0 {
                    eprintln!(
                        "The library in `{}` is empty: add sources with `verity ingest PATH`.",
                        cli.data.display()
                    );
                }
                show::hits(&hits, lib.effective_mode(req.mode));
            }
        }
        Command::Sources { json } => {
            let lib = open(&cli)?;
            let sources = lib.sources()?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&sources)?);
            } else {
                show::sources(&sources);
            }
        }
        Command::Remove { ids } => {
            let lib = open(&cli)?;
            for raw in ids {
                let id = lib.resolve_id(raw)?;
                let s = lib.remove(&id)?;
                println!(
                    "removed {} {}",
                    s.id,
                    s.meta.title.as_deref().unwrap_or(&s.location)
                );
            }
        }
        Command::Models { json } => {
            let dir = verity_engine::ModelDir::resolve(&cli.data);
            let list = dir.list();
            if *json {
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                show::models(&dir, &list);
            }
        }
        Command::Bench(a) => {
            bench::run(a, &cli.data, cli.store.as_deref(), cli.no_models, cli.quiet)?
        }
        Command::Eval(e) => eval::run(e, &cli.data, cli.no_models, cli.quiet)?,
        Command::Serve(a) => {
            let lib = Library::open(LibraryOptions {
                data_dir: cli.data.clone(),
                models: ModelsMode::from_no_models(cli.no_models),
                read_only: a.read_only,
                models_dir: None,
                store: cli.store.clone(),
            })
            .with_context(|| format!("could not open the library in `{}`", cli.data.display()))?;
            let cfg = verity_server::ServerConfig {
                addr: a.addr,
                token: a.token.clone(),
                read_only: a.read_only,
                queue_capacity: a.queue.max(1),
                allow_private_urls: a.allow_private,
                allow_hosts: a.allow_hosts.clone(),
                isolation: a.parse.isolation()?,
                workers: a.jobs.workers.max(1),
                run_worker: a.worker.then(|| a.jobs.config(&a.parse)).transpose()?,
                ready_max_lag: a.ready_max_lag,
                llm: a.llm.options(),
                ..verity_server::ServerConfig::default()
            };
            verity_server::cli_serve(lib, cfg)?;
        }
        Command::Worker(a) => verity_server::cli_worker(open(&cli)?, a.jobs.config(&a.parse)?)?,
        Command::Ask(a) => brief::run(&open(&cli)?, a, verity_engine::Mode::Ask, cli.quiet)?,
        Command::Check(a) => brief::run(&open(&cli)?, a, verity_engine::Mode::Check, cli.quiet)?,
        Command::Checks(a) => checks::run(&open(&cli)?, a, cli.quiet)?,
        Command::Migrate(a) => migrate(a, cli.quiet)?,
        Command::Reindex => {
            let lib = open(&cli)?;
            let bars = progress::Bars::new(cli.quiet);
            let n = lib.reindex(&bars)?;
            bars.finish();
            println!("reindexed {n} sources");
        }
        Command::ParseWorker => return Ok(parse_worker()),
    }
    Ok(ExitCode::SUCCESS)
}

/// `verity ingest --queue [--wait]`: one ingest job in the shared queue.
fn queue_ingest(lib: &Library, a: &IngestArgs) -> Result<ExitCode> {
    let spec = verity_engine::IngestSpec {
        urls: Vec::new(),
        attribution: a.attribution.clone(),
        allow_private: a.allow_private,
        max_bytes: a.max_size_mb.saturating_mul(1024 * 1024),
    };
    let id = lib.enqueue_ingest_inputs(&a.inputs, spec, usize::MAX)?;
    if !a.wait {
        println!("{id}");
        return Ok(ExitCode::SUCCESS);
    }
    let status = loop {
        let status = lib.ingest_job(&id)?;
        if status.is_final() {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let Some(report) = status.report else {
        let why = status.job.error.unwrap_or_default();
        anyhow::bail!("ingest job {id} ended {}: {why}", status.job.state);
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        show::ingest_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_kinds(raw: &[String]) -> Result<Vec<SourceKind>> {
    raw.iter()
        .map(|k| match SourceKind::parse(k) {
            Some(k) => Ok(k),
            None => bail!(
                "unknown kind `{k}`; use one of: {}",
                SourceKind::ALL.map(|k| k.as_str()).join(", ")
            ),
        })
        .collect()
}

fn parse_formats(raw: &[String]) -> Result<Vec<Format>> {
    raw.iter()
        .map(|f| {
            Format::parse(&f.to_ascii_lowercase()).with_context(|| {
                format!("unknown format `{f}`; use one of: text, markdown, html, pdf, jsonl")
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The commands that hints may name (`verity_types::COMMANDS`) are this binary's.
    #[test]
    fn hints_know_every_command() {
        let cmd = Cli::command();
        let mut ours: Vec<&str> = cmd
            .get_subcommands()
            .filter(|c| !c.is_hide_set())
            .map(|c| c.get_name())
            .collect();
        ours.sort_unstable();
        let mut listed = verity_types::COMMANDS.to_vec();
        listed.sort_unstable();
        assert_eq!(ours, listed);
    }

    /// No message anywhere in the workspace names a `verity` command that does not exist
    /// (stale hints once named `embed`, `status` and `reindex` subcommands).
    #[test]
    fn messages_name_only_commands_that_exist() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(p);
                }
            }
        }
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for c in std::fs::read_dir(&crates).unwrap().flatten() {
            walk(&c.path().join("src"), &mut files);
        }
        assert!(files.len() > 20, "found the sources");
        let hidden = ["parse-worker"];
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (i, _) in text.match_indices("`verity ") {
                let word: String = text[i + 8..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                    .collect();
                assert!(
                    word.is_empty()
                        || word.starts_with('-')
                        || verity_types::COMMANDS.contains(&word.as_str())
                        || hidden.contains(&word.as_str()),
                    "{} names `verity {word}`, which does not exist",
                    f.display()
                );
            }
        }
    }
}
