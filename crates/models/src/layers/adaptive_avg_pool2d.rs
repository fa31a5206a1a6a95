//! `AdaptiveAvgPool2d`: means over PyTorch's adaptive bins (`nn.AdaptiveAvgPool2d`), a thin
//! wrapper over `Tensor::adaptive_avg_pool2d` (no parameters); `[1, 1]` is global average
//! pooling.
//!
//! ```
//! use tapegrad_models::module::{AdaptiveAvgPool2d, Module};
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::zeros(&[2, 3, 7, 5]);
//! assert_eq!(AdaptiveAvgPool2d::new([1, 1]).forward(&x).shape(), &[2, 3, 1, 1]);
//! ```

use tapegrad_tensor::{Float, Param, Tensor};

use crate::module::Module;

/// Means over PyTorch's adaptive bins, to a fixed `[out_h, out_w]` whatever the input size;
/// `[1, 1]` is global average pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptiveAvgPool2d {
    /// The output's spatial size `[out_h, out_w]`.
    pub output_size: [usize; 2],
}

impl AdaptiveAvgPool2d {
    /// Pools to `output_size`.
    pub fn new(output_size: [usize; 2]) -> Self {
        AdaptiveAvgPool2d { output_size }
    }
}

impl<F: Float> Module<F> for AdaptiveAvgPool2d {
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        x.adaptive_avg_pool2d(self.output_size)
    }

    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_is_the_op() {
        let x = Tensor::<f64>::randn(&[2, 3, 6, 5], 0.0, 1.0, 1);
        let layer = AdaptiveAvgPool2d::new([4, 3]);
        assert_eq!(
            Module::<f64>::forward(&layer, &x).to_vec(),
            x.adaptive_avg_pool2d([4, 3]).to_vec()
        );
    }
}
