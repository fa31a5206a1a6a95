//! One transformer encoder block, PyTorch's `nn.TransformerEncoderLayer`: self-attention then
//! a position-wise feed-forward network, each with a residual connection and a layer norm,
//! under torch's names (`self_attn.*`, `linear1`, `linear2`, `norm1`, `norm2`).
//!
//! ```text
//! post-norm (norm_first = false, torch's default; Vaswani et al., 2017):
//!     x = norm1(x + SA(x))
//!     x = norm2(x + FF(x))
//! pre-norm (norm_first = true; GPT-2, Xiong et al., 2020):
//!     x = x + SA(norm1(x))
//!     x = x + FF(norm2(x))
//! SA(x) = dropout1(self_attn(x, x, x))
//! FF(x) = dropout2(linear2(dropout(activation(linear1(x)))))
//! ```
//!
//! Shapes: `[L, N, d_model]` (sequence first, torch's default), `[N, L, d_model]` with
//! `batch_first`, or unbatched `[L, d_model]`; the output has the input's shape. Masks are
//! those of [`MultiheadAttention`](crate::module::MultiheadAttention): **boolean masks are
//! true where attention is forbidden**; `is_causal` (or [`with_causal`] for
//! [`Module::forward`]) makes position i see positions 0..=i only, the block of a decoder-only
//! language model.
//!
//! Initialisation as torch's: `self_attn` as `MultiheadAttention` (Xavier in-projection, zero
//! biases), `linear1` and `linear2` as `nn.Linear` (weight and bias U(−1/√in, 1/√in)), norms
//! γ = 1 and β = 0. A torch state dict saved with `safetensors.torch.save_file` loads with
//! [`io::load`](crate::io::load) as it is.
//!
//! [`with_causal`]: TransformerEncoderLayer::with_causal
//!
//! ```
//! use tapegrad_models::module::{
//!     Activation, Module, TransformerEncoderLayer, TransformerEncoderLayerConfig,
//! };
//! use tapegrad_tensor::Tensor;
//! let config = TransformerEncoderLayerConfig {
//!     dim_feedforward: 32,
//!     dropout: 0.0,
//!     activation: Activation::Gelu,
//!     batch_first: true,
//!     norm_first: true,
//!     ..Default::default()
//! };
//! let block = TransformerEncoderLayer::<f64>::new(16, 4, config, 0).with_causal(true);
//! let x = Tensor::randn(&[2, 5, 16], 0.0, 1.0, 1); // [N, L, d_model]
//! assert_eq!(block.forward(&x).shape(), &[2, 5, 16]);
//! assert_eq!(block.named_parameters()[0].0, "self_attn.in_proj_weight");
//! ```
//!
//! Not supported (torch has them): `bias = false` (every linear and norm here has a bias), a
//! custom activation callable (any [`Activation`] is accepted; torch's strings are `relu` and
//! `gelu`).

use tapegrad_tensor::{AttnMask, Float, Param, Tensor};

use super::{stream, Dropout, LayerNorm, MultiheadAttention, MultiheadAttentionConfig};
use crate::init::pytorch_uniform;
use crate::module::{Activation, Linear, Module, MultiheadAttentionOptions};
use crate::rng::SharedRng;

/// The options of a [`TransformerEncoderLayer`]; `Default` gives torch's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransformerEncoderLayerConfig {
    /// Width of the feed-forward network's hidden layer (default 2048).
    pub dim_feedforward: usize,
    /// Dropout probability of the attention weights, `dropout`, `dropout1` and `dropout2`
    /// (default 0.1).
    pub dropout: f64,
    /// The feed-forward network's activation (default ReLU; torch's other choice is
    /// `Activation::Gelu`, the exact GELU).
    pub activation: Activation,
    /// ε of both layer norms (default 1e-5).
    pub layer_norm_eps: f64,
    /// Whether inputs are `[N, L, d_model]` instead of `[L, N, d_model]` (default false).
    pub batch_first: bool,
    /// Pre-norm (true) or post-norm (false, the default).
    pub norm_first: bool,
}

impl Default for TransformerEncoderLayerConfig {
    fn default() -> Self {
        TransformerEncoderLayerConfig {
            dim_feedforward: 2048,
            dropout: 0.1,
            activation: Activation::Relu,
            layer_norm_eps: 1e-5,
            batch_first: false,
            norm_first: false,
        }
    }
}

/// `nn.TransformerEncoderLayer(d_model, nhead, …)` (see the module docs). Starts in training
/// mode, in which its dropouts act.
#[derive(Debug)]
pub struct TransformerEncoderLayer<F: Float> {
    self_attn: MultiheadAttention<F>,
    linear1: Linear<F>,
    linear2: Linear<F>,
    norm1: LayerNorm<F>,
    norm2: LayerNorm<F>,
    dropout: Dropout,
    dropout1: Dropout,
    dropout2: Dropout,
    activation: Activation,
    norm_first: bool,
    causal: bool,
}

/// A `Linear` drawn as torch's `nn.Linear` is: weight and bias U(−1/√in, 1/√in).
fn torch_linear<F: Float>(inputs: usize, outputs: usize, seed: u64) -> Linear<F> {
    let layer = Linear::zeros(inputs, outputs);
    let weight = pytorch_uniform(&[outputs, inputs], inputs, stream(seed, 0));
    let bias = pytorch_uniform(&[outputs], inputs, stream(seed, 1));
    layer.weight().set_value(weight).expect("same shape");
    layer.bias().set_value(bias).expect("same shape");
    layer
}

impl<F: Float> TransformerEncoderLayer<F> {
    /// A block of width `d_model` with `nhead` attention heads, drawn with `seed`.
    ///
    /// # Panics
    /// When `nhead` does not divide `d_model`, or `config.dropout` is not in [0, 1).
    #[track_caller]
    pub fn new(
        d_model: usize,
        nhead: usize,
        config: TransformerEncoderLayerConfig,
        seed: u64,
    ) -> Self {
        let attention = MultiheadAttentionConfig {
            dropout: config.dropout,
            bias: true,
            batch_first: config.batch_first,
        };
        let ff = config.dim_feedforward;
        TransformerEncoderLayer {
            self_attn: MultiheadAttention::with_config(d_model, nhead, attention, stream(seed, 0)),
            linear1: torch_linear(d_model, ff, stream(seed, 1)),
            linear2: torch_linear(ff, d_model, stream(seed, 2)),
            norm1: LayerNorm::with_eps(d_model, config.layer_norm_eps),
            norm2: LayerNorm::with_eps(d_model, config.layer_norm_eps),
            dropout: Dropout::new(config.dropout, stream(seed, 3)),
            dropout1: Dropout::new(config.dropout, stream(seed, 4)),
            dropout2: Dropout::new(config.dropout, stream(seed, 5)),
            activation: config.activation,
            norm_first: config.norm_first,
            causal: false,
        }
    }

    /// The same block, whose [`Module::forward`] applies a causal mask (position i sees
    /// positions 0..=i): a decoder-only language model's block. `forward_masked` is unchanged.
    pub fn with_causal(mut self, causal: bool) -> Self {
        self.causal = causal;
        self
    }

    /// The self-attention sublayer.
    pub fn self_attn(&self) -> &MultiheadAttention<F> {
        &self.self_attn
    }

    /// torch's `forward(src, src_mask, src_key_padding_mask, is_causal)`: `src_mask` `[L, L]`
    /// or `[N·nhead, L, L]`, `src_key_padding_mask` `[N, L]`, boolean ones true where
    /// attention is forbidden; `is_causal` adds the causal mask when `src_mask` is `None`.
    ///
    /// # Panics
    /// As [`MultiheadAttention::forward_qkv`].
    #[track_caller]
    pub fn forward_masked(
        &self,
        src: &Tensor<F>,
        src_mask: Option<AttnMask<'_, F>>,
        src_key_padding_mask: Option<AttnMask<'_, F>>,
        is_causal: bool,
    ) -> Tensor<F> {
        let options = MultiheadAttentionOptions {
            key_padding_mask: src_key_padding_mask,
            attn_mask: src_mask,
            need_weights: false,
            average_attn_weights: true,
            is_causal,
        };
        let sa = |x: &Tensor<F>| {
            let (y, _) = self.self_attn.forward_qkv(x, x, x, options);
            self.dropout1.forward(&y)
        };
        let ff = |x: &Tensor<F>| {
            let hidden = self.activation.forward(&self.linear1.forward(x));
            self.dropout2
                .forward(&self.linear2.forward(&self.dropout.forward(&hidden)))
        };
        if self.norm_first {
            let x = src + &sa(&self.norm1.forward(src));
            &x + &ff(&self.norm2.forward(&x))
        } else {
            let x = self.norm1.forward(&(src + &sa(src)));
            self.norm2.forward(&(&x + &ff(&x)))
        }
    }
}

impl<F: Float> Module<F> for TransformerEncoderLayer<F> {
    /// `forward_masked(x, None, None, causal)`, causal as set by
    /// [`with_causal`](TransformerEncoderLayer::with_causal).
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        self.forward_masked(x, None, None, self.causal)
    }

    /// torch's `state_dict` order: `self_attn.in_proj_weight`, `self_attn.in_proj_bias`,
    /// `self_attn.out_proj.weight`, `self_attn.out_proj.bias`, `linear1.weight`,
    /// `linear1.bias`, `linear2.weight`, `linear2.bias`, `norm1.weight`, `norm1.bias`,
    /// `norm2.weight`, `norm2.bias`.
    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        let parts: [(&str, &dyn Module<F>); 5] = [
            ("self_attn", &self.self_attn),
            ("linear1", &self.linear1),
            ("linear2", &self.linear2),
            ("norm1", &self.norm1),
            ("norm2", &self.norm2),
        ];
        parts
            .into_iter()
            .flat_map(|(prefix, part)| {
                part.named_parameters()
                    .into_iter()
                    .map(move |(name, p)| (format!("{prefix}.{name}"), p))
            })
            .collect()
    }

    fn named_rngs(&self) -> Vec<(String, SharedRng)> {
        let mut rngs: Vec<(String, SharedRng)> = Module::<F>::named_rngs(&self.self_attn)
            .into_iter()
            .map(|(name, r)| (format!("self_attn.{name}"), r))
            .collect();
        for (name, dropout) in [
            ("dropout", &self.dropout),
            ("dropout1", &self.dropout1),
            ("dropout2", &self.dropout2),
        ] {
            rngs.extend(
                Module::<F>::named_rngs(dropout)
                    .into_iter()
                    .map(|(inner, r)| (format!("{name}.{inner}"), r)),
            );
        }
        rngs
    }

    fn set_training(&mut self, training: bool) {
        self.self_attn.set_training(training);
        for dropout in [&mut self.dropout, &mut self.dropout1, &mut self.dropout2] {
            Module::<F>::set_training(dropout, training);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapegrad_tensor::tril_mask;

    fn block(norm_first: bool, activation: Activation) -> TransformerEncoderLayer<f64> {
        let config = TransformerEncoderLayerConfig {
            dim_feedforward: 8,
            dropout: 0.0,
            activation,
            norm_first,
            ..Default::default()
        };
        let layer = TransformerEncoderLayer::new(4, 2, config, 3);
        // Random norms and attention biases, so every parameter matters.
        for (k, (_, p)) in layer.named_parameters().into_iter().enumerate() {
            if !matches!(k, 0 | 4 | 6) {
                let v = Tensor::<f64>::rand_uniform(p.shape(), 0.5, 1.5, 20 + k as u64);
                p.set_value(v.to_array()).unwrap();
            }
        }
        layer
    }

    #[test]
    fn names_shapes_and_the_two_orders_of_norm_and_residual() {
        let layer = block(false, Activation::Relu);
        let named: Vec<(String, Vec<usize>)> = layer
            .named_parameters()
            .into_iter()
            .map(|(n, p)| (n, p.shape().to_vec()))
            .collect();
        let want: Vec<(&str, Vec<usize>)> = vec![
            ("self_attn.in_proj_weight", vec![12, 4]),
            ("self_attn.in_proj_bias", vec![12]),
            ("self_attn.out_proj.weight", vec![4, 4]),
            ("self_attn.out_proj.bias", vec![4]),
            ("linear1.weight", vec![8, 4]),
            ("linear1.bias", vec![8]),
            ("linear2.weight", vec![4, 8]),
            ("linear2.bias", vec![4]),
            ("norm1.weight", vec![4]),
            ("norm1.bias", vec![4]),
            ("norm2.weight", vec![4]),
            ("norm2.bias", vec![4]),
        ];
        for ((n, s), (wn, ws)) in named.iter().zip(&want) {
            assert_eq!((n.as_str(), s), (*wn, ws));
        }
        // Post-norm by hand from the sublayers; then pre-norm.
        let x = Tensor::<f64>::randn(&[3, 2, 4], 0.0, 1.0, 1);
        let sa = |x: &Tensor<f64>| layer.self_attn.forward(x);
        let ff = |x: &Tensor<f64>| layer.linear2.forward(&layer.linear1.forward(x).relu());
        let h = layer.norm1.forward(&(&x + &sa(&x)));
        let want = layer.norm2.forward(&(&h + &ff(&h)));
        assert_eq!(layer.forward(&x).to_vec(), want.to_vec());
        let pre = TransformerEncoderLayer {
            norm_first: true,
            ..layer
        };
        let sa = |x: &Tensor<f64>| pre.self_attn.forward(x);
        let ff = |x: &Tensor<f64>| pre.linear2.forward(&pre.linear1.forward(x).relu());
        let h = &x + &sa(&pre.norm1.forward(&x));
        let want = &h + &ff(&pre.norm2.forward(&h));
        assert_eq!(pre.forward(&x).to_vec(), want.to_vec());
        // Linear layers start in torch's U(−1/√in, 1/√in), biases included.
        let fresh =
            TransformerEncoderLayer::<f64>::new(4, 2, TransformerEncoderLayerConfig::default(), 0);
        let bias = fresh.linear2.bias().value();
        assert!(
            bias.iter().all(|b| b.abs() < 1.0 / 2048f64.sqrt()) && bias.iter().any(|&b| b != 0.0)
        );
    }

    #[test]
    fn causal_blocks_see_no_future_and_masks_follow_torch() {
        let layer = block(true, Activation::Gelu).with_causal(true);
        let x = Tensor::<f64>::randn(&[4, 2, 4], 0.0, 1.0, 2);
        let y = layer.forward(&x);
        let future = !&tril_mask(4, 4, 0); // true = forbidden
        let explicit = layer.forward_masked(&x, Some(AttnMask::Bool(&future)), None, false);
        assert_eq!(y.to_vec(), explicit.to_vec());
        let mut later = x.to_array();
        later[[3, 1, 2]] -= 2.0;
        let y2 = layer.forward(&Tensor::from_array(later));
        assert_eq!(y2.narrow(0, 0, 3).to_vec(), y.narrow(0, 0, 3).to_vec());
        assert_ne!(y2.narrow(0, 3, 1).to_vec(), y.narrow(0, 3, 1).to_vec());
    }

    #[test]
    fn dropout_in_training_only_and_gradients_check() {
        let config = TransformerEncoderLayerConfig {
            dim_feedforward: 8,
            dropout: 0.3,
            ..Default::default()
        };
        let mut layer = TransformerEncoderLayer::<f64>::new(4, 2, config, 5);
        let x = Tensor::<f64>::randn(&[3, 2, 4], 0.0, 1.0, 3);
        assert_ne!(layer.forward(&x).to_vec(), layer.forward(&x).to_vec());
        Module::<f64>::set_training(&mut layer, false);
        assert_eq!(layer.forward(&x).to_vec(), layer.forward(&x).to_vec());
        // Every parameter's gradient against central differences (evaluation mode).
        let r = Tensor::<f64>::rand_uniform(&[3, 2, 4], -1.0, 1.0, 4);
        let loss = || (layer.forward(&x) * &r).sum();
        crate::module::check_parameters(&layer, loss);
        tapegrad_tensor::gradcheck::gradcheck(
            "encoder layer",
            |t| layer.forward(&t[0]),
            &[x.to_array()],
        )
        .unwrap();
    }
}
