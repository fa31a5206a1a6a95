//! `gelu`: the Gaussian error linear unit, in its tanh approximation (PyTorch's
//! `gelu(approximate='tanh')`, used by GPT-2 and BERT):
//!
//! ```text
//! gelu(x) ≈ ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
//! ```
//!
//! A composite: with u = √(2/π)(x + 0.044715x³), the tape yields
//! ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²). It differs from the exact
//! x·Φ(x) by less than 5e-4.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! assert_eq!(Tensor::<f64>::scalar(0.0).gelu().item(), 0.0);
//! ```

use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// GELU (tanh approximation) elementwise.
    pub fn gelu(&self) -> Tensor<F> {
        let k = F::from_f64((2.0 / std::f64::consts::PI).sqrt());
        let inner = self.add(
            &self
                .powf(F::from_f64(3.0))
                .mul_scalar(F::from_f64(0.044715)),
        );
        let gate = inner.mul_scalar(k).tanh().add_scalar(F::one());
        self.mul(&gate).mul_scalar(F::from_f64(0.5))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn values_analytic_gradient_and_gradcheck() {
        // gelu(1) ≈ 0.841192 (tanh form; exact Φ form gives 0.841345); gelu′(0) = ½.
        let x = Tensor::<f64>::from_vec(vec![0.0, 1.0], &[2]).requires_grad();
        let y = x.gelu();
        assert!((y.to_vec()[1] - 0.841_191_990_607_477_2).abs() < 1e-12);
        y.sum().backward();
        assert_eq!(x.grad().unwrap().to_vec()[0], 0.5);
        check(
            "gelu",
            |t| t[0].gelu(),
            &[uniform_in(&[3, 4], -3.0, 3.0, 1)],
        );
    }
}
