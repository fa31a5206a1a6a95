//! `mean`: the average of all elements or over axes — a composite, `sum(x)·(1/n)` with n the
//! number of elements averaged, so the tape gives ∂L/∂xᵢ = (1/n)·∂L/∂y (mean of an empty
//! group is NaN, as in NumPy).
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::from_vec(vec![1.0, 2.0, 3.0, 6.0], &[2, 2]);
//! assert_eq!(x.mean().item(), 3.0);
//! assert_eq!(x.mean_axes(&[0], false).to_vec(), vec![2.0, 4.0]);
//! ```

use crate::error::{or_panic, Result};
use crate::shape::{normalize_axes, Dim};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// The mean of every element, as a tensor of shape `[]`.
    #[track_caller]
    pub fn mean(&self) -> Tensor<F> {
        let all: Vec<usize> = (0..self.ndim()).collect();
        self.mean_axes(&all, false)
    }

    /// The mean over `axes`, keeping them as size 1 with `keepdim`.
    ///
    /// # Errors
    /// `mean` when an axis is out of range.
    #[track_caller]
    pub fn try_mean_axes(&self, axes: &[impl Dim], keepdim: bool) -> Result<Tensor<F>> {
        let axes = normalize_axes("mean", axes, self.shape())?;
        let n: usize = axes.iter().map(|&a| self.shape()[a]).product();
        let sum = self.try_sum_axes(&axes, keepdim)?;
        Ok(sum.mul_scalar(F::one() / F::from_f64(n as f64)))
    }

    /// Panicking form of [`try_mean_axes`](Self::try_mean_axes).
    #[track_caller]
    pub fn mean_axes(&self, axes: &[impl Dim], keepdim: bool) -> Tensor<F> {
        or_panic(self.try_mean_axes(axes, keepdim))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn analytic_gradient_and_gradcheck() {
        // y = mean(x) of 4 values: ∂y/∂x = 1/4.
        let x = Tensor::<f64>::zeros(&[4]).requires_grad();
        x.mean().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.25; 4]);
        check(
            "mean",
            |t| t[0].mean_axes(&[0, 2], true),
            &[uniform(&[2, 3, 4], 1)],
        );
        check("mean", |t| t[0].mean(), &[uniform(&[3, 1], 2)]);
        assert!(Tensor::<f64>::zeros(&[0]).mean().item().is_nan());
        assert!(Tensor::<f64>::zeros(&[2])
            .try_mean_axes(&[1], false)
            .is_err());
    }
}
