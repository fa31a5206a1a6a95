//! `pad`: zeros added along one axis, `before` in front and `after` behind — the adjoint of
//! `narrow`.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::from_vec(vec![1.0, 2.0], &[2]);
//! assert_eq!(x.pad(0, 1, 2).to_vec(), vec![0.0, 1.0, 2.0, 0.0, 0.0]);
//! ```

use ndarray::{ArrayD, Axis, Slice};
use smallvec::smallvec;

use crate::error::{or_panic, Result};
use crate::forward::{Dots, JvpCtx};
use crate::shape::{axis_index, Dim};
use crate::tape::{record, BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// The tensor with `before` zeros in front of and `after` zeros behind it along `axis`.
    ///
    /// # Errors
    /// `pad` when the axis is out of range.
    #[track_caller]
    pub fn try_pad(&self, axis: impl Dim, before: usize, after: usize) -> Result<Tensor<F>> {
        let axis = axis_index("pad", axis, self.shape())?;
        let len = self.shape()[axis];
        let mut shape = self.shape().to_vec();
        shape[axis] = before + len + after;
        let mut out = ArrayD::zeros(shape);
        out.slice_axis_mut(Axis(axis), Slice::from(before..before + len))
            .assign(&*self.value());
        record(
            Op::Pad {
                axis,
                before,
                after,
            },
            &[self],
            out,
            &[],
        )
    }

    /// Panicking form of [`try_pad`](Self::try_pad).
    #[track_caller]
    pub fn pad(&self, axis: impl Dim, before: usize, after: usize) -> Tensor<F> {
        or_panic(self.try_pad(axis, before, after))
    }
}

// y = x with zeros around it: the padding is constant, so ∂L/∂x is ∂L/∂y with the padded
// positions cut away again.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::Pad {
        axis,
        before,
        after,
    } = *ctx.op
    else {
        unreachable!("pad rule on {:?}", ctx.op)
    };
    let len = ctx.shape()[axis] - before - after;
    smallvec![Some(grad_out.narrow(axis, before, len))]
}

// y = pad(x): linear, so ẏ = pad(ẋ) (the zeros are constant).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::Pad {
        axis,
        before,
        after,
    } = *ctx.op
    else {
        unreachable!("pad rule on {:?}", ctx.op)
    };
    Some(dots[0].as_ref()?.pad(axis, before, after))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::{grad, Tensor};

    #[test]
    fn gradcheck_and_error() {
        check("pad", |t| t[0].pad(1, 2, 1), &[uniform(&[2, 3], 1)]);
        check("pad", |t| t[0].pad(0, 0, 0), &[uniform(&[2], 2)]);
        assert!(Tensor::<f32>::zeros(&[2]).try_pad(1, 1, 1).is_err());
    }

    #[test]
    fn second_order_through_narrow_and_pad() {
        // f(x) = Σ (x[1..3])³ ⇒ ∂²f/∂xᵢ² = 6xᵢ inside the window and 0 outside.
        let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).requires_grad();
        let f = x.narrow(0, 1, 2).powf(3.0).sum();
        let g = grad(&f, &[&x], true).unwrap().remove(0);
        let h = grad(&g.sum(), &[&x], false).unwrap().remove(0);
        assert_eq!(h.to_vec(), vec![0.0, 12.0, 18.0, 0.0]);
    }
}
