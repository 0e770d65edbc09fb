//! `verity serve` until the CLI has the subcommand: serve an existing library directory.
//!
//! ```text
//! cargo run -p verity-server --example serve -- --data ./verity-data --addr 127.0.0.1:8080 [--no-models] [--token T] [--read-only]
//! ```
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use verity_engine::{Library, LibraryOptions, ModelsMode};
use verity_server::{cli_serve, ServerConfig};

fn main() -> anyhow::Result<()> {
    let mut data = PathBuf::from(verity_engine::DEFAULT_DATA_DIR);
    let mut models = ModelsMode::Auto;
    let mut cfg = ServerConfig::default();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--data" => data = PathBuf::from(value()?),
            "--addr" => cfg.addr = value()?.parse()?,
            "--token" => cfg.token = Some(value()?),
            "--read-only" => cfg.read_only = true,
            "--no-models" => models = ModelsMode::Off,
            "--workers" => cfg.workers = value()?.parse()?,
            other => anyhow::bail!("unknown argument `{other}`"),
        }
    }
    let lib = Library::open(LibraryOptions {
        data_dir: data,
        models,
        read_only: false,
    })?;
    cli_serve(lib, cfg)
}
