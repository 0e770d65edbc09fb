//! Setup shared by the CLI's integration tests: the real `verity` binary on a private
//! library.

use std::path::Path;
use std::process::{Command, Output};

/// A `verity` command on a private library, lexical only so tests need no models.
pub fn verity(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_verity"));
    c.arg("--data").arg(data).arg("--no-models").arg("--quiet");
    c.env_remove("VERITY_DATA");
    c.env_remove("VERITY_STORE");
    for var in LLM_ENV {
        c.env_remove(var);
    }
    c
}

/// The language-model settings a developer's shell may hold; no test inherits them.
pub const LLM_ENV: [&str; 7] = [
    "VERITY_LLM_URL",
    "VERITY_LLM_MODEL",
    "VERITY_LLM_KEY_ENV",
    "VERITY_LLM_TIMEOUT",
    "VERITY_LLM_MAX_TOKENS",
    "VERITY_LLM_STREAM",
    "VERITY_LLM_CLAIMS",
];

/// Runs `cmd`, failing the test with its output unless it exits 0.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("run verity");
    assert!(
        out.status.success(),
        "verity failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
