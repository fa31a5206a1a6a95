//! `sin`: the sine elementwise (radians).
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! assert_eq!(Tensor::<f64>::scalar(0.0).sin().item(), 0.0);
//! ```

use smallvec::smallvec;

use super::unary;
use crate::forward::{Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// sin x elementwise.
    #[track_caller]
    pub fn sin(&self) -> Tensor<F> {
        unary(Op::Sin, self, F::sin, &[Saved::Input(0)])
    }
}

// y = sin x: dy/dx = cos x, so ∂L/∂x = ∂L/∂y ⊙ cos x. Saved: x. Written with the `cos`
// op, so a second pass differentiates it again (d²/dx² sin x = −sin x).
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    smallvec![Some(grad_out.mul(&ctx.saved(0).cos()))]
}

// y = sin x: ẏ = cos x ⊙ ẋ.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    Some(dots[0].as_ref()?.mul(&ctx.input(0).cos()))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::{grad, Tensor};

    #[test]
    fn value_analytic_and_gradcheck() {
        // d/dx sin x at 0 is cos 0 = 1.
        let x = Tensor::<f64>::scalar(0.0).requires_grad();
        x.sin().backward();
        assert_eq!(x.grad().unwrap().item(), 1.0);
        check("sin", |t| t[0].sin(), &[uniform_in(&[2, 3], -4.0, 4.0, 1)]);
    }

    #[test]
    fn second_and_third_derivatives() {
        // (sin x)″ = −sin x and (sin x)‴ = −cos x, at x = 0.7.
        let x = Tensor::<f64>::scalar(0.7).requires_grad();
        let d1 = grad(&x.sin(), &[&x], true).unwrap().remove(0);
        let d2 = grad(&d1, &[&x], true).unwrap().remove(0);
        let d3 = grad(&d2, &[&x], false).unwrap().remove(0);
        assert!((d2.item() + 0.7f64.sin()).abs() < 1e-15);
        assert!((d3.item() + 0.7f64.cos()).abs() < 1e-15);
    }
}
