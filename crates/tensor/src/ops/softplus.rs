//! `softplus`: ln(1 + eˣ), a smooth relu — a composite, in the overflow-free form
//!
//! ```text
//! softplus(x) = max(x, 0) + ln(1 + e^(−|x|))
//! ```
//!
//! (e^(−|x|) ≤ 1 never overflows, and `log1p` keeps the tail accurate: softplus(−20) in f32
//! is 2.06e-9, not 0). The tape yields the derivative σ(x) = 1/(1 + e⁻ˣ).
//!
//! NOTE: at x = 0 the pieces are not differentiable, but their conventions add up to the
//! true derivative ½: `maximum(x, 0)` gives ½ at its tie and |x| gives 0.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! assert_eq!(Tensor::<f64>::scalar(0.0).softplus().item(), 2f64.ln());
//! ```

use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// ln(1 + eˣ) elementwise, without overflow for large |x|.
    #[track_caller]
    pub fn softplus(&self) -> Tensor<F> {
        let relu = self.maximum(&Tensor::scalar(F::zero()));
        relu.add(&self.abs().neg().exp().log1p())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn values_gradient_at_zero_and_extremes() {
        // softplus′(0) = σ(0) = ½.
        let x = Tensor::<f64>::scalar(0.0).requires_grad();
        x.softplus().backward();
        assert_eq!(x.grad().unwrap().item(), 0.5);
        // No overflow at ±1e4 (value and gradient), and the tail keeps its digits.
        let big = Tensor::<f32>::from_vec(vec![-1e4, 1e4, -20.0], &[3]).requires_grad();
        let y = big.softplus();
        assert_eq!(y.to_vec()[..2], [0.0, 1e4]);
        assert!((y.to_vec()[2] - 2.061_153_6e-9).abs() < 1e-15);
        y.sum().backward();
        assert_eq!(big.grad().unwrap().to_vec()[..2], [0.0, 1.0]);
    }

    #[test]
    fn gradcheck() {
        check(
            "softplus",
            |t| t[0].softplus(),
            &[away_from_zero(&[3, 4], 1).mapv(|x| 5.0 * x)],
        );
    }
}
