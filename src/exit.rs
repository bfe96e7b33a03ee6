//! Exit codes, in one place: what each means, and how an outcome or an error maps to one.

use crate::error::Error;
use crate::task::StopReason;

/// Every selected task is done.
pub const SUCCESS: i32 = 0;
/// Some task failed (or the run stopped with tasks left).
pub const TASKS_FAILED: i32 = 1;
/// Bad usage or a bad spec; nothing was run.
pub const USAGE: i32 = 2;
/// Interrupted by Ctrl-C, SIGTERM, SIGHUP or SIGUSR1.
pub const INTERRUPTED: i32 = 130;

/// The exit code of a command that stopped with an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Code(pub i32);

impl From<&Error> for Code {
    fn from(e: &Error) -> Code {
        Code(match e {
            // Nothing was run: the user can fix the request and try again.
            Error::Spec(_) | Error::Usage(_) | Error::Lock(_) => USAGE,
            // Something was attempted and did not complete.
            Error::Io { .. } | Error::Submit(_) => TASKS_FAILED,
            Error::Report(r) if r.is_usage() => USAGE,
            Error::Report(_) => TASKS_FAILED,
            Error::Interrupted(_) => INTERRUPTED,
        })
    }
}

/// The exit code for a sweep with `failed` and `pending` tasks left (status, collect).
pub fn for_tasks(failed: u64, pending: u64) -> i32 {
    if failed == 0 && pending == 0 {
        SUCCESS
    } else {
        TASKS_FAILED
    }
}

/// The exit code of `sweep verify`: 0 when every sampled output matched, 1 when any did
/// not (as for a failed task: the sweep is not what it should be).
pub fn for_verification(mismatches: usize) -> i32 {
    if mismatches == 0 {
        SUCCESS
    } else {
        TASKS_FAILED
    }
}

/// The exit code of a run that stopped early for `stopped`, or ran to its end leaving the
/// tasks it answers for `incomplete` or not.
pub fn for_run(stopped: Option<&StopReason>, incomplete: bool) -> i32 {
    match stopped {
        Some(StopReason::Interrupted) => INTERRUPTED,
        // Stopped before its end: tasks are left whatever the counts say.
        Some(
            StopReason::MaxFailures(_)
            | StopReason::Io(_)
            | StopReason::Workers(_)
            | StopReason::FailFast(_)
            | StopReason::TimeLimit,
        ) => TASKS_FAILED,
        None if incomplete => TASKS_FAILED,
        None => SUCCESS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_map_to_documented_codes() {
        let cases = [
            (Some(StopReason::Interrupted), false, INTERRUPTED),
            (Some(StopReason::Interrupted), true, INTERRUPTED),
            (Some(StopReason::MaxFailures(3)), true, TASKS_FAILED),
            (Some(StopReason::Io("full".into())), false, TASKS_FAILED),
            (None, true, TASKS_FAILED),
            (None, false, SUCCESS),
            (Some(StopReason::TimeLimit), false, TASKS_FAILED),
        ];
        for (stopped, incomplete, code) in cases {
            assert_eq!(for_run(stopped.as_ref(), incomplete), code, "{stopped:?} {incomplete}");
        }
        assert_eq!(for_tasks(0, 0), SUCCESS);
        assert_eq!(for_tasks(0, 1), TASKS_FAILED);
        assert_eq!(Code::from(&Error::Usage("x".into())), Code(USAGE));
        assert_eq!(Code::from(&Error::Submit("x".into())), Code(TASKS_FAILED));
    }

    #[test]
    fn a_report_of_a_damaged_sweep_is_a_failure_not_a_usage_error() {
        use crate::report::ReportError;
        let missing = ReportError::Io { path: "x".into(), source: std::io::ErrorKind::NotFound.into() };
        let unreadable = ReportError::Io { path: "x".into(), source: std::io::ErrorKind::PermissionDenied.into() };
        let damaged = ReportError::Format { path: "results.csv".into(), message: "no `task` column".into() };
        assert_eq!(Code::from(&Error::Report(missing)), Code(USAGE));
        assert_eq!(Code::from(&Error::Report(unreadable)), Code(TASKS_FAILED));
        assert_eq!(Code::from(&Error::Report(damaged)), Code(TASKS_FAILED));
    }
}
