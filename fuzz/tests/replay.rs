//! Replays the committed seeds and regression inputs through the targets' checks, without
//! libFuzzer or nightly: `cargo test --manifest-path fuzz/Cargo.toml`.

use std::fs;
use std::path::{Path, PathBuf};

use rfc6455_fuzz::corpus::{TARGETS, check, seeds};

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

#[test]
fn committed_seeds_are_current() {
    for (target, name, bytes) in seeds() {
        let path = dir("seeds").join(target).join(&name);
        let committed = fs::read(&path).unwrap_or_else(|e| {
            panic!("{}: {e}; rerun make_corpus", path.display());
        });
        assert_eq!(
            committed,
            bytes,
            "{} is stale; rerun make_corpus",
            path.display()
        );
    }
}

#[test]
fn seeds_pass() {
    for target in TARGETS {
        for entry in fs::read_dir(dir("seeds").join(target)).unwrap() {
            let path = entry.unwrap().path();
            println!("{}", path.display());
            check(target, &fs::read(&path).unwrap());
        }
    }
}

/// Files in `regressions/` are named `<target>-<name>`. A regression that still fails is
/// reported by name; remove `#[ignore]`-style skipping by fixing the bug, not the test.
#[test]
fn regressions_pass() {
    let Ok(entries) = fs::read_dir(dir("regressions")) else {
        return;
    };
    let mut failures = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(target) = TARGETS.iter().find(|t| name.starts_with(&format!("{t}-"))) else {
            continue;
        };
        let data = fs::read(&path).unwrap();
        if std::panic::catch_unwind(|| check(target, &data)).is_err() {
            failures.push(name);
        }
    }
    assert!(failures.is_empty(), "failing regressions: {failures:?}");
}
