//! The one error type of the language-model client.

/// What can go wrong talking to a chat-completions endpoint. Each says what happened, to
/// which endpoint, and what to do next; `verity_engine` maps them to stable codes.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The endpoint URL is not an http(s) URL.
    #[error("`{url}` is not a usable language-model endpoint: {reason}; give its base URL, e.g. `--llm http://127.0.0.1:8081/v1`")]
    BadUrl { url: String, reason: String },
    /// The environment variable that should hold the API key is not set.
    #[error("the API key variable `{var}` (from --llm-key-env) is not set or is empty; export it, or drop --llm-key-env for a server that needs no key")]
    MissingKey { var: String },
    /// Nothing answers at the endpoint (connection refused, DNS, TLS).
    #[error("the language model at `{url}` cannot be reached: {detail}; start the server (e.g. `python -m llama_cpp.server --model FILE --port 8081`) or fix --llm")]
    Unreachable { url: String, detail: String },
    /// The endpoint did not answer in time.
    #[error("the language model at `{url}` did not answer within {secs} s; use a smaller model, a faster server, or a longer --llm-timeout")]
    Timeout { url: String, secs: u64 },
    /// The endpoint answered with an HTTP error (after retries for 429 and 5xx).
    #[error("the language model at `{url}` answered HTTP {status} (after {attempts} attempt(s)): {detail}")]
    Status {
        url: String,
        status: u16,
        attempts: u32,
        detail: String,
    },
    /// The endpoint answered something that is not an OpenAI-compatible chat completion.
    #[error("the language model at `{url}` answered something that is not a chat completion: {detail}; check that --llm points at an OpenAI-compatible /v1 endpoint")]
    BadAnswer { url: String, detail: String },
}

impl LlmError {
    /// Whether the same request may succeed later (overload, server errors, a down or
    /// slow server) rather than needing a change of settings.
    pub fn is_transient(&self) -> bool {
        match self {
            LlmError::Unreachable { .. } | LlmError::Timeout { .. } => true,
            LlmError::Status { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}
