//! Parse isolation: read a file in a worker process that a deadline and a memory cap
//! can really stop.
//!
//! A parser can loop, recurse or allocate without end on input nobody foresaw, and in
//! one process neither a thread nor `catch_unwind` can stop it. So the parse of a file
//! whose format [`Isolation::covers`] runs in a child process, as Apache Tika's forked
//! mode does:
//!
//! * the parent starts [`Isolation::program`] (the `verity` binary, with the
//!   `parse-worker` subcommand) and writes one JSON header line and the file's bytes to
//!   its stdin;
//! * the worker's address space and CPU seconds are capped with `setrlimit` between
//!   `fork` and `exec`, so the cap holds from the worker's first instruction (an
//!   allocator that reserves address space at start-up cannot get around it);
//! * the worker ([`serve_worker`]) parses the bytes with the same readers as the
//!   in-process path and answers one JSON line on stdout;
//! * the parent waits at most [`Isolation::timeout`], kills a worker that runs past it,
//!   and turns a timeout, a crash or an answer it cannot read into one named failure for
//!   that file. The rest of the batch goes on.
//!
//! JSONL is never isolated: one file holds a whole corpus, and serde_json has no
//! unbounded behaviour for the worker to guard.

use crate::{read_single_here, IngestError, Input, PdfLimits, ReadOptions};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;
use verity_types::{DocMeta, Format};
use wait_timeout::ChildExt;

/// Default per-file deadline for an isolated parse.
pub const DEFAULT_PARSE_TIMEOUT: Duration = Duration::from_secs(60);
/// Default address-space cap of a parse worker (the worker's own binary and libraries
/// count against it too).
pub const DEFAULT_PARSE_MEMORY: u64 = 2 * 1024 * 1024 * 1024;

/// Which formats are parsed out of process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsolationScope {
    /// PDF only: the one reader that rests on a third-party parser of a format built
    /// for nesting and compression.
    Pdf,
    /// Every format except JSONL.
    All,
}

/// How to run parsers out of process.
#[derive(Debug, Clone)]
pub struct Isolation {
    /// The worker program (the `verity` binary).
    pub program: PathBuf,
    /// Arguments that make `program` run [`serve_worker`] (`["parse-worker"]`).
    pub args: Vec<String>,
    /// Per-file deadline; the worker is killed when it runs past it.
    pub timeout: Duration,
    /// The worker's address-space cap, in bytes.
    pub max_memory: u64,
    pub scope: IsolationScope,
}

impl Isolation {
    /// Isolation through `program args…` with the default deadline, memory cap and scope.
    pub fn new(program: impl Into<PathBuf>, args: &[&str]) -> Self {
        Isolation {
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            timeout: DEFAULT_PARSE_TIMEOUT,
            max_memory: DEFAULT_PARSE_MEMORY,
            scope: IsolationScope::Pdf,
        }
    }

    /// Is `format` parsed out of process?
    pub fn covers(&self, format: Format) -> bool {
        match (self.scope, format) {
            (_, Format::Jsonl) => false,
            (IsolationScope::All, _) => true,
            (IsolationScope::Pdf, f) => f == Format::Pdf,
        }
    }
}

/// The header line the parent sends before the bytes.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    format: Format,
    location: String,
    charset: Option<String>,
    base_url: Option<String>,
    /// Bytes that follow the header.
    len: u64,
    /// The caller's PDF caps: the worker reads under the same caps as the parent would.
    pdf: PdfLimits,
}

/// The worker's one answer line.
#[derive(Debug, Serialize, Deserialize)]
enum Answer {
    Read { meta: DocMeta, text: String },
    Failed { code: String, message: String },
}

/// Most bytes read back from a worker's stdout: the text of a document at the input cap
/// cannot be far larger than the input once compression is undone, and a worker that
/// writes more than this is not answering honestly.
const MAX_ANSWER_BYTES: u64 = 512 * 1024 * 1024;
/// Most bytes of a worker's stderr kept for the failure message.
const MAX_STDERR_BYTES: u64 = 4 * 1024;

/// Parse `bytes` in a worker process. Returns what the in-process reader would, or a
/// `parse_timeout` / `parse_crashed` failure.
pub(crate) fn read_in_worker(
    bytes: &[u8],
    format: Format,
    input: &Input<'_>,
    opts: &ReadOptions,
    iso: &Isolation,
) -> Result<(DocMeta, String), IngestError> {
    let location = input.location;
    let crashed = |detail: String| IngestError::ParseCrashed {
        location: location.to_string(),
        detail,
    };
    let request = Request {
        format,
        location: location.to_string(),
        charset: input.charset.map(str::to_string),
        base_url: input.base_url.map(str::to_string),
        len: bytes.len() as u64,
        pdf: opts.pdf.clone(),
    };
    let header = serde_json::to_string(&request).map_err(|e| crashed(e.to_string()))?;
    let mut command = Command::new(&iso.program);
    limit_child(&mut command, iso);
    let mut child = command
        .args(&iso.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            crashed(format!(
                "could not start the parse worker `{}`: {e}",
                iso.program.display()
            ))
        })?;
    let outcome = exchange(&mut child, &header, bytes, iso.timeout);
    let Exchange {
        status,
        stdout,
        stderr,
    } = outcome.map_err(|e| crashed(e.to_string()))?;
    let Some(status) = status else {
        return Err(IngestError::ParseTimeout {
            location: location.to_string(),
            seconds: iso.timeout.as_secs(),
        });
    };
    read_answer(&stdout, status, &stderr, location)
}

/// What came back from one worker run. `status` is `None` when the worker was killed at
/// the deadline.
struct Exchange {
    status: Option<ExitStatus>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Feed the worker, collect its output, and wait for it at most `timeout`.
fn exchange(
    child: &mut Child,
    header: &str,
    bytes: &[u8],
    timeout: Duration,
) -> std::io::Result<Exchange> {
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    std::thread::scope(|scope| {
        // A worker that dies early closes its stdin: the write then fails, and that is
        // not the error worth reporting (its exit status is).
        scope.spawn(move || {
            if let Some(mut w) = stdin {
                let _ = w
                    .write_all(header.as_bytes())
                    .and_then(|()| w.write_all(b"\n"))
                    .and_then(|()| w.write_all(bytes));
            }
        });
        let out = scope.spawn(move || drain(stdout, MAX_ANSWER_BYTES));
        let err = scope.spawn(move || drain(stderr, MAX_STDERR_BYTES));
        let status = match child.wait_timeout(timeout)? {
            Some(status) => Some(status),
            None => {
                // Past the deadline: kill it, and reap it so no zombie stays behind.
                let _ = child.kill();
                child.wait()?;
                None
            }
        };
        Ok(Exchange {
            status,
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        })
    })
}

/// Read a pipe to its end, keeping at most `cap` bytes (the rest is read and dropped, so
/// the worker never blocks on a full pipe).
fn drain<R: Read>(pipe: Option<R>, cap: u64) -> Vec<u8> {
    let mut kept = Vec::new();
    if let Some(mut pipe) = pipe {
        let _ = pipe.by_ref().take(cap).read_to_end(&mut kept);
        let _ = std::io::copy(&mut pipe, &mut std::io::sink());
    }
    kept
}

/// Turn the worker's output and exit status into the reader's result.
fn read_answer(
    stdout: &[u8],
    status: ExitStatus,
    stderr: &[u8],
    location: &str,
) -> Result<(DocMeta, String), IngestError> {
    let answer = stdout
        .split(|&b| b == b'\n')
        .next()
        .and_then(|line| serde_json::from_slice::<Answer>(line).ok());
    match answer {
        Some(Answer::Read { meta, text }) if status.success() => Ok((meta, text)),
        Some(Answer::Failed { code, message }) if status.success() => Err(IngestError::Relayed {
            location: location.to_string(),
            code: crate::error::known_code(&code),
            message,
        }),
        _ => Err(IngestError::ParseCrashed {
            location: location.to_string(),
            detail: describe_death(status, stderr),
        }),
    }
}

/// "killed by signal 6 (memory allocation of 1073741824 bytes failed)" and the like.
fn describe_death(status: ExitStatus, stderr: &[u8]) -> String {
    // The line that says most: one about memory when there is one, else the last.
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let last_line = lines
        .iter()
        .find(|l| l.contains("memory"))
        .or(lines.last())
        .map(|l| verity_types::terminal_safe(l).into_owned());
    let how = match (status.code(), signal_of(status)) {
        (Some(0), _) => "it exited without a readable answer".to_string(),
        (Some(code), _) => format!("it exited with status {code}"),
        (None, Some(sig)) => format!("it was killed by signal {sig}"),
        (None, None) => "it stopped abnormally".to_string(),
    };
    match last_line {
        Some(line) => format!("{how}: {line}"),
        None => how,
    }
}

#[cfg(unix)]
fn signal_of(status: ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn signal_of(_: ExitStatus) -> Option<i32> {
    None
}

/// Why a parse worker could not serve its request.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("parse worker: could not read its request: {0}")]
    Io(#[from] std::io::Error),
    #[error("parse worker: bad request header: {0}")]
    BadHeader(#[from] serde_json::Error),
    #[error("parse worker: the request announced {expected} bytes but {got} came")]
    ShortInput { expected: u64, got: u64 },
}

/// The worker side: read one request from `input`, cap this process's memory and CPU,
/// parse, and write one answer line to `output`. The `verity parse-worker` subcommand
/// calls this with stdin and stdout.
pub fn serve_worker(mut input: impl BufRead, mut output: impl Write) -> Result<(), WorkerError> {
    let mut header = String::new();
    input.read_line(&mut header)?;
    let request: Request = serde_json::from_str(header.trim_end())?;
    let mut bytes = Vec::new();
    input.take(request.len).read_to_end(&mut bytes)?;
    if bytes.len() as u64 != request.len {
        return Err(WorkerError::ShortInput {
            expected: request.len,
            got: bytes.len() as u64,
        });
    }
    let parsed = {
        let input = Input {
            location: &request.location,
            charset: request.charset.as_deref(),
            base_url: request.base_url.as_deref(),
            fallback_title: None,
            final_url: None,
        };
        let opts = ReadOptions {
            pdf: request.pdf,
            ..ReadOptions::default()
        };
        read_single_here(&bytes, request.format, &input, &opts)
    };
    drop(bytes);
    let answer = match parsed {
        Ok((meta, text)) => Answer::Read { meta, text },
        Err(e) => Answer::Failed {
            code: e.reason_code().to_string(),
            message: e.to_string(),
        },
    };
    serde_json::to_writer(&mut output, &answer)?;
    output.write_all(b"\n")?;
    output.flush()?;
    Ok(())
}

/// Cap the worker's address space and CPU seconds, hard limits too so the parser
/// cannot raise them again, in the child between `fork` and `exec`. A cap above an
/// inherited hard limit is lowered to it; a cap that cannot be set at all fails the
/// spawn, so no worker ever runs without its caps.
#[cfg(unix)]
fn limit_child(command: &mut Command, iso: &Isolation) {
    use rlimit::Resource;
    use std::os::unix::process::CommandExt;
    let memory = iso.max_memory;
    // The kernel's CPU cap is a backstop: the parent's wall-clock deadline comes first.
    let cpu = iso.timeout.as_secs().saturating_add(1);
    let cap = move |r: Resource, v: u64| -> std::io::Result<()> {
        let (_, hard) = rlimit::getrlimit(r)?;
        let v = v.min(hard);
        rlimit::setrlimit(r, v, v)
    };
    // SAFETY: the closure runs in the forked child before `exec`, where only
    // async-signal-safe calls are allowed: it calls `getrlimit` and `setrlimit` (both
    // async-signal-safe system calls) and does not allocate or take locks; an error is
    // returned as an `io::Error` built from `errno`, which does not allocate either.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(move || {
            cap(Resource::AS, memory)?;
            cap(Resource::CPU, cpu)
        });
    }
}

#[cfg(not(unix))]
fn limit_child(_: &mut Command, _: &Isolation) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(request: &Request, bytes: &[u8]) -> Answer {
        let mut input = serde_json::to_vec(request).expect("header");
        input.push(b'\n');
        input.extend_from_slice(bytes);
        let mut out = Vec::new();
        serve_worker(&input[..], &mut out).expect("worker serves");
        serde_json::from_slice(out.split(|&b| b == b'\n').next().expect("a line"))
            .expect("an answer")
    }

    fn request(format: Format, len: usize) -> Request {
        Request {
            format,
            location: "notes/harbour.md".into(),
            charset: None,
            base_url: None,
            len: len as u64,
            pdf: PdfLimits::default(),
        }
    }

    #[test]
    fn the_worker_reads_what_the_reader_reads() {
        let md = b"# Harbour works\n\nThe Port Vellan pier grows by forty metres.\n";
        match serve(&request(Format::Markdown, md.len()), md) {
            Answer::Read { meta, text } => {
                assert_eq!(meta.title.as_deref(), Some("Harbour works"));
                assert!(text.contains("forty metres"), "{text}");
            }
            Answer::Failed { message, .. } => panic!("{message}"),
        }
    }

    #[test]
    fn the_worker_relays_a_reader_failure_with_its_code() {
        let junk = b"%PDF-1.4\nnot really";
        match serve(&request(Format::Pdf, junk.len()), junk) {
            Answer::Failed { code, message } => {
                assert_eq!(code, "corrupt_pdf");
                assert!(message.contains("harbour.md"), "{message}");
            }
            Answer::Read { text, .. } => panic!("read junk as {text:?}"),
        }
    }

    #[test]
    fn a_short_request_is_an_error_not_a_parse() {
        let mut input = serde_json::to_vec(&request(Format::Text, 100)).expect("header");
        input.extend_from_slice(b"\nonly this");
        let e = serve_worker(&input[..], Vec::new()).unwrap_err();
        assert!(
            matches!(
                e,
                WorkerError::ShortInput {
                    expected: 100,
                    got: 9
                }
            ),
            "{e}"
        );
    }

    fn sh(script: &str, timeout: Duration) -> Isolation {
        let mut iso = Isolation::new("sh", &["-c", script]);
        iso.timeout = timeout;
        iso
    }

    fn run(iso: &Isolation) -> IngestError {
        let input = Input {
            location: "scans/report.pdf",
            charset: None,
            base_url: None,
            fallback_title: None,
            final_url: None,
        };
        read_in_worker(
            b"%PDF-1.4\n",
            Format::Pdf,
            &input,
            &ReadOptions::default(),
            iso,
        )
        .unwrap_err()
    }

    #[test]
    fn a_worker_past_its_deadline_is_killed_and_named() {
        // A worker that never answers: it sleeps far past the deadline.
        let e = run(&sh("exec sleep 600", Duration::from_millis(200)));
        assert_eq!(e.reason_code(), "parse_timeout");
        assert!(e.to_string().contains("scans/report.pdf"), "{e}");
        assert!(e.to_string().contains("--parse-timeout-secs"), "{e}");
    }

    #[test]
    fn a_worker_that_dies_is_one_named_failure() {
        let e = run(&sh(
            "echo 'memory allocation of 4294967296 bytes failed' >&2; kill -9 $$",
            DEFAULT_PARSE_TIMEOUT,
        ));
        assert_eq!(e.reason_code(), "parse_crashed");
        let msg = e.to_string();
        assert!(
            msg.contains("signal 9") && msg.contains("memory allocation"),
            "{msg}"
        );
    }

    #[test]
    fn a_worker_that_answers_nonsense_is_a_failure_not_a_document() {
        let e = run(&sh(
            "cat >/dev/null; echo '{\"Read\": 42}'",
            DEFAULT_PARSE_TIMEOUT,
        ));
        assert_eq!(e.reason_code(), "parse_crashed");
        let e = run(&sh("cat >/dev/null; exit 3", DEFAULT_PARSE_TIMEOUT));
        assert!(e.to_string().contains("status 3"), "{e}");
    }

    #[test]
    fn a_missing_worker_program_is_named() {
        let e = run(&Isolation::new("/nonexistent/verity", &["parse-worker"]));
        assert_eq!(e.reason_code(), "parse_crashed");
        assert!(e.to_string().contains("/nonexistent/verity"), "{e}");
    }

    #[test]
    fn scope_never_isolates_jsonl() {
        let mut iso = Isolation::new("verity", &["parse-worker"]);
        assert!(iso.covers(Format::Pdf) && !iso.covers(Format::Html));
        iso.scope = IsolationScope::All;
        assert!(iso.covers(Format::Html) && !iso.covers(Format::Jsonl));
    }
}
