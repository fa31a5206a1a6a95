//! `add`: elementwise sum with NumPy broadcasting.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let a = Tensor::<f32>::from_vec(vec![1.0, 2.0], &[2, 1]);
//! let b = Tensor::<f32>::from_vec(vec![10.0, 20.0, 30.0], &[3]);
//! assert_eq!(a.add(&b).to_vec(), vec![11.0, 21.0, 31.0, 12.0, 22.0, 32.0]); // [2, 3]
//! ```

use smallvec::smallvec;

use super::binary;
use crate::error::{or_panic, Result};
use crate::forward::{add_dots, Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// `self + rhs`, broadcasting both.
    ///
    /// # Errors
    /// `add: cannot broadcast [3, 4] with [2, 4]: …` when the shapes do not broadcast.
    #[track_caller]
    pub fn try_add(&self, rhs: &Tensor<F>) -> Result<Tensor<F>> {
        binary(Op::Add, self, rhs, |a, b| a + b, &[])
    }

    /// Panicking form of [`try_add`](Self::try_add); also `&a + &b`.
    #[track_caller]
    pub fn add(&self, rhs: &Tensor<F>) -> Tensor<F> {
        or_panic(self.try_add(rhs))
    }
}

// z = x + y (same shapes after broadcasting): ∂z/∂x = ∂z/∂y = 1, so both inputs receive
// grad_out unchanged.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    smallvec![
        ctx.needs_grad(0).then(|| grad_out.clone()),
        ctx.needs_grad(1).then(|| grad_out.clone()),
    ]
}

// z = x + y: ż = ẋ + ẏ.
pub(crate) fn jvp<F: Float>(_ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    add_dots(dots[0].clone(), dots[1].clone())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value() {
        // [[1], [2]] + [10, 20] = [[11, 21], [12, 22]]
        let a = Tensor::<f64>::from_vec(vec![1.0, 2.0], &[2, 1]);
        let b = Tensor::<f64>::from_vec(vec![10.0, 20.0], &[2]);
        assert_eq!(a.add(&b).to_vec(), vec![11.0, 21.0, 12.0, 22.0]);
    }

    #[test]
    fn analytic_gradient_sums_over_broadcast_axes() {
        // z = a + b with a [2, 3], b [3]: ∂Σz/∂a = 1, ∂Σz/∂b = 2 (each b used by 2 rows).
        let a = Tensor::<f64>::ones(&[2, 3]).requires_grad();
        let b = Tensor::<f64>::ones(&[3]).requires_grad();
        a.add(&b).sum().backward();
        assert_eq!(a.grad().unwrap().to_vec(), vec![1.0; 6]);
        assert_eq!(b.grad().unwrap().to_vec(), vec![2.0; 3]);
    }

    #[test]
    fn gradcheck_with_broadcasting() {
        for (i, (lhs, rhs)) in BROADCAST_CASES.iter().enumerate() {
            let inputs = [uniform(lhs, 2 * i as u64), uniform(rhs, 2 * i as u64 + 1)];
            check("add", |t| t[0].add(&t[1]), &inputs);
        }
    }

    #[test]
    fn shape_error_names_op_and_shapes() {
        let err = Tensor::<f32>::zeros(&[3, 4])
            .try_add(&Tensor::zeros(&[2, 4]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "add: cannot broadcast [3, 4] with [2, 4]: dimension 0 is 3 vs 2"
        );
    }
}
