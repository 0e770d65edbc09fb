//! Reading a streamed chat completion: server-sent events whose `data:` lines each hold
//! one JSON chunk, ended by `data: [DONE]`.

use std::io::BufRead;

use serde::Deserialize;

/// What a stream adds up to.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Streamed {
    pub content: String,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct Chunk {
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<crate::openai::Usage>,
}

#[derive(Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Delta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

/// Reads events until `[DONE]` (or the end of a stream that gave a `finish_reason`).
/// Errors are plain descriptions; the caller names the endpoint.
pub(crate) fn read_stream(reader: impl BufRead) -> Result<Streamed, String> {
    let mut out = Streamed::default();
    let mut finished = false;
    for line in reader.lines() {
        let line = line.map_err(|e| format!("the stream broke off: {e}"))?;
        let line = line.trim_end_matches('\r');
        // Comments (": keep-alive"), event names and ids carry nothing we need.
        let Some(data) = line.strip_prefix("data:") else {
            continue;
        };
        let data = data.trim_start();
        if data == "[DONE]" {
            return Ok(out);
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| {
            format!(
                "a streamed event is not a chat-completion chunk ({e}): {}",
                excerpt(data)
            )
        })?;
        if let Some(u) = chunk.usage {
            out.prompt_tokens = u.prompt_tokens;
            out.completion_tokens = u.completion_tokens;
        }
        for c in chunk.choices {
            if let Some(t) = c.delta.content {
                out.content.push_str(&t);
            }
            finished |= c.finish_reason.is_some();
        }
    }
    if finished {
        Ok(out)
    } else {
        Err("the stream ended before the reply was finished (no finish_reason, no [DONE])".into())
    }
}

/// The first 200 characters of a body, for messages.
pub(crate) fn excerpt(s: &str) -> String {
    let mut e: String = s.chars().take(200).collect();
    if s.chars().count() > 200 {
        e.push('…');
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_add_up_and_done_ends_the_stream() {
        let body = ": ping\n\ndata: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n\
                    data: {\"choices\":[{\"delta\":{\"content\":\"The weir \"}}]}\r\n\r\n\
                    data: {\"choices\":[{\"delta\":{\"content\":\"held [1].\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":4}}\n\n\
                    data: [DONE]\n\ndata: not json after done\n";
        let s = read_stream(body.as_bytes()).unwrap();
        assert_eq!(s.content, "The weir held [1].");
        assert_eq!((s.prompt_tokens, s.completion_tokens), (Some(9), Some(4)));
    }

    #[test]
    fn a_stream_cut_short_or_garbled_is_an_error() {
        let cut = "data: {\"choices\":[{\"delta\":{\"content\":\"The weir\"}}]}\n";
        assert!(read_stream(cut.as_bytes())
            .unwrap_err()
            .contains("ended before"));
        let garbled = "data: <html>oops</html>\n";
        assert!(read_stream(garbled.as_bytes())
            .unwrap_err()
            .contains("not a chat-completion chunk"));
        // A finish_reason without [DONE] is a complete reply (some servers stop there).
        let no_done =
            "data: {\"choices\":[{\"delta\":{\"content\":\"x\"},\"finish_reason\":\"length\"}]}\n";
        assert_eq!(read_stream(no_done.as_bytes()).unwrap().content, "x");
    }
}
