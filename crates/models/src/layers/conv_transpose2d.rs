//! `ConvTranspose2d`: the transposed 2-d convolution layer, PyTorch's `nn.ConvTranspose2d`
//! (see `Tensor::conv_transpose2d`); it upsamples, e.g. by 2 with kernel 2 and stride 2.
//!
//! ```
//! use tapegrad_models::module::{ConvTranspose2d, Module};
//! use tapegrad_tensor::{ConvTranspose2dOptions, Tensor};
//! let up = ConvTranspose2dOptions { stride: [2, 2], ..Default::default() };
//! let layer = ConvTranspose2d::<f32>::new(4, 2, [2, 2], up, 0);
//! assert_eq!(layer.forward(&Tensor::zeros(&[1, 4, 3, 5])).shape(), &[1, 2, 6, 10]);
//! ```

use super::{conv_parameters, weight_and_bias};
use tapegrad_tensor::{ConvTranspose2dOptions, Float, Param, Tensor};

use crate::module::Module;

/// Transposed convolution layer: `weight` `[in, out/groups, kh, kw]` and `bias` `[out]`,
/// PyTorch's names and layouts.
#[derive(Clone, Debug)]
pub struct ConvTranspose2d<F: Float> {
    weight: Param<F>,
    bias: Option<Param<F>>,
    options: ConvTranspose2dOptions,
}

impl<F: Float> ConvTranspose2d<F> {
    /// `in_channels → out_channels` with `kernel` and `options`, initialised as PyTorch
    /// does: U(−a, a) with a = 1/√fan_in, where PyTorch's fan_in for this weight layout is
    /// its second axis times the kernel, (out/groups)·kh·kw; weight from `seed`, bias from
    /// `seed + 1`.
    ///
    /// # Panics
    /// When `groups` is 0 or does not divide both channel counts.
    #[track_caller]
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        options: ConvTranspose2dOptions,
        seed: u64,
    ) -> Self {
        let channels = [in_channels, out_channels, options.groups];
        let (weight, bias) = conv_parameters("ConvTranspose2d", channels, &kernel, true, seed);
        ConvTranspose2d {
            weight,
            bias,
            options,
        }
    }

    /// The same layer without a bias.
    pub fn without_bias(self) -> Self {
        ConvTranspose2d { bias: None, ..self }
    }

    /// The filters, `[in, out/groups, kh, kw]`.
    pub fn weight(&self) -> &Param<F> {
        &self.weight
    }

    /// The bias `[out]`, if any.
    pub fn bias(&self) -> Option<&Param<F>> {
        self.bias.as_ref()
    }
}

impl<F: Float> Module<F> for ConvTranspose2d<F> {
    /// # Panics
    /// With `conv_transpose2d`'s message when x does not fit the layer.
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        let bias = self.bias.as_ref().map(Param::tensor);
        x.conv_transpose2d(&self.weight.tensor(), bias.as_ref(), self.options)
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
        let options = ConvTranspose2dOptions {
            stride: [2, 2],
            output_padding: [1, 0],
            groups: 2,
            ..Default::default()
        };
        let layer = ConvTranspose2d::<f64>::new(4, 6, [3, 3], options, 3);
        assert_eq!(layer.weight().shape(), &[4, 3, 3, 3]);
        let x = Tensor::<f64>::randn(&[2, 4, 3, 2], 0.0, 1.0, 2);
        let b = layer.bias().unwrap().tensor();
        let direct = x.conv_transpose2d(&layer.weight().tensor(), Some(&b), options);
        assert_eq!(layer.forward(&x).to_vec(), direct.to_vec());
        assert_eq!(direct.shape(), &[2, 6, 8, 5]);
    }
}
