//! Time (and, under `/usr/bin/time -v`, measure the memory of) reading one PDF the
//! old way — `lopdf` load and `pdf-extract`, no caps — or through `read_bytes` with
//! the PDF caps.
//!
//! ```text
//! cargo run --release -p verity-ingest --example pdf_caps -- checked FILE.pdf
//! cargo run --release -p verity-ingest --example pdf_caps -- uncapped FILE.pdf
//! ```

use std::time::Instant;
use verity_ingest::{read_bytes, ReadOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: pdf_caps checked|uncapped FILE.pdf");
        std::process::exit(2);
    };
    let bytes = std::fs::read(path).expect("read the file");
    let start = Instant::now();
    let outcome = match mode.as_str() {
        "uncapped" => uncapped(&bytes),
        _ => match read_bytes(&bytes, path, None, &ReadOptions::default()).remove(0) {
            Ok(doc) => Ok(doc.text.len()),
            Err(e) => Err(e.to_string()),
        },
    };
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    match outcome {
        Ok(chars) => println!("{mode}: {chars} bytes of text in {ms:.1} ms"),
        Err(e) => println!("{mode}: error after {ms:.1} ms: {e}"),
    }
}

/// What `read_pdf` did before the caps.
fn uncapped(bytes: &[u8]) -> Result<usize, String> {
    let doc = pdf_extract::Document::load_mem(bytes).map_err(|e| e.to_string())?;
    let mut raw = String::new();
    let mut out = pdf_extract::PlainTextOutput::new(&mut raw);
    pdf_extract::output_doc(&doc, &mut out).map_err(|e| e.to_string())?;
    Ok(raw.len())
}
