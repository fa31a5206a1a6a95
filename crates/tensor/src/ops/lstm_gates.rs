//! `lstm_gates`: the four nonlinearities of an LSTM cell in one pass. The last axis of the
//! pre-activation `a` is four blocks of H, PyTorch's gate order i, f, g, o; the sigmoid is
//! applied to blocks i, f and o, tanh to block g:
//!
//! ```text
//! y = [σ(a_i), σ(a_f), tanh(a_g), σ(a_o)]          σ(x) = ½·(tanh(x/2) + 1)
//! ```
//!
//! The same values as `a.sigmoid()` for i, f, o and `a.narrow(-1, 2H, H).tanh()` for g, bit
//! for bit (σ is computed by the same formula). A primitive, promoted from that composite by
//! W7 (an LSTM step): the composite took five passes and five tape nodes per step (σ is
//! three scalar ops around a tanh, and the g block was a narrow and a tanh), this one pass
//! and one node.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! // H = 1: gates i, f, g, o of a zero pre-activation are σ(0), σ(0), tanh(0), σ(0).
//! let y = Tensor::<f32>::zeros(&[1, 4]).lstm_gates();
//! assert_eq!(y.to_vec(), vec![0.5, 0.5, 0.0, 0.5]);
//! ```

use std::any::{Any, TypeId};

use ndarray::ArrayD;
use smallvec::smallvec;

use super::tanh::tanh_f32;
use crate::error::{or_panic, Result, TensorError};
use crate::forward::{Dots, JvpCtx};
use crate::tape::{record, BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// σ on gate blocks i, f, o and tanh on block g of the last axis (4·H long, in PyTorch's
    /// order i, f, g, o); see the module docs.
    ///
    /// # Errors
    /// `lstm_gates` when the tensor is 0-dimensional or its last axis is not a multiple of 4.
    pub fn try_lstm_gates(&self) -> Result<Tensor<F>> {
        let shape = self.shape();
        let last = shape.last().copied();
        let Some(gates) = last.filter(|n| n % 4 == 0) else {
            return Err(TensorError::InvalidArgument {
                op: "lstm_gates",
                shape: shape.to_vec(),
                rule: "the last axis must hold 4·H pre-activations (gates i, f, g, o)".into(),
            });
        };
        let hidden = gates / 4;
        let a = self.value();
        let mut y: ArrayD<F> = a.as_standard_layout().into_owned();
        if hidden > 0 {
            match (&mut y as &mut dyn Any).downcast_mut::<ArrayD<f32>>() {
                // fast path: f32 compiled for the widest instruction set the CPU has (AVX2:
                // 8 lanes, AVX-512: 16, against the baseline build's 4), chosen at run time
                // by pulp; the plain version is the same loop for the baseline CPU. See
                // `GatesF32`.
                Some(y) => pulp::Arch::new().dispatch(GatesF32 {
                    values: y.as_slice_mut().expect("standard layout"),
                    hidden,
                }),
                None => gates_in_place(y.as_slice_mut().expect("standard layout"), hidden),
            }
        }
        record(Op::LstmGates, &[self], y, &[Saved::Output])
    }

    /// Panicking form of [`try_lstm_gates`](Self::try_lstm_gates).
    #[track_caller]
    pub fn lstm_gates(&self) -> Tensor<F> {
        or_panic(self.try_lstm_gates())
    }
}

/// The gates of each row (4·`hidden` long) of `values`, in place.
#[inline(always)]
pub(super) fn gates_in_place<F: Float>(values: &mut [F], hidden: usize) {
    for row in values.chunks_exact_mut(4 * hidden) {
        let (sigmoid_if, rest) = row.split_at_mut(2 * hidden);
        let (tanh_g, sigmoid_o) = rest.split_at_mut(hidden);
        // Three plain loops over slices, which the compiler vectorises (a chained iterator
        // over both σ blocks did not).
        for v in sigmoid_if.iter_mut() {
            *v = sigmoid_of(*v);
        }
        for v in tanh_g.iter_mut() {
            *v = tanh_of(*v);
        }
        for v in sigmoid_o.iter_mut() {
            *v = sigmoid_of(*v);
        }
    }
}

/// [`gates_in_place`] on f32, inside `pulp`'s dispatch: the loop is compiled once per
/// instruction set and the CPU's best is run. The arithmetic is the same (Rust never fuses a
/// multiply and an add by itself), so the values are bit for bit those of the plain loop.
/// W7 1 thread, CPU time of a run (loaded machine): 1.48 → 1.00 s.
struct GatesF32<'a> {
    values: &'a mut [f32],
    hidden: usize,
}

impl pulp::WithSimd for GatesF32<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        gates_in_place(self.values, self.hidden);
    }
}

/// tanh as `Tensor::tanh` computes it (the f32 rational approximation, the C library's tanh
/// for f64).
#[inline(always)]
pub(super) fn tanh_of<F: Float>(x: F) -> F {
    if TypeId::of::<F>() == TypeId::of::<f32>() {
        F::from_f64(f64::from(tanh_f32(x.as_f64() as f32)))
    } else {
        x.tanh()
    }
}

/// σ(x) = ½·(tanh(x/2) + 1), the operations of the composite `Tensor::sigmoid` in its order.
#[inline(always)]
fn sigmoid_of<F: Float>(x: F) -> F {
    let half = F::from_f64(0.5);
    (tanh_of(x * half) + F::one()) * half
}

// y = σ(a) on blocks i, f, o: dy/da = σ(1 − σ) = y − y²; y = tanh(a) on block g: dy/da =
// 1 − y². With s = 1 on the sigmoid blocks and 0 on g, both are 1 − y² + s ⊙ (y − 1), so
// ∂L/∂a = ∂L/∂y ⊙ (1 − y² + s ⊙ (y − 1)). Saved: y.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let y = ctx.saved(0);
    let gates = *y.shape().last().expect("checked in the forward pass");
    let hidden = gates / 4;
    if !ctx.create_graph() {
        // fast path: one pass when nothing records the rule (the plain version, below, is six
        // tensor ops)
        let (g, yv) = (grad_out.value(), y.value());
        let g = g.as_standard_layout();
        let mut grad_a: ArrayD<F> = yv.as_standard_layout().into_owned();
        if hidden > 0 {
            let g = g.as_slice().expect("standard layout");
            for (row, g) in grad_a
                .as_slice_mut()
                .expect("standard layout")
                .chunks_exact_mut(gates)
                .zip(g.chunks_exact(gates))
            {
                let (sigmoid_if, rest) = row.split_at_mut(2 * hidden);
                let (tanh_g, sigmoid_o) = rest.split_at_mut(hidden);
                let (g_if, rest) = g.split_at(2 * hidden);
                let (g_g, g_o) = rest.split_at(hidden);
                for (v, &g) in sigmoid_if.iter_mut().zip(g_if) {
                    *v = g * (*v - *v * *v);
                }
                for (v, &g) in tanh_g.iter_mut().zip(g_g) {
                    *v = g * (F::one() - *v * *v);
                }
                for (v, &g) in sigmoid_o.iter_mut().zip(g_o) {
                    *v = g * (*v - *v * *v);
                }
            }
        }
        return smallvec![Some(Tensor::from_array(grad_a))];
    }
    smallvec![Some(grad_out.mul(&slope(&y)))]
}

/// dy/da elementwise, written with tensor ops on y (so it can be differentiated again):
/// 1 − y² + s ⊙ (y − 1), where s is 1 on the sigmoid blocks and 0 on the tanh block — that
/// is y(1 − y) for σ and 1 − y² for tanh.
pub(super) fn slope<F: Float>(y: &Tensor<F>) -> Tensor<F> {
    let gates = *y.shape().last().expect("checked in the forward pass");
    let hidden = gates / 4;
    let s = Tensor::from_array(ndarray::Array1::from_shape_fn(gates, |k| {
        if hidden > 0 && k / hidden == 2 {
            F::zero()
        } else {
            F::one()
        }
    }));
    y.mul(y).neg().add_scalar(F::one()) + y.add_scalar(-F::one()).mul(&s)
}

// y = lstm_gates(a): ẏ = slope(y) ⊙ ȧ, the same slope as the backward rule.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    Some(dots[0].as_ref()?.mul(&slope(ctx.output())))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    /// The composite the primitive replaces.
    fn composite(a: &Tensor<f64>) -> Tensor<f64> {
        let h = a.shape()[a.ndim() - 1] / 4;
        let s = a.sigmoid();
        let g = a.narrow(-1, 2 * h, h).tanh();
        Tensor::concat(
            &[&s.narrow(-1, 0, 2 * h), &g, &s.narrow(-1, 3 * h, h)],
            a.ndim() - 1,
        )
    }

    #[test]
    fn values_match_the_composite_bit_for_bit() {
        // Hand-worked: H = 1, a = [0, ln 3, 0, −ln 3]: σ(0) = ½, σ(ln 3) = ¾, tanh(0) = 0,
        // σ(−ln 3) = ¼.
        let l3 = 3f64.ln();
        let y = Tensor::<f64>::from_vec(vec![0.0, l3, 0.0, -l3], &[1, 4]).lstm_gates();
        for (got, want) in y.to_vec().iter().zip([0.5, 0.75, 0.0, 0.25]) {
            assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        }
        // Random shapes (rank 1 to 3, H = 1 and odd), a transposed (non-contiguous) input, and
        // f32 as well as f64: the primitive equals the composite exactly.
        for (k, shape) in [vec![8], vec![3, 12], vec![2, 5, 20], vec![4, 4]]
            .iter()
            .enumerate()
        {
            let a = Tensor::from_array(uniform_in(shape, -8.0, 8.0, k as u64));
            assert_eq!(a.lstm_gates().to_vec(), composite(&a).to_vec(), "{shape:?}");
            let a32 =
                Tensor::<f32>::from_vec(a.to_vec().iter().map(|&v| v as f32).collect(), shape);
            let h = shape[shape.len() - 1] / 4;
            let s = a32.sigmoid().to_vec();
            let g = a32.narrow(-1, 2 * h, h).tanh().to_vec();
            let y = a32.lstm_gates().to_vec();
            for (i, v) in y.iter().enumerate() {
                let (row, col) = (i / (4 * h), i % (4 * h));
                let want = if col / h == 2 {
                    g[row * h + col - 2 * h]
                } else {
                    s[i]
                };
                assert_eq!(v.to_bits(), want.to_bits(), "f32 {shape:?} at {i}");
            }
        }
        let t = Tensor::from_array(uniform(&[8, 3], 9)).t();
        assert_eq!(t.lstm_gates().to_vec(), composite(&t).to_vec());
        // Saturation: gradients are 0, never NaN.
        let big = Tensor::<f32>::from_vec(vec![-1e4, 1e4, -1e4, 1e4], &[4]).requires_grad();
        big.lstm_gates().sum().backward();
        assert_eq!(big.grad().unwrap().to_vec(), vec![0.0; 4]);
    }

    #[test]
    fn analytic_gradient() {
        // At a = 0: σ' = ¼ on i, f, o and tanh' = 1 on g.
        let a = Tensor::<f64>::zeros(&[2, 4]).requires_grad();
        a.lstm_gates().sum().backward();
        assert_eq!(
            a.grad().unwrap().to_vec(),
            vec![0.25, 0.25, 1.0, 0.25, 0.25, 0.25, 1.0, 0.25]
        );
    }

    #[test]
    fn one_pass_backward_agrees_with_the_recorded_rule() {
        let a = Tensor::from_array(uniform_in(&[3, 16], -4.0, 4.0, 3)).requires_grad();
        let w = Tensor::from_array(uniform(&[3, 16], 4));
        let loss = || (a.lstm_gates() * &w).sum();
        loss().backward();
        let fast = a.grad().unwrap().to_vec();
        let recorded = crate::grad(&loss(), &[&a], true)
            .unwrap()
            .remove(0)
            .to_vec();
        for (f, r) in fast.iter().zip(&recorded) {
            assert!((f - r).abs() < 1e-14, "{f} vs {r}");
        }
    }

    #[test]
    fn gradcheck_and_second_order() {
        for (k, shape) in [vec![4], vec![3, 8], vec![2, 2, 12]].iter().enumerate() {
            check(
                "lstm_gates",
                |t| t[0].lstm_gates(),
                &[uniform_in(shape, -3.0, 3.0, k as u64)],
            );
        }
        check_second_order(
            "lstm_gates",
            |t| t[0].lstm_gates(),
            &[uniform_in(&[2, 8], -3.0, 3.0, 7)],
        );
        // An empty batch and H = 0 pass through.
        assert_eq!(Tensor::<f32>::zeros(&[0, 8]).lstm_gates().shape(), &[0, 8]);
        assert_eq!(Tensor::<f32>::zeros(&[2, 0]).lstm_gates().shape(), &[2, 0]);
    }

    #[test]
    fn errors_name_the_op_and_shape() {
        let msg = |t: Tensor<f32>| t.try_lstm_gates().unwrap_err().to_string();
        assert_eq!(
            msg(Tensor::zeros(&[2, 6])),
            "lstm_gates: [2, 6]: the last axis must hold 4·H pre-activations (gates i, f, g, o)"
        );
        assert_eq!(
            msg(Tensor::scalar(1.0)),
            "lstm_gates: []: the last axis must hold 4·H pre-activations (gates i, f, g, o)"
        );
    }
}
