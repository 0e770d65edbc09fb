//! BEIR-style retrieval evaluation: loaders, metrics and a runner for any retriever.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use verity_types::Progress;

use crate::EvalError;

/// A corpus document (`corpus.jsonl`: `_id`, `title`, `text`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpusDoc {
    #[serde(rename = "_id")]
    pub id: String,
    #[serde(default)]
    pub title: String,
    pub text: String,
}

/// A query (`queries.jsonl`: `_id`, `text`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Query {
    #[serde(rename = "_id")]
    pub id: String,
    pub text: String,
}

/// Relevance judgements: query id → document id → grade (> 0 means relevant).
pub type Qrels = HashMap<String, HashMap<String, i32>>;

/// Metrics averaged over the judged queries (those with at least one relevant document).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct RetrievalMetrics {
    /// nDCG@10 with the grade as gain and a log2(rank + 1) discount (as trec_eval / BEIR).
    pub ndcg_at_10: f64,
    /// Share of a query's relevant documents found in the top 10.
    pub recall_at_10: f64,
    /// Share of a query's relevant documents found in the top 100.
    pub recall_at_100: f64,
    /// Mean of 1 / rank of the first relevant document in the top 10 (0 when none).
    pub mrr_at_10: f64,
    /// Queries the averages are over.
    pub queries: usize,
}

/// The result of [`eval_retrieval`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetrievalReport {
    pub metrics: RetrievalMetrics,
    pub seconds: f64,
    pub queries_per_sec: f64,
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(
    path: &Path,
    what: &'static str,
) -> Result<Vec<T>, EvalError> {
    let f = std::fs::File::open(path).map_err(|e| EvalError::io(path, e))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| EvalError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(&line).map_err(|e| {
            EvalError::parse(path, i + 1, format!("expected a {what} record: {e}"))
        })?);
    }
    if out.is_empty() {
        return Err(EvalError::Empty {
            path: path.to_path_buf(),
            what,
        });
    }
    Ok(out)
}

/// Reads a BEIR `corpus.jsonl`.
pub fn load_corpus(path: &Path) -> Result<Vec<CorpusDoc>, EvalError> {
    read_jsonl(path, "corpus document (_id, title, text)")
}

/// Reads a BEIR `queries.jsonl`.
pub fn load_queries(path: &Path) -> Result<Vec<Query>, EvalError> {
    read_jsonl(path, "query (_id, text)")
}

/// Reads a qrels TSV: `query-id, corpus-id, score` (BEIR; header optional) or the 4-column
/// TREC layout `query-id, 0, corpus-id, score`.
pub fn load_qrels(path: &Path) -> Result<Qrels, EvalError> {
    let f = std::fs::File::open(path).map_err(|e| EvalError::io(path, e))?;
    let mut q: Qrels = HashMap::new();
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| EvalError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split(['\t', ' ']).filter(|c| !c.is_empty()).collect();
        let (qid, did, score) = match cols.as_slice() {
            [q, d, s] => (q, d, s),
            [q, _, d, s] => (q, d, s),
            _ => {
                return Err(EvalError::parse(
                    path,
                    i + 1,
                    format!(
                        "expected `query-id<TAB>corpus-id<TAB>score`, found {} columns",
                        cols.len()
                    ),
                ))
            }
        };
        let Ok(score) = score.parse::<i32>() else {
            if i == 0 {
                continue; // header
            }
            return Err(EvalError::parse(
                path,
                i + 1,
                format!("score `{score}` is not an integer"),
            ));
        };
        q.entry(qid.to_string())
            .or_default()
            .insert(did.to_string(), score);
    }
    if q.is_empty() {
        return Err(EvalError::Empty {
            path: path.to_path_buf(),
            what: "relevance judgements",
        });
    }
    Ok(q)
}

/// Computes the metrics of a run (query id → ranked document ids, best first) against
/// `qrels`. Only queries with at least one relevant document count; such a query missing
/// from the run scores 0. A document id repeated in a ranking counts once, at its first
/// rank.
pub fn metrics(run: &HashMap<String, Vec<String>>, qrels: &Qrels) -> RetrievalMetrics {
    let mut m = RetrievalMetrics::default();
    let empty = Vec::new();
    for (qid, judged) in qrels {
        let relevant: HashMap<&str, i32> = judged
            .iter()
            .filter(|(_, &g)| g > 0)
            .map(|(d, &g)| (d.as_str(), g))
            .collect();
        if relevant.is_empty() {
            continue;
        }
        m.queries += 1;
        let mut seen = HashSet::new();
        let ranking: Vec<&str> = run
            .get(qid)
            .unwrap_or(&empty)
            .iter()
            .map(String::as_str)
            .filter(|d| seen.insert(*d))
            .take(100)
            .collect();
        let mut dcg = 0.0;
        let mut first_hit = None;
        let mut hits10 = 0usize;
        let mut hits100 = 0usize;
        for (rank, d) in ranking.iter().enumerate() {
            if let Some(&g) = relevant.get(d) {
                if rank < 10 {
                    dcg += f64::from(g) / ((rank + 2) as f64).log2();
                    hits10 += 1;
                    first_hit.get_or_insert(rank);
                }
                hits100 += 1;
            }
        }
        let mut grades: Vec<i32> = relevant.values().copied().collect();
        grades.sort_unstable_by(|a, b| b.cmp(a));
        let idcg: f64 = grades
            .iter()
            .take(10)
            .enumerate()
            .map(|(i, &g)| f64::from(g) / ((i + 2) as f64).log2())
            .sum();
        m.ndcg_at_10 += dcg / idcg;
        m.recall_at_10 += hits10 as f64 / relevant.len() as f64;
        m.recall_at_100 += hits100 as f64 / relevant.len() as f64;
        m.mrr_at_10 += first_hit.map_or(0.0, |r| 1.0 / (r + 1) as f64);
    }
    if m.queries > 0 {
        let n = m.queries as f64;
        m.ndcg_at_10 /= n;
        m.recall_at_10 /= n;
        m.recall_at_100 /= n;
        m.mrr_at_10 /= n;
    }
    m
}

/// Runs `search` (query text → ranked document ids, best first; return at least 100 for
/// Recall@100) on every query that has relevant documents in `qrels`, and scores the run.
pub fn eval_retrieval(
    queries: &[Query],
    qrels: &Qrels,
    search: &mut dyn FnMut(&str) -> Vec<String>,
    progress: &dyn Progress,
) -> RetrievalReport {
    let judged: Vec<&Query> = queries
        .iter()
        .filter(|q| qrels.get(&q.id).is_some_and(|j| j.values().any(|&g| g > 0)))
        .collect();
    progress.stage("retrieval", Some(judged.len() as u64));
    let start = Instant::now();
    let mut run = HashMap::with_capacity(judged.len());
    for q in &judged {
        run.insert(q.id.clone(), search(&q.text));
        progress.advance(1);
    }
    let seconds = start.elapsed().as_secs_f64();
    let missing = qrels
        .iter()
        .filter(|(id, j)| j.values().any(|&g| g > 0) && !run.contains_key(*id))
        .count();
    if missing > 0 {
        progress.message(&format!(
            "{missing} judged queries are not in the queries file; they score 0"
        ));
    }
    RetrievalReport {
        metrics: metrics(&run, qrels),
        seconds,
        queries_per_sec: if seconds > 0.0 {
            judged.len() as f64 / seconds
        } else {
            0.0
        },
    }
}

impl RetrievalReport {
    /// One line: the metrics and speed, labelled with the retriever's name.
    pub fn render_line(&self, name: &str) -> String {
        let m = &self.metrics;
        format!(
            "{name:<10} nDCG@10 {:.4}  R@10 {:.4}  R@100 {:.4}  MRR@10 {:.4}  ({} queries, {:.1} q/s)",
            m.ndcg_at_10, m.recall_at_10, m.recall_at_100, m.mrr_at_10, m.queries, self.queries_per_sec
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_types::NoProgress;

    fn qrels(items: &[(&str, &str, i32)]) -> Qrels {
        let mut q: Qrels = HashMap::new();
        for (a, b, g) in items {
            q.entry(a.to_string())
                .or_default()
                .insert(b.to_string(), *g);
        }
        q
    }

    fn run(items: &[(&str, &[&str])]) -> HashMap<String, Vec<String>> {
        items
            .iter()
            .map(|(q, ds)| (q.to_string(), ds.iter().map(|d| d.to_string()).collect()))
            .collect()
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn perfect_ranking_scores_one() {
        let q = qrels(&[("q1", "d1", 1), ("q1", "d2", 1)]);
        let m = metrics(&run(&[("q1", &["d1", "d2", "d3"])]), &q);
        close(m.ndcg_at_10, 1.0);
        close(m.recall_at_10, 1.0);
        close(m.mrr_at_10, 1.0);
        assert_eq!(m.queries, 1);
    }

    #[test]
    fn hand_computed_single_query() {
        // Relevant: d1, d2. Ranking: x, d1, y, d2.
        // DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3).
        let q = qrels(&[("q", "d1", 1), ("q", "d2", 1), ("q", "dz", 0)]);
        let m = metrics(&run(&[("q", &["x", "d1", "y", "d2"])]), &q);
        let dcg = 1.0 / 3f64.log2() + 1.0 / 5f64.log2();
        let idcg = 1.0 + 1.0 / 3f64.log2();
        close(m.ndcg_at_10, dcg / idcg);
        close(m.mrr_at_10, 0.5);
        close(m.recall_at_10, 1.0);
    }

    #[test]
    fn graded_relevance_uses_grade_as_gain() {
        // Grades 2 and 1; ranking puts the grade-1 doc first.
        let q = qrels(&[("q", "a", 2), ("q", "b", 1)]);
        let m = metrics(&run(&[("q", &["b", "a"])]), &q);
        let dcg = 1.0 + 2.0 / 3f64.log2();
        let idcg = 2.0 + 1.0 / 3f64.log2();
        close(m.ndcg_at_10, dcg / idcg);
    }

    #[test]
    fn recall_at_10_and_100_and_averaging() {
        // q1: relevant r0..r3; r0 at rank 1, r1 at rank 11, r2 at rank 50; r3 missing.
        let mut ranking: Vec<String> = (0..100).map(|i| format!("n{i}")).collect();
        ranking[0] = "r0".into();
        ranking[10] = "r1".into();
        ranking[49] = "r2".into();
        let q = qrels(&[
            ("q1", "r0", 1),
            ("q1", "r1", 1),
            ("q1", "r2", 1),
            ("q1", "r3", 1),
            ("q2", "z", 1),
            ("q3", "only-zero", 0),
        ]);
        let mut r = HashMap::new();
        r.insert("q1".to_string(), ranking);
        // q2 absent from the run: scores 0. q3 has no relevant doc: not counted.
        let m = metrics(&r, &q);
        assert_eq!(m.queries, 2);
        close(m.recall_at_10, (0.25 + 0.0) / 2.0);
        close(m.recall_at_100, (0.75 + 0.0) / 2.0);
        close(m.mrr_at_10, (1.0 + 0.0) / 2.0);
        let idcg = 1.0 + 1.0 / 3f64.log2() + 0.5 + 1.0 / 5f64.log2();
        close(m.ndcg_at_10, (1.0 / idcg) / 2.0);
    }

    #[test]
    fn duplicates_count_once() {
        let q = qrels(&[("q", "a", 1), ("q", "b", 1)]);
        let m = metrics(&run(&[("q", &["a", "a", "b"])]), &q);
        close(m.ndcg_at_10, 1.0);
    }

    #[test]
    fn loaders_read_beir_files() {
        let d = tempfile::tempdir().unwrap();
        let c = d.path().join("corpus.jsonl");
        std::fs::write(&c, "{\"_id\":\"d1\",\"title\":\"Kell dam\",\"text\":\"Finished in 1962.\"}\n{\"_id\":\"d2\",\"text\":\"No title.\"}\n").unwrap();
        let qp = d.path().join("queries.jsonl");
        std::fs::write(
            &qp,
            "{\"_id\":\"q1\",\"text\":\"When was the Kell dam finished?\"}\n",
        )
        .unwrap();
        let r = d.path().join("qrels.tsv");
        std::fs::write(&r, "query-id\tcorpus-id\tscore\nq1\td1\t1\n").unwrap();
        let r4 = d.path().join("qrels.trec");
        std::fs::write(&r4, "q1 0 d1 2\n").unwrap();
        let corpus = load_corpus(&c).unwrap();
        assert_eq!(corpus[1].title, "");
        let queries = load_queries(&qp).unwrap();
        let qrels = load_qrels(&r).unwrap();
        assert_eq!(qrels["q1"]["d1"], 1);
        assert_eq!(load_qrels(&r4).unwrap()["q1"]["d1"], 2);
        let mut search = |text: &str| {
            assert!(text.contains("Kell"));
            vec!["d2".to_string(), "d1".to_string()]
        };
        let rep = eval_retrieval(&queries, &qrels, &mut search, &NoProgress);
        close(rep.metrics.mrr_at_10, 0.5);
        assert!(rep.render_line("bm25").contains("MRR@10 0.5000"));
        let bad = d.path().join("bad.tsv");
        std::fs::write(&bad, "q1\td1\t1\nq2\td2\tx\n").unwrap();
        assert!(load_qrels(&bad).unwrap_err().to_string().contains("line 2"));
    }
}
