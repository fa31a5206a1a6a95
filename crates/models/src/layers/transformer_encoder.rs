//! A stack of [`TransformerEncoderLayer`]s, PyTorch's `nn.TransformerEncoder`, with an
//! optional final layer norm (torch's `norm` argument; a pre-norm stack needs it, as GPT-2's
//! `ln_f`). Parameters are named `layers.{i}.…` and `norm.weight`, `norm.bias`, as in torch's
//! `state_dict`, so a torch encoder saved with `safetensors.torch.save_file` loads with
//! [`io::load`](crate::io::load).
//!
//! ```text
//! x = layer_{n−1}(… layer_1(layer_0(src)))        then x = norm(x) when there is a norm
//! ```
//!
//! NOTE: torch builds its layers as deep copies of one `encoder_layer`, so they all *start*
//! with the same weights (until training moves them apart); here each layer draws its own,
//! from its own stream of the seed. Loading a torch file sets every layer's weights either way.
//!
//! ```
//! use tapegrad_models::module::{Module, TransformerEncoder, TransformerEncoderLayerConfig};
//! use tapegrad_tensor::Tensor;
//! let config = TransformerEncoderLayerConfig { dim_feedforward: 16, norm_first: true, ..Default::default() };
//! let encoder = TransformerEncoder::<f64>::new(8, 2, config, 3, true, 0).with_causal(true);
//! let x = Tensor::randn(&[6, 2, 8], 0.0, 1.0, 1); // [L, N, d_model]
//! assert_eq!(encoder.forward(&x).shape(), &[6, 2, 8]);
//! let names: Vec<String> = encoder.named_parameters().into_iter().map(|(n, _)| n).collect();
//! assert_eq!((names[0].as_str(), names[names.len() - 1].as_str()), ("layers.0.self_attn.in_proj_weight", "norm.bias"));
//! ```

use tapegrad_tensor::{AttnMask, Float, Param, Tensor};

use super::{stream, LayerNorm, TransformerEncoderLayer, TransformerEncoderLayerConfig};
use crate::module::{numbered, Module};
use crate::rng::SharedRng;

/// `nn.TransformerEncoder(encoder_layer, num_layers, norm)` (see the module docs).
#[derive(Debug)]
pub struct TransformerEncoder<F: Float> {
    layers: Vec<TransformerEncoderLayer<F>>,
    norm: Option<LayerNorm<F>>,
    causal: bool,
}

impl<F: Float> TransformerEncoder<F> {
    /// `num_layers` blocks of width `d_model` with `nhead` heads and `config`, followed by a
    /// final layer norm (ε = `config.layer_norm_eps`) when `final_norm`; layer i is drawn from
    /// its own stream of `seed`.
    ///
    /// # Panics
    /// As [`TransformerEncoderLayer::new`].
    #[track_caller]
    pub fn new(
        d_model: usize,
        nhead: usize,
        config: TransformerEncoderLayerConfig,
        num_layers: usize,
        final_norm: bool,
        seed: u64,
    ) -> Self {
        let layers = (0..num_layers)
            .map(|i| TransformerEncoderLayer::new(d_model, nhead, config, stream(seed, i as u64)))
            .collect();
        TransformerEncoder {
            layers,
            norm: final_norm.then(|| LayerNorm::with_eps(d_model, config.layer_norm_eps)),
            causal: false,
        }
    }

    /// The same stack, whose [`Module::forward`] applies a causal mask in every layer.
    pub fn with_causal(mut self, causal: bool) -> Self {
        self.causal = causal;
        self
    }

    /// The blocks, in order.
    pub fn layers(&self) -> &[TransformerEncoderLayer<F>] {
        &self.layers
    }

    /// torch's `forward(src, mask, src_key_padding_mask, is_causal)`: every layer gets the
    /// same masks (boolean ones true where attention is forbidden).
    ///
    /// # Panics
    /// As [`TransformerEncoderLayer::forward_masked`].
    #[track_caller]
    pub fn forward_masked(
        &self,
        src: &Tensor<F>,
        mask: Option<AttnMask<'_, F>>,
        src_key_padding_mask: Option<AttnMask<'_, F>>,
        is_causal: bool,
    ) -> Tensor<F> {
        let x = self.layers.iter().fold(src.clone(), |x, layer| {
            layer.forward_masked(&x, mask, src_key_padding_mask, is_causal)
        });
        match &self.norm {
            Some(norm) => norm.forward(&x),
            None => x,
        }
    }
}

impl<F: Float> Module<F> for TransformerEncoder<F> {
    /// `forward_masked(x, None, None, causal)`.
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        self.forward_masked(x, None, None, self.causal)
    }

    /// `layers.{i}.…` for each layer, then `norm.weight` and `norm.bias`.
    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        let mut named = numbered(&self.layers, "layers.", |layer| layer.named_parameters());
        if let Some(norm) = &self.norm {
            named.extend(
                norm.named_parameters()
                    .into_iter()
                    .map(|(name, p)| (format!("norm.{name}"), p)),
            );
        }
        named
    }

    fn named_rngs(&self) -> Vec<(String, SharedRng)> {
        numbered(&self.layers, "layers.", |layer| layer.named_rngs())
    }

    fn set_training(&mut self, training: bool) {
        for layer in &mut self.layers {
            layer.set_training(training);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_dropout_generator_is_listed_for_checkpoints() {
        let config = TransformerEncoderLayerConfig {
            dim_feedforward: 8,
            dropout: 0.1,
            ..Default::default()
        };
        let encoder = TransformerEncoder::<f64>::new(4, 2, config, 2, false, 1);
        let names: Vec<String> = encoder.named_rngs().into_iter().map(|(n, _)| n).collect();
        let layer = |i: usize| {
            [
                "self_attn.rng",
                "dropout.rng",
                "dropout1.rng",
                "dropout2.rng",
            ]
            .map(|n| format!("layers.{i}.{n}"))
        };
        assert_eq!(names, [layer(0), layer(1)].concat());
    }

    #[test]
    fn layers_apply_in_order_then_the_norm() {
        let config = TransformerEncoderLayerConfig {
            dim_feedforward: 8,
            dropout: 0.0,
            ..Default::default()
        };
        let encoder = TransformerEncoder::<f64>::new(4, 2, config, 2, true, 1);
        let x = Tensor::<f64>::randn(&[3, 2, 4], 0.0, 1.0, 2);
        let by_hand = LayerNorm::new(4)
            .forward(&encoder.layers()[1].forward(&encoder.layers()[0].forward(&x)));
        assert_eq!(encoder.forward(&x).to_vec(), by_hand.to_vec());
        assert_eq!(encoder.named_parameters().len(), 2 * 12 + 2);
        let w0 = encoder.layers()[0].self_attn().in_proj_weight().value();
        assert_ne!(
            w0,
            encoder.layers()[1].self_attn().in_proj_weight().value(),
            "layers draw their own weights"
        );
        let causal = TransformerEncoder::<f64>::new(4, 2, config, 2, false, 1).with_causal(true);
        let y = causal.forward(&x);
        assert_eq!(
            y.to_vec(),
            causal.forward_masked(&x, None, None, true).to_vec()
        );
        assert_ne!(
            y.to_vec(),
            causal.forward_masked(&x, None, None, false).to_vec()
        );
    }
}
