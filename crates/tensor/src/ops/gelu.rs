//! `gelu`: the Gaussian error linear unit (Hendrycks & Gimpel, 2016), in both of PyTorch's
//! forms:
//!
//! ```text
//! exact (gelu, PyTorch's default):   gelu(x) = x·Φ(x) = ½·x·(1 + erf(x/√2))
//! tanh  (gelu_tanh, approximate='tanh', GPT-2/BERT):
//!                                    gelu(x) ≈ ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
//! ```
//!
//! Both are composites. For the exact form the tape yields Φ(x) + x·φ(x), with
//! φ(x) = e^(−x²/2)/√(2π) the normal density (erf's rule times the chain factor 1/√2). For
//! the tanh form, with u = √(2/π)(x + 0.044715x³), it yields
//! ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²). The two differ by less than 5e-4.
//!
//! ```
//! use tapegrad_tensor::{GeluApproximate, Tensor};
//! let x = Tensor::<f64>::scalar(1.0);
//! assert!((x.gelu().item() - 0.841_344_746_068_542_9).abs() < 1e-15); // exact: Φ(1)
//! assert!((x.gelu_with(GeluApproximate::Tanh).item() - 0.841_191_990_607_477_2).abs() < 1e-12);
//! ```

use crate::{Float, Tensor};

/// Which GELU to compute (PyTorch's `approximate` argument).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum GeluApproximate {
    /// x·Φ(x) through erf (PyTorch's default, `approximate='none'`).
    #[default]
    None,
    /// The tanh approximation (`approximate='tanh'`).
    Tanh,
}

impl<F: Float> Tensor<F> {
    /// The exact GELU x·Φ(x) = ½x(1 + erf(x/√2)) elementwise, as PyTorch's default
    /// `F.gelu(x)`. (Before this version `gelu` meant the tanh form, now
    /// [`gelu_tanh`](Self::gelu_tanh).)
    #[track_caller]
    pub fn gelu(&self) -> Tensor<F> {
        let phi = self
            .mul_scalar(F::from_f64(std::f64::consts::FRAC_1_SQRT_2))
            .erf()
            .add_scalar(F::one());
        self.mul(&phi).mul_scalar(F::from_f64(0.5))
    }

    /// The tanh approximation of GELU (PyTorch's `F.gelu(x, approximate='tanh')`).
    #[track_caller]
    pub fn gelu_tanh(&self) -> Tensor<F> {
        let k = F::from_f64((2.0 / std::f64::consts::PI).sqrt());
        let inner = self.add(
            &self
                .powf(F::from_f64(3.0))
                .mul_scalar(F::from_f64(0.044715)),
        );
        let gate = inner.mul_scalar(k).tanh().add_scalar(F::one());
        self.mul(&gate).mul_scalar(F::from_f64(0.5))
    }

    /// GELU in the form `approximate` names.
    #[track_caller]
    pub fn gelu_with(&self, approximate: GeluApproximate) -> Tensor<F> {
        match approximate {
            GeluApproximate::None => self.gelu(),
            GeluApproximate::Tanh => self.gelu_tanh(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn tanh_form_values_analytic_gradient_and_gradcheck() {
        // gelu_tanh(1) ≈ 0.841192 (the exact form gives 0.841345); gelu′(0) = ½ in both.
        let x = Tensor::<f64>::from_vec(vec![0.0, 1.0], &[2]).requires_grad();
        let y = x.gelu_tanh();
        assert!((y.to_vec()[1] - 0.841_191_990_607_477_2).abs() < 1e-12);
        y.sum().backward();
        assert_eq!(x.grad().unwrap().to_vec()[0], 0.5);
        check(
            "gelu_tanh",
            |t| t[0].gelu_tanh(),
            &[uniform_in(&[3, 4], -3.0, 3.0, 1)],
        );
    }

    #[test]
    fn exact_form_values_analytic_gradient_and_gradcheck() {
        // gelu(x) = x·Φ(x): gelu(1) = Φ(1) = 0.8413447460685429, gelu(−1) = −Φ(−1).
        // gelu′(x) = Φ(x) + x·φ(x): at 0 it is ½, at 1 it is Φ(1) + e^(−½)/√(2π).
        let x = Tensor::<f64>::from_vec(vec![0.0, 1.0, -1.0], &[3]).requires_grad();
        let y = x.gelu();
        let v = y.to_vec();
        assert!((v[1] - 0.841_344_746_068_542_9).abs() < 1e-15);
        assert!((v[2] + 0.158_655_253_931_457_05).abs() < 1e-15);
        y.sum().backward();
        let g = x.grad().unwrap().to_vec();
        assert_eq!(g[0], 0.5);
        let dphi = (-0.5f64).exp() / (2.0 * std::f64::consts::PI).sqrt();
        assert!((g[1] - (0.841_344_746_068_542_9 + dphi)).abs() < 1e-15);
        check(
            "gelu",
            |t| t[0].gelu(),
            &[uniform_in(&[3, 4], -4.0, 4.0, 2)],
        );
    }

    #[test]
    fn second_order_through_both_forms() {
        // Hessian-vector products: check the gradient of the gradient against differences.
        let x = [uniform_in(&[6], -3.0, 3.0, 3)];
        check_second_order("gelu", |t| t[0].gelu(), &x);
        check_second_order("gelu_tanh", |t| t[0].gelu_tanh(), &x);
    }
}
