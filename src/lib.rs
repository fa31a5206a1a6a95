pub use tapegrad_tensor as tensor;
