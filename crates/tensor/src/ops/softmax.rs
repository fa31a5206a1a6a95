//! `softmax` and `log_softmax` along an axis — composites that first subtract the row's
//! maximum m (held constant), so no exponent is positive and nothing overflows (inputs of 1e4
//! are fine in f32):
//!
//! ```text
//! log_softmax(x)ᵢ = (xᵢ − m) − ln Σⱼ e^(xⱼ − m)        softmax(x)ᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m)
//! ```
//!
//! Working with x − m rather than x − logsumexp(x) also keeps the digits: in f32,
//! 1e4 − (1e4 + ln 2) has lost three of them.
//!
//! The tape yields ∂log_softmax(x)ᵢ/∂xⱼ = δᵢⱼ − softmax(x)ⱼ and
//! ∂softmax(x)ᵢ/∂xⱼ = softmax(x)ᵢ(δᵢⱼ − softmax(x)ⱼ).
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let p = Tensor::<f32>::from_vec(vec![0.0, 0.0, 1e4, 1e4], &[2, 2]).softmax(1);
//! assert_eq!(p.to_vec(), vec![0.5, 0.5, 0.5, 0.5]);
//! ```

use crate::error::{or_panic, Result};
use crate::shape::{axis_index, Dim};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// ln of the softmax along `axis`: the log-probabilities of logits `self`.
    ///
    /// # Errors
    /// `log_softmax` (or `softmax`) when the axis is out of range or empty.
    #[track_caller]
    pub fn try_log_softmax(&self, axis: impl Dim) -> Result<Tensor<F>> {
        let axis = axis_index("log_softmax", axis, self.shape())?;
        let (shifted, _) = self
            .shift_by_max(&[axis])
            .map_err(|e| e.in_op("log_softmax"))?;
        Ok(shifted.sub(&shifted.exp().sum_axes(&[axis], true).ln()))
    }

    /// Panicking form of [`try_log_softmax`](Self::try_log_softmax).
    #[track_caller]
    pub fn log_softmax(&self, axis: impl Dim) -> Tensor<F> {
        or_panic(self.try_log_softmax(axis))
    }

    /// eˣ normalised to sum to 1 along `axis`.
    ///
    /// # Errors
    /// As [`try_log_softmax`](Self::try_log_softmax).
    #[track_caller]
    pub fn try_softmax(&self, axis: impl Dim) -> Result<Tensor<F>> {
        let axis = axis_index("softmax", axis, self.shape())?;
        let (shifted, _) = self.shift_by_max(&[axis]).map_err(|e| e.in_op("softmax"))?;
        let e = shifted.exp();
        Ok(e.div(&e.sum_axes(&[axis], true)))
    }

    /// Panicking form of [`try_softmax`](Self::try_softmax).
    #[track_caller]
    pub fn softmax(&self, axis: impl Dim) -> Tensor<F> {
        or_panic(self.try_softmax(axis))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn values_sum_to_one_without_overflow() {
        // softmax([ln 1, ln 3]) = [¼, ¾]
        let p = Tensor::<f64>::from_vec(vec![0.0, 3f64.ln()], &[2])
            .softmax(0)
            .to_vec();
        assert!((p[0] - 0.25).abs() < 1e-15 && (p[1] - 0.75).abs() < 1e-15);
        let x = Tensor::<f32>::from_vec(vec![1e4, -1e4, 0.0], &[1, 3]).requires_grad();
        let logp = x.log_softmax(1);
        assert_eq!(logp.to_vec()[..2], [0.0, -2e4]);
        logp.sum().backward();
        assert!(x.grad().unwrap().to_vec().iter().all(|g| g.is_finite()));
    }

    #[test]
    fn analytic_gradient_of_log_softmax() {
        // Σᵢ log_softmax(x)ᵢ has ∂/∂xⱼ = 1 − n·softmax(x)ⱼ; at x = 0 with n = 2 that is 0.
        let x = Tensor::<f64>::zeros(&[2]).requires_grad();
        x.log_softmax(0).sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.0]);
    }

    #[test]
    fn gradcheck() {
        check("softmax", |t| t[0].softmax(1), &[uniform(&[3, 4], 1)]);
        check(
            "log_softmax",
            |t| t[0].log_softmax(0),
            &[uniform(&[3, 4], 2)],
        );
        check("softmax", |t| t[0].softmax(0), &[uniform(&[1, 2], 3)]);
        let err = Tensor::<f32>::zeros(&[2]).try_softmax(1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "softmax: axis 1 is out of range for shape [2] (rank 1)"
        );
        let err = Tensor::<f32>::zeros(&[2, 0])
            .try_log_softmax(1)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "log_softmax: [2, 0]: axis 1 is empty; an empty group has no maximum"
        );
    }
}
