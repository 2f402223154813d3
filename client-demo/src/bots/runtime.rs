//! The runtime the load tools (`bots`, `soak`) run their bots on, and their Ctrl-C.

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
