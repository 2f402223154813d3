//! Resident memory and CPU time of this process, read from Linux's /proc. On other
//! systems (or if /proc is unreadable) the figures are simply absent.

/// A reading of the process's resource use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProcessStats {
    /// Resident set size in bytes.
    pub rss_bytes: u64,
    /// User plus system CPU time in seconds.
    pub cpu_seconds: f64,
}

/// Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every Linux ABI).
const USER_HZ: f64 = 100.0;

/// Reads the current figures, or `None` where /proc is not available.
#[must_use]
pub fn read() -> Option<ProcessStats> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let rss_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some(ProcessStats {
        rss_bytes: rss_kb * 1024,
        cpu_seconds: (utime + stime) / USER_HZ,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process_on_linux() {
        if cfg!(target_os = "linux") {
            let s = super::read().expect("/proc readable on Linux");
            assert!(s.rss_bytes > 1024 * 1024);
            assert!(s.cpu_seconds >= 0.0);
        }
    }
}
