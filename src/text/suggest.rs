//! "did you mean `x`?" for misspelt keys, models, parameters and placeholders, and what
//! counts as a name.

/// "did you mean `x`?" for the candidate closest to `word`, if any is close enough.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// Whether `s` is an identifier, ASCII only: a name that Python (a function) and xarray (a
/// dimension, by attribute access) both take.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let cases: [(&str, &[&str], Option<&str>); 4] = [
            ("t_finl", &["k", "t_final"], Some("did you mean `t_final`?")),
            ("zzz", &["k", "t_final"], None),
            ("linspce", &["linspace", "logspace", "geomspace", "range"], Some("did you mean `linspace`?")),
            ("x", &[], None),
        ];
        for (word, candidates, want) in cases {
            assert_eq!(did_you_mean(word, candidates.iter().copied()).as_deref(), want, "{word}");
        }
    }
}
