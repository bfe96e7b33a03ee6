//! The module layering: no module of `src/` imports from a module that imports it,
//! directly or through others (ARCHITECTURE.md draws the layers), and no file names an
//! item of a file that names one of its own; files stay short, and few functions are
//! excused from clippy's argument count.

#[path = "architecture/files.rs"]
mod files;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module of each `src/` file → the top-level modules it names as `crate::x`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
            let module = first.trim_end_matches(".rs").to_string();
            if module == "lib" || module == "main" {
                continue;
            }
            // Doc links (`[`crate::app`]`) are not imports.
            let text: String = std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            let uses = graph.entry(module.clone()).or_default();
            for (at, _) in text.match_indices("crate::") {
                let rest = &text[at + "crate::".len()..];
                let names: Vec<&str> = match rest.strip_prefix('{') {
                    Some(group) => group[..group.find('}').unwrap_or(0)]
                        .split(',')
                        .map(|part| part.trim().split("::").next().unwrap_or(""))
                        .collect(),
                    None => vec![rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("")],
                };
                for name in names {
                    if !name.is_empty() && name != module && name.chars().next().is_some_and(|c| c.is_lowercase()) {
                        uses.insert(name.to_string());
                    }
                }
            }
        }
    }
    graph
}

/// A cycle through `from`, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    fn visit(graph: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, target: &str) -> bool {
        let here = path.last().unwrap().clone();
        for next in graph.get(&here).into_iter().flatten() {
            if next == target {
                path.push(next.clone());
                return true;
            }
            if !path.contains(next) {
                path.push(next.clone());
                if visit(graph, path, target) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![from.to_string()];
    visit(graph, &mut path, from).then_some(path)
}

#[test]
fn no_module_imports_from_a_module_that_imports_it() {
    let graph = imports();
    assert!(graph.len() > 10, "read the modules of src/: {graph:?}");
    let cycles: Vec<String> = graph.keys().filter_map(|m| cycle(&graph, m)).map(|c| c.join(" -> ")).collect();
    assert!(cycles.is_empty(), "import cycles between modules:\n  {}", cycles.join("\n  "));
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    graph.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert_eq!(cycle(&graph, "a"), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    graph.get_mut("c").unwrap().clear();
    assert_eq!(cycle(&graph, "a"), None);
}

#[test]
fn no_source_file_is_over_500_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut long = Vec::new();
    for path in files::rust_files(&src) {
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        if lines > 500 {
            long.push(format!("{} ({lines} lines)", path.strip_prefix(&src).unwrap().display()));
        }
    }
    assert!(long.is_empty(), "split these into rooms of their own: {long:?}");
}

#[test]
fn no_file_names_an_item_of_a_file_that_names_one_of_its_own() {
    let graph = files::graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(graph.len() > 100, "read the files of src/: {graph:?}");
    let cycles: Vec<String> = files::cycles(&graph).iter().map(|c| c.join(" -> ")).collect();
    assert!(
        cycles.is_empty(),
        "import cycles between files (move what both need into a file below both):\n  {}",
        cycles.join("\n  ")
    );
}

/// Writes `files` (path, text) under a temporary `src/` and returns its file graph.
fn graph_of(files: &[(&str, &str)]) -> files::Graph {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join("src").join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    files::graph(&dir.path().join("src"))
}

#[test]
fn the_file_cycle_check_finds_a_cycle_through_groups_super_and_re_exports() {
    // `a/x.rs` names `b/y.rs` through a nested `use` group; `b/y.rs` names `a::Thing`, which
    // `a/mod.rs` only re-exports from `a/x.rs`.
    let tree = |y: &str| {
        graph_of(&[
            ("lib.rs", "mod a;\npub mod b;\n#[path = \"odd/place.rs\"]\nmod c;\n"),
            ("a/mod.rs", "mod x;\npub use x::Thing;\n"),
            ("a/x.rs", "use crate::{b::{self, y::Other}};\npub struct Thing;\n"),
            ("b/mod.rs", "pub mod y;\n"),
            ("b/y.rs", &format!("pub struct Other;\n{y}\n")),
            ("odd/place.rs", "use self::super::b::y::Other;\n"),
        ])
    };
    let graph = tree("pub fn f() { let _ = super::super::a::Thing; }");
    assert!(graph["a/mod.rs"].is_empty(), "a re-export alone names nothing: {graph:?}");
    assert_eq!(graph["b/y.rs"], BTreeSet::from(["a/x.rs".to_string()]));
    assert_eq!(graph["odd/place.rs"], BTreeSet::from(["b/y.rs".to_string()]));
    assert_eq!(files::cycles(&graph), vec![vec!["a/x.rs", "b/y.rs", "a/x.rs"]]);

    // Comments, strings and test-only code name nothing.
    let graph = tree(
        "// crate::a::Thing\nconst S: &str = \"crate::a::Thing\";\nconst Q: [u8; 3] = [b'\\'', b'\\x7f', '\\'' as u8];\n\
         const R: &str = r#\"\" crate::a::Thing\"#; /* crate::a::Thing /* nested */ */\n\
         #[cfg(test)]\nmod tests { use crate::a::Thing; }",
    );
    assert!(graph["b/y.rs"].is_empty(), "{graph:?}");
    assert!(files::cycles(&graph).is_empty());

    // A re-export the file uses itself does name its file.
    let graph = graph_of(&[("lib.rs", "mod x;\npub use x::Thing;\npub fn make() -> Thing { Thing }\n"), ("x.rs", "")]);
    assert_eq!(graph["lib.rs"], BTreeSet::from(["x.rs".to_string()]));
}

/// Functions excused from clippy's argument count: the scheduler's run object (#25) is
/// meant to leave at most two, each with a comment saying why.
#[test]

fn at_most_two_functions_are_excused_from_the_argument_count() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut excused = Vec::new();
    for path in files::rust_files(&src) {
        let code = files::code(&std::fs::read_to_string(&path).unwrap());
        let n = code.matches("allow ( clippy :: too_many_arguments )").count();
        if n > 0 {
            excused.push((path.strip_prefix(&src).unwrap().display().to_string(), n));
        }
    }
    let total: usize = excused.iter().map(|(_, n)| n).sum();
    assert!(total <= 2, "{total} functions carry #[allow(clippy::too_many_arguments)] (file, count): {excused:?}");
}
