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
