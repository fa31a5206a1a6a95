//! `relu`: max(x, 0) elementwise, with NaN passed through (NaN in, NaN out).
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::from_vec(vec![-1.0, 0.0, 2.0, f32::NAN], &[4]).relu();
//! assert_eq!(x.to_vec()[..3], [0.0, 0.0, 2.0]);
//! assert!(x.to_vec()[3].is_nan());
//! ```

use smallvec::smallvec;

use super::{mask, unary, zip_elements};
use crate::forward::{Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// max(x, 0) elementwise. Unlike `f32::max`, which returns the non-NaN operand, NaN
    /// propagates, as in IEEE arithmetic and PyTorch.
    #[track_caller]
    pub fn relu(&self) -> Tensor<F> {
        // `x <= 0` is false for NaN, so NaN falls through to `x`.
        unary(
            Op::Relu,
            self,
            |x| if x <= F::zero() { F::zero() } else { x },
            &[Saved::Input(0)],
        )
    }
}

// y = max(x, 0): dy/dx = 1 for x > 0 and 0 for x < 0, so ∂L/∂x = ∂L/∂y ⊙ [x > 0]. Saved: x.
// NOTE: at x = 0 relu has no derivative; like PyTorch and tinygrad we take 0, and gradcheck
// samples points away from 0.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let x = ctx.saved(0);
    if !ctx.create_graph() && grad_out.shape() == x.shape() {
        // fast path: one pass, no mask array, when nothing records the rule (W6's two relus
        // on [32, 8, 28, 28] and [32, 16, 14, 14] allocated a mask each step)
        let (g, x) = (grad_out.value(), x.value());
        let grad_x = zip_elements(&g, &x, |g, x| if x > F::zero() { g } else { F::zero() });
        return smallvec![Some(Tensor::from_array(grad_x))];
    }
    smallvec![Some(grad_out.mul(&mask(&x, |x| x > F::zero())))]
}

// y = max(x, 0): ẏ = [x > 0] ⊙ ẋ (0 at x = 0, as backward).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    Some(
        dots[0]
            .as_ref()?
            .mul(&mask(ctx.input(0), |x| x > F::zero())),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn analytic_gradient_with_the_tie_at_zero() {
        // [x > 0] at x = [-1, 0, 2] is [0, 0, 1].
        let x = Tensor::<f64>::from_vec(vec![-1.0, 0.0, 2.0], &[3]).requires_grad();
        x.relu().sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.0, 1.0]);
    }

    #[test]
    fn gradcheck_away_from_zero() {
        check("relu", |t| t[0].relu(), &[away_from_zero(&[3, 4], 1)]);
    }
}
