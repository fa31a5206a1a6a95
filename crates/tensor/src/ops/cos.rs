//! `cos`: the cosine elementwise (radians).
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! assert_eq!(Tensor::<f64>::scalar(0.0).cos().item(), 1.0);
//! ```

use smallvec::smallvec;

use super::unary;
use crate::forward::{Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// cos x elementwise.
    #[track_caller]
    pub fn cos(&self) -> Tensor<F> {
        unary(Op::Cos, self, F::cos, &[Saved::Input(0)])
    }
}

// y = cos x: dy/dx = −sin x, so ∂L/∂x = −∂L/∂y ⊙ sin x. Saved: x.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    smallvec![Some(grad_out.mul(&ctx.saved(0).sin()).neg())]
}

// y = cos x: ẏ = −sin x ⊙ ẋ.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    Some(dots[0].as_ref()?.mul(&ctx.input(0).sin()).neg())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_analytic_and_gradcheck() {
        // d/dx cos x at π/2 is −1.
        let x = Tensor::<f64>::scalar(std::f64::consts::FRAC_PI_2).requires_grad();
        x.cos().backward();
        assert_eq!(x.grad().unwrap().item(), -1.0);
        check("cos", |t| t[0].cos(), &[uniform_in(&[3, 1], -4.0, 4.0, 1)]);
    }
}
