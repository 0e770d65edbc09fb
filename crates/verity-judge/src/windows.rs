//! Sentence windows for evidence longer than the model's input.

use std::ops::Range;

/// Byte ranges of the sentences of `text`, by the splitter every stage shares
/// (`verity_text`), so a window is made of the same sentences compose quotes. The ranges
/// are in order, trimmed, and do not overlap.
pub use verity_text::sentence_spans;

/// Most sentences in one window. Three sentences keep a claim's subject, the statement and
/// a qualifier ("however, ...") together without diluting the statement in a long passage.
pub const MAX_WINDOW_SENTENCES: usize = 3;

/// Plans windows over sentences with the given token counts: each window holds up to
/// [`MAX_WINDOW_SENTENCES`] consecutive sentences whose tokens fit in `budget` (a single
/// sentence over budget forms its own window and is truncated later). Consecutive windows
/// share one sentence, so a statement split across a boundary is still seen whole.
/// Returns sentence-index ranges covering every sentence.
pub(crate) fn plan_windows(sentence_tokens: &[usize], budget: usize) -> Vec<Range<usize>> {
    let n = sentence_tokens.len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let mut j = i;
        let mut used = 0;
        while j < n
            && j - i < MAX_WINDOW_SENTENCES
            && (j == i || used + sentence_tokens[j] <= budget)
        {
            used += sentence_tokens[j];
            j += 1;
        }
        out.push(i..j);
        if j >= n {
            break;
        }
        i = if j - i > 1 { j - 1 } else { j };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_are_split_and_cover_text() {
        let t = "The mill at Varrow closed in 1931. It reopened later. Nobody knows why.";
        let s = sentence_spans(t);
        assert_eq!(s.len(), 3);
        assert_eq!(&t[s[0].clone()], "The mill at Varrow closed in 1931.");
        assert_eq!(&t[s[2].clone()], "Nobody knows why.");
    }

    #[test]
    fn short_text_is_one_window() {
        assert_eq!(plan_windows(&[10, 12], 100), vec![0..2]);
        assert_eq!(plan_windows(&[10], 100), vec![0..1]);
        assert!(plan_windows(&[], 100).is_empty());
    }

    #[test]
    fn windows_overlap_by_one_sentence_and_cover_all() {
        let w = plan_windows(&[10; 7], 100);
        assert_eq!(w, vec![0..3, 2..5, 4..7]);
    }

    #[test]
    fn budget_limits_window_size() {
        // 40 + 40 fits in 90, a third does not.
        assert_eq!(plan_windows(&[40, 40, 40, 40], 90), vec![0..2, 1..3, 2..4]);
        // An oversized sentence stands alone.
        assert_eq!(plan_windows(&[200, 10, 10], 90), vec![0..1, 1..3]);
    }
}
