use std::path::PathBuf;

/// Everything that can go wrong while loading or running a stance judge.
#[derive(Debug, thiserror::Error)]
pub enum JudgeError {
    /// A model file is not where it was looked for.
    #[error(
        "stance model file `{}` not found; install the stance model (see `verity models`) \
         or point VERITY_STANCE_MODEL at a directory holding model.safetensors and config.json",
        path.display()
    )]
    ModelMissing { path: PathBuf },

    /// A file exists but could not be read.
    #[error("could not read `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The model's config.json is malformed or describes a model this code cannot run.
    #[error("stance model config `{}` is not usable: {message}", path.display())]
    Config { path: PathBuf, message: String },

    /// The tokenizer file could not be loaded.
    #[error("could not load tokenizer `{}`: {message}; expected a HuggingFace tokenizer.json for the MiniLM vocabulary", path.display())]
    Tokenizer { path: PathBuf, message: String },

    /// The weights file does not hold the tensors the model needs.
    #[error("stance model weights `{}` could not be loaded: {source}; the file may be truncated or from another model, reinstall it", path.display())]
    Weights {
        path: PathBuf,
        #[source]
        source: verity_models::bert::BertError,
    },

    /// Tokenizing an input failed.
    #[error("could not tokenize a stance input: {0}")]
    Tokenize(String),

    /// The forward pass failed (a bug or an exhausted resource, not bad input).
    #[error("stance model inference failed: {0}")]
    Inference(#[from] verity_models::bert::BertError),
}
