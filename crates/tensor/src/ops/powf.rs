//! `powf`: xᵖ elementwise for a constant exponent p.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! assert_eq!(Tensor::<f64>::from_vec(vec![2.0, 3.0], &[2]).powf(2.0).to_vec(), vec![4.0, 9.0]);
//! ```

use smallvec::smallvec;

use super::unary;
use crate::forward::{Dots, JvpCtx};
use crate::tape::{BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// xᵖ elementwise (IEEE `pow`: a negative x with a non-integer p gives NaN).
    #[track_caller]
    pub fn powf(&self, p: F) -> Tensor<F> {
        unary(
            Op::PowScalar(p.as_f64()),
            self,
            |x| x.powf(p),
            &[Saved::Input(0)],
        )
    }
}

// y = xᵖ: dy/dx = p·xᵖ⁻¹, so ∂L/∂x = ∂L/∂y ⊙ p·xᵖ⁻¹. Saved: x.
// NOTE: for p = 0 the gradient is 0 everywhere; computing 0·x⁻¹ would give NaN at x = 0.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::PowScalar(p) = ctx.op else {
        unreachable!("powf rule on {:?}", ctx.op)
    };
    if *p == 0.0 {
        return smallvec![Some(grad_out.mul_scalar(F::zero()))];
    }
    let p = F::from_f64(*p);
    let slope = ctx.saved(0).powf(p - F::one()).mul_scalar(p);
    smallvec![Some(grad_out.mul(&slope))]
}

// y = xᵖ: ẏ = p·xᵖ⁻¹ ⊙ ẋ (0 for p = 0, as backward).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::PowScalar(p) = ctx.op else {
        unreachable!("powf rule on {:?}", ctx.op)
    };
    let dx = dots[0].as_ref()?;
    if *p == 0.0 {
        return Some(dx.mul_scalar(F::zero()));
    }
    let p = F::from_f64(*p);
    Some(dx.mul(&ctx.input(0).powf(p - F::one()).mul_scalar(p)))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn value_analytic_and_gradcheck() {
        // d/dx x³ at x = 2 is 3·2² = 12.
        let x = Tensor::<f64>::scalar(2.0).requires_grad();
        let y = x.powf(3.0);
        assert_eq!(y.item(), 8.0);
        y.backward();
        assert_eq!(x.grad().unwrap().item(), 12.0);
        check("powf", |t| t[0].powf(3.0), &[uniform(&[2, 3], 1)]);
        check(
            "powf",
            |t| t[0].powf(-1.5),
            &[uniform_in(&[4], 0.5, 2.0, 2)],
        );
        check("powf", |t| t[0].powf(0.0), &[uniform(&[3], 3)]);
    }
}
