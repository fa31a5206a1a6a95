//! `mul_scalar`: c·x for a constant c — a primitive for the same reason as `add_scalar`.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::from_vec(vec![1.0, 2.0], &[2]);
//! assert_eq!((&x * 3.0).to_vec(), vec![3.0, 6.0]);
//! ```

use smallvec::smallvec;

use super::unary;
use crate::forward::{Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// `c · self` elementwise; also `&x * c` and `&x / c`.
    #[track_caller]
    pub fn mul_scalar(&self, c: F) -> Tensor<F> {
        unary(Op::MulScalar(c.as_f64()), self, |x| x * c, &[])
    }
}

// y = c·x: dy/dx = c, so ∂L/∂x = c·∂L/∂y.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::MulScalar(c) = ctx.op else {
        unreachable!("mul_scalar rule on {:?}", ctx.op)
    };
    smallvec![Some(grad_out.mul_scalar(F::from_f64(*c)))]
}

// y = c·x: ẏ = c·ẋ.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::MulScalar(c) = ctx.op else {
        unreachable!("mul_scalar rule on {:?}", ctx.op)
    };
    Some(dots[0].as_ref()?.mul_scalar(F::from_f64(*c)))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_analytic_and_gradcheck() {
        // y = 3x: dy/dx = 3.
        let x = Tensor::<f64>::from_vec(vec![1.0, -2.0], &[2]).requires_grad();
        let y = x.mul_scalar(3.0);
        assert_eq!(y.to_vec(), vec![3.0, -6.0]);
        y.sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![3.0, 3.0]);
        check("mul_scalar", |t| t[0].mul_scalar(-0.5), &[uniform(&[4], 1)]);
    }
}
