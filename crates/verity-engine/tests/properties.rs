//! Properties of a library over random small corpora (issue 14): each case writes a
//! handful of Markdown files with front matter (invented towns and agencies, random
//! kinds and dates), opens a fresh library without models, ingests them and checks
//! * ingest is idempotent: the same files again add nothing, all unchanged, and the
//!   source list is the same;
//! * a document round-trips through the store: the stored text is what the reader
//!   produced, and every passage's span slices the stored text to the passage text;
//! * a filtered search (kinds, date range, undated in or out) never returns a hit from
//!   a source outside the filter, and finds every source in it that holds the query word.
//!
//! Deterministic: a fixed seed and 12 cases; `PROPTEST_CASES` raises the count.

#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use std::collections::{BTreeMap, BTreeSet};
use verity_engine::{IngestOptions, Library, LibraryOptions, ModelsMode};
use verity_ingest::{read_file, ReadOptions};
use verity_types::{char_slice, NoProgress, SearchFilters, SearchRequest, SourceKind};

const TOWNS: &[&str] = &[
    "Port Vellan",
    "Kellbridge",
    "Marrow County",
    "Ostrey",
    "Fennick Vale",
    "Harlow Reach",
];
const AGENCIES: &[&str] = &[
    "Vellan Harbour Board",
    "Kellbridge Borough Council",
    "Marrow County Audit Office",
    "Ostrey Water Trust",
    "Fennick Rail Authority",
];
const SUBJECTS: &[&str] = &[
    "weir",
    "ferry",
    "footbridge",
    "library",
    "tramline",
    "reservoir",
    "lighthouse",
    "granary",
];
const VERBS: &[&str] = &[
    "approved",
    "delayed",
    "audited",
    "closed",
    "reopened",
    "funded",
    "inspected",
];
/// Query words: invented names that no stop list or stemmer folds into another word.
const QUERY_WORDS: &[&str] = &[
    "vellan",
    "kellbridge",
    "marrow",
    "ostrey",
    "fennick",
    "harlow",
    "weir",
    "ferry",
    "reservoir",
    "lighthouse",
];

fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(12),
        rng_seed: RngSeed::Fixed(
            std::env::var("PROPTEST_RNG_SEED")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0x7e51_1400),
        ),
        failure_persistence: None,
        fork: false,
        timeout: 0,
        // Each case opens a library; shrinking stays short.
        max_shrink_iters: 64,
        ..Config::default()
    }
}

#[derive(Debug, Clone)]
struct Doc {
    town: &'static str,
    agency: &'static str,
    kind: SourceKind,
    published: Option<NaiveDate>,
    sentences: Vec<(usize, usize, usize, u32)>,
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (2019i32..2026, 1u32..13, 1u32..29)
        .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

fn doc() -> impl Strategy<Value = Doc> {
    (
        prop::sample::select(TOWNS),
        prop::sample::select(AGENCIES),
        prop::sample::select(SourceKind::ALL.to_vec()),
        prop::option::weighted(0.8, date()),
        prop::collection::vec(
            (0..TOWNS.len(), 0..SUBJECTS.len(), 0..VERBS.len(), 1u32..500),
            1..14,
        ),
    )
        .prop_map(|(town, agency, kind, published, sentences)| Doc {
            town,
            agency,
            kind,
            published,
            sentences,
        })
}

/// The file for document `i`: front matter and a body unique to `i` (so no two files
/// are the same content).
fn render(i: usize, d: &Doc) -> String {
    let mut md = format!(
        "---\ntitle: \"{} notice {i}\"\npublisher: \"{}\"\nkind: {}\n",
        d.town,
        d.agency,
        d.kind.as_str()
    );
    if let Some(p) = d.published {
        md.push_str(&format!("published: {p}\n"));
    }
    md.push_str("---\n\n");
    md.push_str(&format!(
        "# Record {i} of the {} ledger\n\nThis is record number {i} kept by the {}.",
        d.town, d.agency
    ));
    for (k, (t, s, v, n)) in d.sentences.iter().enumerate() {
        let sep = if k % 4 == 3 { "\n\n" } else { " " };
        md.push_str(&format!(
            "{sep}The {} {} in {} {} {n} tonnes of stone.",
            SUBJECTS[*s],
            if *n % 2 == 0 { "works" } else { "project" },
            TOWNS[*t],
            VERBS[*v],
        ));
    }
    md.push('\n');
    md
}

#[derive(Debug, Clone)]
struct Query {
    word: &'static str,
    kinds: Vec<SourceKind>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    keep_undated: bool,
}

fn query() -> impl Strategy<Value = Query> {
    (
        prop::sample::select(QUERY_WORDS),
        prop::sample::subsequence(SourceKind::ALL.to_vec(), 0..4),
        prop::option::of(date()),
        prop::option::of(date()),
        any::<bool>(),
    )
        .prop_map(|(word, kinds, from, to, keep_undated)| Query {
            word,
            kinds,
            from,
            to,
            keep_undated,
        })
}

fn open(dir: &std::path::Path) -> Library {
    let mut opts = LibraryOptions::new(dir);
    opts.models = ModelsMode::Off;
    Library::open(opts).unwrap()
}

fn ingest_opts() -> IngestOptions {
    IngestOptions {
        embed: false,
        ..IngestOptions::default()
    }
}

/// Whole-word, case-insensitive.
fn holds_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| w.eq_ignore_ascii_case(word))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ingest_round_trip_and_filtered_search(
        docs in prop::collection::vec(doc(), 1..7),
        queries in prop::collection::vec(query(), 1..6),
    ) {
        let data = tempfile::tempdir().unwrap();
        let files = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (i, d) in docs.iter().enumerate() {
            let path = files.path().join(format!("notice-{i}.md"));
            std::fs::write(&path, render(i, d)).unwrap();
            paths.push(path.display().to_string());
        }
        let lib = open(data.path());

        // First ingest: every file is stored.
        let first = lib.ingest(&paths, &ingest_opts(), &NoProgress).unwrap();
        prop_assert!(first.failed.is_empty(), "{:?}", first.failed);
        prop_assert_eq!(first.added, docs.len() as u64, "{:?}", first);
        let before = lib.sources().unwrap();
        prop_assert_eq!(before.len(), docs.len());

        // (a) The same files again: nothing added, all unchanged, the same sources.
        let second = lib.ingest(&paths, &ingest_opts(), &NoProgress).unwrap();
        prop_assert_eq!(second.added, 0);
        prop_assert_eq!(second.duplicates, 0);
        prop_assert_eq!(second.unchanged, docs.len() as u64);
        prop_assert!(second.failed.is_empty(), "{:?}", second.failed);
        prop_assert_eq!(&lib.sources().unwrap(), &before);

        // (b) Round trip: stored text == the reader's text; passages slice it exactly.
        let mut text_of = BTreeMap::new();
        for (i, path) in paths.iter().enumerate() {
            let mut read = read_file(std::path::Path::new(path), &ReadOptions::default());
            prop_assert_eq!(read.len(), 1);
            let want = read.remove(0).unwrap();
            let src = before
                .iter()
                .find(|s| s.location == want.location)
                .ok_or_else(|| TestCaseError::fail(format!("no source at {}", want.location)))?;
            prop_assert_eq!(src.meta.kind, Some(docs[i].kind));
            prop_assert_eq!(src.meta.published, docs[i].published);
            let stored = lib.source_text(&src.id).unwrap().unwrap();
            prop_assert_eq!(&stored, &want.text);
            prop_assert_eq!(src.char_len, stored.chars().count() as u64);
            let passages = lib.passages(&src.id).unwrap();
            prop_assert!(!passages.is_empty());
            prop_assert_eq!(passages.len(), src.passage_count as usize);
            let mut prev_end = 0;
            for p in &passages {
                prop_assert!(p.start >= prev_end && p.start < p.end, "{:?}", p);
                prop_assert_eq!(char_slice(&stored, p.start, p.end), Some(p.text.as_str()));
                prev_end = p.end;
            }
            text_of.insert(src.id.clone(), (src.clone(), stored));
        }

        // (c) Filtered search: nothing from outside the filter, nothing inside it missed.
        for q in &queries {
            let filters = SearchFilters {
                kinds: q.kinds.clone(),
                from: q.from,
                to: q.to,
                keep_undated: q.keep_undated,
                ..SearchFilters::default()
            };
            let admits = |s: &verity_types::Source| {
                (filters.kinds.is_empty() || s.meta.kind.is_some_and(|k| filters.kinds.contains(&k)))
                    && filters.admits_date(s.meta.published)
            };
            let mut req = SearchRequest::new(q.word, 1000);
            req.filters = filters.clone();
            let hits = lib.search(&req).unwrap();
            for h in &hits {
                prop_assert!(
                    admits(&h.source),
                    "hit from {} (kind {:?}, published {:?}) outside {:?}",
                    h.source.location, h.source.meta.kind, h.source.meta.published, filters
                );
                let (_, stored) = &text_of[&h.source.id];
                prop_assert_eq!(char_slice(stored, h.passage.start, h.passage.end), Some(h.passage.text.as_str()));
            }
            let found: BTreeSet<_> = hits.iter().map(|h| h.source.id.clone()).collect();
            for (id, (src, stored)) in &text_of {
                if admits(src) && holds_word(stored, q.word) {
                    prop_assert!(
                        found.contains(id),
                        "`{}` missed {} (kind {:?}, published {:?}) under {:?}",
                        q.word, src.location, src.meta.kind, src.meta.published, filters
                    );
                }
            }
        }
    }
}
