//! The context format: how a sentence is shown to the stance model.
//!
//! A sentence read alone loses its subject ("It is located on the west coast of the
//! island." — which island?). Verity therefore judges a sentence together with its
//! source's title (or section heading) and the sentence before it, in one plain-text
//! form that the model was trained on (`training/context_pairs.py::in_context` is the
//! same function in Python; `verity eval stance` uses this one):
//!
//! ```
//! use verity_judge::in_context;
//! assert_eq!(
//!     in_context("Kellbridge.", "Kellbridge is a town in Marrow County.", "It lies on the coast."),
//!     "Kellbridge: Kellbridge is a town in Marrow County. It lies on the coast."
//! );
//! assert_eq!(in_context("", "", "The weir reopened."), "The weir reopened.");
//! ```
//!
//! The brief still cites the exact span of the sentence itself; the context only helps
//! the model read it.

/// Most words of the title kept (its first ones).
pub const TITLE_WORDS: usize = 24;
/// Most words of the sentence before kept (its last ones, nearest the sentence).
pub const BEFORE_WORDS: usize = 40;

/// Renders `sentence` with its context: `"title: before sentence"`. Empty parts are left
/// out; whitespace is squashed; a title's trailing `.`, `:` or `;` is dropped.
pub fn in_context(title: &str, before: &str, sentence: &str) -> String {
    let mut out = String::new();
    let title: Vec<&str> = title.split_whitespace().take(TITLE_WORDS).collect();
    let title = title.join(" ");
    let title = title.trim_end_matches(['.', ':', ';']);
    if !title.is_empty() {
        out.push_str(title);
        out.push_str(": ");
    }
    let before: Vec<&str> = before.split_whitespace().collect();
    let keep = before.len().saturating_sub(BEFORE_WORDS);
    for w in &before[keep..] {
        out.push_str(w);
        out.push(' ');
    }
    let sentence: Vec<&str> = sentence.split_whitespace().collect();
    out.push_str(&sentence.join(" "));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_optional_and_squashed() {
        assert_eq!(
            in_context("  Port  Vellan ", "", "It  grew."),
            "Port Vellan: It grew."
        );
        assert_eq!(
            in_context("", "The quay opened.", "It grew."),
            "The quay opened. It grew."
        );
        assert_eq!(in_context("A:", "", "B."), "A: B.");
    }

    #[test]
    fn long_parts_are_capped_near_the_sentence() {
        let before: Vec<String> = (0..60).map(|i| format!("w{i}")).collect();
        let out = in_context("", &before.join(" "), "End.");
        assert!(out.starts_with("w20 "), "{out}");
        assert!(out.ends_with("w59 End."), "{out}");
        let title: Vec<String> = (0..30).map(|i| format!("t{i}")).collect();
        let out = in_context(&title.join(" "), "", "End.");
        assert!(out.starts_with("t0 ") && out.contains("t23: End."), "{out}");
    }
}
