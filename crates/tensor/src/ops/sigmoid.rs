//! `sigmoid`: σ(x) = 1/(1 + e⁻ˣ) — a composite, written as σ(x) = ½(1 + tanh(x/2)).
//!
//! The tanh form is the same function, but never overflows: 1/(1 + e⁻ˣ) differentiated
//! through its pieces meets e⁻ˣ = inf at x = −1000 and gives a NaN gradient, while tanh
//! saturates cleanly. The tape yields dσ/dx = ¼(1 − tanh²(x/2)) = σ(1 − σ).
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! assert_eq!(Tensor::<f64>::scalar(0.0).sigmoid().item(), 0.5);
//! ```

use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// The logistic function σ(x) = 1/(1 + e⁻ˣ), elementwise, in (0, 1).
    #[track_caller]
    pub fn sigmoid(&self) -> Tensor<F> {
        let half = F::from_f64(0.5);
        self.mul_scalar(half)
            .tanh()
            .add_scalar(F::one())
            .mul_scalar(half)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_analytic_gradient_and_saturation() {
        // σ(0) = ½ and σ′(0) = ½·(1 − ½) = ¼; σ(ln 3) = 3/4.
        let x = Tensor::<f64>::from_vec(vec![0.0, 3f64.ln()], &[2]).requires_grad();
        let y = x.sigmoid();
        assert!((y.to_vec()[1] - 0.75).abs() < 1e-15);
        y.sum().backward();
        assert_eq!(x.grad().unwrap().to_vec()[0], 0.25);
        // At ±1e4 the values saturate to 0 and 1 and the gradient is 0, not NaN.
        let big = Tensor::<f32>::from_vec(vec![-1e4, 1e4], &[2]).requires_grad();
        let s = big.sigmoid();
        assert_eq!(s.to_vec(), vec![0.0, 1.0]);
        s.sum().backward();
        assert_eq!(big.grad().unwrap().to_vec(), vec![0.0, 0.0]);
    }

    #[test]
    fn gradcheck() {
        check(
            "sigmoid",
            |t| t[0].sigmoid(),
            &[uniform_in(&[3, 4], -6.0, 6.0, 1)],
        );
    }
}
