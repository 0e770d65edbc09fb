//! Loaders for labelled claim–evidence pairs.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use verity_types::Stance;

use crate::EvalError;

/// One labelled pair. `label` uses Verity's stance names: `Contradicts` is a dataset's
/// "refutes" / "contradiction".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StancePair {
    pub claim: String,
    pub evidence: String,
    pub label: Stance,
}

/// File formats [`load_pairs`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PairFormat {
    /// Decide from the extension and the header or first record.
    Auto,
    /// Verity's JSONL: one object per line with `claim`, `evidence` and `label`
    /// (`supports` | `refutes` | `neutral`; `contradicts`, `entailment`, `contradiction`
    /// are accepted too).
    Jsonl,
    /// SNLI's native JSONL: `sentence1` is the evidence (premise), `sentence2` the claim
    /// (hypothesis), `gold_label` entailment | contradiction | neutral; `-` (no consensus)
    /// is skipped.
    Snli,
    /// HealthVer CSV: columns `id, evidence, claim, label, ...`, labels
    /// Supports | Refutes | Neutral.
    Healthver,
    /// The COVID-Fact / SciFact entailment TSV: `index, sentence1 (evidence), sentence2
    /// (claim), label` with entailment | not_entailment. Binary: not_entailment is loaded
    /// as `Contradicts` and the data set is flagged [`PairSet::binary`].
    Rte,
}

impl PairFormat {
    /// Parses a format name as given on a command line.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "auto" => Self::Auto,
            "jsonl" | "verity" => Self::Jsonl,
            "snli" => Self::Snli,
            "healthver" | "csv" => Self::Healthver,
            "rte" | "tsv" | "covidfact" | "scifact" => Self::Rte,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Jsonl => "jsonl",
            Self::Snli => "snli",
            Self::Healthver => "healthver",
            Self::Rte => "rte",
        }
    }
}

/// Which records to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Every record.
    All,
    /// The first `n` usable records.
    First(usize),
    /// `n` records drawn without replacement with a fixed seed, kept in file order.
    Sample { n: usize, seed: u64 },
}

/// Pairs read from one file.
#[derive(Debug, Clone, PartialEq)]
pub struct PairSet {
    pub path: PathBuf,
    /// The format actually read (never `Auto`).
    pub format: PairFormat,
    pub pairs: Vec<StancePair>,
    /// The gold labels are binary (supports vs not supports): a `Contradicts` gold label
    /// means "does not entail", which may be refutation or missing evidence.
    pub binary: bool,
    /// Records skipped because they have no gold label (e.g. SNLI `-`).
    pub skipped: usize,
    /// Usable records in the file before the limit was applied.
    pub total: usize,
}

/// Reads labelled pairs from `path`.
pub fn load_pairs(path: &Path, format: PairFormat, limit: Limit) -> Result<PairSet, EvalError> {
    let format = match format {
        PairFormat::Auto => detect(path)?,
        f => f,
    };
    let (pairs, skipped) = match format {
        PairFormat::Jsonl => read_jsonl(path)?,
        PairFormat::Snli => read_snli(path)?,
        PairFormat::Healthver => read_healthver(path)?,
        PairFormat::Rte => read_rte(path)?,
        PairFormat::Auto => unreachable_auto(path)?,
    };
    if pairs.is_empty() {
        return Err(EvalError::Empty {
            path: path.to_path_buf(),
            what: "labelled pairs",
        });
    }
    let total = pairs.len();
    let pairs = apply_limit(pairs, limit);
    Ok(PairSet {
        path: path.to_path_buf(),
        format,
        pairs,
        binary: format == PairFormat::Rte,
        skipped,
        total,
    })
}

fn unreachable_auto(path: &Path) -> Result<(Vec<StancePair>, usize), EvalError> {
    Err(EvalError::Format {
        path: path.to_path_buf(),
        message: "format detection returned `auto`".into(),
    })
}

/// Keeps the records `limit` selects, in file order.
pub(crate) fn apply_limit<T>(items: Vec<T>, limit: Limit) -> Vec<T> {
    match limit {
        Limit::All => items,
        Limit::First(n) => items.into_iter().take(n).collect(),
        Limit::Sample { n, seed } => {
            if n >= items.len() {
                return items;
            }
            let mut idx: Vec<usize> = (0..items.len()).collect();
            let mut rng = SplitMix64(seed);
            for i in 0..n {
                let j = i + (rng.next() % (idx.len() - i) as u64) as usize;
                idx.swap(i, j);
            }
            let mut keep = vec![false; items.len()];
            for &i in &idx[..n] {
                keep[i] = true;
            }
            items
                .into_iter()
                .zip(keep)
                .filter_map(|(x, k)| k.then_some(x))
                .collect()
        }
    }
}

/// A tiny deterministic generator, so samples are the same on every machine.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn open(path: &Path) -> Result<BufReader<std::fs::File>, EvalError> {
    std::fs::File::open(path)
        .map(BufReader::new)
        .map_err(|e| EvalError::io(path, e))
}

/// First non-empty line of a file.
fn first_line(path: &Path) -> Result<String, EvalError> {
    for line in open(path)?.lines() {
        let line = line.map_err(|e| EvalError::io(path, e))?;
        if !line.trim().is_empty() {
            return Ok(line);
        }
    }
    Err(EvalError::Empty {
        path: path.to_path_buf(),
        what: "records",
    })
}

fn detect(path: &Path) -> Result<PairFormat, EvalError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let first = first_line(path)?;
    let lower = first.to_ascii_lowercase();
    let fail = |what: &str| EvalError::Format {
        path: path.to_path_buf(),
        message: format!(
            "cannot tell the pair format ({what}); pass one of jsonl, snli, healthver, rte"
        ),
    };
    if first.trim_start().starts_with('{') {
        let v: serde_json::Value =
            serde_json::from_str(&first).map_err(|e| EvalError::parse(path, 1, e.to_string()))?;
        if v.get("sentence1").is_some() && v.get("gold_label").is_some() {
            return Ok(PairFormat::Snli);
        }
        if v.get("claim").is_some() && v.get("evidence").is_some() {
            return Ok(PairFormat::Jsonl);
        }
        return Err(fail(
            "JSON records have neither claim/evidence nor sentence1/gold_label",
        ));
    }
    let cols: Vec<&str> = if ext == "tsv" || lower.contains('\t') {
        lower.split('\t').map(str::trim).collect()
    } else {
        lower.split(',').map(str::trim).collect()
    };
    if cols.contains(&"evidence") && cols.contains(&"claim") && cols.contains(&"label") {
        return Ok(PairFormat::Healthver);
    }
    if cols.contains(&"sentence1") && cols.contains(&"sentence2") {
        return Ok(PairFormat::Rte);
    }
    Err(fail(&format!(
        "extension `{ext}`, header `{}`",
        truncate(&first, 80)
    )))
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

fn parse_label(raw: &str) -> Option<Stance> {
    match raw
        .trim()
        .to_ascii_lowercase()
        .replace([' ', '-'], "_")
        .as_str()
    {
        "supports" | "support" | "supported" | "entailment" | "entails" => Some(Stance::Supports),
        "refutes" | "refute" | "refuted" | "contradicts" | "contradiction" | "contradict" => {
            Some(Stance::Contradicts)
        }
        "neutral" | "not_enough_info" | "nei" => Some(Stance::Neutral),
        _ => None,
    }
}

fn read_jsonl(path: &Path) -> Result<(Vec<StancePair>, usize), EvalError> {
    /// `title` and `before` (the source title and the sentence before the evidence) are
    /// optional; when given, the evidence is shown to the model in Verity's context
    /// format, as briefs show it ([`verity_judge::in_context`]).
    #[derive(Deserialize)]
    struct Rec {
        claim: String,
        evidence: String,
        label: String,
        #[serde(default)]
        title: String,
        #[serde(default)]
        before: String,
    }
    let mut out = Vec::new();
    for (i, line) in open(path)?.lines().enumerate() {
        let line = line.map_err(|e| EvalError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let r: Rec = serde_json::from_str(&line).map_err(|e| {
            EvalError::parse(
                path,
                i + 1,
                format!("expected {{claim, evidence, label}}: {e}"),
            )
        })?;
        let label = parse_label(&r.label).ok_or_else(|| {
            EvalError::parse(
                path,
                i + 1,
                format!("label `{}` is not supports, refutes or neutral", r.label),
            )
        })?;
        let evidence = if r.title.trim().is_empty() && r.before.trim().is_empty() {
            r.evidence
        } else {
            verity_judge::in_context(&r.title, &r.before, &r.evidence)
        };
        out.push(StancePair {
            claim: r.claim,
            evidence,
            label,
        });
    }
    Ok((out, 0))
}

fn read_snli(path: &Path) -> Result<(Vec<StancePair>, usize), EvalError> {
    #[derive(Deserialize)]
    struct Rec {
        sentence1: String,
        sentence2: String,
        gold_label: String,
    }
    let mut out = Vec::new();
    let mut skipped = 0;
    for (i, line) in open(path)?.lines().enumerate() {
        let line = line.map_err(|e| EvalError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let r: Rec = serde_json::from_str(&line)
            .map_err(|e| EvalError::parse(path, i + 1, format!("expected an SNLI record: {e}")))?;
        match parse_label(&r.gold_label) {
            Some(label) => out.push(StancePair {
                claim: r.sentence2,
                evidence: r.sentence1,
                label,
            }),
            None if r.gold_label.trim() == "-" => skipped += 1,
            None => {
                return Err(EvalError::parse(
                    path,
                    i + 1,
                    format!("unknown SNLI gold_label `{}`", r.gold_label),
                ))
            }
        }
    }
    Ok((out, skipped))
}

fn read_healthver(path: &Path) -> Result<(Vec<StancePair>, usize), EvalError> {
    let mut rd = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| csv_err(path, e))?;
    let headers = rd.headers().map_err(|e| csv_err(path, e))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .ok_or_else(|| EvalError::Format {
                path: path.to_path_buf(),
                message: format!(
                    "HealthVer CSV needs a `{name}` column; header is `{}`",
                    headers.iter().collect::<Vec<_>>().join(",")
                ),
            })
    };
    let (ce, cc, cl) = (col("evidence")?, col("claim")?, col("label")?);
    let mut out = Vec::new();
    for (i, rec) in rd.records().enumerate() {
        let rec = rec.map_err(|e| csv_err(path, e))?;
        let line = rec.position().map_or(i + 2, |p| p.line() as usize);
        let get = |c: usize| {
            rec.get(c).map(|s| s.trim().to_string()).ok_or_else(|| {
                EvalError::parse(path, line, format!("record has no column {}", c + 1))
            })
        };
        let raw = get(cl)?;
        let label = parse_label(&raw).ok_or_else(|| {
            EvalError::parse(
                path,
                line,
                format!("label `{raw}` is not Supports, Refutes or Neutral"),
            )
        })?;
        out.push(StancePair {
            claim: get(cc)?,
            evidence: get(ce)?,
            label,
        });
    }
    Ok((out, 0))
}

pub(crate) fn csv_err(path: &Path, e: csv::Error) -> EvalError {
    let line = e.position().map_or(0, |p| p.line() as usize);
    EvalError::parse(path, line, format!("CSV: {e}"))
}

fn read_rte(path: &Path) -> Result<(Vec<StancePair>, usize), EvalError> {
    let mut out = Vec::new();
    let mut lines = open(path)?.lines().enumerate();
    // The header row names the columns; its spelling varies (Sentence2, entailment).
    if let Some((_, h)) = lines.next() {
        let h = h.map_err(|e| EvalError::io(path, e))?;
        if !h.to_ascii_lowercase().contains("sentence1") {
            return Err(EvalError::Format {
                path: path.to_path_buf(),
                message:
                    "entailment TSV must start with a header `index, sentence1, sentence2, label`"
                        .into(),
            });
        }
    }
    for (i, line) in lines {
        let line = line.map_err(|e| EvalError::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 4 {
            return Err(EvalError::parse(
                path,
                i + 1,
                format!("expected 4 tab-separated columns, found {}", cols.len()),
            ));
        }
        let label = match cols[3].trim() {
            "entailment" => Stance::Supports,
            "not_entailment" => Stance::Contradicts,
            other => {
                return Err(EvalError::parse(
                    path,
                    i + 1,
                    format!("label `{other}` is not entailment or not_entailment"),
                ))
            }
        };
        out.push(StancePair {
            claim: cols[2].trim().to_string(),
            evidence: cols[1].trim().to_string(),
            label,
        });
    }
    Ok((out, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_verity_jsonl() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "p.jsonl",
            "{\"claim\":\"The Orland ferry runs daily.\",\"evidence\":\"The Orland ferry sails every day.\",\"label\":\"supports\"}\n\n\
             {\"claim\":\"c\",\"evidence\":\"e\",\"label\":\"refutes\"}\n\
             {\"claim\":\"c\",\"evidence\":\"e\",\"label\":\"neutral\"}\n",
        );
        let s = load_pairs(&p, PairFormat::Auto, Limit::All).unwrap();
        assert_eq!(s.format, PairFormat::Jsonl);
        assert!(!s.binary);
        let labels: Vec<Stance> = s.pairs.iter().map(|p| p.label).collect();
        assert_eq!(
            labels,
            vec![Stance::Supports, Stance::Contradicts, Stance::Neutral]
        );
        assert_eq!(s.pairs[0].claim, "The Orland ferry runs daily.");
    }

    #[test]
    fn jsonl_context_is_rendered_in_the_context_format() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "c.jsonl",
            r#"{"claim":"Port Vellan is coastal.","evidence":"It lies on the coast.","title":"Port Vellan","before":"Port Vellan is a town.","label":"supports"}
{"claim":"B.","evidence":"C.","label":"neutral"}
"#,
        );
        let s = load_pairs(&p, PairFormat::Jsonl, Limit::All).unwrap();
        assert_eq!(
            s.pairs[0].evidence,
            "Port Vellan: Port Vellan is a town. It lies on the coast."
        );
        assert_eq!(s.pairs[1].evidence, "C.");
    }

    #[test]
    fn bad_jsonl_label_names_the_line() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "p.jsonl",
            "{\"claim\":\"c\",\"evidence\":\"e\",\"label\":\"maybe\"}\n",
        );
        let err = load_pairs(&p, PairFormat::Jsonl, Limit::All).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
        assert!(err.to_string().contains("maybe"), "{err}");
    }

    #[test]
    fn reads_snli_and_skips_no_consensus() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "snli.jsonl",
            "{\"gold_label\":\"contradiction\",\"sentence1\":\"A dog sleeps.\",\"sentence2\":\"A dog runs.\"}\n\
             {\"gold_label\":\"-\",\"sentence1\":\"x\",\"sentence2\":\"y\"}\n\
             {\"gold_label\":\"entailment\",\"sentence1\":\"A dog sleeps on a mat.\",\"sentence2\":\"A dog sleeps.\"}\n",
        );
        let s = load_pairs(&p, PairFormat::Auto, Limit::All).unwrap();
        assert_eq!(s.format, PairFormat::Snli);
        assert_eq!(s.skipped, 1);
        assert_eq!(s.pairs.len(), 2);
        assert_eq!(s.pairs[0].evidence, "A dog sleeps.");
        assert_eq!(s.pairs[0].claim, "A dog runs.");
        assert_eq!(s.pairs[0].label, Stance::Contradicts);
    }

    #[test]
    fn reads_healthver_csv_with_quoted_commas() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "hv.csv",
            "id,evidence,claim,label,topic_ip,question\n\
             1,\"In Varrow, the trial found no effect, overall.\",Tonic X cures colds,Refutes,3,q\n\
             2,\"Line one\nline two\",Claim two,Neutral ,3,q\n\
             3,Evidence three,Claim three,Supports,3,q\n",
        );
        let s = load_pairs(&p, PairFormat::Auto, Limit::All).unwrap();
        assert_eq!(s.format, PairFormat::Healthver);
        assert_eq!(s.pairs.len(), 3);
        assert_eq!(
            s.pairs[0].evidence,
            "In Varrow, the trial found no effect, overall."
        );
        assert_eq!(s.pairs[0].label, Stance::Contradicts);
        assert_eq!(s.pairs[1].label, Stance::Neutral);
        assert_eq!(s.pairs[2].claim, "Claim three");
    }

    #[test]
    fn reads_rte_tsv_as_binary() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "dev.tsv",
            "index\tsentence1\tSentence2\tentailment\n\
             0\tThe Kell dam was finished in 1962.\tThe Kell dam was finished in 1962\tentailment\n\
             1\tThe Kell dam was finished in 1962.\tThe Kell dam was finished in 1975\tnot_entailment\n",
        );
        let s = load_pairs(&p, PairFormat::Auto, Limit::All).unwrap();
        assert_eq!(s.format, PairFormat::Rte);
        assert!(s.binary);
        assert_eq!(s.pairs[1].label, Stance::Contradicts);
        assert_eq!(s.pairs[1].claim, "The Kell dam was finished in 1975");
    }

    #[test]
    fn unknown_format_says_what_to_pass() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "x.csv", "a,b,c\n1,2,3\n");
        let err = load_pairs(&p, PairFormat::Auto, Limit::All).unwrap_err();
        assert!(
            err.to_string().contains("jsonl, snli, healthver, rte"),
            "{err}"
        );
    }

    #[test]
    fn limits_first_and_seeded_sample() {
        let v: Vec<u32> = (0..100).collect();
        assert_eq!(apply_limit(v.clone(), Limit::First(3)), vec![0, 1, 2]);
        let a = apply_limit(v.clone(), Limit::Sample { n: 10, seed: 7 });
        let b = apply_limit(v.clone(), Limit::Sample { n: 10, seed: 7 });
        let c = apply_limit(v.clone(), Limit::Sample { n: 10, seed: 8 });
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 10);
        assert!(a.windows(2).all(|w| w[0] < w[1]), "sample keeps file order");
        assert_eq!(
            apply_limit(v.clone(), Limit::Sample { n: 500, seed: 1 }).len(),
            100
        );
    }

    #[test]
    fn format_names_parse() {
        assert_eq!(PairFormat::parse("HealthVer"), Some(PairFormat::Healthver));
        assert_eq!(PairFormat::parse("covidfact"), Some(PairFormat::Rte));
        assert_eq!(PairFormat::parse("xml"), None);
    }
}
