//! Layers beyond `Linear`, one per file: [`Dropout`], [`Embedding`], [`LayerNorm`].

mod dropout;
mod embedding;
mod layer_norm;

pub use dropout::Dropout;
pub use embedding::Embedding;
pub use layer_norm::{layer_norm, LayerNorm};
