//! Which metrics `--y` names: one, several separated by commas (`--y a,b,c`), or globs
//! (`--y 'err_*'`), drawn as one line each on one axis.

use crate::report::ReportError;

/// Whether `name` matches `pattern`, where `*` stands for any run of characters and `?`
/// for one.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // The classic two-pointer match, backtracking to the last `*`.
    let (mut i, mut j, mut star, mut from) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            (i, j) = (i + 1, j + 1);
        } else if i < p.len() && p[i] == '*' {
            (star, from, i) = (Some(i), j, i + 1);
        } else if let Some(s) = star {
            (i, from) = (s + 1, from + 1);
            j = from;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// The positions in `names` of the columns `spec` names, in the order given (a glob's
/// matches in column order), each once. Globs match only the first `metrics` names (the
/// metrics, not `seconds` or `attempts`); a plain name may be any of `names`.
pub(crate) fn metrics(spec: &str, names: &[String], metrics: usize) -> Result<Vec<usize>, ReportError> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim) {
        if part.is_empty() {
            return Err(ReportError::Unsupported(format!(
                "--y `{spec}` has an empty name; separate metrics with single commas, e.g. --y a,b"
            )));
        }
        let found: Vec<usize> = if part.contains(['*', '?']) {
            let found: Vec<usize> = (0..metrics).filter(|&i| glob_match(part, &names[i])).collect();
            if found.is_empty() {
                return Err(ReportError::Unsupported(format!(
                    "--y: `{part}` matches no metric; available: {}",
                    names[..metrics].join(", ")
                )));
            }
            found
        } else {
            let i = names.iter().position(|n| n == part).ok_or_else(|| ReportError::UnknownColumn {
                flag: "--y",
                what: "metric",
                name: part.to_string(),
                suggestion: crate::text::did_you_mean(part, names.iter().map(String::as_str)),
                available: names.to_vec(),
            })?;
            vec![i]
        };
        for i in found {
            if !out.contains(&i) {
                out.push(i);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_a_shell() {
        let cases = [
            ("err_*", "err_mean", true),
            ("err_*", "err_", true),
            ("err_*", "ferr_mean", false),
            ("*_mean", "err_mean", true),
            ("e?r*n", "err_mean", true),
            ("*a*b*", "xaxbx", true),
            ("*a*b", "xaxbx", false),
            ("err", "err_mean", false),
        ];
        for (p, n, want) in cases {
            assert_eq!(glob_match(p, n), want, "{p} {n}");
        }
    }

    #[test]
    fn names_and_globs_in_the_order_given() {
        let names: Vec<String> = ["err_mean", "err_median", "bias", "seconds"].map(String::from).to_vec();
        assert_eq!(metrics("bias", &names, 3).unwrap(), [2]);
        assert_eq!(metrics("bias, err_*", &names, 3).unwrap(), [2, 0, 1]);
        assert_eq!(metrics("err_median,err_*", &names, 3).unwrap(), [1, 0]);
        assert_eq!(metrics("seconds", &names, 3).unwrap(), [3]);
        assert_eq!(metrics("*", &names, 3).unwrap(), [0, 1, 2], "globs leave seconds out");
        let err = metrics("err_*,bais", &names, 3).unwrap_err().to_string();
        assert!(err.contains("no metric `bais`") && err.contains("did you mean `bias`?"), "{err}");
        let err = metrics("x_*", &names, 3).unwrap_err().to_string();
        assert!(err.contains("`x_*` matches no metric; available: err_mean, err_median, bias"), "{err}");
        assert!(metrics("bias,,err_mean", &names, 3).unwrap_err().to_string().contains("empty name"));
    }
}
