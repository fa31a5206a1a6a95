//! `broadcast_to`: stretch a tensor to a larger shape by NumPy rules (new leading axes, and
//! size-1 axes repeated). Every broadcasting op goes through this node, so its backward rule
//! is the only one that sums gradients back to an input's shape.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let b = Tensor::<f32>::from_vec(vec![1.0, 2.0], &[2, 1]).broadcast_to(&[2, 3]);
//! assert_eq!(b.to_vec(), vec![1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
//! ```

use smallvec::smallvec;

use crate::error::{or_panic, Result, TensorError};
use crate::forward::{Dots, JvpCtx};
use crate::shape::{broadcast_axes, can_broadcast_to};
use crate::tape::{record, BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// The tensor stretched to `shape`.
    ///
    /// # Errors
    /// `broadcast_to` when some dimension is neither equal to the target's nor 1.
    #[track_caller]
    pub fn try_broadcast_to(&self, shape: &[usize]) -> Result<Tensor<F>> {
        let value = self.value();
        let stretched = value
            .broadcast(shape)
            .ok_or_else(|| TensorError::BroadcastTo {
                op: "broadcast_to",
                from: self.shape().to_vec(),
                to: shape.to_vec(),
            })?;
        let out = super::materialize(stretched);
        record(
            Op::Broadcast {
                from: self.shape().into(),
            },
            &[self],
            out,
            &[],
        )
    }

    /// Panicking form of [`try_broadcast_to`](Self::try_broadcast_to).
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[usize]) -> Tensor<F> {
        or_panic(self.try_broadcast_to(shape))
    }

    /// Sums over the axes a broadcast from `shape` would have stretched, giving a tensor of
    /// `shape`: the adjoint of `broadcast_to(self.shape())`.
    #[track_caller]
    pub(crate) fn sum_to_shape(&self, shape: &[usize]) -> Tensor<F> {
        debug_assert!(can_broadcast_to(shape, self.shape()));
        let axes = broadcast_axes(shape, self.shape());
        let summed = if axes.is_empty() {
            self.clone()
        } else {
            self.sum_axes(&axes, true)
        };
        if summed.shape() == shape {
            summed
        } else {
            summed.reshape(shape)
        }
    }
}

// y = broadcast(x): each xᵢ is copied to every position it was stretched over, so ∂L/∂xᵢ is
// the sum of ∂L/∂y over those positions — a sum over the stretched axes, reshaped to x's shape.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::Broadcast { from } = ctx.op else {
        unreachable!("broadcast rule on {:?}", ctx.op)
    };
    smallvec![Some(grad_out.sum_to_shape(from))]
}

// y = broadcast(x): linear, so ẏ = broadcast(ẋ).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    Some(dots[0].as_ref()?.broadcast_to(ctx.shape()))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_and_analytic_gradient() {
        // x [2, 1] → [3, 2, 4]: each x is copied 3·4 = 12 times, so ∂Σy/∂x = 12.
        let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2, 1]).requires_grad();
        let y = x.broadcast_to(&[3, 2, 4]);
        assert_eq!(y.shape(), &[3, 2, 4]);
        assert_eq!(y.to_vec()[..5], [1.0, 1.0, 1.0, 1.0, 2.0]);
        y.sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![12.0, 12.0]);
    }

    #[test]
    fn gradcheck_on_several_targets() {
        let cases: &[(&[usize], &[usize])] = &[
            (&[3], &[2, 3]),
            (&[2, 1], &[2, 5]),
            (&[], &[3, 2]),
            (&[1, 1], &[1, 1]),
            (&[1, 3], &[0, 3]),
        ];
        for (i, (from, to)) in cases.iter().enumerate() {
            check(
                "broadcast_to",
                |t| t[0].broadcast_to(to),
                &[uniform(from, i as u64)],
            );
        }
    }

    #[test]
    fn size_one_axes_fast_path_agrees_with_ndarray() {
        // materialize drops size-1 axes before copying, and a one-element source is a fill;
        // the elements must be ndarray's.
        let cases: &[(&[usize], &[usize])] = &[
            (&[1], &[5, 1]),
            (&[1, 1], &[4, 1]),
            (&[3, 1], &[2, 3, 1]),
            (&[1, 3], &[4, 1, 3]),
            (&[2, 1, 3], &[2, 4, 3]),
            (&[1, 1], &[0, 1]),
        ];
        for (i, (from, to)) in cases.iter().enumerate() {
            let x = uniform(from, i as u64);
            let expected = x.broadcast(*to).unwrap().to_owned();
            let got = Tensor::from_array(x.clone()).broadcast_to(to);
            assert_eq!(got.to_array(), expected, "{from:?} → {to:?}");
            // The same values read through a transposed (non-contiguous) view.
            let xt = x.t().to_owned();
            let got = super::super::materialize(xt.t().broadcast(*to).unwrap());
            assert_eq!(got, expected, "transposed {from:?} → {to:?}");
        }
    }

    #[test]
    fn error_names_both_shapes() {
        let err = Tensor::<f32>::zeros(&[3, 2])
            .try_broadcast_to(&[3, 4])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "broadcast_to: cannot broadcast [3, 2] to [3, 4]: each dimension must match or be 1"
        );
    }
}
