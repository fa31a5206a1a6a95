//! `sub`: elementwise difference with broadcasting — a composite, `x − y = x + (−1)·y`.
//!
//! The tape records `mul_scalar` and `add`, so the gradient it produces is
//! ∂L/∂x = ∂L/∂z and ∂L/∂y = −∂L/∂z, each summed back over broadcast axes.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let a = Tensor::<f32>::from_vec(vec![5.0, 7.0], &[2]);
//! assert_eq!(a.sub(&Tensor::scalar(1.0)).to_vec(), vec![4.0, 6.0]);
//! ```

use crate::error::{or_panic, Result};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// `self − rhs`, broadcasting both.
    ///
    /// # Errors
    /// `sub: cannot broadcast …` when the shapes do not broadcast.
    #[track_caller]
    pub fn try_sub(&self, rhs: &Tensor<F>) -> Result<Tensor<F>> {
        crate::shape::broadcast_shapes("sub", self.shape(), rhs.shape())?;
        self.try_add(&rhs.neg())
    }

    /// Panicking form of [`try_sub`](Self::try_sub); also `&a - &b`.
    #[track_caller]
    pub fn sub(&self, rhs: &Tensor<F>) -> Tensor<F> {
        or_panic(self.try_sub(rhs))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_and_analytic_gradient() {
        // z = x − y: ∂Σz/∂x = 1, ∂Σz/∂y = −1 (times 2 for y broadcast over 2 rows).
        let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).requires_grad();
        let y = Tensor::<f64>::from_vec(vec![1.0, 1.0], &[2]).requires_grad();
        let z = x.sub(&y);
        assert_eq!(z.to_vec(), vec![0.0, 1.0, 2.0, 3.0]);
        z.sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![1.0; 4]);
        assert_eq!(y.grad().unwrap().to_vec(), vec![-2.0, -2.0]);
    }

    #[test]
    fn gradcheck_with_broadcasting() {
        for (i, (lhs, rhs)) in BROADCAST_CASES.iter().enumerate() {
            let inputs = [uniform(lhs, 50 + i as u64), uniform(rhs, 60 + i as u64)];
            check("sub", |t| t[0].sub(&t[1]), &inputs);
        }
        let err = Tensor::<f32>::zeros(&[2])
            .try_sub(&Tensor::zeros(&[3]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "sub: cannot broadcast [2] with [3]: dimension 0 is 2 vs 3"
        );
    }
}
