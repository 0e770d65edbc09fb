//! Verity's English analyser in one pass: words, lowercased, long ones dropped, stemmed.
//!
//! It gives exactly the tokens of tantivy's chain `SimpleTokenizer` → `RemoveLongFilter` →
//! `LowerCaser` → `Stemmer(English)` (same words, same byte offsets, same Snowball stems;
//! a test below holds it to that), so indexes built with either read the same. Doing it in
//! one pass matters because analysis was a fifth of all ingest CPU time:
//! - words are found byte by byte on ASCII text, decoding a `char` only where needed;
//! - each tokenizer keeps a bounded map from a word *as written* to its stem, and text
//!   repeats its words (word frequencies follow Zipf's law), so most words cost one hash
//!   lookup and one copy: no lowercasing, no Snowball.

use rustc_hash::FxHashMap;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Most words a cache holds before it starts over (a few MB at most).
const MAX_CACHED: usize = 100_000;

/// Words this long (in bytes, as written) or longer are dropped, as by
/// `RemoveLongFilter::limit(MAX_WORD_BYTES)`.
pub const MAX_WORD_BYTES: usize = 40;

/// The tokenizer. Clones share nothing: each indexing thread keeps its own cache.
#[derive(Clone, Default)]
pub struct EnglishTokenizer {
    cache: FxHashMap<Box<str>, Box<str>>,
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
    cache: &'a mut FxHashMap<Box<str>, Box<str>>,
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
            if let Some(stem) = self.cache.get(word) {
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
            self.cache.insert(word.into(), stem.as_ref().into());
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
    use tantivy::tokenizer::{
        Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
    };

    type Tok = (String, usize, usize, usize);

    fn tokens(a: &mut TextAnalyzer, text: &str) -> Vec<Tok> {
        let mut out = Vec::new();
        a.token_stream(text).process(&mut |t: &Token| {
            out.push((t.text.clone(), t.offset_from, t.offset_to, t.position))
        });
        out
    }

    fn tantivy_chain() -> TextAnalyzer {
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::English))
            .build()
    }

    #[test]
    fn tokens_match_tantivys_chain_cached_or_not() {
        let mut ours = TextAnalyzer::from(EnglishTokenizer::default());
        let mut theirs = tantivy_chain();
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
            let mut theirs = tantivy_chain();
            prop_assert_eq!(tokens(&mut ours, &text), tokens(&mut theirs, &text));
        }
    }
}
