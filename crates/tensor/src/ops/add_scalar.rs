//! `add_scalar`: x + c for a constant c — a primitive rather than `add` with a broadcast
//! constant, because `x + 1.0` is common and this way costs one node and no broadcast.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::from_vec(vec![1.0, 2.0], &[2]);
//! assert_eq!((&x + 1.0).to_vec(), vec![2.0, 3.0]);
//! ```

use smallvec::smallvec;

use super::unary;
use crate::forward::{Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// `self + c` elementwise; also `&x + c` and `&x - c`.
    #[track_caller]
    pub fn add_scalar(&self, c: F) -> Tensor<F> {
        unary(Op::AddScalar(c.as_f64()), self, |x| x + c, &[])
    }
}

// y = x + c: dy/dx = 1, so ∂L/∂x = ∂L/∂y.
pub(crate) fn backward<F: Float>(_ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    smallvec![Some(grad_out.clone())]
}

// y = x + c: ẏ = ẋ.
pub(crate) fn jvp<F: Float>(_ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    dots[0].clone()
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_and_gradcheck() {
        assert_eq!(
            Tensor::<f64>::from_vec(vec![1.0, -1.0], &[2])
                .add_scalar(0.5)
                .to_vec(),
            vec![1.5, -0.5]
        );
        check(
            "add_scalar",
            |t| t[0].add_scalar(3.0),
            &[uniform(&[3, 2], 1)],
        );
    }
}
