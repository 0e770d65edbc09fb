//! `verity ask` and `verity check`: a cited brief in the terminal or a file format.

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use verity_engine::{Brief, CheckOptions, Library, LlmOptions, Mode, Request};

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum BriefFormat {
    /// Wrapped text with colour on a terminal.
    Terminal,
    /// Markdown.
    Md,
    /// A standalone, print-friendly HTML page.
    Html,
    /// Every sentence with its citations, spans and scores.
    Json,
    /// schema.org ClaimReview JSON-LD.
    Claimreview,
}

/// How and where a brief is printed: shared by `ask`, `check` and `verity checks`.
#[derive(Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t = BriefFormat::Terminal)]
    pub format: BriefFormat,
    /// Write the brief to this file instead of standard output.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// URL the published review will live at (ClaimReview `url`).
    #[arg(long)]
    pub review_url: Option<String>,
}

#[derive(Args)]
pub struct BriefArgs {
    /// The question to answer, or the claim to check.
    pub input: String,
    /// Only use evidence published on or before this date (YYYY-MM-DD). Undated sources
    /// are kept (their date is unknown) and the brief says how many it cites.
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
    /// Keep sentences that fail the support check, flagged, instead of dropping them.
    #[arg(long)]
    pub show_unsupported: bool,
    /// Also print the plan, sub-queries and candidate scores (to stderr).
    #[arg(long)]
    pub explain: bool,
    /// The "checked on" date (default: today).
    #[arg(long, hide = true)]
    pub today: Option<NaiveDate>,
    #[command(flatten)]
    pub llm: LlmArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The optional language model that writes the prose: shared by `ask`, `check` and
/// `serve`. Only the name of the key's variable is taken, never a key.
#[derive(Args, Clone, Default)]
pub struct LlmArgs {
    /// Have a language model write the summary, findings and follow-up questions, at this
    /// OpenAI-compatible endpoint (llama.cpp, Ollama, vLLM or a hosted API), e.g.
    /// http://127.0.0.1:8081/v1. Every sentence it writes is checked against the passages
    /// it cites, and dropped when they do not support it; the verdict stays Verity's.
    #[arg(long = "llm", value_name = "URL", env = verity_engine::LLM_URL_ENV)]
    pub url: Option<String>,
    /// The model name to ask the endpoint for (default: "default", which llama.cpp's
    /// server accepts for the model it loaded).
    #[arg(long = "llm-model", value_name = "NAME", env = verity_engine::LLM_MODEL_ENV)]
    pub model: Option<String>,
    /// Name of the environment variable that holds the endpoint's API key.
    #[arg(long = "llm-key-env", value_name = "VAR", env = verity_engine::LLM_KEY_ENV_ENV)]
    pub key_env: Option<String>,
    /// Seconds one request to the model may take before it fails (default 120).
    #[arg(long = "llm-timeout", value_name = "SECS", env = verity_engine::LLM_TIMEOUT_ENV)]
    pub timeout: Option<u64>,
    /// Most tokens one reply of the model may hold (default 700).
    #[arg(long = "llm-max-tokens", value_name = "N", env = verity_engine::LLM_MAX_TOKENS_ENV)]
    pub max_tokens: Option<u32>,
    /// Ask for streamed answers (server-sent events). Without it the whole answer comes
    /// at once, with the token counts every server gives.
    #[arg(long = "llm-stream", env = verity_engine::LLM_STREAM_ENV)]
    pub stream: bool,
    /// With --llm, also let the model split a claim into its parts and propose search
    /// queries for the second retrieval pass. Verity uses the parts only when each is
    /// checkable and together they cover the claim, and runs only short on-topic
    /// queries; the brief's notes and JSON `planner` record what was proposed and used.
    #[arg(long = "llm-claims", env = verity_engine::LLM_CLAIMS_ENV)]
    pub claims: bool,
}

impl LlmArgs {
    /// The engine's options, when `--llm` (or VERITY_LLM_URL) is given and not empty.
    pub fn options(&self) -> Option<LlmOptions> {
        let url = self
            .url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())?;
        let mut o = LlmOptions::new(url, self.model.clone().filter(|m| !m.trim().is_empty()));
        o.key_env = self.key_env.clone().filter(|k| !k.trim().is_empty());
        o.timeout_secs = self.timeout;
        o.max_tokens = self.max_tokens;
        o.stream = self.stream;
        o.claims = self.claims;
        Some(o)
    }
}

pub fn run(lib: &Library, a: &BriefArgs, mode: Mode, quiet: bool) -> Result<()> {
    let req = Request {
        mode,
        text: a.input.clone(),
        options: CheckOptions {
            as_of: a.as_of,
            show_unsupported: a.show_unsupported,
            explain: a.explain,
            llm: a.llm.options(),
        },
    };
    let today = a.today.unwrap_or_else(|| chrono::Local::now().date_naive());
    let bars = crate::progress::Bars::new(quiet);
    let brief = lib.run_check(&req, today, &bars)?;
    bars.finish();
    if let Err(e) = lib.save_check(&req, &brief) {
        eprintln!("warning: the brief was not saved to history: {e}");
    }
    if a.explain {
        if let Some(x) = &brief.explain {
            eprintln!("{}", serde_json::to_string_pretty(x)?);
        }
    }
    print(&brief, &a.output, quiet)
}

/// The one render path: `brief` in the chosen format, to `--out` or standard output.
pub fn print(brief: &Brief, o: &OutputArgs, quiet: bool) -> Result<()> {
    let text = match o.format {
        BriefFormat::Terminal => {
            let to_tty = o.out.is_none() && std::io::stdout().is_terminal();
            let width = console::Term::stdout().size().1.clamp(50, 100) as usize;
            verity_render::render_terminal(brief, width, to_tty)
        }
        BriefFormat::Md => verity_render::render_markdown(brief),
        BriefFormat::Html => verity_render::render_html(brief),
        BriefFormat::Json => serde_json::to_string_pretty(&verity_render::render_json(brief))?,
        BriefFormat::Claimreview => serde_json::to_string_pretty(
            &verity_render::render_claimreview(brief, o.review_url.as_deref()),
        )?,
    };
    match &o.out {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            if !quiet {
                eprintln!("wrote {}", path.display());
            }
        }
        None => println!("{text}"),
    }
    Ok(())
}
