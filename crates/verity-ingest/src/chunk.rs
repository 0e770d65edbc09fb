//! Sentence-aware passages with exact character offsets.
//!
//! One pass over the text finds words (runs of non-whitespace; each CJK ideograph or
//! kana counts as a word of its own), decides after each word whether a sentence ends
//! there, and packs whole sentences into passages:
//!
//! * a passage closes once it holds [`TARGET_WORDS`] words, or when the next sentence
//!   would take it past [`MAX_WORDS`];
//! * a paragraph break (a blank line) closes a passage that already holds
//!   [`MIN_WORDS`] words; shorter ones carry on into the next paragraph;
//! * a sentence longer than [`MAX_WORDS`] is cut at word boundaries every
//!   [`MAX_WORDS`] words;
//! * a tail shorter than [`MIN_WORDS`]` / 3` joins the passage before it when that
//!   crosses no paragraph break and stays within [`MAX_WORDS`].
//!
//! Offsets are counted in characters incrementally (passages come out in order), so the
//! whole thing is linear in the input.

use verity_types::PassageSpan;

/// A passage: `char_slice(source, start, end) == Some(text)` holds exactly, and `text`
/// is the source's own slice starting at byte `byte_start` (no copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// Character offset of the first character.
    pub start: u64,
    /// Character offset one past the last character.
    pub end: u64,
    /// Byte offset of the first character.
    pub byte_start: usize,
    pub text: &'a str,
}

impl Chunk<'_> {
    /// Its position in the source, as the store keeps it.
    pub fn span(&self) -> PassageSpan {
        PassageSpan {
            start: self.start,
            end: self.end,
            bytes: (self.byte_start, self.byte_start + self.text.len()),
        }
    }
}

/// A paragraph break closes a passage with at least this many words.
pub const MIN_WORDS: usize = 60;
/// A passage closes once it reaches this many words.
pub const TARGET_WORDS: usize = 120;
/// No passage grows past this many words (except one made of a single unbreakable word).
pub const MAX_WORDS: usize = 200;

#[derive(Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
    /// Line breaks in the whitespace before this word (2+ means a paragraph break).
    nl_before: u32,
}

/// Split `text` into passages. See the module docs for the rules.
///
/// ```
/// use verity_ingest::chunk;
/// use verity_types::char_slice;
/// let text = "Dr. Ames said the U.S. plan costs 3.5 million. It starts in May.";
/// let chunks = chunk(text);
/// assert_eq!(chunks.len(), 1);
/// assert_eq!(char_slice(text, chunks[0].start, chunks[0].end), Some(chunks[0].text));
/// ```
pub fn chunk(text: &str) -> Vec<Chunk<'_>> {
    let mut packer = Packer::new(text);
    let mut pending: Option<Word> = None;
    scan_words(text, |w| {
        if let Some(prev) = pending.replace(w) {
            packer.word(prev, Some(w));
        }
    });
    if let Some(prev) = pending {
        packer.word(prev, None);
    }
    packer.finish()
}

/// Split `text` into sentences, as `(start, end)` character offsets. Exposed for callers
/// that cite single sentences; uses the same rules as [`chunk`].
pub fn sentences(text: &str) -> Vec<(u64, u64)> {
    let mut s = SentenceSplitter::new(text);
    let mut out = Vec::new();
    let mut pending: Option<Word> = None;
    scan_words(text, |w| {
        if let Some(prev) = pending.replace(w) {
            if let Some(sent) = s.word(prev, Some(w)) {
                out.push((sent.start, sent.end));
            }
        }
    });
    if let Some(prev) = pending {
        if let Some(sent) = s.word(prev, None) {
            out.push((sent.start, sent.end));
        }
    }
    let mut conv = CharCounter::new(text);
    out.into_iter()
        .map(|(a, b)| (conv.at(a), conv.at(b)))
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
fn scan_words(text: &str, mut f: impl FnMut(Word)) {
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

#[derive(Clone, Copy)]
struct Sentence {
    start: usize,
    end: usize,
    words: usize,
    para_before: bool,
}

struct SentenceSplitter<'a> {
    text: &'a str,
    cur: Option<Sentence>,
}

impl<'a> SentenceSplitter<'a> {
    fn new(text: &'a str) -> Self {
        SentenceSplitter { text, cur: None }
    }

    /// Feed one word; returns a sentence when one ends after it.
    #[inline]
    fn word(&mut self, w: Word, next: Option<Word>) -> Option<Sentence> {
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
            Some(_) if s.words >= MAX_WORDS => true,
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

#[derive(Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    words: usize,
    /// Started at a paragraph break that closed a full passage: never merge backwards.
    after_para: bool,
}

struct Packer<'a> {
    text: &'a str,
    splitter: SentenceSplitter<'a>,
    cur: Option<Span>,
    done: Vec<Span>,
}

impl<'a> Packer<'a> {
    fn new(text: &'a str) -> Self {
        Packer {
            text,
            splitter: SentenceSplitter::new(text),
            cur: None,
            done: Vec::new(),
        }
    }

    #[inline]
    fn word(&mut self, w: Word, next: Option<Word>) {
        if let Some(s) = self.splitter.word(w, next) {
            self.sentence(s);
        }
    }

    fn sentence(&mut self, s: Sentence) {
        let mut after_para = false;
        if let Some(cur) = self.cur {
            let close = if s.para_before && cur.words >= MIN_WORDS {
                after_para = true;
                true
            } else {
                cur.words + s.words > MAX_WORDS || cur.words >= TARGET_WORDS
            };
            if close {
                self.done.push(cur);
                self.cur = None;
            }
        }
        match &mut self.cur {
            Some(cur) => {
                cur.end = s.end;
                cur.words += s.words;
            }
            None => {
                self.cur = Some(Span {
                    start: s.start,
                    end: s.end,
                    words: s.words,
                    after_para,
                })
            }
        }
    }

    fn finish(mut self) -> Vec<Chunk<'a>> {
        if let Some(last) = self.cur.take() {
            match self.done.last_mut() {
                Some(prev)
                    if last.words < MIN_WORDS / 3
                        && !last.after_para
                        && prev.words + last.words <= MAX_WORDS =>
                {
                    prev.end = last.end;
                    prev.words += last.words;
                }
                _ => self.done.push(last),
            }
        }
        let mut conv = CharCounter::new(self.text);
        self.done
            .iter()
            .map(|s| Chunk {
                start: conv.at(s.start),
                end: conv.at(s.end),
                byte_start: s.start,
                text: &self.text[s.start..s.end],
            })
            .collect()
    }
}

/// Byte → char offsets for increasing byte positions, in linear total time.
struct CharCounter<'a> {
    text: &'a str,
    byte: usize,
    chars: u64,
}

impl<'a> CharCounter<'a> {
    fn new(text: &'a str) -> Self {
        CharCounter {
            text,
            byte: 0,
            chars: 0,
        }
    }

    fn at(&mut self, b: usize) -> u64 {
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
    use proptest::prelude::*;
    use verity_types::char_slice;

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

    fn words(s: &str) -> usize {
        s.split_whitespace().count()
    }

    fn sentence_of(n: usize, tag: &str) -> String {
        let mut s: Vec<String> = (0..n - 1).map(|i| format!("{tag}{i}")).collect();
        s.push("end.".into());
        let mut out = s.join(" ");
        out[..1].make_ascii_uppercase();
        out
    }

    #[test]
    fn packs_sentences_into_target_sized_passages() {
        let text: Vec<String> = (0..40)
            .map(|i| sentence_of(20, &format!("w{i}x")))
            .collect();
        let text = text.join(" ");
        let chunks = chunk(&text);
        assert!(chunks.len() >= 5, "{}", chunks.len());
        for c in &chunks {
            let n = words(c.text);
            assert!((60..=200).contains(&n), "{n}");
            assert!(c.text.ends_with("end."));
        }
    }

    #[test]
    fn paragraph_break_closes_a_full_passage_only() {
        let p1 = [sentence_of(35, "a"), sentence_of(35, "b")].join(" "); // 70 words
        let p2 = sentence_of(30, "c");
        let p3 = sentence_of(10, "d");
        let text = format!("{p1}\n\n{p2}\n\n{p3}");
        let chunks = chunk(&text);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].text, p1);
        // p2 (30 words) is below MIN_WORDS, so p3 joins it across the break.
        assert_eq!(chunks[1].text, format!("{p2}\n\n{p3}"));
    }

    #[test]
    fn long_sentence_is_cut_at_word_boundaries() {
        let text = sentence_of(450, "z");
        let chunks = chunk(&text);
        assert_eq!(
            chunks.iter().map(|c| words(c.text)).collect::<Vec<_>>(),
            vec![200, 200, 50]
        );
        for c in &chunks {
            assert_eq!(char_slice(&text, c.start, c.end), Some(c.text));
        }
    }

    #[test]
    fn short_tail_joins_previous_passage() {
        let text = [sentence_of(125, "a"), sentence_of(10, "b")].join(" ");
        let chunks = chunk(&text);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].text, text);
    }

    #[test]
    fn offsets_are_chars_and_trimmed() {
        let text = "  \n Ünïcödé wörds hére. Ànd möre.  \n";
        let chunks = chunk(text);
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].text, "Ünïcödé wörds hére. Ànd möre.");
        assert_eq!(chunks[0].start, 4);
        assert_eq!(
            char_slice(text, chunks[0].start, chunks[0].end),
            Some(chunks[0].text)
        );
    }

    #[test]
    fn empty_and_whitespace_give_nothing() {
        assert!(chunk("").is_empty());
        assert!(chunk(" \n\t\u{3000} ").is_empty());
    }

    fn check_invariants(text: &str) -> Result<(), TestCaseError> {
        let chunks = chunk(text);
        let mut prev_end = 0u64;
        let chars: Vec<char> = text.chars().collect();
        let mut covered = vec![false; chars.len()];
        for c in &chunks {
            prop_assert!(c.start < c.end);
            prop_assert!(c.start >= prev_end, "overlap or out of order");
            prop_assert_eq!(char_slice(text, c.start, c.end), Some(c.text));
            prop_assert_eq!(
                c.span().text(text),
                c.text,
                "byte span slices the same text"
            );
            prop_assert_eq!(c.text.trim(), c.text);
            for flag in &mut covered[c.start as usize..c.end as usize] {
                *flag = true;
            }
            prev_end = c.end;
        }
        for (i, ch) in chars.iter().enumerate() {
            prop_assert!(
                ch.is_whitespace() || covered[i],
                "char {i} {ch:?} not covered"
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn chunks_slice_back_cover_and_do_not_overlap(text in "\\PC{0,400}") {
            check_invariants(&text)?;
        }

        #[test]
        fn sentence_like_text_keeps_invariants(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("Dr.".to_string()), Just("U.S.".to_string()), Just("3.5".to_string()),
                    Just("end.".to_string()), Just("Why?".to_string()), Just("\n\n".to_string()),
                    Just("\"Quote.\"".to_string()), Just("市。".to_string()), Just("é".to_string()),
                    "[a-zA-Z]{1,8}", Just(" ".to_string()), Just("\u{2029}".to_string()),
                    Just("\u{A0}".to_string()), Just("\u{85}".to_string()), Just("a\u{3000}b".to_string()),
                ],
                0..600,
            )
        ) {
            let text = parts.join(" ");
            check_invariants(&text)?;
            for c in chunk(&text) {
                prop_assert!(c.text.split_whitespace().count() <= MAX_WORDS + MAX_WORDS / 10 + 5);
            }
        }
    }
}
