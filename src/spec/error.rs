//! Spec errors: a message tied to a place in the spec file, rendered with the source line
//! and a caret under the offending text.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// An error in a spec file. Its `Display` names the file, line and column, shows the
/// offending line with a caret under the span, and says how to fix it.
#[derive(Debug, Clone)]
pub struct SpecError {
    /// The spec file.
    pub path: PathBuf,
    /// The spec's text (kept so the error can show the offending line).
    pub source: std::sync::Arc<str>,
    /// Byte range of the offending text, if known.
    pub span: Option<Range<usize>>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl std::error::Error for SpecError {}

impl SpecError {
    /// The span, moved out to whole characters of the source (a span from a parser of
    /// bytes may start or end inside one).
    fn char_span(&self) -> Option<Range<usize>> {
        let span = self.span.as_ref()?;
        let src = &self.source;
        let mut start = span.start.min(src.len());
        while !src.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = span.end.clamp(start, src.len());
        while !src.is_char_boundary(end) {
            end += 1;
        }
        Some(start..end)
    }

    /// The 1-based line and column of the span's start.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        let span = self.char_span()?;
        let before = &self.source[..span.start];
        let line = before.matches('\n').count() + 1;
        let col = before.rfind('\n').map_or(before.len(), |i| before.len() - i - 1);
        Some((line, before[before.len() - col..].chars().count() + 1))
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error: {}", self.message)?;
        let Some((line, col)) = self.line_col() else {
            write!(f, "  --> {}", self.path.display())?;
            if let Some(help) = &self.help {
                write!(f, "\n  = help: {help}")?;
            }
            return Ok(());
        };
        let span = self.char_span().unwrap_or(0..0);
        let text = self.source.lines().nth(line - 1).unwrap_or("");
        let gutter = line.to_string().len();
        let pad = " ".repeat(gutter);
        writeln!(f, "{pad}--> {}:{line}:{col}", self.path.display())?;
        writeln!(f, "{pad} |")?;
        writeln!(f, "{line} | {text}")?;
        let start_in_line = text.chars().take(col - 1).map(width).sum::<usize>();
        let span_text = &self.source[span];
        let first_line = span_text.split('\n').next().unwrap_or("");
        let carets = first_line.chars().map(width).sum::<usize>().max(1);
        write!(f, "{pad} | {}{}", " ".repeat(start_in_line), "^".repeat(carets))?;
        if let Some(help) = &self.help {
            write!(f, "\n{pad} = help: {help}")?;
        }
        Ok(())
    }
}

fn width(c: char) -> usize {
    if c == '\t' {
        4
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_line_column_and_caret() {
        let src = "name = \"x\"\n[params]\nkk = [1, 2]\n";
        let e = SpecError {
            path: "grid.toml".into(),
            source: src.into(),
            span: Some(20..22),
            message: "unknown parameter `kk`".into(),
            help: Some("did you mean `k`?".into()),
        };
        assert_eq!(e.line_col(), Some((3, 1)));
        let text = e.to_string();
        assert!(text.contains("--> grid.toml:3:1"), "{text}");
        assert!(text.contains("3 | kk = [1, 2]\n  | ^^\n"), "{text}");
    }
}
