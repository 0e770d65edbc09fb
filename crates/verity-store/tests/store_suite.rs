//! One store test suite, run through the `Store` trait against every backend: SQLite
//! always, PostgreSQL when `VERITY_TEST_PG` names a database (each test in a schema of
//! its own; see `verity_store::testing`). A test is written once, as a function of a
//! [`Backend`], and `suite!` makes one `#[test]` of it per backend.

// Helpers shared by the tests unwrap as the tests do.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use std::collections::HashSet;
use std::time::Duration;
use verity_store::testing::{fresh_pg, TestDb};
use verity_store::{
    JobFile, JobState, NewJob, NewSource, PgStore, QueueDepth, SourceState, SqliteStore, Store,
    StoredCheck, MAX_JOB_ATTEMPTS,
};
use verity_types::{DocMeta, Format, PassageId, PassageSpan, SearchFilters, SourceId, SourceKind};

/// A library that can be opened (and opened again) through the trait.
trait Backend {
    fn open(&self) -> Box<dyn Store>;
}

struct Sqlite(tempfile::TempDir);

impl Backend for Sqlite {
    fn open(&self) -> Box<dyn Store> {
        Box::new(SqliteStore::open(&self.0.path().join("library.sqlite")).unwrap())
    }
}

struct Pg(TestDb);

impl Backend for Pg {
    fn open(&self) -> Box<dyn Store> {
        Box::new(PgStore::open(&self.0.url).unwrap())
    }
}

macro_rules! suite {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $test() {
                super::$test(&super::Sqlite(tempfile::tempdir().unwrap()));
            })*
        }
        mod postgres {
            $(#[test]
            fn $test() {
                if let Some(db) = verity_store::testing::fresh_pg(stringify!($test)) {
                    super::$test(&super::Pg(db));
                }
            })*
        }
    };
}

suite!(
    pending_sources_are_invisible_until_indexed,
    reinserting_is_a_no_op,
    existing_sees_every_state,
    filters_select_by_publisher_kind_and_date,
    removal_is_two_phase_and_frees_duplicates,
    passages_are_sliced_by_character,
    passages_by_id_skip_unknown_and_unindexed,
    many_passages_come_back_in_the_order_asked,
    fingerprints_and_stats_count_indexed_originals,
    sources_list_newest_first_undated_last,
    checks_round_trip_newest_first,
    library_survives_reopen,
    many_threads_share_one_store,
    calls_work_inside_an_async_runtime,
    exported_sources_are_what_was_put,
    jobs_are_claimed_oldest_first_and_once,
    two_claimers_never_get_the_same_job,
    an_expired_lease_is_claimed_again,
    failures_requeue_until_the_attempt_cap,
    only_the_lease_holder_ends_a_job_and_ending_is_idempotent,
    a_cancelled_job_stops_its_worker,
    ping_and_last_change,
    a_job_keeps_its_files_until_dropped,
);

fn new_source(text: &str, publisher: &str, date: &str, kind: SourceKind) -> NewSource {
    NewSource {
        id: SourceId::from_content(text),
        location: format!("{publisher}.txt"),
        format: Format::Text,
        meta: DocMeta {
            title: Some(format!("About {publisher}")),
            publisher: Some(publisher.into()),
            published: NaiveDate::parse_from_str(date, "%Y-%m-%d").ok(),
            kind: Some(kind),
            ..DocMeta::default()
        },
        text: text.into(),
        passages: vec![PassageSpan::whole(text)],
        fingerprint: vec![1, 2, 3],
        duplicate_of: None,
        ingested_at: None,
    }
}

fn put_indexed(s: &dyn Store, items: &[NewSource]) {
    s.put_sources(items).unwrap();
    let ids: Vec<SourceId> = items.iter().map(|i| i.id.clone()).collect();
    s.mark_indexed(&ids).unwrap();
}

fn pid(source: &SourceId, ordinal: u32) -> PassageId {
    PassageId {
        source: source.clone(),
        ordinal,
    }
}

fn pending_sources_are_invisible_until_indexed(b: &dyn Backend) {
    let s = b.open();
    let a = new_source("alpha text", "Ledger", "2024-01-02", SourceKind::News);
    s.put_sources(std::slice::from_ref(&a)).unwrap();
    assert!(s.list_sources().unwrap().is_empty());
    assert!(s.source(&a.id).unwrap().is_none());
    assert!(s.passages(&[pid(&a.id, 0)]).unwrap().is_empty());
    assert_eq!(s.stats().unwrap(), (0, 0, 0));
    assert_eq!(
        s.sources_in_state(SourceState::Pending).unwrap(),
        vec![a.id.clone()]
    );
    // Passages of a pending source can be read: indexes are built from them.
    assert_eq!(s.passages_of(&a.id).unwrap()[0].text, "alpha text");
    s.mark_indexed(std::slice::from_ref(&a.id)).unwrap();
    assert_eq!(s.list_sources().unwrap().len(), 1);
    assert!(s.sources_in_state(SourceState::Pending).unwrap().is_empty());
    assert_eq!(
        s.sources_in_state(SourceState::Indexed).unwrap(),
        vec![a.id.clone()]
    );
    assert_eq!(
        s.passages(&[pid(&a.id, 0)]).unwrap()[0].0.text,
        "alpha text"
    );
}

fn reinserting_is_a_no_op(b: &dyn Backend) {
    let s = b.open();
    let a = new_source("alpha text", "Ledger", "2024-01-02", SourceKind::News);
    put_indexed(s.as_ref(), std::slice::from_ref(&a));
    let mut again = a.clone();
    again.location = "elsewhere.txt".into();
    s.put_sources(std::slice::from_ref(&again)).unwrap();
    assert!(s.sources_in_state(SourceState::Pending).unwrap().is_empty());
    assert_eq!(s.stats().unwrap(), (1, 1, 10));
    assert_eq!(s.source(&a.id).unwrap().unwrap().location, "Ledger.txt");
}

fn existing_sees_every_state(b: &dyn Backend) {
    let s = b.open();
    let a = new_source("one", "A", "2024-01-02", SourceKind::News);
    let c = new_source("two", "B", "2024-01-02", SourceKind::News);
    s.put_sources(std::slice::from_ref(&a)).unwrap();
    put_indexed(s.as_ref(), std::slice::from_ref(&c));
    let unknown = SourceId::from_content("never stored");
    let found = s.existing(&[a.id.clone(), c.id.clone(), unknown]).unwrap();
    assert_eq!(found, HashSet::from([a.id.clone(), c.id.clone()]));
    assert!(s.existing(&[]).unwrap().is_empty());
    // Many ids at once (SQLite asks in chunks).
    let many: Vec<SourceId> = (0..1200)
        .map(|i| SourceId::from_content(&format!("x{i}")))
        .chain([a.id.clone()])
        .collect();
    assert_eq!(s.existing(&many).unwrap(), HashSet::from([a.id.clone()]));
}

fn filters_select_by_publisher_kind_and_date(b: &dyn Backend) {
    let s = b.open();
    let items = [
        new_source("one", "Vellan Ledger", "2024-01-02", SourceKind::News),
        new_source(
            "two",
            "Marrow Audit Office",
            "2024-06-01",
            SourceKind::Audit,
        ),
        new_source("three", "Vellan Ledger", "2025-03-01", SourceKind::News),
    ];
    put_indexed(s.as_ref(), &items);
    assert_eq!(s.filter_sources(&SearchFilters::default()).unwrap(), None);
    let f = SearchFilters {
        publisher: Some("ledger".into()),
        ..Default::default()
    };
    assert_eq!(s.filter_sources(&f).unwrap().unwrap().len(), 2);
    let f = SearchFilters {
        kinds: vec![SourceKind::Audit],
        ..Default::default()
    };
    assert_eq!(
        s.filter_sources(&f).unwrap().unwrap(),
        HashSet::from([items[1].id.clone()])
    );
    let f = SearchFilters {
        formats: vec![Format::Html],
        ..Default::default()
    };
    assert_eq!(s.filter_sources(&f).unwrap().unwrap(), HashSet::new());
    let f = SearchFilters {
        to: NaiveDate::from_ymd_opt(2024, 12, 31),
        from: NaiveDate::from_ymd_opt(2024, 3, 1),
        ..Default::default()
    };
    assert_eq!(
        s.filter_sources(&f).unwrap().unwrap(),
        HashSet::from([items[1].id.clone()])
    );
    // An undated source is out of any date range, unless undated sources are kept.
    let undated = new_source("four", "Vellan Ledger", "", SourceKind::News);
    put_indexed(s.as_ref(), std::slice::from_ref(&undated));
    let mut f = SearchFilters {
        to: NaiveDate::from_ymd_opt(2024, 12, 31),
        ..Default::default()
    };
    assert_eq!(
        s.filter_sources(&f).unwrap().unwrap(),
        HashSet::from([items[0].id.clone(), items[1].id.clone()])
    );
    f.keep_undated = true;
    assert_eq!(
        s.filter_sources(&f).unwrap().unwrap(),
        HashSet::from([items[0].id.clone(), items[1].id.clone(), undated.id.clone()])
    );
    // Filters that leave nothing out select everything: no set to intersect with.
    let f = SearchFilters {
        to: NaiveDate::from_ymd_opt(2030, 1, 1),
        keep_undated: true,
        skip_duplicates: true,
        ..Default::default()
    };
    assert_eq!(s.filter_sources(&f).unwrap(), None);
}

fn removal_is_two_phase_and_frees_duplicates(b: &dyn Backend) {
    let s = b.open();
    let a = new_source("alpha", "Ledger", "2024-01-02", SourceKind::News);
    let mut copy = new_source("alpha copy", "Echo", "2024-01-03", SourceKind::News);
    copy.duplicate_of = Some(a.id.clone());
    put_indexed(s.as_ref(), &[a.clone(), copy.clone()]);
    assert!(s.begin_remove(&a.id).unwrap());
    assert_eq!(s.list_sources().unwrap().len(), 1);
    assert_eq!(
        s.sources_in_state(SourceState::Removing).unwrap(),
        vec![a.id.clone()]
    );
    // The copy now stands on its own.
    assert_eq!(s.source(&copy.id).unwrap().unwrap().duplicate_of, None);
    s.finish_remove(&a.id).unwrap();
    assert!(s.passages_of(&a.id).unwrap().is_empty());
    assert!(s.source_text(&a.id).unwrap().is_none());
    assert!(!s.begin_remove(&a.id).unwrap());
    assert!(s.existing(std::slice::from_ref(&a.id)).unwrap().is_empty());
}

fn passages_are_sliced_by_character(b: &dyn Backend) {
    let s = b.open();
    let text = "Café “Vellan” — naïve ending. Ösel harbour reopened.";
    let mut src = new_source(text, "Ledger", "2024-01-02", SourceKind::News);
    let spans = [(0u64, 4u64), (5, 13), (16, 29), (30, 52)];
    src.passages = spans
        .iter()
        .map(|&(start, end)| PassageSpan {
            start,
            end,
            bytes: (0, 0),
        })
        .collect();
    put_indexed(s.as_ref(), std::slice::from_ref(&src));
    let texts: Vec<String> = s
        .passages_of(&src.id)
        .unwrap()
        .into_iter()
        .map(|p| p.text)
        .collect();
    let want = [
        "Café",
        "“Vellan”",
        "naïve ending.",
        "Ösel harbour reopened.",
    ];
    assert_eq!(texts, want);
    let hits = s.passages(&[pid(&src.id, 3), pid(&src.id, 1)]).unwrap();
    assert_eq!(hits[0].0.text, want[3]);
    assert_eq!((hits[0].0.start, hits[0].0.end), (30, 52));
    assert_eq!(hits[1].0.text, want[1]);
    assert_eq!(hits[1].1.meta.publisher.as_deref(), Some("Ledger"));
    assert_eq!(s.source_text(&src.id).unwrap().as_deref(), Some(text));
    assert_eq!(s.stats().unwrap(), (1, 4, 52));
}

fn passages_by_id_skip_unknown_and_unindexed(b: &dyn Backend) {
    let s = b.open();
    let a = new_source("indexed one", "A", "2024-01-02", SourceKind::News);
    let p = new_source("pending one", "B", "2024-01-02", SourceKind::News);
    put_indexed(s.as_ref(), std::slice::from_ref(&a));
    s.put_sources(std::slice::from_ref(&p)).unwrap();
    let got = s
        .passages(&[
            pid(&a.id, 0),
            pid(&a.id, 7),
            pid(&p.id, 0),
            pid(&SourceId::from_content("nowhere"), 0),
        ])
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.id, pid(&a.id, 0));
    // A span that runs past its text is an error, not a clipped passage.
    let mut bad = new_source("short", "C", "2024-01-02", SourceKind::News);
    bad.passages = vec![PassageSpan {
        start: 2,
        end: 40,
        bytes: (0, 0),
    }];
    put_indexed(s.as_ref(), std::slice::from_ref(&bad));
    assert!(s.passages(&[pid(&bad.id, 0)]).is_err());
    assert!(s.passages_of(&bad.id).is_err());
}

/// A search asks for passages of many sources, interleaved; they come back in that
/// order, each with its own source, however the store batches its reads.
fn many_passages_come_back_in_the_order_asked(b: &dyn Backend) {
    let s = b.open();
    let sources: Vec<NewSource> = (0..12)
        .map(|i| {
            let text = format!("Harbour note {i} of Vellan. Second line {i}. Third {i}.");
            let mut src = new_source(&text, &format!("Pub{i}"), "2024-01-02", SourceKind::News);
            let cuts = [
                0,
                text.find(" Second").unwrap_or(0),
                text.find(" Third").unwrap_or(0),
            ];
            let ends = [cuts[1], cuts[2], text.chars().count()];
            src.passages = cuts
                .iter()
                .zip(ends)
                .map(|(&start, end)| PassageSpan {
                    start: start as u64,
                    end: end as u64,
                    bytes: (0, 0),
                })
                .collect();
            src
        })
        .collect();
    put_indexed(s.as_ref(), &sources);
    let asked: Vec<PassageId> = (0..36u32)
        .rev()
        .map(|k| pid(&sources[(k % 12) as usize].id, k / 12))
        .collect();
    let got = s.passages(&asked).unwrap();
    let ids: Vec<PassageId> = got.iter().map(|(p, _)| p.id.clone()).collect();
    assert_eq!(ids, asked);
    for (p, src) in &got {
        let i = sources.iter().position(|x| x.id == p.id.source).unwrap();
        assert_eq!(src.id, p.id.source);
        assert_eq!(
            src.meta.publisher.as_deref(),
            Some(format!("Pub{i}").as_str())
        );
        assert!(
            p.text.contains(&i.to_string()),
            "{:?} is not from source {i}",
            p.text
        );
    }
}

fn fingerprints_and_stats_count_indexed_originals(b: &dyn Backend) {
    let s = b.open();
    let a = new_source("original", "A", "2024-01-02", SourceKind::News);
    let mut dup = new_source("copy of original", "B", "2024-01-02", SourceKind::News);
    dup.duplicate_of = Some(a.id.clone());
    dup.fingerprint = vec![9];
    let mut blank = new_source("no fingerprint", "C", "2024-01-02", SourceKind::News);
    blank.fingerprint = Vec::new();
    let pending = new_source("pending", "D", "2024-01-02", SourceKind::News);
    put_indexed(s.as_ref(), &[a.clone(), dup, blank.clone()]);
    s.put_sources(std::slice::from_ref(&pending)).unwrap();
    let mut fps = s.fingerprints().unwrap();
    fps.sort();
    let mut want = vec![(a.id.clone(), vec![1, 2, 3]), (blank.id.clone(), vec![])];
    want.sort();
    assert_eq!(fps, want);
    let chars = ["original", "copy of original", "no fingerprint"]
        .iter()
        .map(|t| t.chars().count() as u64)
        .sum();
    assert_eq!(s.stats().unwrap(), (3, 3, chars));
}

fn sources_list_newest_first_undated_last(b: &dyn Backend) {
    let s = b.open();
    let items = [
        new_source("old", "A", "2020-05-01", SourceKind::News),
        new_source("undated", "B", "", SourceKind::News),
        new_source("new", "C", "2025-01-01", SourceKind::Academic),
    ];
    put_indexed(s.as_ref(), &items);
    let list = s.list_sources().unwrap();
    let order: Vec<&str> = list.iter().map(|s| s.location.as_str()).collect();
    assert_eq!(order, ["C.txt", "A.txt", "B.txt"]);
    let c = &list[0];
    assert_eq!(c.meta.kind, Some(SourceKind::Academic));
    assert_eq!(c.meta.published, NaiveDate::from_ymd_opt(2025, 1, 1));
    assert_eq!(c.meta.title.as_deref(), Some("About C"));
    assert_eq!((c.char_len, c.passage_count), (3, 1));
    assert_eq!(c.format, Format::Text);
    assert!(!c.ingested_at.is_empty());
}

fn stored_check(id: &str, created_at: &str) -> StoredCheck {
    StoredCheck {
        id: id.into(),
        created_at: created_at.into(),
        mode: "ask".into(),
        input: "q".into(),
        status: "queued".into(),
        request: "{}".into(),
        brief: None,
        error: None,
    }
}

fn checks_round_trip_newest_first(b: &dyn Backend) {
    let s = b.open();
    for (i, t) in ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"]
        .iter()
        .enumerate()
    {
        s.put_check(&stored_check(&format!("c{i}"), t)).unwrap();
    }
    let list = s.list_checks(0, 10).unwrap();
    assert_eq!(list[0].id, "c1");
    assert_eq!(list[1], stored_check("c0", "2024-01-01T00:00:00Z"));
    // Issue 14 item 7: a huge offset is past the end, not the first page again.
    for offset in [2, 1 << 63, usize::MAX - 1, usize::MAX] {
        assert!(s.list_checks(offset, 10).unwrap().is_empty(), "{offset}");
    }
    assert_eq!(s.list_checks(1, usize::MAX).unwrap().len(), 1);
    assert_eq!(s.list_checks(0, 1).unwrap().len(), 1);
    // An update changes the outcome, never the request.
    let mut c = list[1].clone();
    c.status = "done".into();
    c.brief = Some("{}".into());
    c.input = "changed".into();
    s.put_check(&c).unwrap();
    let got = s.check("c0").unwrap().unwrap();
    assert_eq!(
        (got.status.as_str(), got.brief.as_deref()),
        ("done", Some("{}"))
    );
    assert_eq!(got.input, "q");
    assert!(s.check("nope").unwrap().is_none());
    let mut ids = s.check_ids().unwrap();
    ids.sort_unstable();
    assert_eq!(ids, ["c0", "c1"]);
}

fn library_survives_reopen(b: &dyn Backend) {
    let a = new_source("persisted", "Ledger", "2024-01-02", SourceKind::News);
    {
        let s = b.open();
        put_indexed(s.as_ref(), std::slice::from_ref(&a));
        s.put_check(&stored_check("c", "2024-01-01T00:00:00Z"))
            .unwrap();
    }
    let s = b.open();
    assert_eq!(
        s.source(&a.id).unwrap().unwrap().meta.publisher.as_deref(),
        Some("Ledger")
    );
    assert_eq!(s.source_text(&a.id).unwrap().as_deref(), Some("persisted"));
    assert_eq!(s.list_checks(0, 10).unwrap().len(), 1);
    // Opening again (schema already current) changes nothing.
    drop(b.open());
    assert_eq!(s.stats().unwrap(), (1, 1, 9));
}

fn many_threads_share_one_store(b: &dyn Backend) {
    let s = b.open();
    let store: &dyn Store = s.as_ref();
    std::thread::scope(|scope| {
        for t in 0..8 {
            scope.spawn(move || {
                for i in 0..10 {
                    let src =
                        new_source(&format!("t{t} n{i}"), "P", "2024-01-01", SourceKind::News);
                    put_indexed(store, std::slice::from_ref(&src));
                    assert_eq!(store.passages(&[pid(&src.id, 0)]).unwrap().len(), 1);
                    store.stats().unwrap();
                }
            });
        }
    });
    assert_eq!(store.stats().unwrap().0, 80);
}

/// The server opens the library and calls the store inside tokio; no backend may panic
/// there (the `postgres` client would, if it blocked on the caller's thread).
fn calls_work_inside_an_async_runtime(b: &dyn Backend) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (stats, n) = rt.block_on(async {
        let s = b.open();
        let a = new_source("async", "A", "2024-01-02", SourceKind::News);
        put_indexed(s.as_ref(), std::slice::from_ref(&a));
        let stats = s.stats().unwrap();
        let n = s.list_sources().unwrap().len();
        drop(s);
        (stats, n)
    });
    assert_eq!((stats, n), ((1, 1, 5), 1));
}

/// `fresh_pg` is what skips or fails the PostgreSQL half; make sure a configured
/// database really is used (the suite above would pass vacuously otherwise).
#[test]
fn postgres_is_used_when_configured() {
    let Some(db) = fresh_pg("postgres_is_used_when_configured") else {
        return;
    };
    let s = PgStore::open(&db.url).unwrap();
    let a = new_source("in postgres", "A", "2024-01-02", SourceKind::News);
    put_indexed(&s, std::slice::from_ref(&a));
    let mut c = ::postgres::Client::connect(&db.url, ::postgres::NoTls).unwrap();
    let n: i64 = c
        .query_one("SELECT count(*) FROM sources", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

/// `export_source` gives back what `put_sources` took (byte offsets recomputed), with
/// the ingest time, which `put_sources` keeps when given: copying a library loses nothing.
fn exported_sources_are_what_was_put(b: &dyn Backend) {
    let s = b.open();
    let text = "Ösel harbour reopened. The ferry runs again.";
    let mut a = new_source(text, "Ledger", "2024-01-02", SourceKind::News);
    a.passages = vec![
        PassageSpan {
            start: 0,
            end: 22,
            bytes: (0, 23),
        },
        PassageSpan {
            start: 23,
            end: 44,
            bytes: (24, 45),
        },
    ];
    a.meta.author = Some("R. Imber".into());
    a.meta.url = Some("https://ledger.example/osel".into());
    a.meta.attribution = Some("Staff".into());
    let mut dup = new_source("copy", "Echo", "", SourceKind::Other);
    dup.duplicate_of = Some(a.id.clone());
    dup.ingested_at = Some("2020-02-02T02:02:02Z".into());
    s.put_sources(&[a.clone(), dup.clone()]).unwrap();
    let mut got = s.export_source(&a.id).unwrap().unwrap();
    assert!(got.ingested_at.take().is_some());
    assert_eq!(format!("{got:?}"), format!("{a:?}"));
    let got = s.export_source(&dup.id).unwrap().unwrap();
    assert_eq!(format!("{got:?}"), format!("{dup:?}"));
    assert!(s
        .export_source(&SourceId::from_content("nowhere"))
        .unwrap()
        .is_none());
    s.mark_indexed(std::slice::from_ref(&dup.id)).unwrap();
    assert_eq!(
        s.source(&dup.id).unwrap().unwrap().ingested_at,
        "2020-02-02T02:02:02Z"
    );
}

fn new_job(id: &str) -> NewJob {
    NewJob {
        id: id.into(),
        kind: "check".into(),
        payload: format!("{{\"n\":\"{id}\"}}"),
        files: Vec::new(),
    }
}

fn a_job_keeps_its_files_until_dropped(b: &dyn Backend) {
    let s = b.open();
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let mut job = new_job("up1");
    job.files = vec![
        JobFile {
            name: "b.jsonl".into(),
            data: bytes.clone(),
        },
        JobFile {
            name: "a.md".into(),
            data: b"# Marrow\n".to_vec(),
        },
    ];
    s.enqueue_job(&job).unwrap();
    // Queuing the same id again adds no files.
    s.enqueue_job(&job).unwrap();
    let files = s.job_files("up1").unwrap();
    assert_eq!(files, job.files, "every byte, in the order given");
    assert!(s.job_files("none").unwrap().is_empty());
    s.drop_job_files("up1").unwrap();
    assert!(s.job_files("up1").unwrap().is_empty());
    s.drop_job_files("up1").unwrap();
}

const LONG: Duration = Duration::from_secs(60);

fn jobs_are_claimed_oldest_first_and_once(b: &dyn Backend) {
    let s = b.open();
    assert_eq!(s.claim_job("w1", LONG).unwrap(), None, "nothing queued");
    for id in ["j1", "j2"] {
        assert_eq!(s.enqueue_job(&new_job(id)).unwrap(), id);
        std::thread::sleep(Duration::from_millis(3));
    }
    // Queuing the same id again is a no-op.
    s.enqueue_job(&new_job("j1")).unwrap();
    assert_eq!(
        s.queue_depth().unwrap(),
        QueueDepth {
            queued: 2,
            running: 0
        }
    );
    let first = s.claim_job("w1", LONG).unwrap().unwrap();
    assert_eq!((first.id.as_str(), first.state), ("j1", JobState::Running));
    assert_eq!((first.attempts, first.worker.as_deref()), (1, Some("w1")));
    assert_eq!(first.payload, r#"{"n":"j1"}"#);
    assert!(first.lease_until.unwrap() > first.created_at);
    let second = s.claim_job("w2", LONG).unwrap().unwrap();
    assert_eq!(second.id, "j2");
    assert_eq!(s.claim_job("w3", LONG).unwrap(), None, "both are leased");
    assert_eq!(
        s.queue_depth().unwrap(),
        QueueDepth {
            queued: 0,
            running: 2
        }
    );
    assert!(s.finish_job("j1", "w1", r#"{"ok":true}"#).unwrap());
    let done = s.job("j1").unwrap().unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!(done.result.as_deref(), Some(r#"{"ok":true}"#));
    assert!(done.finished_at.is_some());
    assert_eq!(s.job("nope").unwrap(), None);
}

fn two_claimers_never_get_the_same_job(b: &dyn Backend) {
    const JOBS: usize = 40;
    let s = b.open();
    for i in 0..JOBS {
        s.enqueue_job(&new_job(&format!("j{i:03}"))).unwrap();
    }
    // Two stores, as two nodes would have; each claims from two threads.
    let stores = [b.open(), b.open()];
    let claimed: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let store = &stores[t % 2];
                scope.spawn(move || {
                    let worker = format!("w{t}");
                    let mut got = Vec::new();
                    while let Some(job) = store.claim_job(&worker, LONG).unwrap() {
                        assert!(store.finish_job(&job.id, &worker, "{}").unwrap());
                        got.push(job.id);
                    }
                    got
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all: Vec<&String> = claimed.iter().flatten().collect();
    assert_eq!(all.len(), JOBS, "every job claimed: {claimed:?}");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), JOBS, "no job claimed twice: {claimed:?}");
    assert_eq!(s.queue_depth().unwrap(), QueueDepth::default());
}

fn an_expired_lease_is_claimed_again(b: &dyn Backend) {
    let s = b.open();
    s.enqueue_job(&new_job("j1")).unwrap();
    let short = Duration::from_millis(40);
    let lost = s.claim_job("dead", short).unwrap().unwrap();
    assert_eq!(lost.attempts, 1);
    // A heartbeat keeps it; while the lease holds, nobody else gets it.
    assert!(s
        .heartbeat_job("j1", "dead", short, Some(r#"{"stage":"judge"}"#))
        .unwrap());
    assert_eq!(s.claim_job("alive", LONG).unwrap(), None);
    std::thread::sleep(Duration::from_millis(120));
    let again = s.claim_job("alive", LONG).unwrap().unwrap();
    assert_eq!((again.id.as_str(), again.attempts), ("j1", 2));
    assert_eq!(again.worker.as_deref(), Some("alive"));
    assert_eq!(again.progress.as_deref(), Some(r#"{"stage":"judge"}"#));
    // The first worker lost it: its heartbeat and its answer are refused.
    assert!(!s.heartbeat_job("j1", "dead", LONG, None).unwrap());
    assert!(!s.finish_job("j1", "dead", "{}").unwrap());
    assert_eq!(s.fail_job("j1", "dead", "late").unwrap(), None);
    assert!(s.finish_job("j1", "alive", "{}").unwrap());
    assert_eq!(s.job("j1").unwrap().unwrap().attempts, 2);
}

fn failures_requeue_until_the_attempt_cap(b: &dyn Backend) {
    let s = b.open();
    s.enqueue_job(&new_job("j1")).unwrap();
    for attempt in 1..=MAX_JOB_ATTEMPTS {
        let job = s.claim_job("w", LONG).unwrap().unwrap();
        assert_eq!(job.attempts, attempt);
        let want = if attempt < MAX_JOB_ATTEMPTS {
            JobState::Queued
        } else {
            JobState::Failed
        };
        assert_eq!(s.fail_job("j1", "w", "boom").unwrap(), Some(want));
    }
    assert_eq!(s.claim_job("w", LONG).unwrap(), None, "failed for good");
    let job = s.job("j1").unwrap().unwrap();
    assert_eq!(
        (job.state, job.error.as_deref()),
        (JobState::Failed, Some("boom"))
    );
    // A job whose worker keeps dying is failed too, at its last expired lease.
    s.enqueue_job(&new_job("j2")).unwrap();
    for _ in 0..MAX_JOB_ATTEMPTS {
        assert!(s
            .claim_job("dies", Duration::from_millis(1))
            .unwrap()
            .is_some());
        std::thread::sleep(Duration::from_millis(15));
    }
    assert_eq!(s.claim_job("w", LONG).unwrap(), None);
    let j2 = s.job("j2").unwrap().unwrap();
    assert_eq!(
        (j2.state, j2.attempts),
        (JobState::Failed, MAX_JOB_ATTEMPTS)
    );
    assert!(j2.error.unwrap().contains("gave up"));
}

fn only_the_lease_holder_ends_a_job_and_ending_is_idempotent(b: &dyn Backend) {
    let s = b.open();
    s.enqueue_job(&new_job("j1")).unwrap();
    s.claim_job("w1", LONG).unwrap().unwrap();
    assert!(!s.finish_job("j1", "w2", "{}").unwrap());
    assert_eq!(s.fail_job("j1", "w2", "no").unwrap(), None);
    assert!(s.finish_job("j1", "w1", r#"{"n":1}"#).unwrap());
    // Again: still done, the first result kept.
    assert!(s.finish_job("j1", "w1", r#"{"n":2}"#).unwrap());
    assert_eq!(
        s.job("j1").unwrap().unwrap().result.as_deref(),
        Some(r#"{"n":1}"#)
    );
    assert_eq!(
        s.fail_job("j1", "w1", "late").unwrap(),
        None,
        "done stays done"
    );
    // A failure said twice counts once.
    s.enqueue_job(&new_job("j2")).unwrap();
    s.claim_job("w1", LONG).unwrap().unwrap();
    assert_eq!(s.fail_job("j2", "w1", "x").unwrap(), Some(JobState::Queued));
    assert_eq!(s.fail_job("j2", "w1", "x").unwrap(), Some(JobState::Queued));
    assert_eq!(s.claim_job("w1", LONG).unwrap().unwrap().attempts, 2);
}

fn a_cancelled_job_stops_its_worker(b: &dyn Backend) {
    let s = b.open();
    s.enqueue_job(&new_job("j1")).unwrap();
    s.enqueue_job(&new_job("j2")).unwrap();
    assert_eq!(
        s.cancel_job("j2", "not needed").unwrap(),
        Some(JobState::Cancelled)
    );
    let job = s.claim_job("w", LONG).unwrap().unwrap();
    assert_eq!(job.id, "j1", "a cancelled job is never claimed");
    assert_eq!(
        s.cancel_job("j1", "stop").unwrap(),
        Some(JobState::Cancelled)
    );
    assert_eq!(
        s.cancel_job("j1", "stop").unwrap(),
        Some(JobState::Cancelled)
    );
    assert!(!s.heartbeat_job("j1", "w", LONG, None).unwrap());
    assert!(!s.finish_job("j1", "w", "{}").unwrap());
    assert_eq!(s.job("j1").unwrap().unwrap().error.as_deref(), Some("stop"));
    assert_eq!(s.claim_job("w", LONG).unwrap(), None);
    assert_eq!(s.cancel_job("nope", "x").unwrap(), None);
}

fn ping_and_last_change(b: &dyn Backend) {
    let s = b.open();
    s.ping().unwrap();
    let before = s.last_change().unwrap();
    let a = new_source("alpha text", "Ledger", "2024-01-02", SourceKind::News);
    put_indexed(s.as_ref(), std::slice::from_ref(&a));
    let after = s.last_change().unwrap();
    // SQLite keeps no change log; PostgreSQL's grows with each source indexed.
    let logged = !s.changes_since(0, 10).unwrap().is_empty();
    assert_eq!(after - before, i64::from(logged));
    if logged {
        assert_eq!(s.changes_since(0, 10).unwrap().last().unwrap().seq, after);
    }
}
