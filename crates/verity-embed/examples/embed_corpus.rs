//! Embed the sentences of a corpus and write the vectors as raw little-endian f32 rows
//! (for measuring vector-index recall on real embeddings).
//!
//! cargo run --release -p verity-embed --example embed_corpus -- SUMMARIES.json MODEL_DIR OUT.f32 [MAX]
//!
//! SUMMARIES.json is the demo corpus (`{title: {extract: ...}}`); sentences are split on
//! ". " and kept when 30..300 characters long.
use std::io::Write;
use std::time::Instant;

use verity_embed::{Embedder, MiniLmEmbedder};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [corpus, model_dir, out, ..] = args.as_slice() else {
        return Err("usage: embed_corpus SUMMARIES.json MODEL_DIR OUT.f32 [MAX]".into());
    };
    let max: usize = args
        .get(3)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20_000);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(corpus)?)?;
    let mut sentences = Vec::new();
    if let Some(map) = json.as_object() {
        for entry in map.values() {
            let text = entry.get("extract").and_then(|e| e.as_str()).unwrap_or("");
            for s in text.split(". ") {
                if (30..300).contains(&s.len()) {
                    sentences.push(s.to_string());
                }
            }
        }
    }
    sentences.truncate(max);
    let model = MiniLmEmbedder::load(std::path::Path::new(model_dir))?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(out)?);
    let t = Instant::now();
    for (i, chunk) in sentences.chunks(1024).enumerate() {
        let refs: Vec<&str> = chunk.iter().map(|s| s.as_str()).collect();
        for v in model.embed(&refs)? {
            for x in v {
                f.write_all(&x.to_le_bytes())?;
            }
        }
        eprintln!(
            "{} sentences, {:.1}/s",
            (i + 1) * 1024,
            ((i + 1) * 1024) as f64 / t.elapsed().as_secs_f64()
        );
    }
    f.flush()?;
    println!(
        "{} sentences embedded in {:.0}s",
        sentences.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(())
}
