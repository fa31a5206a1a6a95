//! `var` and `std`: the variance and standard deviation over axes — composites,
//! var = Σ(x − x̄)² / (n − correction) and std = √var.
//!
//! `correction` 1 gives the unbiased sample variance (Bessel's correction, PyTorch's default
//! and what [`var`](crate::Tensor::var) and [`std`](crate::Tensor::std) use); 0 gives the
//! population variance (NumPy's default, `ddof=0`, which layer and batch norm use). The tape
//! yields ∂var/∂xᵢ = 2(xᵢ − x̄)/(n − correction) — the x̄ term's own gradient sums to zero —
//! and ∂std/∂xᵢ = (xᵢ − x̄)/((n − correction)·std).
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]);
//! assert!((x.var().item() - 5.0 / 3.0).abs() < 1e-15);      // unbiased, as torch.var(x)
//! assert_eq!(x.var_axes(&[0], 0, false).item(), 1.25);      // population, as np.var(x)
//! assert_eq!(x.std_axes(&[-1], 0, false).item(), 1.25f64.sqrt());
//! ```

use crate::error::{or_panic, Result};
use crate::shape::{normalize_axes, Dim};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// The unbiased sample variance of all elements, Σ(x − x̄)²/(n − 1), shape `[]`: PyTorch's
    /// `torch.var(x)` (correction 1). For NumPy's population variance (`np.var`), use
    /// `var_axes(&all_axes, 0, false)`. One element gives NaN, as in PyTorch.
    #[track_caller]
    pub fn var(&self) -> Tensor<F> {
        let all: Vec<usize> = (0..self.ndim()).collect();
        self.var_axes(&all, 1, false)
    }

    /// The unbiased sample standard deviation of all elements, √(Σ(x − x̄)²/(n − 1)), shape
    /// `[]`: PyTorch's `torch.std(x)` (correction 1).
    #[track_caller]
    pub fn std(&self) -> Tensor<F> {
        let all: Vec<usize> = (0..self.ndim()).collect();
        self.std_axes(&all, 1, false)
    }

    /// Σ(x − x̄)² / (n − correction) over `axes` (negative ones count from the back), with n
    /// the number of elements in each group, keeping the reduced axes as size 1 with `keepdim`:
    /// PyTorch's `torch.var(x, dim, correction=…, keepdim=…)`. n ≤ correction gives inf or
    /// NaN, as in NumPy.
    ///
    /// # Errors
    /// `var` when an axis is out of range.
    #[track_caller]
    pub fn try_var_axes(
        &self,
        axes: &[impl Dim],
        correction: usize,
        keepdim: bool,
    ) -> Result<Tensor<F>> {
        let axes = normalize_axes("var", axes, self.shape())?;
        let n: usize = axes.iter().map(|&a| self.shape()[a]).product();
        let deviation = self.sub(&self.mean_axes(&axes, true));
        let squares = deviation.mul(&deviation).sum_axes(&axes, keepdim);
        let dof = F::from_f64(n as f64 - correction as f64).max(F::zero());
        Ok(squares.mul_scalar(F::one() / dof))
    }

    /// Panicking form of [`try_var_axes`](Self::try_var_axes).
    #[track_caller]
    pub fn var_axes(&self, axes: &[impl Dim], correction: usize, keepdim: bool) -> Tensor<F> {
        or_panic(self.try_var_axes(axes, correction, keepdim))
    }

    /// √(Σ(x − x̄)² / (n − correction)) over `axes`: the square root of
    /// [`try_var_axes`](Self::try_var_axes), PyTorch's `torch.std(x, dim, correction=…)`.
    ///
    /// NOTE: where every element of a group is equal, std = 0 and its gradient, a division
    /// by std, is NaN, as in PyTorch; gradcheck samples spread-out points.
    ///
    /// # Errors
    /// `std` when an axis is out of range.
    #[track_caller]
    pub fn try_std_axes(
        &self,
        axes: &[impl Dim],
        correction: usize,
        keepdim: bool,
    ) -> Result<Tensor<F>> {
        self.try_var_axes(axes, correction, keepdim)
            .map(|v| v.sqrt())
            .map_err(|e| e.in_op("std"))
    }

    /// Panicking form of [`try_std_axes`](Self::try_std_axes).
    #[track_caller]
    pub fn std_axes(&self, axes: &[impl Dim], correction: usize, keepdim: bool) -> Tensor<F> {
        or_panic(self.try_std_axes(axes, correction, keepdim))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn values_by_hand() {
        // x = [1, 2, 3, 4], x̄ = 2.5, Σ(x − x̄)² = 2.25 + 0.25 + 0.25 + 2.25 = 5:
        // var = 5/3 (correction 1, the default), 5/4 (correction 0); std = their roots.
        let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
        assert!((x.var().item() - 5.0 / 3.0).abs() < 1e-15);
        assert!((x.std().item() - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(x.var_axes(&[0, 1], 0, false).item(), 1.25);
        // Rows [1, 2] and [3, 4]: each has Σ(x − x̄)² = 0.5, so var = 0.5 with correction 1.
        assert_eq!(x.var_axes(&[-1], 1, true).to_vec(), vec![0.5, 0.5]);
        assert_eq!(x.std_axes(&[1], 1, false).shape(), &[2]);
        assert_eq!(
            x.try_std_axes(&[2], 1, false).unwrap_err().to_string(),
            "std: axis 2 is out of range for shape [2, 2] (rank 2)"
        );
    }

    #[test]
    fn analytic_gradient_and_gradcheck() {
        // x = [1, 2, 3, 4], x̄ = 2.5: ∂var/∂x = 2(x − x̄)/4 = [-0.75, -0.25, 0.25, 0.75] with
        // correction 0; ∂std/∂x = (x − x̄)/(3·std) with correction 1, std = √(5/3).
        let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).requires_grad();
        x.var_axes(&[0], 0, false).backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![-0.75, -0.25, 0.25, 0.75]);
        let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).requires_grad();
        x.std().backward();
        let std = (5.0f64 / 3.0).sqrt();
        for (g, d) in x
            .grad()
            .unwrap()
            .to_vec()
            .iter()
            .zip([-1.5, -0.5, 0.5, 1.5])
        {
            assert!((g - d / (3.0 * std)).abs() < 1e-15);
        }
        check("std", |t| t[0].std(), &[uniform(&[3, 4], 3)]);
        check(
            "std",
            |t| t[0].std_axes(&[0, -1], 2, true),
            &[uniform(&[3, 1, 4], 4)],
        );
        check("var", |t| t[0].var(), &[uniform(&[5], 5)]);
        check(
            "var",
            |t| t[0].var_axes(&[1], 1, true),
            &[uniform(&[3, 4], 1)],
        );
        check(
            "var",
            |t| t[0].var_axes(&[0, 2], 0, false),
            &[uniform(&[2, 3, 2], 2)],
        );
        assert!(Tensor::<f64>::zeros(&[2])
            .try_var_axes(&[3], 0, false)
            .is_err());
    }
}
