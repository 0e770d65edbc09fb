//! Text utilities every stage shares, one of each: the sentence splitter
//! ([`sentence`]), the stop-word list ([`STOPWORDS`], [`is_stopword`]) and the stemmer
//! ([`stem`]).
//!
//! Ingest packs passages from the splitter's sentences, compose quotes them and the stance
//! judge windows long evidence by them, so a sentence is the same thing everywhere. The
//! crate has no dependencies and sits below every stage.
//!
//! ```
//! use verity_text::{is_stopword, stem};
//! assert_eq!(stem("reopened"), "reopen");
//! assert!(is_stopword("the") && !is_stopword("bridge"));
//! ```

// Tests may unwrap (HELPERS.md); library code may not.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod sentence;

pub use sentence::{sentence_spans, sentences};

/// Function words, question words and other words that never make a content term
/// (small number words and "fact"/"check" included: they say nothing about what a claim
/// is about).
pub const STOPWORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "by", "for", "with",
    "from", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that",
    "these", "those", "has", "have", "had", "do", "does", "did", "will", "would", "can", "could",
    "should", "may", "might", "must", "shall", "than", "then", "there", "their", "they", "them",
    "he", "she", "his", "her", "we", "our", "you", "your", "i", "which", "who", "whom", "what",
    "when", "where", "why", "how", "also", "after", "before", "into", "about", "over", "under",
    "said", "says", "so", "such", "if", "some", "any", "all", "more", "most", "other", "up", "out",
    "only", "very", "per", "via", "not", "no", "yes", "fact", "check", "many", "much", "whether",
    "between", "because", "since", "while", "during", "against", "each", "every", "both", "own",
    "same", "just", "get", "got", "make", "made", "use", "used", "one", "two", "three", "four",
    "five", "six", "seven", "eight", "nine", "ten",
];

/// Whether a lower-case word is in [`STOPWORDS`].
pub fn is_stopword(w: &str) -> bool {
    STOPWORDS.contains(&w)
}

/// A crude English suffix stripper for comparing words: "reopened", "reopens",
/// "reopening" → "reopen". Strips the first of `-ingly -edly -ing -ed -es -s -ly` that
/// leaves at least three characters. (Search uses tantivy's Snowball stemmer instead, in
/// `verity-index`; this one only has to agree with itself.)
pub fn stem(w: &str) -> String {
    for suf in ["ingly", "edly", "ing", "ed", "es", "s", "ly"] {
        if let Some(base) = w.strip_suffix(suf) {
            if base.chars().count() >= 3 {
                return base.to_string();
            }
        }
    }
    w.to_string()
}

/// An error with its causes, "a: b: c" (a cause whose text the message already holds is
/// left out), for messages that name what went wrong all the way down.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let part = s.to_string();
        if !msg.contains(&part) {
            msg.push_str(": ");
            msg.push_str(&part);
        }
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_strip_one_suffix_and_keep_three_chars() {
        for (w, want) in [
            ("reopened", "reopen"),
            ("reopens", "reopen"),
            ("reopening", "reopen"),
            ("knowingly", "know"),
            ("reportedly", "report"),
            ("quickly", "quick"),
            ("bus", "bus"),
            ("sing", "sing"),
            ("red", "red"),
        ] {
            assert_eq!(stem(w), want, "{w}");
        }
    }

    #[test]
    fn stopwords_are_lower_case_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for w in STOPWORDS {
            assert_eq!(*w, w.to_lowercase());
            assert!(seen.insert(w), "{w} twice");
        }
    }
}
