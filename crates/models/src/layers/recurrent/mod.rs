//! Recurrent layers: [`Rnn`] (tanh), [`Gru`] and [`Lstm`], multi-layer, in PyTorch's layout.
//!
//! Each reads a sequence x₁ … x_T and carries a hidden state h (and for the LSTM a cell state
//! c) from one step to the next. With σ the logistic function and ⊙ the elementwise product,
//! one step of layer k is (PyTorch's equations and gate order):
//!
//! ```text
//! Rnn:   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
//!
//! Gru:   r  = σ(W_ir x + b_ir + W_hr h + b_hr)            gates (r, z, n): 3H rows
//!        z  = σ(W_iz x + b_iz + W_hz h + b_hz)
//!        n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//!        h' = (1 − z) ⊙ n + z ⊙ h
//!
//! Lstm:  i  = σ(W_ii x + b_ii + W_hi h + b_hi)            gates (i, f, g, o): 4H rows
//!        f  = σ(W_if x + b_if + W_hf h + b_hf)
//!        g  = tanh(W_ig x + b_ig + W_hg h + b_hg)
//!        o  = σ(W_io x + b_io + W_ho h + b_ho)
//!        c' = f ⊙ c + i ⊙ g
//!        h' = o ⊙ tanh(c')
//! ```
//!
//! Layer k's parameters are named as in `torch.nn.LSTM`'s `state_dict`: `weight_ih_l{k}`
//! `[G·H, in_k]` (in₀ = input size, in_k = H above), `weight_hh_l{k}` `[G·H, H]`,
//! `bias_ih_l{k}` and `bias_hh_l{k}` `[G·H]`, the gates' rows stacked in the order above; all
//! drawn from U(−1/√H, 1/√H) (PyTorch's default), seeded. A torch state dict saved with
//! `safetensors.torch.save_file` therefore loads with [`io::load`](crate::io::load) as it is.
//!
//! Shapes: x is `[T, N, in]` (time first, PyTorch's default), `[N, T, in]` with `batch_first`,
//! or `[T, in]` for one unbatched sequence; states are `[num_layers, N, H]` (`[num_layers, H]`
//! unbatched) whatever `batch_first` says, as in PyTorch. The output is the last layer's h at
//! every step, `[T, N, H]` (or `[N, T, H]`, `[T, H]`).
//!
//! How it is computed (backpropagation through time is then the tape's ordinary reverse
//! sweep, a loop, so a 1,000-step sequence needs no deep stack): per layer, the input
//! projection of all T steps is one matrix product, `X·W_ihᵀ + b_ih` with X the sequence as
//! `[T·N, in]`; only `h·W_hhᵀ` remains inside the loop over steps, which takes each step's rows
//! of the projection with `narrow`. For the tanh RNN and the LSTM, b_hh is folded into that
//! projection too (it adds the same way); the GRU keeps b_hn inside r ⊙ (…), as its equation says.
//! The LSTM's loop is one primitive, `lstm_sequence` (a fused kernel, as PyTorch's): one node
//! for the whole sequence, its backward rule the same loop run backwards.
//!
//! ```
//! use tapegrad_models::module::{Lstm, Module};
//! use tapegrad_tensor::Tensor;
//! let lstm = Lstm::<f32>::new(3, 5, 0);
//! let x = Tensor::zeros(&[7, 2, 3]); // T = 7 steps, batch 2, 3 features
//! let (out, (h_n, c_n)) = lstm.forward_with_state(&x, None);
//! assert_eq!((out.shape(), h_n.shape(), c_n.shape()), (&[7, 2, 5][..], &[1, 2, 5][..], &[1, 2, 5][..]));
//! assert_eq!(lstm.forward(&x).to_vec(), out.to_vec());
//! ```
//!
//! Not supported (PyTorch has them): `bidirectional`, `dropout` between layers, `proj_size`.

use tapegrad_tensor::{Float, Param, Tensor};

use crate::module::Module;

#[cfg(test)]
mod tests;

/// The shape options of a recurrent layer; `Default` gives PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecurrentConfig {
    /// Layers stacked, each reading the hidden states of the one below (default 1).
    pub num_layers: usize,
    /// Whether the layers have the biases b_ih and b_hh (default true).
    pub bias: bool,
    /// Whether x and the output are `[N, T, ·]` instead of `[T, N, ·]` (default false).
    pub batch_first: bool,
}

impl Default for RecurrentConfig {
    fn default() -> Self {
        RecurrentConfig {
            num_layers: 1,
            bias: true,
            batch_first: false,
        }
    }
}

/// Which recurrence a stack runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    Tanh,
    Gru,
    Lstm,
}

impl Cell {
    /// Rows of W_ih per hidden unit: one block per gate.
    fn gates(self) -> usize {
        match self {
            Cell::Tanh => 1,
            Cell::Gru => 3,
            Cell::Lstm => 4,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Cell::Tanh => "Rnn",
            Cell::Gru => "Gru",
            Cell::Lstm => "Lstm",
        }
    }
}

/// What all three layers share: the parameters of every layer and the loop over time.
#[derive(Clone, Debug)]
struct Stack<F: Float> {
    cell: Cell,
    input_size: usize,
    hidden_size: usize,
    config: RecurrentConfig,
    /// PyTorch's order: weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, weight_ih_l1, …
    params: Vec<(String, Param<F>)>,
}

impl<F: Float> Stack<F> {
    #[track_caller]
    fn new(
        cell: Cell,
        input_size: usize,
        hidden_size: usize,
        config: RecurrentConfig,
        seed: u64,
    ) -> Self {
        assert!(
            config.num_layers >= 1 && hidden_size >= 1,
            "{}: num_layers = {} and hidden_size = {hidden_size} must both be at least 1",
            cell.name(),
            config.num_layers
        );
        let rows = cell.gates() * hidden_size;
        let k = 1.0 / (hidden_size as f64).sqrt();
        let mut params = Vec::new();
        for layer in 0..config.num_layers {
            let inputs = if layer == 0 { input_size } else { hidden_size };
            let mut shapes = vec![
                (format!("weight_ih_l{layer}"), vec![rows, inputs]),
                (format!("weight_hh_l{layer}"), vec![rows, hidden_size]),
            ];
            if config.bias {
                shapes.push((format!("bias_ih_l{layer}"), vec![rows]));
                shapes.push((format!("bias_hh_l{layer}"), vec![rows]));
            }
            for (name, shape) in shapes {
                // One stream per tensor; the multiplier keeps the streams of nearby seeds
                // apart (seed s, tensor k and seed s + 1, tensor k − 1 would otherwise share).
                let draw = seed
                    .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .wrapping_add(params.len() as u64);
                let value = Tensor::rand_uniform(&shape, F::from_f64(-k), F::from_f64(k), draw);
                params.push((name.clone(), Param::new(name, value.to_array())));
            }
        }
        Stack {
            cell,
            input_size,
            hidden_size,
            config,
            params,
        }
    }

    fn weights(&self) -> Vec<Tensor<F>> {
        self.params.iter().map(|(_, p)| p.tensor()).collect()
    }

    /// Runs the stack on x with initial states (None: zeros) and `weights` in the order of
    /// `params` (the parameters' tensors, or any tensors of their shapes: gradchecks pass
    /// their own). Returns the output sequence, h_n and, for the LSTM, c_n, in the caller's
    /// layout.
    #[track_caller]
    fn run(
        &self,
        weights: &[Tensor<F>],
        x: &Tensor<F>,
        h0: Option<&Tensor<F>>,
        c0: Option<&Tensor<F>>,
    ) -> (Tensor<F>, Tensor<F>, Option<Tensor<F>>) {
        let name = self.cell.name();
        let (layers, hidden) = (self.config.num_layers, self.hidden_size);
        let unbatched = x.ndim() == 2;
        let shape = x.shape();
        if !(2..=3).contains(&x.ndim()) || shape[shape.len() - 1] != self.input_size {
            let i = self.input_size;
            let layout = if self.config.batch_first {
                "[N, T, "
            } else {
                "[T, N, "
            };
            panic!("{name}: x of shape {shape:?}; expected {layout}{i}] or, unbatched, [T, {i}]");
        }
        // Time-major [T, N, in] inside.
        let x = if unbatched {
            x.unsqueeze(1)
        } else if self.config.batch_first {
            x.transpose(0, 1)
        } else {
            x.clone()
        };
        let (steps, batch) = (x.shape()[0], x.shape()[1]);
        assert!(steps >= 1, "{name}: x of shape {shape:?} has no time steps");
        let state = |s: Option<&Tensor<F>>, what: &str| -> Tensor<F> {
            let expected: Vec<usize> = if unbatched {
                vec![layers, hidden]
            } else {
                vec![layers, batch, hidden]
            };
            match s {
                None => Tensor::zeros(&[layers, batch, hidden]),
                Some(s) if s.shape() == expected.as_slice() => {
                    if unbatched {
                        s.unsqueeze(1)
                    } else {
                        s.clone()
                    }
                }
                Some(s) => panic!(
                    "{name}: {what} of shape {:?}; expected {expected:?} for x of shape {shape:?}",
                    s.shape()
                ),
            }
        };
        let h0 = state(h0, "h0");
        let c0 = (self.cell == Cell::Lstm).then(|| state(c0, "c0"));

        let per_layer = if self.config.bias { 4 } else { 2 };
        let mut sequence = x;
        let (mut h_n, mut c_n) = (Vec::new(), Vec::new());
        for layer in 0..layers {
            let w = &weights[layer * per_layer..(layer + 1) * per_layer];
            let (bias_ih, bias_hh) = if self.config.bias {
                (Some(&w[2]), Some(&w[3]))
            } else {
                (None, None)
            };
            let inputs = sequence.shape()[2];
            // One product for every step's input projection: [T·N, in]·[in, G·H]. The biases
            // are summed as [G·H] vectors first (the GRU keeps b_hh for its steps), so that
            // only one vector is broadcast over the T·N rows and summed back by the sweep.
            let mut projection = sequence.reshape(&[steps * batch, inputs]).matmul(&w[0].t());
            let mut step_bias = bias_hh.cloned();
            let bias = match (bias_ih, self.cell) {
                (Some(b_ih), Cell::Gru) => Some(b_ih.clone()),
                (Some(b_ih), _) => Some(b_ih + &step_bias.take().expect("both biases")),
                (None, _) => None,
            };
            if let Some(b) = bias {
                projection = projection + b;
            }
            let mut h = h0.narrow(0, layer, 1).reshape(&[batch, hidden]);
            if let Some(c0) = &c0 {
                // fast path: the whole recurrence as one primitive, against 13 recorded ops per
                // step for the cell written with tensor ops (kept as `lstm_sequence`'s test
                // reference, and as W7's TAPEGRAD_W7=cell): W7 1 thread 3.75 → 2.67 ms/step
                // (fastest of 25 runs each, interleaved, on a loaded machine)
                let c0 = c0.narrow(0, layer, 1).reshape(&[batch, hidden]);
                let states = projection
                    .reshape(&[steps, batch, 4 * hidden])
                    .lstm_sequence(&w[1], &h, &c0);
                let last = |which: usize| {
                    states
                        .narrow(0, which, 1)
                        .narrow(1, steps - 1, 1)
                        .reshape(&[batch, hidden])
                };
                h_n.push(last(0));
                c_n.push(last(1));
                sequence = states.narrow(0, 0, 1).reshape(&[steps, batch, hidden]);
                continue;
            }
            let w_hh = w[1].t();
            let mut outputs = Vec::with_capacity(steps);
            for t in 0..steps {
                let xp = projection.narrow(0, t * batch, batch);
                let hp = h.matmul(&w_hh);
                match self.cell {
                    Cell::Tanh => h = (xp + hp).tanh(),
                    Cell::Lstm => unreachable!("the LSTM runs as one lstm_sequence above"),
                    Cell::Gru => {
                        let hp = match &step_bias {
                            Some(b) => hp + b,
                            None => hp,
                        };
                        let rz =
                            (xp.narrow(1, 0, 2 * hidden) + hp.narrow(1, 0, 2 * hidden)).sigmoid();
                        let (r, z) = (rz.narrow(1, 0, hidden), rz.narrow(1, hidden, hidden));
                        let n = (xp.narrow(1, 2 * hidden, hidden)
                            + r * hp.narrow(1, 2 * hidden, hidden))
                        .tanh();
                        // (1 − z) ⊙ n + z ⊙ h, written n + z ⊙ (h − n): one op fewer.
                        h = &n + &(z * (&h - &n));
                    }
                }
                outputs.push(h.clone());
            }
            let refs: Vec<&Tensor<F>> = outputs.iter().collect();
            sequence = Tensor::stack(&refs, 0);
            h_n.push(h);
        }
        let finish = |states: Vec<Tensor<F>>| {
            let refs: Vec<&Tensor<F>> = states.iter().collect();
            let s = Tensor::stack(&refs, 0);
            if unbatched {
                s.squeeze(1)
            } else {
                s
            }
        };
        let output = if unbatched {
            sequence.squeeze(1)
        } else if self.config.batch_first {
            sequence.transpose(0, 1)
        } else {
            sequence
        };
        let c_n = (!c_n.is_empty()).then(|| finish(c_n));
        (output, finish(h_n), c_n)
    }
}

macro_rules! recurrent_layer {
    ($name:ident, $cell:expr, $what:literal) => {
        #[doc = concat!($what, " (see the module docs for the equations, shapes and names).")]
        #[derive(Clone, Debug)]
        pub struct $name<F: Float>(Stack<F>);

        impl<F: Float> $name<F> {
            /// One layer from `input_size` features to `hidden_size` hidden units, time-major,
            /// with biases; weights U(−1/√H, 1/√H) drawn with `seed`.
            ///
            /// # Panics
            /// When `hidden_size` is 0.
            #[track_caller]
            pub fn new(input_size: usize, hidden_size: usize, seed: u64) -> Self {
                Self::with_config(input_size, hidden_size, RecurrentConfig::default(), seed)
            }

            /// A stack of `config.num_layers` layers with `config`'s options.
            ///
            /// # Panics
            /// When `hidden_size` or `config.num_layers` is 0.
            #[track_caller]
            pub fn with_config(
                input_size: usize,
                hidden_size: usize,
                config: RecurrentConfig,
                seed: u64,
            ) -> Self {
                $name(Stack::new($cell, input_size, hidden_size, config, seed))
            }

            /// The number of input features.
            pub fn input_size(&self) -> usize {
                self.0.input_size
            }

            /// The number of hidden units H.
            pub fn hidden_size(&self) -> usize {
                self.0.hidden_size
            }

            /// The options it was built with.
            pub fn config(&self) -> &RecurrentConfig {
                &self.0.config
            }
        }
    };
}

recurrent_layer!(
    Rnn,
    Cell::Tanh,
    "An Elman RNN with tanh: h' = tanh(W_ih x + b_ih + W_hh h + b_hh)"
);
recurrent_layer!(
    Gru,
    Cell::Gru,
    "A gated recurrent unit (Cho et al., 2014), PyTorch's variant"
);
recurrent_layer!(
    Lstm,
    Cell::Lstm,
    "A long short-term memory (Hochreiter & Schmidhuber, 1997), with a forget gate"
);

impl<F: Float> Rnn<F> {
    /// The output sequence and the final hidden state h_n `[num_layers, N, H]`, from initial
    /// state `h0` (zeros when `None`).
    ///
    /// # Panics
    /// When x is not `[T, N, in]` (`[N, T, in]` with `batch_first`, or `[T, in]`) with at
    /// least one step, or h0 is not `[num_layers, N, H]` (`[num_layers, H]` unbatched).
    #[track_caller]
    pub fn forward_with_state(
        &self,
        x: &Tensor<F>,
        h0: Option<&Tensor<F>>,
    ) -> (Tensor<F>, Tensor<F>) {
        let (out, h_n, _) = self.0.run(&self.0.weights(), x, h0, None);
        (out, h_n)
    }
}

impl<F: Float> Gru<F> {
    /// The output sequence and the final hidden state h_n `[num_layers, N, H]`, from initial
    /// state `h0` (zeros when `None`).
    ///
    /// # Panics
    /// As [`Rnn::forward_with_state`].
    #[track_caller]
    pub fn forward_with_state(
        &self,
        x: &Tensor<F>,
        h0: Option<&Tensor<F>>,
    ) -> (Tensor<F>, Tensor<F>) {
        let (out, h_n, _) = self.0.run(&self.0.weights(), x, h0, None);
        (out, h_n)
    }
}

impl<F: Float> Lstm<F> {
    /// The output sequence and the final states (h_n, c_n), each `[num_layers, N, H]`, from
    /// initial states `(h0, c0)` (zeros when `None`).
    ///
    /// # Panics
    /// As [`Rnn::forward_with_state`], for h0 and c0 alike.
    #[track_caller]
    pub fn forward_with_state(
        &self,
        x: &Tensor<F>,
        state: Option<(&Tensor<F>, &Tensor<F>)>,
    ) -> (Tensor<F>, (Tensor<F>, Tensor<F>)) {
        let (h0, c0) = state.unzip();
        let (out, h_n, c_n) = self.0.run(&self.0.weights(), x, h0, c0);
        (out, (h_n, c_n.expect("an LSTM returns a cell state")))
    }
}

macro_rules! recurrent_module {
    ($name:ident) => {
        impl<F: Float> Module<F> for $name<F> {
            /// The output sequence from zero initial states (see `forward_with_state`).
            ///
            /// # Panics
            /// When x has the wrong shape (see `forward_with_state`).
            #[track_caller]
            fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
                self.0.run(&self.0.weights(), x, None, None).0
            }

            /// `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, then layer 1, …
            /// (PyTorch's names and order).
            fn named_parameters(&self) -> Vec<(String, Param<F>)> {
                self.0.params.clone()
            }
        }
    };
}

recurrent_module!(Rnn);
recurrent_module!(Gru);
recurrent_module!(Lstm);
