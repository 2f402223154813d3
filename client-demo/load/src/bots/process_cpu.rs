//! The load generator's own CPU time and the machine's load average, read from `/proc`
//! (Linux), so a report can show that the bots were not the bottleneck and how busy the
//! machine was. Elsewhere both read as `None`.

/// Clock ticks per second of `/proc/self/stat` times (`USER_HZ`, 100 on every Linux ABI).
const USER_HZ: f64 = 100.0;

/// CPU seconds (user + system) this process has used so far.
#[must_use]
pub fn own_cpu_seconds() -> Option<f64> {
    parse_stat_cpu(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// The 1-minute load average.
#[must_use]
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Reads utime + stime (fields 14 and 15) from a `/proc/<pid>/stat` line. The command
/// name (field 2) may hold spaces, so fields are counted after its closing parenthesis.
fn parse_stat_cpu(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // After the name come field 3 (state) onwards; utime is field 14, the 12th here.
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utime_and_stime_even_with_spaces_in_the_name() {
        let line = "4242 (my bots) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0 1 0 99 1000 50";
        assert_eq!(parse_stat_cpu(line), Some(4.0));
        assert_eq!(parse_stat_cpu("garbage"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_a_cpu_time_and_the_machine_a_load() {
        assert!(own_cpu_seconds().is_some_and(|s| s >= 0.0));
        assert!(load_average().is_some_and(|l| l >= 0.0));
    }
}
