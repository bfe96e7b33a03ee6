//! The tokens of a `--where` expression, each with its byte span.

use crate::value::Value;
use std::ops::Range;

/// A parse error (of the lexer or the parser): where, what, and how to fix it.
pub(super) type Failure = (Range<usize>, String, Option<String>);

/// A token's kind (and value).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Name(String),
    Num(Value),
    Str(Value),
    Bool(bool),
    Op(Op),
    And,
    Or,
    Not,
    In,
    Open,
    Close,
    LBracket,
    RBracket,
    Comma,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Lt,
    Le,
    Eq,
    Ne,
    Gt,
    Ge,
}

/// A token and where it is in the text.
#[derive(Debug, Clone)]
pub(super) struct Token {
    pub tok: Tok,
    pub span: Range<usize>,
}

/// Characters of a name: a parameter may be called `c0`, `t_final` or `k-on`.
fn name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Splits `text` into tokens.
pub(super) fn lex(text: &str) -> Result<Vec<Token>, Failure> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = text[i..].chars().next().expect("i is on a char boundary");
        let start = i;
        let one = |tok: Tok| (tok, start + 1);
        let (tok, end) = match c {
            c if c.is_whitespace() => {
                i += c.len_utf8();
                continue;
            }
            '(' => one(Tok::Open),
            ')' => one(Tok::Close),
            '[' => one(Tok::LBracket),
            ']' => one(Tok::RBracket),
            ',' => one(Tok::Comma),
            '<' | '>' | '=' | '!' => {
                let two = b.get(i + 1) == Some(&b'=');
                let op = match (c, two) {
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    ('>', true) => Op::Ge,
                    ('=', true) => Op::Eq,
                    ('!', true) => Op::Ne,
                    ('=', false) => {
                        return Err((start..start + 1, "`=` is no comparison".into(), Some("write `==`".into())))
                    }
                    _ => return Err((start..start + 1, "`!` is not `not`".into(), Some("write `not` or `!=`".into()))),
                };
                (Tok::Op(op), start + 1 + usize::from(two))
            }
            '&' | '|' => {
                let len = if b.get(i + 1) == Some(&(c as u8)) { 2 } else { 1 };
                let word = if c == '&' { "and" } else { "or" };
                return Err((
                    start..start + len,
                    format!("`{}` is not `{word}`", &text[start..start + len]),
                    Some(format!("write `{word}`")),
                ));
            }
            '\'' | '"' => {
                let Some(close) = text[i + 1..].find(c) else {
                    return Err((
                        start..text.len(),
                        "this string has no closing quote".into(),
                        Some(format!("end it with {c}")),
                    ));
                };
                let s = &text[i + 1..i + 1 + close];
                (Tok::Str(Value::Str(s.into())), i + 2 + close)
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                // Digits, a point, `_` separators, an exponent and its sign (`1e-3`).
                let rest = &b[i..];
                let mut len = 0;
                while let Some(&ch) = rest.get(len) {
                    let sign = (ch == b'-' || ch == b'+') && (len == 0 || rest[len - 1].eq_ignore_ascii_case(&b'e'));
                    if !(ch.is_ascii_alphanumeric() || ch == b'.' || ch == b'_' || sign) {
                        break;
                    }
                    len += 1;
                }
                let word = &text[i..i + len];
                let clean = word.replace('_', "");
                let value = if let Ok(n) = clean.parse::<i64>() {
                    Value::Int(n)
                } else if let Ok(x) = clean.parse::<f64>() {
                    Value::Float(x)
                } else {
                    return Err((start..start + len, format!("`{word}` is not a number"), None));
                };
                (Tok::Num(value), i + len)
            }
            c if name_char(c) => {
                let len = text[i..].char_indices().find(|&(_, ch)| !name_char(ch)).map_or(text.len() - i, |(k, _)| k);
                let word = &text[i..i + len];
                let tok = match word {
                    "and" | "AND" => Tok::And,
                    "or" | "OR" => Tok::Or,
                    "not" | "NOT" => Tok::Not,
                    "in" | "IN" => Tok::In,
                    "true" | "True" => Tok::Bool(true),
                    "false" | "False" => Tok::Bool(false),
                    _ => Tok::Name(word.to_string()),
                };
                (tok, i + len)
            }
            other => {
                return Err((start..start + other.len_utf8(), format!("unexpected `{other}`"), None));
            }
        };
        out.push(Token { tok, span: start..end });
        i = end;
    }
    if out.is_empty() {
        return Err((0..1, "the expression is empty".into(), Some("e.g. --where 'c0 == 1.0'".into())));
    }
    Ok(out)
}
