//! The crate's layering (issue 14), checked on the sources: a lower layer never imports a higher
//! one, and no file depends on itself through others. The layers, lowest first:
//!
//! 1. wire vocabulary (RFC 6455 §5–§8): frames, masking, UTF-8, close codes, messages, core errors;
//! 2. extension codecs: the permessage-deflate codec and its parameters (RFC 7692 §7);
//! 3. core: the configuration, the output queue and the connection state machine;
//! 4. handshake (RFC 6455 §4, §9; RFC 8441): the HTTP/1.1 opening handshake, the HTTP/2
//!    extended CONNECT, and extension negotiation;
//! 5. upgrade glue: a completed handshake turned into a connection;
//! 6. adapters: blocking, tokio, hyper, http2, the connector, TLS, reconnection, rooms and their
//!    Redis backplane, the adapters' `Error`.
//!
//! What counts as an import: every `crate::…`, `$crate::…` and `super::…` path in code (`use`
//! trees, types, expressions), resolved to the deepest module file that exists and followed
//! through `pub use` re-exports, so `crate::State` is the file that defines `State`. Paths
//! relative to the current module (`child::…`, `self::child::…`) are a parent declaring or
//! re-exporting its own children, not dependencies. Comments, string literals and
//! `#[cfg(test)] mod … { … }` blocks are not part of the graph: tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// A layer; a file may import from its own layer or a lower one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    Wire = 1,
    Codec,
    Core,
    Handshake,
    Upgrade,
    Adapter,
}

/// Module prefixes and their layers; the longest matching prefix wins, so a new submodule
/// inherits its parent's layer. A module no prefix matches fails the test: classify it here.
const LAYERS: &[(&str, Layer)] = &[
    ("frame", Layer::Wire),
    ("mask", Layer::Wire),
    ("utf8", Layer::Wire),
    ("close", Layer::Wire),
    ("message", Layer::Wire),
    ("prepared", Layer::Wire),
    ("error", Layer::Wire),
    ("deflate", Layer::Codec),
    ("config", Layer::Core),
    ("connection", Layer::Core),
    ("handshake", Layer::Handshake),
    // RFC 8441's handshake over `http` types: sans-IO like the HTTP/1.1 one, no HTTP/2 stack.
    ("handshake::extended_connect", Layer::Handshake),
    ("handshake::upgrade", Layer::Upgrade),
    ("blocking", Layer::Adapter),
    ("tokio", Layer::Adapter),
    ("hyper", Layer::Adapter),
    ("http2", Layer::Adapter),
    ("axum", Layer::Adapter),
    ("connector", Layer::Adapter),
    ("tls", Layer::Adapter),
    ("tls_config", Layer::Adapter),
    ("reconnect", Layer::Adapter),
    ("rooms", Layer::Adapter),
    ("io_error", Layer::Adapter),
];

/// Modules of one layer that must not import one another: the blocking and tokio adapters are
/// alternatives, one per I/O model, so what both need belongs in the core.
const INDEPENDENT: &[&[&str]] = &[&["blocking", "tokio"]];

#[test]
fn lower_layers_never_import_higher_ones_and_files_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    read_sources(&src, &src, &mut files);
    assert!(files.len() > 10, "found only {} files", files.len());
    let report = analyze(&files, LAYERS, INDEPENDENT);
    assert!(report.is_clean(), "{}", report.render());
}

fn read_sources(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_sources(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).unwrap();
            let rel = rel.to_str().unwrap().replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

/// What the check found.
#[derive(Debug, Default)]
struct Report {
    /// Each cycle as the files along it, the first repeated at the end.
    cycles: Vec<Vec<String>>,
    /// `(importer, imported, why, evidence)`.
    violations: Vec<(String, String, String, String)>,
    /// Files whose module no table entry classifies.
    unclassified: Vec<String>,
}

impl Report {
    fn is_clean(&self) -> bool {
        self.cycles.is_empty() && self.violations.is_empty() && self.unclassified.is_empty()
    }

    fn render(&self) -> String {
        let mut out = String::from("layering (issue 14) does not hold:\n");
        for cycle in &self.cycles {
            let _ = writeln!(out, "  cycle: {}", cycle.join(" -> "));
        }
        for (from, to, why, evidence) in &self.violations {
            let _ = writeln!(out, "  src/{from} imports src/{to}: {why}; {evidence}");
        }
        for file in &self.unclassified {
            let _ = writeln!(out, "  src/{file}: module not in LAYERS, classify it");
        }
        out
    }
}

/// One source file, parsed.
struct File {
    /// The file's path under `src/`.
    path: String,
    /// Module path: `handshake/client.rs` is `["handshake", "client"]`, `lib.rs` is `[]`.
    module: Vec<String>,
    /// Paths this file imports, absolute from the crate root, with their line and text.
    imports: Vec<(Vec<String>, usize, String)>,
    /// Names this file re-exports (`pub use`), to the absolute path they stand for.
    reexports: BTreeMap<String, Vec<String>>,
}

fn module_of(path: &str) -> Vec<String> {
    let stem = path.strip_suffix(".rs").unwrap_or(path);
    let mut segments: Vec<String> = stem.split('/').map(str::to_owned).collect();
    if matches!(
        segments.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        segments.pop();
    }
    segments
}

fn layer_of(module: &[String], table: &[(&str, Layer)]) -> Option<Layer> {
    table
        .iter()
        .filter(|(prefix, _)| {
            let prefix: Vec<&str> = prefix.split("::").collect();
            prefix.len() <= module.len() && prefix.iter().zip(module).all(|(p, m)| p == m)
        })
        .max_by_key(|(prefix, _)| prefix.split("::").count())
        .map(|&(_, layer)| layer)
}

fn analyze(
    sources: &[(String, String)],
    table: &[(&str, Layer)],
    independent: &[&[&str]],
) -> Report {
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|(p, _)| module_of(p)).collect();
    let files: Vec<File> = sources
        .iter()
        .map(|(path, text)| parse_file(path, text, &modules))
        .collect();
    let by_module: BTreeMap<&[String], &File> =
        files.iter().map(|f| (f.module.as_slice(), f)).collect();

    // Edges between files, each with the import lines that make it.
    let mut edges: BTreeMap<(&str, &str), Vec<String>> = BTreeMap::new();
    for file in &files {
        for (path, line, text) in &file.imports {
            let target = resolve(path, &by_module);
            if target == file.module {
                continue;
            }
            let Some(target) = by_module.get(target.as_slice()) else {
                continue;
            };
            edges
                .entry((file.path.as_str(), target.path.as_str()))
                .or_default()
                .push(format!("line {line} `{text}`"));
        }
    }

    let mut report = Report::default();
    let file_of: BTreeMap<&str, &File> = files.iter().map(|f| (f.path.as_str(), f)).collect();
    for file in &files {
        if !file.module.is_empty() && layer_of(&file.module, table).is_none() {
            report.unclassified.push(file.path.clone());
        }
    }
    for (&(from, to), evidence) in &edges {
        let (from_module, to_module) = (&file_of[from].module, &file_of[to].module);
        // lib.rs only declares and re-exports.
        if from_module.is_empty() || to_module.is_empty() {
            continue;
        }
        let (Some(from_layer), Some(to_layer)) =
            (layer_of(from_module, table), layer_of(to_module, table))
        else {
            continue;
        };
        let why = if to_layer > from_layer {
            Some(format!(
                "layer {from_layer:?} ({}) may not import layer {to_layer:?} ({})",
                from_layer as u8, to_layer as u8
            ))
        } else {
            independent
                .iter()
                .find(|group| {
                    from_module[0] != to_module[0]
                        && group.contains(&from_module[0].as_str())
                        && group.contains(&to_module[0].as_str())
                })
                .map(|group| format!("{} are independent of one another", group.join(" and ")))
        };
        if let Some(why) = why {
            report
                .violations
                .push((from.to_owned(), to.to_owned(), why, evidence.join(", ")));
        }
    }
    report.cycles = cycles(&edges);
    report
}

/// The module file an absolute path lands in: the deepest existing module along it, followed
/// through that module's re-exports of the next segment.
fn resolve(path: &[String], by_module: &BTreeMap<&[String], &File>) -> Vec<String> {
    let mut path = path.to_vec();
    // Bounded: re-exports could, in a broken tree, point at each other.
    for _ in 0..32 {
        let depth = (0..=path.len())
            .rev()
            .find(|&k| k == 0 || by_module.contains_key(&path[..k]))
            .unwrap_or(0);
        let next = path.get(depth).and_then(|name| {
            by_module
                .get(&path[..depth])
                .and_then(|file| file.reexports.get(name))
        });
        match next {
            Some(target) if target[..] != path[..=depth] => {
                let mut followed = target.clone();
                followed.extend_from_slice(&path[depth + 1..]);
                path = followed;
            }
            _ => return path[..depth].to_vec(),
        }
    }
    path
}

/// Every cycle among files, one per strongly connected component (Tarjan), shortest first found
/// from the component's first file.
fn cycles(edges: &BTreeMap<(&str, &str), Vec<String>>) -> Vec<Vec<String>> {
    let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &(from, to) in edges.keys() {
        graph.entry(from).or_default().push(to);
        graph.entry(to).or_default();
    }
    struct Tarjan<'a> {
        graph: &'a BTreeMap<&'a str, Vec<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        components: Vec<Vec<&'a str>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, node: &'a str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for &next in &self.graph[node] {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut component = Vec::new();
                while let Some(top) = self.stack.pop() {
                    self.on_stack.remove(top);
                    component.push(top);
                    if top == node {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.components.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph: &graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for &node in graph.keys() {
        if !tarjan.index.contains_key(node) {
            tarjan.visit(node);
        }
    }
    // One component can hold many cycles: the shortest through each of its files, each once.
    let mut found: Vec<Vec<String>> = Vec::new();
    for component in &tarjan.components {
        for &start in component {
            let Some(mut cycle) = shortest_cycle(&graph, component, start) else {
                continue;
            };
            let smallest = (0..cycle.len()).min_by_key(|&k| cycle[k]).unwrap_or(0);
            cycle.rotate_left(smallest);
            cycle.push(cycle[0]);
            let cycle: Vec<String> = cycle.iter().map(|f| format!("src/{f}")).collect();
            if !found.contains(&cycle) {
                found.push(cycle);
            }
        }
    }
    found
}

/// The files along a shortest path from `start` back to itself inside `component`, `start`
/// first and not repeated.
fn shortest_cycle<'a>(
    graph: &BTreeMap<&'a str, Vec<&'a str>>,
    component: &[&'a str],
    start: &'a str,
) -> Option<Vec<&'a str>> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in &graph[node] {
            if !component.contains(&next) {
                continue;
            }
            if next == start {
                let mut cycle = vec![node];
                while cycle[cycle.len() - 1] != start {
                    cycle.push(came_from[cycle[cycle.len() - 1]]);
                }
                cycle.reverse();
                return Some(cycle);
            }
            if !came_from.contains_key(next) {
                came_from.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    None
}

/// One token of code: an identifier (keywords and `$crate` included), `::`, or a punctuation
/// character; with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    text: String,
    line: usize,
}

/// Tokens of the code in `src`, without comments and without the contents of string and
/// character literals, which may mention paths without depending on them.
fn tokenize(src: &str) -> Vec<Token> {
    let chars: Vec<char> = src.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line) = (0, 1);
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                line += usize::from(chars.get(i) == Some(&'\n'));
                i += 1;
            }
            i += 1;
        } else if c == '\'' {
            // A character literal ('a', '\n', '\u{..}') or a lifetime ('a).
            if next == Some('\\') {
                i += 3;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if is_ident(c) || (c == '$' && next.is_some_and(is_ident)) {
            let start = i;
            i += 1;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            // The prefix of a byte, C or raw string is no identifier: `b"`, `br#"`, `r"`.
            if matches!(text.as_str(), "b" | "c") && chars.get(i) == Some(&'"') {
                continue;
            }
            if matches!(text.as_str(), "r" | "br" | "cr") {
                let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
                if chars.get(i + hashes) == Some(&'"') {
                    i += hashes + 1;
                    let closing: Vec<char> = std::iter::once('"')
                        .chain(std::iter::repeat_n('#', hashes))
                        .collect();
                    while i < chars.len() && !chars[i..].starts_with(&closing) {
                        line += usize::from(chars[i] == '\n');
                        i += 1;
                    }
                    i += closing.len();
                    continue;
                }
            }
            tokens.push(Token { text, line });
        } else if c == ':' && next == Some(':') {
            tokens.push(Token {
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            tokens.push(Token {
                text: c.into(),
                line,
            });
            i += 1;
        }
    }
    tokens
}

/// A `use` tree flattened: every leaf's path and the name it is bound to (`None` for a glob).
fn use_tree(
    tokens: &[Token],
    i: &mut usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    let mut path = prefix.to_vec();
    while *i < tokens.len() {
        let text = tokens[*i].text.as_str();
        match text {
            "::" => *i += 1,
            "{" => {
                *i += 1;
                while *i < tokens.len() && tokens[*i].text != "}" {
                    use_tree(tokens, i, &path, out);
                    if *i < tokens.len() && tokens[*i].text == "," {
                        *i += 1;
                    }
                }
                *i += 1;
                return;
            }
            "*" => {
                *i += 1;
                out.push((path, None));
                return;
            }
            "," | "}" | ";" => {
                let name = path.last().cloned();
                if path.last().is_some_and(|s| s == "self") {
                    path.pop();
                }
                let name = if name.as_deref() == Some("self") {
                    path.last().cloned()
                } else {
                    name
                };
                out.push((path, name));
                return;
            }
            "as" => {
                let alias = tokens.get(*i + 1).map(|t| t.text.clone());
                *i += 2;
                if path.last().is_some_and(|s| s == "self") {
                    path.pop();
                }
                out.push((path, alias));
                return;
            }
            _ => {
                path.push(text.to_owned());
                *i += 1;
            }
        }
    }
}

fn parse_file(path: &str, text: &str, modules: &BTreeSet<Vec<String>>) -> File {
    let module = module_of(path);
    let tokens = tokenize(text);
    let mut file = File {
        path: path.to_owned(),
        module: module.clone(),
        imports: Vec::new(),
        reexports: BTreeMap::new(),
    };
    // The module the code at hand is in: the file's, plus inline `mod name { ... }` blocks.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut pending_mod: Option<String> = None;
    let at = |i: usize| tokens.get(i).map_or("", |t| t.text.as_str());
    let mut i = 0;
    while i < tokens.len() {
        // `#[cfg(test)]` (then any attributes) `mod name { ... }`: skipped whole.
        if at(i) == "#"
            && at(i + 1) == "["
            && at(i + 2) == "cfg"
            && at(i + 3) == "("
            && at(i + 4) == "test"
            && at(i + 5) == ")"
            && at(i + 6) == "]"
        {
            let mut j = i + 7;
            while at(j) == "#" && at(j + 1) == "[" {
                let mut brackets = 0;
                j += 1;
                loop {
                    match at(j) {
                        "[" => brackets += 1,
                        "]" => brackets -= 1,
                        "" => break,
                        _ => {}
                    }
                    j += 1;
                    if brackets == 0 {
                        break;
                    }
                }
            }
            if at(j) == "pub" {
                j += 1;
                if at(j) == "(" {
                    while !matches!(at(j), ")" | "") {
                        j += 1;
                    }
                    j += 1;
                }
            }
            if at(j) == "mod" && at(j + 2) == "{" {
                let mut braces = 0;
                j += 2;
                loop {
                    match at(j) {
                        "{" => braces += 1,
                        "}" => braces -= 1,
                        "" => break,
                        _ => {}
                    }
                    j += 1;
                    if braces == 0 {
                        break;
                    }
                }
                i = j;
                continue;
            }
        }
        let current: Vec<String> = module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(name, _)| name.clone()))
            .collect();
        match at(i) {
            "mod" if at(i + 2) == "{" => pending_mod = Some(at(i + 1).to_owned()),
            "{" => {
                depth += 1;
                if let Some(name) = pending_mod.take() {
                    inline.push((name, depth));
                }
            }
            "}" => {
                if inline.last().is_some_and(|&(_, d)| d == depth) {
                    inline.pop();
                }
                depth = depth.saturating_sub(1);
            }
            "use" if at(i + 1) != "<" => {
                let line = tokens[i].line;
                let public = at(i.wrapping_sub(1)) == "pub"
                    || (at(i.wrapping_sub(1)) == ")"
                        && tokens[..i].iter().rev().take(6).any(|t| t.text == "pub"));
                let mut j = i + 1;
                let mut leaves = Vec::new();
                use_tree(&tokens, &mut j, &[], &mut leaves);
                for (leaf, name) in leaves {
                    let Some((absolute, counts)) = absolute(&leaf, &current, modules) else {
                        continue;
                    };
                    if counts {
                        file.imports.push((absolute.clone(), line, leaf.join("::")));
                    }
                    if public && inline.is_empty() {
                        if let Some(name) = name {
                            file.reexports.insert(name, absolute);
                        }
                    }
                }
                i = j;
                continue;
            }
            "crate" | "$crate" | "super"
                if at(i + 1) == "::"
                    && at(i.wrapping_sub(1)) != "::"
                    && at(i.wrapping_sub(1)) != "in" =>
            {
                let line = tokens[i].line;
                let mut leaf = vec![at(i).to_owned()];
                let mut j = i + 1;
                while at(j) == "::"
                    && tokens.get(j + 1).is_some_and(|t| {
                        t.text
                            .starts_with(|c: char| c.is_alphanumeric() || c == '_')
                    })
                {
                    leaf.push(at(j + 1).to_owned());
                    j += 2;
                }
                if let Some((absolute, true)) = absolute(&leaf, &current, modules) {
                    file.imports.push((absolute, line, leaf.join("::")));
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    file
}

/// `path` as seen from module `current`, made absolute; and whether it is a dependency
/// (`crate::`, `super::`) rather than the module's own child (`self::`, `child::`). `None` for a
/// path into another crate.
fn absolute(
    path: &[String],
    current: &[String],
    modules: &BTreeSet<Vec<String>>,
) -> Option<(Vec<String>, bool)> {
    let first = path.first()?.as_str();
    match first {
        "crate" | "$crate" => Some((path[1..].to_vec(), true)),
        "super" => {
            let ups = path.iter().take_while(|s| *s == "super").count();
            let base = current.get(..current.len().checked_sub(ups)?)?;
            Some(([base, &path[ups..]].concat(), true))
        }
        "self" => Some(([current, &path[1..]].concat(), false)),
        _ => {
            let child = [current, &path[..1]].concat();
            modules
                .contains(&child)
                .then(|| ([current, path].concat(), false))
        }
    }
}

#[cfg(test)]
mod parser {
    use super::*;

    fn sources(files: &[(&str, &str)]) -> Vec<(String, String)> {
        files
            .iter()
            .map(|&(p, t)| (p.to_owned(), t.to_owned()))
            .collect()
    }

    const TABLE: &[(&str, Layer)] = &[
        ("frame", Layer::Wire),
        ("connection", Layer::Core),
        ("blocking", Layer::Adapter),
        ("tokio", Layer::Adapter),
        ("a", Layer::Core),
        ("b", Layer::Core),
    ];

    #[test]
    fn a_cycle_through_a_reexport_and_super_is_found() {
        let report = analyze(
            &sources(&[
                ("lib.rs", "mod a;\nmod b;\npub use a::A;\n"),
                // A path in a comment or a string is no import.
                (
                    "a.rs",
                    "// crate::frame::X\nuse crate::b::B;\nconst S: &str = \"crate::frame\";\npub struct A;\n",
                ),
                (
                    "b/mod.rs",
                    "mod inner;\npub use inner::B;\npub use self::inner::C;\n",
                ),
                (
                    "b/inner.rs",
                    "pub struct B(super::super::A);\npub struct C;\n\
                     #[cfg(test)]\nmod tests {\n    use crate::frame::Frame;\n}\n",
                ),
                ("frame.rs", "pub struct Frame;\n"),
            ]),
            TABLE,
            &[],
        );
        assert_eq!(
            report.cycles,
            vec![vec!["src/a.rs", "src/b/inner.rs", "src/a.rs"]],
            "{}",
            report.render()
        );
        assert!(report.violations.is_empty(), "{}", report.render());
        assert!(report.unclassified.is_empty(), "{}", report.render());
    }

    #[test]
    fn an_upward_import_an_independent_peer_and_an_unknown_module_are_reported() {
        let report = analyze(
            &sources(&[
                ("lib.rs", "pub use connection::Role;\n"),
                (
                    "frame.rs",
                    "use crate::{close::Code, mask};\nfn f() -> crate::Role { todo!() }\n",
                ),
                (
                    "connection.rs",
                    "use crate::frame::{self, Frame as F};\npub enum Role {}\n",
                ),
                ("blocking.rs", "pub const LIMIT: usize = 1;\n"),
                (
                    "tokio.rs",
                    "use crate::blocking::LIMIT;\nuse crate::connection::*;\n",
                ),
                ("mystery.rs", "use crate::frame::Frame;\n"),
            ]),
            TABLE,
            &[&["blocking", "tokio"]],
        );
        let pairs: Vec<(&str, &str)> = report
            .violations
            .iter()
            .map(|(from, to, _, _)| (from.as_str(), to.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [("frame.rs", "connection.rs"), ("tokio.rs", "blocking.rs")],
            "{}",
            report.render()
        );
        assert!(report.violations[0].3.contains("line 2 `crate::Role`"));
        assert_eq!(report.unclassified, ["mystery.rs"]);
        assert_eq!(
            report.cycles,
            vec![vec![
                "src/connection.rs",
                "src/frame.rs",
                "src/connection.rs"
            ]]
        );
    }

    #[test]
    fn literals_lifetimes_and_raw_strings_hide_nothing_and_invent_nothing() {
        let tokens = tokenize(
            "fn f<'a>(s: &'a str) -> char { let _ = r#\"crate::x \"# ; '\\'' }\n\
             /* crate::y /* nested */ crate::z */ use crate::w;",
        );
        let texts: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
        assert!(!texts.contains(&"x") && !texts.contains(&"y") && !texts.contains(&"z"));
        assert!(
            texts.ends_with(&["use", "crate", "::", "w", ";"]),
            "{texts:?}"
        );
        assert_eq!(tokens.last().unwrap().line, 2);
    }
}
