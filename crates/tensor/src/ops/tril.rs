//! `tril` and `triu`: the lower / upper triangle of the last two axes, the rest set to 0
//! (PyTorch's `torch.tril(x, diagonal)` and `torch.triu`), and the boolean masks behind them,
//! [`tril_mask`] and [`triu_mask`] (PyTorch's `torch.ones(r, c, dtype=torch.bool).tril(k)`,
//! the causal mask of attention).
//!
//! ```text
//! tril(x, k)[…, i, j] = x[…, i, j] if j − i ≤ k, else 0
//! triu(x, k)[…, i, j] = x[…, i, j] if j − i ≥ k, else 0
//! ```
//!
//! The diagonal offset k may be negative (below the main diagonal) or positive (above it).
//! Composites: `where_cond(mask, x, 0)`, so the tape yields ∂L/∂x = ∂L/∂y on the kept
//! triangle and exactly 0 elsewhere (the zeroed entries are replaced, never multiplied by 0,
//! so a NaN or ∞ there does not survive: `tril` of a matrix with NaN above the diagonal is
//! NaN-free, as in PyTorch).
//!
//! ```
//! use tapegrad_tensor::{tril_mask, Tensor};
//! let x = Tensor::<f32>::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
//! assert_eq!(x.tril(0).to_vec(), vec![0.0, 0.0, 0.0, 3.0, 4.0, 0.0]);
//! assert_eq!(x.triu(1).to_vec(), vec![0.0, 1.0, 2.0, 0.0, 0.0, 5.0]);
//! assert_eq!(tril_mask(2, 3, 0).flatten().to_vec(), vec![true, false, false, true, true, false]);
//! ```

use ndarray::ArrayD;

use crate::error::{or_panic, Result, TensorError};
use crate::{Float, Tensor};

/// A `[rows, cols]` mask, true where column − row ≤ `diagonal`: the lower triangle. With
/// `diagonal = 0` it is the causal mask of attention (query i may see keys 0..=i).
#[track_caller]
pub fn tril_mask(rows: usize, cols: usize, diagonal: isize) -> ArrayD<bool> {
    ArrayD::from_shape_fn(vec![rows, cols], |ix| {
        ix[1] as isize - ix[0] as isize <= diagonal
    })
}

/// A `[rows, cols]` mask, true where column − row ≥ `diagonal`: the upper triangle.
#[track_caller]
pub fn triu_mask(rows: usize, cols: usize, diagonal: isize) -> ArrayD<bool> {
    ArrayD::from_shape_fn(vec![rows, cols], |ix| {
        ix[1] as isize - ix[0] as isize >= diagonal
    })
}

impl<F: Float> Tensor<F> {
    /// The lower triangle of the last two axes (j − i ≤ `diagonal`), zeros elsewhere.
    ///
    /// # Errors
    /// `tril` when the tensor has fewer than two axes.
    #[track_caller]
    pub fn try_tril(&self, diagonal: isize) -> Result<Tensor<F>> {
        let (rows, cols) = matrix_axes("tril", self.shape())?;
        Tensor::try_where_cond(
            &tril_mask(rows, cols, diagonal),
            self,
            &Tensor::scalar(F::zero()),
        )
        .map_err(|e| e.in_op("tril"))
    }

    /// Panicking form of [`try_tril`](Self::try_tril).
    #[track_caller]
    pub fn tril(&self, diagonal: isize) -> Tensor<F> {
        or_panic(self.try_tril(diagonal))
    }

    /// The upper triangle of the last two axes (j − i ≥ `diagonal`), zeros elsewhere.
    ///
    /// # Errors
    /// `triu` when the tensor has fewer than two axes.
    #[track_caller]
    pub fn try_triu(&self, diagonal: isize) -> Result<Tensor<F>> {
        let (rows, cols) = matrix_axes("triu", self.shape())?;
        Tensor::try_where_cond(
            &triu_mask(rows, cols, diagonal),
            self,
            &Tensor::scalar(F::zero()),
        )
        .map_err(|e| e.in_op("triu"))
    }

    /// Panicking form of [`try_triu`](Self::try_triu).
    #[track_caller]
    pub fn triu(&self, diagonal: isize) -> Tensor<F> {
        or_panic(self.try_triu(diagonal))
    }
}

fn matrix_axes(op: &'static str, shape: &[usize]) -> Result<(usize, usize)> {
    match shape {
        [.., rows, cols] => Ok((*rows, *cols)),
        _ => Err(TensorError::InvalidArgument {
            op,
            shape: shape.to_vec(),
            rule: format!("{op} needs at least two axes (a matrix, or a batch of them)"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn values_match_torch_for_every_offset() {
        // arange(12) as [3, 4]; torch.tril(x, -1) and torch.triu(x, 2):
        // [[0, 0, 0, 0], [4, 0, 0, 0], [8, 9, 0, 0]] and [[0, 0, 2, 3], [0, 0, 0, 7], [0, 0, 0, 0]].
        let x = Tensor::<f64>::arange(0.0, 12.0, 1.0).reshape(&[3, 4]);
        let zero_free = |v: Vec<f64>| v.into_iter().filter(|&v| v != 0.0).collect::<Vec<_>>();
        assert_eq!(zero_free(x.tril(-1).to_vec()), vec![4.0, 8.0, 9.0]);
        assert_eq!(zero_free(x.triu(2).to_vec()), vec![2.0, 3.0, 7.0]);
        assert_eq!(
            x.tril(3).to_vec(),
            x.to_vec(),
            "k ≥ cols − 1 keeps everything"
        );
        assert!(zero_free(x.triu(4).to_vec()).is_empty());
        // tril + triu(k + 1) splits any batch of matrices into two disjoint parts.
        let b = Tensor::<f64>::randn(&[2, 3, 4], 0.0, 1.0, 1);
        assert_eq!((b.tril(1) + b.triu(2)).to_vec(), b.to_vec());
        // NaN above the diagonal does not survive (it is replaced, not multiplied by 0).
        let m = Tensor::<f64>::from_vec(vec![1.0, f64::NAN, 2.0, 3.0], &[2, 2]);
        assert_eq!(m.tril(0).to_vec(), vec![1.0, 0.0, 2.0, 3.0]);
        let err = Tensor::<f64>::zeros(&[3]).try_tril(0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tril: [3]: tril needs at least two axes (a matrix, or a batch of them)"
        );
    }

    #[test]
    fn analytic_gradient_is_the_triangle() {
        // ∂Σ tril(x)/∂x is the lower-triangular mask itself: [[1, 0], [1, 1]].
        let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).requires_grad();
        x.tril(0).sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn gradcheck_on_batches_and_offsets() {
        check("tril", |t| t[0].tril(0), &[uniform(&[2, 3, 4], 1)]);
        check("tril", |t| t[0].tril(-2), &[uniform(&[4, 3], 2)]);
        check("triu", |t| t[0].triu(1), &[uniform(&[2, 1, 3, 3], 3)]);
        check("triu", |t| t[0].triu(0), &[uniform(&[0, 3], 4)]);
        check_second_order("tril", |t| (&t[0] * &t[0]).tril(1), &[uniform(&[3, 3], 5)]);
    }
}
