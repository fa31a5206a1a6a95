//! `maximum` and `minimum`: elementwise larger / smaller of two tensors, with broadcasting
//! and NaN propagation (a NaN in either operand gives NaN, as in NumPy and PyTorch — unlike
//! Rust's `f64::max`, which returns the other operand).
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let a = Tensor::<f32>::from_vec(vec![1.0, 5.0, f32::NAN], &[3]);
//! let b = Tensor::<f32>::from_vec(vec![3.0, 2.0, 0.0], &[3]);
//! let m = a.maximum(&b).to_vec();
//! assert_eq!(m[..2], [3.0, 5.0]);
//! assert!(m[2].is_nan());
//! assert_eq!(a.minimum(&b).to_vec()[..2], [1.0, 2.0]);
//! ```

use smallvec::smallvec;

use super::{binary, zip_map};
use crate::error::{or_panic, Result};
use crate::forward::{add_dots, Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

/// max(x, y) that returns NaN when either is NaN.
fn max_nan<F: Float>(x: F, y: F) -> F {
    if x.is_nan() || x >= y {
        x
    } else {
        y // y > x, or y is NaN
    }
}

impl<F: Float> Tensor<F> {
    /// The elementwise maximum, broadcasting both.
    ///
    /// # Errors
    /// `maximum: cannot broadcast …` when the shapes do not broadcast.
    #[track_caller]
    pub fn try_maximum(&self, rhs: &Tensor<F>) -> Result<Tensor<F>> {
        let saved = [Saved::Input(0), Saved::Input(1)];
        binary(Op::Maximum, self, rhs, max_nan, &saved)
    }

    /// Panicking form of [`try_maximum`](Self::try_maximum).
    #[track_caller]
    pub fn maximum(&self, rhs: &Tensor<F>) -> Tensor<F> {
        or_panic(self.try_maximum(rhs))
    }

    /// The elementwise minimum, broadcasting both — a composite, −maximum(−a, −b), so its
    /// gradient flows to the smaller operand, split ½–½ on ties.
    ///
    /// # Errors
    /// `maximum: cannot broadcast …` when the shapes do not broadcast.
    #[track_caller]
    pub fn try_minimum(&self, rhs: &Tensor<F>) -> Result<Tensor<F>> {
        Ok(self.neg().try_maximum(&rhs.neg())?.neg())
    }

    /// Panicking form of [`try_minimum`](Self::try_minimum).
    #[track_caller]
    pub fn minimum(&self, rhs: &Tensor<F>) -> Tensor<F> {
        or_panic(self.try_minimum(rhs))
    }
}

// z = max(a, b): ∂z/∂a = [a > b] and ∂z/∂b = [b > a], so each operand gets ∂L/∂z where it
// is the larger one. Saved: a, b.
// NOTE: at a tie the maximum has no derivative; like PyTorch we split it, ½ to each operand,
// so that maximum(x, x) still has derivative 1. Where a value is NaN neither side gets a
// gradient (every comparison with NaN is false).
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let (a, b) = (ctx.saved(0).value(), ctx.saved(1).value());
    let grad_a = ctx
        .needs_grad(0)
        .then(|| grad_out.mul(&Tensor::from_array(zip_map(&a, &b, share))));
    let grad_b = ctx
        .needs_grad(1)
        .then(|| grad_out.mul(&Tensor::from_array(zip_map(&b, &a, share))));
    smallvec![grad_a, grad_b]
}

// z = max(a, b): ż = [a > b] ⊙ ȧ + [b > a] ⊙ ḃ, ties ½ each (the transpose of backward's split).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let (a, b) = (ctx.input(0).value(), ctx.input(1).value());
    let da = dots[0]
        .as_ref()
        .map(|da| da.mul(&Tensor::from_array(zip_map(&a, &b, share))));
    let db = dots[1]
        .as_ref()
        .map(|db| db.mul(&Tensor::from_array(zip_map(&b, &a, share))));
    add_dots(da, db)
}

/// x's share of the gradient of max(x, y): 1 where x wins, ½ at a tie, 0 where y wins (and
/// where either is NaN).
fn share<F: Float>(x: F, y: F) -> F {
    if x > y {
        F::one()
    } else if x == y {
        F::from_f64(0.5)
    } else {
        F::zero()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn nan_propagates_from_either_side() {
        let a = Tensor::<f64>::from_vec(vec![f64::NAN, 1.0], &[2]);
        let b = Tensor::<f64>::from_vec(vec![1.0, f64::NAN], &[2]);
        assert!(a.maximum(&b).to_vec().iter().all(|x| x.is_nan()));
        assert!(a.minimum(&b).to_vec().iter().all(|x| x.is_nan()));
    }

    #[test]
    fn analytic_gradient_with_a_tie() {
        // max([1, 5, 2], [3, 2, 2]): a wins at 1, b at 0, tie at 2 → ∂a = [0, 1, ½], ∂b = [1, 0, ½].
        let a = Tensor::<f64>::from_vec(vec![1.0, 5.0, 2.0], &[3]).requires_grad();
        let b = Tensor::<f64>::from_vec(vec![3.0, 2.0, 2.0], &[3]).requires_grad();
        a.maximum(&b).sum().backward();
        assert_eq!(a.grad().unwrap().to_vec(), vec![0.0, 1.0, 0.5]);
        assert_eq!(b.grad().unwrap().to_vec(), vec![1.0, 0.0, 0.5]);
        // maximum(x, x) = x has derivative ½ + ½ = 1.
        let x = Tensor::<f64>::scalar(4.0).requires_grad();
        x.maximum(&x).backward();
        assert_eq!(x.grad().unwrap().item(), 1.0);
    }

    #[test]
    fn gradcheck_with_broadcasting() {
        // Independent uniform samples almost surely never tie.
        for (i, (lhs, rhs)) in BROADCAST_CASES.iter().enumerate() {
            let inputs = [uniform(lhs, 90 + i as u64), uniform(rhs, 100 + i as u64)];
            check("maximum", |t| t[0].maximum(&t[1]), &inputs);
            check("minimum", |t| t[0].minimum(&t[1]), &inputs);
        }
    }
}
