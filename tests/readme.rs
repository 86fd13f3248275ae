//! The README cannot drift from the code: every ```rust block in it is compiled (it appears, word
//! for word up to indentation, in `tests/readme_snippets.rs`, `examples/sans_io_echo.rs` or
//! `examples/rooms.rs`), every
//! feature it tells a reader to enable exists, and its features table is the crate docs' table.

use std::collections::BTreeSet;

const README: &str = include_str!("../README.md");
const MIGRATING: &str = include_str!("../docs/migrating.md");
const CARGO_TOML: &str = include_str!("../Cargo.toml");
const LIB_RS: &str = include_str!("../src/lib.rs");
/// The files that hold the README's Rust code in compiled form.
const COMPILED: [(&str, &str); 3] = [
    (
        "tests/readme_snippets.rs",
        include_str!("readme_snippets.rs"),
    ),
    (
        "examples/sans_io_echo.rs",
        include_str!("../examples/sans_io_echo.rs"),
    ),
    ("examples/rooms.rs", include_str!("../examples/rooms.rs")),
];

/// The text of every fenced block of `language` in `markdown`.
fn blocks<'a>(markdown: &'a str, language: &str) -> Vec<&'a str> {
    let fence = format!("```{language}\n");
    let mut found = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find(&fence) {
        let body = &rest[start + fence.len()..];
        let end = body.find("\n```").expect("every block is closed");
        found.push(&body[..end]);
        rest = &body[end..];
    }
    found
}

/// Lines trimmed, blank lines dropped: indentation is the only liberty a copy may take.
fn normalized(code: &str) -> String {
    code.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Panics unless `code`, normalised, appears in one of the compiled files.
fn assert_compiled(code: &str, origin: &str) {
    let code = normalized(code);
    assert!(
        COMPILED
            .iter()
            .any(|(_, text)| normalized(text).contains(&code)),
        "this block of {origin} is in none of {:?}:\n{code}",
        COMPILED.map(|(name, _)| name)
    );
}

#[test]
fn every_rust_block_of_the_readme_is_compiled() {
    let rust = blocks(README, "rust");
    assert!(rust.len() >= 7, "found only {} rust blocks", rust.len());
    for block in rust {
        assert_compiled(block, "README.md");
    }
}

/// The migration guide shows another crate's code, then ours from a line `// rfc6455…` on:
/// ours is compiled.
#[test]
fn the_migration_guides_rfc6455_code_is_compiled() {
    let rust = blocks(MIGRATING, "rust");
    assert_eq!(rust.len(), 2);
    for block in rust {
        let ours = block
            .find("// rfc6455")
            .expect("each block has our half, from a `// rfc6455` line on");
        assert_compiled(&block[ours..], "docs/migrating.md");
    }
}

/// The features `Cargo.toml` declares, but `default`.
fn declared_features() -> BTreeSet<String> {
    let section = &CARGO_TOML[CARGO_TOML.find("[features]\n").expect("a [features] table")..];
    let section = &section["[features]\n".len()..];
    let section = &section[..section.find("\n[").unwrap_or(section.len())];
    section
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            line.split_once(" = ")
                .map(|(name, _)| name.trim().to_string())
        })
        .filter(|name| name != "default")
        .collect()
}

#[test]
fn every_feature_the_readme_names_exists_and_every_feature_is_in_its_table() {
    let declared = declared_features();
    assert!(declared.contains("tokio") && declared.contains("axum"));
    // `--features a,b` in install lines and commands.
    for (index, _) in README.match_indices("--features ") {
        let list = README[index + "--features ".len()..]
            .split(|c: char| c.is_whitespace() || c == '`')
            .next()
            .unwrap();
        for feature in list.split(',') {
            assert!(
                declared.contains(feature),
                "the README names a feature `{feature}` that Cargo.toml does not declare"
            );
        }
    }
    let named: BTreeSet<String> = table(README, "", "| feature |")
        .iter()
        .skip(2)
        .map(|row| {
            row.split('|')
                .nth(1)
                .unwrap()
                .trim()
                .trim_start_matches('`')
                .split('`')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut expected = declared.clone();
    expected.insert("std".to_string());
    assert_eq!(
        named, expected,
        "the README's features table and Cargo.toml disagree"
    );
}

/// The rows of the table whose header starts with `header`, each line with `prefix` removed.
fn table(text: &str, prefix: &str, header: &str) -> Vec<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(|line| line.strip_prefix(prefix).unwrap_or(line).trim())
        .collect();
    let start = lines
        .iter()
        .position(|line| line.starts_with(header))
        .unwrap_or_else(|| panic!("a table headed {header:?}"));
    lines[start..]
        .iter()
        .take_while(|line| line.starts_with('|'))
        .map(|line| line.to_string())
        .collect()
}

#[test]
fn the_crate_docs_have_the_readmes_install_and_features_tables() {
    for header in ["| use case |", "| feature |"] {
        assert_eq!(
            table(LIB_RS, "//!", header),
            table(README, "", header),
            "the crate docs' and the README's {header} tables differ"
        );
    }
}

/// Every relative link of the README and the migration guide names a file of the repository.
#[test]
fn every_relative_link_points_to_a_file() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, markdown, dir) in [
        ("README.md", README, ""),
        ("docs/migrating.md", MIGRATING, "docs"),
    ] {
        let mut rest = markdown;
        while let Some(start) = rest.find("](") {
            rest = &rest[start + 2..];
            let end = rest.find(')').expect("every link is closed");
            let target = &rest[..end];
            rest = &rest[end..];
            let path = target.split('#').next().unwrap_or_default();
            if path.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            assert!(
                root.join(dir).join(path).exists(),
                "{name} links to {target}, which does not exist"
            );
        }
    }
}
