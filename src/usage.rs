//! Resource usage: CPU time and peak memory of this process and of the child processes it
//! has reaped (commands and persistent workers), from `getrusage`.

/// CPU seconds (user + system) and peak resident set size, read at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    /// CPU time so far, user + system, in seconds.
    pub cpu_seconds: f64,
    /// Peak resident set size in bytes: a high-water mark that never goes down.
    pub peak_rss_bytes: u64,
}

/// Whose usage to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// This process (every thread).
    Process,
    /// The children this process has waited for, and theirs: CPU summed over all of them,
    /// peak RSS that of the largest.
    Children,
}

impl Usage {
    /// The usage of `who` now; zeros where it cannot be read.
    pub fn of(who: Who) -> Usage {
        let Some(ru) = rusage(who) else { return Usage::default() };
        let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
        let max_rss = u64::try_from(ru.ru_maxrss).unwrap_or(0);
        Usage {
            cpu_seconds: tv(ru.ru_utime) + tv(ru.ru_stime),
            // Linux reports KiB; macOS bytes.
            peak_rss_bytes: if cfg!(target_os = "macos") { max_rss } else { max_rss.saturating_mul(1024) },
        }
    }
}

/// CPU time (user + system) this process has used so far, in seconds. Take the difference
/// of two readings to time a stretch of work. Returns 0 where it cannot be read.
pub fn process_cpu_seconds() -> f64 {
    Usage::of(Who::Process).cpu_seconds
}

/// Peak resident set size of this process so far, in bytes (0 where it cannot be read).
///
/// This is a high-water mark for the whole process: it never goes down, so a reading after
/// a later, smaller run still shows the peak of an earlier, larger one, and it includes
/// everything else the process holds. Measure worker counts in increasing order of
/// expected memory use (or each in a fresh process) if the per-run figure matters.
pub fn peak_rss_bytes() -> u64 {
    Usage::of(Who::Process).peak_rss_bytes
}

/// CPU seconds (user + system) that the live process `pid` and the children it has waited
/// for have used so far, from `/proc/PID/stat`; 0 where it cannot be read. For a process
/// that has not been reaped yet, such as a persistent worker at the start of a measurement.
pub fn live_cpu_seconds(pid: i32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    // The fields after the command name, which is in parentheses and may hold spaces:
    // utime, stime, cutime and cstime are the 14th to 17th fields of the whole line.
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0.0 };
    let ticks: f64 = rest.split_whitespace().skip(11).take(4).filter_map(|f| f.parse::<f64>().ok()).sum();
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if per_second > 0 {
        ticks / per_second as f64
    } else {
        0.0
    }
}

fn rusage(who: Who) -> Option<libc::rusage> {
    let who = match who {
        Who::Process => libc::RUSAGE_SELF,
        Who::Children => libc::RUSAGE_CHILDREN,
    };
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `ru` points to writable memory of the right type; getrusage fills it in and
    // returns 0 on success.
    let rc = unsafe { libc::getrusage(who, ru.as_mut_ptr()) };
    // SAFETY: zero-initialised (a valid rusage) and, on success, filled in by the kernel.
    (rc == 0).then(|| unsafe { ru.assume_init() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_usage_is_readable_and_grows() {
        let before = process_cpu_seconds();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
        }
        std::hint::black_box(x);
        let after = process_cpu_seconds();
        assert!(after >= before && after > 0.0, "{before} {after}");
        let rss = peak_rss_bytes();
        let buf = vec![1u8; 64 << 20];
        std::hint::black_box(&buf);
        assert!(peak_rss_bytes() >= rss);
        assert!(peak_rss_bytes() > 1 << 20);
    }

    #[test]
    fn a_live_process_cpu_time_is_read_from_proc() {
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
        }
        std::hint::black_box(x);
        // At least this process's own time; more if it has reaped children (tests run some).
        let mine = live_cpu_seconds(std::process::id() as i32);
        assert!(mine > 0.0 && mine >= process_cpu_seconds() - 0.05, "{mine}");
        assert_eq!(live_cpu_seconds(-5), 0.0);
    }
}
