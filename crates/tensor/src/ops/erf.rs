//! `erf`: the error function, elementwise,
//!
//! ```text
//! erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt,      d/dx erf(x) = (2/√π)·e^(−x²)
//! ```
//!
//! the building block of the exact GELU, x·Φ(x) with Φ(x) = ½(1 + erf(x/√2)).
//!
//! Values come from the `libm` crate's `erf`, a pure-Rust port of FreeBSD msun's rational
//! approximations (the C library's algorithm, documented error below 1 ulp), evaluated in f64
//! and rounded once for f32. Measured against PyTorch's float64 `torch.erf` at 41 points
//! on [−6, 6] (`tests/pytorch_ops.rs`): identical to the last bit at every point (largest
//! difference 0; the test allows 2.3e-16, one ulp near 1).
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let y = Tensor::<f64>::from_vec(vec![0.0, 1.0], &[2]).erf();
//! assert_eq!(y.to_vec()[0], 0.0);
//! assert!((y.to_vec()[1] - 0.842_700_792_949_714_9).abs() < 1e-16);
//! ```

use smallvec::smallvec;

use super::unary;
use crate::forward::{Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// The error function erf(x) elementwise, in (−1, 1).
    #[track_caller]
    pub fn erf(&self) -> Tensor<F> {
        unary(
            Op::Erf,
            self,
            |x| F::from_f64(libm::erf(x.as_f64())),
            &[Saved::Input(0)],
        )
    }
}

// y = erf(x): dy/dx = (2/√π)·e^(−x²), so ∂L/∂x = ∂L/∂y ⊙ (2/√π)·exp(−x²). Written with
// tensor ops on the saved x, so a second pass differentiates it again: the second
// derivative is −2x·(2/√π)·e^(−x²). Saved: x.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let x = ctx.saved(0);
    let two_over_sqrt_pi = F::from_f64(std::f64::consts::FRAC_2_SQRT_PI);
    let slope = x.mul(&x).neg().exp().mul_scalar(two_over_sqrt_pi);
    smallvec![Some(grad_out.mul(&slope))]
}

// y = erf(x): ẏ = (2/√π)·e^(−x²) ⊙ ẋ.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let x = ctx.input(0);
    let two_over_sqrt_pi = F::from_f64(std::f64::consts::FRAC_2_SQRT_PI);
    let slope = x.mul(x).neg().exp().mul_scalar(two_over_sqrt_pi);
    Some(dots[0].as_ref()?.mul(&slope))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::{grad, Tensor};

    #[test]
    fn values_analytic_gradient_and_gradcheck() {
        // erf is odd, erf(0) = 0, erf(∞) = 1; erf′(0) = 2/√π ≈ 1.128379.
        let x = Tensor::<f64>::from_vec(vec![0.0, -0.5, 0.5, 30.0], &[4]).requires_grad();
        let y = x.erf();
        let v = y.to_vec();
        assert_eq!((v[0], v[1], v[3]), (0.0, -v[2], 1.0));
        assert!((v[2] - 0.520_499_877_813_046_5).abs() < 1e-16);
        y.sum().backward();
        let g = x.grad().unwrap().to_vec();
        assert_eq!(g[0], std::f64::consts::FRAC_2_SQRT_PI);
        assert_eq!(g[3], 0.0);
        check("erf", |t| t[0].erf(), &[uniform_in(&[3, 4], -3.0, 3.0, 1)]);
        // f32 values are the f64 ones rounded once.
        let x32 = Tensor::<f32>::from_vec(vec![0.3, -1.7], &[2])
            .erf()
            .to_vec();
        assert_eq!(
            x32,
            vec![
                libm::erf(0.3f32 as f64) as f32,
                libm::erf(-1.7f32 as f64) as f32
            ]
        );
    }

    #[test]
    fn second_order_through_erf() {
        // erf″(x) = −2x·(2/√π)·e^(−x²); at x = 0.7 compare with the closed form.
        let x = Tensor::<f64>::from_vec(vec![0.7], &[1]).requires_grad();
        let g = grad(&x.erf().sum(), &[&x], true).unwrap().remove(0);
        let h = grad(&g.sum(), &[&x], false).unwrap().remove(0).item();
        let want = -2.0 * 0.7 * std::f64::consts::FRAC_2_SQRT_PI * (-0.49f64).exp();
        assert!((h - want).abs() < 1e-15, "{h} vs {want}");
        check_second_order("erf", |t| t[0].erf(), &[uniform_in(&[5], -2.0, 2.0, 2)]);
    }
}
