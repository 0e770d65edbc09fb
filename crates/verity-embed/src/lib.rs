//! Sentence embeddings for Verity's dense retrieval.
//!
//! [`Embedder`] is the trait the rest of Verity talks to: texts in, unit-length vectors out,
//! so that a dot product is the cosine similarity. [`MiniLmEmbedder`] implements it with
//! all-MiniLM-L6-v2 running locally (pure Rust, f32 safetensors weights, no network):
//! WordPiece tokenisation truncated to 256 tokens, a 6-layer BERT encoder
//! ([`verity_models::bert::BertEncoder`], which the stance cross-encoder runs too), mean
//! pooling over real tokens, L2 normalisation.
//!
//! ```no_run
//! use std::path::Path;
//! use verity_embed::{cosine, Embedder, MiniLmEmbedder};
//! let model = MiniLmEmbedder::load(Path::new("verity-data/models/all-minilm-l6-v2"))?;
//! let v = model.embed(&["The Tarnwick ferry runs hourly.", "Boats leave Tarnwick every hour."])?;
//! assert!(cosine(&v[0], &v[1]) > 0.5);
//! # Ok::<(), verity_embed::EmbedError>(())
//! ```
//!
//! Throughput comes from four things: texts are sorted by length and batched; a batch
//! concatenates its sequences instead of padding them, so no work is spent on padding;
//! batches run on all cores at once (each batch on its own thread, which beats splitting
//! small matrix products across threads); and the crate is meant to be built with
//! `-C target-cpu=native` (the workspace's `.cargo/config.toml`) for AVX2/FMA kernels.
//!
//! With the `candle` feature, [`candle_ref::CandleBert`] runs the same weights through
//! candle-transformers' `BertModel`; the tests use it to cross-check this implementation.

#[cfg(feature = "candle")]
pub mod candle_ref;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

pub use verity_models::bert::{read_safetensors, BertConfig, BertEncoder, BertError, Sequence};

/// Turns texts into unit-length vectors (cosine similarity = dot product).
pub trait Embedder: Send + Sync {
    /// Stable name of the model, stored next to vectors so a library never mixes models.
    fn name(&self) -> &str;
    /// Length of every vector this embedder returns.
    fn dim(&self) -> usize;
    /// One L2-normalised vector per text, in input order. An empty text gives the
    /// embedding of an empty sentence, not an error.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// What went wrong loading or running an embedding model.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "cannot read {path}: {reason}; reinstall the model with `bash scripts/setup-models.sh`"
    )]
    Read { path: PathBuf, reason: String },
    #[error("{path} is not a usable model file: {reason}; reinstall the model with `bash scripts/setup-models.sh`")]
    Model { path: PathBuf, reason: String },
    #[error("tokenising the input failed: {0}")]
    Tokenize(String),
    #[error("running the embedding model failed: {0}")]
    Inference(String),
}

impl From<BertError> for EmbedError {
    fn from(e: BertError) -> Self {
        match e {
            BertError::Read { path, reason } => EmbedError::Read { path, reason },
            BertError::Model { path, reason } => EmbedError::Model { path, reason },
            BertError::Inference(m) => EmbedError::Inference(m),
        }
    }
}

/// Cosine similarity of two vectors; 0 when either is all zeros or lengths differ.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0f32, 0f32, 0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// Scale a vector to unit length in place (left as is when all zeros).
pub fn l2_normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Name under which MiniLM vectors are stored.
pub const MINILM_MODEL_NAME: &str = "all-MiniLM-L6-v2";

/// all-MiniLM-L6-v2 on the shared BERT encoder.
pub struct MiniLmEmbedder {
    encoder: BertEncoder,
    tokenizer: Tokenizer,
    max_tokens: usize,
    batch_size: usize,
}

impl MiniLmEmbedder {
    /// Longest input in tokens (including `[CLS]` and `[SEP]`); longer text is truncated.
    pub const MAX_TOKENS: usize = 256;
    /// Texts per forward pass.
    pub const BATCH_SIZE: usize = 32;

    /// Load from a directory holding `model.safetensors`, `tokenizer.json`, `config.json`
    /// (as installed by `scripts/setup-models.sh`; see `verity_models::ModelDir::minilm`).
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let encoder = BertEncoder::load(dir)?;
        let tok_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| {
            if tok_path.is_file() {
                EmbedError::Model {
                    path: tok_path.clone(),
                    reason: e.to_string(),
                }
            } else {
                EmbedError::Read {
                    path: tok_path.clone(),
                    reason: "file not found".into(),
                }
            }
        })?;
        // The shipped tokenizer pads every input to 128 tokens and truncates there; we pad
        // per batch ourselves and allow the model's full 256-token window.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: Self::MAX_TOKENS,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| EmbedError::Model {
                path: tok_path,
                reason: e.to_string(),
            })?;
        Ok(MiniLmEmbedder {
            encoder,
            tokenizer,
            max_tokens: Self::MAX_TOKENS,
            batch_size: Self::BATCH_SIZE,
        })
    }

    /// Change the number of texts per forward pass (at least 1).
    pub fn with_batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Token count of a text after truncation (including special tokens).
    pub fn token_count(&self, text: &str) -> Result<usize, EmbedError> {
        Ok(self.tokenize(&[text])?[0].len())
    }

    pub(crate) fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
        Ok(encodings
            .into_iter()
            .map(|e| {
                let mut ids = e.get_ids().to_vec();
                ids.truncate(self.max_tokens);
                ids
            })
            .collect())
    }
}

impl Embedder for MiniLmEmbedder {
    fn name(&self) -> &str {
        MINILM_MODEL_NAME
    }

    fn dim(&self) -> usize {
        self.encoder.hidden_size()
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let ids = self.tokenize(texts)?;
        // Longest first, so similar lengths share a batch; the biggest batches start first,
        // which balances the threads. Small inputs are split so every core gets a share.
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
        let per_thread = ids.len().div_ceil(rayon::current_num_threads().max(1));
        let size = self.batch_size.min(per_thread).max(1);
        let batches: Vec<&[usize]> = order.chunks(size).collect();
        let run = |batch: &&[usize]| -> Result<Vec<Vec<f32>>, EmbedError> {
            let seqs: Vec<Sequence<'_>> = batch
                .iter()
                .map(|&i| Sequence {
                    ids: &ids[i],
                    type_ids: &[],
                })
                .collect();
            let mut vecs = self.encoder.mean_pooled(&seqs)?;
            vecs.iter_mut().for_each(|v| l2_normalize(v));
            Ok(vecs)
        };
        // One batch (a search query) runs on the calling thread: handed to the shared
        // thread pool it would queue behind an ingest's embedding batches, and a query
        // would wait for them.
        let results: Vec<Vec<Vec<f32>>> = if batches.len() == 1 {
            batches.iter().map(run).collect::<Result<_, EmbedError>>()?
        } else {
            batches
                .par_iter()
                .map(run)
                .collect::<Result<_, EmbedError>>()?
        };
        let mut out = vec![Vec::new(); texts.len()];
        for (batch, vecs) in batches.iter().zip(results) {
            for (&i, v) in batch.iter().zip(vecs) {
                out[i] = v;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "candle")]
    #[test]
    fn matches_candle_bert_model() {
        let installed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../verity-data/models");
        let dir = std::env::var_os("VERITY_MODELS")
            .map_or(installed, std::path::PathBuf::from)
            .join("all-minilm-l6-v2");
        if !dir.join("model.safetensors").is_file() {
            eprintln!("NOTICE: skipping candle cross-check: no MiniLM weights");
            return;
        }
        let ours = MiniLmEmbedder::load(&dir).unwrap();
        let theirs = candle_ref::CandleBert::load(&dir).unwrap();
        let texts = [
            "A man is eating food.",
            "The Quillmoor council voted to close the old bridge for repairs after inspectors found cracks.",
            "",
        ];
        let a = ours.embed(&texts).unwrap();
        let ids = ours.tokenize(&texts).unwrap();
        let seqs: Vec<&[u32]> = ids.iter().map(|v| v.as_slice()).collect();
        let b = theirs.embed_batch(&seqs).unwrap();
        for (x, y) in a.iter().zip(&b) {
            let c = cosine(x, y);
            assert!(c > 0.99999, "cosine to candle {c}");
        }
    }

    #[test]
    fn cosine_basics() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 1.0]).abs() < 1e-6);
        assert!((cosine(&[1.0, 1.0], &[-1.0, -1.0]) + 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
    }

    #[test]
    fn normalize_gives_unit_length() {
        let mut v = vec![3.0, 4.0];
        l2_normalize(&mut v);
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        let mut z = vec![0.0, 0.0];
        l2_normalize(&mut z);
        assert_eq!(z, vec![0.0, 0.0]);
    }

    #[test]
    fn missing_model_dir_is_a_read_error() {
        let err = match MiniLmEmbedder::load(Path::new("/nonexistent/minilm")) {
            Err(e) => e,
            Ok(_) => panic!("loaded a model from nowhere"),
        };
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/minilm"), "{msg}");
        assert!(msg.contains("setup-models.sh"), "{msg}");
    }
}
