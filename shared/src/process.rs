//! This process's (or a child's) resource use and the machine's load, read from Linux's `/proc` through
//! the `procfs` crate (feature `process`). Elsewhere, or where `/proc` cannot be read,
//! the figures are `None`.

use crate::stats::ProcessUsage;

/// This process's resident memory and CPU time so far.
#[must_use]
pub fn usage() -> Option<ProcessUsage> {
    #[cfg(target_os = "linux")]
    {
        read(procfs::process::Process::myself().ok()?)
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// Another process's resident memory and CPU time so far (a server a tool started);
/// `None` once it has gone, or where it cannot be read.
#[must_use]
pub fn usage_of(pid: u32) -> Option<ProcessUsage> {
    #[cfg(target_os = "linux")]
    {
        read(procfs::process::Process::new(i32::try_from(pid).ok()?).ok()?)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        None
    }
}

#[cfg(target_os = "linux")]
fn read(process: procfs::process::Process) -> Option<ProcessUsage> {
    let stat = process.stat().ok()?;
    let ticks = procfs::ticks_per_second() as f64;
    Some(ProcessUsage {
        rss_bytes: stat.rss.saturating_mul(procfs::page_size()),
        cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
        threads: u64::try_from(stat.num_threads).unwrap_or(0),
    })
}

/// The machine's 1-minute load average.
#[must_use]
pub fn load_average() -> Option<f64> {
    #[cfg(target_os = "linux")]
    {
        use procfs::Current as _;
        procfs::LoadAverage::current()
            .ok()
            .map(|l| f64::from(l.one))
    }
    #[cfg(not(target_os = "linux"))]
    None
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn this_process_has_memory_and_cpu_time_and_the_machine_a_load() {
        let u = super::usage().expect("/proc is readable on Linux");
        assert!(u.rss_bytes > 1024 * 1024, "{u:?}");
        assert!(u.cpu_seconds >= 0.0);
        assert!(super::load_average().is_some_and(|l| l >= 0.0));
        let same = super::usage_of(std::process::id()).expect("our own pid is readable");
        assert!(same.cpu_seconds >= u.cpu_seconds);
    }
}
