//! Every relative link in README.md, ARCHITECTURE.md and docs/*.md resolves: its file
//! exists and its `#anchor`, if any, names a heading of that file as GitHub renders it.
//! The reference lives in chapters that link to each other, so a renamed heading or a
//! moved file would otherwise break links silently.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The documents whose links are checked: README.md, ARCHITECTURE.md and docs/*.md under
/// `root`, sorted.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> =
        ["README.md", "ARCHITECTURE.md"].iter().map(|f| root.join(f)).filter(|p| p.exists()).collect();
    if let Ok(entries) = std::fs::read_dir(root.join("docs")) {
        let mut chapters: Vec<PathBuf> =
            entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "md")).collect();
        chapters.sort();
        docs.extend(chapters);
    }
    docs
}

/// The lines of `text` outside fenced code blocks, with their 1-based numbers: what is
/// inside a fence is code, where `[a](b)` and `# x` mean nothing.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<(char, usize)> = None;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let marker = t.chars().next().filter(|c| *c == '`' || *c == '~');
        let run = marker.map_or(0, |c| t.chars().take_while(|x| *x == c).count());
        match (fence, marker) {
            (None, Some(c)) if run >= 3 => fence = Some((c, run)),
            (Some((c, n)), Some(m)) if m == c && run >= n && t[run..].trim().is_empty() => fence = None,
            (None, _) => out.push((i + 1, line)),
            _ => {}
        }
    }
    out
}

/// Code fences that cannot be what was meant, with their line numbers: a block that never
/// closes, or a fence with a language (```` ```toml ````) inside an open block, which shows
/// that an earlier block lost its closing fence: the prose after it renders as code.
fn fence_problems(text: &str) -> Vec<(usize, String)> {
    let mut open: Option<(char, usize, usize)> = None;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let Some(c) = t.chars().next().filter(|c| *c == '`' || *c == '~') else { continue };
        let run = t.chars().take_while(|x| *x == c).count();
        if run < 3 {
            continue;
        }
        let info = t[run..].trim();
        match open {
            None => open = Some((c, run, i + 1)),
            Some((o, n, _)) if o == c && run >= n && info.is_empty() => open = None,
            Some((_, _, at)) if !info.is_empty() => out.push((
                i + 1,
                format!("a code block opens inside the one opened on line {at}: it lacks its closing fence"),
            )),
            Some(_) => {}
        }
    }
    if let Some((_, _, at)) = open {
        out.push((at, "a code block that never closes".to_string()));
    }
    out
}

/// `line` with its inline code spans blanked out (backticks and all), so that a link shown
/// as code is not taken for a link.
fn without_code(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '`' {
            let n = chars[i..].iter().take_while(|c| **c == '`').count();
            // The span closes at the next run of exactly n backticks; an unclosed run is text.
            let mut j = i + n;
            let close = loop {
                if j >= chars.len() {
                    break None;
                }
                if chars[j] == '`' {
                    let m = chars[j..].iter().take_while(|c| **c == '`').count();
                    if m == n {
                        break Some(j + m);
                    }
                    j += m;
                } else {
                    j += 1;
                }
            };
            match close {
                Some(end) => {
                    out.extend(std::iter::repeat_n(' ', end - i));
                    i = end;
                }
                None => {
                    out.extend(&chars[i..i + n]);
                    i += n;
                }
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The link targets in `text` with their line numbers: inline links `[text](target)`
/// (images too) and reference definitions `[label]: target`, outside code.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in prose(text) {
        let line = without_code(line);
        let trimmed = line.trim_start();
        // A reference definition: `[label]: target`, the label holding no brackets.
        if let Some(label_end) = trimmed.strip_prefix('[').and_then(|t| t.find(']')).map(|e| e + 1) {
            if label_end > 1 && trimmed[label_end + 1..].starts_with(':') {
                let target = trimmed[label_end + 2..].split_whitespace().next().unwrap_or("");
                out.push((n, target.trim_matches(['<', '>']).to_string()));
                continue;
            }
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            // The target ends at the `)` that balances the opening one.
            let mut depth = 0usize;
            let mut end = after.len();
            for (k, c) in after.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' if depth == 0 => {
                        end = k;
                        break;
                    }
                    ')' => depth -= 1,
                    _ => {}
                }
            }
            let target = after[..end].split_whitespace().next().unwrap_or("");
            out.push((n, target.trim_matches(['<', '>']).to_string()));
            rest = &after[end.min(after.len())..];
        }
    }
    out
}

/// Whether `c` is in Unicode's "Other_Number" category (superscripts, fractions, circled
/// numbers), the numbers GitHub drops from a slug though Rust counts them as numeric.
fn other_number(c: char) -> bool {
    matches!(c, '\u{b2}' | '\u{b3}' | '\u{b9}' | '\u{bc}'..='\u{be}' | '\u{2070}'..='\u{209f}' | '\u{2150}'..='\u{215f}' | '\u{2460}'..='\u{24ff}' | '\u{2776}'..='\u{2793}')
}

/// The anchor GitHub gives a heading's text: inline markup reduced to its text, lower case,
/// every character but letters, digits, `_`, `-` and spaces removed, spaces turned into `-`.
fn slug(heading: &str) -> String {
    // `[text](url)` shows as `text`; code spans and emphasis show their content.
    let mut text = String::new();
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        match rest[open..].find("](").and_then(|m| rest[open + m..].find(')').map(|e| (m, e))) {
            Some((mid, end)) => {
                text.push_str(&rest[..open]);
                text.push_str(&rest[open + 1..open + mid]);
                rest = &rest[open + mid + end + 1..];
            }
            None => break,
        }
    }
    text.push_str(rest);
    text.to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphabetic() || (c.is_numeric() && !other_number(c)) => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of `text`'s ATX headings (`# ...` to `###### ...`), outside code; a slug seen
/// before gets `-1`, `-2`, ... as on GitHub.
fn anchors(text: &str) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (_, line) in prose(text) {
        let t = line.trim_start();
        if line.len() - t.len() > 3 {
            continue;
        }
        let level = t.chars().take_while(|c| *c == '#').count();
        if !(1..=6).contains(&level) || !(t[level..].is_empty() || t[level..].starts_with([' ', '\t'])) {
            continue;
        }
        let title = t[level..].trim().trim_end_matches('#').trim();
        let base = slug(title);
        let n = seen.entry(base.clone()).or_insert(0);
        out.push(if *n == 0 { base.clone() } else { format!("{base}-{n}") });
        *n += 1;
    }
    out
}

/// Every broken relative link of the documents under `root`, as `file:line: target: why`,
/// and every code fence that swallows the prose after it.
fn broken_links(root: &Path) -> Vec<String> {
    let mut broken = Vec::new();
    for doc in documents(root) {
        let text = std::fs::read_to_string(&doc).unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
        let name = doc.strip_prefix(root).unwrap().display().to_string();
        broken.extend(fence_problems(&text).into_iter().map(|(line, why)| format!("{name}:{line}: {why}")));
        for (line, target) in links(&text) {
            let external = target.contains("://") || target.starts_with("mailto:");
            if external || target.is_empty() {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() { doc.clone() } else { doc.parent().unwrap().join(path.replace("%20", " ")) };
            let why = if !file.exists() {
                Some("no such file".to_string())
            } else if let Some(anchor) = anchor {
                let heads = if file.extension().is_some_and(|x| x == "md") {
                    anchors(&std::fs::read_to_string(&file).unwrap())
                } else {
                    Vec::new()
                };
                (!heads.iter().any(|h| h == anchor)).then(|| format!("no heading with the anchor #{anchor} in {path}"))
            } else {
                None
            };
            if let Some(why) = why {
                broken.push(format!("{name}:{line}: {target}: {why}"));
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let docs = documents(root);
    assert!(docs.len() >= 3, "README.md, ARCHITECTURE.md and the chapters: {docs:?}");
    let broken = broken_links(root);
    assert!(broken.is_empty(), "broken links (fix the target, or the heading it names):\n{}", broken.join("\n"));
}

#[test]
fn every_chapter_is_linked_from_the_readme() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let targets: Vec<String> =
        links(&readme).into_iter().map(|(_, t)| t.split('#').next().unwrap().to_string()).collect();
    let missing: Vec<String> = documents(root)
        .iter()
        .filter(|d| d.parent().unwrap().ends_with("docs"))
        .map(|d| format!("docs/{}", d.file_name().unwrap().to_string_lossy()))
        .filter(|d| !targets.contains(d))
        .collect();
    assert!(missing.is_empty(), "chapters the README does not link to: {missing:?}");
}

#[test]
fn the_checker_finds_a_missing_file_a_missing_heading_a_lost_fence_and_nothing_in_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("docs")).unwrap();
    std::fs::write(
        dir.path().join("README.md"),
        "# Top\n\nSee [a](docs/a.md), [its part](docs/a.md#the-part-sweeprun), [gone](docs/gone.md),\n\
         [a typo](docs/a.md#the-prat) and [here](#top).\n\n```sh\n[not a link](nowhere.md)\n```\n\
         `[code](nowhere.md)` and [web](https://example.com/x.md).\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("docs/a.md"),
        "# A\n\n## The part: `sweep.run`\n\nBack to the [README](../README.md#top) and [twice](#a-1).\n\n## A\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("docs/b.md"),
        "# B\n\n```toml\nx = 1\n\nProse.\n\n```text\ncode\n```\n\n```sh\nls\n",
    )
    .unwrap();
    let broken = broken_links(dir.path());
    assert_eq!(
        broken,
        [
            "README.md:3: docs/gone.md: no such file",
            "README.md:4: docs/a.md#the-prat: no heading with the anchor #the-prat in docs/a.md",
            "docs/b.md:8: a code block opens inside the one opened on line 3: it lacks its closing fence",
            "docs/b.md:12: a code block that never closes",
        ],
        "{broken:#?}"
    );
}

#[test]
fn slugs_follow_github() {
    for (heading, want) in [
        ("From Python in one call: `sweep.run`", "from-python-in-one-call-sweeprun"),
        ("Comparing methods: `common_seed`", "comparing-methods-common_seed"),
        ("Set-up (a fresh machine with the Rust toolchain)", "set-up-a-fresh-machine-with-the-rust-toolchain"),
        ("Arrays in one store: `[output] arrays = \"zarr\"`", "arrays-in-one-store-output-arrays--zarr"),
        ("10⁹ tasks over 1,000–10,000 array elements (estimate)", "10-tasks-over-100010000-array-elements-estimate"),
        ("See [the spec](docs/spec.md)", "see-the-spec"),
    ] {
        assert_eq!(slug(heading), want, "{heading}");
    }
}
