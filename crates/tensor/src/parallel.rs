//! Sharing one large kernel (a GEMM, a matrix-vector product) between the calling thread and
//! a pool of helper threads, and keeping the helpers awake between such kernels.
//!
//! The pool is a rayon pool of one thread fewer than rayon's global setting
//! (`RAYON_NUM_THREADS`, else one per core), because the calling thread computes a share
//! too: at 2 threads, exactly 2 threads compute. (Sharing through the global pool put a third
//! thread on 2 cores, and W5 then ran some reps at 1-thread speed.)
//!
//! rayon parks a thread that has found no work for a few dozen microseconds, and waking a
//! parked thread took 30–80 µs on the 2-core machine the benchmarks run on. An MLP step runs
//! two large products with about 0.1 ms of one-thread work between them, so each product
//! waited for a wake-up: W2's [128, 784]·[784, 256] split in two took 290–305 µs, against
//! 230 µs when the other half's thread was already awake. So after each shared kernel a
//! helper is kept awake for [`SPIN`], polling for work, as OpenBLAS's and OpenMP's threads
//! do; a training loop's next product then starts at once. The price is a core kept busy for
//! up to [`SPIN`] after each shared kernel, and only then.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rayon::{ThreadPool, ThreadPoolBuilder};

/// How long a pool thread stays awake after the last shared kernel it ran.
pub(crate) const SPIN: Duration = Duration::from_micros(500);

/// The helper threads, or `None` when only one thread is wanted.
fn helpers() -> Option<&'static ThreadPool> {
    static HELPERS: OnceLock<Option<ThreadPool>> = OnceLock::new();
    HELPERS
        .get_or_init(|| {
            let helpers = rayon::current_num_threads().saturating_sub(1);
            (helpers > 0)
                .then(|| {
                    ThreadPoolBuilder::new()
                        .num_threads(helpers)
                        .thread_name(|k| format!("tapegrad-helper-{k}"))
                        .build()
                        .ok()
                })
                .flatten()
        })
        .as_ref()
}

/// Threads a kernel can be shared among: the caller and the helpers.
pub(crate) fn threads() -> usize {
    helpers().map_or(1, |pool| pool.current_num_threads() + 1)
}

/// Runs `here` on this thread and `there` on a helper; returns when both are done. Both may
/// borrow from the caller.
pub(crate) fn join(here: impl FnOnce(), there: impl FnOnce() + Send) {
    let Some(pool) = helpers() else {
        here();
        there();
        return;
    };
    let there_done = AtomicBool::new(false);
    pool.in_place_scope(|scope| {
        scope.spawn(|_| {
            there();
            there_done.store(true, Ordering::Release);
        });
        here();
        // Outside the pool, wait for `there` awake: the scope's own wait parks this thread,
        // and being woken costs as much as the wake-up this module avoids. (A helper leaves
        // the wait to the scope, which runs `there` itself if nobody took it.)
        let start = Instant::now();
        while pool.current_thread_index().is_none()
            && !there_done.load(Ordering::Acquire)
            && start.elapsed() < SPIN
        {
            std::hint::spin_loop();
        }
    });
    keep_warm(pool);
}

/// Helpers currently kept awake by [`keep_warm`].
static AWAKE: AtomicUsize = AtomicUsize::new(0);

/// Keeps one more helper (up to all of them) polling for work until [`SPIN`] passes without
/// any: a kernel shared in that time is picked up at once instead of waking a parked thread.
// fast path: with `join`'s awake wait, W2 at 2 threads 0.82 → 0.69 ms/step and W1 0.34 →
// 0.23 ms/step (interleaved runs; 1 thread unchanged)
fn keep_warm(pool: &'static ThreadPool) {
    if AWAKE.fetch_add(1, Ordering::AcqRel) >= pool.current_num_threads() {
        AWAKE.fetch_sub(1, Ordering::AcqRel);
        return;
    }
    pool.spawn(|| {
        let mut idle_since = Instant::now();
        while idle_since.elapsed() < SPIN {
            match rayon::yield_now() {
                Some(rayon::Yield::Executed) => idle_since = Instant::now(),
                _ => std::hint::spin_loop(),
            }
        }
        AWAKE.fetch_sub(1, Ordering::AcqRel);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_runs_both_halves_on_borrowed_data() {
        let mut data = vec![1, 2, 3, 4, 5];
        let (left, right) = data.split_at_mut(2);
        join(
            || left.iter_mut().for_each(|x| *x *= 10),
            || right.iter_mut().for_each(|x| *x += 1),
        );
        assert_eq!(data, [10, 20, 4, 5, 6]);
    }

    #[test]
    fn join_inside_the_pool_and_after_it_idles() {
        // From a thread of rayon's global pool, and again once the helper kept awake has
        // given up.
        let sum = std::sync::atomic::AtomicUsize::new(0);
        let add = |n| {
            sum.fetch_add(n, Ordering::Relaxed);
        };
        rayon::scope(|_| join(|| add(1), || add(2)));
        std::thread::sleep(2 * SPIN);
        join(|| add(3), || add(4));
        assert_eq!(sum.load(Ordering::Relaxed), 10);
    }
}
