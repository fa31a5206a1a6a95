//! `Conv1d`: a bank of 1-d filters with a bias, PyTorch's `nn.Conv1d`:
//! y = conv1d(x, weight, bias) on `[N, C_in, L]` (see `Tensor::conv1d`).
//!
//! ```
//! use tapegrad_models::module::{Conv1d, Module};
//! use tapegrad_tensor::{Conv1dOptions, Tensor};
//! let conv = Conv1d::<f32>::new(2, 4, 3, Conv1dOptions::default(), 0);
//! assert_eq!(conv.forward(&Tensor::zeros(&[1, 2, 10])).shape(), &[1, 4, 8]);
//! ```

use super::{conv_parameters, weight_and_bias};
use tapegrad_tensor::{Conv1dOptions, Float, Param, Tensor};

use crate::module::Module;

/// 1-d convolution layer: `weight` `[out, in/groups, k]` and `bias` `[out]`.
#[derive(Clone, Debug)]
pub struct Conv1d<F: Float> {
    weight: Param<F>,
    bias: Option<Param<F>>,
    options: Conv1dOptions,
}

impl<F: Float> Conv1d<F> {
    /// `in_channels → out_channels` with `kernel` taps and `options`, initialised as PyTorch
    /// does: U(−a, a), a = 1/√(in/groups·k), weight from `seed`, bias from `seed + 1`.
    ///
    /// # Panics
    /// When `groups` is 0 or does not divide both channel counts.
    #[track_caller]
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        options: Conv1dOptions,
        seed: u64,
    ) -> Self {
        let channels = [in_channels, out_channels, options.groups];
        let (weight, bias) = conv_parameters("Conv1d", channels, &[kernel], false, seed);
        Conv1d {
            weight,
            bias,
            options,
        }
    }

    /// The same layer without a bias.
    pub fn without_bias(self) -> Self {
        Conv1d { bias: None, ..self }
    }

    /// The filters, `[out, in/groups, k]`.
    pub fn weight(&self) -> &Param<F> {
        &self.weight
    }

    /// The bias `[out]`, if any.
    pub fn bias(&self) -> Option<&Param<F>> {
        self.bias.as_ref()
    }
}

impl<F: Float> Module<F> for Conv1d<F> {
    /// # Panics
    /// With `conv1d`'s message when x does not fit the layer.
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        let bias = self.bias.as_ref().map(Param::tensor);
        x.conv1d(&self.weight.tensor(), bias.as_ref(), self.options)
    }

    /// `weight`, then `bias` if present.
    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        weight_and_bias(&self.weight, self.bias.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_is_the_op() {
        let options = Conv1dOptions {
            stride: [2],
            ..Default::default()
        };
        let conv = Conv1d::<f64>::new(3, 2, 4, options, 1);
        assert_eq!(conv.weight().shape(), &[2, 3, 4]);
        let x = Tensor::<f64>::randn(&[2, 3, 9], 0.0, 1.0, 2);
        let b = conv.bias().unwrap().tensor();
        let direct = x.conv1d(&conv.weight().tensor(), Some(&b), options);
        assert_eq!(conv.forward(&x).to_vec(), direct.to_vec());
    }
}
