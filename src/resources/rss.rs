//! The resident memory of whole process groups, summed over their members from `/proc`.

use std::collections::HashMap;

/// The resident bytes of each group of `groups` that still has members: one pass over
/// `/proc`, reading the `statm` of the members only. A process that ends meanwhile is
/// skipped.
pub fn group_rss(groups: &[i32]) -> HashMap<i32, u64> {
    let mut sums = HashMap::new();
    if groups.is_empty() {
        return sums;
    }
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    let Ok(dir) = std::fs::read_dir("/proc") else { return sums };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some(pgrp) = pgrp_of(&stat) else { continue };
        if !groups.contains(&pgrp) {
            continue;
        }
        let Ok(statm) = std::fs::read_to_string(format!("/proc/{pid}/statm")) else { continue };
        if let Some(pages) = statm.split_whitespace().nth(1).and_then(|p| p.parse::<u64>().ok()) {
            *sums.entry(pgrp).or_insert(0) += pages * page;
        }
    }
    sums
}

/// The process group of a `/proc/<pid>/stat` line: the fifth field, counted after the
/// command name, which may hold blanks and parentheses.
fn pgrp_of(stat: &str) -> Option<i32> {
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_is_read_after_the_command_name() {
        assert_eq!(pgrp_of("42 (a (b) c) S 1 77 77 0 -1"), Some(77));
        assert_eq!(pgrp_of("garbage"), None);
    }

    #[test]
    fn our_own_group_has_memory() {
        // SAFETY: getpgrp has no preconditions.
        let own = unsafe { libc::getpgrp() };
        assert!(group_rss(&[own])[&own] > 0);
    }
}
