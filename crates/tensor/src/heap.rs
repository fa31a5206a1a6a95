//! Keeping freed memory in the process between training steps.
//!
//! A training step allocates and frees the same few megabytes every time: activations,
//! saved inputs, gradients. With glibc's allocator, a fresh process hands blocks of 128 KiB
//! and more to `mmap` and, when the free space at the top of its heap grows past 128 KiB,
//! gives it back to the kernel (`brk` downwards). The next step then page-faults on every
//! 4 KiB page again, and the kernel zeroes each one: in W6 (a small CNN) 43% of the step's
//! time was page faults and `brk`, in W5 (1024² products) the fresh 4 MiB outputs likewise.
//!
//! glibc raises both limits by itself — to the size of the largest `mmap`ed block freed so
//! far (the mmap threshold) and twice that (the trim threshold), up to 32 MiB — which is
//! why a long-running Python process, whose imports have long since freed a big block, does
//! not pay this. A tapegrad process does the same once, on purpose, before its first tensor
//! or parameter: it reserves a block just under 32 MiB (address space only; no page of it is
//! ever touched) and frees it. From then on, blocks up to that size come from the heap and up
//! to twice that much freed memory stays in the process, to be reused by the next step.
//!
//! This calls no allocator API (no `mallopt`, no unsafe code) and costs nothing where it does
//! not apply: other allocators (jemalloc, mimalloc, musl) just reserve and free 32 MiB of
//! address space once. Measured on W6, 1 thread, same session: 9.0 → 4.5 ms/step (the
//! same as setting `MALLOC_TRIM_THRESHOLD_` and `MALLOC_MMAP_THRESHOLD_` by hand).

use std::sync::Once;

/// Just under glibc's 32 MiB ceiling on 64-bit targets (`DEFAULT_MMAP_THRESHOLD_MAX`); a
/// block whose size with its header passes the ceiling would leave the limits unchanged.
const RESERVE: usize = (32 << 20) - (64 << 10);

/// Raises glibc's dynamic mmap and trim thresholds once per process (see the module docs).
pub(crate) fn keep_freed_memory() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // black_box: an allocation that is never used may be optimised away entirely.
        drop(std::hint::black_box(Vec::<u8>::with_capacity(RESERVE)));
    });
}
