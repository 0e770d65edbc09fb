//! Ingests as jobs of the store's queue, so that an upload or a URL submitted to any
//! node sharing a PostgreSQL store is ingested by whichever worker claims it.
//!
//! [`Library::enqueue_ingest`] queues one job with the uploaded files' bytes in the
//! store's `job_files` table (written in the same transaction as the job, so a worker
//! never sees a job without its files). A worker writes the files into
//! `DATA/jobs/JOB/` (where each source's location then points), splits a JSONL file into
//! parts of [`JOB_BATCH_DOCS`] lines, and ingests them part by part, reporting documents
//! done of the total with its heartbeats and stopping between parts once the job is
//! cancelled or taken over.
//!
//! A re-run is idempotent: sources are keyed by content hash, so whatever an earlier
//! attempt stored is `unchanged` the second time. An attempt that died between storing
//! a batch (`pending`) and marking it `indexed` left sources that no ingest would touch
//! again; a re-claimed job first finishes them ([`Library::recover`]), as opening the
//! library does.

use serde::{Deserialize, Serialize};
use std::path::Path;
use verity_store::{Job, JobFile, JobState, NewJob};
use verity_types::{NoProgress, Progress};

use crate::checks::CheckId;
use crate::queue::{JobOutcome, JobStatus, Tracker, WorkerOptions, CANCELLED};
use crate::{EngineError, IngestOptions, IngestReport, Library, Result};

/// The kind of a job that ingests files and URLs.
pub const INGEST_JOB: &str = "ingest";
/// JSONL lines (documents) per part of a queued JSONL file, and files per part: the
/// unit of progress, of cancellation and of what a re-claimed job finds already stored.
pub const JOB_BATCH_DOCS: usize = 500;
/// The folder of the data directory that holds each ingest job's files.
const JOBS_DIR: &str = "jobs";

/// What to ingest, as queued. The files' bytes travel beside it (`job_files`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IngestSpec {
    /// http(s) URLs to fetch.
    pub urls: Vec<String>,
    /// Attribution line stored with every source.
    pub attribution: Option<String>,
    /// Allow URLs that resolve to private or loopback addresses.
    pub allow_private: bool,
    /// Largest file or fetched body accepted, in bytes.
    pub max_bytes: u64,
}

/// A queued ingest as `GET /api/sources/jobs/{id}` answers it.
#[derive(Debug, Clone, Serialize)]
pub struct IngestJobStatus {
    pub id: String,
    pub job: JobStatus,
    /// The report, once done.
    pub report: Option<IngestReport>,
}

impl IngestJobStatus {
    /// Done, failed for good, or cancelled.
    pub fn is_final(&self) -> bool {
        JobState::parse(&self.job.state).is_some_and(JobState::is_final)
    }
}

/// One part of a job: the inputs ingested together, and how many documents they hold.
struct Part {
    inputs: Vec<String>,
    docs: u64,
}

impl Library {
    /// Queue an ingest of `files` (with their bytes) and `spec.urls`, unless
    /// `max_queued` jobs already wait ([`EngineError::QueueFull`]). A file over
    /// `spec.max_bytes` is refused before anything is queued. Returns the job's id.
    pub fn enqueue_ingest(
        &self,
        spec: IngestSpec,
        files: Vec<JobFile>,
        max_queued: usize,
    ) -> Result<String> {
        if spec.urls.is_empty() && files.is_empty() {
            return Err(EngineError::NothingToIngest);
        }
        if let Some(f) = files.iter().find(|f| f.data.len() as u64 > spec.max_bytes) {
            return Err(EngineError::FileTooLarge {
                name: f.name.clone(),
                bytes: f.data.len() as u64,
                max: spec.max_bytes,
            });
        }
        self.has_room(max_queued)?;
        let payload = serde_json::to_string(&spec).map_err(|source| EngineError::Serialize {
            what: "ingest job",
            source,
        })?;
        let id = format!("ingest-{}", CheckId::generate());
        self.store.enqueue_job(&NewJob {
            id: id.clone(),
            kind: INGEST_JOB.into(),
            payload,
            files,
        })?;
        Ok(id)
    }

    /// `verity ingest --queue`: queue files, folders (every file that `verity ingest`
    /// would read in them) and URLs as one ingest job of a shared store, the files'
    /// bytes with it. A file over `spec.max_bytes` is refused before anything is read
    /// or queued.
    pub fn enqueue_ingest_inputs(
        &self,
        inputs: &[String],
        mut spec: IngestSpec,
        max_queued: usize,
    ) -> Result<String> {
        if !self.shared {
            return Err(EngineError::NoSharedQueue);
        }
        let mut files = Vec::new();
        for raw in inputs {
            if crate::ingest::is_url_input(raw) {
                spec.urls.push(raw.trim().to_string());
                continue;
            }
            for path in verity_ingest::walk(Path::new(raw))?.files {
                files.push(read_input(&path, spec.max_bytes)?);
            }
        }
        self.enqueue_ingest(spec, files, max_queued)
    }

    /// A queued ingest's job and, once done, its report.
    pub fn ingest_job(&self, id: &str) -> Result<IngestJobStatus> {
        let job = self
            .store
            .job(id)?
            .filter(|j| j.kind == INGEST_JOB)
            .ok_or_else(|| EngineError::UnknownJob(id.to_string()))?;
        let report = match &job.result {
            Some(r) => Some(serde_json::from_str(r).map_err(|e| EngineError::BadRecord {
                what: "ingest report",
                id: id.to_string(),
                detail: e.to_string(),
            })?),
            None => None,
        };
        Ok(IngestJobStatus {
            id: job.id.clone(),
            job: JobStatus::from(job),
            report,
        })
    }

    /// Cancel a queued or running ingest: a queued one never runs, a running one stops
    /// after the part it is ingesting (what was stored stays). A finished one is left
    /// as it is.
    pub fn cancel_ingest(&self, id: &str) -> Result<IngestJobStatus> {
        self.ingest_job(id)?;
        if self.store.cancel_job(id, CANCELLED)? == Some(JobState::Cancelled) {
            self.store.drop_job_files(id)?;
        }
        self.ingest_job(id)
    }

    /// Run a claimed ingest job to its end (see the module docs).
    pub(crate) fn run_ingest_job(
        &self,
        job: &Job,
        spec: &IngestSpec,
        opts: &WorkerOptions,
    ) -> Result<JobOutcome> {
        if job.attempts > 1 {
            // An earlier attempt may have died with sources stored but not indexed.
            self.recover()?;
        }
        let dir = self.dir.join(JOBS_DIR).join(&job.id);
        let parts = write_parts(&dir, &self.store.job_files(&job.id)?, &spec.urls)?;
        let tracker = Tracker::default();
        tracker.stage("documents", Some(parts.iter().map(|p| p.docs).sum()));
        let ingest = IngestOptions {
            allow_private: spec.allow_private,
            max_bytes: spec.max_bytes,
            max_bytes_setting: "the server's upload limit (`max_upload_bytes`)",
            attribution: spec.attribution.clone(),
            isolation: opts.isolation.clone(),
            ..IngestOptions::default()
        };
        let (result, held) = self.with_heartbeat(job, opts, &tracker, || {
            self.ingest_parts(job, &parts, &ingest, opts, &tracker)
        });
        let outcome = self.end_ingest_job(job, result, held, &tracker, opts)?;
        if !matches!(outcome, JobOutcome::Done) || added(&self.store.job(&job.id)?) == 0 {
            // Sources point into the folder; without any, it is not needed.
            let _ = std::fs::remove_dir_all(&dir);
        }
        if matches!(
            outcome,
            JobOutcome::Done | JobOutcome::Failed(_) | JobOutcome::Cancelled
        ) {
            self.store.drop_job_files(&job.id)?;
        }
        Ok(outcome)
    }

    /// Ingest the parts in order, stopping early (with what was done) once the job is
    /// no longer this worker's.
    fn ingest_parts(
        &self,
        job: &Job,
        parts: &[Part],
        ingest: &IngestOptions,
        opts: &WorkerOptions,
        tracker: &Tracker,
    ) -> Result<IngestReport> {
        let mut report = IngestReport::default();
        let started = std::time::Instant::now();
        for part in parts {
            std::thread::sleep(opts.hold);
            let ours = self.store.heartbeat_job(
                &job.id,
                &opts.worker,
                opts.lease,
                tracker.json().as_deref(),
            )?;
            if !ours {
                break;
            }
            report.absorb(self.ingest(&part.inputs, ingest, &NoProgress)?);
            tracker.advance(part.docs);
        }
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// Store the result or the failure, if the job is still this worker's.
    fn end_ingest_job(
        &self,
        job: &Job,
        result: Result<IngestReport>,
        held: bool,
        tracker: &Tracker,
        opts: &WorkerOptions,
    ) -> Result<JobOutcome> {
        if !self.still_ours(job, held, tracker, opts)? {
            return self.lost_or_cancelled(&job.id);
        }
        let error = match result {
            Ok(report) => {
                let json =
                    serde_json::to_string(&report).map_err(|source| EngineError::Serialize {
                        what: "ingest report",
                        source,
                    })?;
                if self.store.finish_job(&job.id, &opts.worker, &json)? {
                    return Ok(JobOutcome::Done);
                }
                return self.lost_or_cancelled(&job.id);
            }
            Err(e) => e.to_string(),
        };
        match self.store.fail_job(&job.id, &opts.worker, &error)? {
            Some(JobState::Failed) => Ok(JobOutcome::Failed(error)),
            Some(_) => Ok(JobOutcome::Retrying(error)),
            None => self.lost_or_cancelled(&job.id),
        }
    }
}

/// One local file as a job file; over `max_bytes` is an error (checked before reading).
fn read_input(path: &Path, max_bytes: u64) -> Result<JobFile> {
    let name = path
        .file_name()
        .map_or_else(|| "upload".into(), |n| n.to_string_lossy().into_owned());
    let unreadable = |e: std::io::Error| verity_ingest::IngestError::Unreadable {
        location: path.display().to_string(),
        detail: e.to_string(),
    };
    let bytes = std::fs::metadata(path).map_err(unreadable)?.len();
    if bytes > max_bytes {
        return Err(EngineError::FileTooLarge {
            name: path.display().to_string(),
            bytes,
            max: max_bytes,
        });
    }
    let data = std::fs::read(path).map_err(unreadable)?;
    Ok(JobFile { name, data })
}

/// Sources a finished job added (0 without a readable report).
fn added(job: &Option<Job>) -> u64 {
    job.as_ref()
        .and_then(|j| j.result.as_deref())
        .and_then(|r| serde_json::from_str::<IngestReport>(r).ok())
        .map_or(0, |r| r.added)
}

/// Write a job's files into `dir` (emptied first: an earlier attempt may have left
/// some), JSONL files split into parts of [`JOB_BATCH_DOCS`] lines, and group them
/// with the URLs into parts.
fn write_parts(dir: &Path, files: &[JobFile], urls: &[String]) -> Result<Vec<Part>> {
    let io = |source| EngineError::DataDir {
        path: dir.display().to_string(),
        source,
    };
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io)?;
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut parts = Vec::new();
    let mut loose: Vec<String> = Vec::new();
    for (n, f) in files.iter().enumerate() {
        let name = format!("{n:04}-{}", safe_name(&f.name));
        if name.to_ascii_lowercase().ends_with(".jsonl") {
            parts.extend(split_jsonl(dir, &name, &f.data).map_err(io)?);
            continue;
        }
        let path = dir.join(&name);
        std::fs::write(&path, &f.data).map_err(io)?;
        loose.push(path.display().to_string());
    }
    loose.extend(urls.iter().cloned());
    parts.extend(loose.chunks(JOB_BATCH_DOCS).map(|c| Part {
        inputs: c.to_vec(),
        docs: c.len() as u64,
    }));
    Ok(parts)
}

/// A JSONL file as parts of at most [`JOB_BATCH_DOCS`] non-blank lines, each written as
/// a file of its own.
fn split_jsonl(dir: &Path, name: &str, data: &[u8]) -> std::io::Result<Vec<Part>> {
    let stem = name.trim_end_matches(|c| c != '.').trim_end_matches('.');
    let lines: Vec<&[u8]> = data
        .split(|b| *b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .collect();
    let mut parts = Vec::new();
    for (k, chunk) in lines.chunks(JOB_BATCH_DOCS).enumerate() {
        let path = dir.join(format!("{stem}.part{k:04}.jsonl"));
        std::fs::write(&path, chunk.join(&b'\n'))?;
        parts.push(Part {
            inputs: vec![path.display().to_string()],
            docs: chunk.len() as u64,
        });
    }
    Ok(parts)
}

/// The last component of an uploaded name, without anything a path could use.
fn safe_name(raw: &str) -> String {
    let base = Path::new(raw)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_control() || c == '/' || c == '\\' {
                '_'
            } else {
                c
            }
        })
        .collect();
    if clean.trim_matches('.').is_empty() {
        "upload".into()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_files_are_split_into_parts_and_names_made_safe() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl: String = (0..1203)
            .map(|i| format!("{{\"text\": \"Doc {i} of Marrow.\"}}\n\n"))
            .collect();
        let files = vec![
            JobFile {
                name: "../../etc/feed.jsonl".into(),
                data: jsonl.into_bytes(),
            },
            JobFile {
                name: "notes.md".into(),
                data: b"# Marrow".to_vec(),
            },
        ];
        let parts = write_parts(dir.path(), &files, &["https://example.org/a".into()]).unwrap();
        let docs: Vec<u64> = parts.iter().map(|p| p.docs).collect();
        assert_eq!(
            docs,
            vec![500, 500, 203, 2],
            "three JSONL parts, then the rest"
        );
        assert!(parts[0].inputs[0].ends_with("0000-feed.part0000.jsonl"));
        assert!(parts[3].inputs[0].starts_with(&dir.path().display().to_string()));
        assert_eq!(parts[3].inputs[1], "https://example.org/a");
        assert_eq!(safe_name(".."), "upload");
        assert_eq!(safe_name("a\nb.txt"), "a_b.txt");
    }
}
