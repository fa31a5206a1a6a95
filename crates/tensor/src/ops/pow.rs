//! `pow`: aᵇ elementwise, both operands tensors, with NumPy broadcasting. For a constant
//! exponent use [`powf`](crate::Tensor::powf), which records one node and no broadcast.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let a = Tensor::<f64>::from_vec(vec![2.0, 3.0], &[2]);
//! let b = Tensor::<f64>::from_vec(vec![3.0, 2.0], &[2]);
//! assert_eq!(a.pow(&b).to_vec(), vec![8.0, 9.0]);
//! ```

use smallvec::smallvec;

use super::{binary, mask};
use crate::error::{or_panic, Result};
use crate::forward::{add_dots, Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// `self ^ exponent` elementwise, broadcasting both (IEEE `pow`: a negative base with a
    /// non-integer exponent gives NaN).
    ///
    /// # Errors
    /// `pow: cannot broadcast …` when the shapes do not broadcast.
    #[track_caller]
    pub fn try_pow(&self, exponent: &Tensor<F>) -> Result<Tensor<F>> {
        let saved = [Saved::Input(0), Saved::Input(1), Saved::Output];
        binary(Op::Pow, self, exponent, F::powf, &saved)
    }

    /// Panicking form of [`try_pow`](Self::try_pow).
    #[track_caller]
    pub fn pow(&self, exponent: &Tensor<F>) -> Tensor<F> {
        or_panic(self.try_pow(exponent))
    }
}

// z = aᵇ: ∂z/∂a = b·aᵇ⁻¹ and ∂z/∂b = aᵇ·ln a = z·ln a. Saved: a, b, z.
// NOTE: ln a is −inf at a = 0 and NaN for a < 0. Like PyTorch we take ∂z/∂b = 0 where a = 0
// (z is 0 or 1 there, flat in b for b > 0), computing ln(a + [a = 0]) = ln 1 = 0 there, and
// leave NaN for negative bases, where aᵇ is not differentiable in b.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let (a, b) = (ctx.saved(0), ctx.saved(1));
    let grad_a = ctx
        .needs_grad(0)
        .then(|| grad_out.mul(&b).mul(&a.pow(&b.add_scalar(-F::one()))));
    let grad_b = ctx.needs_grad(1).then(|| {
        let safe_a = a.add(&mask(&a, |x| x == F::zero()));
        grad_out.mul(&ctx.saved(2)).mul(&safe_a.ln())
    });
    smallvec![grad_a, grad_b]
}

// z = aᵇ: ż = b·aᵇ⁻¹ ⊙ ȧ + z·ln a ⊙ ḃ, with ln a read as 0 where a = 0 (as backward does).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let (a, b) = (ctx.input(0), ctx.input(1));
    let da = dots[0]
        .as_ref()
        .map(|da| da.mul(b).mul(&a.pow(&b.add_scalar(-F::one()))));
    let db = dots[1].as_ref().map(|db| {
        let safe_a = a.add(&mask(a, |x| x == F::zero()));
        db.mul(ctx.output()).mul(&safe_a.ln())
    });
    add_dots(da, db)
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_and_analytic_gradient() {
        // z = aᵇ at a = 2, b = 3: z = 8, ∂z/∂a = 3·2² = 12, ∂z/∂b = 8·ln 2.
        let a = Tensor::<f64>::scalar(2.0).requires_grad();
        let b = Tensor::<f64>::scalar(3.0).requires_grad();
        let z = a.pow(&b);
        assert_eq!(z.item(), 8.0);
        z.backward();
        assert_eq!(a.grad().unwrap().item(), 12.0);
        assert!((b.grad().unwrap().item() - 8.0 * 2f64.ln()).abs() < 1e-12);
    }

    #[test]
    fn zero_base_gives_a_zero_exponent_gradient() {
        // 0ᵇ = 0 for b > 0 whatever b is, so ∂z/∂b = 0 (not NaN from 0·ln 0).
        let a = Tensor::<f64>::scalar(0.0).requires_grad();
        let b = Tensor::<f64>::scalar(2.0).requires_grad();
        a.pow(&b).backward();
        assert_eq!(b.grad().unwrap().item(), 0.0);
        assert_eq!(a.grad().unwrap().item(), 0.0); // 2·0¹
    }

    #[test]
    fn gradcheck_with_broadcasting() {
        for (i, (lhs, rhs)) in BROADCAST_CASES.iter().enumerate() {
            let inputs = [
                uniform_in(lhs, 0.5, 2.0, 70 + i as u64),
                uniform(rhs, 80 + i as u64),
            ];
            check("pow", |t| t[0].pow(&t[1]), &inputs);
        }
    }
}
