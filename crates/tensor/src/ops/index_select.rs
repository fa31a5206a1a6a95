//! `index_select`: slices picked along one axis by index, in any order, repeats allowed
//! (NumPy's `take`, PyTorch's `index_select`) — how an embedding table is looked up.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let table = Tensor::<f32>::arange(0.0, 6.0, 1.0).reshape(&[3, 2]);
//! assert_eq!(table.index_select(0, &[2, 0, 2]).to_vec(), vec![4.0, 5.0, 0.0, 1.0, 4.0, 5.0]);
//! ```

use std::sync::Arc;

use ndarray::Axis;
use smallvec::smallvec;

use crate::error::{or_panic, Result, TensorError};
use crate::forward::{Dots, JvpCtx};
use crate::shape::{axis_index, Dim};
use crate::tape::{record, BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor};

/// Checks every index against the extent of `axis`.
#[track_caller]
pub(crate) fn check_indices(
    op: &'static str,
    indices: impl IntoIterator<Item = usize>,
    axis: usize,
    shape: &[usize],
) -> Result<()> {
    match indices.into_iter().find(|&i| i >= shape[axis]) {
        Some(index) => Err(TensorError::IndexOutOfRange {
            op,
            index,
            axis,
            shape: shape.to_vec(),
        }),
        None => Ok(()),
    }
}

impl<F: Float> Tensor<F> {
    /// Output slice `k` along `axis` is this tensor's slice `indices[k]`.
    ///
    /// # Errors
    /// `index_select` when the axis is out of range or an index is past its end.
    #[track_caller]
    pub fn try_index_select(&self, axis: impl Dim, indices: &[usize]) -> Result<Tensor<F>> {
        let axis = axis_index("index_select", axis, self.shape())?;
        check_indices("index_select", indices.iter().copied(), axis, self.shape())?;
        let out = self.value().select(Axis(axis), indices);
        let op = Op::IndexSelect {
            axis,
            indices: Arc::from(indices),
            size: self.shape()[axis],
        };
        record(op, &[self], out, &[])
    }

    /// Panicking form of [`try_index_select`](Self::try_index_select).
    #[track_caller]
    pub fn index_select(&self, axis: impl Dim, indices: &[usize]) -> Tensor<F> {
        or_panic(self.try_index_select(axis, indices))
    }
}

// y = x[indices] along an axis: slice k of y is a copy of slice indices[k] of x, so ∂L/∂x
// collects ∂L/∂y's slices back at their indices — added, since an index may repeat.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::IndexSelect {
        axis,
        indices,
        size,
    } = ctx.op
    else {
        unreachable!("index_select rule on {:?}", ctx.op)
    };
    smallvec![Some(grad_out.index_add(*axis, Arc::clone(indices), *size))]
}

// y = x[indices] along an axis: linear, so ẏ = ẋ[indices].
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::IndexSelect { axis, indices, .. } = ctx.op else {
        unreachable!("index_select rule on {:?}", ctx.op)
    };
    Some(dots[0].as_ref()?.index_select(*axis, indices))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::{grad, Tensor};

    #[test]
    fn repeated_indices_accumulate() {
        // Picking row 1 twice and row 0 once: ∂Σy/∂x = [1, 2, 0] per row.
        let x = Tensor::<f64>::zeros(&[3, 2]).requires_grad();
        x.index_select(0, &[1, 0, 1]).sum().backward();
        assert_eq!(
            x.grad().unwrap().to_vec(),
            vec![1.0, 1.0, 2.0, 2.0, 0.0, 0.0]
        );
    }

    #[test]
    fn gradcheck_and_error() {
        check(
            "index_select",
            |t| t[0].index_select(1, &[2, 0, 2, 1]),
            &[uniform(&[2, 3], 1)],
        );
        check(
            "index_select",
            |t| t[0].index_select(0, &[]),
            &[uniform(&[2, 3], 2)],
        );
        let err = Tensor::<f32>::zeros(&[2, 3])
            .try_index_select(1, &[0, 3])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "index_select: index 3 is out of range for axis 1 of shape [2, 3] (size 3)"
        );
    }

    #[test]
    fn second_order_through_index_select() {
        // f(x) = Σ (x[[0, 0]])² = 2x₀² ⇒ f″ = 4 at x₀ and 0 elsewhere.
        let x = Tensor::<f64>::from_vec(vec![3.0, 5.0], &[2]).requires_grad();
        let picked = x.index_select(0, &[0, 0]);
        let f = (&picked * &picked).sum();
        let g = grad(&f, &[&x], true).unwrap().remove(0);
        assert_eq!(g.to_vec(), vec![12.0, 0.0]);
        let h = grad(&g.sum(), &[&x], false).unwrap().remove(0);
        assert_eq!(h.to_vec(), vec![4.0, 0.0]);
    }
}
