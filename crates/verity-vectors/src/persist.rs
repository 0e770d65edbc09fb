//! On-disk layout: `dir/CURRENT` names the live generation `dir/gen-NNNNNNNN/`, which holds
//! `meta.json`, `ids.json`, `vectors.f32` (little-endian rows) and, for HNSW, `graph.bin`.
//!
//! A save writes a whole new generation under a temporary name, fsyncs it, renames it into
//! place, then replaces `CURRENT` by write-temp-and-rename. Readers only ever follow
//! `CURRENT`, so an interrupted save is invisible; its leftovers are swept by the next save.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use verity_types::PassageId;

use crate::flat::Flat;
use crate::VectorError;

pub(crate) const FORMAT: u32 = 1;
const CURRENT: &str = "CURRENT";
const GEN_PREFIX: &str = "gen-";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub format: u32,
    /// "exact" or "hnsw".
    pub kind: String,
    pub dim: usize,
    /// Name of the embedding model that produced the vectors.
    pub model: String,
    /// Rows stored, including tombstoned ones.
    pub rows: usize,
    /// Tombstoned rows.
    #[serde(default)]
    pub deleted: Vec<u32>,
    #[serde(default)]
    pub hnsw: Option<serde_json::Value>,
}

fn io<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(std::io::Error) -> VectorError + 'a {
    move |source| VectorError::Io {
        path: path.to_path_buf(),
        op,
        source,
    }
}

pub(crate) fn corrupt(path: &Path, reason: impl Into<String>) -> VectorError {
    VectorError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Write a file and fsync it.
pub(crate) fn write_file(
    path: &Path,
    body: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> Result<(), VectorError> {
    let f = File::create(path).map_err(io(path, "create"))?;
    let mut w = BufWriter::with_capacity(1 << 20, f);
    body(&mut w).map_err(io(path, "write"))?;
    let f = w
        .into_inner()
        .map_err(|e| io(path, "write")(e.into_error()))?;
    f.sync_all().map_err(io(path, "fsync"))
}

fn sync_dir(dir: &Path) {
    // Directory fsync makes renames durable on Unix; elsewhere it may be unsupported,
    // and the rename itself is still atomic.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The live generation directory, `None` when the index was never saved.
pub(crate) fn current_generation(dir: &Path) -> Result<Option<PathBuf>, VectorError> {
    let cur = dir.join(CURRENT);
    let name = match fs::read_to_string(&cur) {
        Ok(s) => s.trim().to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&cur, "read")(e)),
    };
    if !name.starts_with(GEN_PREFIX) || name.contains(['/', '\\']) {
        return Err(corrupt(&cur, format!("CURRENT names '{name}'")));
    }
    let gen = dir.join(&name);
    if !gen.is_dir() {
        return Err(corrupt(
            dir,
            format!("CURRENT names {name}, which is missing"),
        ));
    }
    Ok(Some(gen))
}

fn generation_number(name: &str) -> Option<u64> {
    name.strip_prefix(GEN_PREFIX)?.parse().ok()
}

/// Write a new generation with `fill` (given the temp directory), then make it current
/// and delete older generations and leftovers.
pub(crate) fn write_generation(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<(), VectorError>,
) -> Result<(), VectorError> {
    fs::create_dir_all(dir).map_err(io(dir, "create directory"))?;
    let next = match current_generation(dir)? {
        Some(g) => {
            g.file_name()
                .and_then(|n| n.to_str())
                .and_then(generation_number)
                .unwrap_or(0)
                + 1
        }
        None => 1,
    };
    let name = format!("{GEN_PREFIX}{next:08}");
    let tmp = dir.join(format!("{name}.tmp"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(io(&tmp, "remove stale temp directory"))?;
    }
    fs::create_dir(&tmp).map_err(io(&tmp, "create directory"))?;
    fill(&tmp)?;
    sync_dir(&tmp);
    let gen = dir.join(&name);
    if gen.exists() {
        // Only possible after a crash between this rename and the CURRENT update.
        fs::remove_dir_all(&gen).map_err(io(&gen, "remove stale generation"))?;
    }
    fs::rename(&tmp, &gen).map_err(io(&gen, "rename into place"))?;
    sync_dir(dir);

    let cur_tmp = dir.join(format!("{CURRENT}.tmp"));
    write_file(&cur_tmp, |w| writeln!(w, "{name}"))?;
    fs::rename(&cur_tmp, dir.join(CURRENT)).map_err(io(dir, "update CURRENT"))?;
    sync_dir(dir);

    // Sweep everything that is not the new generation. Failures here cost disk, not data.
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let fname = e.file_name();
            let Some(n) = fname.to_str() else { continue };
            if n.starts_with(GEN_PREFIX) && n != name {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(())
}

/// Write meta, ids and vectors of `flat` into a generation directory.
pub(crate) fn write_flat(gen: &Path, flat: &Flat, meta: &Meta) -> Result<(), VectorError> {
    write_file(&gen.join("meta.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, meta).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })?;
    write_file(&gen.join("ids.json"), |w| {
        let ids: Vec<String> = flat.ids.iter().map(|i| i.to_string()).collect();
        serde_json::to_writer(&mut *w, &ids).map_err(std::io::Error::other)
    })?;
    write_file(&gen.join("vectors.f32"), |w| {
        for x in &flat.data {
            w.write_all(&x.to_le_bytes())?;
        }
        Ok(())
    })
}

pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>, VectorError> {
    let mut f = File::open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            corrupt(path, "file missing")
        } else {
            io(path, "open")(e)
        }
    })?;
    let mut buf = Vec::new();
    f.read_to_end(&mut buf).map_err(io(path, "read"))?;
    Ok(buf)
}

/// Load the live generation: its meta, the rows, and its directory.
pub(crate) fn read_flat(dir: &Path) -> Result<(Meta, Flat, PathBuf), VectorError> {
    let gen = current_generation(dir)?.ok_or_else(|| VectorError::NotFound {
        path: dir.to_path_buf(),
    })?;
    let meta_path = gen.join("meta.json");
    let meta: Meta = serde_json::from_slice(&read_bytes(&meta_path)?)
        .map_err(|e| corrupt(&meta_path, e.to_string()))?;
    if meta.format != FORMAT {
        return Err(corrupt(
            &meta_path,
            format!("format {} is not the supported {FORMAT}", meta.format),
        ));
    }
    if meta.dim == 0 {
        return Err(corrupt(&meta_path, "dimension 0"));
    }
    let ids_path = gen.join("ids.json");
    let raw: Vec<String> = serde_json::from_slice(&read_bytes(&ids_path)?)
        .map_err(|e| corrupt(&ids_path, e.to_string()))?;
    let ids = raw
        .iter()
        .map(|s| PassageId::parse(s).ok_or_else(|| corrupt(&ids_path, format!("bad id '{s}'"))))
        .collect::<Result<Vec<_>, _>>()?;
    if ids.len() != meta.rows {
        return Err(corrupt(
            &ids_path,
            format!("{} ids for {} rows", ids.len(), meta.rows),
        ));
    }
    let vec_path = gen.join("vectors.f32");
    let bytes = read_bytes(&vec_path)?;
    if bytes.len() != meta.rows * meta.dim * 4 {
        return Err(corrupt(
            &vec_path,
            format!(
                "{} bytes, expected {} rows x {} dims x 4",
                bytes.len(),
                meta.rows,
                meta.dim
            ),
        ));
    }
    let data: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let mut deleted = vec![false; meta.rows];
    for &r in &meta.deleted {
        *deleted
            .get_mut(r as usize)
            .ok_or_else(|| corrupt(&meta_path, format!("deleted row {r} out of range")))? = true;
    }
    let flat = Flat::from_parts(meta.dim, ids, data, deleted);
    Ok((meta, flat, gen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupted_save_leaves_previous_generation() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("v");
        write_generation(&dir, |g| write_file(&g.join("x"), |w| w.write_all(b"one"))).unwrap();
        // A save that fails half-way: the fill errors after writing a file.
        let err = write_generation(&dir, |g| {
            write_file(&g.join("x"), |w| w.write_all(b"tw"))?;
            Err(corrupt(g, "simulated crash"))
        });
        assert!(err.is_err());
        let cur = current_generation(&dir).unwrap().unwrap();
        assert_eq!(fs::read(cur.join("x")).unwrap(), b"one");
        // The next save succeeds and sweeps the leftover temp directory.
        write_generation(&dir, |g| {
            write_file(&g.join("x"), |w| w.write_all(b"three"))
        })
        .unwrap();
        let cur = current_generation(&dir).unwrap().unwrap();
        assert_eq!(fs::read(cur.join("x")).unwrap(), b"three");
        let names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn bad_current_is_reported_as_corrupt() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join(CURRENT), "gen-00000009\n").unwrap();
        let err = current_generation(tmp.path()).unwrap_err().to_string();
        assert!(err.contains("damaged"), "{err}");
        assert!(err.contains("verity ingest"), "{err}");
    }
}
