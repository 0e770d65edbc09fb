//! Verity's optional language-model client. A [`ChatModel`] turns a conversation into a
//! reply; [`OpenAiChat`] speaks the OpenAI-compatible chat-completions API that llama.cpp's
//! server, Ollama, vLLM and hosted APIs all answer, with a timeout, retries with backoff
//! on 429 and 5xx, and streaming (server-sent events) when asked.
//!
//! The model only ever writes prose for `verity-compose`, which checks every sentence it
//! writes against the passages the sentence cites; nothing here decides anything.
//!
//! ```no_run
//! use verity_llm::{ChatModel, LlmConfig, Message, OpenAiChat};
//! let chat = OpenAiChat::new(LlmConfig::new("http://127.0.0.1:8081/v1", "smollm2")).unwrap();
//! let reply = chat.chat(&[Message::user("Say hello.")]).unwrap();
//! println!("{} ({} completion tokens)", reply.content, reply.completion_tokens.unwrap_or(0));
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod error;
mod openai;
mod sse;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use error::LlmError;
pub use openai::{endpoint_url, OpenAiChat, MAX_ANSWER_BYTES};

/// Who says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Self {
        Message {
            role: Role::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// A model's answer, with what it cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    pub content: String,
    /// Tokens as the server counted them (`usage`), when it says.
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    /// Wall time of the call, retries included.
    pub elapsed: Duration,
    /// HTTP attempts made (1 without retries).
    pub attempts: u32,
}

/// A chat model: the seam between the writer and whatever serves the model.
pub trait ChatModel: Send + Sync {
    /// The model's name, as recorded in a brief's audit.
    fn name(&self) -> &str;
    /// Where it is served, without credentials, as recorded in a brief's audit.
    fn endpoint(&self) -> &str;
    /// The model's reply to `messages`.
    fn chat(&self, messages: &[Message]) -> Result<Reply, LlmError>;
}

/// Default wall-clock limit of one HTTP attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Default number of retries after a 429, a 5xx or a refused connection.
pub const DEFAULT_RETRIES: u32 = 2;
/// Default most tokens a reply may hold.
pub const DEFAULT_MAX_TOKENS: u32 = 700;

/// How to reach an OpenAI-compatible endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmConfig {
    /// Base URL (`http://host:port/v1`), a bare server URL (`/v1` is added) or the full
    /// `.../chat/completions` URL; see [`endpoint_url`].
    pub url: String,
    /// The model name the server expects (`"model"` in the request).
    pub model: String,
    /// The API key, sent as `Authorization: Bearer KEY`. Read from the environment by the
    /// caller; never stored.
    pub key: Option<String>,
    /// Limit on one attempt, connection to last byte.
    pub timeout: Duration,
    /// Retries after 429, 5xx or a refused connection.
    pub retries: u32,
    /// First wait before a retry; doubled each time (a `Retry-After` header wins, capped
    /// at 30 s).
    pub backoff: Duration,
    /// Ask for the reply as server-sent events (`"stream": true`). Off by default: a
    /// whole answer carries `usage` from every server, a stream only from some.
    pub stream: bool,
    pub max_tokens: u32,
    /// 0 for the most repeatable answers.
    pub temperature: f32,
}

impl LlmConfig {
    /// A config with the defaults: no key, [`DEFAULT_TIMEOUT`], [`DEFAULT_RETRIES`],
    /// 500 ms backoff, no streaming, temperature 0.
    pub fn new(url: impl Into<String>, model: impl Into<String>) -> Self {
        LlmConfig {
            url: url.into(),
            model: model.into(),
            key: None,
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            backoff: Duration::from_millis(500),
            stream: false,
            max_tokens: DEFAULT_MAX_TOKENS,
            temperature: 0.0,
        }
    }
}
