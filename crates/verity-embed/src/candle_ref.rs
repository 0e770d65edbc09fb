//! Reference implementation on candle-transformers' `BertModel` (feature `candle`), kept
//! to cross-check the native encoder. Pads each batch and masks the padding.

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};

use crate::{l2_normalize, EmbedError};

/// candle's BERT with mean pooling and L2 normalisation.
pub struct CandleBert {
    model: BertModel,
    hidden: usize,
    device: Device,
}

fn inference(e: candle_core::Error) -> EmbedError {
    EmbedError::Inference(e.to_string())
}

impl CandleBert {
    /// Load `config.json` and `model.safetensors` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let cfg_path = dir.join("config.json");
        let text = std::fs::read_to_string(&cfg_path).map_err(|e| EmbedError::Read {
            path: cfg_path.clone(),
            reason: e.to_string(),
        })?;
        let config: Config = serde_json::from_str(&text).map_err(|e| EmbedError::Model {
            path: cfg_path.clone(),
            reason: e.to_string(),
        })?;
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            return Err(EmbedError::Read {
                path: weights,
                reason: "file not found".into(),
            });
        }
        let device = Device::Cpu;
        let tensors =
            candle_core::safetensors::load(&weights, &device).map_err(|e| EmbedError::Model {
                path: weights.clone(),
                reason: e.to_string(),
            })?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &device);
        let model = BertModel::load(vb, &config).map_err(|e| EmbedError::Model {
            path: weights.clone(),
            reason: e.to_string(),
        })?;
        Ok(CandleBert {
            model,
            hidden: config.hidden_size,
            device,
        })
    }

    pub fn hidden_size(&self) -> usize {
        self.hidden
    }

    /// Embed one batch of token id sequences (each already truncated), padding to the
    /// longest in the batch.
    pub fn embed_batch(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let b = seqs.len();
        let len = seqs.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0u32; b * len];
        let mut mask = vec![0f32; b * len];
        for (row, s) in seqs.iter().enumerate() {
            ids[row * len..row * len + s.len()].copy_from_slice(s);
            mask[row * len..row * len + s.len()].fill(1.0);
        }
        let ids = Tensor::from_vec(ids, (b, len), &self.device).map_err(inference)?;
        let mask_t = Tensor::from_vec(mask, (b, len), &self.device).map_err(inference)?;
        let types = ids.zeros_like().map_err(inference)?;
        let hidden = self
            .model
            .forward(&ids, &types, Some(&mask_t))
            .map_err(inference)?;
        // Mean over real tokens only.
        let m = mask_t.unsqueeze(2).map_err(inference)?;
        let summed = hidden
            .broadcast_mul(&m)
            .and_then(|t| t.sum(1))
            .map_err(inference)?;
        let counts = m.sum(1).map_err(inference)?;
        let pooled = summed.broadcast_div(&counts).map_err(inference)?;
        let mut out: Vec<Vec<f32>> = pooled.to_vec2().map_err(inference)?;
        out.iter_mut().for_each(|v| l2_normalize(v));
        Ok(out)
    }
}
