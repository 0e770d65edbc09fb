//! The optional language model that writes a brief's prose: where it is and how to reach
//! it, as a check's request carries it. The key never travels in a request or the
//! history: only the *name* of the environment variable that holds it does, read where
//! the check runs.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use verity_compose::{LlmConfig, LlmError, OpenAiChat};

/// Environment variables the shells read for the `--llm*` options.
pub const LLM_URL_ENV: &str = "VERITY_LLM_URL";
pub const LLM_MODEL_ENV: &str = "VERITY_LLM_MODEL";
pub const LLM_KEY_ENV_ENV: &str = "VERITY_LLM_KEY_ENV";
pub const LLM_TIMEOUT_ENV: &str = "VERITY_LLM_TIMEOUT";
pub const LLM_MAX_TOKENS_ENV: &str = "VERITY_LLM_MAX_TOKENS";
pub const LLM_STREAM_ENV: &str = "VERITY_LLM_STREAM";
pub const LLM_CLAIMS_ENV: &str = "VERITY_LLM_CLAIMS";

/// Model name sent when none is given (llama.cpp's server serves whatever it loaded).
pub const DEFAULT_LLM_MODEL: &str = "default";

/// An OpenAI-compatible chat-completions endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LlmOptions {
    /// Base URL, e.g. `http://127.0.0.1:8081/v1` (see `verity_llm::endpoint_url`).
    pub url: String,
    /// The model name the server expects.
    #[serde(default = "default_model")]
    pub model: String,
    /// Name of the environment variable holding the API key (never the key itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_env: Option<String>,
    /// Limit on one HTTP attempt, seconds (default 120).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// Most tokens one reply may hold (default 700).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Ask for streamed answers (server-sent events).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    /// Let the model also split a claim into parts and propose queries for the second
    /// retrieval pass (validated by Verity, recorded in the brief's `planner`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub claims: bool,
}

fn default_model() -> String {
    DEFAULT_LLM_MODEL.to_string()
}

impl LlmOptions {
    pub fn new(url: impl Into<String>, model: Option<String>) -> Self {
        LlmOptions {
            url: url.into(),
            model: model.unwrap_or_else(default_model),
            key_env: None,
            timeout_secs: None,
            max_tokens: None,
            stream: false,
            claims: false,
        }
    }

    /// The client, with the key read from `key_env` now.
    pub fn client(&self) -> Result<OpenAiChat, LlmError> {
        let mut config = LlmConfig::new(&self.url, &self.model);
        if let Some(var) = &self.key_env {
            let key = std::env::var(var).ok().filter(|k| !k.trim().is_empty());
            config.key = Some(key.ok_or_else(|| LlmError::MissingKey { var: var.clone() })?);
        }
        if let Some(secs) = self.timeout_secs {
            config.timeout = Duration::from_secs(secs.max(1));
        }
        config.stream = self.stream;
        if let Some(n) = self.max_tokens {
            config.max_tokens = n.max(16);
        }
        OpenAiChat::new(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_comes_from_the_named_variable_and_never_from_the_request() {
        let mut o = LlmOptions::new("http://127.0.0.1:8081/v1", None);
        o.key_env = Some("VERITY_TEST_LLM_KEY_THAT_IS_NOT_SET".into());
        let err = o.client().unwrap_err();
        assert!(matches!(err, LlmError::MissingKey { .. }), "{err:?}");
        assert!(err
            .to_string()
            .contains("VERITY_TEST_LLM_KEY_THAT_IS_NOT_SET"));
        // What a check stores: the variable's name, no key.
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["key_env"], "VERITY_TEST_LLM_KEY_THAT_IS_NOT_SET");
        assert_eq!(json["model"], "default");
        let back: LlmOptions =
            serde_json::from_value(serde_json::json!({"url": "http://h/v1"})).unwrap();
        assert_eq!(back, LlmOptions::new("http://h/v1", None));
    }

    #[test]
    fn a_bad_url_is_a_set_up_error_before_any_call() {
        let err = LlmOptions::new("ftp://h", None).client().unwrap_err();
        assert!(matches!(err, LlmError::BadUrl { .. }));
    }
}
