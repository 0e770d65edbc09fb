//! Builds a BEIR-style retrieval task from HealthVer's claim–evidence pairs.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::pairs::csv_err;
use crate::retrieval::{CorpusDoc, Query};
use crate::EvalError;

/// What [`build_healthver_retrieval`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthVerRetrievalSummary {
    pub corpus: PathBuf,
    pub queries: PathBuf,
    pub qrels: PathBuf,
    /// Distinct evidence texts (documents).
    pub documents: usize,
    /// Distinct claims (queries).
    pub query_count: usize,
    /// Claims with at least one relevant (Supports or Refutes) evidence.
    pub judged_queries: usize,
    /// Relevance judgements written.
    pub judgements: usize,
}

/// Reads a HealthVer CSV (`id, evidence, claim, label, ...`) and writes into `out_dir`:
/// `corpus.jsonl` (every distinct evidence text, ids `e0`, `e1`, ... in first-seen order,
/// empty titles), `queries.jsonl` (every distinct claim, ids `q0`, ...) and `qrels.tsv`
/// (claim → evidence with grade 1 for `Supports` and `Refutes` pairs; `Neutral` pairs are
/// not relevant). Texts are compared after trimming.
pub fn build_healthver_retrieval(
    csv_path: &Path,
    out_dir: &Path,
) -> Result<HealthVerRetrievalSummary, EvalError> {
    let mut rd = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(csv_path)
        .map_err(|e| csv_err(csv_path, e))?;
    let headers = rd.headers().map_err(|e| csv_err(csv_path, e))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .ok_or_else(|| EvalError::Format {
                path: csv_path.to_path_buf(),
                message: format!("HealthVer CSV needs a `{name}` column"),
            })
    };
    let (ce, cc, cl) = (col("evidence")?, col("claim")?, col("label")?);
    let mut docs: Vec<CorpusDoc> = Vec::new();
    let mut doc_ids: HashMap<String, usize> = HashMap::new();
    let mut queries: Vec<Query> = Vec::new();
    let mut query_ids: HashMap<String, usize> = HashMap::new();
    let mut qrels: Vec<(usize, usize)> = Vec::new();
    for rec in rd.records() {
        let rec = rec.map_err(|e| csv_err(csv_path, e))?;
        let line = rec.position().map_or(0, |p| p.line() as usize);
        let field = |c: usize| {
            rec.get(c)
                .map(str::trim)
                .ok_or_else(|| EvalError::parse(csv_path, line, format!("no column {}", c + 1)))
        };
        let (evidence, claim, label) = (field(ce)?, field(cc)?, field(cl)?);
        if evidence.is_empty() || claim.is_empty() {
            continue;
        }
        let d = *doc_ids.entry(evidence.to_string()).or_insert_with(|| {
            docs.push(CorpusDoc {
                id: format!("e{}", docs.len()),
                title: String::new(),
                text: evidence.to_string(),
            });
            docs.len() - 1
        });
        let q = *query_ids.entry(claim.to_string()).or_insert_with(|| {
            queries.push(Query {
                id: format!("q{}", queries.len()),
                text: claim.to_string(),
            });
            queries.len() - 1
        });
        match label.to_ascii_lowercase().as_str() {
            "supports" | "refutes" => {
                if !qrels.contains(&(q, d)) {
                    qrels.push((q, d));
                }
            }
            "neutral" => {}
            other => {
                return Err(EvalError::parse(
                    csv_path,
                    line,
                    format!("label `{other}` is not Supports, Refutes or Neutral"),
                ))
            }
        }
    }
    if docs.is_empty() {
        return Err(EvalError::Empty {
            path: csv_path.to_path_buf(),
            what: "claim-evidence pairs",
        });
    }
    std::fs::create_dir_all(out_dir).map_err(|e| EvalError::io(out_dir, e))?;
    let corpus = out_dir.join("corpus.jsonl");
    let queries_path = out_dir.join("queries.jsonl");
    let qrels_path = out_dir.join("qrels.tsv");
    write_jsonl(&corpus, &docs)?;
    write_jsonl(&queries_path, &queries)?;
    let mut tsv = String::from("query-id\tcorpus-id\tscore\n");
    for (q, d) in &qrels {
        tsv.push_str(&format!("{}\t{}\t1\n", queries[*q].id, docs[*d].id));
    }
    std::fs::write(&qrels_path, tsv).map_err(|e| EvalError::io(&qrels_path, e))?;
    let mut judged: Vec<usize> = qrels.iter().map(|(q, _)| *q).collect();
    judged.sort_unstable();
    judged.dedup();
    Ok(HealthVerRetrievalSummary {
        corpus,
        queries: queries_path,
        qrels: qrels_path,
        documents: docs.len(),
        query_count: queries.len(),
        judged_queries: judged.len(),
        judgements: qrels.len(),
    })
}

pub(crate) fn write_jsonl<T: Serialize>(path: &Path, items: &[T]) -> Result<(), EvalError> {
    let f = std::fs::File::create(path).map_err(|e| EvalError::io(path, e))?;
    let mut w = std::io::BufWriter::new(f);
    for it in items {
        let line = serde_json::to_string(it).map_err(|e| EvalError::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        writeln!(w, "{line}").map_err(|e| EvalError::io(path, e))?;
    }
    w.flush().map_err(|e| EvalError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load_corpus, load_qrels, load_queries};

    #[test]
    fn builds_corpus_queries_and_qrels() {
        let d = tempfile::tempdir().unwrap();
        let csv = d.path().join("hv.csv");
        std::fs::write(
            &csv,
            "id,evidence,claim,label,topic_ip,question\n\
             1,\"Tonic X had no effect on colds, in Varrow.\",Tonic X cures colds,Refutes,1,q\n\
             2,Tonic X shortened colds by a day.,Tonic X cures colds,Supports,1,q\n\
             3,Colds are caused by viruses.,Tonic X cures colds,Neutral,1,q\n\
             4,Colds are caused by viruses.,Colds are viral,Supports,2,q\n\
             5,Tonic X shortened colds by a day.,Salt water prevents colds,Neutral,3,q\n",
        )
        .unwrap();
        let out = d.path().join("task");
        let s = build_healthver_retrieval(&csv, &out).unwrap();
        assert_eq!(s.documents, 3);
        assert_eq!(s.query_count, 3);
        assert_eq!(s.judged_queries, 2);
        assert_eq!(s.judgements, 3);
        let corpus = load_corpus(&s.corpus).unwrap();
        assert_eq!(corpus[0].id, "e0");
        assert_eq!(corpus[0].text, "Tonic X had no effect on colds, in Varrow.");
        let queries = load_queries(&s.queries).unwrap();
        assert_eq!(queries[2].text, "Salt water prevents colds");
        let qrels = load_qrels(&s.qrels).unwrap();
        assert_eq!(qrels["q0"].len(), 2);
        assert_eq!(qrels["q1"]["e2"], 1);
        assert!(!qrels.contains_key("q2"));
    }
}
