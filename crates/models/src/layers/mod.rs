//! Layers beyond `Linear`, one per file: [`Dropout`], [`Embedding`], [`LayerNorm`],
//! [`BatchNorm1d`] and [`BatchNorm2d`], the recurrent [`Rnn`], [`Gru`] and [`Lstm`],
//! [`Conv1d`], [`Conv2d`], [`ConvTranspose2d`], [`MaxPool2d`], [`AvgPool2d`],
//! [`AdaptiveAvgPool2d`] and [`Flatten`].

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
mod recurrent;

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
pub use recurrent::{Gru, Lstm, RecurrentConfig, Rnn};

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
