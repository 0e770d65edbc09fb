//! `verity checks`: the history of `ask` and `check` — list, show, check again, diff.
//! Ids may be given as unique prefixes, by the rule `verity remove` uses.

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use console::style;
use verity_engine::{BriefDiff, CheckSummary, EngineError, Library};
use verity_types::terminal_safe;

use crate::brief::{self, OutputArgs};

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ChecksArgs {
    #[command(subcommand)]
    command: Option<ChecksCommand>,
    #[command(flatten)]
    list: ListArgs,
}

/// `verity checks` on its own: the history, newest first.
#[derive(Args)]
struct ListArgs {
    /// Most checks to list.
    #[arg(long, short = 'n', default_value_t = 20)]
    limit: usize,
    /// Skip this many of the newest checks.
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Print JSON (the items of `GET /api/checks`).
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum ChecksCommand {
    /// Print a stored brief again, in any format `verity check` writes.
    Show {
        /// Check id, or a unique prefix of at least 4 characters.
        id: String,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run a stored check's question or claim again against the library as it is now,
    /// store it as a new check, and print the new brief (and, on stderr, what changed).
    Recheck {
        /// Check id, or a unique prefix of at least 4 characters.
        id: String,
        #[command(flatten)]
        output: OutputArgs,
        /// The "checked on" date (default: today).
        #[arg(long, hide = true)]
        today: Option<NaiveDate>,
    },
    /// What changed from check A to check B: the verdict, the sources, the sentences.
    Diff {
        /// The earlier check (id or unique prefix).
        a: String,
        /// The later check (id or unique prefix).
        b: String,
        /// Print JSON (the same as `GET /api/checks/{id}/diff`).
        #[arg(long)]
        json: bool,
    },
}

pub fn run(lib: &Library, a: &ChecksArgs, quiet: bool) -> Result<()> {
    match &a.command {
        None => list(lib, &a.list),
        Some(ChecksCommand::Show { id, output }) => {
            let check = lib.check(lib.resolve_check_id(id)?.as_str())?;
            if let (Some(reason), false) = (&check.error, quiet) {
                eprintln!("note: check {} failed: {reason}", check.id);
            }
            brief::print(&check.done_brief()?, output, quiet)
        }
        Some(ChecksCommand::Recheck { id, output, today }) => {
            recheck(lib, id, output, *today, quiet)
        }
        Some(ChecksCommand::Diff { a, b, json }) => {
            let (a, b) = (lib.resolve_check_id(a)?, lib.resolve_check_id(b)?);
            let d = lib.diff_checks(a.as_str(), b.as_str())?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&d)?);
            } else {
                for line in diff_lines(&d, true) {
                    println!("{line}");
                }
            }
            Ok(())
        }
    }
}

fn list(lib: &Library, a: &ListArgs) -> Result<()> {
    let items: Vec<CheckSummary> = lib
        .checks(a.offset, a.limit)?
        .iter()
        .map(|c| c.summary())
        .collect();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    if items.is_empty() {
        println!("No checks here yet: `verity check CLAIM` and `verity ask QUESTION` add them.");
        return Ok(());
    }
    for c in &items {
        let sources = |n: usize| format!("{n} source{}", if n == 1 { "" } else { "s" });
        let outcome = match (&c.verdict, c.sources) {
            (Some(v), Some(n)) => format!("{v} · {}", sources(n)),
            (None, Some(n)) => sources(n),
            _ => c.status.to_string(),
        };
        println!(
            "{}  {}  {:5}  {}",
            style(&c.id).cyan(),
            c.created_at
                .get(..16)
                .unwrap_or(&c.created_at)
                .replace('T', " "),
            c.mode.as_str(),
            style(terminal_safe(&outcome)).bold()
        );
        println!("    {}", terminal_safe(&c.input));
    }
    Ok(())
}

fn recheck(
    lib: &Library,
    raw: &str,
    output: &OutputArgs,
    today: Option<NaiveDate>,
    quiet: bool,
) -> Result<()> {
    let earlier = lib.resolve_check_id(raw)?;
    let today = today.unwrap_or_else(|| chrono::Local::now().date_naive());
    let bars = crate::progress::Bars::new(quiet);
    let (check, brief) = lib.recheck(earlier.as_str(), today, &bars)?;
    bars.finish();
    brief::print(&brief, output, quiet)?;
    // Standard output stays the brief alone (JSON stays JSON); what changed goes beside it.
    eprintln!("checked again as {} (was {earlier})", check.id);
    match lib.diff_checks(earlier.as_str(), check.id.as_str()) {
        Ok(d) => diff_lines(&d, false).iter().for_each(|l| eprintln!("{l}")),
        Err(EngineError::CheckNotDone { status, .. }) => {
            eprintln!("the earlier check is {status}: nothing to compare with")
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// What changed, in lines: the verdict and the counts, and with `detail` each source and
/// sentence added (`+`) or dropped (`-`).
fn diff_lines(d: &BriefDiff, detail: bool) -> Vec<String> {
    let label = |v: &Option<String>| v.clone().unwrap_or_else(|| "no verdict".into());
    let mut out = vec![if d.verdict_changed {
        format!(
            "verdict: {} -> {}",
            label(&d.verdict_before),
            label(&d.verdict_after)
        )
    } else {
        format!("verdict: {} (unchanged)", label(&d.verdict_after))
    }];
    out.push(format!(
        "sources: {} added, {} dropped; sentences: {} added, {} removed",
        d.sources_added.len(),
        d.sources_dropped.len(),
        d.sentences_added.len(),
        d.sentences_removed.len()
    ));
    if detail {
        let sources = [('+', &d.sources_added), ('-', &d.sources_dropped)];
        for (sign, list) in sources {
            out.extend(
                list.iter()
                    .map(|s| format!("  {sign} {}  {}", s.id, s.title)),
            );
        }
        let sentences = [('+', &d.sentences_added), ('-', &d.sentences_removed)];
        for (sign, list) in sentences {
            out.extend(list.iter().map(|s| format!("  {sign} {s}")));
        }
    }
    out.into_iter()
        .map(|l| terminal_safe(&l).into_owned())
        .collect()
}
