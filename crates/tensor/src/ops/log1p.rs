//! `log1p`: ln(1 + x) elementwise, accurate for tiny x where `(1 + x).ln()` rounds 1 + x to 1
//! (in f32, ln(1 + 1e-9) would be 0). A primitive for that accuracy; `softplus` relies on it.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! assert_eq!(Tensor::<f32>::scalar(1e-9).log1p().item(), 1e-9);
//! ```

use smallvec::smallvec;

use super::unary;
use crate::forward::{Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// ln(1 + x) elementwise.
    #[track_caller]
    pub fn log1p(&self) -> Tensor<F> {
        unary(Op::Log1p, self, F::ln_1p, &[Saved::Input(0)])
    }
}

// y = ln(1 + x): dy/dx = 1/(1 + x), so ∂L/∂x = ∂L/∂y / (1 + x). Saved: x.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    smallvec![Some(grad_out.div(&ctx.saved(0).add_scalar(F::one())))]
}

// y = ln(1 + x): ẏ = ẋ / (1 + x).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    Some(dots[0].as_ref()?.div(&ctx.input(0).add_scalar(F::one())))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_analytic_and_gradcheck() {
        // d/dx ln(1 + x) at x = 1 is 1/2.
        let x = Tensor::<f64>::scalar(1.0).requires_grad();
        let y = x.log1p();
        assert_eq!(y.item(), 2f64.ln());
        y.backward();
        assert_eq!(x.grad().unwrap().item(), 0.5);
        check(
            "log1p",
            |t| t[0].log1p(),
            &[uniform_in(&[2, 3], -0.5, 3.0, 1)],
        );
    }
}
