//! The graph of a crate's source files: which file names an item of which other file.
//!
//! The files are found by following the `mod x;` declarations from `lib.rs` (with their
//! `#[path]`), so a file `src/a/b.rs` or `src/a/b/mod.rs` is the module `a::b`. A path
//! (`crate::a::b::Item`, `super::x`, `self::y`, a child module's name, each leaf of a
//! `use` group) names the deepest module that has a file; an item that file only imports
//! with `use` (a re-export, or an import its child modules see) is followed to the file
//! that defines it. A `pub use` that only re-exports names nothing, so a `mod.rs` that
//! re-exports its children is not a cycle with the children that use its own items.
//! Comments, literals and `#[cfg(test)]` items are left out: a unit test may call the
//! module above it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// File (relative to the crate's `src/`) → the files it names.
pub type Graph = BTreeMap<String, BTreeSet<String>>;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Colons,
    /// A string literal's text (kept for `#[path = "..."]`).
    Str(String),
    Punct(char),
}

/// A leaf of a `use` tree: the full path and the name it binds.
type Leaf = (Vec<String>, String);

/// Names a file's `use` declarations bind → the paths they stand for.
type Bindings = BTreeMap<String, Vec<String>>;

/// One source file, lexed.
struct Source {
    rel: String,
    module: Vec<String>,
    /// Each name a `use` binds → the path it stands for, as written.
    written_uses: Bindings,
    /// Each name a `use` binds → the absolute path it stands for.
    uses: Bindings,
    /// The paths it names, as written.
    paths: Vec<Vec<String>>,
}

/// Reads the crate whose root is `src/lib.rs` and returns its file graph.
pub fn graph(src: &Path) -> Graph {
    let sources = read_tree(src);
    let index: BTreeMap<Vec<String>, usize> = sources.iter().enumerate().map(|(i, s)| (s.module.clone(), i)).collect();
    let mut graph = Graph::new();
    for s in &sources {
        let edges = graph.entry(s.rel.clone()).or_default();
        for path in &s.paths {
            let Some(abs) = absolute(s, path, &index, 0) else { continue };
            if let Some(to) = resolve(&sources, &index, &abs, 0) {
                if sources[to].rel != s.rel {
                    edges.insert(sources[to].rel.clone());
                }
            }
        }
    }
    graph
}

/// The module tree from `lib.rs` down, each file lexed and its `use` bindings made absolute.
fn read_tree(src: &Path) -> Vec<Source> {
    let mut out = Vec::new();
    let mut queue = vec![(src.join("lib.rs"), Vec::<String>::new(), true)];
    while let Some((file, module, mod_rs)) = queue.pop() {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let tokens = without_test_items(&lex(&text));
        let dir = file.parent().unwrap().to_path_buf();
        // Children of `a.rs` live in `a/`; of `mod.rs` or `lib.rs`, beside it.
        let child_dir = if mod_rs { dir.clone() } else { dir.join(file.file_stem().unwrap()) };
        for (name, path) in declared_modules(&tokens) {
            let mut child = module.clone();
            child.push(name.clone());
            let (file, mod_rs) = match path {
                Some(p) => (dir.join(p), true),
                None if child_dir.join(format!("{name}.rs")).is_file() => (child_dir.join(format!("{name}.rs")), false),
                None => (child_dir.join(&name).join("mod.rs"), true),
            };
            if file.is_file() {
                queue.push((file, child, mod_rs));
            }
        }
        let rel = file.strip_prefix(src).unwrap_or(&file).display().to_string();
        let (paths, uses) = paths_named(&tokens);
        let written_uses = uses.into_iter().map(|(p, name)| (name, p)).collect();
        out.push(Source { rel, module, written_uses, uses: BTreeMap::new(), paths });
    }
    // Bindings are made absolute once every module is known (a `use` may name a child).
    let index: BTreeMap<Vec<String>, usize> = out.iter().enumerate().map(|(i, s)| (s.module.clone(), i)).collect();
    let uses: Vec<Bindings> = out
        .iter()
        .map(|s| {
            let absolute =
                |(name, p): (&String, &Vec<String>)| absolute(s, p, &index, 0).map(|abs| (name.clone(), abs));
            s.written_uses.iter().filter_map(absolute).collect()
        })
        .collect();
    for (s, uses) in out.iter_mut().zip(uses) {
        s.uses = uses;
    }
    out
}

/// `path` as written in `s`, made absolute; `None` for a path outside the crate (`std::`,
/// another crate, a local type's associated item).
fn absolute(s: &Source, path: &[String], index: &BTreeMap<Vec<String>, usize>, depth: usize) -> Option<Vec<String>> {
    let first = path.first()?;
    let mut base = match first.as_str() {
        "crate" => Vec::new(),
        "self" => s.module.clone(),
        "super" => s.module.clone(),
        _ => {
            let mut child = s.module.clone();
            child.push(first.clone());
            if index.contains_key(&child) {
                let mut abs = s.module.clone();
                abs.extend(path.iter().cloned());
                return Some(abs);
            }
            // A name the file imports: the path its `use` gives (`use a as b; use b as a` stops).
            let bound = s.written_uses.get(first).filter(|_| depth < 8)?;
            let mut abs = absolute(s, bound, index, depth + 1)?;
            abs.extend(path[1..].iter().cloned());
            return Some(abs);
        }
    };
    let mut rest = &path[1..];
    if first == "super" {
        base.pop()?;
    }
    while rest.first().is_some_and(|p| p == "super") {
        base.pop()?;
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// The file that defines what `abs` names: the deepest module with a file, then through
/// that file's `use` bindings while the path goes on past it.
fn resolve(sources: &[Source], index: &BTreeMap<Vec<String>, usize>, abs: &[String], depth: usize) -> Option<usize> {
    let n = (0..=abs.len()).rev().find(|&n| index.contains_key(&abs[..n]))?;
    let file = index[&abs[..n]];
    if let Some(name) = abs.get(n) {
        if let Some(bound) = sources[file].uses.get(name) {
            if depth < 16 {
                let mut next = bound.clone();
                next.extend(abs[n + 1..].iter().cloned());
                if let Some(found) = resolve(sources, index, &next, depth + 1) {
                    return Some(found);
                }
            }
        }
    }
    Some(file)
}

/// Tokens of Rust source without comments; string literals become [`Tok::Str`], char
/// literals go, lifetimes become their name.
fn lex(text: &str) -> Vec<Tok> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if ch == '"' {
            let start = i + 1;
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            out.push(Tok::Str(c[start..i.min(c.len())].iter().collect()));
            i += 1;
        } else if ch == '\'' {
            // A char literal goes; a lifetime's name follows as an identifier.
            i = char_end(&c, i).unwrap_or(i + 1);
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            // Raw strings and byte strings: r"..", r#".."#, b"..", br"..".
            let raw = matches!(word.as_str(), "r" | "br") && matches!(c.get(i), Some('"') | Some('#'));
            if raw {
                let mut hashes = 0;
                while c.get(i) == Some(&'#') {
                    hashes += 1;
                    i += 1;
                }
                if c.get(i) == Some(&'"') {
                    let start = i + 1;
                    i += 1;
                    while i < c.len() && !(c[i] == '"' && (0..hashes).all(|h| c.get(i + 1 + h) == Some(&'#'))) {
                        i += 1;
                    }
                    out.push(Tok::Str(c[start..i.min(c.len())].iter().collect()));
                    i += 1 + hashes;
                }
            } else if word == "b" && c.get(i) == Some(&'\'') {
                i = char_end(&c, i).unwrap_or(i + 1);
            } else if word != "b" || c.get(i) != Some(&'"') {
                out.push(Tok::Ident(word));
            }
        } else if ch == ':' && next == Some(':') {
            out.push(Tok::Colons);
            i += 2;
        } else {
            out.push(Tok::Punct(ch));
            i += 1;
        }
    }
    out
}

/// The index after the char literal that starts at `c[i]` (a `'`), or `None` for a lifetime.
fn char_end(c: &[char], i: usize) -> Option<usize> {
    if c.get(i + 1) == Some(&'\\') {
        // `'\''`, `'\n'`, `'\u{1F600}'`: the escaped character, then up to the closing quote.
        let mut j = i + 3;
        while j < c.len() && c[j] != '\'' {
            j += 1;
        }
        Some(j + 1)
    } else {
        (c.get(i + 2) == Some(&'\'')).then_some(i + 3)
    }
}

/// The tokens without the items under `#[cfg(test)]` (a test module, a test-only
/// function or `use`).
fn without_test_items(t: &[Tok]) -> Vec<Tok> {
    let cfg_test = [
        Tok::Punct('#'),
        Tok::Punct('['),
        Tok::Ident("cfg".into()),
        Tok::Punct('('),
        Tok::Ident("test".into()),
        Tok::Punct(')'),
        Tok::Punct(']'),
    ];
    let mut out = Vec::with_capacity(t.len());
    let mut i = 0;
    while i < t.len() {
        if !t[i..].starts_with(&cfg_test) {
            out.push(t[i].clone());
            i += 1;
            continue;
        }
        i += cfg_test.len();
        // Further attributes, then the item: up to a `;` or the `}` that closes it.
        let mut depth = 0i32;
        while i < t.len() {
            match &t[i] {
                Tok::Punct('(' | '[' | '{') => depth += 1,
                Tok::Punct(')' | ']') => depth -= 1,
                Tok::Punct('}') => {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                Tok::Punct(';') if depth == 0 => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
    }
    out
}

/// The `mod name;` declarations at the file's top level, each with its `#[path]` if any.
fn declared_modules(t: &[Tok]) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut path: Option<String> = None;
    for i in 0..t.len() {
        match &t[i] {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => depth -= 1,
            Tok::Punct(';') if depth == 0 => path = None,
            Tok::Ident(w) if depth == 1 && w == "path" && i > 0 && t[i - 1] == Tok::Punct('[') => {
                if let (Some(Tok::Punct('=')), Some(Tok::Str(p))) = (t.get(i + 1), t.get(i + 2)) {
                    path = Some(p.clone());
                }
            }
            Tok::Ident(w) if depth == 0 && w == "mod" => {
                if let (Some(Tok::Ident(name)), Some(Tok::Punct(';'))) = (t.get(i + 1), t.get(i + 2)) {
                    out.push((name.clone(), path.take()));
                }
            }
            _ => {}
        }
    }
    out
}

/// Every path the tokens name (each leaf of a `use` tree in full), and what each `use`
/// binds: (path, name). A `pub use` that only re-exports (the file never uses the name
/// itself) names nothing: it is the room's front door, not a dependency of the file.
fn paths_named(t: &[Tok]) -> (Vec<Vec<String>>, Vec<Leaf>) {
    let mut paths = Vec::new();
    let mut uses = Vec::new();
    let mut re_exports = Vec::new();
    let mut idents = BTreeSet::new();
    let mut i = 0;
    while i < t.len() {
        match &t[i] {
            Tok::Ident(w) if w == "use" => {
                let public = match i.checked_sub(1).map(|j| &t[j]) {
                    Some(Tok::Ident(p)) => p == "pub",
                    // `pub(crate) use`, `pub(super) use`, `pub(in a::b) use`
                    Some(Tok::Punct(')')) => {
                        let open = t[..i].iter().rposition(|x| *x == Tok::Punct('('));
                        open.is_some_and(|o| o > 0 && t[o - 1] == Tok::Ident("pub".into()))
                    }
                    _ => false,
                };
                let mut bound = Vec::new();
                i = use_tree(t, i + 1, &[], &mut bound);
                for (path, name) in bound {
                    if public {
                        re_exports.push((path.clone(), name.clone()));
                    } else {
                        paths.push(path.clone());
                    }
                    if name != "*" && name != "_" {
                        uses.push((path, name));
                    }
                }
            }
            Tok::Ident(first) if t.get(i + 1) == Some(&Tok::Colons) && (i == 0 || t[i - 1] != Tok::Colons) => {
                let mut path = vec![first.clone()];
                i += 1;
                while t.get(i) == Some(&Tok::Colons) {
                    match t.get(i + 1) {
                        Some(Tok::Ident(seg)) => {
                            path.push(seg.clone());
                            i += 2;
                        }
                        _ => break,
                    }
                }
                paths.push(path);
            }
            // `mod x;` declares `x`; it does not use an `x` that a `pub use` re-exports.
            Tok::Ident(w) if w == "mod" => i += 2,
            Tok::Ident(w) => {
                idents.insert(w.clone());
                i += 1;
            }
            _ => i += 1,
        }
    }
    paths.extend(re_exports.into_iter().filter(|(_, name)| idents.contains(name)).map(|(path, _)| path));
    (paths, uses)
}

/// One `use` tree from `i`, its leaves appended to `out` as (full path, bound name);
/// returns the index after it.
fn use_tree(t: &[Tok], mut i: usize, prefix: &[String], out: &mut Vec<Leaf>) -> usize {
    let mut path = prefix.to_vec();
    loop {
        match t.get(i) {
            Some(Tok::Colons) => i += 1,
            Some(Tok::Ident(seg)) => {
                path.push(seg.clone());
                i += 1;
                if t.get(i) == Some(&Tok::Colons) {
                    i += 1;
                    continue;
                }
                let mut name = seg.clone();
                if matches!(t.get(i), Some(Tok::Ident(a)) if a == "as") {
                    if let Some(Tok::Ident(alias)) = t.get(i + 1) {
                        name = alias.clone();
                    }
                    i += 2;
                }
                if seg == "self" {
                    path.pop();
                    if name == "self" {
                        name = path.last().cloned().unwrap_or_default();
                    }
                }
                out.push((path, name));
                return i;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                loop {
                    match t.get(i) {
                        None => return i,
                        Some(Tok::Punct('}')) => return i + 1,
                        Some(Tok::Punct(',')) => i += 1,
                        _ => {
                            let next = use_tree(t, i, &path, out);
                            i = if next == i { i + 1 } else { next };
                        }
                    }
                }
            }
            Some(Tok::Punct('*')) => {
                out.push((path, "*".into()));
                return i + 1;
            }
            _ => return i,
        }
    }
}

/// One cycle (first node repeated at the end) in each group of files that reach each other.
pub fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    // Tarjan's strongly connected components, then a shortest way round each.
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        groups: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.push(w);
                if w == v {
                    break;
                }
            }
            s.groups.push(group);
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    let mut out = Vec::new();
    for group in s.groups.iter().filter(|g| g.len() > 1) {
        let start = *group.iter().min().unwrap();
        // Breadth-first from `start` inside the group, back to `start`.
        let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut last = None;
        'search: while let Some(v) = queue.pop_front() {
            for w in graph.get(v).into_iter().flatten().map(String::as_str) {
                if w == start {
                    last = Some(v);
                    break 'search;
                }
                if group.contains(&w) && !came_from.contains_key(w) {
                    came_from.insert(w, v);
                    queue.push_back(w);
                }
            }
        }
        let mut cycle = vec![start.to_string()];
        let mut at = last.unwrap();
        while at != start {
            cycle.push(at.to_string());
            at = came_from[at];
        }
        cycle.push(start.to_string());
        cycle.reverse();
        out.push(cycle);
    }
    out
}

/// Every `.rs` file under `dir`, with its path.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    let mut out = Vec::new();
    while let Some(dir) = stack.pop() {
        for path in std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()) {
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The code of a source file without comments and literals, as a sequence of tokens
/// separated by spaces (for counting attributes).
pub fn code(text: &str) -> String {
    lex(text)
        .into_iter()
        .map(|t| match t {
            Tok::Ident(w) => w,
            Tok::Colons => "::".into(),
            Tok::Str(_) => "\"\"".into(),
            Tok::Punct(c) => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
