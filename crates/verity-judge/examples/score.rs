//! Scores (claim, evidence) pairs with the stance model and prints the probabilities.
//!
//! ```text
//! cargo run --release -p verity-judge --example score -- MODEL_DIR TOKENIZER_JSON \
//!     "claim" "evidence" ["claim" "evidence" ...]
//! ```
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use verity_judge::CrossEncoderStance;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 || !args.len().is_multiple_of(2) {
        return Err(
            "usage: score MODEL_DIR TOKENIZER_JSON CLAIM EVIDENCE [CLAIM EVIDENCE ...]".into(),
        );
    }
    let model = CrossEncoderStance::load(&PathBuf::from(&args[0]), &PathBuf::from(&args[1]))?;
    let pairs: Vec<(&str, &str)> = args[2..]
        .chunks(2)
        .map(|c| (c[0].as_str(), c[1].as_str()))
        .collect();
    let out = model.score_detailed(&pairs)?;
    let probs: Vec<[f32; 3]> = out
        .iter()
        .map(|r| [r.scores.supports, r.scores.contradicts, r.scores.neutral])
        .collect();
    for ((c, e), r) in pairs.iter().zip(&out) {
        eprintln!(
            "{:<11} s={:.4} c={:.4} n={:.4} windows={} window={:?}\n  claim: {c}\n  evidence: {e}",
            r.scores.label().as_str(),
            r.scores.supports,
            r.scores.contradicts,
            r.scores.neutral,
            r.windows,
            r.window
        );
    }
    println!("{}", serde_json::to_string(&probs)?);
    Ok(())
}
