//! `scaled_dot_product_attention`: softmax(Q·Kᵀ·s + M)·V, PyTorch's
//! `F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal, scale)`, and
//! `attention_weights`, the softmax(Q·Kᵀ·s + M) part alone (what
//! `nn.MultiheadAttention(need_weights=True)` returns).
//!
//! ```text
//! A = softmax(Q·Kᵀ·s + M)        along the keys (the last axis), s = 1/√E unless given
//! y = dropout_p(A)·V
//! Q [..., L, E]   K [..., S, E]   V [..., S, Ev]   →   A [..., L, S],  y [..., L, Ev]
//! ```
//!
//! The batch axes `...` broadcast (NumPy rules), as in torch's math reference.
//!
//! **Masks** ([`AttnMask`], broadcasting to `[..., L, S]`):
//! - `Bool`: **true = may attend** (torch's sdpa convention). A false entry is a score of −∞.
//!   `nn.MultiheadAttention` uses the *opposite* convention (true = masked out); its layer in
//!   `tapegrad-models` converts.
//! - `Float`: added to the scores as given; −∞ entries forbid, finite ones bias (ALiBi, …). A
//!   tracked float mask receives a gradient (∂L/∂M = ∂L/∂scores).
//! - `is_causal`: query i sees keys 0..=i, **top-left aligned** when L ≠ S (torch's
//!   `tril(ones(L, S))`): with L > S the last queries see every key, with L < S the last
//!   keys are seen by no query. Combining it with an explicit mask is an error, as in torch.
//!
//! **Fully masked rows.** A query that may attend to no key has a row of −∞ scores, whose
//! plain softmax is 0/0 = NaN (`softmax` gives NaN there, like `torch.softmax`). PyTorch's
//! attention returns 0 for such a row instead (since 2.5 its math and CPU kernels use a
//! "safe softmax"; torch 2.15 gives output 0 and gradient 0 there, in both the default and the
//! math backend, for boolean and float masks alike). tapegrad does the same: a row whose scores
//! are all −∞ has weights exactly 0, so its output is 0 and nothing flows back through it —
//! no NaN anywhere, first or second order. The row is first replaced by zeros (so its softmax
//! is finite), then its weights are set to 0: the double `where_cond` that keeps a NaN out
//! of the forward pass, hence out of every gradient.
//!
//! **Dropout** (training only; pass 0 to evaluate): each weight is kept with probability
//! 1 − p and scaled by 1/(1 − p), from a ChaCha8 generator seeded with `dropout_seed` (torch's
//! generator differs, so masks are not torch's). Applied after the softmax, as torch does.
//!
//! A composite of `matmul` (Kᵀ read in place, not copied), `mul_scalar`, `where_cond` or `add`
//! for the mask, `softmax` (max-shifted, so no overflow), and `matmul`; no rule of its own.
//! The tape yields, with P = A before dropout, G = ∂L/∂y:
//!
//! ```text
//! ∂L/∂V = Aᵀ·G        ∂L/∂A = G·Vᵀ        ∂L/∂scores = P ⊙ (∂L/∂A − rowsum(∂L/∂A ⊙ P))
//! ∂L/∂Q = s·∂L/∂scores·K        ∂L/∂K = s·(∂L/∂scores)ᵀ·Q
//! ```
//!
//! and masked scores get exactly 0. Being built from differentiable rules, it has second
//! derivatives too (Hessian-vector products, checked against finite differences and torch).
//! A fused primitive (flash attention) would save memory on long sequences; nothing measured
//! here asks for one yet.
//!
//! ```
//! use tapegrad_tensor::{tril_mask, AttnMask, SdpaOptions, Tensor};
//! let q = Tensor::<f64>::randn(&[2, 3, 4], 0.0, 1.0, 1);
//! let k = Tensor::<f64>::randn(&[2, 5, 4], 0.0, 1.0, 2);
//! let v = Tensor::<f64>::randn(&[2, 5, 6], 0.0, 1.0, 3);
//! let causal = SdpaOptions { is_causal: true, ..Default::default() };
//! let y = q.scaled_dot_product_attention(&k, &v, causal);
//! assert_eq!(y.shape(), &[2, 3, 6]);
//! // The same as a boolean mask, true = may attend:
//! let mask = tril_mask(3, 5, 0);
//! let masked = SdpaOptions { attn_mask: Some(AttnMask::Bool(&mask)), ..Default::default() };
//! let same = q.scaled_dot_product_attention(&k, &v, masked);
//! assert_eq!(y.to_vec(), same.to_vec());
//! ```

use std::sync::Arc;

use ndarray::{ArrayD, Axis};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::tril::tril_mask;
use super::where_cond::where_arc;
use crate::error::{or_panic, Result, TensorError};
use crate::shape::broadcast_shapes;
use crate::{Float, Tensor};

const OP: &str = "scaled_dot_product_attention";

/// A mask on attention scores `[..., L, S]` (it broadcasts to that shape).
#[derive(Clone, Copy, Debug)]
pub enum AttnMask<'a, F: Float> {
    /// In [`scaled_dot_product_attention`](Tensor::scaled_dot_product_attention): **true =
    /// may attend**, false = score −∞ (torch's sdpa). NOTE: `nn.MultiheadAttention`'s boolean
    /// masks mean the opposite, true = masked out.
    Bool(&'a ArrayD<bool>),
    /// Added to the scores as given (−∞ forbids).
    Float(&'a Tensor<F>),
}

/// The settings of [`scaled_dot_product_attention`](Tensor::scaled_dot_product_attention);
/// the default is torch's: no mask, no dropout, not causal, scale 1/√E.
#[derive(Clone, Copy, Debug)]
pub struct SdpaOptions<'a, F: Float> {
    /// A boolean (true = may attend) or additive float mask.
    pub attn_mask: Option<AttnMask<'a, F>>,
    /// The dropout probability on the attention weights, in [0, 1) (default 0).
    pub dropout_p: f64,
    /// Seed of the dropout mask (used only when `dropout_p > 0`).
    pub dropout_seed: u64,
    /// A causal mask, top-left aligned: query i sees keys 0..=i.
    pub is_causal: bool,
    /// The factor s on Q·Kᵀ; `None` means 1/√E.
    pub scale: Option<f64>,
}

impl<F: Float> Default for SdpaOptions<'_, F> {
    fn default() -> Self {
        SdpaOptions {
            attn_mask: None,
            dropout_p: 0.0,
            dropout_seed: 0,
            is_causal: false,
            scale: None,
        }
    }
}

impl<F: Float> Tensor<F> {
    /// softmax(Q·Kᵀ·s + M)·V with `self` as Q (see the module docs).
    ///
    /// # Errors
    /// `scaled_dot_product_attention` when an operand has fewer than two axes, Q's and K's
    /// last axes differ, K and V have different numbers of keys, batch axes or the mask do
    /// not broadcast, `is_causal` is combined with a mask, or `dropout_p` is not in [0, 1).
    #[track_caller]
    pub fn try_scaled_dot_product_attention(
        &self,
        key: &Tensor<F>,
        value: &Tensor<F>,
        options: SdpaOptions<'_, F>,
    ) -> Result<Tensor<F>> {
        check_rank(value)?;
        let (ks, vs) = (key.shape(), value.shape());
        if ks.len() >= 2 && ks[ks.len() - 2] != vs[vs.len() - 2] {
            return Err(mismatch(
                key,
                value,
                format!(
                    "the key has {} positions and the value {}",
                    ks[ks.len() - 2],
                    vs[vs.len() - 2]
                ),
            ));
        }
        let weights = self.try_attention_weights(key, options)?;
        weights.try_matmul(value).map_err(|e| e.in_op(OP))
    }

    /// Panicking form of
    /// [`try_scaled_dot_product_attention`](Self::try_scaled_dot_product_attention).
    #[track_caller]
    pub fn scaled_dot_product_attention(
        &self,
        key: &Tensor<F>,
        value: &Tensor<F>,
        options: SdpaOptions<'_, F>,
    ) -> Tensor<F> {
        or_panic(self.try_scaled_dot_product_attention(key, value, options))
    }

    /// The attention weights dropout_p(softmax(Q·Kᵀ·s + M)), `[..., L, S]`, with `self` as Q:
    /// every row sums to 1 (before dropout), or is all 0 when fully masked.
    ///
    /// # Errors
    /// As [`try_scaled_dot_product_attention`](Self::try_scaled_dot_product_attention).
    #[track_caller]
    pub fn try_attention_weights(
        &self,
        key: &Tensor<F>,
        options: SdpaOptions<'_, F>,
    ) -> Result<Tensor<F>> {
        let (q, k) = (self, key);
        check_rank(q)?;
        check_rank(k)?;
        let (qs, ks) = (q.shape(), k.shape());
        let nd = qs.len();
        let (queries, e, keys) = (qs[nd - 2], qs[nd - 1], ks[ks.len() - 2]);
        if ks[ks.len() - 1] != e {
            return Err(mismatch(
                q,
                k,
                format!(
                    "queries and keys need one embedding size, got {e} and {}",
                    ks[ks.len() - 1]
                ),
            ));
        }
        let p = options.dropout_p;
        if !(0.0..1.0).contains(&p) {
            return Err(TensorError::InvalidArgument {
                op: OP,
                shape: qs.to_vec(),
                rule: format!("dropout_p = {p}; it must be in [0, 1)"),
            });
        }
        if options.is_causal && options.attn_mask.is_some() {
            return Err(TensorError::InvalidArgument {
                op: OP,
                shape: qs.to_vec(),
                rule:
                    "an explicit attn_mask cannot be combined with is_causal (torch refuses it too)"
                        .into(),
            });
        }
        let scale = options.scale.unwrap_or(1.0 / (e as f64).sqrt());
        let (q_batch, k_batch) = (&qs[..nd - 2], &ks[..ks.len() - 2]);
        let scores = if q_batch == k_batch {
            // Kᵀ read in place by the product, never copied.
            q.matmul_same_batch(k, false, true)?
        } else {
            broadcast_shapes(OP, q_batch, k_batch)?;
            q.try_matmul(&k.try_transpose(ks.len() - 2, ks.len() - 1)?)?
        };
        let scores = scores.mul_scalar(F::from_f64(scale));
        let minus_inf = Tensor::scalar(F::neg_infinity());
        let causal;
        let mask = match options.attn_mask {
            Some(mask) => Some(mask),
            None if options.is_causal => {
                causal = tril_mask(queries, keys, 0);
                Some(AttnMask::Bool(&causal))
            }
            None => None,
        };
        let scores = match mask {
            None => scores,
            Some(AttnMask::Bool(allowed)) => {
                where_arc(OP, Arc::new(allowed.clone()), &scores, &minus_inf)?
            }
            Some(AttnMask::Float(bias)) => scores.try_add(bias).map_err(|e| e.in_op(OP))?,
        };
        let last = scores.ndim() - 1;
        // Rows that may attend to nothing: all −∞ (a constant mask, like any comparison).
        let dead = scores
            .value()
            .map_axis(Axis(last), |row| {
                row.iter().all(|&x| x == F::neg_infinity())
            })
            .insert_axis(Axis(last));
        let weights = if dead.iter().any(|&d| d) {
            let dead = Arc::new(dead);
            let zero = Tensor::scalar(F::zero());
            let finite = where_arc(OP, Arc::clone(&dead), &zero, &scores)?;
            where_arc(OP, dead, &zero, &finite.try_softmax(last)?)?
        } else {
            scores.try_softmax(last)?
        };
        if p == 0.0 {
            return Ok(weights);
        }
        Ok(weights.mul(&dropout_mask(weights.shape(), p, options.dropout_seed)))
    }

    /// Panicking form of [`try_attention_weights`](Self::try_attention_weights).
    #[track_caller]
    pub fn attention_weights(&self, key: &Tensor<F>, options: SdpaOptions<'_, F>) -> Tensor<F> {
        or_panic(self.try_attention_weights(key, options))
    }
}

/// The constant m/(1 − p) of inverted dropout: 0 with probability p, 1/(1 − p) otherwise, each
/// from one uniform of a ChaCha8 stream (the top 53 bits of a 64-bit word).
fn dropout_mask<F: Float>(shape: &[usize], p: f64, seed: u64) -> Tensor<F> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let keep = F::from_f64(1.0 / (1.0 - p));
    Tensor::from_array(ArrayD::from_shape_simple_fn(shape, || {
        let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        if u < p {
            F::zero()
        } else {
            keep
        }
    }))
}

fn check_rank<F: Float>(t: &Tensor<F>) -> Result<()> {
    if t.ndim() < 2 {
        return Err(TensorError::InvalidArgument {
            op: OP,
            shape: t.shape().to_vec(),
            rule: "queries, keys and values need at least two axes [..., positions, features]"
                .into(),
        });
    }
    Ok(())
}

fn mismatch<F: Float>(a: &Tensor<F>, b: &Tensor<F>, rule: String) -> TensorError {
    TensorError::ShapeMismatch {
        op: OP,
        lhs: a.shape().to_vec(),
        rhs: b.shape().to_vec(),
        rule,
    }
}

#[cfg(test)]
mod tests;
