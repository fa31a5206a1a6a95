//! Layers beyond `Linear`, one per file: [`Dropout`], [`Embedding`], [`LayerNorm`],
//! [`BatchNorm1d`] and [`BatchNorm2d`], the recurrent [`Rnn`], [`Gru`] and [`Lstm`],
//! [`Conv1d`], [`Conv2d`], [`ConvTranspose2d`], [`MaxPool2d`], [`AvgPool2d`],
//! [`AdaptiveAvgPool2d`], [`Flatten`], [`MultiheadAttention`], [`TransformerEncoderLayer`],
//! [`TransformerEncoder`], [`TiedLinear`] and [`sinusoidal_positions`].

mod adaptive_avg_pool2d;
mod avg_pool2d;
mod batch_norm;
mod conv1d;
mod conv2d;
mod conv_transpose2d;
mod dropout;
mod embedding;
mod flatten;
mod layer_norm;
mod max_pool2d;
mod multihead_attention;
mod positional;
mod recurrent;
mod tied_linear;
mod transformer_encoder;
mod transformer_encoder_layer;

pub use adaptive_avg_pool2d::AdaptiveAvgPool2d;
pub use avg_pool2d::AvgPool2d;
pub use batch_norm::{batch_norm, BatchNorm, BatchNorm1d, BatchNorm2d, BatchNormConfig};
pub use conv1d::Conv1d;
pub use conv2d::Conv2d;
pub use conv_transpose2d::ConvTranspose2d;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use layer_norm::{layer_norm, LayerNorm};
pub use max_pool2d::MaxPool2d;
pub use multihead_attention::{
    MultiheadAttention, MultiheadAttentionConfig, MultiheadAttentionOptions,
};
pub use positional::sinusoidal_positions;
pub use recurrent::{Gru, Lstm, RecurrentConfig, Rnn};
pub use tied_linear::TiedLinear;
pub use transformer_encoder::TransformerEncoder;
pub use transformer_encoder_layer::{TransformerEncoderLayer, TransformerEncoderLayerConfig};

/// The seed of a layer's `k`-th random stream (tensor or mask): the multiplier keeps the
/// streams of nearby seeds apart (seed s, stream k and seed s + 1, stream k − 1 would
/// otherwise share), as the recurrent layers draw theirs.
fn stream(seed: u64, k: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(k)
}

/// A layer's `weight`, then its `bias` if it has one: the parameter list of every layer
/// whose bias is optional (the convolutions), in PyTorch's order and names.
fn weight_and_bias<F: tapegrad_tensor::Float>(
    weight: &tapegrad_tensor::Param<F>,
    bias: Option<&tapegrad_tensor::Param<F>>,
) -> Vec<(String, tapegrad_tensor::Param<F>)> {
    std::iter::once(("weight".to_string(), weight.clone()))
        .chain(bias.map(|b| ("bias".to_string(), b.clone())))
        .collect()
}

/// A convolution's `weight` and `bias` (`[out_channels]`), drawn as PyTorch does:
/// U(−a, a) with a = 1/√fan_in, fan_in = (the weight's second axis)·Πkernel, the weight from
/// `seed` and the bias from `seed + 1`. The weight is `[out, in/groups, k…]`, or for a
/// `transposed` convolution `[in, out/groups, k…]`.
///
/// # Panics
/// When `groups` is 0 or does not divide both channel counts; the message names `layer`.
#[track_caller]
fn conv_parameters<F: tapegrad_tensor::Float>(
    layer: &str,
    [in_channels, out_channels, groups]: [usize; 3],
    kernel: &[usize],
    transposed: bool,
    seed: u64,
) -> (tapegrad_tensor::Param<F>, Option<tapegrad_tensor::Param<F>>) {
    use crate::init::pytorch_uniform;
    use tapegrad_tensor::Param;
    assert!(
        groups > 0 && in_channels.is_multiple_of(groups) && out_channels.is_multiple_of(groups),
        "{layer}: groups={groups} must divide {in_channels} input and {out_channels} output channels"
    );
    let leading = if transposed {
        [in_channels, out_channels / groups]
    } else {
        [out_channels, in_channels / groups]
    };
    let shape: Vec<usize> = leading.iter().chain(kernel).copied().collect();
    let fan_in: usize = shape[1..].iter().product();
    let weight = Param::new("weight", pytorch_uniform(&shape, fan_in, seed));
    let bias = pytorch_uniform(&[out_channels], fan_in, seed.wrapping_add(1));
    (weight, Some(Param::new("bias", bias)))
}
