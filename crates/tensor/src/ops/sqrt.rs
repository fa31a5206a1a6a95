//! `sqrt`: √x elementwise; √0 = 0 and √(x < 0) = NaN.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! assert_eq!(Tensor::<f64>::from_vec(vec![4.0, 9.0], &[2]).sqrt().to_vec(), vec![2.0, 3.0]);
//! ```

use smallvec::smallvec;

use super::unary;
use crate::forward::{Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// √x elementwise (IEEE: exact rounding, NaN for negative x).
    #[track_caller]
    pub fn sqrt(&self) -> Tensor<F> {
        unary(Op::Sqrt, self, F::sqrt, &[Saved::Output])
    }
}

// y = √x: dy/dx = 1/(2√x) = 1/(2y), so ∂L/∂x = ∂L/∂y / (2y). Saved: y.
// NOTE: at x = 0 the slope is +inf (∂L/∂y · inf), as in PyTorch; gradcheck samples x > 0.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    smallvec![Some(
        grad_out.div(&ctx.saved(0).mul_scalar(F::from_f64(2.0)))
    )]
}

// y = √x: ẏ = ẋ / (2y).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    Some(
        dots[0]
            .as_ref()?
            .div(&ctx.output().mul_scalar(F::from_f64(2.0))),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_analytic_and_gradcheck() {
        // d/dx √x at x = 4 is 1/(2·2) = 0.25; at 0 it is +inf.
        let x = Tensor::<f64>::from_vec(vec![4.0, 0.0], &[2]).requires_grad();
        x.sqrt().sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.25, f64::INFINITY]);
        assert!(Tensor::<f64>::scalar(-1.0).sqrt().item().is_nan());
        check("sqrt", |t| t[0].sqrt(), &[uniform_in(&[2, 3], 0.1, 4.0, 1)]);
        check("sqrt", |t| t[0].sqrt(), &[uniform_in(&[0, 3], 0.1, 4.0, 2)]);
    }
}
