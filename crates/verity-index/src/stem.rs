//! English Snowball stemming with a cache of the words already seen.
//!
//! The stemmer was a fifth of all indexing CPU time, and text repeats its words (word
//! frequencies follow Zipf's law), so each tokenizer keeps a bounded map from word to stem.
//! The stems are exactly those of tantivy's `Stemmer` filter (same Snowball algorithm), so
//! indexes built with either read the same.

use std::collections::HashMap;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Most words a cache holds before it starts over (a few MB at most).
const MAX_CACHED: usize = 100_000;

/// The token filter: lowercase tokens in, English stems out.
#[derive(Clone, Copy, Debug, Default)]
pub struct CachedEnglishStemmer;

impl TokenFilter for CachedEnglishStemmer {
    type Tokenizer<T: Tokenizer> = CachedStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> CachedStemmerFilter<T> {
        CachedStemmerFilter {
            inner: tokenizer,
            cache: HashMap::new(),
        }
    }
}

#[derive(Clone)]
pub struct CachedStemmerFilter<T> {
    inner: T,
    cache: HashMap<String, String>,
}

impl<T: Tokenizer> Tokenizer for CachedStemmerFilter<T> {
    type TokenStream<'a> = CachedStemmerStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        if self.cache.len() > MAX_CACHED {
            self.cache.clear();
        }
        CachedStemmerStream {
            tail: self.inner.token_stream(text),
            cache: &mut self.cache,
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
        }
    }
}

pub struct CachedStemmerStream<'a, T> {
    tail: T,
    cache: &'a mut HashMap<String, String>,
    stemmer: frostem::Stemmer,
}

impl<T: TokenStream> TokenStream for CachedStemmerStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if let Some(stem) = self.cache.get(token.text.as_str()) {
            if stem != &token.text {
                token.text.clear();
                token.text.push_str(stem);
            }
        } else {
            let stem = self.stemmer.stem(&token.text).into_owned();
            self.cache.insert(token.text.clone(), stem.clone());
            token.text = stem;
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::{Language, LowerCaser, SimpleTokenizer, Stemmer, TextAnalyzer};

    fn tokens(a: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize)> {
        let mut out = Vec::new();
        a.token_stream(text)
            .process(&mut |t: &Token| out.push((t.text.clone(), t.offset_from, t.offset_to)));
        out
    }

    #[test]
    fn stems_match_tantivys_stemmer_cached_or_not() {
        let mut cached = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(CachedEnglishStemmer)
            .build();
        let mut plain = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::English))
            .build();
        let text = "Running runners ran; the councils' flooding barriers were flooded again, \
                    and generously generated generations of running water ran.";
        // Twice: the second pass is served from the cache.
        for _ in 0..2 {
            assert_eq!(tokens(&mut cached, text), tokens(&mut plain, text));
        }
        let stems: Vec<String> = tokens(&mut cached, "barriers flooding")
            .into_iter()
            .map(|t| t.0)
            .collect();
        assert_eq!(stems, vec!["barrier", "flood"]);
    }
}
