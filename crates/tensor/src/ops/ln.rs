//! `ln` (alias `log`): the natural logarithm elementwise; ln(0) = −inf and ln(x < 0) = NaN.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! assert_eq!(Tensor::<f64>::scalar(1.0).ln().item(), 0.0);
//! ```

use smallvec::smallvec;

use super::unary;
use crate::forward::{Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// ln x elementwise.
    #[track_caller]
    pub fn ln(&self) -> Tensor<F> {
        unary(Op::Ln, self, F::ln, &[Saved::Input(0)])
    }

    /// The natural logarithm, as NumPy and PyTorch name it; the same op as [`ln`](Self::ln).
    #[track_caller]
    pub fn log(&self) -> Tensor<F> {
        self.ln()
    }
}

// y = ln x: dy/dx = 1/x, so ∂L/∂x = ∂L/∂y / x. Saved: x.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    smallvec![Some(grad_out.div(&ctx.saved(0)))]
}

// y = ln x: ẏ = ẋ / x.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    Some(dots[0].as_ref()?.div(ctx.input(0)))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_analytic_and_gradcheck() {
        // d/dx ln x at x = 4 is 1/4.
        let x = Tensor::<f64>::scalar(4.0).requires_grad();
        x.log().backward();
        assert_eq!(x.grad().unwrap().item(), 0.25);
        assert_eq!(Tensor::<f64>::scalar(0.0).ln().item(), f64::NEG_INFINITY);
        check("ln", |t| t[0].ln(), &[uniform_in(&[2, 3], 0.1, 3.0, 1)]);
    }
}
