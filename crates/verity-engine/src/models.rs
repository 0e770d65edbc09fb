//! Finding and loading the local models, and saying clearly what is missing.

use crate::{EngineError, Result};
use std::path::Path;
use std::sync::Arc;
use verity_embed::{Embedder, MiniLmEmbedder};
use verity_judge::{CrossEncoderStance, LexicalStance, StanceModel};
use verity_models::ModelDir;
use verity_vectors::VectorIndex;

/// Whether to use the neural models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModelsMode {
    /// Use whatever is installed; fall back to lexical for the rest.
    #[default]
    Auto,
    /// Lexical only (BM25 + lexical stance), even when models are installed.
    Off,
}

impl ModelsMode {
    /// The mode a `--no-models` flag asks for.
    pub fn from_no_models(no_models: bool) -> Self {
        if no_models {
            ModelsMode::Off
        } else {
            ModelsMode::Auto
        }
    }
}

pub(crate) struct Loaded {
    pub dir: ModelDir,
    pub embedder: Option<Arc<dyn Embedder>>,
    pub stance: Arc<dyn StanceModel>,
    pub notices: Vec<String>,
}

pub(crate) fn load(data_dir: &Path, models_dir: Option<&Path>, mode: ModelsMode) -> Loaded {
    let dir = match models_dir {
        Some(root) => ModelDir::at(root, data_dir),
        None => ModelDir::resolve(data_dir),
    };
    let mut notices = Vec::new();
    let lexical = || -> Arc<dyn StanceModel> { Arc::new(LexicalStance::new()) };
    if mode == ModelsMode::Off {
        notices.push(
            "models off: BM25 search and the lexical stance judge only (drop --no-models to use the neural models)".into(),
        );
        return Loaded {
            dir,
            embedder: None,
            stance: lexical(),
            notices,
        };
    }
    let embedder: Option<Arc<dyn Embedder>> = match dir.minilm() {
        Ok(path) => match MiniLmEmbedder::load(&path) {
            Ok(e) => Some(Arc::new(e)),
            Err(e) => {
                notices.push(format!(
                    "dense retrieval off: the embedding model in {} did not load ({e}); reinstall it with `{}`",
                    path.display(),
                    dir.install_command()
                ));
                None
            }
        },
        Err(e) => {
            notices.push(format!("dense retrieval off (BM25 only): {e}"));
            None
        }
    };
    let stance: Arc<dyn StanceModel> = match (dir.stance(), dir.tokenizer()) {
        (Ok(model), Ok(tok)) => match CrossEncoderStance::load(&model, &tok) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                notices.push(format!(
                    "stance model did not load ({e}); using the lexical stance judge. Reinstall with `{}`",
                    dir.install_command()
                ));
                lexical()
            }
        },
        (Err(e), _) | (_, Err(e)) => {
            notices.push(format!("neural stance off (lexical judge in use): {e}"));
            lexical()
        }
    };
    Loaded {
        dir,
        embedder,
        stance,
        notices,
    }
}

pub(crate) fn open_vectors(
    data_dir: &Path,
    embedder: &dyn Embedder,
) -> Result<Box<dyn VectorIndex>> {
    let index = verity_vectors::AutoIndex::open_or_create(
        &data_dir.join("vectors"),
        embedder.dim(),
        embedder.name(),
    )
    .map_err(EngineError::from)?;
    Ok(Box::new(index))
}
