//! The one error type of this crate. Every variant names the file or URL it is about
//! and says what to do next, because these messages go straight to the user's terminal
//! ("skipped `x`: reason").

/// Why an input could not be turned into a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The file or directory could not be opened or read.
    #[error("could not read `{location}`: {detail}; check that it exists and is readable")]
    Unreadable { location: String, detail: String },

    /// Nothing but whitespace (or nothing left once markup and boilerplate were removed).
    #[error("`{location}` has no text: {detail}; skipped")]
    Empty { location: String, detail: String },

    /// Over the size cap. `size` is `None` when the input was streamed and cut off one
    /// byte past the cap. `setting` names the flag or setting that raises the cap.
    #[error("{}", too_large_message(.location, *.size, *.limit, .setting))]
    TooLarge {
        location: String,
        size: Option<u64>,
        limit: u64,
        setting: &'static str,
    },

    /// Not a regular file: a FIFO, socket or device (or a link to one). Such a file is
    /// never opened — a FIFO would block the read and `/dev/zero` never ends.
    #[error(
        "refused `{location}`: it is {kind}, not a regular file; Verity reads only regular files"
    )]
    SpecialFile {
        location: String,
        kind: &'static str,
    },

    /// HTML nested deeper than [`crate::MAX_HTML_DEPTH`] elements.
    #[error("refused `{location}`: its HTML nests elements more than {limit} deep (the nesting cap, `MAX_HTML_DEPTH`); pages that deep are built to stall parsers, not to be read")]
    TooDeep { location: String, limit: usize },

    /// Binary data where text was expected.
    #[error("`{location}` looks like binary data, not text ({detail}); skipped — convert it to text, Markdown, HTML or PDF first")]
    Binary { location: String, detail: String },

    /// Bytes that do not decode in the encoding they claim or appear to be in.
    #[error("could not decode `{location}`: {detail}; re-save it as UTF-8 and ingest it again")]
    Encoding { location: String, detail: String },

    /// A PDF that could not be parsed, or a `.pdf` file that is not a PDF at all.
    #[error("could not read PDF `{location}`: {detail}; skipped — repair or re-export it")]
    CorruptPdf { location: String, detail: String },

    /// A PDF whose compressed streams expand past [`crate::PdfLimits::max_decompressed_bytes`].
    /// Counted while inflating, so the expansion stops one byte past the cap.
    #[error("refused PDF `{location}`: its compressed streams expand to more than {} ({limit} bytes), the inflate cap; a small file expanding that far is a decompression bomb — raise {setting} if you trust it", human_bytes(*.limit))]
    DecompressedTooLarge {
        location: String,
        limit: u64,
        setting: &'static str,
    },

    /// A PDF over a structural cap: pages, objects, page-tree depth, nested forms.
    #[error("refused PDF `{location}`: it has more than {limit} {what}; raise {setting} if you trust it")]
    PdfTooComplex {
        location: String,
        what: &'static str,
        limit: u64,
        setting: &'static str,
    },

    /// A JSONL line that is not a JSON object with a `text` string.
    #[error("bad JSON at `{location}`: {detail}; fix that line (each line must be an object with a \"text\" string)")]
    BadJson { location: String, detail: String },

    /// A metadata field (front matter, JSONL, meta tag) with a value that cannot be used.
    #[error("bad `{field}` in `{location}`: {detail}")]
    BadMetadata {
        location: String,
        field: String,
        detail: String,
    },

    /// A file type Verity has no reader for.
    #[error("cannot ingest `{location}`: {detail}")]
    Unsupported { location: String, detail: String },

    /// Network failure: DNS, connect, TLS, timeout, a broken body.
    #[error("could not fetch `{location}`: {detail}")]
    Fetch { location: String, detail: String },

    /// The fetch's one deadline passed: connecting, waiting for the answer, or reading a
    /// body that arrives too slowly. `received` counts the body bytes read by then.
    #[error("could not fetch `{location}`: timed out after {:.1}s{}; the server is too slow or not answering", *.limit_ms as f64 / 1000.0, received_note(*.received))]
    TimedOut {
        location: String,
        limit_ms: u64,
        received: Option<u64>,
    },

    /// The URL's host resolves to a loopback, private or otherwise non-public address.
    #[error("refused to fetch `{location}`: host `{host}` resolves to non-public address {addr}; pass --allow-private to fetch from local or private networks")]
    RefusedPrivate {
        location: String,
        host: String,
        addr: String,
    },

    /// Not a URL, or a scheme other than http/https.
    #[error("bad URL `{location}`: {detail}")]
    BadUrl { location: String, detail: String },

    /// The server answered with a non-2xx status.
    #[error("fetching `{location}` failed with HTTP {status}{}", if .reason.is_empty() { String::new() } else { format!(" {}", .reason) })]
    HttpStatus {
        location: String,
        status: u16,
        reason: String,
    },

    /// More redirects than allowed.
    #[error("gave up on `{location}` after {limit} redirects; the site redirects too often (or in a circle)")]
    TooManyRedirects { location: String, limit: usize },

    /// A redirect back to a URL already visited.
    #[error(
        "redirect loop at `{location}`: it redirects back to `{target}`, which was already visited"
    )]
    RedirectLoop { location: String, target: String },

    /// A kind-rules TOML file that cannot be used.
    #[error("bad kind rules in `{location}`: {detail}")]
    BadRules { location: String, detail: String },

    /// Not read: the ingest it belonged to ran past its overall deadline first.
    #[error("did not read `{location}`: the ingest ran past its {seconds}s deadline before reaching it; what was read before is stored — add this file again")]
    DeadlinePassed { location: String, seconds: u64 },

    /// The parse worker ran past its per-file deadline and was stopped.
    #[error("gave up reading `{location}`: its parser ran past the {seconds}s per-file deadline (`--parse-timeout-secs`) and was stopped; skipped — a file that stalls a parser this long is usually built to")]
    ParseTimeout { location: String, seconds: u64 },

    /// The parse worker died (out of memory under its cap, a crash) or answered nonsense.
    #[error("the parser for `{location}` failed in its worker process ({detail}); skipped — raise `--parse-memory-mb` if the file is large and honest")]
    ParseCrashed { location: String, detail: String },

    /// An error the parse worker met, carried back as its code and message.
    #[error("{message}")]
    Relayed {
        location: String,
        code: &'static str,
        message: String,
    },
}

/// Every [`IngestError::reason_code`], so a code read back from a parse worker maps to
/// the same `&'static str`.
pub(crate) const REASON_CODES: &[&str] = &[
    "unreadable",
    "empty",
    "too_large",
    "special_file",
    "too_deep",
    "binary",
    "encoding",
    "corrupt_pdf",
    "decompressed_too_large",
    "pdf_too_complex",
    "bad_json",
    "bad_metadata",
    "unsupported",
    "fetch",
    "timeout",
    "refused_private",
    "bad_url",
    "http_status",
    "too_many_redirects",
    "redirect_loop",
    "bad_rules",
    "deadline",
    "parse_timeout",
    "parse_crashed",
];

/// The static code equal to `code`; a code this build does not know (a worker from
/// another version) reads as `parse_crashed`.
pub(crate) fn known_code(code: &str) -> &'static str {
    REASON_CODES
        .iter()
        .find(|c| **c == code)
        .copied()
        .unwrap_or("parse_crashed")
}

fn received_note(received: Option<u64>) -> String {
    match received {
        Some(n) => format!(" with {n} bytes of the body read"),
        None => String::new(),
    }
}

fn too_large_message(location: &str, size: Option<u64>, limit: u64, setting: &str) -> String {
    match size {
        Some(size) => format!(
            "`{location}` is {} ({size} bytes), over the {} limit; skipped — raise {setting} to include it",
            human_bytes(size),
            human_bytes(limit)
        ),
        None => format!(
            "`{location}` is larger than the {} limit ({limit} bytes); stopped reading — raise {setting} to include it",
            human_bytes(limit)
        ),
    }
}

/// "1.5 MiB" style sizes for messages.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

impl IngestError {
    /// A stable, machine-readable code for summaries and JSON output.
    pub fn reason_code(&self) -> &'static str {
        match self {
            IngestError::Unreadable { .. } => "unreadable",
            IngestError::Empty { .. } => "empty",
            IngestError::TooLarge { .. } => "too_large",
            IngestError::SpecialFile { .. } => "special_file",
            IngestError::TooDeep { .. } => "too_deep",
            IngestError::Binary { .. } => "binary",
            IngestError::Encoding { .. } => "encoding",
            IngestError::CorruptPdf { .. } => "corrupt_pdf",
            IngestError::DecompressedTooLarge { .. } => "decompressed_too_large",
            IngestError::PdfTooComplex { .. } => "pdf_too_complex",
            IngestError::BadJson { .. } => "bad_json",
            IngestError::BadMetadata { .. } => "bad_metadata",
            IngestError::Unsupported { .. } => "unsupported",
            IngestError::Fetch { .. } => "fetch",
            IngestError::TimedOut { .. } => "timeout",
            IngestError::RefusedPrivate { .. } => "refused_private",
            IngestError::BadUrl { .. } => "bad_url",
            IngestError::HttpStatus { .. } => "http_status",
            IngestError::TooManyRedirects { .. } => "too_many_redirects",
            IngestError::RedirectLoop { .. } => "redirect_loop",
            IngestError::BadRules { .. } => "bad_rules",
            IngestError::DeadlinePassed { .. } => "deadline",
            IngestError::ParseTimeout { .. } => "parse_timeout",
            IngestError::ParseCrashed { .. } => "parse_crashed",
            IngestError::Relayed { code, .. } => code,
        }
    }

    /// The file path, `path#L<line>` or URL the error is about.
    pub fn location(&self) -> &str {
        match self {
            IngestError::Unreadable { location, .. }
            | IngestError::Empty { location, .. }
            | IngestError::TooLarge { location, .. }
            | IngestError::SpecialFile { location, .. }
            | IngestError::TooDeep { location, .. }
            | IngestError::Binary { location, .. }
            | IngestError::Encoding { location, .. }
            | IngestError::CorruptPdf { location, .. }
            | IngestError::DecompressedTooLarge { location, .. }
            | IngestError::PdfTooComplex { location, .. }
            | IngestError::BadJson { location, .. }
            | IngestError::BadMetadata { location, .. }
            | IngestError::Unsupported { location, .. }
            | IngestError::Fetch { location, .. }
            | IngestError::TimedOut { location, .. }
            | IngestError::RefusedPrivate { location, .. }
            | IngestError::BadUrl { location, .. }
            | IngestError::HttpStatus { location, .. }
            | IngestError::TooManyRedirects { location, .. }
            | IngestError::RedirectLoop { location, .. }
            | IngestError::BadRules { location, .. }
            | IngestError::DeadlinePassed { location, .. }
            | IngestError::ParseTimeout { location, .. }
            | IngestError::ParseCrashed { location, .. }
            | IngestError::Relayed { location, .. } => location,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_input_and_sizes() {
        let e = IngestError::TooLarge {
            location: "big.txt".into(),
            size: Some(3 * 1024 * 1024),
            limit: 1024 * 1024,
            setting: "`--max-size-mb`",
        };
        let msg = e.to_string();
        assert!(msg.contains("big.txt") && msg.contains("3.0 MiB") && msg.contains("1.0 MiB"));
        assert!(msg.contains("--max-size-mb"), "{msg}");
        assert_eq!(e.reason_code(), "too_large");
        assert_eq!(e.location(), "big.txt");
    }

    #[test]
    fn http_status_message_has_reason() {
        let e = IngestError::HttpStatus {
            location: "http://x.example/".into(),
            status: 404,
            reason: "Not Found".into(),
        };
        assert!(e.to_string().ends_with("HTTP 404 Not Found"));
    }

    #[test]
    fn every_reason_code_is_known() {
        let loc = || "x".to_string();
        let samples = [
            IngestError::Unreadable {
                location: loc(),
                detail: loc(),
            },
            IngestError::Empty {
                location: loc(),
                detail: loc(),
            },
            IngestError::TooLarge {
                location: loc(),
                size: None,
                limit: 1,
                setting: "s",
            },
            IngestError::SpecialFile {
                location: loc(),
                kind: "a FIFO",
            },
            IngestError::TooDeep {
                location: loc(),
                limit: 1,
            },
            IngestError::Binary {
                location: loc(),
                detail: loc(),
            },
            IngestError::Encoding {
                location: loc(),
                detail: loc(),
            },
            IngestError::CorruptPdf {
                location: loc(),
                detail: loc(),
            },
            IngestError::DecompressedTooLarge {
                location: loc(),
                limit: 1,
                setting: "s",
            },
            IngestError::PdfTooComplex {
                location: loc(),
                what: "pages",
                limit: 1,
                setting: "s",
            },
            IngestError::BadJson {
                location: loc(),
                detail: loc(),
            },
            IngestError::BadMetadata {
                location: loc(),
                field: loc(),
                detail: loc(),
            },
            IngestError::Unsupported {
                location: loc(),
                detail: loc(),
            },
            IngestError::Fetch {
                location: loc(),
                detail: loc(),
            },
            IngestError::TimedOut {
                location: loc(),
                limit_ms: 1,
                received: None,
            },
            IngestError::RefusedPrivate {
                location: loc(),
                host: loc(),
                addr: loc(),
            },
            IngestError::BadUrl {
                location: loc(),
                detail: loc(),
            },
            IngestError::HttpStatus {
                location: loc(),
                status: 500,
                reason: loc(),
            },
            IngestError::TooManyRedirects {
                location: loc(),
                limit: 1,
            },
            IngestError::RedirectLoop {
                location: loc(),
                target: loc(),
            },
            IngestError::BadRules {
                location: loc(),
                detail: loc(),
            },
            IngestError::DeadlinePassed {
                location: loc(),
                seconds: 1,
            },
            IngestError::ParseTimeout {
                location: loc(),
                seconds: 1,
            },
            IngestError::ParseCrashed {
                location: loc(),
                detail: loc(),
            },
        ];
        for e in &samples {
            assert_eq!(known_code(e.reason_code()), e.reason_code());
        }
        assert_eq!(samples.len(), REASON_CODES.len());
        assert_eq!(known_code("from_a_newer_worker"), "parse_crashed");
    }

    #[test]
    fn human_bytes_scales() {
        assert_eq!(human_bytes(10), "10 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(50 * 1024 * 1024), "50.0 MiB");
    }
}
