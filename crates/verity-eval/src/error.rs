use std::path::PathBuf;

/// Everything that can go wrong while reading evaluation data or running an evaluation.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file could not be read or written.
    #[error("could not access `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A line or record does not have the expected shape.
    #[error("`{}` line {line}: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },

    /// The file's format could not be recognised or is not the one asked for.
    #[error("`{}`: {message}", path.display())]
    Format { path: PathBuf, message: String },

    /// The file holds no usable records.
    #[error("`{}` holds no usable {what}; check the file and its format", path.display())]
    Empty { path: PathBuf, what: &'static str },

    /// The stance judge failed.
    #[error(transparent)]
    Judge(#[from] verity_judge::JudgeError),

    /// A line of a claims file is not a JSON object with a text `claim` and a `label`.
    #[error(
        "`{}` line {line}: not a claim record (each line needs a JSON object with `claim` and `label`)",
        path.display()
    )]
    ClaimRecord {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },

    /// A claim record whose `claim` is empty.
    #[error("`{}` line {line}: the claim is empty", path.display())]
    EmptyClaim { path: PathBuf, line: usize },

    /// A gold label outside the set the file format allows.
    #[error(
        "`{}` line {line}: label `{label}` is not one of {expected}",
        path.display()
    )]
    UnknownLabel {
        path: PathBuf,
        line: usize,
        label: String,
        expected: &'static str,
    },

    /// Checking one claim failed (the engine's error is the source).
    #[error("checking the claim on line {line} (`{claim}`) failed")]
    Check {
        line: usize,
        claim: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl EvalError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        EvalError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn parse(path: &std::path::Path, line: usize, message: impl Into<String>) -> Self {
        EvalError::Parse {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}
