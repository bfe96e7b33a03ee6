//! `{placeholder}` templates for command lines.

use std::ops::Range;

/// Placeholders every command template knows besides the parameters.
pub const BUILTIN_PLACEHOLDERS: [&str; 5] = ["seed", "seed32", "replicate", "task", "out"];

/// One piece of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Literal text.
    Lit(String),
    /// The value of grid column `n`.
    Param(usize),
    /// `{seed}`.
    Seed,
    /// `{seed32}`: the seed's low 32 bits, for APIs that take no more.
    Seed32,
    /// `{replicate}`.
    Replicate,
    /// `{task}`.
    Task,
    /// `{out}`.
    Out,
}

/// A parsed template: literal text and placeholders. `{{` and `}}` are literal braces.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The pieces, in order.
    pub pieces: Vec<Piece>,
}

/// What a placeholder expands to in one task.
pub struct Values<'a> {
    /// Text of each grid column's value.
    pub params: &'a [String],
    /// The task's seed.
    pub seed: u64,
    /// The replicate.
    pub replicate: u32,
    /// The task id.
    pub task: &'a str,
    /// The task's output directory (absolute).
    pub out: &'a str,
}

impl Template {
    /// Parses `s`; on error returns the byte range inside `s`, a message and a hint.
    ///
    /// A placeholder is `{name}` with `name` a word (a letter or `_`, then letters, digits,
    /// `_`, `.`, `-`);
    /// any other brace is literal, so a shell's `{ a; b; }` and `{1..3}` pass through.
    /// `{{` and `}}` are always literal braces.
    pub fn parse(s: &str, columns: &[String]) -> Result<Template, (Range<usize>, String, Option<String>)> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut rest = s;
        while let Some(ch) = rest.chars().next() {
            let i = s.len() - rest.len();
            if rest.starts_with("{{") || rest.starts_with("}}") {
                lit.push(ch);
                rest = &rest[2..];
                continue;
            }
            let Some(name) = (ch == '{').then(|| placeholder_name(&rest[1..])).flatten() else {
                lit.push(ch);
                rest = &rest[ch.len_utf8()..];
                continue;
            };
            let end = i + name.len() + 1;
            let piece = match name {
                "seed" => Piece::Seed,
                "seed32" => Piece::Seed32,
                "replicate" => Piece::Replicate,
                "task" => Piece::Task,
                "out" => Piece::Out,
                _ => match columns.iter().position(|c| c == name) {
                    Some(c) => Piece::Param(c),
                    None => return Err(unknown(s, i..end + 1, name, columns)),
                },
            };
            if !lit.is_empty() {
                pieces.push(Piece::Lit(std::mem::take(&mut lit)));
            }
            pieces.push(piece);
            rest = &s[end + 1..];
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        Ok(Template { pieces })
    }

    /// Expands the template; with `quote`, every substituted value is shell-quoted.
    pub fn render(&self, v: &Values, quote: bool) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            let sub: std::borrow::Cow<str> = match p {
                Piece::Lit(s) => {
                    out.push_str(s);
                    continue;
                }
                Piece::Param(c) => v.params[*c].as_str().into(),
                Piece::Seed => v.seed.to_string().into(),
                Piece::Seed32 => crate::grid::seed32(v.seed).to_string().into(),
                Piece::Replicate => v.replicate.to_string().into(),
                Piece::Task => v.task.into(),
                Piece::Out => v.out.into(),
            };
            if quote {
                out.push_str(&crate::text::shell_quote(&sub));
            } else {
                out.push_str(&sub);
            }
        }
        out
    }
}

/// The word between `{` and the next `}` at the start of `after`, if it is one.
fn placeholder_name(after: &str) -> Option<&str> {
    let name = &after[..after.find('}')?];
    let word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '-');
    let first = name.chars().next()?;
    ((first.is_alphabetic() || first == '_') && name.chars().all(word)).then_some(name)
}

/// The error for `{name}` at `at` in `s` that is neither a built-in nor a parameter.
fn unknown(s: &str, at: Range<usize>, name: &str, columns: &[String]) -> (Range<usize>, String, Option<String>) {
    let known = columns.iter().map(String::as_str).chain(BUILTIN_PLACEHOLDERS);
    let help = if s[..at.start].ends_with('$') {
        format!("for the shell's variable write `${name}` or `${{{{{name}}}}}`")
    } else {
        crate::text::did_you_mean(name, known.clone()).unwrap_or_else(|| {
            format!("placeholders: {}", known.map(|k| format!("{{{k}}}")).collect::<Vec<_>>().join(", "))
        })
    };
    (at, format!("unknown placeholder `{{{name}}}`"), Some(help))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Vec<String> {
        vec!["k".into(), "name".into()]
    }

    #[test]
    fn parses_and_renders() {
        let t = Template::parse("--k={k} {{x}} {seed}/{out}", &cols()).unwrap();
        let v = Values { params: &["0.5".into(), "a".into()], seed: 7, replicate: 0, task: "ab", out: "/o" };
        assert_eq!(t.render(&v, false), "--k=0.5 {x} 7//o");
        assert_eq!(t.render(&v, true), "--k=0.5 {x} 7//o");
        let v = Values { params: &["a b".into(), "x".into()], seed: 7, replicate: 0, task: "ab", out: "/o" };
        assert_eq!(t.render(&v, true), "--k='a b' {x} 7//o");
    }

    #[test]
    fn unknown_placeholder_points_at_it() {
        let (range, msg, help) = Template::parse("a {kk} b", &cols()).unwrap_err();
        assert_eq!(range, 2..6);
        assert!(msg.contains("{kk}"));
        assert_eq!(help.as_deref(), Some("did you mean `k`?"));
    }

    #[test]
    fn shell_braces_that_are_not_placeholders_stay_literal() {
        // Regression: `{ echo ...; exit 1; }` in `shell` was an "unknown placeholder".
        let t = Template::parse("test {k} -lt 3 || { echo no >&2; exit 1; }; echo {1..3} }", &cols()).unwrap();
        let v = Values { params: &["2".into(), "a".into()], seed: 7, replicate: 0, task: "ab", out: "/o" };
        assert_eq!(t.render(&v, false), "test 2 -lt 3 || { echo no >&2; exit 1; }; echo {1..3} }");
    }

    #[test]
    fn a_shell_variable_in_braces_gets_a_hint() {
        let (_, msg, help) = Template::parse("echo ${HOME}", &cols()).unwrap_err();
        assert_eq!(msg, "unknown placeholder `{HOME}`");
        assert_eq!(help.as_deref(), Some("for the shell's variable write `$HOME` or `${{HOME}}`"));
    }
}
