//! `permute`: reorder axes (output axis k is input axis `axes[k]`), and its composites
//! `transpose` (swap two axes), `t` (a matrix's transpose) and `mt` (swap the last two axes,
//! for a batch of matrices: PyTorch's `mT`).
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::zeros(&[2, 3, 4]);
//! assert_eq!(x.permute(&[2, 0, 1]).shape(), &[4, 2, 3]);
//! assert_eq!(x.mt().shape(), &[2, 4, 3]);
//! assert_eq!(Tensor::<f32>::zeros(&[3, 4]).t().shape(), &[4, 3]);
//! ```

use smallvec::smallvec;

use crate::error::{or_panic, Result, TensorError};
use crate::forward::{Dots, JvpCtx};
use crate::shape::{axis_index, inverse_permutation, Dim};
use crate::tape::{record, BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// The tensor with axes reordered: output axis `k` is input axis `axes[k]`.
    ///
    /// # Errors
    /// `permute` when `axes` is not a permutation of `0..ndim`.
    #[track_caller]
    pub fn try_permute(&self, axes: &[impl Dim]) -> Result<Tensor<F>> {
        let axes = &axes
            .iter()
            .map(|&a| axis_index("permute", a, self.shape()))
            .collect::<Result<Vec<usize>>>()?[..];
        let mut seen = vec![false; self.ndim()];
        let is_permutation = axes.len() == self.ndim()
            && axes
                .iter()
                .all(|&a| a < seen.len() && !std::mem::replace(&mut seen[a], true));
        if !is_permutation {
            return Err(TensorError::InvalidArgument {
                op: "permute",
                shape: self.shape().to_vec(),
                rule: format!("axes {axes:?} are not a permutation of 0..{}", self.ndim()),
            });
        }
        let out = super::materialize(self.value().view().permuted_axes(axes));
        record(Op::Permute { axes: axes.into() }, &[self], out, &[])
    }

    /// Panicking form of [`try_permute`](Self::try_permute).
    #[track_caller]
    pub fn permute(&self, axes: &[impl Dim]) -> Tensor<F> {
        or_panic(self.try_permute(axes))
    }

    /// Swaps axes `a` and `b`.
    ///
    /// # Errors
    /// `transpose` when either axis is out of range.
    #[track_caller]
    pub fn try_transpose(&self, a: impl Dim, b: impl Dim) -> Result<Tensor<F>> {
        let a = axis_index("transpose", a, self.shape())?;
        let b = axis_index("transpose", b, self.shape())?;
        let mut axes: Vec<usize> = (0..self.ndim()).collect();
        axes.swap(a, b);
        self.try_permute(&axes)
    }

    /// Panicking form of [`try_transpose`](Self::try_transpose).
    #[track_caller]
    pub fn transpose(&self, a: impl Dim, b: impl Dim) -> Tensor<F> {
        or_panic(self.try_transpose(a, b))
    }

    /// The transpose of a matrix (a tensor of exactly two axes), as PyTorch's `t()`; for a
    /// batch of matrices, [`mt`](Self::mt) swaps the last two axes.
    ///
    /// NOTE: PyTorch's `t()` returns a tensor of rank 0 or 1 as it is; here it is an error,
    /// as before, since a vector's transpose is more often a mistake than a no-op.
    ///
    /// # Errors
    /// `t` when the tensor does not have exactly two axes.
    #[track_caller]
    pub fn try_t(&self) -> Result<Tensor<F>> {
        let n = self.ndim();
        if n != 2 {
            return Err(TensorError::InvalidArgument {
                op: "t",
                shape: self.shape().to_vec(),
                rule: format!(
                    "the tensor has {n} axes; t needs exactly 2 \
                     (for a batch of matrices, use mt() or transpose(-2, -1))"
                ),
            });
        }
        self.try_transpose(0, 1)
    }

    /// Panicking form of [`try_t`](Self::try_t).
    #[track_caller]
    pub fn t(&self) -> Tensor<F> {
        or_panic(self.try_t())
    }

    /// The matrix transpose of every matrix in a batch: swaps the last two axes, as PyTorch's
    /// `mT` (`[…, m, n]` → `[…, n, m]`; on two axes, the same as [`t`](Self::t)).
    ///
    /// # Errors
    /// `mt` when the tensor has fewer than two axes.
    #[track_caller]
    pub fn try_mt(&self) -> Result<Tensor<F>> {
        let n = self.ndim();
        if n < 2 {
            return Err(TensorError::InvalidArgument {
                op: "mt",
                shape: self.shape().to_vec(),
                rule: format!("the tensor has {n} axes; mt needs at least 2"),
            });
        }
        self.try_transpose(n - 2, n - 1)
    }

    /// Panicking form of [`try_mt`](Self::try_mt).
    #[track_caller]
    pub fn mt(&self) -> Tensor<F> {
        or_panic(self.try_mt())
    }
}

// y = permute(x, p): y's axis k is x's axis p[k]. The gradient travels the same way back,
// so ∂L/∂x = permute(∂L/∂y, p⁻¹), where p⁻¹[p[k]] = k.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::Permute { axes } = ctx.op else {
        unreachable!("permute rule on {:?}", ctx.op)
    };
    smallvec![Some(grad_out.permute(&inverse_permutation(axes)))]
}

// y = permute(x, p): linear, so ẏ = permute(ẋ, p).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::Permute { axes } = ctx.op else {
        unreachable!("permute rule on {:?}", ctx.op)
    };
    Some(dots[0].as_ref()?.permute(axes))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_gradcheck_and_error() {
        // [[0, 1, 2], [3, 4, 5]]ᵀ = [[0, 3], [1, 4], [2, 5]]
        let x = Tensor::<f64>::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
        assert_eq!(x.t().to_vec(), vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
        check(
            "permute",
            |t| t[0].permute(&[2, 0, 1]),
            &[uniform(&[2, 3, 4], 1)],
        );
        check(
            "transpose",
            |t| t[0].transpose(0, 1),
            &[uniform(&[3, 1], 2)],
        );
        let err = x.try_permute(&[0, 0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "permute: [2, 3]: axes [0, 0] are not a permutation of 0..2"
        );
    }

    #[test]
    fn t_is_a_matrix_transpose_and_mt_swaps_the_last_two_axes() {
        // t on two axes is unchanged: [[0, 1, 2], [3, 4, 5]]ᵀ, and mt agrees with it.
        let x = Tensor::<f64>::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
        assert_eq!(x.t().shape(), &[3, 2]);
        assert_eq!(x.mt().to_vec(), x.t().to_vec());
        // mt on [2, 2, 3]: each matrix transposed, the batch axis kept.
        // [[0, 1, 2], [3, 4, 5]]ᵀ = [[0, 3], [1, 4], [2, 5]], then [[6, 9], [7, 10], [8, 11]].
        let batch = Tensor::<f64>::arange(0.0, 12.0, 1.0).reshape(&[2, 2, 3]);
        let mt = batch.mt();
        assert_eq!(mt.shape(), &[2, 3, 2]);
        assert_eq!(
            mt.to_vec(),
            vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0, 6.0, 9.0, 7.0, 10.0, 8.0, 11.0]
        );
        check("mt", |t| t[0].mt(), &[uniform(&[2, 3, 4], 3)]);
        let err = batch.try_t().unwrap_err();
        assert_eq!(
            err.to_string(),
            "t: [2, 2, 3]: the tensor has 3 axes; t needs exactly 2 \
             (for a batch of matrices, use mt() or transpose(-2, -1))"
        );
        let v = Tensor::<f64>::zeros(&[3]);
        assert_eq!(
            v.try_t().unwrap_err().to_string(),
            "t: [3]: the tensor has 1 axes; t needs exactly 2 \
             (for a batch of matrices, use mt() or transpose(-2, -1))"
        );
        assert_eq!(
            v.try_mt().unwrap_err().to_string(),
            "mt: [3]: the tensor has 1 axes; mt needs at least 2"
        );
    }
}
