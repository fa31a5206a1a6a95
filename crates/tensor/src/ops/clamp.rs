//! `clamp`: limit every element to [min, max] — a composite, minimum(maximum(x, min), max).
//!
//! The tape yields derivative 1 strictly inside the range and 0 outside.
//! NOTE: exactly at a bound the derivative is ½, the tie rule of `maximum` (PyTorch takes 1
//! there; any value in [0, 1] is a valid subgradient). NaN stays NaN.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let y = Tensor::<f32>::from_vec(vec![-2.0, 0.5, 7.0], &[3]).clamp(0.0, 1.0);
//! assert_eq!(y.to_vec(), vec![0.0, 0.5, 1.0]);
//! ```

use crate::error::{or_panic, Result, TensorError};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// Each element limited to `[min, max]`.
    ///
    /// # Errors
    /// `clamp` when `min > max` or either bound is NaN.
    #[track_caller]
    pub fn try_clamp(&self, min: F, max: F) -> Result<Tensor<F>> {
        let ordered = min <= max; // false for a NaN bound too
        if !ordered {
            return Err(TensorError::InvalidArgument {
                op: "clamp",
                shape: self.shape().to_vec(),
                rule: format!("the range [{min}, {max}] is empty"),
            });
        }
        Ok(self
            .maximum(&Tensor::scalar(min))
            .minimum(&Tensor::scalar(max)))
    }

    /// Panicking form of [`try_clamp`](Self::try_clamp).
    #[track_caller]
    pub fn clamp(&self, min: F, max: F) -> Tensor<F> {
        or_panic(self.try_clamp(min, max))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn analytic_gradient_nan_and_gradcheck() {
        // Inside (0.5) → 1, outside (−2, 7) → 0, at the bound 1 → ½.
        let x = Tensor::<f64>::from_vec(vec![-2.0, 0.5, 7.0, 1.0], &[4]).requires_grad();
        x.clamp(0.0, 1.0).sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 1.0, 0.0, 0.5]);
        assert!(Tensor::<f64>::scalar(f64::NAN)
            .clamp(0.0, 1.0)
            .item()
            .is_nan());
        assert_eq!(
            Tensor::<f64>::scalar(f64::INFINITY).clamp(0.0, 1.0).item(),
            1.0
        );
        check("clamp", |t| t[0].clamp(-0.5, 0.5), &[uniform(&[3, 4], 1)]);
    }

    #[test]
    #[should_panic(expected = "clamp: [1]: the range [1, 0] is empty")]
    fn empty_range_panics() {
        Tensor::<f32>::zeros(&[1]).clamp(1.0, 0.0);
    }
}
