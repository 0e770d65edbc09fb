//! The OpenAI-compatible chat-completions client.

use std::io::{BufReader, Read};
use std::time::{Duration, Instant};
use verity_text::error_chain;

use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use crate::sse::{excerpt, read_stream};
use crate::{ChatModel, LlmConfig, LlmError, Message, Reply};

/// Longest wait a `Retry-After` header may ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// The most bytes read from one answer, streamed or whole: a chat answer of a few
/// thousand tokens is tens of kilobytes, so more is an endpoint misbehaving, and reading
/// it all would let it exhaust memory within the timeout. Enforced while reading.
pub const MAX_ANSWER_BYTES: u64 = 4 * 1024 * 1024;

/// The most bytes of an error answer read for its excerpt.
const MAX_ERROR_BYTES: u64 = 64 * 1024;

/// Reads at most `cap` bytes of a body as UTF-8; a longer body is an error.
fn read_capped(resp: Response, cap: u64) -> Result<String, String> {
    let mut buf = Vec::new();
    resp.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("the answer broke off: {e}"))?;
    if buf.len() as u64 > cap {
        return Err(format!("the answer is larger than {cap} bytes"));
    }
    String::from_utf8(buf).map_err(|_| "the answer is not UTF-8 text".to_string())
}

/// A [`ChatModel`] over an OpenAI-compatible `/chat/completions` endpoint.
pub struct OpenAiChat {
    config: LlmConfig,
    endpoint: String,
    client: Client,
}

impl std::fmt::Debug for OpenAiChat {
    // Never prints the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiChat")
            .field("endpoint", &self.endpoint)
            .field("model", &self.config.model)
            .finish()
    }
}

/// The chat-completions URL for a configured base: the URL itself when it already ends
/// in `/chat/completions`, else `BASE/chat/completions`, with `/v1` added to a URL that
/// has no path (`http://127.0.0.1:8081` → `http://127.0.0.1:8081/v1/chat/completions`).
/// Credentials in the URL are refused: keys travel in `--llm-key-env`.
pub fn endpoint_url(base: &str) -> Result<String, LlmError> {
    let bad = |reason: &str| LlmError::BadUrl {
        url: base.to_string(),
        reason: reason.to_string(),
    };
    let parsed = url::Url::parse(base.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("only http and https are supported"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Named without the credentials, which must not reach a log.
        let mut shown = parsed.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(LlmError::BadUrl {
            url: shown.to_string(),
            reason: "it holds credentials; put the key in an environment variable and name it with --llm-key-env".into(),
        });
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(bad("it has a query or fragment"));
    }
    let s = parsed.as_str().trim_end_matches('/').to_string();
    Ok(if s.ends_with("/chat/completions") {
        s
    } else if parsed.path() == "/" {
        format!("{s}/v1/chat/completions")
    } else {
        format!("{s}/chat/completions")
    })
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: &'a [Message],
    temperature: f32,
    max_tokens: u32,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: AnswerMessage,
}

#[derive(Deserialize)]
struct AnswerMessage {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize, Default, Clone, Copy)]
pub(crate) struct Usage {
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    #[serde(default)]
    pub completion_tokens: Option<u64>,
}

/// How one attempt ended, when it did not give a reply.
enum Failure {
    /// Worth another try after the wait (429, 5xx, refused connection).
    Retry(LlmError, Option<Duration>),
    Fatal(LlmError),
}

impl OpenAiChat {
    /// A client for `config`; checks the URL, connects lazily.
    pub fn new(config: LlmConfig) -> Result<Self, LlmError> {
        let endpoint = endpoint_url(&config.url)?;
        let client = Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("verity/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LlmError::BadUrl {
                url: config.url.clone(),
                reason: format!("no HTTP client: {e}"),
            })?;
        Ok(OpenAiChat {
            config,
            endpoint,
            client,
        })
    }

    fn attempt(&self, messages: &[Message]) -> Result<Reply, Failure> {
        let body = ChatRequest {
            model: &self.config.model,
            messages,
            temperature: self.config.temperature,
            max_tokens: self.config.max_tokens,
            stream: self.config.stream,
            stream_options: self.config.stream.then_some(StreamOptions {
                include_usage: true,
            }),
        };
        let mut req = self.client.post(&self.endpoint).json(&body);
        if let Some(key) = &self.config.key {
            req = req.bearer_auth(key);
        }
        let resp = req.send().map_err(|e| self.transport(e))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(self.http_failure(status, resp));
        }
        if self.config.stream && is_event_stream(&resp) {
            let s = read_stream(BufReader::new(resp.take(MAX_ANSWER_BYTES)))
                .map_err(|detail| self.stream_failure(detail))?;
            return Ok(Reply {
                content: s.content,
                prompt_tokens: s.prompt_tokens,
                completion_tokens: s.completion_tokens,
                ..Reply::default()
            });
        }
        // Not streamed (asked not to, or a server that ignores `stream`).
        let text = read_capped(resp, MAX_ANSWER_BYTES).map_err(|detail| {
            Failure::Fatal(LlmError::BadAnswer {
                url: self.endpoint.clone(),
                detail,
            })
        })?;
        self.parse_whole(&text).map_err(Failure::Fatal)
    }

    fn parse_whole(&self, text: &str) -> Result<Reply, LlmError> {
        let bad = |detail: String| LlmError::BadAnswer {
            url: self.endpoint.clone(),
            detail,
        };
        let parsed: ChatResponse =
            serde_json::from_str(text).map_err(|e| bad(format!("{e}: {}", excerpt(text))))?;
        let choice = parsed
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| bad("no choices in the answer".into()))?;
        let content = choice
            .message
            .content
            .ok_or_else(|| bad("the first choice has no message content".into()))?;
        let usage = parsed.usage.unwrap_or_default();
        Ok(Reply {
            content,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            ..Reply::default()
        })
    }

    fn transport(&self, e: reqwest::Error) -> Failure {
        let url = self.endpoint.clone();
        if e.is_timeout() {
            // Not retried: a second attempt would double a wait that is already long.
            return Failure::Fatal(LlmError::Timeout {
                url,
                secs: self.config.timeout.as_secs().max(1),
            });
        }
        let detail = error_chain(&e);
        if e.is_connect() {
            Failure::Retry(LlmError::Unreachable { url, detail }, None)
        } else {
            Failure::Fatal(LlmError::BadAnswer { url, detail })
        }
    }

    fn stream_failure(&self, detail: String) -> Failure {
        // A read timeout surfaces as an I/O error inside the stream.
        if detail.to_lowercase().contains("timed out") {
            return Failure::Fatal(LlmError::Timeout {
                url: self.endpoint.clone(),
                secs: self.config.timeout.as_secs().max(1),
            });
        }
        Failure::Fatal(LlmError::BadAnswer {
            url: self.endpoint.clone(),
            detail,
        })
    }

    fn http_failure(&self, status: StatusCode, resp: Response) -> Failure {
        let wait = retry_after(&resp);
        let detail = excerpt(
            read_capped(resp, MAX_ERROR_BYTES)
                .unwrap_or_default()
                .trim(),
        );
        let err = LlmError::Status {
            url: self.endpoint.clone(),
            status: status.as_u16(),
            attempts: 1,
            detail: if detail.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("no reason given")
                    .to_string()
            } else {
                detail
            },
        };
        if err.is_transient() {
            Failure::Retry(err, wait)
        } else {
            Failure::Fatal(err)
        }
    }
}

impl ChatModel for OpenAiChat {
    fn name(&self) -> &str {
        &self.config.model
    }

    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Tries once, then up to `retries` more times after 429, 5xx or a refused
    /// connection, waiting `backoff`, then twice that, ... (or what `Retry-After` says).
    fn chat(&self, messages: &[Message]) -> Result<Reply, LlmError> {
        let started = Instant::now();
        let mut wait = self.config.backoff;
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self.attempt(messages) {
                Ok(mut reply) => {
                    reply.elapsed = started.elapsed();
                    reply.attempts = attempts;
                    return Ok(reply);
                }
                Err(Failure::Retry(_, after)) if attempts <= self.config.retries => {
                    std::thread::sleep(after.unwrap_or(wait));
                    wait = wait.saturating_mul(2);
                }
                Err(Failure::Retry(err, _)) | Err(Failure::Fatal(err)) => {
                    return Err(with_attempts(err, attempts));
                }
            }
        }
    }
}

fn with_attempts(err: LlmError, n: u32) -> LlmError {
    match err {
        LlmError::Status {
            url,
            status,
            detail,
            ..
        } => LlmError::Status {
            url,
            status,
            attempts: n,
            detail,
        },
        other => other,
    }
}

fn is_event_stream(resp: &Response) -> bool {
    resp.headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// A `Retry-After: SECONDS` header, capped.
fn retry_after(resp: &Response) -> Option<Duration> {
    let secs: u64 = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_follow_the_openai_base_convention() {
        let e = |u: &str| endpoint_url(u).unwrap();
        assert_eq!(
            e("http://127.0.0.1:8081/v1"),
            "http://127.0.0.1:8081/v1/chat/completions"
        );
        assert_eq!(
            e("http://127.0.0.1:8081/v1/"),
            "http://127.0.0.1:8081/v1/chat/completions"
        );
        assert_eq!(
            e("http://127.0.0.1:8081"),
            "http://127.0.0.1:8081/v1/chat/completions"
        );
        assert_eq!(
            e("https://api.example.invalid/openai/v1/chat/completions"),
            "https://api.example.invalid/openai/v1/chat/completions"
        );
        assert_eq!(
            e("http://localhost:11434/v1"),
            "http://localhost:11434/v1/chat/completions"
        );
        for bad in [
            "ftp://x/v1",
            "not a url",
            "http://user:secret@host/v1",
            "http://h/v1?key=1",
        ] {
            let err = endpoint_url(bad).unwrap_err();
            assert!(matches!(err, LlmError::BadUrl { .. }), "{bad}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }
}
