//! Progress bars on a terminal; nothing when output is piped or `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Mutex;
use verity_types::Progress;

pub struct Bars {
    bar: Mutex<Option<ProgressBar>>,
    quiet: bool,
}

impl Bars {
    pub fn new(quiet: bool) -> Self {
        Bars {
            bar: Mutex::new(None),
            quiet,
        }
    }

    pub fn finish(&self) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            b.finish_and_clear();
        }
    }
}

impl Progress for Bars {
    fn stage(&self, name: &str, total: Option<u64>) {
        let mut guard = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = guard.take() {
            b.finish_and_clear();
        }
        if self.quiet {
            return;
        }
        let bar = match total {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        let style = match total {
            Some(_) => ProgressStyle::with_template(
                "{prefix:>10.cyan.bold} [{bar:30}] {pos}/{len} ({per_sec}, eta {eta}) {wide_msg}",
            ),
            None => {
                ProgressStyle::with_template("{prefix:>10.cyan.bold} {spinner} {pos} {wide_msg}")
            }
        };
        if let Ok(s) = style {
            bar.set_style(s.progress_chars("=> "));
        }
        bar.set_prefix(name.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        *guard = Some(bar);
    }

    fn advance(&self, n: u64) {
        if let Some(b) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            b.inc(n);
        }
    }

    fn message(&self, msg: &str) {
        if self.quiet {
            return;
        }
        match self.bar.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            Some(b) => b.println(msg),
            None => eprintln!("{msg}"),
        }
    }
}
