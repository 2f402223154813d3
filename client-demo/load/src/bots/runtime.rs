//! The runtime the load tools (`bots`, `soak`) run their bots on, their Ctrl-C, and the
//! open-file limit a fleet needs.

use tokio::runtime::{Builder, Runtime};
use tokio_util::sync::CancellationToken;

/// A runtime with `threads` workers; 1 (or 0) runs everything on the calling thread, so
/// the load generator stays on one core.
pub fn load_runtime(threads: usize) -> std::io::Result<Runtime> {
    if threads <= 1 {
        Builder::new_current_thread().enable_all().build()
    } else {
        Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
}

/// Raises the soft open-file limit to the hard one (many systems start processes at
/// 1024, too few for a thousand bots) and warns on stderr if it is still below `needed`.
pub fn raise_open_file_limit(needed: usize) {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < needed as u64 => eprintln!(
            "warning: the open-file limit is {limit}, below the {needed} this run needs; \
             connections past it will fail (raise the hard limit with ulimit -Hn)"
        ),
        Ok(_) => {}
        Err(e) => eprintln!("warning: cannot read or raise the open-file limit: {e}"),
    }
}

/// A token cancelled on Ctrl-C, so a run can stop early and still report. Call it inside
/// the runtime.
#[must_use]
pub fn cancel_on_ctrl_c() -> CancellationToken {
    let token = CancellationToken::new();
    let on_signal = token.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.cancel();
        }
    });
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_of_runtime_run_tasks() {
        for threads in [1, 2] {
            let rt = load_runtime(threads).unwrap();
            assert_eq!(
                rt.block_on(async { tokio::spawn(async { 7 }).await.unwrap() }),
                7
            );
            let token = rt.block_on(async { cancel_on_ctrl_c() });
            assert!(!token.is_cancelled());
        }
    }
}
