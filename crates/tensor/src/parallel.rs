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

/// Elements touched (read and written) below which a per-element or per-plane kernel stays
/// on this thread: unfold's and fold's threshold before the other kernels shared it. W6's
/// activations (200,704 and 100,352 elements) pass it; W7's per-step [16, 256] gates do not.
pub(crate) const PARALLEL_MIN_ELEMENTS: usize = 1 << 17;

/// Slices cut at whole rows of a fixed width: the unit a kernel can be split along (planes
/// of an image batch, elements of a flat array). Tuples split all their parts at the same row.
pub(crate) trait Rows: Send + Sized {
    /// How many rows there are.
    fn rows(&self) -> usize;
    /// The first `row` rows, and the rest.
    fn split_at_row(self, row: usize) -> (Self, Self);
}

/// Rows of `width` elements of a slice being written.
pub(crate) struct RowsMut<'a, T>(pub &'a mut [T], pub usize);

/// Rows of `width` elements of a slice being read.
pub(crate) struct RowsOf<'a, T>(pub &'a [T], pub usize);

/// The indices of the rows themselves, for a kernel that must know where its block starts.
pub(crate) struct RowRange(pub std::ops::Range<usize>);

impl Rows for RowRange {
    fn rows(&self) -> usize {
        self.0.len()
    }
    fn split_at_row(self, row: usize) -> (Self, Self) {
        let mid = self.0.start + row;
        (RowRange(self.0.start..mid), RowRange(mid..self.0.end))
    }
}

impl<T: Send> Rows for RowsMut<'_, T> {
    fn rows(&self) -> usize {
        self.0.len().checked_div(self.1).unwrap_or(0)
    }
    fn split_at_row(self, row: usize) -> (Self, Self) {
        let (a, b) = self.0.split_at_mut(row * self.1);
        (RowsMut(a, self.1), RowsMut(b, self.1))
    }
}

impl<T: Sync> Rows for RowsOf<'_, T> {
    fn rows(&self) -> usize {
        self.0.len().checked_div(self.1).unwrap_or(0)
    }
    fn split_at_row(self, row: usize) -> (Self, Self) {
        let (a, b) = self.0.split_at(row * self.1);
        (RowsOf(a, self.1), RowsOf(b, self.1))
    }
}

impl<A: Rows, B: Rows> Rows for (A, B) {
    fn rows(&self) -> usize {
        self.0.rows().min(self.1.rows())
    }
    fn split_at_row(self, row: usize) -> (Self, Self) {
        let ((a0, a1), (b0, b1)) = (self.0.split_at_row(row), self.1.split_at_row(row));
        ((a0, b0), (a1, b1))
    }
}

impl<A: Rows, B: Rows, C: Rows> Rows for (A, B, C) {
    fn rows(&self) -> usize {
        self.0.rows().min(self.1.rows()).min(self.2.rows())
    }
    fn split_at_row(self, row: usize) -> (Self, Self) {
        let ((a0, a1), (b0, b1), (c0, c1)) = (
            self.0.split_at_row(row),
            self.1.split_at_row(row),
            self.2.split_at_row(row),
        );
        ((a0, b0, c0), (a1, b1, c1))
    }
}

/// Runs `kernel(rows)` on `rows` cut into one block of whole rows per thread when `work`
/// (elements touched) reaches [`PARALLEL_MIN_ELEMENTS`], else on all of them here. The
/// kernel must give the same result on any cut (rows independent of each other).
pub(crate) fn for_row_blocks<R: Rows>(rows: R, work: usize, kernel: &(impl Fn(R) + Sync)) {
    let threads = if worth_splitting(work) { threads() } else { 1 };
    split_rows(rows, threads, kernel);
}

/// Whether [`for_row_blocks`] splits a kernel touching `work` elements: there is more than
/// one thread, the work reaches [`PARALLEL_MIN_ELEMENTS`], and either it reaches
/// [`PARALLEL_WAKE_ELEMENTS`] too or a helper is awake ([`keep_warm`]) to take its share at
/// once. A caller that would otherwise take a cheaper one-thread path (one that need not
/// zero its output) asks first.
pub(crate) fn worth_splitting(work: usize) -> bool {
    threads() > 1 && splits(work, AWAKE.load(Ordering::Acquire) > 0)
}

/// [`worth_splitting`]'s rule for a kernel touching `work` elements, with or without a
/// helper awake.
fn splits(work: usize, helper_awake: bool) -> bool {
    work >= PARALLEL_MIN_ELEMENTS && (helper_awake || work >= PARALLEL_WAKE_ELEMENTS)
}

/// Elements touched from which a kernel is shared even when every helper is parked: below
/// it, waking one (30–80 µs) costs more than the half of the kernel it would take. W7's
/// bias added to its [512, 256] projection (393,216 elements touched, about 40 µs), split
/// after a wake-up each step, made W7 slower on 2 threads than on 1 (0.93 → 1.16 ms/step).
// fast path: small kernels shared only with a helper awake, W7 at 2 threads 1.05 → 0.93
// ms/step (medians of eight interleaved runs; W1, W2 and W6 at 2 threads unchanged)
pub(crate) const PARALLEL_WAKE_ELEMENTS: usize = 1 << 20;

fn split_rows<R: Rows>(rows: R, threads: usize, kernel: &(impl Fn(R) + Sync)) {
    let count = rows.rows();
    if threads <= 1 || count < 2 {
        kernel(rows);
        return;
    }
    let first = threads / 2;
    let (top, bottom) = rows.split_at_row(count * first / threads);
    join(
        || split_rows(top, first, kernel),
        || split_rows(bottom, threads - first, kernel),
    );
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
    fn small_kernels_are_shared_only_with_a_helper_awake() {
        for helper_awake in [false, true] {
            assert!(!splits(PARALLEL_MIN_ELEMENTS - 1, helper_awake));
            assert!(splits(PARALLEL_WAKE_ELEMENTS, helper_awake));
        }
        // W7's bias added to its projection: 3 · 512 · 256 elements touched
        assert!(!splits(3 * 512 * 256, false));
        assert!(splits(3 * 512 * 256, true));
    }

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
    fn row_blocks_cover_every_row_once_on_any_cut() {
        // Rows of 3 read and of 2 written: each output row is its input row's sum, twice.
        let input: Vec<u32> = (0..3 * 1000).collect();
        let mut output = vec![0u32; 2 * 1000];
        for threads in 1..=5 {
            output.fill(0);
            split_rows(
                (RowsOf(&input, 3), RowsMut(&mut output, 2)),
                threads,
                &|(rows_in, rows_out): (RowsOf<u32>, RowsMut<u32>)| {
                    for (i, o) in rows_in
                        .0
                        .chunks_exact(3)
                        .zip(rows_out.0.chunks_exact_mut(2))
                    {
                        let sum = i.iter().sum();
                        o.fill(sum);
                    }
                },
            );
            let expected: Vec<u32> = (0..1000u32).flat_map(|r| [9 * r + 3; 2]).collect();
            assert_eq!(output, expected, "{threads} threads");
        }
        // No rows at all, and rows of width 0, run the kernel once on nothing.
        let calls = AtomicUsize::new(0);
        for_row_blocks(RowsMut::<u32>(&mut [], 0), usize::MAX, &|_| {
            calls.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(calls.load(Ordering::Relaxed), 1);
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
