//! Multi-head attention (Vaswani et al., 2017), PyTorch's `nn.MultiheadAttention`: its
//! parameter names, layouts, initialisation and forward arguments.
//!
//! ```text
//! Qᵢ = query·W_qᵢᵀ + b_qᵢ,   Kᵢ = key·W_kᵢᵀ + b_kᵢ,   Vᵢ = value·W_vᵢᵀ + b_vᵢ      (head i of H)
//! headᵢ = softmax(Qᵢ·Kᵢᵀ/√(E/H) + M)·Vᵢ
//! y = concat(head₁, …, head_H)·W_oᵀ + b_o
//! ```
//!
//! Parameters, as in torch's `state_dict`: `in_proj_weight` `[3E, E]` (the rows of W_q, W_k,
//! W_v stacked, each head a block of E/H rows), `in_proj_bias` `[3E]`, `out_proj.weight`
//! `[E, E]` and `out_proj.bias` `[E]` (the biases only with `bias`). They start as torch's
//! `_reset_parameters` leaves them: `in_proj_weight` Xavier-uniform U(−a, a) with
//! a = √(6/(E + 3E)), `out_proj.weight` as a `Linear`'s, U(−1/√E, 1/√E), both biases 0. A torch
//! state dict saved with `safetensors.torch.save_file` loads with
//! [`io::load`](crate::io::load) as it is.
//!
//! Shapes: query `[L, N, E]` and key, value `[S, N, E]` (sequence first, torch's default), or
//! `[N, L, E]`, `[N, S, E]` with `batch_first`, or unbatched `[L, E]`, `[S, E]`. The output has
//! the query's shape; the weights are `[N, L, S]` averaged over heads, `[N, H, L, S]` per head
//! (`[L, S]` or `[H, L, S]` unbatched).
//!
//! # Masks: true means *masked out* here
//!
//! **A boolean `attn_mask` or `key_padding_mask` that is true at a position forbids attending
//! there** — torch's `nn.MultiheadAttention` convention, and the *opposite* of
//! [`scaled_dot_product_attention`](tapegrad_tensor::Tensor::scaled_dot_product_attention),
//! whose boolean mask is true where attention is *allowed*. Passing a mask built for one to the
//! other silently attends to exactly the wrong keys. Float masks mean the same in both: added
//! to the scores, −∞ forbids.
//!
//! - `attn_mask`: `[L, S]`, or `[N·H, L, S]` for one mask per batch element and head (torch's
//!   layout, batch-major). `tril_mask(L, S, 0)` is the causal mask for sdpa; here the causal
//!   mask is its negation, `!&tril_mask(L, S, 0)`, or just `is_causal`.
//! - `key_padding_mask`: `[N, S]` (`[S]` unbatched), true at padding keys.
//! - `is_causal`: with no `attn_mask`, a causal mask (query i sees keys 0..=i) is built. torch
//!   requires an `attn_mask` with `is_causal` (it is only a hint there) and refuses it alone;
//!   when both are given the mask is used, as in torch.
//!
//! A query whose keys are all masked gets weights 0 and output `out_proj.bias`: the safe
//! softmax of [`scaled_dot_product_attention`](tapegrad_tensor::Tensor::scaled_dot_product_attention),
//! which torch uses too when `need_weights` is false; torch's `need_weights = true` path uses a
//! plain softmax and gives NaN there instead.
//!
//! Dropout (probability `dropout`, training mode only) applies to the attention weights, as in
//! torch; the weights returned are those after dropout. Its masks come from a ChaCha8 stream
//! seeded at construction.
//!
//! A composite of `linear`, `narrow`, `reshape`, `permute`, `attention_weights` and `matmul`:
//! the tape derives every gradient, second order included. For self-attention (the same
//! tensor as query, key and value) the three projections are one product with all of
//! `in_proj_weight`, as torch computes it.
//!
//! ```
//! use tapegrad_models::module::{Module, MultiheadAttention, MultiheadAttentionOptions};
//! use tapegrad_tensor::{AttnMask, Tensor};
//! let mha = MultiheadAttention::<f64>::new(8, 2, 0);
//! let x = Tensor::randn(&[5, 3, 8], 0.0, 1.0, 1); // L = 5 positions, N = 3 sequences
//! // Padding: the last two keys of sequence 0 are masked out (true = ignore).
//! let mut padding = ndarray::ArrayD::from_elem(vec![3, 5], false);
//! padding[[0, 3]] = true;
//! padding[[0, 4]] = true;
//! let options = MultiheadAttentionOptions {
//!     key_padding_mask: Some(AttnMask::Bool(&padding)),
//!     is_causal: true,
//!     ..Default::default()
//! };
//! let (y, weights) = mha.forward_qkv(&x, &x, &x, options);
//! let weights = weights.unwrap();
//! assert_eq!((y.shape(), weights.shape()), (&[5, 3, 8][..], &[3, 5, 5][..]));
//! assert_eq!(weights.to_vec()[4 * 5 + 3..4 * 5 + 5], [0.0, 0.0]); // sequence 0, query 4
//! assert_eq!(mha.forward(&x).shape(), &[5, 3, 8]); // self-attention, no masks
//! ```
//!
//! Not supported (torch has them): `kdim`/`vdim` (separate projection weights), `add_bias_kv`,
//! `add_zero_attn`.

use std::sync::Arc;

use ndarray::{ArrayD, IxDyn, Zip};
use rand::RngCore;
use tapegrad_tensor::shape::broadcast_shapes;
use tapegrad_tensor::{tril_mask, AttnMask, Float, Param, SdpaOptions, Tensor};

use super::stream;
use crate::init::pytorch_uniform;
use crate::module::Module;
use crate::rng::SharedRng;

#[cfg(test)]
mod tests;

/// The options of a [`MultiheadAttention`]; `Default` gives torch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultiheadAttentionConfig {
    /// Dropout probability on the attention weights in training mode (default 0).
    pub dropout: f64,
    /// Whether `in_proj_bias` and `out_proj.bias` exist (default true).
    pub bias: bool,
    /// Whether inputs and outputs are `[N, L, E]` instead of `[L, N, E]` (default false).
    pub batch_first: bool,
}

impl Default for MultiheadAttentionConfig {
    fn default() -> Self {
        MultiheadAttentionConfig {
            dropout: 0.0,
            bias: true,
            batch_first: false,
        }
    }
}

/// The arguments of [`MultiheadAttention::forward_qkv`] beyond the inputs, torch's `forward`
/// keywords; `Default` gives torch's (no masks, `need_weights` and `average_attn_weights`
/// true, not causal). **Boolean masks are true where attention is forbidden.**
#[derive(Clone, Copy, Debug)]
pub struct MultiheadAttentionOptions<'a, F: Float> {
    /// `[N, S]` (`[S]` unbatched): true (or −∞) at keys to ignore, e.g. padding.
    pub key_padding_mask: Option<AttnMask<'a, F>>,
    /// `[L, S]` or `[N·H, L, S]`: true (or −∞) where query l may not see key s.
    pub attn_mask: Option<AttnMask<'a, F>>,
    /// Whether to return the attention weights (default true).
    pub need_weights: bool,
    /// Whether the returned weights are averaged over heads (default true).
    pub average_attn_weights: bool,
    /// A causal mask when `attn_mask` is `None` (see the module docs).
    pub is_causal: bool,
}

impl<F: Float> Default for MultiheadAttentionOptions<'_, F> {
    fn default() -> Self {
        MultiheadAttentionOptions {
            key_padding_mask: None,
            attn_mask: None,
            need_weights: true,
            average_attn_weights: true,
            is_causal: false,
        }
    }
}

/// `nn.MultiheadAttention(embed_dim, num_heads)` (see the module docs). Starts in training
/// mode, which matters only when `dropout > 0`.
#[derive(Debug)]
pub struct MultiheadAttention<F: Float> {
    embed_dim: usize,
    num_heads: usize,
    config: MultiheadAttentionConfig,
    in_proj_weight: Param<F>,
    in_proj_bias: Option<Param<F>>,
    out_proj_weight: Param<F>,
    out_proj_bias: Option<Param<F>>,
    training: bool,
    rng: SharedRng,
}

/// The merged mask handed to `attention_weights`, in sdpa's convention.
enum Merged<F: Float> {
    /// True = may attend.
    Allowed(ArrayD<bool>),
    /// Added to the scores.
    Bias(Tensor<F>),
}

impl<F: Float> MultiheadAttention<F> {
    /// `embed_dim` features split over `num_heads` heads, torch's defaults otherwise, drawn
    /// with `seed`.
    ///
    /// # Panics
    /// When `num_heads` is 0 or does not divide `embed_dim`.
    #[track_caller]
    pub fn new(embed_dim: usize, num_heads: usize, seed: u64) -> Self {
        Self::with_config(
            embed_dim,
            num_heads,
            MultiheadAttentionConfig::default(),
            seed,
        )
    }

    /// As [`new`](Self::new), with dropout, bias and layout from `config`.
    ///
    /// # Panics
    /// As [`new`](Self::new); also when `config.dropout` is not in [0, 1).
    #[track_caller]
    pub fn with_config(
        embed_dim: usize,
        num_heads: usize,
        config: MultiheadAttentionConfig,
        seed: u64,
    ) -> Self {
        assert!(
            num_heads > 0 && embed_dim.is_multiple_of(num_heads),
            "MultiheadAttention: embed_dim {embed_dim} is not divisible by num_heads {num_heads}"
        );
        assert!(
            (0.0..1.0).contains(&config.dropout),
            "MultiheadAttention: dropout = {}; it must be in [0, 1)",
            config.dropout
        );
        let e = embed_dim;
        let a = F::from_f64((6.0 / (4 * e) as f64).sqrt());
        let in_proj = Tensor::rand_uniform(&[3 * e, e], -a, a, stream(seed, 0)).to_array();
        let out_proj = pytorch_uniform(&[e, e], e, stream(seed, 1));
        let zeros = |n| Param::new("bias", ArrayD::zeros(vec![n]));
        MultiheadAttention {
            embed_dim,
            num_heads,
            config,
            in_proj_weight: Param::new("in_proj_weight", in_proj),
            in_proj_bias: config.bias.then(|| zeros(3 * e)),
            out_proj_weight: Param::new("out_proj.weight", out_proj),
            out_proj_bias: config.bias.then(|| zeros(e)),
            training: true,
            rng: SharedRng::new(stream(seed, 2)),
        }
    }

    /// E, the model width.
    pub fn embed_dim(&self) -> usize {
        self.embed_dim
    }

    /// H, the number of heads.
    pub fn num_heads(&self) -> usize {
        self.num_heads
    }

    /// Whether inputs are `[N, L, E]`.
    pub fn batch_first(&self) -> bool {
        self.config.batch_first
    }

    /// `in_proj_weight`, `[3E, E]`: W_q, W_k and W_v stacked.
    pub fn in_proj_weight(&self) -> &Param<F> {
        &self.in_proj_weight
    }

    /// `in_proj_bias`, `[3E]`, when the layer has biases.
    pub fn in_proj_bias(&self) -> Option<&Param<F>> {
        self.in_proj_bias.as_ref()
    }

    /// `out_proj.weight`, `[E, E]`.
    pub fn out_proj_weight(&self) -> &Param<F> {
        &self.out_proj_weight
    }

    /// `out_proj.bias`, `[E]`, when the layer has biases.
    pub fn out_proj_bias(&self) -> Option<&Param<F>> {
        self.out_proj_bias.as_ref()
    }

    /// Attention of `query` over `key` and `value`: the output, and with
    /// `options.need_weights` the attention weights (torch's `forward`; see the module docs
    /// for shapes and masks — boolean masks are true where attention is forbidden).
    ///
    /// # Panics
    /// When the inputs are not rank 2 or 3 with E features, key and value differ in shape,
    /// the batch sizes differ, or a mask has the wrong shape.
    #[track_caller]
    pub fn forward_qkv(
        &self,
        query: &Tensor<F>,
        key: &Tensor<F>,
        value: &Tensor<F>,
        options: MultiheadAttentionOptions<'_, F>,
    ) -> (Tensor<F>, Option<Tensor<F>>) {
        let (e, h) = (self.embed_dim, self.num_heads);
        let head_dim = e / h;
        let rank = query.ndim();
        let layout = if self.config.batch_first {
            "[N, L, E]"
        } else {
            "[L, N, E]"
        };
        assert!(
            (rank == 2 || rank == 3) && query.shape()[rank - 1] == e,
            "MultiheadAttention: query of shape {:?}; expected {layout} or [L, E] with E = {e}",
            query.shape()
        );
        assert!(
            key.ndim() == rank && key.shape()[rank - 1] == e && key.shape() == value.shape(),
            "MultiheadAttention: key {:?} and value {:?} must have one shape, of the query's rank {rank} with E = {e}",
            key.shape(),
            value.shape()
        );
        let batched = rank == 3;
        let batch_first = self.config.batch_first && batched;
        let dims = |t: &Tensor<F>| match (batched, batch_first) {
            (false, _) => (1, t.shape()[0]),
            (true, true) => (t.shape()[0], t.shape()[1]),
            (true, false) => (t.shape()[1], t.shape()[0]),
        };
        let ((n, l), (n_key, s)) = (dims(query), dims(key));
        assert!(
            n == n_key,
            "MultiheadAttention: query {:?} and key {:?} have batch sizes {n} and {n_key}",
            query.shape(),
            key.shape()
        );
        let (q, k, v) = self.project(query, key, value);
        // [N, H, len, E/H]: head i is features i·E/H .. (i + 1)·E/H of each position.
        let heads = |x: Tensor<F>, len: usize| {
            if batch_first {
                x.reshape(&[n, len, h, head_dim]).permute(&[0, 2, 1, 3])
            } else {
                x.reshape(&[len, n, h, head_dim]).permute(&[1, 2, 0, 3])
            }
        };
        let (q, k, v) = (heads(q, l), heads(k, s), heads(v, s));
        let merged = self.merged_mask(&options, batched, n, l, s);
        let dropout_p = if self.training {
            self.config.dropout
        } else {
            0.0
        };
        let dropout_seed = if dropout_p > 0.0 {
            self.rng.with(|rng| rng.next_u64())
        } else {
            0
        };
        let sdpa = SdpaOptions {
            attn_mask: merged.as_ref().map(|m| match m {
                Merged::Allowed(allowed) => AttnMask::Bool(allowed),
                Merged::Bias(bias) => AttnMask::Float(bias),
            }),
            dropout_p,
            dropout_seed,
            ..Default::default()
        };
        let weights = q.attention_weights(&k, sdpa);
        let heads_out = weights.matmul(&v); // [N, H, L, E/H]
        let joined = if batch_first {
            heads_out.permute(&[0, 2, 1, 3]).reshape(&[n, l, e])
        } else if batched {
            heads_out.permute(&[2, 0, 1, 3]).reshape(&[l, n, e])
        } else {
            heads_out.permute(&[2, 0, 1, 3]).reshape(&[l, e])
        };
        let bias = self.out_proj_bias.as_ref().map(Param::tensor);
        let y = joined.linear(&self.out_proj_weight.tensor(), bias.as_ref());
        let weights = options.need_weights.then(|| {
            let w = if options.average_attn_weights {
                weights.mean_axes(&[1], false)
            } else {
                weights
            };
            if batched {
                w
            } else {
                w.squeeze(0)
            }
        });
        (y, weights)
    }

    /// The query, key and value projections: one product when all three are one tensor.
    fn project(
        &self,
        query: &Tensor<F>,
        key: &Tensor<F>,
        value: &Tensor<F>,
    ) -> (Tensor<F>, Tensor<F>, Tensor<F>) {
        let e = self.embed_dim;
        let w = self.in_proj_weight.tensor();
        let b = self.in_proj_bias.as_ref().map(Param::tensor);
        if same_tensor(query, key) && same_tensor(key, value) {
            let all = query.linear(&w, b.as_ref());
            let last = all.ndim() - 1;
            return (
                all.narrow(last, 0, e),
                all.narrow(last, e, e),
                all.narrow(last, 2 * e, e),
            );
        }
        let part = |x: &Tensor<F>, i: usize| {
            let bias = b.as_ref().map(|b| b.narrow(0, i * e, e));
            x.linear(&w.narrow(0, i * e, e), bias.as_ref())
        };
        (part(query, 0), part(key, 1), part(value, 2))
    }

    /// `attn_mask`, `key_padding_mask` and `is_causal` merged into one mask on the scores
    /// `[N, H, L, S]` in sdpa's convention: boolean (true = may attend) when every mask given
    /// is boolean, else additive (a boolean mask contributing −∞ where it is true).
    #[track_caller]
    fn merged_mask(
        &self,
        options: &MultiheadAttentionOptions<'_, F>,
        batched: bool,
        n: usize,
        l: usize,
        s: usize,
    ) -> Option<Merged<F>> {
        let h = self.num_heads;
        let causal;
        let attn_mask = match options.attn_mask {
            None if options.is_causal => {
                causal = !&tril_mask(l, s, 0);
                Some(AttnMask::Bool(&causal))
            }
            other => other,
        };
        let mut masks: Vec<(AttnMask<'_, F>, Vec<usize>)> = Vec::new();
        if let Some(mask) = attn_mask {
            let shape = mask_shape(&mask);
            let target = match shape.as_slice() {
                [a, b] if (*a, *b) == (l, s) => vec![1, 1, l, s],
                [nh, a, b] if (*nh, *a, *b) == (n * h, l, s) => vec![n, h, l, s],
                _ => panic!(
                    "MultiheadAttention: attn_mask of shape {shape:?}; expected [L, S] = {:?} or [N·num_heads, L, S] = {:?}",
                    [l, s],
                    [n * h, l, s]
                ),
            };
            masks.push((mask, target));
        }
        if let Some(mask) = options.key_padding_mask {
            let shape = mask_shape(&mask);
            let expected = if batched { vec![n, s] } else { vec![s] };
            assert!(
                shape == expected,
                "MultiheadAttention: key_padding_mask of shape {shape:?}; expected {expected:?} ({})",
                if batched { "[N, S]" } else { "[S], unbatched" }
            );
            masks.push((mask, vec![n, 1, 1, s]));
        }
        if masks.is_empty() {
            return None;
        }
        if masks.iter().all(|(m, _)| matches!(m, AttnMask::Bool(_))) {
            // Masked anywhere means masked: OR the (true = masked out) masks, then negate.
            let mut shape: Vec<usize> = Vec::new();
            let mut views = Vec::new();
            for (mask, target) in &masks {
                let AttnMask::Bool(m) = mask else {
                    unreachable!()
                };
                let view = m.to_shape(IxDyn(target)).expect("checked");
                shape = broadcast_shapes("MultiheadAttention", &shape, target).expect("checked");
                views.push(view);
            }
            let mut allowed = ArrayD::from_elem(shape.clone(), true);
            for view in views {
                Zip::from(&mut allowed)
                    .and(view.broadcast(IxDyn(&shape)).expect("checked"))
                    .for_each(|a, &masked| *a &= !masked);
            }
            return Some(Merged::Allowed(allowed));
        }
        let minus_inf = Tensor::scalar(F::neg_infinity());
        let zero = Tensor::scalar(F::zero());
        let bias = masks
            .into_iter()
            .map(|(mask, target)| match mask {
                AttnMask::Float(t) => t.reshape(&target),
                AttnMask::Bool(m) => {
                    let m = m.to_shape(IxDyn(&target)).expect("checked");
                    Tensor::where_cond(&m.into_owned(), &minus_inf, &zero)
                }
            })
            .reduce(|a, b| a + b)
            .expect("at least one mask");
        Some(Merged::Bias(bias))
    }
}

fn mask_shape<F: Float>(mask: &AttnMask<'_, F>) -> Vec<usize> {
    match mask {
        AttnMask::Bool(m) => m.shape().to_vec(),
        AttnMask::Float(t) => t.shape().to_vec(),
    }
}

/// Whether two handles are one tensor: the same values and the same place on a tape (or the
/// same parameter), so that one projection serves both.
fn same_tensor<F: Float>(a: &Tensor<F>, b: &Tensor<F>) -> bool {
    let same_param = match (a.param(), b.param()) {
        (Some(p), Some(q)) => p.same_as(q),
        (None, None) => true,
        _ => false,
    };
    Arc::ptr_eq(&a.value(), &b.value())
        && a.node_id() == b.node_id()
        && a.is_tracked() == b.is_tracked()
        && same_param
}

impl<F: Float> Module<F> for MultiheadAttention<F> {
    /// Self-attention with no masks: `forward_qkv(x, x, x)`'s output.
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        let options = MultiheadAttentionOptions {
            need_weights: false,
            ..Default::default()
        };
        self.forward_qkv(x, x, x, options).0
    }

    /// `in_proj_weight`, `in_proj_bias`, `out_proj.weight`, `out_proj.bias`: torch's names
    /// and order.
    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        let mut named = vec![("in_proj_weight".to_string(), self.in_proj_weight.clone())];
        named.extend(
            self.in_proj_bias
                .iter()
                .map(|b| ("in_proj_bias".to_string(), b.clone())),
        );
        named.push(("out_proj.weight".to_string(), self.out_proj_weight.clone()));
        named.extend(
            self.out_proj_bias
                .iter()
                .map(|b| ("out_proj.bias".to_string(), b.clone())),
        );
        named
    }

    fn named_rngs(&self) -> Vec<(String, SharedRng)> {
        vec![("rng".into(), self.rng.clone())]
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
}
