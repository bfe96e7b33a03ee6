//! `--where EXPR`: a condition on a task's parameters and `replicate`.
//!
//! A small recursive-descent parser rather than a crate: the grammar is tiny (comparisons,
//! `in [..]`, `and`, `or`, `not`, parentheses), and what matters is the error: a caret under
//! the offending text and a suggestion ("did you mean `c0`?", "`c0` takes 0.5, 1.0"), which
//! needs the byte span of every token and the grid's names and values while parsing.
//! evalexpr, the usual choice, has another grammar (`&&`, `||`, no `in`) and reports no spans.
//!
//! ```text
//! or   := and ("or" and)*
//! and  := not ("and" not)*
//! not  := "not" not | cmp
//! cmp  := atom [("<" | "<=" | "==" | "!=" | ">" | ">=") atom | ["not"] "in" "[" lits "]"]
//! atom := "(" or ")" | NAME | NUMBER | 'STRING' | "STRING" | true | false
//! ```

use super::lex::{lex, Failure, Op, Tok, Token};
use crate::grid::Grid;
use crate::spec::SpecError;
use crate::text::did_you_mean;
use crate::value::{Value, ValueKind};
use std::cmp::Ordering;
use std::ops::Range;

/// A parsed `--where` condition, bound to a grid's columns.
#[derive(Debug, Clone)]
pub struct Filter {
    root: Node,
    /// The expression as given (for messages).
    pub text: String,
}

#[derive(Debug, Clone)]
enum Node {
    Or(Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Cmp(Operand, Op, Operand),
    In(Operand, Vec<Value>),
    Truth(Operand),
}

#[derive(Debug, Clone)]
enum Operand {
    Column(usize),
    Replicate,
    Lit(Value),
}

impl Filter {
    /// Parses `text` against `grid`: every name must be a parameter or `replicate`. The
    /// error's source is the expression, with a caret under what is wrong.
    pub fn parse(text: &str, grid: &Grid) -> Result<Filter, SpecError> {
        let err = |span: Range<usize>, message: String, help: Option<String>| SpecError {
            path: "--where".into(),
            source: text.into(),
            span: Some(span),
            message,
            help,
        };
        let tokens = lex(text).map_err(|(span, m, h)| err(span, m, h))?;
        let mut p = Parser { tokens: &tokens, at: 0, grid, end: text.len() };
        let root = p.or().map_err(|(span, m, h)| err(span, m, h))?;
        if let Some(t) = tokens.get(p.at) {
            let help = match t.tok {
                Tok::Name(_) | Tok::Num(_) | Tok::Str(_) => "join conditions with `and` or `or`",
                _ => "end the expression here, or join conditions with `and` or `or`",
            };
            return Err(err(t.span.clone(), "unexpected text after the condition".into(), Some(help.into())));
        }
        let filter = Filter { root, text: text.to_string() };
        // A condition that no task meets selects nothing: most likely a mistake (`k < 0`
        // where every k is positive). The scan stops at the first task that meets it.
        use rayon::prelude::*;
        if !(0..grid.task_count()).into_par_iter().any(|i| filter.matches(grid, i)) {
            let help = format!("the values: {}", spans(grid));
            return Err(err(0..text.len(), "no task of the grid satisfies this condition".into(), Some(help)));
        }
        Ok(filter)
    }

    /// Whether task `index` of `grid` (the grid this filter was parsed against) satisfies it.
    pub fn matches(&self, grid: &Grid, index: u64) -> bool {
        let (point, rep) = grid.locate(index);
        eval(&self.root, grid, point, rep)
    }
}

/// What each name takes, for a message: `k 0.1 to 0.3, c0 0.5 to 2.0, replicate 0 to 4`.
fn spans(grid: &Grid) -> String {
    let mut out: Vec<String> = grid
        .columns
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let (axis, member) = grid.column_position(c);
            let values = &grid.axes[axis].values[member];
            let numbers: Option<Vec<f64>> = values.iter().map(Value::as_f64).collect();
            match numbers {
                Some(x) if values.len() > 3 => {
                    let lo =
                        values[x.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |m| m.0)].to_string();
                    let hi =
                        values[x.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |m| m.0)].to_string();
                    format!("{name} {lo} to {hi}")
                }
                _ => {
                    let shown: Vec<String> = values.iter().take(6).map(ToString::to_string).collect();
                    format!("{name} {}{}", shown.join(", "), if values.len() > 6 { ", ..." } else { "" })
                }
            }
        })
        .collect();
    out.push(format!("replicate 0 to {}", grid.replicates.saturating_sub(1)));
    out.join("; ")
}

fn eval(n: &Node, grid: &Grid, point: u64, rep: u32) -> bool {
    let get = |o: &Operand| -> Value {
        match o {
            Operand::Column(c) => grid.value(point, *c).clone(),
            Operand::Replicate => Value::Int(i64::from(rep)),
            Operand::Lit(v) => v.clone(),
        }
    };
    match n {
        Node::Or(a, b) => eval(a, grid, point, rep) || eval(b, grid, point, rep),
        Node::And(a, b) => eval(a, grid, point, rep) && eval(b, grid, point, rep),
        Node::Not(a) => !eval(a, grid, point, rep),
        Node::Cmp(a, op, b) => {
            let ord = compare(&get(a), &get(b));
            match op {
                Op::Lt => ord == Some(Ordering::Less),
                Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
                Op::Eq => ord == Some(Ordering::Equal),
                Op::Ne => ord != Some(Ordering::Equal),
                Op::Gt => ord == Some(Ordering::Greater),
                Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
            }
        }
        Node::In(a, list) => {
            let v = get(a);
            list.iter().any(|x| compare(&v, x) == Some(Ordering::Equal))
        }
        Node::Truth(a) => matches!(get(a), Value::Bool(true)),
    }
}

/// Values compared as the grid holds them: numbers by value (an integer equals the float of
/// the same value), strings by their bytes, booleans `false < true`. `None` across kinds.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    grid: &'a Grid,
    /// The end of the text, where "expected ..." points when the tokens run out.
    end: usize,
}

/// The kind of an operand's values: numbers compare with numbers.
fn family(k: ValueKind) -> &'static str {
    match k {
        ValueKind::Int | ValueKind::Float => "a number",
        ValueKind::Str => "a string",
        ValueKind::Bool => "a boolean",
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|t| &t.tok)
    }

    fn here(&self) -> Range<usize> {
        self.tokens.get(self.at).map_or(self.end..self.end + 1, |t| t.span.clone())
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek() == Some(tok) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> Result<Node, Failure> {
        let mut left = self.and()?;
        while self.eat(&Tok::Or) {
            left = Node::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Node, Failure> {
        let mut left = self.not()?;
        while self.eat(&Tok::And) {
            left = Node::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Node, Failure> {
        if self.eat(&Tok::Not) {
            return Ok(Node::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Node, Failure> {
        if self.eat(&Tok::Open) {
            let inner = self.or()?;
            if !self.eat(&Tok::Close) {
                return Err((self.here(), "expected `)`".into(), Some("close the parenthesis".into())));
            }
            return Ok(inner);
        }
        let (left, left_span) = self.operand()?;
        let op = match self.peek() {
            Some(Tok::Op(op)) => Some(*op),
            _ => None,
        };
        if let Some(op) = op {
            self.at += 1;
            let (right, right_span) = self.operand()?;
            self.check_kinds(&left, &left_span, &right, &right_span, op)?;
            return Ok(Node::Cmp(left, op, right));
        }
        let negated = self.peek() == Some(&Tok::Not) && self.tokens.get(self.at + 1).map(|t| &t.tok) == Some(&Tok::In);
        if negated {
            self.at += 1;
        }
        if self.eat(&Tok::In) {
            let list = self.list(&left, &left_span)?;
            let node = Node::In(left, list);
            return Ok(if negated { Node::Not(Box::new(node)) } else { node });
        }
        match self.kind(&left) {
            ValueKind::Bool => Ok(Node::Truth(left)),
            k => Err((
                left_span,
                format!("a condition, not {}", family(k)),
                Some("compare it, e.g. `c0 == 1.0`, `k < 0.5` or `name in ['a', 'b']`".into()),
            )),
        }
    }

    /// A name or a literal, with its span.
    fn operand(&mut self) -> Result<(Operand, Range<usize>), Failure> {
        let Some(t) = self.tokens.get(self.at) else {
            return Err((self.here(), "the expression ends here; expected a parameter or a value".into(), None));
        };
        let span = t.span.clone();
        let o = match &t.tok {
            Tok::Name(n) => match self.grid.column(n) {
                Some(c) => Operand::Column(c),
                None if n == "replicate" => Operand::Replicate,
                None => return Err(self.unknown(n, span)),
            },
            Tok::Num(v) | Tok::Str(v) => Operand::Lit(v.clone()),
            Tok::Bool(b) => Operand::Lit(Value::Bool(*b)),
            _ => return Err((span, "expected a parameter or a value here".into(), None)),
        };
        self.at += 1;
        Ok((o, span))
    }

    fn unknown(&self, name: &str, span: Range<usize>) -> Failure {
        let names: Vec<&str> =
            self.grid.columns.iter().map(String::as_str).chain(std::iter::once("replicate")).collect();
        // Short names (`c1` for `c0`) are too short for the similarity score: one edit away will do.
        let help = did_you_mean(name, names.iter().copied())
            .or_else(|| {
                names.iter().find(|c| strsim::levenshtein(name, c) == 1).map(|c| format!("did you mean `{c}`?"))
            })
            .map(|s| format!("{s} (the names: {})", names.join(", ")))
            .unwrap_or_else(|| format!("the names: {} (a string needs quotes: '{name}')", names.join(", ")));
        (span, format!("`{name}` is no parameter of the sweep"), Some(help))
    }

    fn kind(&self, o: &Operand) -> ValueKind {
        match o {
            Operand::Column(c) => self.grid.value(0, *c).kind(),
            Operand::Replicate => ValueKind::Int,
            Operand::Lit(v) => v.kind(),
        }
    }

    /// The values a column takes, when `o` is one (for "takes ..." help).
    fn values(&self, o: &Operand) -> Option<Vec<Value>> {
        match o {
            Operand::Column(c) => {
                let (axis, member) = self.grid.column_position(*c);
                Some(self.grid.axes[axis].values[member].clone())
            }
            Operand::Replicate => Some((0..i64::from(self.grid.replicates)).map(Value::Int).collect()),
            Operand::Lit(_) => None,
        }
    }

    fn check_kinds(
        &self,
        a: &Operand,
        a_span: &Range<usize>,
        b: &Operand,
        b_span: &Range<usize>,
        op: Op,
    ) -> Result<(), Failure> {
        let (ka, kb) = (self.kind(a), self.kind(b));
        if family(ka) != family(kb) {
            return Err((
                b_span.clone(),
                format!("this is {} and the other side {}", family(kb), family(ka)),
                Some("compare numbers with numbers, strings with 'strings', booleans with true or false".into()),
            ));
        }
        if ka == ValueKind::Bool && !matches!(op, Op::Eq | Op::Ne) {
            return Err((a_span.start..b_span.end, "booleans compare only with == and !=".into(), None));
        }
        // `c0 == 1.5` where c0 never is 1.5 selects nothing: most likely a typo.
        if op == Op::Eq {
            for (col, lit, span) in [(a, b, b_span), (b, a, a_span)] {
                if let (Some(values), Operand::Lit(v)) = (self.values(col), lit) {
                    self.check_taken(&values, v, span)?;
                }
            }
        }
        Ok(())
    }

    fn check_taken(&self, values: &[Value], v: &Value, span: &Range<usize>) -> Result<(), Failure> {
        if values.iter().any(|x| compare(x, v) == Some(Ordering::Equal)) {
            return Ok(());
        }
        let shown: Vec<String> = values.iter().take(12).map(ToString::to_string).collect();
        let more = if values.len() > 12 { ", ..." } else { "" };
        Err((
            span.clone(),
            format!("no task has the value {v} here"),
            Some(format!("it takes {}{more}", shown.join(", "))),
        ))
    }

    /// `[v, ...]` after `in`: literals of the left side's kind, each a value it takes.
    fn list(&mut self, left: &Operand, left_span: &Range<usize>) -> Result<Vec<Value>, Failure> {
        if !self.eat(&Tok::LBracket) {
            return Err((self.here(), "expected `[` after `in`".into(), Some("e.g. `k in [0.1, 0.2]`".into())));
        }
        let mut out = Vec::new();
        loop {
            if self.eat(&Tok::RBracket) {
                return Ok(out);
            }
            let (item, span) = self.operand()?;
            let Operand::Lit(v) = item else {
                return Err((span, "a list holds values, not parameters".into(), None));
            };
            self.check_kinds(left, left_span, &Operand::Lit(v.clone()), &span, Op::Eq)?;
            out.push(v);
            if !self.eat(&Tok::Comma) && self.peek() != Some(&Tok::RBracket) {
                return Err((self.here(), "expected `,` or `]`".into(), Some("e.g. `k in [0.1, 0.2]`".into())));
            }
        }
    }
}
