//! The one error type of the brief builder.

use verity_judge::JudgeError;

/// What can stop a brief from being built.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// The question or claim was empty (or only a "Fact check:" prefix).
    #[error("nothing to check: the question or claim is empty; give a question (`verity ask \"...\"`) or a claim (`verity check \"...\"`)")]
    EmptyInput,
    /// The evidence library failed a search.
    #[error("searching the library for `{query}` failed: {message}. Check that the library opens (`verity sources` lists it), then try again")]
    Search { query: String, message: String },
    /// The stance model failed.
    #[error("the stance model `{model}` failed while {stage}: {source}. Run with models off to use the lexical fallback")]
    Judge {
        model: String,
        stage: &'static str,
        #[source]
        source: Box<JudgeError>,
    },
    /// The language model that writes the prose (`--llm`) failed.
    #[error("the language model `{model}` could not write the brief: {source}")]
    Writer {
        model: String,
        #[source]
        source: Box<verity_llm::LlmError>,
    },
    /// The stance model returned a different number of scores than pairs it was given.
    #[error("the stance model `{model}` returned {got} scores for {expected} pairs while {stage}; the model is broken, run with models off to use the lexical fallback")]
    JudgeCount {
        model: String,
        stage: &'static str,
        expected: usize,
        got: usize,
    },
}
