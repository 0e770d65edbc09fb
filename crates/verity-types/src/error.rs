//! Every error a person can meet, by a stable code, in one place.
//!
//! Libraries keep their own typed errors (thiserror); each maps to one [`ErrorCode`],
//! which decides what the shells do with it: the HTTP status and `{code, message, hint}`
//! body the server answers with, and the exit status and `hint:` line the CLI prints. The
//! codes are a public contract (clients match on them); messages and hints are for
//! people and may change.
//!
//! ```
//! use verity_types::ErrorCode;
//! let c = ErrorCode::SourceNotFound;
//! assert_eq!((c.as_str(), c.status()), ("source_not_found", 404));
//! assert!(c.hint().contains("verity sources"));
//! ```

use serde::{Serialize, Serializer};

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $name:ident = ($code:literal, $status:literal, $exit:ident, $hint:literal), )*) => {
        /// A stable, machine-readable error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "openapi", schema(as = Code, rename_all = "snake_case"))]
        pub enum ErrorCode {
            $( $(#[$doc])* $name, )*
        }

        impl ErrorCode {
            /// Every code, for tests and documentation.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name,)*];

            /// The code as it appears in JSON (`snake_case`).
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$name => $code,)* }
            }

            /// The HTTP status the server answers with.
            pub fn status(self) -> u16 {
                match self { $(ErrorCode::$name => $status,)* }
            }

            /// What the person can do next; names commands that exist.
            pub fn hint(self) -> &'static str {
                match self { $(ErrorCode::$name => $hint,)* }
            }

            /// The kind of failure, which decides the CLI's exit status.
            pub fn category(self) -> Category {
                match self { $(ErrorCode::$name => Category::$exit,)* }
            }
        }
    };
}

/// Kinds of failure, each with its own exit status (from BSD's `sysexits.h`, so that
/// scripts can tell "fix your input" from "try again later" from "a bug").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// The request or its input is wrong (64, `EX_USAGE`).
    BadInput,
    /// A data file or record is damaged or unreadable (65, `EX_DATAERR`).
    BadData,
    /// The thing asked for is not there (66, `EX_NOINPUT`).
    NotFound,
    /// A bug or an unexpected failure inside Verity (70, `EX_SOFTWARE`).
    Internal,
    /// Reading or writing files failed, or the disk is full (74, `EX_IOERR`).
    Io,
    /// Busy or shutting down; the same request may work later (75, `EX_TEMPFAIL`).
    TryLater,
    /// Not allowed (77, `EX_NOPERM`).
    Denied,
    /// Set-up is missing or wrong: a model, a newer library (78, `EX_CONFIG`).
    Config,
}

impl Category {
    /// The process exit status for this kind of failure.
    pub fn exit_code(self) -> u8 {
        match self {
            Category::BadInput => 64,
            Category::BadData => 65,
            Category::NotFound => 66,
            Category::Internal => 70,
            Category::Io => 74,
            Category::TryLater => 75,
            Category::Denied => 77,
            Category::Config => 78,
        }
    }
}

error_codes! {
    /// The body is not valid JSON.
    MalformedJson = ("malformed_json", 400, BadInput,
        "send a JSON body; GET /api/openapi.json describes each endpoint's fields"),
    /// A parameter or field is missing, has the wrong type, or is out of range.
    InvalidRequest = ("invalid_request", 400, BadInput,
        "fix the input named in the message; `verity --help` and GET /api/openapi.json list the options"),
    /// A source or check id prefix matches more than one of them.
    AmbiguousId = ("ambiguous_id", 400, BadInput,
        "give more characters of the id; `verity sources` and `verity checks` list the full ids"),
    /// Nothing was given to ingest.
    NothingToIngest = ("nothing_to_ingest", 400, BadInput,
        "name files, folders or http(s) URLs: `verity ingest PATH`"),
    /// The URL was refused (private or loopback address, bad scheme).
    UrlRefused = ("url_refused", 400, BadInput,
        "give a public http(s) URL, or allow private addresses with `--allow-private`"),
    /// A token is configured and the request carries none.
    MissingToken = ("missing_token", 401, Denied,
        "send `Authorization: Bearer TOKEN` with the token the server was started with"),
    /// The request's token is wrong.
    InvalidToken = ("invalid_token", 401, Denied,
        "send the token the server was started with (`verity serve --token`, or VERITY_TOKEN)"),
    /// The server (or library) is read-only.
    ReadOnly = ("read_only", 403, Denied,
        "restart without `--read-only` to change the library"),
    /// The `Host` header names a host this server does not answer to.
    HostNotAllowed = ("host_not_allowed", 403, Denied,
        "use the address the server listens on, or start it with `verity serve --allow-host NAME`"),
    /// A change requested by another site.
    CrossOrigin = ("cross_origin", 403, Denied,
        "make changes from the server's own page or from a non-browser client"),
    /// No such route.
    NotFound = ("not_found", 404, NotFound,
        "GET /api/openapi.json lists the endpoints"),
    /// No check with that id.
    CheckNotFound = ("check_not_found", 404, NotFound,
        "`verity checks` (or GET /api/checks) lists the stored checks and their ids"),
    /// No ingest job with that id.
    JobNotFound = ("job_not_found", 404, NotFound,
        "use the id that POST /api/sources answered with; GET /api/sources/jobs/{id} shows that job"),
    /// No source with that id.
    SourceNotFound = ("source_not_found", 404, NotFound,
        "`verity sources` (or GET /api/sources) lists the sources and their ids"),
    /// The route exists but not with this method.
    MethodNotAllowed = ("method_not_allowed", 405, BadInput,
        "GET /api/openapi.json lists each endpoint's methods"),
    /// The request took longer than the server's timeout.
    RequestTimeout = ("request_timeout", 408, TryLater,
        "send less at once (fewer or smaller files), or raise the server's timeout"),
    /// The check has not finished (showing or diffing a brief needs a finished check).
    CheckNotDone = ("check_not_done", 409, TryLater,
        "wait until the check is done (`verity checks` lists each status; GET /api/checks/{id}/events follows one), then ask again; a failed check can be run again with `verity checks recheck ID`"),
    /// The library holds no sources yet.
    EmptyLibrary = ("empty_library", 409, NotFound,
        "add sources first: `verity ingest PATH` (or POST /api/sources)"),
    /// A model that this request needs is not installed.
    ModelMissing = ("model_missing", 409, Config,
        "install the models with `bash scripts/setup-models.sh` and see `verity models`; or search with `--mode bm25`"),
    /// The body is larger than the server accepts.
    PayloadTooLarge = ("payload_too_large", 413, BadInput,
        "send a smaller body, or split the upload into several requests"),
    /// The upload has more parts than the server accepts in one request.
    TooManyParts = ("too_many_parts", 413, BadInput,
        "upload fewer files per request"),
    /// The request's URL is longer than the server accepts.
    UriTooLong = ("uri_too_long", 414, BadInput,
        "send long input in a JSON body"),
    /// The body is neither JSON nor multipart, where one of them is needed.
    UnsupportedMediaType = ("unsupported_media_type", 415, BadInput,
        "send `Content-Type: application/json` or `multipart/form-data`"),
    /// No uploaded file is of a type Verity can read.
    UnsupportedType = ("unsupported_type", 415, BadInput,
        "give text, Markdown, HTML, PDF or JSONL files"),
    /// Nothing could be ingested from the input.
    IngestFailed = ("ingest_failed", 422, BadData,
        "the report under `details` names each failure and its reason; fix the files and run `verity ingest` again"),
    /// The check queue is full.
    QueueFull = ("queue_full", 429, TryLater,
        "retry after the `Retry-After` seconds"),
    /// The request's headers are larger than the server accepts.
    HeadersTooLarge = ("headers_too_large", 431, BadInput,
        "send fewer or shorter headers"),
    /// A model failed while running (embedding or stance).
    ModelFailed = ("model_failed", 500, Internal,
        "check the models with `verity models`, or run with `--no-models` to use BM25 and the lexical judge"),
    /// Reading or writing the library's files failed.
    IoError = ("io_error", 500, Io,
        "check that the library directory (`--data`) exists, is writable and is not used by another program"),
    /// The library database or a stored record is damaged.
    StoreCorrupt = ("store_corrupt", 500, BadData,
        "restore `library.sqlite` from a backup, or start a new library (`--data DIR`) and `verity ingest` the sources again"),
    /// The search or vector index is damaged.
    IndexCorrupt = ("index_corrupt", 500, BadData,
        "move the library's `bm25` (or `vectors`) folder aside and `verity ingest` the sources again to rebuild it"),
    /// The library was written by a newer Verity.
    LibraryTooNew = ("library_too_new", 500, Config,
        "upgrade Verity (`verity --version` shows this one), or open another library with `--data DIR`"),
    /// Something broke inside Verity.
    Internal = ("internal", 500, Internal,
        "try again; if it keeps happening, report it with the message and `verity --version`"),
    /// The index is locked by another process writing to it.
    IndexLocked = ("index_locked", 503, TryLater,
        "wait for the other `verity ingest` or `verity serve` on this library to finish, then try again"),
    /// The server is shutting down.
    ShuttingDown = ("shutting_down", 503, TryLater,
        "try again when the server is back"),
    /// The PostgreSQL store cannot be reached (down, refusing connections, wrong login).
    StoreUnavailable = ("store_unavailable", 503, TryLater,
        "check that the PostgreSQL server named by `--store` (or VERITY_STORE) is running and reachable and that its user may log in, then try again"),
    /// `--store` (or VERITY_STORE) is not a usable PostgreSQL URL.
    StoreUrlInvalid = ("store_url_invalid", 500, Config,
        "give `--store postgres://USER:PASSWORD@HOST:PORT/DATABASE` (or set VERITY_STORE), or leave both unset to use the SQLite library in `--data`"),
    /// A shared job queue (`verity worker`) was asked of a library that is not shared.
    NoSharedQueue = ("no_shared_queue", 409, Config,
        "run `verity worker` (and `verity serve --worker`) with `--store postgres://USER:PASSWORD@HOST:PORT/DATABASE` (or VERITY_STORE); a SQLite library runs checks in `verity serve` itself"),
    /// The language-model settings are unusable: a bad `--llm` URL, or the key variable
    /// named by `--llm-key-env` is not set.
    LlmConfigInvalid = ("llm_config_invalid", 500, Config,
        "give `--llm http://HOST:PORT/v1` (or VERITY_LLM_URL) and, for a server that needs a key, `--llm-key-env VAR` naming a set variable; or leave --llm out for the extractive brief"),
    /// The language-model server cannot be reached, timed out, or stayed busy (429, 5xx)
    /// through the retries.
    LlmUnavailable = ("llm_unavailable", 503, TryLater,
        "start the language-model server named by `--llm` (or VERITY_LLM_URL), or wait until it is less busy, then try again; or leave --llm out for the extractive brief"),
    /// The language-model server refused the request (400, 401, 403, 404, ...).
    LlmRefused = ("llm_refused", 502, Config,
        "check `--llm-model` (a model the server serves) and the key in the variable named by `--llm-key-env`"),
    /// The language-model server answered something that is not a chat completion.
    LlmBadAnswer = ("llm_bad_answer", 502, Config,
        "point `--llm` at an OpenAI-compatible endpoint: it must answer POST /v1/chat/completions"),
    /// The disk holding the library is full.
    DiskFull = ("disk_full", 507, Io,
        "free disk space where the library lives (`--data`), then try again"),
}

impl ErrorCode {
    /// The process exit status for this code.
    pub fn exit_code(self) -> u8 {
        self.category().exit_code()
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Commands of the `verity` binary; a hint may name no other.
pub const COMMANDS: &[&str] = &[
    "ask", "check", "checks", "ingest", "search", "sources", "remove", "models", "bench", "eval",
    "serve", "migrate", "reindex", "worker",
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_complete_and_unique() {
        let mut seen = HashSet::new();
        for c in ErrorCode::ALL {
            let code = c.as_str();
            assert!(!code.is_empty(), "{c:?} has no code");
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{c:?}: `{code}` is not snake_case"
            );
            assert!(seen.insert(code), "two variants share `{code}`");
            assert!(
                (400..600).contains(&c.status()),
                "{c:?} has no error status"
            );
            assert!(c.hint().len() > 10, "{c:?} has no hint");
            assert!(c.exit_code() >= 64, "{c:?} has no exit code");
            assert_eq!(serde_json::to_value(c).unwrap(), code);
        }
        // A new variant must be listed in `ALL`: the macro builds both from one list,
        // and this match fails to compile when a variant is added without a code.
        let _exhaustive = |c: ErrorCode| match c {
            ErrorCode::MalformedJson
            | ErrorCode::InvalidRequest
            | ErrorCode::AmbiguousId
            | ErrorCode::NothingToIngest
            | ErrorCode::UrlRefused
            | ErrorCode::MissingToken
            | ErrorCode::InvalidToken
            | ErrorCode::ReadOnly
            | ErrorCode::HostNotAllowed
            | ErrorCode::CrossOrigin
            | ErrorCode::NotFound
            | ErrorCode::CheckNotFound
            | ErrorCode::JobNotFound
            | ErrorCode::SourceNotFound
            | ErrorCode::MethodNotAllowed
            | ErrorCode::RequestTimeout
            | ErrorCode::CheckNotDone
            | ErrorCode::EmptyLibrary
            | ErrorCode::ModelMissing
            | ErrorCode::PayloadTooLarge
            | ErrorCode::TooManyParts
            | ErrorCode::UriTooLong
            | ErrorCode::UnsupportedMediaType
            | ErrorCode::UnsupportedType
            | ErrorCode::IngestFailed
            | ErrorCode::QueueFull
            | ErrorCode::HeadersTooLarge
            | ErrorCode::ModelFailed
            | ErrorCode::IoError
            | ErrorCode::StoreCorrupt
            | ErrorCode::IndexCorrupt
            | ErrorCode::LibraryTooNew
            | ErrorCode::Internal
            | ErrorCode::IndexLocked
            | ErrorCode::ShuttingDown
            | ErrorCode::StoreUnavailable
            | ErrorCode::StoreUrlInvalid
            | ErrorCode::NoSharedQueue
            | ErrorCode::LlmConfigInvalid
            | ErrorCode::LlmUnavailable
            | ErrorCode::LlmRefused
            | ErrorCode::LlmBadAnswer
            | ErrorCode::DiskFull => (),
        };
        assert_eq!(ErrorCode::ALL.len(), 43);
    }

    #[test]
    fn hints_name_only_commands_that_exist() {
        for c in ErrorCode::ALL {
            let hint = c.hint();
            for (i, _) in hint.match_indices("verity ") {
                let word: String = hint[i + 7..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                assert!(
                    word.starts_with('-') || COMMANDS.contains(&word.as_str()),
                    "{c:?}'s hint names `verity {word}`, which does not exist"
                );
            }
        }
    }
}
