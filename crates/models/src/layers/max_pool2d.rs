//! `MaxPool2d`: the max-pooling layer, PyTorch's `nn.MaxPool2d`, a thin wrapper over
//! `Tensor::max_pool2d` (no parameters).
//!
//! ```
//! use tapegrad_models::module::{MaxPool2d, Module};
//! use tapegrad_tensor::{MaxPool2dOptions, Tensor};
//! let x = Tensor::<f32>::zeros(&[2, 3, 8, 8]);
//! assert_eq!(MaxPool2d::new(MaxPool2dOptions::new([2, 2])).forward(&x).shape(), &[2, 3, 4, 4]);
//! ```

use tapegrad_tensor::{Float, MaxPool2dOptions, Param, Tensor};

use crate::module::Module;

/// The maximum of each window (see `Tensor::max_pool2d`; the gradient goes to the first
/// maximum of a window).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool2d {
    /// Kernel, stride (default = kernel) and −∞ padding.
    pub options: MaxPool2dOptions,
}

impl MaxPool2d {
    /// A max-pooling layer with `options`.
    pub fn new(options: MaxPool2dOptions) -> Self {
        MaxPool2d { options }
    }
}

impl<F: Float> Module<F> for MaxPool2d {
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        x.max_pool2d(self.options)
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
        let o = MaxPool2dOptions {
            stride: Some([1, 2]),
            ..MaxPool2dOptions::new([3, 2])
        };
        let layer = MaxPool2d::new(o);
        assert_eq!(
            Module::<f64>::forward(&layer, &x).to_vec(),
            x.max_pool2d(o).to_vec()
        );
        assert!(Module::<f64>::named_parameters(&layer).is_empty());
    }
}
