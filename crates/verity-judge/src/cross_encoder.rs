//! Verity's neural stance model: a MiniLM-L6 cross-encoder on the shared BERT encoder.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;
use tokenizers::Tokenizer;
use verity_types::StanceScores;

use crate::windows::{plan_windows, sentence_spans};
use crate::{JudgeError, StanceModel};
use verity_models::bert::{
    read_safetensors, tensor_f32, BertConfig, BertEncoder, BertError, Sequence,
};

/// The Verity-specific part of the model's `config.json` (the rest is a BERT config).
#[derive(Debug, Clone, Deserialize)]
pub struct StanceConfig {
    /// Logits are divided by this before the softmax (fitted on held-out data).
    #[serde(default = "one")]
    pub temperature: f32,
    /// Most tokens in one input, special tokens included.
    #[serde(default = "default_max_length")]
    pub max_length: usize,
    /// Output index → label name (`supports`, `contradicts`, `neutral`).
    #[serde(default)]
    pub id2label: HashMap<String, String>,
    /// Pooling over the last hidden states; only `mean` is supported.
    #[serde(default)]
    pub pooling: Option<String>,
    /// Training metadata written by the recipe (step, examples seen, `partial`).
    #[serde(default)]
    pub training: Option<serde_json::Value>,
}

fn one() -> f32 {
    1.0
}
fn default_max_length() -> usize {
    128
}

/// The result of scoring one pair, with the evidence window that decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredPair {
    /// Probabilities of the deciding window.
    pub scores: StanceScores,
    /// Char range of the deciding window inside the evidence (the whole evidence when it
    /// fits in one input).
    pub window: Range<usize>,
    /// How many windows the evidence was split into.
    pub windows: usize,
}

/// Verity's cross-encoder stance model (MiniLM-L6, 3 labels), run on the CPU by the
/// BERT encoder the embedder also uses ([`verity_models::bert`]).
///
/// Input is `[CLS] claim [SEP] evidence [SEP]` with token type 0 for the claim part and 1
/// for the evidence part; the last hidden states are mean-pooled over real tokens, a
/// linear head gives logits, which are divided by the calibrated temperature before the
/// softmax. This matches `training/train_stance.py` exactly.
///
/// **Long evidence.** When the claim and the evidence do not fit in `max_length` tokens,
/// the evidence is split into sentences and scored in windows of up to three consecutive
/// sentences that fit, consecutive windows sharing one sentence. The pair gets the
/// probabilities of the window with the strongest non-neutral signal, i.e. the highest
/// `max(supports, contradicts)`: one passage sentence that settles the claim decides it,
/// the rest of the passage being neutral does not dilute it. A single sentence longer than
/// the window is truncated. Claims longer than three quarters of the window are truncated.
///
/// **Speed.** All windows of a call are tokenized up front and packed end to end into
/// batches of about [`CrossEncoderStance::with_batch_tokens`] tokens (no padding at all,
/// see [`verity_models::bert`]); batches run in parallel on the rayon pool, one per core.
pub struct CrossEncoderStance {
    encoder: BertEncoder,
    /// Head weights `[3, hidden]` and bias `[3]`.
    head_w: Vec<f32>,
    head_b: Vec<f32>,
    tokenizer: Tokenizer,
    config: StanceConfig,
    /// Model output index for supports, contradicts, neutral.
    order: [usize; 3],
    cls: u32,
    sep: u32,
    batch_tokens: usize,
    name: String,
}

/// One model input: a claim with one window of evidence.
struct Segment {
    pair: usize,
    ids: Vec<u32>,
    type_ids: Vec<u32>,
    /// Byte range of the window in the evidence.
    window: Range<usize>,
}

impl CrossEncoderStance {
    /// Loads `model.safetensors` and `config.json` from `model_dir` (fp16 or f32 weights,
    /// HF `BertModel` tensor names plus `classifier.weight` / `classifier.bias`) and the
    /// tokenizer from `tokenizer_json`.
    pub fn load(model_dir: &Path, tokenizer_json: &Path) -> Result<Self, JudgeError> {
        let weights_path = model_dir.join("model.safetensors");
        let config_path = model_dir.join("config.json");
        for p in [&weights_path, &config_path, &tokenizer_json.to_path_buf()] {
            if !p.is_file() {
                return Err(JudgeError::ModelMissing { path: p.clone() });
            }
        }
        let config_text = read(&config_path)?;
        let bert_config: BertConfig =
            serde_json::from_str(&config_text).map_err(|e| JudgeError::Config {
                path: config_path.clone(),
                message: format!("not a BERT config: {e}"),
            })?;
        let config: StanceConfig =
            serde_json::from_str(&config_text).map_err(|e| JudgeError::Config {
                path: config_path.clone(),
                message: e.to_string(),
            })?;
        let config_err = |message: String| JudgeError::Config {
            path: config_path.clone(),
            message,
        };
        if let Some(p) = &config.pooling {
            if p != "mean" {
                return Err(config_err(format!(
                    "pooling `{p}` is not supported (only `mean`)"
                )));
            }
        }
        if !(config.temperature.is_finite() && config.temperature > 0.0) {
            return Err(config_err(format!(
                "temperature {} must be a positive number",
                config.temperature
            )));
        }
        if config.max_length < 16 || config.max_length > bert_config.max_position_embeddings {
            return Err(config_err(format!(
                "max_length {} must be between 16 and {}",
                config.max_length, bert_config.max_position_embeddings
            )));
        }
        let order = label_order(&config.id2label).map_err(config_err)?;

        bert_config.validate().map_err(config_err)?;
        let weights_err = |source| JudgeError::Weights {
            path: weights_path.clone(),
            source,
        };
        let bad_weights = |reason: String| {
            weights_err(BertError::Model {
                path: weights_path.clone(),
                reason,
            })
        };
        let tensors = read_safetensors(&weights_path).map_err(weights_err)?;
        let h = bert_config.hidden_size;
        let encoder = BertEncoder::from_tensors(&tensors, &bert_config).map_err(bad_weights)?;
        let head_w = tensor_f32(&tensors, "classifier.weight", &[3, h]).map_err(bad_weights)?;
        let head_b = tensor_f32(&tensors, "classifier.bias", &[3]).map_err(bad_weights)?;
        drop(tensors);

        let mut tokenizer =
            Tokenizer::from_file(tokenizer_json).map_err(|e| JudgeError::Tokenizer {
                path: tokenizer_json.to_path_buf(),
                message: e.to_string(),
            })?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| JudgeError::Tokenizer {
                path: tokenizer_json.to_path_buf(),
                message: e.to_string(),
            })?;
        let special = |t: &str| {
            tokenizer
                .token_to_id(t)
                .ok_or_else(|| JudgeError::Tokenizer {
                    path: tokenizer_json.to_path_buf(),
                    message: format!("the vocabulary has no `{t}` token"),
                })
        };
        let (cls, sep) = (special("[CLS]")?, special("[SEP]")?);
        let partial = config
            .training
            .as_ref()
            .and_then(|t| t.get("partial"))
            .and_then(|p| p.as_bool())
            .unwrap_or(false);
        let name = if partial {
            "verity-stance (cross-encoder, partial checkpoint)".to_string()
        } else {
            "verity-stance (cross-encoder)".to_string()
        };
        Ok(Self {
            encoder,
            head_w,
            head_b,
            tokenizer,
            config,
            order,
            cls,
            sep,
            batch_tokens: 2048,
            name,
        })
    }

    /// The model's configuration (temperature, max length, training metadata).
    pub fn config(&self) -> &StanceConfig {
        &self.config
    }

    /// Sets about how many tokens run in one forward pass (default 2048). Small calls are
    /// split further so that every core gets a batch.
    pub fn with_batch_tokens(mut self, tokens: usize) -> Self {
        self.batch_tokens = tokens.max(1);
        self
    }

    /// Scores each pair and reports which evidence window decided it (see the type docs
    /// for the window rule).
    pub fn score_detailed(&self, pairs: &[(&str, &str)]) -> Result<Vec<ScoredPair>, JudgeError> {
        if pairs.is_empty() {
            return Ok(Vec::new());
        }
        let segments = self.segments(pairs)?;
        let probs = self.run_segments(&segments)?;
        // Segments of one pair are consecutive; pick the deciding window of each pair.
        let mut best: Vec<Option<(usize, usize)>> = vec![None; pairs.len()];
        let mut start = 0;
        while start < segments.len() {
            let pair = segments[start].pair;
            let end = segments[start..]
                .iter()
                .position(|s| s.pair != pair)
                .map_or(segments.len(), |n| start + n);
            best[pair] = Some((start + pick_window(&probs[start..end]), end - start));
            start = end;
        }
        pairs
            .iter()
            .enumerate()
            .map(|(i, (_, evidence))| {
                let (k, count) = best[i].ok_or_else(|| {
                    JudgeError::Tokenize(format!("pair {i} produced no model input"))
                })?;
                let w = &segments[k].window;
                let start = evidence[..w.start].chars().count();
                let len = evidence[w.clone()].chars().count();
                Ok(ScoredPair {
                    scores: probs[k],
                    window: start..start + len,
                    windows: count,
                })
            })
            .collect()
    }

    /// Tokenizes every pair into one or more segments (windows).
    fn segments(&self, pairs: &[(&str, &str)]) -> Result<Vec<Segment>, JudgeError> {
        let max_len = self.config.max_length;
        let claims: Vec<&str> = pairs.iter().map(|p| p.0).collect();
        let evidences: Vec<&str> = pairs.iter().map(|p| p.1).collect();
        let tok_err = |e: tokenizers::Error| JudgeError::Tokenize(e.to_string());
        let claim_enc = self
            .tokenizer
            .encode_batch(claims, false)
            .map_err(tok_err)?;
        let ev_enc = self
            .tokenizer
            .encode_batch(evidences, false)
            .map_err(tok_err)?;
        let mut out = Vec::with_capacity(pairs.len());
        for (i, ((_, evidence), (c, e))) in pairs
            .iter()
            .zip(claim_enc.iter().zip(ev_enc.iter()))
            .enumerate()
        {
            let claim_cap = (max_len - 3) * 3 / 4;
            let claim_ids = &c.get_ids()[..c.get_ids().len().min(claim_cap)];
            let budget = max_len - 3 - claim_ids.len();
            let ev_ids = e.get_ids();
            let offsets = e.get_offsets();
            let mut push = |tok: Range<usize>, window: Range<usize>| {
                let tok = tok.start..tok.end.min(tok.start + budget);
                let mut ids = Vec::with_capacity(claim_ids.len() + tok.len() + 3);
                ids.push(self.cls);
                ids.extend_from_slice(claim_ids);
                ids.push(self.sep);
                let n0 = ids.len();
                ids.extend_from_slice(&ev_ids[tok]);
                ids.push(self.sep);
                let mut type_ids = vec![0u32; n0];
                type_ids.resize(ids.len(), 1);
                out.push(Segment {
                    pair: i,
                    ids,
                    type_ids,
                    window,
                });
            };
            if ev_ids.len() <= budget {
                push(0..ev_ids.len(), 0..evidence.len());
                continue;
            }
            // Token range of each sentence: tokens whose start byte lies in it.
            let spans = sentence_spans(evidence);
            let mut sent_tok: Vec<Range<usize>> = Vec::with_capacity(spans.len());
            let mut sent_bytes: Vec<Range<usize>> = Vec::with_capacity(spans.len());
            let mut t = 0;
            for s in &spans {
                let start = t;
                while t < offsets.len() && offsets[t].0 < s.end {
                    t += 1;
                }
                if t > start {
                    sent_tok.push(start..t);
                    sent_bytes.push(s.clone());
                }
            }
            if t < offsets.len() {
                // Trailing tokens beyond the last sentence span (should not happen).
                if let (Some(last), Some(lb)) = (sent_tok.last_mut(), sent_bytes.last_mut()) {
                    last.end = offsets.len();
                    lb.end = evidence.len();
                }
            }
            let counts: Vec<usize> = sent_tok.iter().map(|r| r.len()).collect();
            for w in plan_windows(&counts, budget) {
                let tok = sent_tok[w.start].start..sent_tok[w.end - 1].end;
                let mut bytes = sent_bytes[w.start].start..sent_bytes[w.end - 1].end;
                if tok.len() > budget {
                    // Truncated window: end the char range at the last token kept.
                    bytes.end = offsets[tok.start + budget - 1].1.max(bytes.start);
                }
                trim_range(evidence, &mut bytes);
                push(tok, bytes);
            }
        }
        Ok(out)
    }

    /// Runs all segments through the model in packed batches spread over the rayon pool;
    /// returns calibrated probabilities in segment order.
    fn run_segments(&self, segments: &[Segment]) -> Result<Vec<StanceScores>, JudgeError> {
        let total: usize = segments.iter().map(|s| s.ids.len()).sum();
        let threads = rayon::current_num_threads().max(1);
        let per_batch = self.batch_tokens.min(total.div_ceil(threads)).max(1);
        let mut batches: Vec<&[Segment]> = Vec::new();
        let mut start = 0;
        let mut tokens = 0;
        for (k, s) in segments.iter().enumerate() {
            if k > start && tokens + s.ids.len() > per_batch {
                batches.push(&segments[start..k]);
                start = k;
                tokens = 0;
            }
            tokens += s.ids.len();
        }
        if start < segments.len() {
            batches.push(&segments[start..]);
        }
        let results: Vec<Result<Vec<StanceScores>, JudgeError>> =
            batches.par_iter().map(|b| self.forward_batch(b)).collect();
        let mut out = Vec::with_capacity(segments.len());
        for r in results {
            out.extend(r?);
        }
        Ok(out)
    }

    fn forward_batch(&self, batch: &[Segment]) -> Result<Vec<StanceScores>, JudgeError> {
        let seqs: Vec<Sequence<'_>> = batch
            .iter()
            .map(|s| Sequence {
                ids: &s.ids,
                type_ids: &s.type_ids,
            })
            .collect();
        let pooled = self.encoder.mean_pooled(&seqs)?;
        let h = self.encoder.hidden_size();
        let inv_t = 1.0 / self.config.temperature;
        Ok(pooled
            .iter()
            .map(|x| {
                let mut logits = [0f32; 3];
                for (c, l) in logits.iter_mut().enumerate() {
                    let w = &self.head_w[c * h..(c + 1) * h];
                    *l =
                        (w.iter().zip(x).map(|(a, b)| a * b).sum::<f32>() + self.head_b[c]) * inv_t;
                }
                let p = softmax3(logits);
                StanceScores {
                    supports: p[self.order[0]],
                    contradicts: p[self.order[1]],
                    neutral: p[self.order[2]],
                }
            })
            .collect())
    }
}

/// The aggregation rule for long evidence: the window with the strongest non-neutral
/// signal, `max(supports, contradicts)`, decides; ties go to the earlier window.
pub(crate) fn pick_window(windows: &[StanceScores]) -> usize {
    let mut best = 0;
    let mut best_strength = f32::NEG_INFINITY;
    for (i, p) in windows.iter().enumerate() {
        let strength = p.supports.max(p.contradicts);
        if strength > best_strength {
            best = i;
            best_strength = strength;
        }
    }
    best
}

fn softmax3(l: [f32; 3]) -> [f32; 3] {
    let m = l[0].max(l[1]).max(l[2]);
    let e = l.map(|v| (v - m).exp());
    let s = e[0] + e[1] + e[2];
    e.map(|v| v / s)
}

impl StanceModel for CrossEncoderStance {
    fn name(&self) -> &str {
        &self.name
    }
    fn is_neural(&self) -> bool {
        true
    }
    fn token_cost(&self, text: &str) -> usize {
        match self.tokenizer.encode(text, false) {
            Ok(enc) => enc.len(),
            Err(_) => crate::estimate_tokens(text),
        }
    }
    fn score(&self, pairs: &[(&str, &str)]) -> Result<Vec<StanceScores>, JudgeError> {
        Ok(self
            .score_detailed(pairs)?
            .into_iter()
            .map(|s| s.scores)
            .collect())
    }
}

fn read(path: &PathBuf) -> Result<String, JudgeError> {
    std::fs::read_to_string(path).map_err(|source| JudgeError::Io {
        path: path.clone(),
        source,
    })
}

/// Shrinks a byte range so it does not start or end with whitespace.
fn trim_range(text: &str, r: &mut Range<usize>) {
    let s = &text[r.clone()];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    if lead + trail < s.len() {
        r.start += lead;
        r.end -= trail;
    }
}

/// Maps `id2label` to the output index of supports, contradicts and neutral. An empty map
/// means the recipe's order (0 supports, 1 contradicts, 2 neutral).
fn label_order(id2label: &HashMap<String, String>) -> Result<[usize; 3], String> {
    if id2label.is_empty() {
        return Ok([0, 1, 2]);
    }
    let mut order = [usize::MAX; 3];
    for (id, label) in id2label {
        let idx: usize = id
            .parse()
            .map_err(|_| format!("id2label key `{id}` is not a number"))?;
        if idx > 2 {
            return Err(format!(
                "id2label has index {idx}; a stance model has 3 outputs"
            ));
        }
        let slot = match label.to_ascii_lowercase().as_str() {
            "supports" | "support" | "entailment" | "supported" => 0,
            "contradicts" | "refutes" | "contradiction" | "refuted" => 1,
            "neutral" | "not_enough_info" | "nei" => 2,
            other => return Err(format!("id2label has unknown label `{other}`")),
        };
        order[slot] = idx;
    }
    if order.contains(&usize::MAX) {
        return Err("id2label must name supports, contradicts and neutral".to_string());
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_order_reads_id2label() {
        let m: HashMap<String, String> = [("0", "neutral"), ("1", "supports"), ("2", "refutes")]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(label_order(&m), Ok([1, 2, 0]));
        assert_eq!(label_order(&HashMap::new()), Ok([0, 1, 2]));
        let bad: HashMap<String, String> = [("0".to_string(), "maybe".to_string())].into();
        assert!(label_order(&bad).is_err());
    }

    #[test]
    fn strongest_non_neutral_window_decides() {
        let p = |s: f32, c: f32| StanceScores {
            supports: s,
            contradicts: c,
            neutral: 1.0 - s - c,
        };
        // A neutral window, a weak support, a strong contradiction: the contradiction wins.
        assert_eq!(pick_window(&[p(0.05, 0.05), p(0.4, 0.1), p(0.1, 0.8)]), 2);
        // All neutral: the least neutral one, first on ties.
        assert_eq!(pick_window(&[p(0.1, 0.1), p(0.1, 0.1)]), 0);
        assert_eq!(pick_window(&[p(0.6, 0.1)]), 0);
    }

    #[test]
    fn trim_range_drops_whitespace() {
        let t = "  abc  ";
        let mut r = 0..t.len();
        trim_range(t, &mut r);
        assert_eq!(&t[r], "abc");
    }

    #[test]
    fn missing_model_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let err = CrossEncoderStance::load(dir.path(), &dir.path().join("tokenizer.json"))
            .err()
            .unwrap();
        assert!(matches!(err, JudgeError::ModelMissing { .. }));
        assert!(err.to_string().contains("model.safetensors"));
    }
}
