//! Verity's one BERT encoder, shared by the sentence embedder (`verity-embed`, MiniLM with
//! mean pooling) and the stance cross-encoder (`verity-judge`, MiniLM with a linear head):
//! `config.json` and safetensors loading, embeddings, layers, and attention limited to each
//! sequence's own tokens (so no attention mask and no padding).
//!
//! candle's `BertModel` pads every batch to a rectangle, computes GELU with a scalar `erf`
//! and runs each element-wise step as a separate pass with its own thread hand-off. On a
//! 2-core machine that leaves the matrix multiplications at well under half of the time.
//! This encoder calls the GEMM candle uses (the `gemm` crate, the one `unsafe` call here,
//! behind a wrapper that checks every view against its buffer first) and does the rest
//! itself; weights are read with the `safetensors` crate. candle itself is not linked
//! (it was the largest crate of a release build, for one function):
//!
//! - sequences of a batch are packed end to end (no padding tokens at all); the dense
//!   layers run over all packed tokens at once and attention runs per sequence;
//! - Q, K and V come from one fused matrix multiplication;
//! - bias, GELU, residual and layer norm are fused loops with a vectorisable `erf` and
//!   `exp`, so the compiler emits AVX2/FMA code under `target-cpu=native`.
//!
//! The result matches HF `BertModel` / candle `BertModel` to float rounding (checked in
//! `verity-judge`'s tests against candle). Callers run whole batches in parallel.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The BERT hyper-parameters this encoder needs (a subset of HF `config.json`).
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_act")]
    pub hidden_act: String,
}

fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_act() -> String {
    "gelu".to_string()
}

/// What went wrong loading or running a BERT model. The callers wrap it in their own error
/// with what to do next (reinstall the model).
#[derive(Debug, thiserror::Error)]
pub enum BertError {
    #[error("cannot read {}: {reason}", path.display())]
    Read { path: PathBuf, reason: String },
    #[error("{} is not a usable model file: {reason}", path.display())]
    Model { path: PathBuf, reason: String },
    #[error("{0}")]
    Inference(String),
}

impl BertConfig {
    /// Read and check a `config.json`.
    pub fn read(path: &Path) -> Result<Self, BertError> {
        let text = std::fs::read_to_string(path).map_err(|e| BertError::Read {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let bad = |reason: String| BertError::Model {
            path: path.to_path_buf(),
            reason,
        };
        let cfg: BertConfig = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        cfg.validate().map_err(bad)?;
        Ok(cfg)
    }

    /// Whether the encoder can run this configuration; the reason when it cannot.
    pub fn validate(&self) -> Result<(), String> {
        if self.hidden_act != "gelu" {
            return Err(format!(
                "hidden_act `{}` is not supported (only `gelu`)",
                self.hidden_act
            ));
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err("hidden_size must be a multiple of num_attention_heads".into());
        }
        Ok(())
    }
}

/// The float tensors of a safetensors file by name, as f32 values in row-major order with
/// their shapes (f32, f16, bf16 and f64 are read; other dtypes are left out).
#[derive(Debug, Clone, Default)]
pub struct Tensors {
    map: HashMap<String, (Vec<usize>, Vec<f32>)>,
}

impl Tensors {
    /// Adds a tensor; its values must fill its shape.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        shape: Vec<usize>,
        values: Vec<f32>,
    ) -> Result<(), String> {
        let name = name.into();
        let want: usize = shape.iter().product();
        if want != values.len() {
            return Err(format!(
                "tensor `{name}` has {} values for shape {shape:?}",
                values.len()
            ));
        }
        self.map.insert(name, (shape, values));
        Ok(())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// A tensor's shape and values.
    pub fn get(&self, name: &str) -> Option<(&[usize], &[f32])> {
        self.map
            .get(name)
            .map(|(s, v)| (s.as_slice(), v.as_slice()))
    }
}

/// Every float tensor of a safetensors file (see [`Tensors`]).
pub fn read_safetensors(path: &Path) -> Result<Tensors, BertError> {
    let bytes = std::fs::read(path).map_err(|e| BertError::Read {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let bad = |reason: String| BertError::Model {
        path: path.to_path_buf(),
        reason,
    };
    let file = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(e.to_string()))?;
    let mut out = Tensors::default();
    for (name, view) in file.tensors() {
        if let Some(values) = f32_values(view.dtype(), view.data()) {
            out.insert(name, view.shape().to_vec(), values)
                .map_err(bad)?;
        }
    }
    Ok(out)
}

/// Little-endian float data as f32; `None` for a dtype that is not a float.
fn f32_values(dtype: safetensors::Dtype, data: &[u8]) -> Option<Vec<f32>> {
    use safetensors::Dtype;
    let values = match dtype {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
            .collect(),
        _ => return None,
    };
    Some(values)
}

/// A float tensor by name, checked against `shape`, as f32 values in row-major order.
pub fn tensor_f32(tensors: &Tensors, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
    checked(tensors, name, shape).map(<[f32]>::to_vec)
}

/// A float tensor's values by name, checked against `shape`, without copying them.
fn checked<'a>(tensors: &'a Tensors, name: &str, shape: &[usize]) -> Result<&'a [f32], String> {
    let (dims, values) = tensors
        .get(name)
        .ok_or_else(|| format!("tensor `{name}` is missing (or not a float tensor)"))?;
    if dims != shape {
        return Err(format!(
            "tensor `{name}` has shape {dims:?}, expected {shape:?}"
        ));
    }
    Ok(values)
}

/// A weight matrix `[out, in]` (row-major), used as the transposed right-hand side of
/// `x · Wᵀ`.
struct Dense {
    w: Vec<f32>,
    b: Vec<f32>,
    inp: usize,
    out: usize,
}

struct LayerNorm {
    g: Vec<f32>,
    b: Vec<f32>,
}

struct Layer {
    qkv: Dense,
    attn_out: Dense,
    attn_ln: LayerNorm,
    ffn_in: Dense,
    ffn_out: Dense,
    ffn_ln: LayerNorm,
}

/// A BERT encoder loaded from HF `BertModel` tensor names (`embeddings.*`,
/// `encoder.layer.N.*`; an optional `bert.` prefix is accepted).
pub struct BertEncoder {
    cfg: BertConfig,
    word: Vec<f32>,
    pos: Vec<f32>,
    typ: Vec<f32>,
    emb_ln: LayerNorm,
    layers: Vec<Layer>,
    eps: f32,
}

/// One input sequence: token ids and, for sentence pairs, token type (segment) ids of
/// the same length; empty `type_ids` means all zeros.
#[derive(Debug, Clone, Copy)]
pub struct Sequence<'a> {
    pub ids: &'a [u32],
    pub type_ids: &'a [u32],
}

impl BertEncoder {
    /// Load `config.json` and `model.safetensors` from a model directory.
    pub fn load(dir: &Path) -> Result<Self, BertError> {
        let cfg = BertConfig::read(&dir.join("config.json"))?;
        let weights = dir.join("model.safetensors");
        let tensors = read_safetensors(&weights)?;
        Self::from_tensors(&tensors, &cfg).map_err(|reason| BertError::Model {
            path: weights,
            reason,
        })
    }

    /// Builds the encoder from loaded tensors with Hugging Face `BertModel` names, with or
    /// without a `bert.` prefix (any float dtype; converted to f32; other tensors, such as
    /// a classifier head, are ignored).
    pub fn from_tensors(tensors: &Tensors, cfg: &BertConfig) -> Result<Self, String> {
        cfg.validate()?;
        let prefix = if tensors.contains("bert.embeddings.word_embeddings.weight") {
            "bert."
        } else {
            ""
        };
        // Borrowed: each value is copied once, into the encoder's own layout.
        let get = |name: &str, shape: &[usize]| -> Result<&[f32], String> {
            checked(tensors, &format!("{prefix}{name}"), shape)
        };
        let h = cfg.hidden_size;
        let ln = |name: &str| -> Result<LayerNorm, String> {
            // Old checkpoints call them gamma/beta.
            let g = get(&format!("{name}.weight"), &[h])
                .or_else(|e| get(&format!("{name}.gamma"), &[h]).map_err(|_| e))?;
            let b = get(&format!("{name}.bias"), &[h])
                .or_else(|e| get(&format!("{name}.beta"), &[h]).map_err(|_| e))?;
            Ok(LayerNorm {
                g: g.to_vec(),
                b: b.to_vec(),
            })
        };
        let dense = |names: &[&str], inp: usize, out_each: usize| -> Result<Dense, String> {
            let mut w = Vec::with_capacity(names.len() * out_each * inp);
            let mut b = Vec::with_capacity(names.len() * out_each);
            for n in names {
                w.extend_from_slice(get(&format!("{n}.weight"), &[out_each, inp])?);
                b.extend_from_slice(get(&format!("{n}.bias"), &[out_each])?);
            }
            Ok(Dense {
                w,
                b,
                inp,
                out: names.len() * out_each,
            })
        };
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            layers.push(Layer {
                qkv: dense(
                    &[
                        &format!("{p}.attention.self.query"),
                        &format!("{p}.attention.self.key"),
                        &format!("{p}.attention.self.value"),
                    ],
                    h,
                    h,
                )?,
                attn_out: dense(&[&format!("{p}.attention.output.dense")], h, h)?,
                attn_ln: ln(&format!("{p}.attention.output.LayerNorm"))?,
                ffn_in: dense(
                    &[&format!("{p}.intermediate.dense")],
                    h,
                    cfg.intermediate_size,
                )?,
                ffn_out: dense(&[&format!("{p}.output.dense")], cfg.intermediate_size, h)?,
                ffn_ln: ln(&format!("{p}.output.LayerNorm"))?,
            });
        }
        Ok(Self {
            word: get("embeddings.word_embeddings.weight", &[cfg.vocab_size, h])?.to_vec(),
            pos: get(
                "embeddings.position_embeddings.weight",
                &[cfg.max_position_embeddings, h],
            )?
            .to_vec(),
            typ: get(
                "embeddings.token_type_embeddings.weight",
                &[cfg.type_vocab_size, h],
            )?
            .to_vec(),
            emb_ln: ln("embeddings.LayerNorm")?,
            layers,
            eps: cfg.layer_norm_eps as f32,
            cfg: cfg.clone(),
        })
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &BertConfig {
        &self.cfg
    }

    /// Hidden size (the width of each output row).
    pub fn hidden_size(&self) -> usize {
        self.cfg.hidden_size
    }

    /// Runs the encoder over the sequences and returns the mean of each sequence's last
    /// hidden states (not normalised). Runs on the calling thread apart from the GEMMs,
    /// which may use the rayon pool; parallelise across batches.
    pub fn mean_pooled(&self, seqs: &[Sequence<'_>]) -> Result<Vec<Vec<f32>>, BertError> {
        let h = self.cfg.hidden_size;
        let x = self.forward(seqs)?;
        let mut row = 0;
        Ok(seqs
            .iter()
            .map(|s| {
                let n = s.ids.len();
                let mut o = vec![0f32; h];
                for r in row..row + n {
                    for (a, v) in o.iter_mut().zip(&x[r * h..(r + 1) * h]) {
                        *a += v;
                    }
                }
                let inv = 1.0 / n.max(1) as f32;
                o.iter_mut().for_each(|a| *a *= inv);
                row += n;
                o
            })
            .collect())
    }

    /// Last hidden states of all packed tokens (`[total_tokens * hidden]`).
    pub fn forward(&self, seqs: &[Sequence<'_>]) -> Result<Vec<f32>, BertError> {
        let h = self.cfg.hidden_size;
        let n: usize = seqs.iter().map(|s| s.ids.len()).sum();
        let mut x = vec![0f32; n * h];
        let mut row = 0;
        for s in seqs {
            if !s.type_ids.is_empty() && s.ids.len() != s.type_ids.len() {
                return Err(BertError::Inference(format!(
                    "{} segment ids for {} tokens",
                    s.type_ids.len(),
                    s.ids.len()
                )));
            }
            if s.ids.len() > self.cfg.max_position_embeddings {
                return Err(BertError::Inference(format!(
                    "sequence of {} tokens is longer than the model's {} positions",
                    s.ids.len(),
                    self.cfg.max_position_embeddings
                )));
            }
            for (p, &id) in s.ids.iter().enumerate() {
                let tt = s.type_ids.get(p).copied().unwrap_or(0);
                let (id, tt) = (id as usize, tt as usize);
                if id >= self.cfg.vocab_size || tt >= self.cfg.type_vocab_size {
                    return Err(BertError::Inference(format!(
                        "token id {id} / type {tt} outside the model's vocabulary"
                    )));
                }
                let dst = &mut x[row * h..(row + 1) * h];
                let w = &self.word[id * h..(id + 1) * h];
                let pe = &self.pos[p * h..(p + 1) * h];
                let te = &self.typ[tt * h..(tt + 1) * h];
                for i in 0..h {
                    dst[i] = w[i] + pe[i] + te[i];
                }
                row += 1;
            }
        }
        layer_norm_rows(&mut x, h, &self.emb_ln, self.eps);
        let lens: Vec<usize> = seqs.iter().map(|s| s.ids.len()).collect();
        for layer in &self.layers {
            x = self.layer(layer, x, &lens)?;
        }
        Ok(x)
    }

    fn layer(&self, l: &Layer, x: Vec<f32>, lens: &[usize]) -> Result<Vec<f32>, BertError> {
        let h = self.cfg.hidden_size;
        let n = x.len() / h;
        let heads = self.cfg.num_attention_heads;
        let d = h / heads;
        let mut qkv = matmul(&x, n, &l.qkv)?;
        add_bias(&mut qkv, &l.qkv.b);
        let w3 = 3 * h;
        let scale = 1.0 / (d as f32).sqrt();
        let mut ctx = vec![0f32; n * h];
        let mut start = 0;
        for &len in lens {
            if len == 0 {
                continue;
            }
            let base = start * w3;
            // Per head: scores = Q_hd · K_hdᵀ, softmax, then · V_hd. Q, K and V are
            // strided views into the packed qkv rows.
            let mut probs = vec![0f32; heads * len * len];
            let mut out = vec![0f32; heads * len * d];
            for hd in 0..heads {
                let q = View::new(&qkv, base + hd * d, w3, 1);
                let kt = View::new(&qkv, base + h + hd * d, 1, w3);
                let scores = &mut probs[hd * len * len..(hd + 1) * len * len];
                gemm_f32(scores, q, kt, (len, len, d))?;
                for r in scores.chunks_mut(len) {
                    softmax_scaled(r, scale);
                }
            }
            for hd in 0..heads {
                let p = View::new(&probs, hd * len * len, len, 1);
                let v = View::new(&qkv, base + 2 * h + hd * d, w3, 1);
                gemm_f32(
                    &mut out[hd * len * d..(hd + 1) * len * d],
                    p,
                    v,
                    (len, d, len),
                )?;
            }
            // out is [heads, len, d]; ctx rows are [len, heads * d].
            for hd in 0..heads {
                for t in 0..len {
                    let src = &out[(hd * len + t) * d..(hd * len + t + 1) * d];
                    let dst = &mut ctx[(start + t) * h + hd * d..(start + t) * h + (hd + 1) * d];
                    dst.copy_from_slice(src);
                }
            }
            start += len;
        }
        drop(qkv);
        let mut a = matmul(&ctx, n, &l.attn_out)?;
        add_bias_residual(&mut a, &l.attn_out.b, &x);
        layer_norm_rows(&mut a, h, &l.attn_ln, self.eps);
        let mut inter = matmul(&a, n, &l.ffn_in)?;
        bias_gelu(&mut inter, &l.ffn_in.b);
        let mut o = matmul(&inter, n, &l.ffn_out)?;
        add_bias_residual(&mut o, &l.ffn_out.b, &a);
        layer_norm_rows(&mut o, h, &l.ffn_ln, self.eps);
        Ok(o)
    }
}

/// A strided 2-D view into a row-major buffer: element `(r, c)` is
/// `data[offset + r * row_stride + c * col_stride]`.
#[derive(Debug, Clone, Copy)]
struct View<'a> {
    data: &'a [f32],
    offset: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> View<'a> {
    fn new(data: &'a [f32], offset: usize, row_stride: usize, col_stride: usize) -> Self {
        View {
            data,
            offset,
            row_stride,
            col_stride,
        }
    }

    /// Whether a `rows × cols` view stays inside its buffer.
    fn fits(&self, rows: usize, cols: usize) -> bool {
        if rows == 0 || cols == 0 {
            return true;
        }
        let last = (rows - 1)
            .checked_mul(self.row_stride)
            .and_then(|r| (cols - 1).checked_mul(self.col_stride).map(|c| (r, c)))
            .and_then(|(r, c)| r.checked_add(c))
            .and_then(|rc| rc.checked_add(self.offset));
        last.is_some_and(|l| l < self.data.len())
    }
}

/// `dst[m, n] = lhs[m, k] · rhs[k, n]` (dst row-major and contiguous), on the `gemm`
/// crate's kernels with rayon's threads. Every view is checked against its buffer first,
/// so the call cannot read or write outside them.
fn gemm_f32(
    dst: &mut [f32],
    lhs: View<'_>,
    rhs: View<'_>,
    (m, n, k): (usize, usize, usize),
) -> Result<(), BertError> {
    let dst_len = m.checked_mul(n);
    if dst_len != Some(dst.len()) || !lhs.fits(m, k) || !rhs.fits(k, n) {
        return Err(BertError::Inference(format!(
            "internal: a {m}×{k} · {k}×{n} product does not fit its buffers"
        )));
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        dst.fill(0.0);
        return Ok(());
    }
    let threads = rayon::current_num_threads();
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    let stride = |s: usize| s as isize;
    // SAFETY: `fits` checked that every element the product reads, (r, c) for r < m,
    // c < k of `lhs` and r < k, c < n of `rhs`, lies inside its slice, and `dst` holds
    // exactly m × n values written with row stride n and column stride 1. The strides are
    // element counts of in-memory slices, so they fit an isize. With `read_dst` false the
    // destination is only written.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            stride(n),
            false,
            lhs.data.as_ptr().add(lhs.offset),
            stride(lhs.col_stride),
            stride(lhs.row_stride),
            rhs.data.as_ptr().add(rhs.offset),
            stride(rhs.col_stride),
            stride(rhs.row_stride),
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
    Ok(())
}

/// Up to this many rows, [`matmul`] computes the transposed product `W · xᵀ`. The `gemm`
/// crate wants a column-major destination and turns a row-major one around, which puts
/// the weight matrix on the side it packs, on every call: for a search query's dozen
/// tokens the packing cost more than the product (45 % of a loaded server's CPU time was
/// `pack_lhs`). Turned this way it packs the few input rows instead: 1.5–2.5× faster from
/// 4 to 32 rows (MiniLM's shapes). From 48 rows the packed weights pay for themselves.
const FEW_ROWS: usize = 32;

/// `x[n, in] · Wᵀ` → `[n, out]`.
fn matmul(x: &[f32], n: usize, d: &Dense) -> Result<Vec<f32>, BertError> {
    let mut y = vec![0f32; n * d.out];
    if n > FEW_ROWS {
        let lhs = View::new(x, 0, d.inp, 1);
        // Wᵀ[i, o] = W[o, i]: rows of the transpose step by one, columns by `inp`.
        let rhs = View::new(&d.w, 0, 1, d.inp);
        gemm_f32(&mut y, lhs, rhs, (n, d.out, d.inp))?;
        return Ok(y);
    }
    // yᵀ[o, i] = Σ W[o, c] · x[i, c]: W row-major, xᵀ with rows stepping by one.
    let mut yt = vec![0f32; n * d.out];
    gemm_f32(
        &mut yt,
        View::new(&d.w, 0, d.inp, 1),
        View::new(x, 0, 1, d.inp),
        (d.out, n, d.inp),
    )?;
    for (o, col) in yt.chunks_exact(n.max(1)).enumerate() {
        for (i, v) in col.iter().enumerate() {
            y[i * d.out + o] = *v;
        }
    }
    Ok(y)
}

fn add_bias(y: &mut [f32], b: &[f32]) {
    for row in y.chunks_mut(b.len()) {
        for (v, bb) in row.iter_mut().zip(b) {
            *v += bb;
        }
    }
}

fn add_bias_residual(y: &mut [f32], b: &[f32], res: &[f32]) {
    for (row, r) in y.chunks_mut(b.len()).zip(res.chunks(b.len())) {
        for ((v, bb), rr) in row.iter_mut().zip(b).zip(r) {
            *v += bb + rr;
        }
    }
}

fn layer_norm_rows(x: &mut [f32], h: usize, ln: &LayerNorm, eps: f32) {
    for row in x.chunks_mut(h) {
        let mean = sum8(row) / h as f32;
        row.iter_mut().for_each(|v| *v -= mean);
        let var = sum_sq8(row) / h as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(&ln.g).zip(&ln.b) {
            *v = *v * inv * g + b;
        }
    }
}

/// Sum with eight independent accumulators, so the loop vectorises.
fn sum8(xs: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = xs.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + rest
}

fn sum_sq8(xs: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = xs.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().map(|v| v * v).sum();
    for c in chunks {
        for i in 0..8 {
            acc[i] = c[i].mul_add(c[i], acc[i]);
        }
    }
    acc.iter().sum::<f32>() + rest
}

fn max8(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    for c in chunks {
        for i in 0..8 {
            acc[i] = acc[i].max(c[i]);
        }
    }
    acc.iter().fold(rest, |m, &v| m.max(v))
}

fn bias_gelu(y: &mut [f32], b: &[f32]) {
    for row in y.chunks_mut(b.len()) {
        for (v, bb) in row.iter_mut().zip(b) {
            let t = *v + bb;
            *v = 0.5 * t * (1.0 + erf(t * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

/// Softmax of `row * scale`, in place.
fn softmax_scaled(row: &mut [f32], scale: f32) {
    let max = max8(row);
    for v in row.iter_mut() {
        *v = exp((*v - max) * scale);
    }
    let inv = 1.0 / sum8(row);
    row.iter_mut().for_each(|v| *v *= inv);
}

/// `erf` as a rational function on [-4, 4] (the single-precision approximation used by
/// Eigen and XLA); absolute error below 1e-6, branch-free so loops vectorise.
#[inline(always)]
pub(crate) fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2.mul_add(-2.726_142_3e-10, 2.770_681_4e-8);
    p = x2.mul_add(p, -2.101_024e-6);
    p = x2.mul_add(p, -5.692_506_4e-5);
    p = x2.mul_add(p, -7.349_906_3e-4);
    p = x2.mul_add(p, -2.954_6e-3);
    p = x2.mul_add(p, -1.609_603_3e-2);
    p *= x;
    let mut q = x2.mul_add(-1.456_607_2e-5, -2.133_740_6e-4);
    q = x2.mul_add(q, -1.682_827e-3);
    q = x2.mul_add(q, -7.373_329e-3);
    q = x2.mul_add(q, -1.426_474e-2);
    p / q
}

/// `exp` for x ≤ 0 (softmax after subtracting the maximum): Cephes' polynomial after
/// range reduction, relative error about 2e-7, branch-free so loops vectorise.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let fx = x.mul_add(std::f32::consts::LOG2_E, 0.5).floor();
    let r = fx.mul_add(-0.693_359_4, x);
    let r = fx.mul_add(2.121_944_4e-4, r);
    let mut y = r.mul_add(1.987_569_1e-4, 1.398_199_9e-3);
    y = r.mul_add(y, 8.333_452e-3);
    y = r.mul_add(y, 4.166_579_6e-2);
    y = r.mul_add(y, 1.666_666_5e-1);
    y = r.mul_add(y, 5.0e-1);
    y = y.mul_add(r * r, r + 1.0);
    // 2^fx without a float-to-int cast: in 2^23 + 127 + fx the low mantissa bits hold the
    // biased exponent, which the shift moves into place.
    let pow2 = f32::from_bits((fx + 8_388_735.0).to_bits() << 23);
    y * pow2
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        for (x, want) in [
            (0.0f32, 0.0f32),
            (0.1, 0.112_462_916),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (2.0, 0.995_322_3),
            (3.0, 0.999_977_9),
            (-1.0, -0.842_700_8),
            (5.0, 1.0),
        ] {
            assert!(
                (erf(x) - want).abs() < 2e-6,
                "erf({x}) = {} want {want}",
                erf(x)
            );
        }
    }

    #[test]
    fn exp_matches_std() {
        let mut x = -80.0f32;
        while x <= 0.0 {
            let (a, b) = (exp(x), x.exp());
            assert!(
                (a - b).abs() <= 1e-6 * b.max(1e-30),
                "exp({x}) = {a} want {b}"
            );
            x += 0.37;
        }
        assert!((exp(0.0) - 1.0).abs() < 1e-7);
    }

    #[test]
    fn gelu_matches_the_exact_definition() {
        let xs: Vec<f32> = (-60..60).map(|i| i as f32 * 0.1).collect();
        // x · Φ(x), with Φ from erf's Taylor series in f64.
        let want: Vec<f32> = xs.iter().map(|&x| gelu_f64(x as f64) as f32).collect();
        let mut got = xs.clone();
        bias_gelu(&mut got, &[0.0]);
        for ((x, a), b) in xs.iter().zip(&got).zip(&want) {
            assert!((a - b).abs() < 2e-6, "gelu({x}) = {a} want {b}");
        }
    }

    #[test]
    fn softmax_sums_to_one() {
        let mut r = vec![1.0, 2.0, 3.0, -50.0];
        softmax_scaled(&mut r, 0.5);
        assert!((r.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let e: Vec<f32> = [0.5f32, 1.0, 1.5, -25.0]
            .iter()
            .map(|v| (v - 1.5).exp())
            .collect();
        let s: f32 = e.iter().sum();
        for (a, b) in r.iter().zip(e.iter().map(|v| v / s)) {
            assert!((a - b).abs() < 1e-6);
        }
    }

    /// GELU in f64 from the Taylor series of erf (converges for |x| ≤ 6 at this length).
    fn gelu_f64(x: f64) -> f64 {
        let z = x / std::f64::consts::SQRT_2;
        let (mut term, mut sum) = (z, z);
        for n in 1..200 {
            term *= -z * z / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        let erf = 2.0 / std::f64::consts::PI.sqrt() * sum;
        0.5 * x * (1.0 + erf)
    }

    #[test]
    fn dense_products_match_a_plain_loop_on_both_sides_of_few_rows() {
        let (inp, out) = (19usize, 7usize);
        let w: Vec<f32> = (0..inp * out).map(|i| (i as f32 * 0.37).sin()).collect();
        let d = Dense {
            w,
            b: vec![0.0; out],
            inp,
            out,
        };
        for n in [0, 1, 3, FEW_ROWS, FEW_ROWS + 1, 2 * FEW_ROWS + 5] {
            let x: Vec<f32> = (0..n * inp).map(|i| (i as f32 * 0.11).cos()).collect();
            let got = matmul(&x, n, &d).unwrap();
            assert_eq!(got.len(), n * out);
            for r in 0..n {
                for o in 0..out {
                    let want: f32 = (0..inp).map(|c| x[r * inp + c] * d.w[o * inp + c]).sum();
                    assert!((got[r * out + o] - want).abs() < 1e-4, "n={n} ({r},{o})");
                }
            }
        }
    }

    #[test]
    fn views_outside_the_buffer_are_refused() {
        let data = [0f32; 7];
        let v = View::new(&data, 1, 3, 1);
        assert!(v.fits(2, 3));
        assert!(!View::new(&data[..6], 1, 3, 1).fits(2, 3));
        assert!(!View::new(&data, usize::MAX, 3, 1).fits(2, 3));
        let mut dst = [0f32; 4];
        assert!(
            gemm_f32(&mut dst, v, v, (2, 2, 3)).is_err(),
            "rhs 3×2 overruns"
        );
    }

    #[test]
    fn products_match_a_plain_loop_for_every_layout_the_encoder_uses() {
        let (m, n, k) = (5usize, 4usize, 3usize);
        let a: Vec<f32> = (0..40).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..40).map(|i| (i as f32 * 0.11).cos()).collect();
        // Row-major, transposed and offset strided views, as matmul and attention use.
        for (lhs, rhs) in [
            (View::new(&a, 0, k, 1), View::new(&b, 0, n, 1)),
            (View::new(&a, 2, 7, 1), View::new(&b, 1, 1, 9)),
        ] {
            let mut got = vec![0f32; m * n];
            gemm_f32(&mut got, lhs, rhs, (m, n, k)).unwrap();
            for r in 0..m {
                for c in 0..n {
                    let want: f32 = (0..k)
                        .map(|i| {
                            lhs.data[lhs.offset + r * lhs.row_stride + i * lhs.col_stride]
                                * rhs.data[rhs.offset + i * rhs.row_stride + c * rhs.col_stride]
                        })
                        .sum();
                    assert!((got[r * n + c] - want).abs() < 1e-5, "({r},{c})");
                }
            }
        }
    }
}
