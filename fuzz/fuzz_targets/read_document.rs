//! Every reader through `read_bytes`: the first byte picks the format (or none, so the
//! content is sniffed), the rest is the file. Contract: no panic, no hang (libFuzzer's
//! `-timeout`), no runaway memory (`-rss_limit_mb`); at least one result; a document has
//! trimmed, non-empty text; a failure names its reason and the input's location.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verity_ingest::{read_bytes, ReadOptions};
use verity_types::Format;

const FORMATS: [Option<Format>; 6] = [
    None,
    Some(Format::Text),
    Some(Format::Markdown),
    Some(Format::Html),
    Some(Format::Pdf),
    Some(Format::Jsonl),
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let format = FORMATS[usize::from(pick) % FORMATS.len()];
    let results = read_bytes(bytes, "fuzz-input", format, &ReadOptions::default());
    assert!(!results.is_empty(), "no result for {format:?}");
    for r in results {
        match r {
            Ok(doc) => {
                assert!(!doc.text.trim().is_empty(), "empty document text");
                assert_eq!(doc.text.trim(), doc.text, "untrimmed document text");
                assert!(doc.location.starts_with("fuzz-input"), "{}", doc.location);
                assert!(doc.meta.kind.is_some(), "no kind: {:?}", doc.meta);
            }
            Err(e) => {
                assert!(!e.reason_code().is_empty(), "{e:?}");
                assert!(e.location().starts_with("fuzz-input"), "{e:?}");
            }
        }
    }
});
