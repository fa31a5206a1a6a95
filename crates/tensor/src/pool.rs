//! Reusing large freed arrays for the next op's output, as PyTorch's caching allocators do.
//!
//! A training step frees and allocates the same arrays every time: activations, im2col
//! columns, products, gradients. [`crate::heap`] keeps that memory in the process, so a new
//! array no longer page-faults; but `vec![0.0; n]` on reused memory is still a `memset` of
//! the whole array on the calling thread, which then writes every element again. In W6 (a
//! small CNN) that `memset` was 16% of a one-thread step and a quarter of the calling
//! thread's time at two threads, where the helper waited for it.
//!
//! So the tape hands the arrays it lets go of (saved values of freed nodes, spent adjoints,
//! cleared gradients) to this pool when nothing else holds them, and kernels that write every
//! element of their output ([`buffer`]) take one of the same length back instead of zeroed
//! memory. Only arrays of at least [`MIN_BYTES`] are kept, of a type and length a [`buffer`]
//! call has asked for, at most [`PER_LENGTH`] of each and [`CAPACITY_BYTES`] in all. The
//! rest go back to the allocator at once: a pool that kept every freed array made W6 15%
//! slower at one thread (1.86 → 2.14 ms/step), because the other ops' outputs then came from
//! memory that had left the caches, where the allocator would have handed back the warm
//! blocks just freed.
//!
//! A buffer holds whatever its last use left: finite or not, it must be overwritten. In this
//! crate's unit tests every buffer is first filled with NaN, so a kernel that leaves an
//! element unwritten fails its tests.

use std::any::{Any, TypeId};
use std::sync::{Arc, Mutex, PoisonError};

use ndarray::ArrayD;

use crate::Float;

/// Arrays smaller than this go back to the allocator: below it, the `memset` saved is too
/// small to matter.
const MIN_BYTES: usize = 64 << 10;

/// The most the pool keeps (the oldest buffers are dropped to make room).
const CAPACITY_BYTES: usize = 256 << 20;

/// Freed buffers, oldest first, with their element type and length.
struct Pool {
    buffers: Vec<Entry>,
    bytes: usize,
    /// The element types and lengths [`buffer`] has been asked for: only those are kept.
    wanted: Vec<(TypeId, usize)>,
}

struct Entry {
    element: TypeId,
    len: usize,
    bytes: usize,
    buffer: Box<dyn Any + Send>,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    buffers: Vec::new(),
    bytes: 0,
    wanted: Vec::new(),
});

/// Buffers kept per element type and length: a W6 step asks for four arrays of its first
/// conv's output shape before it frees one (with 2 kept, W6 at 2 threads took 1.28–1.34
/// ms/step, with 4 1.24–1.28).
const PER_LENGTH: usize = 4;

/// Element types and lengths remembered as wanted (the oldest is forgotten first).
const WANTED: usize = 64;

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    // a panic elsewhere while the lock was held leaves a valid list of whole buffers
    POOL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `len` elements for a kernel that writes every one of them: a freed buffer of that length
/// if the pool has one (its values unspecified), else new zeroed memory.
pub(crate) fn buffer<F: Float>(len: usize) -> Vec<F> {
    let mut out = take(len).unwrap_or_else(|| vec![F::zero(); len]);
    if cfg!(test) {
        out.fill(F::nan());
    }
    out
}

/// The most recently freed buffer of `len` elements of `F`, if the pool has one.
fn take<F: Float>(len: usize) -> Option<Vec<F>> {
    if len * std::mem::size_of::<F>() < MIN_BYTES {
        return None;
    }
    let element = TypeId::of::<F>();
    let mut pool = pool();
    if !pool.wanted.contains(&(element, len)) {
        if pool.wanted.len() == WANTED {
            pool.wanted.remove(0);
        }
        pool.wanted.push((element, len));
    }
    let at = pool
        .buffers
        .iter()
        .rposition(|e| e.element == element && e.len == len)?;
    let entry = pool.buffers.remove(at);
    pool.bytes -= entry.bytes;
    drop(pool);
    entry.buffer.downcast::<Vec<F>>().ok().map(|v| *v)
}

/// Gives `array`'s memory to the pool if nothing else holds it and it is large enough.
pub(crate) fn recycle<F: Float>(array: Arc<ArrayD<F>>) {
    // the size first: most arrays a tape frees are small, and W4 frees a million of them
    if array.len() * std::mem::size_of::<F>() < MIN_BYTES {
        return;
    }
    if let Ok(array) = Arc::try_unwrap(array) {
        recycle_array(array);
    }
}

/// Gives an owned array's memory to the pool if it is large enough.
pub(crate) fn recycle_array<F: Float>(array: ArrayD<F>) {
    give(array.into_raw_vec_and_offset().0);
}

/// Keeps `buffer` for a later [`buffer`] of its length, dropping the oldest to make room.
fn give<F: Float>(buffer: Vec<F>) {
    let bytes = buffer.len() * std::mem::size_of::<F>();
    if !(MIN_BYTES..=CAPACITY_BYTES).contains(&bytes) {
        return;
    }
    let entry = Entry {
        element: TypeId::of::<F>(),
        len: buffer.len(),
        bytes,
        buffer: Box::new(buffer),
    };
    let mut evicted = Vec::new();
    let mut pool = pool();
    let kept = |e: &&Entry| e.element == entry.element && e.len == entry.len;
    if !pool.wanted.contains(&(entry.element, entry.len))
        || pool.buffers.iter().filter(kept).count() >= PER_LENGTH
    {
        drop(pool);
        return;
    }
    while pool.bytes + bytes > CAPACITY_BYTES {
        let oldest = pool.buffers.remove(0);
        pool.bytes -= oldest.bytes;
        evicted.push(oldest);
    }
    pool.bytes += bytes;
    pool.buffers.push(entry);
    drop(pool);
    // freed outside the lock
    drop(evicted);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A length no other test uses (the pool is shared), asked for once as f32 so that
    /// freed buffers of it are kept.
    fn wanted_length(offset: usize) -> usize {
        let len = MIN_BYTES / 4 + offset;
        assert!(take::<f32>(len).is_none());
        len
    }

    #[test]
    fn a_freed_array_comes_back_for_its_length_and_type_only() {
        let len = wanted_length(12_345);
        let array = Arc::new(ArrayD::<f32>::zeros(ndarray::IxDyn(&[len])));
        let address = array.as_ptr() as usize;
        recycle(array);
        assert!(take::<f64>(len).is_none(), "another element type");
        assert!(take::<f32>(len + 1).is_none(), "another length");
        let again = take::<f32>(len).expect("the freed array");
        assert_eq!(again.as_ptr() as usize, address);
        assert!(take::<f32>(len).is_none(), "taken once");
    }

    #[test]
    fn shared_small_unwanted_and_surplus_arrays_are_not_kept() {
        let len = wanted_length(23_456);
        let shared = Arc::new(ArrayD::<f32>::zeros(ndarray::IxDyn(&[len])));
        recycle(Arc::clone(&shared));
        assert!(take::<f32>(len).is_none(), "still held elsewhere");
        let small = MIN_BYTES / 4 - 1;
        assert!(take::<f32>(small).is_none());
        give(vec![0.0f32; small]);
        assert!(take::<f32>(small).is_none(), "too small");
        let unwanted = MIN_BYTES / 4 + 45_678;
        give(vec![0.0f32; unwanted]);
        assert!(take::<f32>(unwanted).is_none(), "never asked for");
        for _ in 0..PER_LENGTH + 1 {
            give(vec![0.0f32; len]);
        }
        let kept = std::iter::from_fn(|| take::<f32>(len)).count();
        assert_eq!(kept, PER_LENGTH);
    }

    #[test]
    fn buffers_are_poisoned_in_tests() {
        // a kernel that leaves an element of its buffer unwritten shows NaN in its tests
        let len = wanted_length(34_567);
        give(vec![1.0f32; len]);
        assert!(buffer::<f32>(len).iter().all(|x| x.is_nan()));
        assert!(buffer::<f64>(3).iter().all(|x| x.is_nan()));
    }
}
