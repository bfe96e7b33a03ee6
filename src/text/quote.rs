//! Quoting for POSIX shells.

/// Quotes `s` for `sh` so that it is always one word and never code: unchanged when it is
/// made only of characters no shell treats specially, otherwise in single quotes.
pub fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-+=.,:/@%".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        shell_quote_always(s)
    }
}

/// Quotes `s` for `sh` in single quotes, even when it needs none (paths in generated
/// scripts read the same whatever they hold).
pub fn shell_quote_always(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_exactly_what_a_shell_would_read_specially() {
        let cases = [
            ("--retries", "--retries"),
            ("0.5", "0.5"),
            ("/a/b-c_d.toml", "/a/b-c_d.toml"),
            ("a b", "'a b'"),
            ("", "''"),
            ("$x", "'$x'"),
            ("it's", "'it'\\''s'"),
            ("'; touch pwned; '", "''\\''; touch pwned; '\\'''"),
            ("a\nb", "'a\nb'"),
            ("*", "'*'"),
            ("~", "'~'"),
        ];
        for (raw, quoted) in cases {
            assert_eq!(shell_quote(raw), quoted, "{raw:?}");
        }
        assert_eq!(shell_quote_always("/a/b"), "'/a/b'");
        assert_eq!(shell_quote_always("it's"), "'it'\\''s'");
    }

    #[test]
    fn sh_reads_every_quoted_word_back_unchanged() {
        for raw in ["plain", "a b", "it's", "$(id)", "`id`", "a\"b", "\\", "x;y|z&", "*?[", "é ü"] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf '%s|%s' {} {}", shell_quote(raw), shell_quote_always(raw)))
                .output()
                .expect("sh runs");
            assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{raw}|{raw}"));
        }
    }
}
