//! `max`: the largest element overall or over axes, and `argmax`, its position.
//!
//! NaN propagates: a group containing NaN has maximum NaN (NumPy's `max`, PyTorch's
//! `amax`), never the largest number beside it as Rust's `f64::max` would give.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::from_vec(vec![1.0, 7.0, 3.0, 4.0], &[2, 2]);
//! assert_eq!(x.max().item(), 7.0);
//! assert_eq!(x.max_axes(&[0], false).to_vec(), vec![3.0, 7.0]);
//! assert_eq!(x.argmax(1).iter().copied().collect::<Vec<_>>(), vec![1, 1]);
//! ```

use ndarray::{Array2, ArrayD, IxDyn};
use smallvec::smallvec;

use super::materialize;
use crate::error::{or_panic, Result, TensorError};
use crate::forward::{Dots, JvpCtx};
use crate::shape::{axis_index, inverse_permutation, normalize_axes, reduced_shape, Dim};
use crate::tape::{record, BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

/// `x` rearranged as rows: one row per output element, holding the elements reduced into it.
/// Returns the rows and the permutation that moved the reduced axes last.
fn as_rows<F: Float>(x: &ArrayD<F>, axes: &[usize]) -> (Array2<F>, Vec<usize>) {
    let perm: Vec<usize> = (0..x.ndim())
        .filter(|a| !axes.contains(a))
        .chain(axes.iter().copied())
        .collect();
    let row_len: usize = axes.iter().map(|&a| x.shape()[a]).product();
    let rows = x.len() / row_len.max(1);
    let permuted = materialize(x.view().permuted_axes(perm.as_slice()));
    let rows = permuted
        .into_shape_with_order((rows, row_len))
        .expect("contiguous");
    (rows, perm)
}

/// The index of the first maximum of `row`, a NaN counting as larger than any number.
fn first_argmax<F: Float>(row: ndarray::ArrayView1<F>) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        let current = row[best];
        if current.is_nan() {
            break;
        }
        if v.is_nan() || v > current {
            best = i;
        }
    }
    best
}

fn check_nonempty(op: &'static str, shape: &[usize], axes: &[usize]) -> Result<()> {
    match axes.iter().find(|&&a| shape[a] == 0) {
        Some(&axis) => Err(TensorError::InvalidArgument {
            op,
            shape: shape.to_vec(),
            rule: format!("axis {axis} is empty; an empty group has no maximum"),
        }),
        None => Ok(()),
    }
}

impl<F: Float> Tensor<F> {
    /// The largest element, as a tensor of shape `[]`.
    ///
    /// # Errors
    /// `max` when the tensor is empty.
    #[track_caller]
    pub fn try_max(&self) -> Result<Tensor<F>> {
        let all: Vec<usize> = (0..self.ndim()).collect();
        self.try_max_axes(&all, false)
    }

    /// Panicking form of [`try_max`](Self::try_max).
    #[track_caller]
    pub fn max(&self) -> Tensor<F> {
        or_panic(self.try_max())
    }

    /// The maximum over `axes` (kept as size 1 with `keepdim`).
    ///
    /// # Errors
    /// `max` when an axis is out of range or a reduced axis is empty.
    #[track_caller]
    pub fn try_max_axes(&self, axes: &[impl Dim], keepdim: bool) -> Result<Tensor<F>> {
        let axes = normalize_axes("max", axes, self.shape())?;
        check_nonempty("max", self.shape(), &axes)?;
        let (rows, _) = as_rows(&self.value(), &axes);
        let maxima: Vec<F> = rows
            .outer_iter()
            .map(|row| row[first_argmax(row)])
            .collect();
        let out =
            ArrayD::from_shape_vec(IxDyn(&reduced_shape(self.shape(), &axes, keepdim)), maxima)
                .expect("one maximum per row");
        let op = Op::Max {
            axes: axes.into(),
            keepdim,
        };
        record(op, &[self], out, &[Saved::Input(0)])
    }

    /// Panicking form of [`try_max_axes`](Self::try_max_axes).
    #[track_caller]
    pub fn max_axes(&self, axes: &[impl Dim], keepdim: bool) -> Tensor<F> {
        or_panic(self.try_max_axes(axes, keepdim))
    }

    /// The index of the first maximum along `axis` (NumPy's `argmax`: a NaN counts as the
    /// maximum). Returns indices, so it has no gradient.
    ///
    /// # Errors
    /// `argmax` when the axis is out of range or empty.
    #[track_caller]
    pub fn try_argmax(&self, axis: impl Dim) -> Result<ArrayD<usize>> {
        let axis = axis_index("argmax", axis, self.shape())?;
        check_nonempty("argmax", self.shape(), &[axis])?;
        let (rows, _) = as_rows(&self.value(), &[axis]);
        let indices: Vec<usize> = rows.outer_iter().map(first_argmax).collect();
        Ok(
            ArrayD::from_shape_vec(IxDyn(&reduced_shape(self.shape(), &[axis], false)), indices)
                .expect("one index per row"),
        )
    }

    /// Panicking form of [`try_argmax`](Self::try_argmax).
    #[track_caller]
    pub fn argmax(&self, axis: impl Dim) -> ArrayD<usize> {
        or_panic(self.try_argmax(axis))
    }
}

/// A constant of `x`'s shape: 1 at the first maximum of each reduced group, 0 elsewhere.
fn argmax_mask<F: Float>(x: &ArrayD<F>, axes: &[usize]) -> ArrayD<F> {
    let (rows, perm) = as_rows(x, axes);
    let mut mask = Array2::<F>::zeros(rows.raw_dim());
    for (row, mut mask_row) in rows.outer_iter().zip(mask.outer_iter_mut()) {
        mask_row[first_argmax(row)] = F::one();
    }
    let permuted_shape: Vec<usize> = perm.iter().map(|&a| x.shape()[a]).collect();
    let mask = mask
        .into_shape_with_order(IxDyn(&permuted_shape))
        .expect("same count");
    materialize(mask.view().permuted_axes(inverse_permutation(&perm)))
}

// y = max over a group of x: ∂y/∂xᵢ = 1 for the maximum and 0 for the others, so ∂L/∂x is
// ∂L/∂y, broadcast back over the group, times a one-hot mask of the maximum. Saved: x.
// NOTE: when several elements tie for the maximum, all of the gradient goes to the first
// (PyTorch's `max(dim)` does the same; `amax` splits it evenly instead).
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::Max { axes, .. } = ctx.op else {
        unreachable!("max rule on {:?}", ctx.op)
    };
    let x = ctx.saved(0);
    let mask = Tensor::from_array(argmax_mask(&x.value(), axes));
    let spread = grad_out
        .reshape(&reduced_shape(x.shape(), axes, true))
        .broadcast_to(x.shape());
    smallvec![Some(spread.mul(&mask))]
}

// y = max over a group of x: ẏ = Σ_group onehot(argmax) ⊙ ẋ, the first maximum's tangent.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::Max { axes, keepdim } = ctx.op else {
        unreachable!("max rule on {:?}", ctx.op)
    };
    let onehot = Tensor::from_array(argmax_mask(&ctx.input(0).value(), axes));
    Some(dots[0].as_ref()?.mul(&onehot).sum_axes(axes, *keepdim))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn values_and_nan() {
        // [[1, 5, 2], [4, 0, 6]]: column maxima [4, 5, 6], row maxima [5, 6].
        let x = Tensor::<f64>::from_vec(vec![1.0, 5.0, 2.0, 4.0, 0.0, 6.0], &[2, 3]);
        assert_eq!(x.max_axes(&[0], false).to_vec(), vec![4.0, 5.0, 6.0]);
        assert_eq!(x.max_axes(&[1], true).shape(), &[2, 1]);
        assert_eq!(x.max().item(), 6.0);
        let with_nan = Tensor::<f64>::from_vec(vec![1.0, f64::NAN, 3.0], &[3]);
        assert!(with_nan.max().item().is_nan());
        assert_eq!(with_nan.argmax(0)[[]], 1);
        let err = Tensor::<f64>::zeros(&[2, 0])
            .try_max_axes(&[1], false)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "max: [2, 0]: axis 1 is empty; an empty group has no maximum"
        );
    }

    #[test]
    fn gradient_goes_to_the_first_maximum() {
        // max([3, 7, 7, 1]) = 7 at indices 1 and 2: the whole gradient goes to index 1.
        let x = Tensor::<f64>::from_vec(vec![3.0, 7.0, 7.0, 1.0], &[4]).requires_grad();
        x.max().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 1.0, 0.0, 0.0]);
    }

    #[test]
    fn gradcheck_over_axes() {
        let cases: &[(&[usize], &[usize], bool)] = &[
            (&[2, 3, 4], &[1], false),
            (&[2, 3, 4], &[0, 2], true),
            (&[5], &[0], false),
            (&[3, 1], &[1], true),
        ];
        for (i, (shape, axes, keepdim)) in cases.iter().enumerate() {
            check(
                "max",
                |t| t[0].max_axes(axes, *keepdim),
                &[uniform(shape, i as u64)],
            );
        }
    }

    #[test]
    fn argmax_along_each_axis() {
        let x = Tensor::<f32>::from_vec(vec![1.0, 5.0, 2.0, 4.0, 0.0, 6.0], &[2, 3]);
        assert_eq!(
            x.argmax(0).iter().copied().collect::<Vec<_>>(),
            vec![1, 0, 1]
        );
        assert_eq!(x.argmax(1).iter().copied().collect::<Vec<_>>(), vec![1, 2]);
        assert!(x.try_argmax(2).is_err());
    }
}
