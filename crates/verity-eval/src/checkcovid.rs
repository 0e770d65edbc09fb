//! Builds a claim-level task from Check-COVID (news claims checked against CORD-19
//! abstracts): a corpus to ingest and claims files for `verity eval claims`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::claims::ClaimClass;
use crate::healthver::write_jsonl;
use crate::EvalError;

/// The abstracts file of a Check-COVID folder (JSON Lines, despite its name).
pub const CHECKCOVID_CORPUS: &str = "corpus.json";
/// The test files and the kind their claims get.
pub const CHECKCOVID_TEST_FILES: [(&str, &str); 2] = [
    ("covidCheck_test_composed.json", "composed"),
    ("covidCheck_test_extracted.json", "extracted"),
];
/// The dev file (composed and extracted claims together, with no field telling them
/// apart) and the kind its claims get.
pub const CHECKCOVID_DEV_FILE: (&str, &str) = (
    "covidCheck_dev_composed+extracted.json",
    "composed+extracted",
);

const CHECKCOVID_LABELS: &str = "SUPPORT, REFUTE, NOTENOUGHINFO";

/// What [`build_checkcovid`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckCovidSummary {
    pub corpus: PathBuf,
    pub claims: PathBuf,
    pub claims_dev: PathBuf,
    /// The test claims resolved to one line per distinct claim (see [`resolve_claims`]).
    pub claims_resolved: PathBuf,
    /// The dev claims resolved the same way.
    pub claims_dev_resolved: PathBuf,
    /// Abstracts written (one document each).
    pub documents: usize,
    /// Abstracts left out: no sentences, or a repeated `cord_id`.
    pub skipped_documents: usize,
    pub test_claims: usize,
    pub dev_claims: usize,
    /// Test claims per label.
    pub test_labels: BTreeMap<String, usize>,
    /// Test claims per kind.
    pub test_kinds: BTreeMap<String, usize>,
    /// Claims labelled `not_enough_evidence` whose text is also a `supported` or
    /// `contradicted` claim of the same file. Check-COVID labels a claim against one
    /// abstract's sentences, so one claim can be NOTENOUGHINFO for one sentence and SUPPORT
    /// for another; checked against the whole corpus, such a pair cannot both be right.
    pub test_nei_sharing_a_claim: usize,
    pub dev_nei_sharing_a_claim: usize,
    /// Claims (test and dev) whose `cord_id` is not in the corpus.
    pub claims_without_abstract: usize,
    /// Distinct test claims after resolution, per label.
    pub resolved_test_labels: BTreeMap<String, usize>,
    /// Distinct dev claims after resolution.
    pub resolved_dev_claims: usize,
    /// Distinct claims (test and dev) left out of the resolved files because one row
    /// supports them and another refutes them.
    pub resolved_conflicts: usize,
}

/// A document of `corpus.jsonl`, in the shape `verity ingest` reads.
#[derive(Debug, Serialize)]
struct Doc {
    title: String,
    text: String,
    url: String,
    kind: &'static str,
}

/// A line of `claims.jsonl`, in the shape `verity eval claims` reads.
#[derive(Debug, Clone, Serialize)]
struct ClaimLine {
    claim: String,
    label: ClaimClass,
    kind: String,
    id: String,
    cord_id: String,
}

/// Reads a Check-COVID folder (`corpus.json`, the two test files and the dev file, all
/// JSON Lines) and writes into `out_dir`:
/// - `corpus.jsonl`: one document per abstract, `title`, `text` (the abstract's sentences
///   joined with single spaces), `url` = `cord19:<cord_id>`, `kind` = `academic`;
/// - `claims.jsonl`: the test claims, labels SUPPORT / REFUTE / NOTENOUGHINFO mapped to
///   supported / contradicted / not_enough_evidence, `kind` = `composed` or `extracted`
///   (plus `-auth` when `is_auth`), with their `id` and `cord_id`;
/// - `claims-dev.jsonl`: the dev claims the same way (kind `composed+extracted`);
/// - `claims-resolved.jsonl` and `claims-dev-resolved.jsonl`: the same claims, one line per
///   distinct claim text, labelled as the whole corpus settles it (see [`resolve_claims`]).
pub fn build_checkcovid(dir: &Path, out_dir: &Path) -> Result<CheckCovidSummary, EvalError> {
    let (docs, skipped_documents) = read_corpus(&dir.join(CHECKCOVID_CORPUS))?;
    let cord_ids: HashSet<&str> = docs
        .iter()
        .filter_map(|d| d.url.strip_prefix("cord19:"))
        .collect();
    let mut test = Vec::new();
    for (name, kind) in CHECKCOVID_TEST_FILES {
        test.extend(read_claims(&dir.join(name), kind)?);
    }
    let dev = read_claims(&dir.join(CHECKCOVID_DEV_FILE.0), CHECKCOVID_DEV_FILE.1)?;
    let claims_without_abstract = test
        .iter()
        .chain(&dev)
        .filter(|c| !cord_ids.contains(c.cord_id.as_str()))
        .count();
    let mut test_labels = BTreeMap::new();
    let mut test_kinds = BTreeMap::new();
    for c in &test {
        *test_labels.entry(c.label.as_str().to_string()).or_insert(0) += 1;
        *test_kinds.entry(c.kind.clone()).or_insert(0) += 1;
    }

    std::fs::create_dir_all(out_dir).map_err(|e| EvalError::io(out_dir, e))?;
    let corpus = out_dir.join("corpus.jsonl");
    let claims = out_dir.join("claims.jsonl");
    let claims_dev = out_dir.join("claims-dev.jsonl");
    write_jsonl(&corpus, &docs)?;
    write_jsonl(&claims, &test)?;
    write_jsonl(&claims_dev, &dev)?;
    let (test_resolved, test_conflicts) = resolve_claims(&test);
    let (dev_resolved, dev_conflicts) = resolve_claims(&dev);
    let claims_resolved = out_dir.join("claims-resolved.jsonl");
    let claims_dev_resolved = out_dir.join("claims-dev-resolved.jsonl");
    write_jsonl(&claims_resolved, &test_resolved)?;
    write_jsonl(&claims_dev_resolved, &dev_resolved)?;
    let mut resolved_test_labels = BTreeMap::new();
    for c in &test_resolved {
        *resolved_test_labels
            .entry(c.label.as_str().to_string())
            .or_insert(0) += 1;
    }
    Ok(CheckCovidSummary {
        corpus,
        claims,
        claims_dev,
        claims_resolved,
        claims_dev_resolved,
        documents: docs.len(),
        skipped_documents,
        test_claims: test.len(),
        dev_claims: dev.len(),
        test_labels,
        test_kinds,
        test_nei_sharing_a_claim: nei_sharing_a_claim(&test),
        dev_nei_sharing_a_claim: nei_sharing_a_claim(&dev),
        claims_without_abstract,
        resolved_test_labels,
        resolved_dev_claims: dev_resolved.len(),
        resolved_conflicts: test_conflicts + dev_conflicts,
    })
}

/// One line per distinct claim text, labelled as the whole corpus settles it.
///
/// Check-COVID labels a claim against the sentences of one abstract, and its
/// NOTENOUGHINFO rows point at a sentence that does not settle a claim which another row
/// supports or refutes. Checked against the whole corpus, that claim is settled: a claim
/// with a SUPPORT row is supported, one with a REFUTE row is contradicted, and only a claim
/// whose every row is NOTENOUGHINFO stays `not_enough_evidence`. A claim that one row
/// supports and another refutes has no single answer and is left out (counted). The first
/// row's id, kind and cord_id are kept. Returns the claims and the number left out.
fn resolve_claims(rows: &[ClaimLine]) -> (Vec<ClaimLine>, usize) {
    // Each distinct claim's first row, in file order, and every label its rows give.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut firsts: Vec<(&ClaimLine, HashSet<ClaimClass>)> = Vec::new();
    for r in rows {
        let k = *seen.entry(r.claim.as_str()).or_insert_with(|| {
            firsts.push((r, HashSet::new()));
            firsts.len() - 1
        });
        firsts[k].1.insert(r.label);
    }
    let mut out = Vec::new();
    let mut conflicts = 0;
    for (first, labels) in firsts {
        let label = match (
            labels.contains(&ClaimClass::Supported),
            labels.contains(&ClaimClass::Contradicted),
        ) {
            (true, true) => {
                conflicts += 1;
                continue;
            }
            (true, false) => ClaimClass::Supported,
            (false, true) => ClaimClass::Contradicted,
            (false, false) => ClaimClass::NotEnoughEvidence,
        };
        out.push(ClaimLine {
            label,
            ..first.clone()
        });
    }
    (out, conflicts)
}

fn lines(path: &Path) -> Result<impl Iterator<Item = (usize, std::io::Result<String>)>, EvalError> {
    let f = std::fs::File::open(path).map_err(|e| EvalError::io(path, e))?;
    Ok(BufReader::new(f)
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l)))
}

fn read_corpus(path: &Path) -> Result<(Vec<Doc>, usize), EvalError> {
    #[derive(Deserialize)]
    struct Rec {
        cord_id: String,
        #[serde(default)]
        title: String,
        #[serde(rename = "abstract")]
        sentences: Vec<String>,
    }
    let mut docs = Vec::new();
    let mut seen = HashSet::new();
    let mut skipped = 0;
    for (line, text) in lines(path)? {
        let text = text.map_err(|e| EvalError::io(path, e))?;
        if text.trim().is_empty() {
            continue;
        }
        let r: Rec = serde_json::from_str(&text).map_err(|e| {
            EvalError::parse(
                path,
                line,
                format!("expected an abstract (cord_id, title, abstract): {e}"),
            )
        })?;
        let body = r
            .sentences
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let cord_id = r.cord_id.trim().to_string();
        if body.is_empty() || cord_id.is_empty() || !seen.insert(cord_id.clone()) {
            skipped += 1;
            continue;
        }
        docs.push(Doc {
            title: r.title.trim().to_string(),
            text: body,
            url: format!("cord19:{cord_id}"),
            kind: "academic",
        });
    }
    if docs.is_empty() {
        return Err(EvalError::Empty {
            path: path.to_path_buf(),
            what: "abstracts",
        });
    }
    Ok((docs, skipped))
}

fn read_claims(path: &Path, kind: &str) -> Result<Vec<ClaimLine>, EvalError> {
    #[derive(Deserialize)]
    struct Rec {
        id: String,
        claim: String,
        cord_id: String,
        label: String,
        #[serde(default)]
        is_auth: bool,
    }
    let mut out = Vec::new();
    for (line, text) in lines(path)? {
        let text = text.map_err(|e| EvalError::io(path, e))?;
        if text.trim().is_empty() {
            continue;
        }
        let r: Rec = serde_json::from_str(&text).map_err(|e| {
            EvalError::parse(
                path,
                line,
                format!("expected a claim (id, claim, cord_id, label, is_auth): {e}"),
            )
        })?;
        let label = match r.label.trim() {
            "SUPPORT" => ClaimClass::Supported,
            "REFUTE" => ClaimClass::Contradicted,
            "NOTENOUGHINFO" => ClaimClass::NotEnoughEvidence,
            _ => {
                return Err(EvalError::UnknownLabel {
                    path: path.to_path_buf(),
                    line,
                    label: r.label,
                    expected: CHECKCOVID_LABELS,
                })
            }
        };
        let claim = r.claim.trim();
        if claim.is_empty() {
            return Err(EvalError::EmptyClaim {
                path: path.to_path_buf(),
                line,
            });
        }
        out.push(ClaimLine {
            claim: claim.to_string(),
            label,
            kind: if r.is_auth {
                format!("{kind}-auth")
            } else {
                kind.to_string()
            },
            id: r.id,
            cord_id: r.cord_id.trim().to_string(),
        });
    }
    if out.is_empty() {
        return Err(EvalError::Empty {
            path: path.to_path_buf(),
            what: "claims",
        });
    }
    Ok(out)
}

/// `not_enough_evidence` claims whose text is also a supported or contradicted claim.
fn nei_sharing_a_claim(claims: &[ClaimLine]) -> usize {
    let mut labels: HashMap<&str, HashSet<ClaimClass>> = HashMap::new();
    for c in claims {
        labels.entry(c.claim.as_str()).or_default().insert(c.label);
    }
    claims
        .iter()
        .filter(|c| c.label == ClaimClass::NotEnoughEvidence)
        .filter(|c| labels.get(c.claim.as_str()).is_some_and(|l| l.len() > 1))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load_claims, Limit};

    fn write(dir: &Path, name: &str, lines: &[&str]) {
        std::fs::write(dir.join(name), lines.join("\n") + "\n").unwrap();
    }

    /// A fictional Check-COVID folder: two abstracts (one repeated, one empty) and a few
    /// claims about them.
    fn fixture(dir: &Path) {
        write(
            dir,
            CHECKCOVID_CORPUS,
            &[
                r#"{"cord_id": "aa11", "title": "Tonic X in Varrow", "abstract": ["Tonic X was given to 40 patients in Varrow.", "  Colds were one day shorter. "]}"#,
                r#"{"cord_id": "bb22", "title": "Fenwick masks", "abstract": ["Fenwick masks filtered most droplets."]}"#,
                r#"{"cord_id": "bb22", "title": "Fenwick masks (again)", "abstract": ["A repeat."]}"#,
                r#"{"cord_id": "cc33", "title": "Empty", "abstract": []}"#,
            ],
        );
        write(
            dir,
            "covidCheck_test_composed.json",
            &[
                r#"{"id": "t1_0", "claim": "Tonic X shortens colds.", "cord_id": "aa11", "label": "SUPPORT", "evidence_set": [{"sent_index": 1, "type": "PRIMARY"}], "is_auth": false}"#,
                r#"{"id": "t1_1", "claim": "Tonic X lengthens colds.", "cord_id": "aa11", "label": "REFUTE", "evidence_set": [], "is_auth": false}"#,
                r#"{"id": "t1_2", "claim": "Tonic X shortens colds.", "cord_id": "aa11", "label": "NOTENOUGHINFO", "evidence_set": [], "is_auth": false}"#,
            ],
        );
        write(
            dir,
            "covidCheck_test_extracted.json",
            &[
                r#"{"id": "t2_0", "claim": "Fenwick masks stop droplets.", "cord_id": "bb22", "label": "SUPPORT", "evidence_set": [], "is_auth": true}"#,
                r#"{"id": "t2_1", "claim": "Fenwick masks cure colds.", "cord_id": "zz99", "label": "NOTENOUGHINFO", "evidence_set": [], "is_auth": true}"#,
            ],
        );
        write(
            dir,
            "covidCheck_dev_composed+extracted.json",
            &[
                r#"{"id": "d1_0", "claim": "Tonic X was tested in Varrow.", "cord_id": "aa11", "label": "SUPPORT", "evidence_set": [], "is_auth": true}"#,
            ],
        );
    }

    #[test]
    fn builds_corpus_and_claims_files() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("checkcovid");
        std::fs::create_dir_all(&src).unwrap();
        fixture(&src);
        let out = d.path().join("task");
        let s = build_checkcovid(&src, &out).unwrap();
        assert_eq!(s.documents, 2);
        assert_eq!(
            s.skipped_documents, 2,
            "a repeated cord_id and an empty abstract"
        );
        assert_eq!(s.test_claims, 5);
        assert_eq!(s.dev_claims, 1);
        assert_eq!(s.test_labels["supported"], 2);
        assert_eq!(s.test_labels["contradicted"], 1);
        assert_eq!(s.test_labels["not_enough_evidence"], 2);
        assert_eq!(s.test_kinds["composed"], 3);
        assert_eq!(s.test_kinds["extracted-auth"], 2);
        assert_eq!(s.test_nei_sharing_a_claim, 1);
        assert_eq!(s.dev_nei_sharing_a_claim, 0);
        assert_eq!(s.claims_without_abstract, 1);
        // "Tonic X shortens colds." is SUPPORT for one sentence and NOTENOUGHINFO for
        // another: against the whole corpus it is supported, and listed once.
        let resolved = load_claims(&s.claims_resolved, Limit::All).unwrap();
        assert_eq!(resolved.claims.len(), 4, "{:?}", resolved.claims);
        assert_eq!(s.resolved_test_labels["supported"], 2);
        assert_eq!(s.resolved_test_labels["not_enough_evidence"], 1);
        let tonic: Vec<_> = resolved
            .claims
            .iter()
            .filter(|c| c.claim == "Tonic X shortens colds.")
            .collect();
        assert_eq!(tonic.len(), 1);
        assert_eq!(tonic[0].label, ClaimClass::Supported);
        assert_eq!(s.resolved_dev_claims, 1);
        assert_eq!(s.resolved_conflicts, 0);

        let corpus: Vec<serde_json::Value> = std::fs::read_to_string(&s.corpus)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(corpus.len(), 2);
        assert_eq!(corpus[0]["title"], "Tonic X in Varrow");
        assert_eq!(
            corpus[0]["text"],
            "Tonic X was given to 40 patients in Varrow. Colds were one day shorter."
        );
        assert_eq!(corpus[0]["url"], "cord19:aa11");
        assert_eq!(corpus[0]["kind"], "academic");

        let first: serde_json::Value = serde_json::from_str(
            std::fs::read_to_string(&s.claims)
                .unwrap()
                .lines()
                .next()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(first["label"], "supported");
        assert_eq!(first["id"], "t1_0");
        assert_eq!(first["cord_id"], "aa11");
        // The claims files are what `verity eval claims` reads.
        let test = load_claims(&s.claims, Limit::All).unwrap();
        assert_eq!(test.claims.len(), 5);
        assert_eq!(test.claims[3].kind.as_deref(), Some("extracted-auth"));
        assert_eq!(test.claims[4].label, ClaimClass::NotEnoughEvidence);
        let dev = load_claims(&s.claims_dev, Limit::All).unwrap();
        assert_eq!(
            dev.claims[0].kind.as_deref(),
            Some("composed+extracted-auth")
        );
    }

    #[test]
    fn a_bad_label_or_missing_file_is_named() {
        let d = tempfile::tempdir().unwrap();
        fixture(d.path());
        write(
            d.path(),
            "covidCheck_test_extracted.json",
            &[
                r#"{"id": "t2_0", "claim": "Fenwick masks stop droplets.", "cord_id": "bb22", "label": "SUPPORT", "is_auth": true}"#,
                r#"{"id": "t2_1", "claim": "Fenwick masks cure colds.", "cord_id": "bb22", "label": "MAYBE", "is_auth": true}"#,
            ],
        );
        let e = build_checkcovid(d.path(), &d.path().join("out")).unwrap_err();
        assert!(
            matches!(&e, EvalError::UnknownLabel { line: 2, label, .. } if label == "MAYBE"),
            "{e:?}"
        );
        assert!(!d.path().join("out").exists(), "nothing written on error");

        fixture(d.path());
        std::fs::remove_file(d.path().join(CHECKCOVID_DEV_FILE.0)).unwrap();
        let e = build_checkcovid(d.path(), &d.path().join("out")).unwrap_err();
        assert!(
            matches!(&e, EvalError::Io { path, .. } if path.ends_with(CHECKCOVID_DEV_FILE.0)),
            "{e:?}"
        );
    }
}
