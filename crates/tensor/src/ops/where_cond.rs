//! `where_cond`: an elementwise choice between two tensors by a boolean mask, PyTorch's
//! `torch.where(cond, a, b)` (`where` is a Rust keyword; candle uses the same name), and the
//! composite `masked_fill`, PyTorch's `x.masked_fill(mask, value)`:
//!
//! ```text
//! where_cond(cond, a, b)ᵢ = aᵢ if condᵢ, else bᵢ        (cond, a and b broadcast together)
//! x.masked_fill(mask, v)ᵢ = v  if maskᵢ, else xᵢ        = where_cond(mask, v, x)
//! ```
//!
//! **Masks** are plain `ndarray::ArrayD<bool>`, as indices are plain `ArrayD<usize>`
//! (`gather`, `argmax`): a mask has no gradient, so it needs no tape and no tensor type of its
//! own. Make one with a comparison (`x.gt_scalar(0.0)`), with ndarray
//! (`x.value().mapv(|v| v > 0.0)`, `!&mask`, `&m1 & &m2`, `&m1 | &m2`), or with
//! [`tril_mask`](crate::tril_mask) for causal attention.
//!
//! A primitive (the architecture's `where`), because selecting cannot be built from the other
//! primitives: the composite cond·a + (1 − cond)·b is NaN wherever the branch *not* taken is
//! NaN or infinite, since 0·NaN = NaN and 0·∞ = NaN.
//!
//! The classic trap, `where(x > 0, sqrt(x), 0)`: both branches are computed, so sqrt(x) is NaN
//! at every x < 0 even though the output there is 0. This op's rule *selects*: the gradient it
//! sends into the branch not taken is exactly 0, whatever the incoming gradient holds. But the
//! NaN is still in the untaken branch's forward value, and sqrt's own rule then computes
//! ∂L/∂x = 0 / (2·NaN) = NaN — PyTorch gives NaN there too. The fix is the double `where`,
//! which keeps the NaN out of the forward pass: `where(x > 0, sqrt(where(x > 0, x, 1)), 0)`.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f64>::from_vec(vec![-1.0, 4.0], &[2]).requires_grad();
//! let positive = x.gt_scalar(0.0);
//! let safe = Tensor::where_cond(&positive, &x, &Tensor::scalar(1.0)); // no NaN inside
//! let y = Tensor::where_cond(&positive, &safe.sqrt(), &Tensor::scalar(0.0));
//! y.sum().backward();
//! assert_eq!(y.to_vec(), vec![0.0, 2.0]);
//! assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.25]); // ½/√4 where x > 0, exactly 0 elsewhere
//! let filled = x.detach().masked_fill(&positive, f64::NEG_INFINITY);
//! assert_eq!(filled.to_vec(), vec![-1.0, f64::NEG_INFINITY]);
//! ```

use std::sync::Arc;

use ndarray::{ArrayD, IxDyn, Zip};
use smallvec::smallvec;

use crate::error::{or_panic, Result};
use crate::forward::{Dots, JvpCtx};
use crate::shape::broadcast_shapes;
use crate::tape::{is_grad_enabled, record, BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// `a` where `cond` is true, `b` elsewhere; the three broadcast together (NumPy rules).
    ///
    /// # Errors
    /// `where_cond: cannot broadcast …` when the shapes do not broadcast.
    #[track_caller]
    pub fn try_where_cond(cond: &ArrayD<bool>, a: &Tensor<F>, b: &Tensor<F>) -> Result<Tensor<F>> {
        where_arc("where_cond", Arc::new(cond.clone()), a, b)
    }

    /// Panicking form of [`try_where_cond`](Self::try_where_cond).
    #[track_caller]
    pub fn where_cond(cond: &ArrayD<bool>, a: &Tensor<F>, b: &Tensor<F>) -> Tensor<F> {
        or_panic(Self::try_where_cond(cond, a, b))
    }

    /// `value` where `mask` is true, `self` elsewhere (PyTorch's out-of-place `masked_fill`;
    /// the mask and `self` broadcast together). A composite: `where_cond(mask, value, self)`,
    /// so the filled positions pass no gradient back to `self` — exactly 0, even for
    /// `value = −∞`.
    ///
    /// # Errors
    /// `masked_fill: cannot broadcast …` when the shapes do not broadcast.
    #[track_caller]
    pub fn try_masked_fill(&self, mask: &ArrayD<bool>, value: F) -> Result<Tensor<F>> {
        where_arc(
            "masked_fill",
            Arc::new(mask.clone()),
            &Tensor::scalar(value),
            self,
        )
    }

    /// Panicking form of [`try_masked_fill`](Self::try_masked_fill).
    #[track_caller]
    pub fn masked_fill(&self, mask: &ArrayD<bool>, value: F) -> Tensor<F> {
        or_panic(self.try_masked_fill(mask, value))
    }
}

/// The op itself, on a shared mask (the backward rule reuses its node's mask without copying).
#[track_caller]
pub(crate) fn where_arc<F: Float>(
    op: &'static str,
    cond: Arc<ArrayD<bool>>,
    a: &Tensor<F>,
    b: &Tensor<F>,
) -> Result<Tensor<F>> {
    let shape = broadcast_shapes(op, cond.shape(), a.shape())?;
    let shape = broadcast_shapes(op, &shape, b.shape())?;
    // A tracked operand that must stretch gets an explicit broadcast node (whose rule sums
    // its gradient back); constants are stretched by ndarray's views below.
    let stretch = |t: &Tensor<F>| {
        if t.is_tracked() && is_grad_enabled() && t.shape() != shape.as_slice() {
            t.try_broadcast_to(&shape)
        } else {
            Ok(t.clone())
        }
    };
    let (a, b) = (stretch(a)?, stretch(b)?);
    let (a_value, b_value) = (a.value(), b.value());
    let dim = IxDyn(&shape);
    let out = Zip::from(cond.broadcast(dim.clone()).expect("checked"))
        .and(a_value.broadcast(dim.clone()).expect("checked"))
        .and(b_value.broadcast(dim).expect("checked"))
        .map_collect(|&c, &x, &y| if c { x } else { y });
    record(Op::WhereCond { cond }, &[&a, &b], out, &[])
}

// out = cond ? a : b, so ∂out/∂a = [cond] and ∂out/∂b = [¬cond]:
//   ∂L/∂a = cond ? ∂L/∂out : 0        ∂L/∂b = cond ? 0 : ∂L/∂out
// Both are this same op with a constant zero, so they can be differentiated again.
// NOTE: the rule selects; it never multiplies by a 0/1 mask. ∂L/∂out may hold NaN or ±∞ at a
// position (a fully masked softmax row upstream, say), and 0·NaN = NaN would leak it into the
// branch that was not taken. Selected, that branch gets exactly 0.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::WhereCond { cond } = ctx.op else {
        unreachable!("where_cond rule on {:?}", ctx.op)
    };
    let zero = Tensor::scalar(F::zero());
    let pick = |a: &Tensor<F>, b: &Tensor<F>| or_panic(where_arc("where_cond", cond.clone(), a, b));
    smallvec![
        ctx.needs_grad(0).then(|| pick(grad_out, &zero)),
        ctx.needs_grad(1).then(|| pick(&zero, grad_out)),
    ]
}

// out = cond ? a : b: ȯut = cond ? ȧ : ḃ (selected, never masked, as backward).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::WhereCond { cond } = ctx.op else {
        unreachable!("where_cond rule on {:?}", ctx.op)
    };
    let zero = Tensor::scalar(F::zero());
    let (da, db) = (
        dots[0].clone().unwrap_or_else(|| zero.clone()),
        dots[1].clone().unwrap_or(zero),
    );
    Some(or_panic(where_arc("where_cond", cond.clone(), &da, &db)))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::{grad, Tensor};
    use ndarray::{arr1, arr2, ArrayD};

    fn mask(values: &[bool], shape: &[usize]) -> ArrayD<bool> {
        ArrayD::from_shape_vec(shape, values.to_vec()).unwrap()
    }

    #[test]
    fn values_with_broadcasting() {
        // cond [2, 1] picks whole rows: row 0 from a = [[1, 2, 3]], row 1 from b = 9.
        let cond = mask(&[true, false], &[2, 1]);
        let a = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0], &[1, 3]);
        let y = Tensor::where_cond(&cond, &a, &Tensor::scalar(9.0));
        assert_eq!(y.shape(), &[2, 3]);
        assert_eq!(y.to_vec(), vec![1.0, 2.0, 3.0, 9.0, 9.0, 9.0]);
        // masked_fill broadcasts the mask too: [3] filled by a [2, 3] mask is [2, 3].
        let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0], &[3]);
        let m = arr2(&[[true, false, true], [false, false, true]]).into_dyn();
        assert_eq!(
            x.masked_fill(&m, -1.0).to_vec(),
            vec![-1.0, 2.0, -1.0, 1.0, 2.0, -1.0]
        );
        let err = Tensor::try_where_cond(&mask(&[true; 2], &[2]), &x, &x).unwrap_err();
        assert_eq!(
            err.to_string(),
            "where_cond: cannot broadcast [2] with [3]: dimension 0 is 2 vs 3"
        );
        assert!(x.try_masked_fill(&mask(&[true; 4], &[4]), 0.0).is_err());
    }

    #[test]
    fn analytic_gradient_selects_and_sums_broadcasts() {
        // y = where(cond, a, b) with cond = [[T, F], [F, F]], a [2, 2], b a scalar broadcast:
        // ∂Σy/∂a = cond = [[1, 0], [0, 0]], ∂Σy/∂b = number of false entries = 3.
        let cond = arr2(&[[true, false], [false, false]]).into_dyn();
        let a = Tensor::<f64>::zeros(&[2, 2]).requires_grad();
        let b = Tensor::<f64>::scalar(5.0).requires_grad();
        Tensor::where_cond(&cond, &a, &b).sum().backward();
        assert_eq!(a.grad().unwrap().to_vec(), vec![1.0, 0.0, 0.0, 0.0]);
        assert_eq!(b.grad().unwrap().item(), 3.0);
    }

    #[test]
    fn the_sqrt_trap() {
        // where(x > 0, sqrt(x), 0) at x = [−1, 4]. The forward of the untaken branch,
        // sqrt(−1), is NaN; the output is not.
        let x = Tensor::<f64>::from_vec(vec![-1.0, 4.0], &[2]).requires_grad();
        let positive = x.gt_scalar(0.0);
        let root = x.sqrt();
        assert!(root.to_vec()[0].is_nan());
        let y = Tensor::where_cond(&positive, &root, &Tensor::scalar(0.0));
        assert_eq!(y.to_vec(), vec![0.0, 2.0]);
        // What where sends into the branch not taken is exactly 0, not NaN …
        let g = grad(&y.sum(), &[&root, &x], false).unwrap();
        assert_eq!(g[0].to_vec(), vec![0.0, 1.0]);
        // … but sqrt's own rule then divides that 0 by 2·sqrt(−1) = NaN: ∂L/∂x[0] is NaN, as in
        // PyTorch (`torch.where(x > 0, x.sqrt(), 0.)` gives x.grad = [nan, 0.25]).
        assert!(g[1].to_vec()[0].is_nan());
        assert_eq!(g[1].to_vec()[1], 0.25);
        // The double where keeps the NaN out of the forward pass: exactly 0.
        let x = Tensor::<f64>::from_vec(vec![-1.0, 4.0], &[2]).requires_grad();
        let safe = Tensor::where_cond(&positive, &x, &Tensor::scalar(1.0));
        Tensor::where_cond(&positive, &safe.sqrt(), &Tensor::scalar(0.0))
            .sum()
            .backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.25]);
    }

    #[test]
    fn an_untaken_branch_gets_exactly_zero_even_from_a_nan_gradient() {
        // The incoming gradient is NaN and ∞ where cond picks a; multiplying by the mask
        // [¬cond] = 0 would give b NaN there. Selecting gives exactly 0.
        let cond = arr1(&[true, true, false]).into_dyn();
        let a = Tensor::<f64>::zeros(&[3]).requires_grad();
        let b = Tensor::<f64>::zeros(&[3]).requires_grad();
        let y = Tensor::where_cond(&cond, &a, &b);
        let upstream = Tensor::from_vec(vec![f64::NAN, f64::INFINITY, 2.0], &[3]);
        y.backward_with(&upstream);
        assert_eq!(b.grad().unwrap().to_vec(), vec![0.0, 0.0, 2.0]);
        let ga = a.grad().unwrap().to_vec();
        assert!(ga[0].is_nan() && ga[1] == f64::INFINITY && ga[2] == 0.0);
        // masked_fill with −∞: the filled positions give x exactly 0.
        let x = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2]).requires_grad();
        let filled = x.masked_fill(&arr1(&[true, false]).into_dyn(), f64::NEG_INFINITY);
        filled.backward_with(&Tensor::from_vec(vec![f64::NAN, 3.0], &[2]));
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 3.0]);
    }

    #[test]
    fn gradcheck_with_broadcasting() {
        let cond = |shape: &[usize], seed| uniform(shape, seed).mapv(|v| v > 0.0);
        for (i, (lhs, rhs)) in BROADCAST_CASES.iter().enumerate() {
            let c = cond(lhs, 10 + i as u64);
            let inputs = [uniform(lhs, 20 + i as u64), uniform(rhs, 30 + i as u64)];
            check(
                "where_cond",
                |t| Tensor::where_cond(&c, &t[0], &t[1]),
                &inputs,
            );
            check_second_order(
                "where_cond",
                |t| Tensor::where_cond(&c, &(&t[0] * &t[0]), &t[1].sin()),
                &inputs,
            );
        }
        // The mask alone stretches both operands.
        let c = cond(&[2, 3, 1], 40);
        check(
            "where_cond",
            |t| Tensor::where_cond(&c, &t[0], &t[1]),
            &[uniform(&[3, 4], 41), uniform(&[1], 42)],
        );
        check(
            "masked_fill",
            |t| t[0].masked_fill(&c, -3.0),
            &[uniform(&[3, 4], 43)],
        );
    }
}
