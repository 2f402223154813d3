//! Which of a task's sources woke it, so that a wake polls only those.
//!
//! A session waits on several things at once (its socket, broadcast lines, its
//! deadlines, its end). Polling all of them on every wake costs a lock or two
//! each even when only one had anything; at 50 wakes a second per client that was a
//! few percent of the server's CPU. Here each source is polled with a waker of its own,
//! which marks its bit before waking the task; a wake then polls the sources whose bits
//! are set. A source polled with its own waker wakes that waker when it can make
//! progress (the `Future` contract), so skipping the others loses nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Wake, Waker};

use futures_util::task::AtomicWaker;

/// The wake-up state a task's sources share.
struct Shared {
    /// One bit per source that woke since the task last looked.
    due: AtomicU32,
    /// The task to wake.
    task: AtomicWaker,
}

/// A source's waker: marks its bit, then wakes the task.
struct Mark {
    bit: u32,
    shared: Arc<Shared>,
}

impl Wake for Mark {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.shared.due.fetch_or(self.bit, Ordering::AcqRel);
        self.shared.task.wake();
    }
}

/// Up to 32 sources, numbered from 0, each with its own waker.
pub struct Sources {
    shared: Arc<Shared>,
    wakers: Vec<Waker>,
}

impl Sources {
    /// `count` sources (at most 32), all due at first, so the first wake polls (and so
    /// registers) each of them.
    #[must_use]
    pub fn new(count: usize) -> Sources {
        assert!(count <= 32, "at most 32 sources");
        let all = if count == 32 {
            u32::MAX
        } else {
            (1u32 << count) - 1
        };
        let shared = Arc::new(Shared {
            due: AtomicU32::new(all),
            task: AtomicWaker::new(),
        });
        let wakers = (0..count)
            .map(|i| {
                Waker::from(Arc::new(Mark {
                    bit: 1 << i,
                    shared: shared.clone(),
                }))
            })
            .collect();
        Sources { shared, wakers }
    }

    /// Called at the start of each of the task's polls: remembers its waker and takes
    /// the set of sources that woke it since the last call (bit `i` for source `i`).
    pub fn take(&self, cx: &Context<'_>) -> u32 {
        // Registered before the bits are taken: a source waking in between wakes the
        // task again rather than being missed.
        self.shared.task.register(cx.waker());
        self.shared.due.swap(0, Ordering::AcqRel)
    }

    /// The context to poll source `i` with.
    #[must_use]
    pub fn context(&self, i: usize) -> Context<'_> {
        Context::from_waker(&self.wakers[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_source_marks_its_own_bit_and_wakes_the_task() {
        let sources = Sources::new(3);
        let task = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(task.clone());
        let cx = Context::from_waker(&waker);
        assert_eq!(sources.take(&cx), 0b111, "all due at first");
        assert_eq!(sources.take(&cx), 0);
        sources.context(1).waker().wake_by_ref();
        assert_eq!(task.0.load(Ordering::SeqCst), 1);
        // By value, as a waker a source kept (a clone) is used.
        let kept: Waker = sources.wakers[2].clone();
        kept.wake();
        assert_eq!(sources.take(&cx), 0b110);
        assert_eq!(sources.take(&cx), 0);
    }
}
