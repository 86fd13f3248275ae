//! The README's rooms example ("Rooms and many servers") is `examples/rooms.rs` below its doc
//! comment, word for word, so that what the README shows is what `cargo test` compiles.

#[test]
fn the_readme_rooms_example_is_examples_rooms_rs() {
    let readme = include_str!("../README.md");
    let section = &readme[readme
        .find("## Rooms and many servers")
        .expect("the README has the section")..];
    let start = section.find("```rust\n").expect("a rust block") + "```rust\n".len();
    let end = start + section[start..].find("\n```").expect("the block ends");
    let block = &section[start..end];

    let example = include_str!("../examples/rooms.rs");
    let code: String = example
        .lines()
        .skip_while(|line| line.starts_with("//!") || line.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(block.trim_end(), code.trim_end());
}
