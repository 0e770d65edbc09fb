//! Builds the HealthVer retrieval task.
//!
//! ```text
//! cargo run -p verity-eval --example build_healthver -- HEALTHVER.csv OUT_DIR
//! ```
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let csv = PathBuf::from(
        args.next()
            .ok_or("usage: build_healthver HEALTHVER.csv OUT_DIR")?,
    );
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: build_healthver HEALTHVER.csv OUT_DIR")?,
    );
    let s = verity_eval::build_healthver_retrieval(&csv, &out)?;
    println!("{}", serde_json::to_string_pretty(&s)?);
    Ok(())
}
