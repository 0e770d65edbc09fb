//! The shared encoder (`verity_models::bert`) against candle-transformers' padded
//! `BertModel` on random weights: packing sequences instead of padding them, and the fused
//! loops, must give the same hidden states.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor};
use verity_models::bert::{BertConfig, BertEncoder, Sequence, Tensors};

/// The packed encoder must agree with candle's padded `BertModel` on random weights.
#[test]
fn matches_candle_bert_model() {
    use candle_nn::VarBuilder;
    use candle_transformers::models::bert::{BertModel, Config};
    let dev = Device::Cpu;
    let (h, heads, inter, layers, vocab, maxpos) =
        (16usize, 4usize, 32usize, 2usize, 50usize, 40usize);
    let mut t: HashMap<String, Tensor> = HashMap::new();
    let mut put = |name: String, shape: &[usize], scale: f64| {
        let x = (Tensor::randn(0f32, 1f32, shape, &dev).unwrap() * scale).unwrap();
        t.insert(name, x);
    };
    put("embeddings.word_embeddings.weight".into(), &[vocab, h], 1.0);
    put(
        "embeddings.position_embeddings.weight".into(),
        &[maxpos, h],
        0.5,
    );
    put(
        "embeddings.token_type_embeddings.weight".into(),
        &[2, h],
        0.5,
    );
    put("embeddings.LayerNorm.weight".into(), &[h], 1.0);
    put("embeddings.LayerNorm.bias".into(), &[h], 0.1);
    for i in 0..layers {
        let p = format!("encoder.layer.{i}");
        for n in [
            "attention.self.query",
            "attention.self.key",
            "attention.self.value",
            "attention.output.dense",
        ] {
            put(format!("{p}.{n}.weight"), &[h, h], 0.4);
            put(format!("{p}.{n}.bias"), &[h], 0.1);
        }
        put(format!("{p}.intermediate.dense.weight"), &[inter, h], 0.4);
        put(format!("{p}.intermediate.dense.bias"), &[inter], 0.1);
        put(format!("{p}.output.dense.weight"), &[h, inter], 0.3);
        put(format!("{p}.output.dense.bias"), &[h], 0.1);
        for n in ["attention.output.LayerNorm", "output.LayerNorm"] {
            put(format!("{p}.{n}.weight"), &[h], 1.0);
            put(format!("{p}.{n}.bias"), &[h], 0.1);
        }
    }
    let json = format!(
        r#"{{"vocab_size":{vocab},"hidden_size":{h},"num_hidden_layers":{layers},
        "num_attention_heads":{heads},"intermediate_size":{inter},"hidden_act":"gelu",
        "hidden_dropout_prob":0.1,"max_position_embeddings":{maxpos},"type_vocab_size":2,
        "initializer_range":0.02,"layer_norm_eps":1e-12,"pad_token_id":0,"model_type":"bert"}}"#
    );
    let ours_cfg: BertConfig = serde_json::from_str(&json).unwrap();
    let candle_cfg: Config = serde_json::from_str(&json).unwrap();
    let mut ours_t = Tensors::default();
    for (name, x) in &t {
        let values = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
        ours_t
            .insert(name.clone(), x.dims().to_vec(), values)
            .unwrap();
    }
    let ours = BertEncoder::from_tensors(&ours_t, &ours_cfg).unwrap();
    let vb = VarBuilder::from_tensors(t.clone(), DType::F32, &dev);
    let theirs = BertModel::load(vb, &candle_cfg).unwrap();

    let a_ids = [2u32, 7, 9, 11, 3, 5, 8];
    let a_tt = [0u32, 0, 0, 0, 1, 1, 1];
    let b_ids = [2u32, 4, 3, 6];
    let b_tt = [0u32, 0, 1, 1];
    let got = ours
        .forward(&[
            Sequence {
                ids: &a_ids,
                type_ids: &a_tt,
            },
            Sequence {
                ids: &b_ids,
                type_ids: &b_tt,
            },
        ])
        .unwrap();
    // candle: one padded batch of 2 x 7 with an attention mask.
    let mut ids = a_ids.to_vec();
    ids.extend(b_ids);
    ids.extend([0, 0, 0]);
    let mut tt = a_tt.to_vec();
    tt.extend(b_tt);
    tt.extend([0, 0, 0]);
    let mask: Vec<f32> = [1.0; 7]
        .into_iter()
        .chain([1.0; 4])
        .chain([0.0; 3])
        .collect();
    let want = theirs
        .forward(
            &Tensor::from_vec(ids, (2, 7), &dev).unwrap(),
            &Tensor::from_vec(tt, (2, 7), &dev).unwrap(),
            Some(&Tensor::from_vec(mask, (2, 7), &dev).unwrap()),
        )
        .unwrap()
        .to_vec3::<f32>()
        .unwrap();
    let rows: Vec<&Vec<f32>> = want[0].iter().chain(want[1][..4].iter()).collect();
    assert_eq!(got.len(), rows.len() * h);
    let mut worst = 0f32;
    for (r, want_row) in rows.iter().enumerate() {
        for (a, b) in got[r * h..(r + 1) * h].iter().zip(want_row.iter()) {
            worst = worst.max((a - b).abs());
        }
    }
    assert!(
        worst < 1e-4,
        "largest difference from candle BertModel: {worst}"
    );
    let pooled = ours
        .mean_pooled(&[Sequence {
            ids: &b_ids,
            type_ids: &b_tt,
        }])
        .unwrap();
    for (i, v) in pooled[0].iter().enumerate() {
        let mean = (0..4).map(|r| want[1][r][i]).sum::<f32>() / 4.0;
        assert!((v - mean).abs() < 1e-4);
    }
}
