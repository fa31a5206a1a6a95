//! Buffers: a layer's state that is saved with its weights but never trained.
//!
//! Batch normalisation keeps running estimates of each channel's mean and variance, and a
//! count of the training batches it has seen. They change during training, but by a rule of
//! the layer's own (an exponential average), not by gradient descent: an optimizer must never
//! see them. So they are not parameters — [`Module::named_parameters`] leaves them out — but
//! [`Module::named_buffers`] lists them, and [`io::save`](crate::io::save) and
//! [`io::load`](crate::io::load) store them beside the parameters, under PyTorch's names
//! (`running_mean`, `running_var`, `num_batches_tracked`), so a file moves between tapegrad
//! and `torch.nn.Module.load_state_dict` in both directions.
//!
//! Two kinds exist, because PyTorch stores them as two types:
//! - [`Buffer::Float`]: an array of the model's float type (F32 or F64 in a file);
//! - [`Buffer::Count`]: a whole number, stored as an I64 scalar (shape `[]`), the way
//!   `num_batches_tracked` is a `torch.int64` tensor.
//!
//! ```
//! use tapegrad_models::buffer::{Buffer, Counter};
//! let seen = Counter::new(0);
//! let buffer = Buffer::<f32>::Count(seen.clone());
//! seen.increment();
//! assert_eq!(buffer.shape(), Vec::<usize>::new());
//! let Buffer::Count(c) = buffer else { unreachable!() };
//! assert_eq!(c.get(), 1);
//! ```
//!
//! [`Module::named_parameters`]: crate::module::Module::named_parameters
//! [`Module::named_buffers`]: crate::module::Module::named_buffers

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use tapegrad_tensor::{Float, Param};

/// A shared whole-number counter (a handle: clones see the same count), saved as an I64
/// scalar. Atomic, so a layer can count inside `forward(&self)`.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicI64>);

impl Counter {
    /// A counter starting at `value`.
    pub fn new(value: i64) -> Self {
        Counter(Arc::new(AtomicI64::new(value)))
    }

    /// The current count.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    /// Replaces the count (loading a file).
    pub fn set(&self, value: i64) {
        self.0.store(value, Ordering::Relaxed);
    }

    /// Adds one and returns the new count.
    pub fn increment(&self) -> i64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// One piece of non-trainable state (see the module docs).
#[derive(Clone, Debug)]
pub enum Buffer<F: Float> {
    /// An array of the model's float type. It is held in a [`Param`] for its shared,
    /// replaceable value, but it is never lifted onto a tape and never has a gradient: layers
    /// read it as a constant.
    Float(Param<F>),
    /// A whole number, stored as an I64 scalar.
    Count(Counter),
}

impl<F: Float> Buffer<F> {
    /// The shape stored in a file: the array's for `Float`, `[]` for `Count`.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Buffer::Float(p) => p.shape().to_vec(),
            Buffer::Count(_) => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_shared_handles() {
        let a = Counter::new(5);
        let b = a.clone();
        assert_eq!(b.increment(), 6);
        assert_eq!(a.get(), 6);
        a.set(-2);
        assert_eq!(b.get(), -2);
        let float = Buffer::Float(Param::<f64>::new("m", ndarray::ArrayD::zeros(vec![3])));
        assert_eq!(float.shape(), [3]);
    }
}
