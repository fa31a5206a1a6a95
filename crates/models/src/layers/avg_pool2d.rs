//! `AvgPool2d`: the average-pooling layer, PyTorch's `nn.AvgPool2d`, a thin wrapper over
//! `Tensor::avg_pool2d` (no parameters).
//!
//! ```
//! use tapegrad_models::module::{AvgPool2d, Module};
//! use tapegrad_tensor::{AvgPool2dOptions, Tensor};
//! let x = Tensor::<f32>::ones(&[1, 1, 4, 4]);
//! assert_eq!(AvgPool2d::new(AvgPool2dOptions::new([2, 2])).forward(&x).to_vec(), vec![1.0; 4]);
//! ```

use tapegrad_tensor::{AvgPool2dOptions, Float, Param, Tensor};

use crate::module::Module;

/// The mean of each window (see `Tensor::avg_pool2d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2d {
    /// Kernel, stride (default = kernel), zero padding and `count_include_pad`.
    pub options: AvgPool2dOptions,
}

impl AvgPool2d {
    /// An average-pooling layer with `options`.
    pub fn new(options: AvgPool2dOptions) -> Self {
        AvgPool2d { options }
    }
}

impl<F: Float> Module<F> for AvgPool2d {
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        x.avg_pool2d(self.options)
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
        let o = AvgPool2dOptions {
            padding: [1, 1],
            ..AvgPool2dOptions::new([3, 3])
        };
        let layer = AvgPool2d::new(o);
        assert_eq!(
            Module::<f64>::forward(&layer, &x).to_vec(),
            x.avg_pool2d(o).to_vec()
        );
    }
}
