//! Character-offset helpers. Offsets in Verity are Unicode scalar (char) offsets so
//! that they mean the same thing in every language a client is written in... almost:
//! JavaScript counts UTF-16 units, so the JSON output also carries the passage text.

/// Slice `text` by character offsets `[start, end)`. `None` when out of range.
pub fn char_slice(text: &str, start: u64, end: u64) -> Option<&str> {
    if start > end {
        return None;
    }
    let b0 = char_to_byte(text, start)?;
    let b1 = char_to_byte(text, end)?;
    text.get(b0..b1)
}

/// Byte offset of the `n`th character; `Some(text.len())` for `n == char count`.
pub fn char_to_byte(text: &str, n: u64) -> Option<usize> {
    let n = usize::try_from(n).ok()?;
    if n == 0 {
        return Some(0);
    }
    match text.char_indices().nth(n) {
        Some((b, _)) => Some(b),
        None if text.chars().count() == n => Some(text.len()),
        None => None,
    }
}

/// Character offset of byte offset `b` (which must be on a char boundary).
pub fn byte_to_char(text: &str, b: usize) -> Option<u64> {
    if !text.is_char_boundary(b) {
        return None;
    }
    Some(text[..b].chars().count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slices_multibyte_text() {
        assert_eq!(char_slice("añb", 1, 2), Some("ñ"));
        assert_eq!(char_slice("añb", 0, 3), Some("añb"));
        assert_eq!(char_slice("añb", 2, 4), None);
        assert_eq!(char_slice("añb", 2, 1), None);
    }

    proptest! {
        #[test]
        fn byte_and_char_offsets_round_trip(s in "\\PC{0,40}", cut in 0usize..40) {
            let n = s.chars().count();
            let cut = cut.min(n) as u64;
            let b = char_to_byte(&s, cut).unwrap();
            prop_assert_eq!(byte_to_char(&s, b), Some(cut));
        }
    }
}
