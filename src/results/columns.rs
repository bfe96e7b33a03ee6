//! The column layout of `results.csv`, in one place for its writer and its readers:
//! `task, replicate, seed, <params>, status, attempts, seconds, <metrics>, class, error`.

use std::ops::Range;

/// The columns before the parameters.
pub const LEADING: [&str; 3] = ["task", "replicate", "seed"];
/// The columns between the parameters and the metrics.
pub const STATUS: [&str; 3] = ["status", "attempts", "seconds"];
/// The columns after the metrics.
pub const TRAILING: [&str; 2] = ["class", "error"];
/// The last column, after `error`, when the done tasks came from more than one version of
/// the code (see [`crate::code`]): each done task's code id.
pub const CODE: &str = "code";

/// Whether `name` is one of the columns sweep writes itself (a metric may not take it).
pub fn is_own(name: &str) -> bool {
    LEADING.iter().chain(&STATUS).chain(&TRAILING).any(|c| *c == name)
}

/// The header of a `results.csv` with parameter columns `params` and metric columns
/// `metrics`, in that order.
pub fn header<'a>(
    params: impl IntoIterator<Item = &'a str>,
    metrics: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    LEADING.into_iter().chain(params).chain(STATUS).chain(metrics).chain(TRAILING).collect()
}

/// Where each column of a `results.csv` header is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    /// `task`.
    pub task: usize,
    /// `replicate`.
    pub replicate: usize,
    /// `seed`.
    pub seed: usize,
    /// The parameter columns, in grid order.
    pub params: Range<usize>,
    /// `status`.
    pub status: usize,
    /// `attempts`.
    pub attempts: usize,
    /// `seconds`.
    pub seconds: usize,
    /// The metric columns, in file order.
    pub metrics: Range<usize>,
    /// `class`, when the file has it.
    pub class: Option<usize>,
    /// `error`, when the file has it.
    pub error: Option<usize>,
    /// `code`, after `error`, when the file has it.
    pub code: Option<usize>,
}

impl Columns {
    /// Finds the columns of `headers`, given the sweep's parameters (from its manifest):
    /// they, not the header, say where the parameters end, so a parameter may even be
    /// called `status`. Without the trailing `class, error` pair every column after
    /// `seconds` is a metric.
    ///
    /// The error says which column is missing or misnamed.
    pub fn locate(headers: &[impl AsRef<str>], params: &[String]) -> Result<Columns, String> {
        let name = |i: usize| headers.get(i).map(AsRef::as_ref);
        let expect = |i: usize, want: &str| -> Result<(), String> {
            match name(i) {
                Some(h) if h == want => Ok(()),
                Some(h) => Err(format!("expected column {} to be `{want}`, found `{h}`", i + 1)),
                None => Err(format!("missing column `{want}` (header has {} columns)", headers.len())),
            }
        };
        for (i, want) in LEADING.iter().enumerate() {
            expect(i, want)?;
        }
        let first_param = LEADING.len();
        for (i, want) in params.iter().enumerate() {
            expect(first_param + i, want)?;
        }
        let status = first_param + params.len();
        for (i, want) in STATUS.iter().enumerate() {
            expect(status + i, want)?;
        }
        let first_metric = status + STATUS.len();
        let mut n = headers.len();
        let code = (n > first_metric + TRAILING.len()
            && name(n - 1) == Some(CODE)
            && TRAILING.iter().enumerate().all(|(i, want)| name(n - 1 - TRAILING.len() + i) == Some(want)))
        .then(|| n - 1);
        if code.is_some() {
            n -= 1;
        }
        let trailing = n >= first_metric + TRAILING.len()
            && TRAILING.iter().enumerate().all(|(i, want)| name(n - TRAILING.len() + i) == Some(want));
        let (class, error, end) = if trailing { (Some(n - 2), Some(n - 1), n - 2) } else { (None, None, n) };
        Ok(Columns {
            task: 0,
            replicate: 1,
            seed: 2,
            params: first_param..status,
            status,
            attempts: status + 1,
            seconds: status + 2,
            metrics: first_metric..end,
            class,
            error,
            code,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn header_then_locate_round_trips() {
        let h = header(["k", "c0"], ["conc", "steps"]);
        assert_eq!(h.join(","), "task,replicate,seed,k,c0,status,attempts,seconds,conc,steps,class,error");
        let c = Columns::locate(&h, &names(&["k", "c0"])).unwrap();
        assert_eq!((c.params, c.status, c.seconds), (3..5, 5, 7));
        assert_eq!((c.metrics, c.class, c.error), (8..10, Some(10), Some(11)));
        let c = Columns::locate(&header([], []), &[]).unwrap();
        assert_eq!((c.params, c.metrics, c.class), (3..3, 6..6, Some(6)));
        let mut h = header(["k"], ["y"]);
        h.push(CODE);
        let c = Columns::locate(&h, &names(&["k"])).unwrap();
        assert_eq!((c.metrics, c.class, c.error, c.code), (7..8, Some(8), Some(9), Some(10)));
    }

    #[test]
    fn the_manifest_says_where_parameters_end() {
        let h = header(["status"], ["m"]);
        let c = Columns::locate(&h, &names(&["status"])).unwrap();
        assert_eq!((c.params, c.status), (3..4, 4));
        let err = Columns::locate(&h, &[]).unwrap_err();
        assert_eq!(err, "expected column 5 to be `attempts`, found `status`");
    }

    #[test]
    fn misnamed_and_missing_columns() {
        let h = names(&["task", "replica", "seed"]);
        assert_eq!(Columns::locate(&h, &[]).unwrap_err(), "expected column 2 to be `replicate`, found `replica`");
        let h = names(&["task", "replicate", "seed", "k", "status"]);
        let k = names(&["k"]);
        assert_eq!(Columns::locate(&h, &k).unwrap_err(), "missing column `attempts` (header has 5 columns)");
        assert_eq!(Columns::locate(&h, &names(&["c"])).unwrap_err(), "expected column 4 to be `c`, found `k`");
        let h = names(&["task", "replicate", "seed", "k", "status", "attempts", "seconds", "m"]);
        let c = Columns::locate(&h, &k).unwrap();
        assert_eq!((c.metrics, c.class, c.error), (7..8, None, None), "no trailing columns: all metrics");
    }
}
