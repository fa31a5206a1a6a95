//! `tanh`: the hyperbolic tangent elementwise, in (−1, 1).
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! assert_eq!(Tensor::<f64>::scalar(0.0).tanh().item(), 0.0);
//! ```

use smallvec::smallvec;

use super::unary;
use crate::tape::{BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// tanh x elementwise.
    pub fn tanh(&self) -> Tensor<F> {
        unary(Op::Tanh, self, F::tanh, &[Saved::Output])
    }
}

// y = tanh x: dy/dx = 1 − tanh²x = 1 − y², so ∂L/∂x = ∂L/∂y ⊙ (1 − y²). Saved: y.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let y = ctx.saved(0);
    let slope = y.mul(&y).neg().add_scalar(F::one());
    smallvec![Some(grad_out.mul(&slope))]
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_analytic_and_gradcheck() {
        // d/dx tanh x at 0 is 1; tanh saturates without overflow at ±1e4.
        let x = Tensor::<f64>::scalar(0.0).requires_grad();
        x.tanh().backward();
        assert_eq!(x.grad().unwrap().item(), 1.0);
        assert_eq!(
            Tensor::<f32>::from_vec(vec![-1e4, 1e4], &[2])
                .tanh()
                .to_vec(),
            vec![-1.0, 1.0]
        );
        check(
            "tanh",
            |t| t[0].tanh(),
            &[uniform_in(&[2, 3], -3.0, 3.0, 1)],
        );
    }
}
