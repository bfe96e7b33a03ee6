//! `{placeholder}` templates for command lines.

use super::BUILTIN_PLACEHOLDERS;
use std::ops::Range;

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
    pub fn parse(s: &str, columns: &[String]) -> Result<Template, (Range<usize>, String, Option<String>)> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut chars = s.char_indices().peekable();
        while let Some((i, ch)) = chars.next() {
            match ch {
                '{' if chars.peek().map(|c| c.1) == Some('{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek().map(|c| c.1) == Some('}') => {
                    chars.next();
                    lit.push('}');
                }
                '{' => {
                    let Some(end) = s[i..].find('}').map(|e| i + e) else {
                        return Err((
                            i..s.len(),
                            "unclosed `{` in a command template".into(),
                            Some("write `{{` for a literal brace".into()),
                        ));
                    };
                    let name = &s[i + 1..end];
                    let piece = match name {
                        "seed" => Piece::Seed,
                        "seed32" => Piece::Seed32,
                        "replicate" => Piece::Replicate,
                        "task" => Piece::Task,
                        "out" => Piece::Out,
                        _ => match columns.iter().position(|c| c == name) {
                            Some(c) => Piece::Param(c),
                            None => {
                                let known = columns.iter().map(String::as_str).chain(BUILTIN_PLACEHOLDERS);
                                let help = crate::text::did_you_mean(name, known.clone()).unwrap_or_else(|| {
                                    format!(
                                        "placeholders: {}",
                                        known.map(|k| format!("{{{k}}}")).collect::<Vec<_>>().join(", ")
                                    )
                                });
                                return Err((i..end + 1, format!("unknown placeholder `{{{name}}}`"), Some(help)));
                            }
                        },
                    };
                    if !lit.is_empty() {
                        pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                    }
                    pieces.push(piece);
                    while chars.peek().is_some_and(|c| c.0 <= end) {
                        chars.next();
                    }
                }
                '}' => {
                    return Err((
                        i..i + 1,
                        "unmatched `}` in a command template".into(),
                        Some("write `}}` for a literal brace".into()),
                    ))
                }
                c => lit.push(c),
            }
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
}
