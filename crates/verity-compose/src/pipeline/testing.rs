//! Fixtures for the stage tests: a small fictional library searched by shared words, a
//! progress recorder, and the real stance model when one is installed.

use std::path::PathBuf;
use std::sync::Mutex;

use chrono::NaiveDate;
use verity_types::{
    DocMeta, Format, Mode, Passage, PassageId, Progress, SearchHit, SearchMode, SearchRequest,
    Source, SourceId, SourceKind,
};

use crate::gather::{self, Cand};
use crate::{text, BriefRequest, Evidence};
use crate::{Citation, Sentence};

/// The claim the fixture library is about. Everything in it is invented.
pub(crate) const RESERVOIR_CLAIM: &str =
    "Fact check: The Tarrow Valley Water Board closed the Ashby reservoir in 2019.";

/// A request dated 1 March 2025 with the default settings.
pub(crate) fn request(input: &str, mode: Mode) -> BriefRequest {
    BriefRequest::new(input, mode, NaiveDate::from_ymd_opt(2025, 3, 1).unwrap())
}

/// One fictional source of one passage.
pub(crate) struct Doc {
    pub publisher: &'static str,
    pub title: &'static str,
    pub kind: SourceKind,
    pub published: (i32, u32, u32),
    pub text: &'static str,
}

/// The fixture sources about the Ashby reservoir, and one about something else.
pub(crate) const RESERVOIR_DOCS: &[Doc] = &[
    Doc {
        publisher: "Tarrow Valley Water Board",
        title: "Ashby reservoir closure notice",
        kind: SourceKind::Official,
        published: (2019, 6, 10),
        text: "The Tarrow Valley Water Board closed the Ashby reservoir in 2019 after an inspection found cracks in the dam. Repairs to the dam are expected to cost $4 million, the board said.",
    },
    Doc {
        publisher: "Ashby Courier",
        title: "Reservoir shut as dam repairs begin",
        kind: SourceKind::News,
        published: (2019, 7, 2),
        text: "Anglers found the gates locked after the Tarrow Valley Water Board closed the Ashby reservoir in 2019. The board has not said when the reservoir will reopen to the public.",
    },
    Doc {
        publisher: "Tarrow Gazette",
        title: "Reservoir stayed open, records show",
        kind: SourceKind::News,
        published: (2021, 4, 20),
        text: "The Tarrow Valley Water Board did not close the Ashby reservoir in 2019; records show it stayed open until the spring of 2021, when the board drained it for repairs.",
    },
    Doc {
        publisher: "Kellmoor Weekly",
        title: "Bakery wins rye prize",
        kind: SourceKind::News,
        published: (2018, 9, 1),
        text: "The Kellmoor bakery won a regional prize for its rye bread, judges said on Friday.",
    },
];

/// A search hit for `doc`, as the engine would return it.
pub(crate) fn hit(doc: &Doc) -> SearchHit {
    let id = SourceId::from_content(doc.text);
    let chars = doc.text.chars().count() as u64;
    let (y, m, d) = doc.published;
    SearchHit {
        passage: Passage {
            id: PassageId {
                source: id.clone(),
                ordinal: 0,
            },
            start: 0,
            end: chars,
            text: doc.text.to_string(),
        },
        source: Source {
            id,
            location: format!("fixtures/{}.md", doc.title.to_lowercase().replace(' ', "-")),
            format: Format::Markdown,
            meta: DocMeta {
                title: Some(doc.title.to_string()),
                publisher: Some(doc.publisher.to_string()),
                published: NaiveDate::from_ymd_opt(y, m, d),
                kind: Some(doc.kind),
                ..DocMeta::default()
            },
            ingested_at: "2025-01-01T00:00:00Z".into(),
            char_len: chars,
            passage_count: 1,
            duplicate_of: None,
        },
        score: 1.0,
        highlights: Vec::new(),
    }
}

/// Candidates made straight from `docs`, ranked in the order given.
pub(crate) fn cands(docs: &[Doc]) -> Vec<Cand> {
    docs.iter()
        .enumerate()
        .map(|(i, d)| {
            let mut c = gather::candidate(hit(d), 1.0 / (i as f32 + 1.0));
            c.rank = i;
            c
        })
        .collect()
}

/// An evidence library over fixture documents: a passage matches a query when they share
/// a term, and ranks by how many terms they share.
pub(crate) struct Library {
    hits: Vec<SearchHit>,
    fail: bool,
    dense: bool,
    /// Every request seen, in order.
    pub seen: Mutex<Vec<(String, SearchMode)>>,
}

impl Library {
    pub fn new(docs: &[Doc]) -> Self {
        Library {
            hits: docs.iter().map(hit).collect(),
            fail: false,
            dense: false,
            seen: Mutex::new(Vec::new()),
        }
    }
    pub fn reservoir() -> Self {
        Self::new(RESERVOIR_DOCS)
    }
    /// A library whose every search fails.
    pub fn failing() -> Self {
        Library {
            fail: true,
            ..Self::new(&[])
        }
    }
    /// The same library, claiming dense search too (answered like keyword search).
    pub fn with_dense(mut self) -> Self {
        self.dense = true;
        self
    }
    pub fn modes_seen(&self) -> Vec<SearchMode> {
        self.seen.lock().unwrap().iter().map(|(_, m)| *m).collect()
    }
}

impl Evidence for Library {
    fn search(&self, req: &SearchRequest) -> Result<Vec<SearchHit>, String> {
        self.seen
            .lock()
            .unwrap()
            .push((req.query.clone(), req.mode));
        if self.fail {
            return Err("the fixture library is offline".into());
        }
        let q = text::term_set(&req.query);
        let mut scored: Vec<(usize, &SearchHit)> = self
            .hits
            .iter()
            .filter(|h| req.filters.admits_date(h.source.meta.published))
            .map(|h| (text::term_set(&h.passage.text).intersection(&q).count(), h))
            .filter(|(n, _)| *n > 0)
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.passage.id.cmp(&b.1.passage.id)));
        Ok(scored
            .into_iter()
            .take(req.limit)
            .map(|(_, h)| h.clone())
            .collect())
    }
    fn has_dense(&self) -> bool {
        self.dense
    }
}

/// Progress that remembers its stages and how far each advanced.
#[derive(Default)]
pub(crate) struct Recorder {
    events: Mutex<Vec<(String, Option<u64>, u64)>>,
}

impl Recorder {
    pub fn stages(&self) -> Vec<(String, Option<u64>)> {
        let ev = self.events.lock().unwrap();
        ev.iter().map(|(s, t, _)| (s.clone(), *t)).collect()
    }
    /// Units advanced over all stages.
    pub fn advanced(&self) -> u64 {
        self.events.lock().unwrap().iter().map(|e| e.2).sum()
    }
}

impl Progress for Recorder {
    fn stage(&self, name: &str, total: Option<u64>) {
        let mut ev = self.events.lock().unwrap();
        ev.push((name.to_string(), total, 0));
    }
    fn advance(&self, n: u64) {
        if let Some(last) = self.events.lock().unwrap().last_mut() {
            last.2 += n;
        }
    }
    fn message(&self, _: &str) {}
}

/// The real stance model from `VERITY_STANCE_MODEL` (a directory with `model.safetensors`
/// and `config.json`) and `VERITY_STANCE_TOKENIZER` (else `tokenizer.json` in it). Without
/// one this prints a notice and returns `None`, unless `VERITY_REQUIRE_MODELS=1`, where it
/// fails.
pub(crate) fn stance_model() -> Option<verity_judge::CrossEncoderStance> {
    let dir = std::env::var_os("VERITY_STANCE_MODEL").map(PathBuf::from);
    let tok = std::env::var_os("VERITY_STANCE_TOKENIZER")
        .map(PathBuf::from)
        .or_else(|| dir.as_ref().map(|d| d.join("tokenizer.json")));
    match (dir, tok) {
        (Some(dir), Some(tok)) if dir.join("model.safetensors").is_file() && tok.is_file() => {
            Some(verity_judge::CrossEncoderStance::load(&dir, &tok).unwrap())
        }
        (dir, _) => {
            let required = std::env::var("VERITY_REQUIRE_MODELS").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "VERITY_REQUIRE_MODELS=1 but no stance model at {dir:?}; set VERITY_STANCE_MODEL and VERITY_STANCE_TOKENIZER"
            );
            eprintln!("NOTICE: no stance model at {dir:?}; skipping the real-model check");
            None
        }
    }
}

/// A brief sentence with one citation and nothing judged yet.
pub(crate) fn cited_sentence(text: &str, citation: Citation) -> Sentence {
    Sentence::cited(text, vec![citation])
}
