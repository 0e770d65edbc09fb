//! Verity's English analyser in one pass: words, lowercased, long ones dropped, stemmed.
//!
//! It gives exactly the tokens of tantivy's chain `SimpleTokenizer` → `RemoveLongFilter` →
//! `LowerCaser` → `Stemmer(English)` (same words, same byte offsets, same Snowball stems;
//! a test below holds it to that), so indexes built with either read the same. Doing it in
//! one pass matters because analysis was a fifth of all ingest CPU time:
//! - words are found byte by byte on ASCII text, decoding a `char` only where needed;
//! - each tokenizer keeps a bounded map from a word *as written* to its stem, and text
//!   repeats its words (word frequencies follow Zipf's law), so most words cost one hash
//!   lookup and one copy: no lowercasing, no Snowball. The map keeps each word and its
//!   stem side by side in one buffer, so a hit touches two cache lines (slot, entry), not
//!   three (slot, boxed word, boxed stem).

use rustc_hash::{FxBuildHasher, FxHashMap};
use std::hash::BuildHasher;
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer, Token,
    TokenStream, Tokenizer,
};

/// Most words a cache holds before it starts over (a few MB at most).
const MAX_CACHED: usize = 100_000;

/// Words this long (in bytes, as written) or longer are dropped, as by
/// `RemoveLongFilter::limit(MAX_WORD_BYTES)`.
pub const MAX_WORD_BYTES: usize = 40;

/// tantivy's own filter chain that [`EnglishTokenizer`] reproduces token for token
/// (`SimpleTokenizer` → `RemoveLongFilter` → `LowerCaser` → `Stemmer(English)`): the
/// reference for its tests and benchmarks.
pub fn reference_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The tokenizer. Clones share nothing: each indexing thread keeps its own cache.
#[derive(Clone, Default)]
pub struct EnglishTokenizer {
    cache: StemCache,
}

/// Word (as written) → stem. Slots are keyed by the word's 64-bit hash and point into one
/// buffer holding the word followed by its stem; a lookup compares the word itself, so a
/// hash collision is a miss (the colliding word is stemmed, not cached), never a wrong stem.
#[derive(Clone, Default)]
struct StemCache {
    /// hash → (offset in `entries`, word length, stem length), lengths in bytes.
    slots: FxHashMap<u64, (u32, u8, u8)>,
    entries: String,
}

impl StemCache {
    fn len(&self) -> usize {
        self.slots.len()
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.entries.clear();
    }

    fn get(&self, hash: u64, word: &str) -> Option<&str> {
        let &(at, word_len, stem_len) = self.slots.get(&hash)?;
        let at = at as usize;
        let mid = at + usize::from(word_len);
        let end = mid + usize::from(stem_len);
        if self.entries.get(at..mid)? != word {
            return None;
        }
        self.entries.get(mid..end)
    }

    fn insert(&mut self, hash: u64, word: &str, stem: &str) {
        let (Ok(word_len), Ok(stem_len), Ok(at)) = (
            u8::try_from(word.len()),
            u8::try_from(stem.len()),
            u32::try_from(self.entries.len()),
        ) else {
            return;
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = self.slots.entry(hash) {
            slot.insert((at, word_len, stem_len));
            self.entries.push_str(word);
            self.entries.push_str(stem);
        }
    }
}

impl Tokenizer for EnglishTokenizer {
    type TokenStream<'a> = EnglishTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> EnglishTokenStream<'a> {
        if self.cache.len() > MAX_CACHED {
            self.cache.clear();
        }
        EnglishTokenStream {
            text,
            pos: 0,
            token: Token::default(),
            cache: &mut self.cache,
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
            lower: String::new(),
        }
    }
}

pub struct EnglishTokenStream<'a> {
    text: &'a str,
    /// Byte offset where the search for the next word starts.
    pos: usize,
    token: Token,
    cache: &'a mut StemCache,
    stemmer: frostem::Stemmer,
    lower: String,
}

/// Is the character starting at byte `i` of `text` alphanumeric, and how long is it?
#[inline]
fn alnum_at(text: &str, i: usize) -> (bool, usize) {
    let b = text.as_bytes()[i];
    if b.is_ascii() {
        return (b.is_ascii_alphanumeric(), 1);
    }
    match text[i..].chars().next() {
        Some(c) => (c.is_alphanumeric(), c.len_utf8()),
        None => (false, 1),
    }
}

impl EnglishTokenStream<'_> {
    /// The next word's byte span, as `SimpleTokenizer` finds them.
    fn next_word(&mut self) -> Option<(usize, usize)> {
        let n = self.text.len();
        let mut i = self.pos;
        while i < n {
            let (alnum, len) = alnum_at(self.text, i);
            if alnum {
                break;
            }
            i += len;
        }
        if i >= n {
            self.pos = n;
            return None;
        }
        let start = i;
        while i < n {
            let (alnum, len) = alnum_at(self.text, i);
            if !alnum {
                break;
            }
            i += len;
        }
        // The character after the word is a separator: skip it, as `SimpleTokenizer` does.
        self.pos = i;
        Some((start, i))
    }
}

impl TokenStream for EnglishTokenStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            let Some((from, to)) = self.next_word() else {
                return false;
            };
            self.token.position = self.token.position.wrapping_add(1);
            let word = &self.text[from..to];
            if word.len() >= MAX_WORD_BYTES {
                continue;
            }
            self.token.offset_from = from;
            self.token.offset_to = to;
            self.token.text.clear();
            let hash = FxBuildHasher.hash_one(word);
            if let Some(stem) = self.cache.get(hash, word) {
                self.token.text.push_str(stem);
                return true;
            }
            self.lower.clear();
            if word.is_ascii() {
                self.lower.push_str(word);
                self.lower.make_ascii_lowercase();
            } else {
                // As tantivy's `LowerCaser`: per character, no final-sigma rule.
                for c in word.chars() {
                    self.lower.extend(c.to_lowercase());
                }
            }
            let stem = self.stemmer.stem(&self.lower);
            self.token.text.push_str(&stem);
            self.cache.insert(hash, word, &stem);
            return true;
        }
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Tok = (String, usize, usize, usize);

    fn tokens(a: &mut TextAnalyzer, text: &str) -> Vec<Tok> {
        let mut out = Vec::new();
        a.token_stream(text).process(&mut |t: &Token| {
            out.push((t.text.clone(), t.offset_from, t.offset_to, t.position))
        });
        out
    }

    #[test]
    fn tokens_match_tantivys_chain_cached_or_not() {
        let mut ours = TextAnalyzer::from(EnglishTokenizer::default());
        let mut theirs = reference_analyzer();
        let text = "Running runners ran; the councils' flooding barriers were FLOODED again, \
                    and generously generated generations of running water ran. Ösel's \
                    ΣΊΣΥΦΟΣ café — naïve 12,5 km² x2 \
                    supercalifragilisticexpialidociousnessandthensome end";
        // Twice: the second pass is served from the cache.
        for _ in 0..2 {
            assert_eq!(tokens(&mut ours, text), tokens(&mut theirs, text));
        }
        let stems: Vec<String> = tokens(&mut ours, "Barriers flooding")
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(stems, vec!["barrier", "flood"]);
    }

    #[test]
    fn a_hash_collision_is_a_miss_not_a_wrong_stem() {
        let mut c = StemCache::default();
        c.insert(7, "flooding", "flood");
        assert_eq!(c.get(7, "flooding"), Some("flood"));
        // Another word with the same hash is not served the first one's stem, and does
        // not replace it.
        assert_eq!(c.get(7, "running"), None);
        c.insert(7, "running", "run");
        assert_eq!(c.get(7, "running"), None);
        assert_eq!(c.get(7, "flooding"), Some("flood"));
        assert_eq!(c.get(8, "flooding"), None);
        c.clear();
        assert_eq!(c.len(), 0);
        assert_eq!(c.get(7, "flooding"), None);
    }

    #[test]
    fn long_words_are_dropped_and_empty_text_has_no_tokens() {
        let mut ours = TextAnalyzer::from(EnglishTokenizer::default());
        let long = "a".repeat(MAX_WORD_BYTES);
        let got = tokens(&mut ours, &format!("{long} short"));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "short");
        assert!(tokens(&mut ours, "").is_empty());
        assert!(tokens(&mut ours, " ,.; — ").is_empty());
    }

    proptest! {
        #[test]
        fn any_text_gives_tantivys_tokens(text in "[a-zA-Z0-9 .,'éÖΣß中\\-]{0,80}") {
            let mut ours = TextAnalyzer::from(EnglishTokenizer::default());
            let mut theirs = reference_analyzer();
            prop_assert_eq!(tokens(&mut ours, &text), tokens(&mut theirs, &text));
        }
    }
}
