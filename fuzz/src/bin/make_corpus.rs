//! Writes the seed corpus to `seeds/<target>/` (or to the directory given as the first
//! argument), replacing what was there, after checking that every seed passes its target.
//!
//! ```text
//! cargo run --manifest-path fuzz/Cargo.toml --bin make_corpus
//! ```

use std::fs;
use std::path::PathBuf;

use rfc6455_fuzz::corpus::{TARGETS, check, seeds};

fn main() -> std::io::Result<()> {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds"));
    let seeds = seeds();
    for target in TARGETS {
        let dir = root.join(target);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
        let mut count = 0;
        for (_, name, bytes) in seeds.iter().filter(|(t, _, _)| *t == target) {
            check(target, bytes);
            fs::write(dir.join(name), bytes)?;
            count += 1;
        }
        println!("{count:3} seeds in {}", dir.display());
    }
    Ok(())
}
