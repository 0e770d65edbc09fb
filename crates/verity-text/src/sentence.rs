//! Sentence splitting: the one splitter that ingest (passages are packed from its
//! sentences), compose (quotable sentences) and judge (evidence windows) share.
//!
//! A word is a run of non-whitespace (each CJK ideograph or kana is a word of its own).
//! After each word the splitter decides whether a sentence ends there: at `.`, `!`, `?`
//! (and CJK full stops), not after abbreviations ("Dr.", "e.g.", "Jan."), initials
//! ("J. R. Pell"), decimals or a lower-case continuation; after an initialism ("U.S.") or
//! a company suffix ("Inc.") only when a typical sentence opener follows. A paragraph
//! break (a blank line) always ends a sentence, and so does reaching
//! [`MAX_SENTENCE_WORDS`] words. Sentences never include surrounding whitespace.
//!
//! ```
//! use verity_text::sentence::{sentence_spans, sentences};
//! let text = "Dr. Ames said the U.S. plan costs 3.5 million. It starts in May.";
//! assert_eq!(sentences(text), vec![(0, 46), (47, 64)]);
//! let spans = sentence_spans(text);
//! assert_eq!(&text[spans[1].clone()], "It starts in May.");
//! ```

use std::ops::Range;

/// A sentence is cut after this many words even without a terminator.
pub const MAX_SENTENCE_WORDS: usize = 200;

/// One word of a text, as [`scan_words`] finds it.
#[derive(Debug, Clone, Copy)]
pub struct Word {
    pub start: usize,
    pub end: usize,
    /// Line breaks in the whitespace before this word (2+ means a paragraph break).
    pub nl_before: u32,
}

/// Split `text` into sentences, as byte ranges (for slicing `text` directly).
pub fn sentence_spans(text: &str) -> Vec<Range<usize>> {
    let mut s = SentenceSplitter::new(text);
    let mut out = Vec::new();
    let mut pending: Option<Word> = None;
    scan_words(text, |w| {
        if let Some(prev) = pending.replace(w) {
            if let Some(sent) = s.word(prev, Some(w)) {
                out.push(sent.start..sent.end);
            }
        }
    });
    if let Some(prev) = pending {
        if let Some(sent) = s.word(prev, None) {
            out.push(sent.start..sent.end);
        }
    }
    out
}

/// Split `text` into sentences, as `(start, end)` character offsets (what passages and
/// citations count in).
pub fn sentences(text: &str) -> Vec<(u64, u64)> {
    let mut conv = CharCounter::new(text);
    sentence_spans(text)
        .into_iter()
        .map(|r| (conv.at(r.start), conv.at(r.end)))
        .collect()
}

#[inline]
fn is_ascii_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// CJK ideographs, kana and CJK punctuation: languages without spaces between words.
#[inline]
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3000}'..='\u{303F}' // CJK symbols and punctuation
        | '\u{3040}'..='\u{30FF}' // kana
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FF01}'..='\u{FF0F}' | '\u{FF1A}'..='\u{FF20}' // fullwidth punctuation
        | '\u{20000}'..='\u{2FA1F}')
}

/// The char starting at byte `i` (a char boundary) and its length.
#[inline]
fn char_at(text: &str, i: usize) -> (char, usize) {
    let c = text[i..].chars().next().unwrap_or(' ');
    (c, c.len_utf8())
}

/// Call `f` for every word of `text`, in order. Tight loops over ASCII and two-byte
/// (Latin, Greek, Cyrillic...) characters; full decoding only for three- and four-byte
/// ones, where Unicode spaces and CJK live.
pub fn scan_words(text: &str, mut f: impl FnMut(Word)) {
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut i = 0;
    let mut nl = 0u32;
    loop {
        // Whitespace.
        while i < n {
            let b = bytes[i];
            if b < 0x80 {
                if !is_ascii_ws(b) {
                    break;
                }
                nl += u32::from(b == b'\n');
                i += 1;
            } else {
                let (c, len) = char_at(text, i);
                if !c.is_whitespace() {
                    break;
                }
                nl += match c {
                    '\u{2029}' => 2,
                    '\u{2028}' | '\u{85}' => 1,
                    _ => 0,
                };
                i += len;
            }
        }
        if i >= n {
            return;
        }
        let start = i;
        let nl_before = nl;
        nl = 0;
        if bytes[i] >= 0xE3 {
            let (c, len) = char_at(text, i);
            if is_cjk(c) {
                i += len;
                f(Word {
                    start,
                    end: i,
                    nl_before,
                });
                continue;
            }
        }
        // A word: up to whitespace or a CJK character.
        while i < n {
            let b = bytes[i];
            if b < 0x80 {
                if is_ascii_ws(b) {
                    break;
                }
                i += 1;
            } else if b < 0xE0 {
                // U+0085 and U+00A0 are the only two-byte spaces.
                if b == 0xC2 && matches!(bytes.get(i + 1), Some(0x85 | 0xA0)) {
                    break;
                }
                i += 2;
            } else {
                let (c, len) = char_at(text, i);
                if c.is_whitespace() || is_cjk(c) {
                    break;
                }
                i += len;
            }
        }
        f(Word {
            start,
            end: i,
            nl_before,
        });
    }
}

/// Characters that may follow a sentence terminator ("end." she said → `."`).
fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | ')' | ']' | '}' | '”' | '’' | '»' | '›' | '*' | '_'
    )
}

/// Characters that may precede the first letter of a sentence.
fn is_opener(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '(' | '[' | '{' | '“' | '‘' | '«' | '‹' | '¿' | '¡' | '*' | '_'
    )
}

/// Abbreviations after which a sentence never ends (titles, "e.g.", months, "No.").
const NEVER_BREAK: &[&str] = &[
    "mr", "mrs", "ms", "mx", "dr", "prof", "st", "mt", "ft", "gen", "gov", "sen", "rep", "rev",
    "hon", "pres", "supt", "insp", "det", "sgt", "capt", "cmdr", "col", "lt", "maj", "adm", "fr",
    "cllr", "e.g", "i.e", "a.k.a", "vs", "v", "cf", "ca", "approx", "fig", "figs", "vol", "vols",
    "no", "nos", "pp", "para", "sec", "art", "ch", "dept", "est", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "ave", "blvd", "rd", "op", "ed",
    "eds", "univ", "assn", "govt",
];

/// Abbreviations that end a sentence only when a typical sentence opener follows.
const MAYBE_BREAK: &[&str] = &[
    "jr", "sr", "inc", "ltd", "co", "corp", "llc", "plc", "bros", "etc", "al", "cie", "gmbh",
];

/// Words that typically open a sentence; after "U.S." or "Inc." they mean a new one.
const STARTERS: &[&str] = &[
    "The",
    "A",
    "An",
    "It",
    "He",
    "She",
    "They",
    "We",
    "I",
    "You",
    "This",
    "That",
    "These",
    "Those",
    "In",
    "On",
    "At",
    "But",
    "And",
    "However",
    "Its",
    "His",
    "Her",
    "Their",
    "Our",
    "There",
    "When",
    "While",
    "After",
    "Before",
    "As",
    "If",
    "For",
    "So",
    "Yet",
    "Some",
    "Many",
    "Most",
    "What",
    "Why",
    "How",
    "Who",
    "Officials",
    "According",
    "Meanwhile",
    "Still",
    "Also",
];

fn first_letter(word: &str) -> Option<char> {
    word.chars().find(|c| !is_opener(*c))
}

fn starts_lower(next: &str) -> bool {
    first_letter(next).is_some_and(char::is_lowercase)
}

fn is_starter(next: &str) -> bool {
    let core = next.trim_start_matches(is_opener);
    let core = core.trim_end_matches(|c: char| !c.is_alphanumeric());
    STARTERS.contains(&core)
}

/// Does a sentence end after `word`, given the word that follows?
fn ends_sentence(word: &str, next: &str) -> bool {
    let core = word.trim_end_matches(is_closer);
    let Some(last) = core.chars().next_back() else {
        return false;
    };
    match last {
        '。' | '！' | '？' => true,
        '!' | '?' | '‽' | '…' => !starts_lower(next),
        '.' => {
            if starts_lower(next) {
                return false;
            }
            let body = core.trim_end_matches('.').trim_start_matches(is_opener);
            if body.is_empty() {
                return true;
            }
            if NEVER_BREAK.iter().any(|a| a.eq_ignore_ascii_case(body)) {
                return false;
            }
            let mut chars = body.chars();
            if let (Some(c), None) = (chars.next(), chars.next()) {
                // An initial ("J. Ames") or a list letter.
                if c.is_alphabetic() {
                    return false;
                }
            }
            let initialism = body.contains('.')
                && body.split('.').all(|seg| {
                    !seg.is_empty() && seg.len() <= 3 && seg.chars().all(char::is_alphabetic)
                });
            if initialism || MAYBE_BREAK.iter().any(|a| a.eq_ignore_ascii_case(body)) {
                return is_starter(next);
            }
            true
        }
        _ => false,
    }
}

/// Cheap pre-check: can `word` end with a terminator (possibly followed by closers)?
#[inline]
fn may_terminate(word: &[u8]) -> bool {
    match word.last() {
        Some(b'.' | b'!' | b'?' | b'"' | b'\'' | b')' | b']' | b'}' | b'*' | b'_') => true,
        Some(&b) => b >= 0x80,
        None => false,
    }
}

/// One sentence, as byte offsets, with its word count.
#[derive(Debug, Clone, Copy)]
pub struct Sentence {
    pub start: usize,
    pub end: usize,
    pub words: usize,
    /// A paragraph break (a blank line) comes before it.
    pub para_before: bool,
}

/// Decides, word by word, where sentences end (see the module docs).
pub struct SentenceSplitter<'a> {
    text: &'a str,
    cur: Option<Sentence>,
}

impl<'a> SentenceSplitter<'a> {
    pub fn new(text: &'a str) -> Self {
        SentenceSplitter { text, cur: None }
    }

    /// Feed one word; returns a sentence when one ends after it.
    #[inline]
    pub fn word(&mut self, w: Word, next: Option<Word>) -> Option<Sentence> {
        let s = self.cur.get_or_insert(Sentence {
            start: w.start,
            end: w.end,
            words: 0,
            para_before: w.nl_before >= 2,
        });
        s.end = w.end;
        s.words += 1;
        let ends = match next {
            None => true,
            Some(n) if n.nl_before >= 2 => true,
            Some(_) if s.words >= MAX_SENTENCE_WORDS => true,
            Some(n) => {
                let wb = &self.text.as_bytes()[w.start..w.end];
                may_terminate(wb)
                    && ends_sentence(&self.text[w.start..w.end], &self.text[n.start..n.end])
            }
        };
        if ends {
            self.cur.take()
        } else {
            None
        }
    }
}

/// Byte → char offsets for increasing byte positions, in linear total time.
pub struct CharCounter<'a> {
    text: &'a str,
    byte: usize,
    chars: u64,
}

impl<'a> CharCounter<'a> {
    pub fn new(text: &'a str) -> Self {
        CharCounter {
            text,
            byte: 0,
            chars: 0,
        }
    }

    #[inline]
    pub fn at(&mut self, b: usize) -> u64 {
        if b >= self.byte {
            self.chars += self.text[self.byte..b].chars().count() as u64;
        } else {
            self.chars -= self.text[b..self.byte].chars().count() as u64;
        }
        self.byte = b;
        self.chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn char_slice(text: &str, a: u64, b: u64) -> Option<&str> {
        let idx = |c: u64| {
            text.char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .nth(c as usize)
        };
        Some(&text[idx(a)?..idx(b)?])
    }

    fn sents(text: &str) -> Vec<&str> {
        sentences(text)
            .into_iter()
            .map(|(a, b)| char_slice(text, a, b).unwrap())
            .collect()
    }

    #[test]
    fn abbreviations_decimals_and_initials_do_not_split() {
        let t = "Dr. Ames met Mr. J. R. Pell at 3 p.m. on Jan. 5. The U.S. Army paid $3.5 million, e.g. for pipes. \
                 Acme Inc. The firm agreed. Smith et al. argued otherwise! Did they? \"Yes.\" She left... and came back.";
        assert_eq!(
            sents(t),
            vec![
                "Dr. Ames met Mr. J. R. Pell at 3 p.m. on Jan. 5.",
                "The U.S. Army paid $3.5 million, e.g. for pipes.",
                "Acme Inc.",
                "The firm agreed.",
                "Smith et al. argued otherwise!",
                "Did they?",
                "\"Yes.\"",
                "She left... and came back.",
            ]
        );
    }

    #[test]
    fn initialism_before_a_starter_ends_the_sentence() {
        assert_eq!(
            sents("They moved to the U.S. The move was hard."),
            vec!["They moved to the U.S.", "The move was hard."]
        );
    }

    #[test]
    fn paragraphs_end_sentences_and_cjk_splits() {
        assert_eq!(
            sents("Heading\n\nBody text here"),
            vec!["Heading", "Body text here"]
        );
        assert_eq!(
            sents("市议会开会。预算通过了。"),
            vec!["市议会开会。", "预算通过了。"]
        );
    }

    #[test]
    fn byte_spans_and_char_offsets_agree() {
        let t = "Café crème costs €3. Ça va? Oui.";
        let spans = sentence_spans(t);
        let chars = sentences(t);
        assert_eq!(spans.len(), 3);
        for (r, (a, b)) in spans.iter().zip(chars) {
            assert_eq!(Some(&t[r.clone()]), char_slice(t, a, b));
        }
        assert!(sentence_spans("  \n\n ").is_empty());
    }
}
