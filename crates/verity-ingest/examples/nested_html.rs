//! Time reading deeply nested HTML: `cargo run --release -p verity-ingest --example
//! nested_html -- 100000` (the depth; default 100,000). Issue 14 item 3: extraction was
//! quadratic in nesting depth. `-- page FILE` times reading an ordinary page instead,
//! and one bare tokenizer pass over it (what the depth check costs at most).

use std::time::Instant;
use verity_ingest::{read_bytes, ReadOptions};
use verity_types::Format;

/// A sink that drops every token: the bare cost of tokenizing.
struct Discard;

impl html5ever::tokenizer::TokenSink for Discard {
    type Handle = ();
    fn process_token(
        &self,
        _: html5ever::tokenizer::Token,
        _: u64,
    ) -> html5ever::tokenizer::TokenSinkResult<()> {
        html5ever::tokenizer::TokenSinkResult::Continue
    }
}

fn page(path: &str) {
    use html5ever::tokenizer::{BufferQueue, Tokenizer, TokenizerOpts};
    let Ok(html) = std::fs::read_to_string(path) else {
        eprintln!("cannot read {path}");
        return;
    };
    let runs = 5;
    let t = Instant::now();
    for _ in 0..runs {
        let _ = read_bytes(
            html.as_bytes(),
            path,
            Some(Format::Html),
            &ReadOptions::default(),
        );
    }
    let read = t.elapsed().as_secs_f64() / runs as f64;
    let t = Instant::now();
    for _ in 0..runs {
        let tok = Tokenizer::new(Discard, TokenizerOpts::default());
        let input = BufferQueue::default();
        input.push_back(html.as_str().into());
        let _ = tok.feed(&input);
        tok.end();
    }
    let scan = t.elapsed().as_secs_f64() / runs as f64;
    println!(
        "{path}: {} bytes; read_bytes {:.4} s; one tokenizer pass {:.4} s ({:.0} % of it)",
        html.len(),
        read,
        scan,
        100.0 * scan / read
    );
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("page") {
        if let Some(p) = std::env::args().nth(2) {
            page(&p);
        }
        return;
    }
    let depth: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut html = String::from("<html><body>");
    for _ in 0..depth {
        html.push_str("<div>");
    }
    html.push_str("deep text");
    for _ in 0..depth {
        html.push_str("</div>");
    }
    html.push_str("<p>The weir at Kellbridge will close for repairs.</p></body></html>");
    let t = Instant::now();
    let parsed = scraper::Html::parse_document(&html);
    let parse = t.elapsed();
    drop(parsed);
    let t = Instant::now();
    let docs = read_bytes(
        html.as_bytes(),
        "nested.html",
        Some(Format::Html),
        &ReadOptions::default(),
    );
    let total = t.elapsed();
    let outcome = match docs.first() {
        Some(Ok(d)) => format!("ok, {} chars of text", d.text.chars().count()),
        Some(Err(e)) => format!("error: {e}"),
        None => "nothing".into(),
    };
    println!(
        "depth {depth}: html5ever parse alone {:.3} s; read_bytes {:.3} s; {outcome}",
        parse.as_secs_f64(),
        total.as_secs_f64()
    );
}
