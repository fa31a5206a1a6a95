//! `div`: elementwise quotient with NumPy broadcasting (IEEE: x/0 is ±inf or NaN).
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let a = Tensor::<f32>::from_vec(vec![1.0, 3.0], &[2]);
//! assert_eq!(a.div(&Tensor::scalar(2.0)).to_vec(), vec![0.5, 1.5]);
//! ```

use smallvec::smallvec;

use super::binary;
use crate::error::{or_panic, Result};
use crate::forward::{add_dots, Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// `self / rhs` elementwise, broadcasting both.
    ///
    /// # Errors
    /// `div: cannot broadcast …` when the shapes do not broadcast.
    #[track_caller]
    pub fn try_div(&self, rhs: &Tensor<F>) -> Result<Tensor<F>> {
        let saved = [Saved::Input(1), Saved::Output];
        binary(Op::Div, self, rhs, |a, b| a / b, &saved)
    }

    /// Panicking form of [`try_div`](Self::try_div); also `&a / &b`.
    #[track_caller]
    pub fn div(&self, rhs: &Tensor<F>) -> Tensor<F> {
        or_panic(self.try_div(rhs))
    }
}

// z = x / y: ∂z/∂x = 1/y and ∂z/∂y = −x/y² = −z/y, so
// ∂L/∂x = ∂L/∂z / y and ∂L/∂y = −∂L/∂z ⊙ z / y. Saved: y, z.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let y = ctx.saved(0);
    let grad_x = ctx.needs_grad(0).then(|| grad_out.div(&y));
    let grad_y = ctx
        .needs_grad(1)
        .then(|| -(grad_out.mul(&ctx.saved(1)).div(&y)));
    smallvec![grad_x, grad_y]
}

// z = x / y: ż = ẋ / y − z ⊙ ẏ / y.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let y = ctx.input(1);
    let dx = dots[0].as_ref().map(|dx| dx.div(y));
    let dy = dots[1].as_ref().map(|dy| -(ctx.output().mul(dy).div(y)));
    add_dots(dx, dy)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value() {
        // [1, 2, 3] / [2] = [0.5, 1, 1.5]; 1/0 = inf
        let a = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0], &[3]);
        assert_eq!(
            a.div(&Tensor::from_vec(vec![2.0], &[1])).to_vec(),
            vec![0.5, 1.0, 1.5]
        );
        assert_eq!(
            Tensor::<f64>::scalar(1.0).div(&Tensor::scalar(0.0)).item(),
            f64::INFINITY
        );
    }

    #[test]
    fn analytic_gradient() {
        // z = x / y at x = 3, y = 2: ∂z/∂x = 1/2, ∂z/∂y = −3/4.
        let x = Tensor::<f64>::scalar(3.0).requires_grad();
        let y = Tensor::<f64>::scalar(2.0).requires_grad();
        x.div(&y).backward();
        assert_eq!(x.grad().unwrap().item(), 0.5);
        assert_eq!(y.grad().unwrap().item(), -0.75);
    }

    #[test]
    fn gradcheck_with_broadcasting() {
        for (i, (lhs, rhs)) in BROADCAST_CASES.iter().enumerate() {
            let inputs = [
                uniform(lhs, 30 + i as u64),
                away_from_zero(rhs, 40 + i as u64),
            ];
            check("div", |t| t[0].div(&t[1]), &inputs);
        }
    }
}
