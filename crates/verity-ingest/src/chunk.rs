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

use verity_text::sentence::{scan_words, CharCounter, Sentence, SentenceSplitter, Word};
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
/// No passage grows past this many words (except one made of a single unbreakable word):
/// the sentence splitter cuts a sentence this long, so whole sentences always fit.
pub const MAX_WORDS: usize = verity_text::sentence::MAX_SENTENCE_WORDS;

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use verity_types::char_slice;

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
