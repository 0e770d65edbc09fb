//! Writers do not wait on each other's parsing: an ingest holds the library's write
//! lock only while it stores and commits, never while it reads its inputs.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
use verity_engine::{IngestOptions, Library, LibraryOptions, ModelsMode};
use verity_types::{NoProgress, Progress};

/// A progress sink that stops the ingest at the start of its reading stage until the
/// test lets it go: the ingest is then "parsing" for as long as the test likes.
struct HeldAtReading {
    reached: mpsc::SyncSender<()>,
    release: std::sync::Mutex<mpsc::Receiver<()>>,
}

impl Progress for HeldAtReading {
    fn stage(&self, name: &str, _: Option<u64>) {
        if name == "reading" {
            let _ = self.reached.send(());
            let release = self.release.lock().unwrap_or_else(|e| e.into_inner());
            let _ = release.recv();
        }
    }
    fn advance(&self, _: u64) {}
    fn message(&self, _: &str) {}
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path.display().to_string()
}

#[test]
fn a_second_ingest_and_a_removal_finish_while_another_ingest_is_reading() {
    let data = tempfile::tempdir().expect("tempdir");
    let files = tempfile::tempdir().expect("tempdir");
    let mut opts = LibraryOptions::new(data.path());
    opts.models = ModelsMode::Off;
    let lib = Arc::new(Library::open(opts).expect("open library"));
    let slow = write(
        files.path(),
        "ferry.md",
        "# Ferry pier\n\nThe harbour board of Port Vellan voted to extend the ferry pier by forty metres.\n",
    );
    let quick = write(
        files.path(),
        "library.md",
        "# Sunday hours\n\nMarrow County's library will open on Sundays from June, the librarian said.\n",
    );
    let gone = write(
        files.path(),
        "roof.md",
        "# Roof repairs\n\nKellbridge's school board closed the east wing until the roof is repaired.\n",
    );
    let first = lib
        .ingest(&[gone], &IngestOptions::default(), &NoProgress)
        .expect("first ingest");
    assert_eq!(first.added, 1);
    let to_remove = lib.sources().expect("sources")[0].id.clone();

    let (reached_tx, reached) = mpsc::sync_channel(1);
    let (release, release_rx) = mpsc::channel();
    let held = HeldAtReading {
        reached: reached_tx,
        release: std::sync::Mutex::new(release_rx),
    };
    let slow_lib = Arc::clone(&lib);
    let slow_run = std::thread::spawn(move || {
        slow_lib
            .ingest(&[slow], &IngestOptions::default(), &held)
            .map(|r| r.added)
    });
    reached
        .recv_timeout(Duration::from_secs(120))
        .expect("the slow ingest reaches its reading stage");

    // While the slow ingest is still reading, another ingest and a removal go through.
    let (done_tx, done) = mpsc::channel();
    let other_lib = Arc::clone(&lib);
    std::thread::spawn(move || {
        let added = other_lib
            .ingest(&[quick], &IngestOptions::default(), &NoProgress)
            .map(|r| r.added);
        let removed = other_lib.remove(&to_remove).map(|s| s.id);
        let _ = done_tx.send((added, removed));
    });
    let outcome = done.recv_timeout(Duration::from_secs(120));
    // Let the slow ingest go whatever happened, so a failure does not hang the test.
    let _ = release.send(());
    let (added, removed) =
        outcome.expect("writers were blocked by an ingest that was only reading");
    assert_eq!(added.expect("second ingest"), 1);
    assert!(removed.is_ok(), "{removed:?}");
    let slow_added = slow_run
        .join()
        .expect("slow ingest thread")
        .expect("slow ingest");
    assert_eq!(slow_added, 1);
    let titles: Vec<String> = lib
        .sources()
        .expect("sources")
        .into_iter()
        .filter_map(|s| s.meta.title)
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles.iter().any(|t| t == "Ferry pier"), "{titles:?}");
    assert!(titles.iter().any(|t| t == "Sunday hours"), "{titles:?}");
}

#[test]
fn files_not_read_by_the_deadline_are_named_and_nothing_half_read_is_stored() {
    let data = tempfile::tempdir().expect("tempdir");
    let files = tempfile::tempdir().expect("tempdir");
    let mut opts = LibraryOptions::new(data.path());
    opts.models = ModelsMode::Off;
    let lib = Library::open(opts).expect("open library");
    let inputs: Vec<String> = (0..3)
        .map(|i| {
            write(
                files.path(),
                &format!("pier-{i}.md"),
                &format!("# Pier {i}\n\nThe Port Vellan pier grows by {i}0 metres.\n"),
            )
        })
        .collect();
    // A deadline already passed: nothing is read, and every input says why.
    let late = IngestOptions {
        deadline: Some(Duration::ZERO),
        ..IngestOptions::default()
    };
    let r = lib.ingest(&inputs, &late, &NoProgress).expect("ingest");
    assert_eq!(r.added, 0);
    assert_eq!(r.failed.len(), 3, "{:?}", r.failed);
    assert!(
        r.failed.iter().all(|f| f.reason == "deadline"),
        "{:?}",
        r.failed
    );
    assert!(lib.sources().expect("sources").is_empty());
    // The library is unharmed: the same files go in once there is time.
    let r = lib
        .ingest(&inputs, &IngestOptions::default(), &NoProgress)
        .expect("ingest");
    assert_eq!(r.added, 3);
}
