//! `exp`: eˣ elementwise.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! assert_eq!(Tensor::<f64>::scalar(0.0).exp().item(), 1.0);
//! ```

use smallvec::smallvec;

use super::unary;
use crate::forward::{Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// eˣ elementwise.
    #[track_caller]
    pub fn exp(&self) -> Tensor<F> {
        unary(Op::Exp, self, F::exp, &[Saved::Output])
    }
}

// y = eˣ: dy/dx = eˣ = y, so the rule reuses the saved output: ∂L/∂x = ∂L/∂y ⊙ y.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    smallvec![Some(grad_out.mul(&ctx.saved(0)))]
}

// y = eˣ: ẏ = y ⊙ ẋ.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    Some(dots[0].as_ref()?.mul(ctx.output()))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_analytic_and_gradcheck() {
        // d/dx eˣ at x = 1 is e.
        let x = Tensor::<f64>::scalar(1.0).requires_grad();
        let y = x.exp();
        assert_eq!(y.item(), std::f64::consts::E);
        y.backward();
        assert_eq!(x.grad().unwrap().item(), std::f64::consts::E);
        check("exp", |t| t[0].exp(), &[uniform(&[2, 3], 1)]);
        check("exp", |t| t[0].exp(), &[uniform(&[0, 2], 1)]);
    }
}
