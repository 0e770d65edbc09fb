//! Runs a stance evaluation from the command line (until `verity eval stance` is wired).
//!
//! ```text
//! cargo run --release -p verity-eval --example eval_stance -- \
//!     --pairs FILE [--format auto|jsonl|snli|healthver|rte] [--limit N] [--sample N --seed S] \
//!     [--model DIR] [--tokenizer tokenizer.json] [--lexical] [--json OUT.json]
//! ```
//! Without `--model`, the model directory is `VERITY_STANCE_MODEL` or `models/verity-stance`.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use verity_eval::{eval_pair_set, load_pairs, Limit, PairFormat};
use verity_judge::{CrossEncoderStance, LexicalStance, StanceModel};
use verity_types::Progress;

struct Stderr {
    total: AtomicU64,
    done: AtomicU64,
}

impl Progress for Stderr {
    fn stage(&self, name: &str, total: Option<u64>) {
        self.total.store(total.unwrap_or(0), Ordering::Relaxed);
        eprintln!("{name}: {} items", total.unwrap_or(0));
    }
    fn advance(&self, n: u64) {
        let d = self.done.fetch_add(n, Ordering::Relaxed) + n;
        eprint!("\r  {d}/{}", self.total.load(Ordering::Relaxed));
    }
    fn message(&self, msg: &str) {
        eprintln!("{msg}");
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut pairs = None;
    let mut format = PairFormat::Auto;
    let mut limit = Limit::All;
    let mut sample = None;
    let mut seed = 13u64;
    let mut model_dir = std::env::var_os("VERITY_STANCE_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("models/verity-stance"));
    let mut tokenizer = None;
    let mut lexical = false;
    let mut json = None;
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--pairs" => pairs = Some(PathBuf::from(val()?)),
            "--format" => {
                let v = val()?;
                format = PairFormat::parse(&v).ok_or(format!("unknown format {v}"))?
            }
            "--limit" => limit = Limit::First(val()?.parse()?),
            "--sample" => sample = Some(val()?.parse::<usize>()?),
            "--seed" => seed = val()?.parse()?,
            "--model" => model_dir = PathBuf::from(val()?),
            "--tokenizer" => tokenizer = Some(PathBuf::from(val()?)),
            "--lexical" => lexical = true,
            "--json" => json = Some(PathBuf::from(val()?)),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if let Some(n) = sample {
        limit = Limit::Sample { n, seed };
    }
    let pairs = pairs.ok_or("--pairs FILE is required")?;
    let set = load_pairs(&pairs, format, limit)?;
    eprintln!(
        "{} pairs ({} usable in file, {} skipped), format {}",
        set.pairs.len(),
        set.total,
        set.skipped,
        set.format.as_str()
    );
    let model: Box<dyn StanceModel> = if lexical {
        Box::new(LexicalStance)
    } else {
        let tok = tokenizer.unwrap_or_else(|| model_dir.join("tokenizer.json"));
        Box::new(CrossEncoderStance::load(&model_dir, &tok)?)
    };
    let progress = Stderr {
        total: AtomicU64::new(0),
        done: AtomicU64::new(0),
    };
    let report = eval_pair_set(&set, model.as_ref(), &progress)?;
    eprintln!();
    println!("{}", report.render_text());
    if let Some(out) = json {
        std::fs::write(&out, serde_json::to_string_pretty(&report)?)?;
    }
    Ok(())
}
