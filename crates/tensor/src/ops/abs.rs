//! `abs`: |x| elementwise.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! assert_eq!(Tensor::<f32>::from_vec(vec![-2.0, 3.0], &[2]).abs().to_vec(), vec![2.0, 3.0]);
//! ```

use smallvec::smallvec;

use super::unary;
use crate::forward::{Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// |x| elementwise (NaN stays NaN).
    #[track_caller]
    pub fn abs(&self) -> Tensor<F> {
        unary(Op::Abs, self, F::abs, &[Saved::Input(0)])
    }
}

/// sign(x): −1, 0 or 1 (0 at ±0, NaN for NaN), as a constant.
#[track_caller]
pub(crate) fn sign<F: Float>(x: &Tensor<F>) -> Tensor<F> {
    let s = |v: F| {
        if v > F::zero() {
            F::one()
        } else if v < F::zero() {
            -F::one()
        } else {
            v * F::zero() // 0 for ±0, NaN for NaN
        }
    };
    Tensor::from_array(x.value().mapv(s))
}

// y = |x|: dy/dx = sign(x), so ∂L/∂x = ∂L/∂y ⊙ sign(x). Saved: x.
// NOTE: |x| has no derivative at 0; we take 0 there (the subgradient PyTorch uses).
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    smallvec![Some(grad_out.mul(&sign(&ctx.saved(0))))]
}

// y = |x|: ẏ = sign(x) ⊙ ẋ (0 at x = 0, as backward).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    Some(dots[0].as_ref()?.mul(&sign(ctx.input(0))))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_analytic_and_gradcheck() {
        // sign([-2, 0, 3]) = [-1, 0, 1]
        let x = Tensor::<f64>::from_vec(vec![-2.0, 0.0, 3.0], &[3]).requires_grad();
        let y = x.abs();
        assert_eq!(y.to_vec(), vec![2.0, 0.0, 3.0]);
        y.sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![-1.0, 0.0, 1.0]);
        assert!(Tensor::<f64>::scalar(f64::NAN).abs().item().is_nan());
        check("abs", |t| t[0].abs(), &[away_from_zero(&[3, 4], 1)]);
    }
}
