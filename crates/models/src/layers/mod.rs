//! Layers beyond `Linear`, one per file: [`Dropout`], [`Embedding`], [`LayerNorm`],
//! [`BatchNorm1d`] and [`BatchNorm2d`], and the recurrent [`Rnn`], [`Gru`] and [`Lstm`].

mod batch_norm;
mod dropout;
mod embedding;
mod layer_norm;
mod recurrent;

pub use batch_norm::{batch_norm, BatchNorm, BatchNorm1d, BatchNorm2d, BatchNormConfig};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use layer_norm::{layer_norm, LayerNorm};
pub use recurrent::{Gru, Lstm, RecurrentConfig, Rnn};
