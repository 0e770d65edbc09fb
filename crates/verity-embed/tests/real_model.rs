//! Checks against the real all-MiniLM-L6-v2 weights.
//!
//! The weights come from `$VERITY_MODELS/all-minilm-l6-v2` (installed by
//! `scripts/setup-models.sh`), else the default install under `verity-data/models`. Without them these tests print a notice
//! and pass, unless `VERITY_REQUIRE_MODELS=1` (as in CI), which makes a missing model a failure.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::OnceLock;

use verity_embed::{cosine, Embedder, MiniLmEmbedder};

/// Where `scripts/setup-models.sh` installs the models by default, relative to this crate.
const INSTALLED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../verity-data/models/all-minilm-l6-v2"
);

/// `$VERITY_MODELS` when set (authoritative: no fallback), else the default install.
fn model_dir() -> Option<PathBuf> {
    if let Some(root) = std::env::var_os("VERITY_MODELS").filter(|v| !v.is_empty()) {
        let dir = verity_models::ModelDir::at(PathBuf::from(root), ".");
        return match dir.minilm() {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("{e}");
                None
            }
        };
    }
    let dev = PathBuf::from(INSTALLED);
    dev.join("model.safetensors").is_file().then_some(dev)
}

fn model() -> Option<&'static MiniLmEmbedder> {
    static MODEL: OnceLock<Option<MiniLmEmbedder>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let Some(dir) = model_dir() else {
                let required = std::env::var("VERITY_REQUIRE_MODELS").is_ok_and(|v| v == "1");
                assert!(
                    !required,
                    "VERITY_REQUIRE_MODELS=1 but the MiniLM model is not installed; \
                     run `bash scripts/setup-models.sh` and set VERITY_MODELS"
                );
                eprintln!(
                    "NOTICE: skipping real-model test: MiniLM weights not found \
                     (set VERITY_MODELS after `bash scripts/setup-models.sh`)"
                );
                return None;
            };
            Some(MiniLmEmbedder::load(&dir).unwrap())
        })
        .as_ref()
}

#[test]
fn known_similarity_matches_reference() {
    let Some(m) = model() else { return };
    let v = m
        .embed(&["A man is eating food.", "A man is eating a piece of bread."])
        .unwrap();
    let c = cosine(&v[0], &v[1]);
    // sentence-transformers gives 0.7553 for this pair.
    assert!((c - 0.755).abs() < 0.005, "cosine {c}");
}

#[test]
fn vectors_match_reference_values() {
    let Some(m) = model() else { return };
    // First dimensions from candle-transformers' BertModel on the same weights
    // (sentence-transformers gives the same to 4 decimals).
    let want: [(&str, [f32; 8]); 2] = [
        (
            "A man is eating food.",
            [
                0.033_241_52,
                0.004_406_124,
                -0.006_276_951,
                0.048_378_725,
                -0.138_702_26,
                -0.033_617_303,
                0.101_128_26,
                -0.054_384_943,
            ],
        ),
        (
            "",
            [
                -0.118_838_21,
                0.048_298_66,
                -0.002_548_029,
                -0.011_011_152,
                0.051_950_727,
                0.010_291_718,
                0.115_433_23,
                0.000_700_766_16,
            ],
        ),
    ];
    for (text, dims) in want {
        let v = m.embed(&[text]).unwrap();
        for (i, (a, b)) in v[0].iter().zip(dims).enumerate() {
            assert!((a - b).abs() < 2e-5, "{text:?} dim {i}: {a} vs {b}");
        }
    }
}

#[test]
fn vectors_are_unit_length_with_model_dim() {
    let Some(m) = model() else { return };
    assert_eq!(m.dim(), 384);
    let v = m.embed(&["Harlow Bay opened a new library.", ""]).unwrap();
    assert_eq!(v.len(), 2);
    for x in &v {
        assert_eq!(x.len(), 384);
        let n: f32 = x.iter().map(|a| a * a).sum::<f32>().sqrt();
        assert!((n - 1.0).abs() < 1e-4, "norm {n}");
    }
}

#[test]
fn related_pair_scores_clearly_above_unrelated_pair() {
    let Some(m) = model() else { return };
    let texts = [
        "The Quillmoor council voted to close the old bridge for repairs.",
        "Repairs will shut the aging Quillmoor bridge after a council vote.",
        "Penguins huddle together to survive the cold winter.",
        "The recipe calls for two cups of flour and a pinch of salt.",
    ];
    let v = m.embed(&texts).unwrap();
    let related = cosine(&v[0], &v[1]);
    let unrelated = cosine(&v[2], &v[3]).max(cosine(&v[0], &v[2]));
    assert!(related > 0.6, "related {related}");
    assert!(
        related > unrelated + 0.4,
        "related {related} unrelated {unrelated}"
    );
}

#[test]
fn batching_and_order_do_not_change_vectors() {
    let Some(m) = model() else { return };
    let texts: Vec<String> = (0..40)
        .map(|i| {
            format!(
                "Report {i} from the Vellmark water board: {}",
                "levels rose ".repeat(i % 9)
            )
        })
        .collect();
    let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
    let all = m.embed(&refs).unwrap();
    for i in [0usize, 13, 39] {
        let one = m.embed(&[refs[i]]).unwrap();
        let c = cosine(&one[0], &all[i]);
        assert!(c > 0.9999, "text {i}: batched vs single cosine {c}");
    }
}

#[test]
fn long_text_is_truncated_not_rejected() {
    let Some(m) = model() else { return };
    let long = "The Ostrava Vale ferry timetable changed again. ".repeat(200);
    assert_eq!(m.token_count(&long).unwrap(), MiniLmEmbedder::MAX_TOKENS);
    let v = m.embed(&[&long]).unwrap();
    assert_eq!(v[0].len(), 384);
}
