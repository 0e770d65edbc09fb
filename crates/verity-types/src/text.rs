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

/// Text made safe to print to a terminal: control characters (C0 except `\n` and
/// `\t`, DEL, and C1 such as U+009B CSI) are removed, and so are whole escape
/// sequences — CSI (`ESC [` ... final byte), OSC, DCS, APC, PM and SOS strings (up to
/// BEL or ST) and two-character `ESC x` escapes — so a document's title or text can
/// neither recolour the terminal, move the cursor, set the window title, write to the
/// clipboard nor plant a hyperlink. Borrowed when there was nothing to remove.
pub fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    fn is_control(c: char) -> bool {
        (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}')
    }
    if !s.chars().any(is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    #[derive(PartialEq)]
    enum State {
        Text,
        /// After ESC.
        Escape,
        /// Inside a CSI sequence: parameters and intermediates until a final byte.
        Csi,
        /// Inside an OSC/DCS/APC/PM/SOS string: until BEL or ST.
        Str,
        /// ESC seen inside a string (`ESC \` is ST).
        StrEscape,
    }
    let mut out = String::with_capacity(s.len());
    let mut state = State::Text;
    for c in s.chars() {
        state = match state {
            State::Text => match c {
                '\u{1b}' => State::Escape,
                '\u{9b}' => State::Csi,
                '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => State::Str,
                c if is_control(c) => State::Text,
                c => {
                    out.push(c);
                    State::Text
                }
            },
            State::Escape => match c {
                '[' => State::Csi,
                ']' | 'P' | 'X' | '^' | '_' => State::Str,
                // `ESC x`: the escape and its one character go; a control character
                // after ESC goes too, and the text after it stays.
                _ => State::Text,
            },
            State::Csi => match c {
                '\u{40}'..='\u{7e}' => State::Text,
                '\u{20}'..='\u{3f}' => State::Csi,
                // Anything else ends the sequence and is kept if printable.
                c if is_control(c) => State::Text,
                c => {
                    out.push(c);
                    State::Text
                }
            },
            State::Str => match c {
                '\u{7}' | '\u{9c}' => State::Text,
                '\u{1b}' => State::StrEscape,
                _ => State::Str,
            },
            State::StrEscape => match c {
                '\\' => State::Text,
                '\u{1b}' => State::StrEscape,
                _ => State::Str,
            },
        };
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn terminal_safe_strips_escapes_and_controls() {
        let t = |s: &str| terminal_safe(s).into_owned();
        // Colour (CSI), window title (OSC ... BEL), hyperlink (OSC 8 ... ST).
        assert_eq!(t("\u{1b}[31mred\u{1b}[0m title"), "red title");
        assert_eq!(t("a\u{1b}]0;pwned\u{7}b"), "ab");
        assert_eq!(
            t("\u{1b}]8;;http://evil.example\u{1b}\\click\u{1b}]8;;\u{1b}\\"),
            "click"
        );
        // Clipboard write (OSC 52), C1 CSI, bare controls; \n and \t stay.
        assert_eq!(t("x\u{1b}]52;c;ZXZpbA==\u{7}y"), "xy");
        assert_eq!(t("\u{9b}2Jclear"), "clear");
        assert_eq!(
            t("bell\u{7} back\u{8}space\r\nline\tcol\u{7f}"),
            "bell backspace\nline\tcol"
        );
        assert_eq!(t("\u{1b}cRIS"), "RIS");
        // Plain text is untouched and not copied.
        assert!(matches!(
            terminal_safe("Kellbridge weir — “closed”\n"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    proptest! {
        #[test]
        fn terminal_safe_leaves_no_control_characters(s in "\\PC*|[\\x00-\\x{a0}a\\[\\]]{0,40}") {
            let out = terminal_safe(&s);
            prop_assert!(out.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'));
        }
    }

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
