//! The tick thread's scheduling priority. A tick that starts late is jitter every client
//! sees, so by default the tick thread asks for real-time scheduling (the lowest
//! SCHED_FIFO level: above every ordinary thread, below the kernel's own real-time work;
//! it sleeps between ticks, so it takes little). Without the privilege for that
//! (CAP_SYS_NICE or an rtprio limit) it falls back to a raised nice level, then to
//! normal, and the log says what it got.

use serde::{Deserialize, Serialize};
use thread_priority::{
    NormalThreadSchedulePolicy, RealtimeThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
    set_thread_priority_and_policy, thread_native_id,
};

/// How the tick thread should be scheduled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TickPriority {
    /// Like every other thread.
    Normal,
    /// A raised nice level (falls back to normal).
    High,
    /// Real-time FIFO at the lowest real-time level (falls back to high, then normal).
    Realtime,
}

/// Applies `want` to the calling thread as far as permitted; returns what it got.
pub fn apply(want: TickPriority) -> TickPriority {
    let native = thread_native_id();
    if want == TickPriority::Realtime {
        let fifo = ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo);
        if set_thread_priority_and_policy(native, ThreadPriority::Min, fifo).is_ok() {
            return TickPriority::Realtime;
        }
    }
    if want != TickPriority::Normal {
        let other = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other);
        if set_thread_priority_and_policy(native, ThreadPriority::Max, other).is_ok() {
            return TickPriority::High;
        }
    }
    TickPriority::Normal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asking_for_normal_changes_nothing_and_higher_never_fails() {
        let got =
            std::thread::spawn(|| (apply(TickPriority::Normal), apply(TickPriority::Realtime)))
                .join()
                .unwrap();
        assert_eq!(got.0, TickPriority::Normal);
        // Whatever the privileges, the answer is one of the three, never a panic.
        assert!(matches!(
            got.1,
            TickPriority::Normal | TickPriority::High | TickPriority::Realtime
        ));
    }
}
