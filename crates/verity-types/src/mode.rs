//! Whether a brief answers a question or checks a claim.

use serde::{Deserialize, Serialize};

/// Whether the input is an open question or a claim to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `verity ask`: answer a question; no verdict.
    Ask,
    /// `verity check` (or input starting "Fact check:"): a verdict on the fixed scale.
    Check,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Ask => "ask",
            Mode::Check => "check",
        }
    }
}
