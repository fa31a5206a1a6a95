//! `lstm_sequence`: the recurrence of one LSTM layer over a whole sequence, as one primitive
//! (PyTorch runs it as one fused kernel too). The caller has already projected every step's
//! input, P_t = x_t·W_ihᵀ + b_ih + b_hh, in one product for the whole sequence; given P
//! [T, B, 4H], the recurrent weight W_hh [4H, H] (PyTorch's layout) and the initial state
//! h_0, c_0 [B, H], each step t = 1..T computes, in PyTorch's gate order i, f, g, o:
//!
//! ```text
//! a_t = P_t + h_{t−1}·W_hhᵀ                        [B, 4H]
//! i, f, g, o = σ(a_i), σ(a_f), tanh(a_g), σ(a_o)   (as lstm_gates)
//! c_t = f ⊙ c_{t−1} + i ⊙ g
//! h_t = o ⊙ tanh(c_t)
//! ```
//!
//! The output holds both states of every step: y[0, t] = h_t and y[1, t] = c_t, shape
//! [2, T, B, H] (time counted from 0, so y[0, T − 1] is the last hidden state).
//!
//! The composite — per step a `matmul`, an `add`, `lstm_gates`, four `narrow`s, three
//! `mul`s, an `add` and a `tanh` — computes the same values (to rounding: the product is
//! accumulated into P_t here). A primitive, promoted from it by W7 (an LSTM step): the
//! composite recorded 13 nodes per time step and its backward pass formed ∂L/∂W_hh as T
//! small products; this records one node, keeps the gates it computed, and forms ∂L/∂W_hh
//! in one product over all steps.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! // One step, H = 1, zero weights and state: a = P, so with P = 0 every gate is σ(0) = ½
//! // and g = tanh(0) = 0, hence c_1 = ½·0 + ½·0 = 0 and h_1 = ½·tanh(0) = 0.
//! let p = Tensor::<f64>::zeros(&[1, 1, 4]);
//! let (w_hh, state) = (Tensor::zeros(&[4, 1]), Tensor::zeros(&[1, 1]));
//! let y = p.lstm_sequence(&w_hh, &state, &state);
//! assert_eq!(y.shape(), &[2, 1, 1, 1]);
//! assert_eq!(y.to_vec(), vec![0.0, 0.0]);
//! ```

use ndarray::{ArrayD, IxDyn};
use smallvec::smallvec;

use super::lstm_gates::{gates_in_place, slope, tanh_of};
use crate::error::{or_panic, Result, TensorError};
use crate::forward::{Dots, JvpCtx};
use crate::tape::{record, save_workspace, BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// The LSTM recurrence over all steps of `self`, the input projection P [T, B, 4H],
    /// with recurrent weight `w_hh` [4H, H] and initial state `h0`, `c0` [B, H]; returns the
    /// states [2, T, B, H] (hidden states first, then cell states). See the module docs.
    ///
    /// # Errors
    /// `lstm_sequence` when the shapes do not fit together as above.
    #[track_caller]
    pub fn try_lstm_sequence(
        &self,
        w_hh: &Tensor<F>,
        h0: &Tensor<F>,
        c0: &Tensor<F>,
    ) -> Result<Tensor<F>> {
        let dims = check_shapes(self.shape(), w_hh.shape(), h0.shape(), c0.shape())?;
        let (p, w) = (self.value(), w_hh.value());
        let (h0v, c0v) = (h0.value(), c0.value());
        let states = Recurrence::run(
            dims,
            p.as_standard_layout().as_slice().expect("standard layout"),
            w.as_standard_layout().as_slice().expect("standard layout"),
            h0v.as_standard_layout()
                .as_slice()
                .expect("standard layout"),
            c0v.as_standard_layout()
                .as_slice()
                .expect("standard layout"),
        );
        let y = states.output();
        let output = record(
            Op::LstmSequence,
            &[self, w_hh, h0, c0],
            y,
            &[
                Saved::Input(0),
                Saved::Input(1),
                Saved::Input(2),
                Saved::Input(3),
                Saved::Output,
            ],
        )?;
        // The one-pass backward rule reads the gates and the states laid out for it.
        save_workspace(&output, states.into_workspace());
        Ok(output)
    }

    /// Panicking form of [`try_lstm_sequence`](Self::try_lstm_sequence).
    #[track_caller]
    pub fn lstm_sequence(&self, w_hh: &Tensor<F>, h0: &Tensor<F>, c0: &Tensor<F>) -> Tensor<F> {
        or_panic(self.try_lstm_sequence(w_hh, h0, c0))
    }
}

/// T (steps), B (batch) and H (hidden size).
#[derive(Clone, Copy)]
struct Dims {
    steps: usize,
    batch: usize,
    hidden: usize,
}

fn check_shapes(p: &[usize], w: &[usize], h0: &[usize], c0: &[usize]) -> Result<Dims> {
    let error = |rule: String| TensorError::InvalidArgument {
        op: "lstm_sequence",
        shape: p.to_vec(),
        rule,
    };
    let &[steps, batch, gates] = p else {
        return Err(error("the projection must be [T, B, 4H]".into()));
    };
    if gates % 4 != 0 {
        return Err(error(
            "the projection's last axis must hold 4·H pre-activations (gates i, f, g, o)".into(),
        ));
    }
    let hidden = gates / 4;
    if w != [gates, hidden] {
        return Err(error(format!(
            "w_hh is {w:?}; it must be [4H, H] = [{gates}, {hidden}]"
        )));
    }
    for (name, s) in [("h0", h0), ("c0", c0)] {
        if s != [batch, hidden] {
            return Err(error(format!(
                "{name} is {s:?}; it must be [B, H] = [{batch}, {hidden}]"
            )));
        }
    }
    Ok(Dims {
        steps,
        batch,
        hidden,
    })
}

/// What the forward pass computes, laid out for the one-pass backward rule: the gates of
/// every step, [T, B, 4H], and the states h_0..h_T and c_0..c_T, each [T + 1, B, H]
/// (so that h_0..h_{T−1}, the left factor of ∂L/∂W_hh, is one contiguous block).
struct Recurrence<F> {
    dims: Dims,
    gates: Vec<F>,
    h: Vec<F>,
    c: Vec<F>,
}

impl<F: Float> Recurrence<F> {
    fn run(dims: Dims, p: &[F], w_hh: &[F], h0: &[F], c0: &[F]) -> Recurrence<F> {
        let Dims {
            steps,
            batch,
            hidden,
        } = dims;
        let (state, step) = (batch * hidden, batch * 4 * hidden);
        let mut gates = p.to_vec();
        let mut h = vec![F::zero(); (steps + 1) * state];
        let mut c = vec![F::zero(); (steps + 1) * state];
        h[..state].copy_from_slice(h0);
        c[..state].copy_from_slice(c0);
        for t in 0..steps {
            let a = &mut gates[t * step..(t + 1) * step];
            // a_t = P_t + h_{t−1}·W_hhᵀ, accumulated into the copy of P_t
            F::gemm(
                a,
                &h[t * state..(t + 1) * state],
                w_hh,
                [batch, hidden, 4 * hidden],
                [false, true],
                true,
            );
            let h_next = &mut h[(t + 1) * state..(t + 2) * state];
            let (c_prev, c_next) = c.split_at_mut((t + 1) * state);
            pulp::Arch::new().dispatch(CellForward {
                a,
                c_prev: &c_prev[t * state..],
                c: &mut c_next[..state],
                h: h_next,
                hidden,
            });
        }
        Recurrence { dims, gates, h, c }
    }

    /// y = [h_1..h_T; c_1..c_T] as [2, T, B, H].
    fn output(&self) -> ArrayD<F> {
        let Dims {
            steps,
            batch,
            hidden,
        } = self.dims;
        let state = batch * hidden;
        let mut y = Vec::with_capacity(2 * steps * state);
        y.extend_from_slice(&self.h[state..]);
        y.extend_from_slice(&self.c[state..]);
        ArrayD::from_shape_vec(IxDyn(&[2, steps, batch, hidden]), y).expect("sizes")
    }

    fn into_workspace(self) -> [ArrayD<F>; 3] {
        [self.gates, self.h, self.c]
            .map(|v| ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).expect("1-D"))
    }
}

/// One step's gates and new state, row by row: `a` holds the pre-activations [B, 4H] and
/// becomes the gates; c_t = f ⊙ c_{t−1} + i ⊙ g and h_t = o ⊙ tanh(c_t).
///
/// Run inside `pulp`'s dispatch, as `lstm_gates`'s loop is: compiled once per instruction
/// set, the CPU's widest (AVX-512, or AVX2 with FMA, where present) chosen at run time. The
/// arithmetic is the same, so are the values.
struct CellForward<'a, F> {
    a: &'a mut [F],
    c_prev: &'a [F],
    c: &'a mut [F],
    h: &'a mut [F],
    hidden: usize,
}

impl<F: Float> pulp::WithSimd for CellForward<'_, F> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let CellForward {
            a,
            c_prev,
            c,
            h,
            hidden,
        } = self;
        gates_in_place(a, hidden);
        for (((s, c_prev), c), h) in a
            .chunks_exact(4 * hidden)
            .zip(c_prev.chunks_exact(hidden))
            .zip(c.chunks_exact_mut(hidden))
            .zip(h.chunks_exact_mut(hidden))
        {
            let (i, rest) = s.split_at(hidden);
            let (f, rest) = rest.split_at(hidden);
            let (g, o) = rest.split_at(hidden);
            cell_row(i, f, g, o, c_prev, c, h);
        }
    }
}

// Backward through time. With δh, δc the gradients reaching h_t and c_t (from y, and from
// step t + 1 through the recurrence):
//   δo = δh ⊙ tanh(c_t),   δc ← δc + δh ⊙ o ⊙ (1 − tanh²c_t)
//   δi = δc ⊙ g,   δf = δc ⊙ c_{t−1},   δg = δc ⊙ i
//   δa_t = [δi ⊙ i(1 − i), δf ⊙ f(1 − f), δg ⊙ (1 − g²), δo ⊙ o(1 − o)]
//   δh_{t−1} = δa_t·W_hh,   δc_{t−1} = δc ⊙ f   (each plus y's gradient at t − 1)
// and then ∂L/∂P_t = δa_t, ∂L/∂W_hh = Σ_t δa_tᵀ·h_{t−1} (one [4H, T·B]·[T·B, H] product),
// ∂L/∂h_0 = δh_0 and ∂L/∂c_0 = δc_0.
// Saved: P, W_hh, h_0, c_0, y, then the workspace (gates, h_0..h_T, c_0..c_T).
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let grads = if ctx.create_graph() {
        recorded_backward(ctx, grad_out)
    } else {
        // fast path: one pass over raw arrays, W_hh's gradient in one product; the plain
        // version, recorded_backward, is ~20 tensor ops per step. W7 7.31 → 2.67 ms/step
        one_pass_backward(ctx, grad_out)
    };
    let mut out: InputGrads<F> = smallvec![];
    for (k, g) in grads.into_iter().enumerate() {
        out.push(ctx.needs_grad(k).then_some(g));
    }
    out
}

fn one_pass_backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> [Tensor<F>; 4] {
    let [_, _, batch, hidden] = *ctx.shape() else {
        unreachable!("lstm_sequence's output is [2, T, B, H]")
    };
    let steps = ctx.shape()[1];
    let (state, step) = (batch * hidden, 4 * batch * hidden);
    let w = ctx.saved(1).value();
    let w = w.as_standard_layout();
    let w = w.as_slice().expect("standard layout");
    let [gates, h, c] = [5, 6, 7].map(|k| ctx.saved(k).value());
    let (gates, h, c) = (slice(&gates), slice(&h), slice(&c));
    let g = grad_out.value();
    let g = g.as_standard_layout();
    let (g_h, g_c) = g
        .as_slice()
        .expect("standard layout")
        .split_at(steps * state);

    let mut grad_p = vec![F::zero(); steps * step];
    let mut dh = vec![F::zero(); state];
    let mut dc = vec![F::zero(); state];
    for t in (0..steps).rev() {
        let range = t * state..(t + 1) * state;
        for (d, g) in dh.iter_mut().zip(&g_h[range.clone()]) {
            *d += *g;
        }
        for (d, g) in dc.iter_mut().zip(&g_c[range]) {
            *d += *g;
        }
        let da = &mut grad_p[t * step..(t + 1) * step];
        pulp::Arch::new().dispatch(CellBackward {
            gates: &gates[t * step..(t + 1) * step],
            c_prev: &c[t * state..(t + 1) * state],
            c: &c[(t + 1) * state..(t + 2) * state],
            dh: &dh,
            dc: &mut dc,
            da,
            hidden,
        });
        // δh_{t−1} = δa_t·W_hh
        F::gemm(
            &mut dh,
            da,
            w,
            [batch, 4 * hidden, hidden],
            [false, false],
            false,
        );
    }
    // ∂L/∂W_hh = δAᵀ·[h_0; …; h_{T−1}]
    let mut grad_w = vec![F::zero(); 4 * hidden * hidden];
    F::gemm(
        &mut grad_w,
        &grad_p,
        &h[..steps * state],
        [4 * hidden, steps * batch, hidden],
        [true, false],
        false,
    );
    let tensor = |v: Vec<F>, shape: &[usize]| {
        Tensor::from_array(ArrayD::from_shape_vec(IxDyn(shape), v).expect("sizes"))
    };
    [
        tensor(grad_p, &[steps, batch, 4 * hidden]),
        tensor(grad_w, &[4 * hidden, hidden]),
        tensor(dh, &[batch, hidden]),
        tensor(dc, &[batch, hidden]),
    ]
}

fn slice<F: Float>(x: &ArrayD<F>) -> &[F] {
    x.as_slice().expect("standard layout")
}

/// One row of [`CellForward`], its slices separate arguments for the reason
/// [`cell_row_backward`] gives: c = f ⊙ c_prev + i ⊙ g and h = o ⊙ tanh(c).
#[inline(always)]
fn cell_row<F: Float>(i: &[F], f: &[F], g: &[F], o: &[F], c_prev: &[F], c: &mut [F], h: &mut [F]) {
    let n = c.len();
    let (i, f, g, o, c_prev, h) = (
        &i[..n],
        &f[..n],
        &g[..n],
        &o[..n],
        &c_prev[..n],
        &mut h[..n],
    );
    for j in 0..n {
        c[j] = f[j] * c_prev[j] + i[j] * g[j];
        h[j] = o[j] * tanh_of(c[j]);
    }
}

/// One step of the backward rule, row by row: given the step's gates, c_{t−1} and c_t, and
/// the gradients δh, δc reaching h_t and c_t, writes δa_t and turns δc into δc_{t−1}. Run
/// inside `pulp`'s dispatch, as [`CellForward`].
struct CellBackward<'a, F> {
    gates: &'a [F],
    c_prev: &'a [F],
    c: &'a [F],
    dh: &'a [F],
    dc: &'a mut [F],
    da: &'a mut [F],
    hidden: usize,
}

impl<F: Float> pulp::WithSimd for CellBackward<'_, F> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let CellBackward {
            gates,
            c_prev,
            c,
            dh,
            dc,
            da,
            hidden,
        } = self;
        for (((((s, c_prev), c), dh), dc), da) in gates
            .chunks_exact(4 * hidden)
            .zip(c_prev.chunks_exact(hidden))
            .zip(c.chunks_exact(hidden))
            .zip(dh.chunks_exact(hidden))
            .zip(dc.chunks_exact_mut(hidden))
            .zip(da.chunks_exact_mut(4 * hidden))
        {
            let (i, rest) = s.split_at(hidden);
            let (f, rest) = rest.split_at(hidden);
            let (g, o) = rest.split_at(hidden);
            let (da_i, rest) = da.split_at_mut(hidden);
            let (da_f, rest) = rest.split_at_mut(hidden);
            let (da_g, da_o) = rest.split_at_mut(hidden);
            cell_row_backward([i, f, g, o], c_prev, c, dh, dc, da_i, da_f, da_g, da_o);
        }
    }
}

/// One row of [`CellBackward`]. Separate slice arguments tell the compiler that the outputs
/// overlap nothing (Rust's `&mut` guarantee), so it vectorises the loop without run-time
/// overlap checks; with the row cut out of larger slices inline, it checked twelve streams
/// pairwise, gave up and ran the loop scalar (a quarter of W7's time).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn cell_row_backward<F: Float>(
    [i, f, g, o]: [&[F]; 4],
    c_prev: &[F],
    c: &[F],
    dh: &[F],
    dc: &mut [F],
    da_i: &mut [F],
    da_f: &mut [F],
    da_g: &mut [F],
    da_o: &mut [F],
) {
    let one = F::one();
    let n = dc.len();
    // Every slice cut to the same length, so that the loop has no bounds checks.
    let (i, f, g, o, c_prev, c, dh) = (
        &i[..n],
        &f[..n],
        &g[..n],
        &o[..n],
        &c_prev[..n],
        &c[..n],
        &dh[..n],
    );
    let (da_i, da_f, da_g, da_o) = (
        &mut da_i[..n],
        &mut da_f[..n],
        &mut da_g[..n],
        &mut da_o[..n],
    );
    for j in 0..n {
        let tc = tanh_of(c[j]);
        let d_c = dc[j] + dh[j] * o[j] * (one - tc * tc);
        da_i[j] = d_c * g[j] * (i[j] - i[j] * i[j]);
        da_f[j] = d_c * c_prev[j] * (f[j] - f[j] * f[j]);
        da_g[j] = d_c * i[j] * (one - g[j] * g[j]);
        da_o[j] = dh[j] * tc * (o[j] - o[j] * o[j]);
        dc[j] = d_c * f[j];
    }
}

/// The step-by-step tensors the recorded rules need, recomputed with tensor ops from the
/// saved inputs and output (so a second-order pass can differentiate through them).
struct Steps<F: Float> {
    dims: Dims,
    p: Tensor<F>,
    w_hh: Tensor<F>,
    h0: Tensor<F>,
    c0: Tensor<F>,
    y: Tensor<F>,
}

impl<F: Float> Steps<F> {
    fn new(dims: Dims, inputs: [Tensor<F>; 4], y: Tensor<F>) -> Steps<F> {
        let [p, w_hh, h0, c0] = inputs;
        Steps {
            dims,
            p,
            w_hh,
            h0,
            c0,
            y,
        }
    }

    /// h_t (`which` = 0) or c_t (1), for t = 0..=T.
    fn state(&self, which: usize, t: usize) -> Tensor<F> {
        let Dims { batch, hidden, .. } = self.dims;
        match t {
            0 if which == 0 => self.h0.clone(),
            0 => self.c0.clone(),
            _ => self
                .y
                .narrow(0, which, 1)
                .narrow(1, t - 1, 1)
                .reshape(&[batch, hidden]),
        }
    }

    /// The gates of step t = 1..=T, [B, 4H].
    fn gates(&self, t: usize) -> Tensor<F> {
        let Dims { batch, hidden, .. } = self.dims;
        let p = self.p.narrow(0, t - 1, 1).reshape(&[batch, 4 * hidden]);
        (p + self.state(0, t - 1).matmul(&self.w_hh.t())).lstm_gates()
    }
}

/// Gate k (0 = i, 1 = f, 2 = g, 3 = o) of a [B, 4H] block.
fn gate<F: Float>(s: &Tensor<F>, k: usize) -> Tensor<F> {
    let hidden = s.shape()[1] / 4;
    s.narrow(1, k * hidden, hidden)
}

fn dims_of(shape: &[usize]) -> Dims {
    Dims {
        steps: shape[1],
        batch: shape[2],
        hidden: shape[3],
    }
}

/// The backward rule written with tensor ops (the comment above `backward`), step by step.
fn recorded_backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> [Tensor<F>; 4] {
    let dims = dims_of(ctx.shape());
    let Dims {
        steps,
        batch,
        hidden,
    } = dims;
    let s = Steps::new(dims, [0, 1, 2, 3].map(|k| ctx.saved(k)), ctx.saved(4));
    let g = |which: usize, t: usize| {
        grad_out
            .narrow(0, which, 1)
            .narrow(1, t - 1, 1)
            .reshape(&[batch, hidden])
    };
    let mut dh = Tensor::zeros(&[batch, hidden]);
    let mut dc = Tensor::zeros(&[batch, hidden]);
    let mut da = Vec::with_capacity(steps);
    for t in (1..=steps).rev() {
        dh = dh + g(0, t);
        dc = dc + g(1, t);
        let gates = s.gates(t);
        let (i, f, g_, o) = (
            gate(&gates, 0),
            gate(&gates, 1),
            gate(&gates, 2),
            gate(&gates, 3),
        );
        let tc = s.state(1, t).tanh();
        let d_o = &dh * &tc;
        dc = dc + &dh * &o * (tc.mul(&tc).neg().add_scalar(F::one()));
        let d_gates = Tensor::concat(
            &[&(&dc * &g_), &(&dc * &s.state(1, t - 1)), &(&dc * &i), &d_o],
            1,
        ) * slope(&gates);
        dh = d_gates.matmul(&s.w_hh);
        dc = dc * f;
        da.push(d_gates);
    }
    da.reverse();
    let refs: Vec<&Tensor<F>> = da.iter().collect();
    let grad_p = Tensor::stack(&refs, 0);
    let h_prev: Vec<Tensor<F>> = (0..steps).map(|t| s.state(0, t)).collect();
    let refs: Vec<&Tensor<F>> = h_prev.iter().collect();
    let h_prev = Tensor::concat(&refs, 0);
    let grad_w = grad_p
        .reshape(&[steps * batch, 4 * hidden])
        .t()
        .matmul(&h_prev);
    [grad_p, grad_w, dh, dc]
}

// Forward mode: the recurrence's tangent, step by step (ȧ for a tangent of a):
//   ȧ_t = Ṗ_t + ḣ_{t−1}·W_hhᵀ + h_{t−1}·Ẇ_hhᵀ,   ṡ_t = slope(s_t) ⊙ ȧ_t   (s_t the gates)
//   ċ_t = ḟ ⊙ c_{t−1} + f ⊙ ċ_{t−1} + i̇ ⊙ g + i ⊙ ġ
//   ḣ_t = ȯ ⊙ tanh(c_t) + o ⊙ (1 − tanh²c_t) ⊙ ċ_t
// from ḣ_0, ċ_0; ẏ stacks ḣ_t and ċ_t as y stacks h_t and c_t. Absent tangents are zeros.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    if dots.iter().all(Option::is_none) {
        return None;
    }
    let dims = dims_of(ctx.shape());
    let Dims {
        steps,
        batch,
        hidden,
    } = dims;
    let inputs = [0, 1, 2, 3].map(|k| ctx.input(k).clone());
    let dot = |k: usize| {
        dots[k]
            .clone()
            .unwrap_or_else(|| Tensor::zeros(inputs[k].shape()))
    };
    let (p_dot, w_dot) = (dot(0), dot(1));
    let (mut h_dot, mut c_dot) = (dot(2), dot(3));
    let s = Steps::new(dims, inputs, ctx.output().clone());
    let (mut hs, mut cs) = (Vec::with_capacity(steps), Vec::with_capacity(steps));
    for t in 1..=steps {
        let gates = s.gates(t);
        let a_dot = p_dot.narrow(0, t - 1, 1).reshape(&[batch, 4 * hidden])
            + h_dot.matmul(&s.w_hh.t())
            + s.state(0, t - 1).matmul(&w_dot.t());
        let s_dot = a_dot * slope(&gates);
        c_dot = gate(&s_dot, 1) * s.state(1, t - 1)
            + gate(&gates, 1) * &c_dot
            + gate(&s_dot, 0) * gate(&gates, 2)
            + gate(&gates, 0) * gate(&s_dot, 2);
        let tc = s.state(1, t).tanh();
        h_dot = gate(&s_dot, 3) * &tc
            + gate(&gates, 3) * tc.mul(&tc).neg().add_scalar(F::one()) * &c_dot;
        hs.push(h_dot.clone());
        cs.push(c_dot.clone());
    }
    let stack = |v: &[Tensor<F>]| Tensor::stack(&v.iter().collect::<Vec<_>>(), 0);
    Some(Tensor::stack(&[&stack(&hs), &stack(&cs)], 0))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    /// The composite the primitive replaces: the LSTM step written with tensor ops.
    fn composite(
        p: &Tensor<f64>,
        w_hh: &Tensor<f64>,
        h0: &Tensor<f64>,
        c0: &Tensor<f64>,
    ) -> Tensor<f64> {
        let (steps, hidden) = (p.shape()[0], h0.shape()[1]);
        let (mut h, mut c) = (h0.clone(), c0.clone());
        let (mut hs, mut cs) = (Vec::new(), Vec::new());
        for t in 0..steps {
            let a = p.narrow(0, t, 1).squeeze(0) + h.matmul(&w_hh.t());
            let s = a.lstm_gates();
            let g = |k: usize| s.narrow(1, k * hidden, hidden);
            c = g(1) * &c + g(0) * g(2);
            h = g(3) * c.tanh();
            hs.push(h.clone());
            cs.push(c.clone());
        }
        let stack = |v: &[Tensor<f64>]| Tensor::stack(&v.iter().collect::<Vec<_>>(), 0);
        Tensor::stack(&[&stack(&hs), &stack(&cs)], 0)
    }

    fn inputs(steps: usize, batch: usize, hidden: usize, seed: u64) -> Vec<ndarray::ArrayD<f64>> {
        vec![
            uniform_in(&[steps, batch, 4 * hidden], -2.0, 2.0, seed),
            uniform_in(&[4 * hidden, hidden], -0.8, 0.8, seed + 1),
            uniform(&[batch, hidden], seed + 2),
            uniform(&[batch, hidden], seed + 3),
        ]
    }

    fn apply(t: &[Tensor<f64>]) -> Tensor<f64> {
        t[0].lstm_sequence(&t[1], &t[2], &t[3])
    }

    #[test]
    fn values_match_the_composite() {
        // Hand-worked: T = 1, H = 1, W_hh = 0, h_0 = 0, c_0 = 1, a = [0, ln 3, 0, −ln 3]:
        // i = ½, f = ¾, g = 0, o = ¼, so c_1 = ¾ and h_1 = ¼·tanh(¾).
        let l3 = 3f64.ln();
        let p = Tensor::<f64>::from_vec(vec![0.0, l3, 0.0, -l3], &[1, 1, 4]);
        let y = p.lstm_sequence(
            &Tensor::zeros(&[4, 1]),
            &Tensor::zeros(&[1, 1]),
            &Tensor::ones(&[1, 1]),
        );
        let want = [0.25 * 0.75f64.tanh(), 0.75];
        for (got, want) in y.to_vec().iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        }
        for (k, &(steps, batch, hidden)) in [(1, 1, 1), (5, 3, 2), (7, 2, 5), (3, 4, 8)]
            .iter()
            .enumerate()
        {
            let t: Vec<Tensor<f64>> = inputs(steps, batch, hidden, 10 * k as u64)
                .into_iter()
                .map(Tensor::from_array)
                .collect();
            let (fused, plain) = (apply(&t), composite(&t[0], &t[1], &t[2], &t[3]));
            assert_eq!(fused.shape(), &[2, steps, batch, hidden]);
            for (f, p) in fused.to_vec().iter().zip(plain.to_vec()) {
                assert!((f - p).abs() < 1e-14, "{f} vs {p}");
            }
        }
    }

    #[test]
    fn one_pass_backward_agrees_with_the_recorded_rule_and_the_composite() {
        let t: Vec<Tensor<f64>> = inputs(6, 3, 4, 1)
            .into_iter()
            .map(|x| Tensor::from_array(x).requires_grad())
            .collect();
        let refs: Vec<&Tensor<f64>> = t.iter().collect();
        let r = Tensor::from_array(uniform(&[2, 6, 3, 4], 9));
        let fast = crate::grad(&(apply(&t) * &r).sum(), &refs, false).unwrap();
        let recorded = crate::grad(&(apply(&t) * &r).sum(), &refs, true).unwrap();
        let plain = crate::grad(
            &(composite(&t[0], &t[1], &t[2], &t[3]) * &r).sum(),
            &refs,
            false,
        )
        .unwrap();
        for k in 0..4 {
            for ((f, r), p) in fast[k]
                .to_vec()
                .iter()
                .zip(recorded[k].to_vec())
                .zip(plain[k].to_vec())
            {
                assert!(
                    (f - r).abs() < 1e-13 && (f - p).abs() < 1e-13,
                    "input {k}: {f} vs {r} vs {p}"
                );
            }
        }
    }

    #[test]
    fn gradcheck_and_second_order() {
        for (k, &(steps, batch, hidden)) in [(1, 1, 1), (4, 2, 3), (3, 1, 2)].iter().enumerate() {
            check(
                "lstm_sequence",
                apply,
                &inputs(steps, batch, hidden, 20 + k as u64),
            );
        }
        check_second_order("lstm_sequence", apply, &inputs(3, 2, 2, 30));
        // No steps or an empty batch pass through.
        let z = |s: &[usize]| Tensor::<f32>::zeros(s);
        assert_eq!(
            z(&[0, 2, 8])
                .lstm_sequence(&z(&[8, 2]), &z(&[2, 2]), &z(&[2, 2]))
                .shape(),
            &[2, 0, 2, 2]
        );
        assert_eq!(
            z(&[3, 0, 8])
                .lstm_sequence(&z(&[8, 2]), &z(&[0, 2]), &z(&[0, 2]))
                .shape(),
            &[2, 3, 0, 2]
        );
    }

    #[test]
    fn f32_matches_f64() {
        let x = inputs(32, 4, 16, 40);
        let t64: Vec<Tensor<f64>> = x.iter().cloned().map(Tensor::from_array).collect();
        let t32: Vec<Tensor<f32>> = x
            .iter()
            .map(|a| Tensor::from_array(a.mapv(|v| v as f32)))
            .collect();
        let (y64, y32) = (apply(&t64), t32[0].lstm_sequence(&t32[1], &t32[2], &t32[3]));
        for (a, b) in y64.to_vec().iter().zip(y32.to_vec()) {
            assert!((a - f64::from(b)).abs() < 1e-5, "{a} vs {b}");
        }
    }

    #[test]
    fn errors_name_the_op_and_shapes() {
        let z = |s: &[usize]| Tensor::<f32>::zeros(s);
        let msg = |p: &[usize], w: &[usize], h: &[usize], c: &[usize]| {
            z(p).try_lstm_sequence(&z(w), &z(h), &z(c))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            msg(&[2, 8], &[8, 2], &[1, 2], &[1, 2]),
            "lstm_sequence: [2, 8]: the projection must be [T, B, 4H]"
        );
        assert_eq!(
            msg(&[2, 1, 6], &[6, 1], &[1, 1], &[1, 1]),
            "lstm_sequence: [2, 1, 6]: the projection's last axis must hold 4·H pre-activations (gates i, f, g, o)"
        );
        assert_eq!(
            msg(&[2, 1, 8], &[2, 8], &[1, 2], &[1, 2]),
            "lstm_sequence: [2, 1, 8]: w_hh is [2, 8]; it must be [4H, H] = [8, 2]"
        );
        assert_eq!(
            msg(&[2, 1, 8], &[8, 2], &[1, 2], &[2, 2]),
            "lstm_sequence: [2, 1, 8]: c0 is [2, 2]; it must be [B, H] = [1, 2]"
        );
    }
}
