//! Time reading deeply nested HTML: `cargo run --release -p verity-ingest --example
//! nested_html -- 100000` (the depth; default 100,000). Issue 14 item 3: extraction was
//! quadratic in nesting depth.

use std::time::Instant;
use verity_ingest::{read_bytes, ReadOptions};
use verity_types::Format;

fn main() {
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
