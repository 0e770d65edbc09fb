//! Bytes → text: encoding detection, binary rejection and newline normalisation.
//!
//! Order of evidence: a byte-order mark, then a NUL-byte pattern that only UTF-16 makes,
//! then an encoding the container declared (HTTP header, `<meta charset>`), then "is it
//! valid UTF-8", and only then a statistical guess (chardetng). Latin-1 text is decoded as
//! Windows-1252, its superset, as browsers do.

use crate::IngestError;
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8};

/// How many leading bytes are inspected for NUL bytes and UTF-16 patterns.
const SNIFF_LEN: usize = 8192;

/// Decode `bytes` to a `String` with `\n` line endings. `declared` is a charset label
/// from the container, when there is one.
pub(crate) fn decode_text(
    bytes: &[u8],
    declared: Option<&str>,
    location: &str,
) -> Result<String, IngestError> {
    let (text, encoding) = decode_raw(bytes, declared, location)?;
    check_texty(&text, encoding, location)?;
    Ok(normalize_newlines(&text))
}

fn decode_raw(
    bytes: &[u8],
    declared: Option<&str>,
    location: &str,
) -> Result<(String, &'static Encoding), IngestError> {
    if bytes.starts_with(&[0xFF, 0xFE, 0, 0]) || bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Err(IngestError::Encoding {
            location: location.to_string(),
            detail: "it is UTF-32, which Verity does not read".into(),
        });
    }
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        return decode_with(enc, &bytes[bom_len..], location).map(|t| (t, enc));
    }
    if let Some(enc) = sniff_utf16(bytes) {
        return decode_with(enc, bytes, location).map(|t| (t, enc));
    }
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    if let Some(pos) = head.iter().position(|&b| b == 0) {
        return Err(IngestError::Binary {
            location: location.to_string(),
            detail: format!("NUL byte at offset {pos}"),
        });
    }
    if let Some(enc) = declared.and_then(|l| Encoding::for_label(l.trim().as_bytes())) {
        // A declared UTF-16 without BOM or NUL pattern is a lie (it would have NULs).
        if enc != UTF_16LE && enc != UTF_16BE {
            // Declared UTF-8 that is not valid UTF-8 falls through to guessing.
            if enc != UTF_8 || std::str::from_utf8(bytes).is_ok() {
                return decode_with(enc, bytes, location).map(|t| (t, enc));
            }
        }
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok((s.to_string(), UTF_8));
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let enc = detector.guess(None, false);
    decode_with(enc, bytes, location).map(|t| (t, enc))
}

/// UTF-16 without a BOM: ASCII-range text leaves a NUL in every other byte.
fn sniff_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(SNIFF_LEN) & !1];
    let pairs = head.len() / 2;
    if pairs < 4 {
        return None;
    }
    let (mut even_zero, mut odd_zero) = (0usize, 0usize);
    for pair in head.chunks_exact(2) {
        even_zero += usize::from(pair[0] == 0);
        odd_zero += usize::from(pair[1] == 0);
    }
    let mostly = |n: usize| n * 10 >= pairs * 6;
    let rarely = |n: usize| n * 20 <= pairs;
    if mostly(odd_zero) && rarely(even_zero) {
        Some(UTF_16LE)
    } else if mostly(even_zero) && rarely(odd_zero) {
        Some(UTF_16BE)
    } else {
        None
    }
}

fn decode_with(
    enc: &'static Encoding,
    bytes: &[u8],
    location: &str,
) -> Result<String, IngestError> {
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    if had_errors {
        let bad = text.chars().filter(|&c| c == '\u{FFFD}').count();
        let total = text.chars().count().max(1);
        // A stray bad byte is survivable; a file full of them was not in this encoding.
        if bad * 100 > total || (enc == UTF_8 && bad > 0 && total < 100) {
            return Err(IngestError::Encoding {
                location: location.to_string(),
                detail: format!("{bad} malformed sequences when read as {}", enc.name()),
            });
        }
    }
    Ok(text.into_owned())
}

/// Reject decoded text that is mostly control characters (binary junk without NULs).
fn check_texty(text: &str, enc: &'static Encoding, location: &str) -> Result<(), IngestError> {
    let mut total = 0usize;
    let mut junk = 0usize;
    for c in text.chars().take(SNIFF_LEN * 4) {
        total += 1;
        let control = c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{0C}');
        if control || c == '\u{FFFD}' {
            junk += 1;
        }
    }
    if junk >= 3 && junk * 50 > total {
        return Err(IngestError::Binary {
            location: location.to_string(),
            detail: format!(
                "{junk} of the first {total} characters are control characters when read as {}",
                enc.name()
            ),
        });
    }
    Ok(())
}

/// `\r\n` and lone `\r` become `\n`; form feeds become paragraph breaks; a leading BOM
/// that survived decoding is dropped.
pub(crate) fn normalize_newlines(s: &str) -> String {
    let s = s.strip_prefix('\u{FEFF}').unwrap_or(s);
    if !s.contains(['\r', '\u{0C}']) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\u{0C}' => out.push_str("\n\n"),
            c => out.push(c),
        }
    }
    out
}

/// Find `charset=` in the first bytes of an HTML document (`<meta charset>` or the
/// `http-equiv` form), as browsers do before parsing.
pub(crate) fn html_meta_charset(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(2048)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let needle = b"charset=";
    let pos = lower.windows(needle.len()).position(|w| w == needle)?;
    let rest = &head[pos + needle.len()..];
    let rest = rest
        .strip_prefix(b"\"")
        .or_else(|| rest.strip_prefix(b"'"))
        .unwrap_or(rest);
    let end = rest
        .iter()
        .position(|&b| matches!(b, b'"' | b'\'' | b';' | b'>' | b' ' | b'/'))
        .unwrap_or(rest.len());
    let label = std::str::from_utf8(&rest[..end]).ok()?.trim();
    (!label.is_empty()).then(|| label.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(b: &[u8]) -> Result<String, IngestError> {
        decode_text(b, None, "t")
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(dec("café".as_bytes()).unwrap(), "café");
        assert_eq!(dec(b"\xEF\xBB\xBFcaf\xC3\xA9").unwrap(), "café");
    }

    #[test]
    fn utf16_with_bom_both_orders() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("Zoë said hi".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(dec(&le).unwrap(), "Zoë said hi");
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("Zoë said hi".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(dec(&be).unwrap(), "Zoë said hi");
    }

    #[test]
    fn utf16_without_bom_is_sniffed() {
        let le: Vec<u8> = "Plain words in a row"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(dec(&le).unwrap(), "Plain words in a row");
    }

    #[test]
    fn latin1_is_guessed() {
        let (bytes, _, _) =
            encoding_rs::WINDOWS_1252.encode("Le café de la gare à Pérouse était fermé.");
        assert_eq!(
            dec(&bytes).unwrap(),
            "Le café de la gare à Pérouse était fermé."
        );
    }

    #[test]
    fn declared_charset_is_used() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode("naïve");
        assert_eq!(
            decode_text(&bytes, Some("iso-8859-1"), "t").unwrap(),
            "naïve"
        );
    }

    #[test]
    fn nul_bytes_are_binary() {
        let e = dec(b"PK\x03\x04\x00\x00junk").unwrap_err();
        assert_eq!(e.reason_code(), "binary");
        assert!(e.to_string().contains("NUL byte at offset 4"), "{e}");
    }

    #[test]
    fn control_junk_is_binary() {
        let junk: Vec<u8> = (1u8..=255).cycle().take(4000).collect();
        assert_eq!(dec(&junk).unwrap_err().reason_code(), "binary");
    }

    #[test]
    fn broken_utf16_is_an_encoding_error() {
        // Unpaired surrogates throughout.
        let mut b = vec![0xFF, 0xFE];
        for _ in 0..50 {
            b.extend_from_slice(&[0x00, 0xD8, b'a', 0x00]);
        }
        assert_eq!(dec(&b).unwrap_err().reason_code(), "encoding");
    }

    #[test]
    fn newlines_are_normalised() {
        assert_eq!(normalize_newlines("a\r\nb\rc\n"), "a\nb\nc\n");
        assert_eq!(normalize_newlines("\u{FEFF}a\u{0C}b"), "a\n\nb");
    }

    #[test]
    fn meta_charset_is_found() {
        assert_eq!(
            html_meta_charset(b"<html><head><meta charset=\"windows-1252\">").as_deref(),
            Some("windows-1252")
        );
        assert_eq!(
            html_meta_charset(
                b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\">"
            )
            .as_deref(),
            Some("ISO-8859-1")
        );
        assert_eq!(html_meta_charset(b"<html>"), None);
    }
}
