//! Whether a brief answers a question or checks a claim.

use serde::{Deserialize, Serialize};

/// Whether the input is an open question or a claim to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CheckMode))]
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

    /// The mode named `s` (`ask` or `check`), as [`Mode::as_str`] writes it.
    pub fn parse(s: &str) -> Option<Self> {
        [Mode::Ask, Mode::Check]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}
