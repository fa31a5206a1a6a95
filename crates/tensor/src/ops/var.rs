//! `var`: the variance over axes — a composite, Σ(x − x̄)² / (n − correction).
//!
//! `correction` 0 gives the population variance (NumPy's default, `ddof=0`); 1 gives the
//! unbiased sample variance (PyTorch's default). The tape yields
//! ∂var/∂xᵢ = 2(xᵢ − x̄)/(n − correction): the x̄ term's own gradient sums to zero.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]);
//! assert_eq!(x.var().item(), 1.25);               // population
//! assert!((x.var_axes(&[0], 1, false).item() - 5.0 / 3.0).abs() < 1e-15); // unbiased
//! ```

use crate::error::{or_panic, Result};
use crate::shape::{normalize_axes, Dim};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// The population variance of all elements (correction 0, as NumPy), shape `[]`.
    pub fn var(&self) -> Tensor<F> {
        let all: Vec<usize> = (0..self.ndim()).collect();
        self.var_axes(&all, 0, false)
    }

    /// Σ(x − x̄)² / (n − correction) over `axes`, with n the number of elements in each
    /// group; n ≤ correction gives inf or NaN, as in NumPy.
    ///
    /// # Errors
    /// `var` when an axis is out of range.
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
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn analytic_gradient_and_gradcheck() {
        // x = [1, 2, 3, 4], x̄ = 2.5: ∂var/∂x = 2(x − x̄)/4 = [-0.75, -0.25, 0.25, 0.75].
        let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4]).requires_grad();
        x.var().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![-0.75, -0.25, 0.25, 0.75]);
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
