//! The date parser on any text: no panic, and a date it finds reads back the same from
//! its own ISO form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verity_ingest::parse_date;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(d) = parse_date(&text) {
        let iso = d.format("%Y-%m-%d").to_string();
        assert_eq!(parse_date(&iso), Some(d), "{iso} from {text:?}");
    }
});
