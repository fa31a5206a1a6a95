//! The tensor handle: an n-d array, plus — when it takes part in differentiation — the tape
//! node it came from.

use std::fmt;
use std::sync::Arc;

use ndarray::{Array, ArrayD, Dimension, IxDyn};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use crate::error::{or_panic, Result, TensorError};
use crate::tape::{NodeId, Tape};
use crate::{Float, Param};

/// An n-dimensional array of `F` (`f32` by default) that can take part in autodiff.
///
/// A tensor is a cheap handle: cloning it clones two pointers. It is one of three kinds:
/// - a **constant** (data, inputs, targets): no tape, costs nothing extra;
/// - a **parameter** leaf ([`requires_grad`](Self::requires_grad) or [`Param::tensor`]):
///   ops on it are recorded, and `backward` fills its [`grad`](Self::grad);
/// - a **recorded** result of an op on a tape, which knows its node.
///
/// ```
/// use tapegrad_tensor::Tensor;
/// let w = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]).requires_grad();
/// let loss = (&w * &w).sum(); // L = Σ w², so ∂L/∂w = 2w
/// loss.backward();
/// assert_eq!(w.grad().unwrap().to_vec(), vec![2.0, 4.0]);
/// ```
pub struct Tensor<F: Float = f32> {
    pub(crate) repr: Repr<F>,
}

pub(crate) enum Repr<F: Float> {
    Constant(Arc<ArrayD<F>>),
    Param(Param<F>),
    Recorded {
        value: Arc<ArrayD<F>>,
        tape: Tape<F>,
        id: NodeId,
    },
}

impl<F: Float> Clone for Tensor<F> {
    fn clone(&self) -> Self {
        let repr = match &self.repr {
            Repr::Constant(v) => Repr::Constant(Arc::clone(v)),
            Repr::Param(p) => Repr::Param(p.clone()),
            Repr::Recorded { value, tape, id } => Repr::Recorded {
                value: Arc::clone(value),
                tape: tape.clone(),
                id: *id,
            },
        };
        Tensor { repr }
    }
}

/// Creation.
impl<F: Float> Tensor<F> {
    /// A constant tensor holding `array` (any dimensionality).
    pub fn from_array<D: Dimension>(array: Array<F, D>) -> Self {
        Self::from_arc(Arc::new(array.into_dyn()))
    }

    pub(crate) fn from_arc(value: Arc<ArrayD<F>>) -> Self {
        crate::heap::keep_freed_memory();
        Tensor {
            repr: Repr::Constant(value),
        }
    }

    /// A tensor of shape `shape` from `data` in row-major (C) order.
    ///
    /// # Errors
    /// `from_vec` when `data.len()` is not the product of `shape`.
    pub fn try_from_vec(data: Vec<F>, shape: &[usize]) -> Result<Self> {
        let len = data.len();
        ArrayD::from_shape_vec(IxDyn(shape), data)
            .map(Self::from_array)
            .map_err(|_| TensorError::ElementCount {
                op: "from_vec",
                from: vec![len],
                to: shape.to_vec(),
            })
    }

    /// Panicking form of [`try_from_vec`](Self::try_from_vec).
    #[track_caller]
    pub fn from_vec(data: Vec<F>, shape: &[usize]) -> Self {
        or_panic(Self::try_from_vec(data, shape))
    }

    /// A zero-dimensional tensor (shape `[]`) holding `x`.
    pub fn scalar(x: F) -> Self {
        Self::from_array(ndarray::arr0(x))
    }

    /// A tensor of `shape` filled with `value`.
    pub fn full(shape: &[usize], value: F) -> Self {
        Self::from_array(ArrayD::from_elem(shape, value))
    }

    /// A tensor of zeros.
    pub fn zeros(shape: &[usize]) -> Self {
        Self::full(shape, F::zero())
    }

    /// A tensor of ones.
    pub fn ones(shape: &[usize]) -> Self {
        Self::full(shape, F::one())
    }

    /// The 1-D tensor `[start, start + step, …]`, stopping before `end` (NumPy's `arange`).
    ///
    /// # Errors
    /// `arange` when `step` is zero or not finite.
    pub fn try_arange(start: F, end: F, step: F) -> Result<Self> {
        if step == F::zero() || !step.is_finite() {
            return Err(TensorError::InvalidArgument {
                op: "arange",
                shape: Vec::new(),
                rule: format!("step must be finite and non-zero, got {step}"),
            });
        }
        let count = ((end - start) / step).ceil().as_f64().max(0.0) as usize;
        let data = (0..count)
            .map(|i| start + step * F::from_f64(i as f64))
            .collect();
        Self::try_from_vec(data, &[count])
    }

    /// Panicking form of [`try_arange`](Self::try_arange).
    #[track_caller]
    pub fn arange(start: F, end: F, step: F) -> Self {
        or_panic(Self::try_arange(start, end, step))
    }

    /// The `n × n` identity matrix.
    pub fn eye(n: usize) -> Self {
        Self::from_array(Array::eye(n))
    }

    /// Samples uniform on `[low, high)` from a ChaCha8 generator seeded with `seed`: the same
    /// numbers on every platform, for `f32` and `f64` alike (sampled in `f64`, then rounded).
    pub fn rand_uniform(shape: &[usize], low: F, high: F, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (low, high) = (low.as_f64(), high.as_f64());
        Self::from_array(ArrayD::from_shape_simple_fn(shape, || {
            F::from_f64(low + (high - low) * rng.random::<f64>())
        }))
    }

    /// Samples a normal distribution with `mean` and standard deviation `std`, seeded like
    /// [`rand_uniform`](Self::rand_uniform).
    pub fn randn(shape: &[usize], mean: F, std: F, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (mean, std) = (mean.as_f64(), std.as_f64());
        Self::from_array(ArrayD::from_shape_simple_fn(shape, || {
            let z: f64 = StandardNormal.sample(&mut rng);
            F::from_f64(mean + std * z)
        }))
    }
}

/// Reading values out.
impl<F: Float> Tensor<F> {
    /// The shape, e.g. `[3, 4]`; `[]` for a scalar.
    pub fn shape(&self) -> &[usize] {
        match &self.repr {
            Repr::Constant(v) | Repr::Recorded { value: v, .. } => v.shape(),
            Repr::Param(p) => p.shape(),
        }
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.shape().iter().product()
    }

    /// The values as a shared array (a parameter's current value).
    pub fn value(&self) -> Arc<ArrayD<F>> {
        match &self.repr {
            Repr::Constant(v) | Repr::Recorded { value: v, .. } => Arc::clone(v),
            Repr::Param(p) => p.value(),
        }
    }

    pub(crate) fn into_value(self) -> Arc<ArrayD<F>> {
        match self.repr {
            Repr::Constant(v) | Repr::Recorded { value: v, .. } => v,
            Repr::Param(p) => p.value(),
        }
    }

    /// A copy of the values as an ndarray array.
    pub fn to_array(&self) -> ArrayD<F> {
        (*self.value()).clone()
    }

    /// The values in row-major (C) order.
    pub fn to_vec(&self) -> Vec<F> {
        self.value().iter().copied().collect()
    }

    /// The value of a one-element tensor.
    ///
    /// # Errors
    /// `item` when the tensor has another number of elements.
    pub fn try_item(&self) -> Result<F> {
        let value = self.value();
        match value.len() {
            1 => Ok(*value.iter().next().expect("one element")),
            _ => Err(TensorError::InvalidArgument {
                op: "item",
                shape: self.shape().to_vec(),
                rule: "item needs a tensor with exactly one element".into(),
            }),
        }
    }

    /// Panicking form of [`try_item`](Self::try_item).
    #[track_caller]
    pub fn item(&self) -> F {
        or_panic(self.try_item())
    }
}

/// Autodiff state.
impl<F: Float> Tensor<F> {
    /// Makes this tensor a trainable leaf: ops on it are recorded and `backward` accumulates
    /// into [`grad`](Self::grad). A tensor that is already a leaf is returned unchanged; a
    /// recorded one is detached first (its history is dropped, as in PyTorch).
    pub fn requires_grad(self) -> Self {
        match self.repr {
            Repr::Param(_) => self,
            _ => {
                let value = self.into_value();
                let value = Arc::try_unwrap(value).unwrap_or_else(|v| (*v).clone());
                Param::new("", value).tensor()
            }
        }
    }

    /// Whether ops on this tensor are recorded (a parameter, or a recorded result).
    pub fn is_tracked(&self) -> bool {
        !matches!(self.repr, Repr::Constant(_))
    }

    /// The parameter behind a leaf tensor.
    pub fn param(&self) -> Option<&Param<F>> {
        match &self.repr {
            Repr::Param(p) => Some(p),
            _ => None,
        }
    }

    /// The accumulated gradient of a leaf, or of an intermediate that asked for it with
    /// [`retain_grad`](Self::retain_grad); `None` before a `backward` reached it, and for
    /// other intermediates.
    pub fn grad(&self) -> Option<Tensor<F>> {
        match &self.repr {
            Repr::Param(p) => p.grad().map(Tensor::from_array),
            _ => self.retained_grad(),
        }
    }

    /// Forgets a leaf's accumulated gradient (no effect on other tensors).
    pub fn zero_grad(&self) {
        if let Some(p) = self.param() {
            p.zero_grad();
        }
    }

    /// The same values as a constant: the history is cut, so no gradient flows back through
    /// the result.
    pub fn detach(&self) -> Tensor<F> {
        Tensor::from_arc(self.value())
    }

    /// The tape this tensor was recorded on.
    pub fn tape(&self) -> Option<Tape<F>> {
        match &self.repr {
            Repr::Recorded { tape, .. } => Some(tape.clone()),
            _ => None,
        }
    }

    /// Its node's index on [`tape`](Self::tape).
    pub fn node_id(&self) -> Option<NodeId> {
        match &self.repr {
            Repr::Recorded { id, .. } => Some(*id),
            _ => None,
        }
    }
}

impl<F: Float> Param<F> {
    /// A tensor handle on this parameter; ops on it are recorded.
    pub fn tensor(&self) -> Tensor<F> {
        Tensor {
            repr: Repr::Param(self.clone()),
        }
    }
}

impl<F: Float> From<ArrayD<F>> for Tensor<F> {
    fn from(array: ArrayD<F>) -> Self {
        Tensor::from_array(array)
    }
}

impl<F: Float> From<&Param<F>> for Tensor<F> {
    fn from(param: &Param<F>) -> Self {
        param.tensor()
    }
}

/// Prints the values like NumPy does (large tensors are elided with `...`).
impl<F: Float> fmt::Display for Tensor<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.value(), f)
    }
}

/// The element type, shape, what the tensor is on the tape, then the values.
impl<F: Float> fmt::Debug for Tensor<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.repr {
            Repr::Constant(_) => String::from("constant"),
            Repr::Param(p) if p.name().is_empty() => String::from("leaf"),
            Repr::Param(p) => format!("leaf \"{}\"", p.name()),
            Repr::Recorded { tape, id, .. } => format!("%{id} on tape #{}", tape.id()),
        };
        write!(
            f,
            "Tensor<{}> {:?} ({kind})\n{}",
            F::NAME,
            self.shape(),
            self.value()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creation_and_readout() {
        let t = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]);
        assert_eq!(t.shape(), &[2, 3]);
        assert_eq!(t.numel(), 6);
        assert_eq!(t.to_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(Tensor::<f32>::scalar(2.5).item(), 2.5);
        assert_eq!(
            Tensor::<f32>::arange(0.0, 1.0, 0.25).to_vec(),
            vec![0.0, 0.25, 0.5, 0.75]
        );
        assert_eq!(Tensor::<f32>::eye(2).to_vec(), vec![1.0, 0.0, 0.0, 1.0]);
        assert_eq!(Tensor::<f32>::full(&[2], 7.0).to_vec(), vec![7.0, 7.0]);
        let err = Tensor::<f32>::try_from_vec(vec![1.0; 5], &[2, 3]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "from_vec: cannot reshape [5] (5 elements) into [2, 3] (6 elements)"
        );
        assert!(Tensor::<f32>::zeros(&[2]).try_item().is_err());
    }

    #[test]
    fn seeded_random_is_reproducible_and_type_independent() {
        let a = Tensor::<f64>::randn(&[100], 0.0, 1.0, 7);
        let b = Tensor::<f64>::randn(&[100], 0.0, 1.0, 7);
        let c = Tensor::<f32>::randn(&[100], 0.0, 1.0, 7);
        assert_eq!(a.to_vec(), b.to_vec());
        for (x, y) in a.to_vec().iter().zip(c.to_vec()) {
            assert_eq!(*x as f32, y);
        }
        let mean = a.to_vec().iter().sum::<f64>() / 100.0;
        assert!(mean.abs() < 0.3, "mean of 100 standard normals: {mean}");
        let u = Tensor::<f64>::rand_uniform(&[1000], -2.0, 3.0, 1).to_vec();
        assert!(u.iter().all(|&x| (-2.0..3.0).contains(&x)));
    }

    #[test]
    fn display_and_debug_show_shape_and_values() {
        let t = Tensor::<f32>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
        assert_eq!(t.to_string(), "[[1, 2],\n [3, 4]]");
        assert_eq!(
            format!("{t:?}"),
            "Tensor<f32> [2, 2] (constant)\n[[1, 2],\n [3, 4]]"
        );
        let big = Tensor::<f32>::zeros(&[1000]);
        assert!(big.to_string().contains("..."), "large tensors are elided");
    }

    #[test]
    fn tensors_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Tensor<f32>>();
        assert_send_sync::<Param<f64>>();
    }
}
