//! `Conv2d`: a bank of 2-d filters with a bias, PyTorch's `nn.Conv2d`:
//! y = conv2d(x, weight, bias) on `[N, C_in, H, W]` (see `Tensor::conv2d` for the maths).
//!
//! ```
//! use tapegrad_models::module::{Conv2d, Module};
//! use tapegrad_tensor::{Conv2dOptions, Padding, Tensor};
//! let same = Conv2dOptions { padding: Padding::Same, ..Default::default() };
//! let conv = Conv2d::<f32>::new(3, 8, [3, 3], same, 0);
//! assert_eq!(conv.forward(&Tensor::zeros(&[2, 3, 5, 7])).shape(), &[2, 8, 5, 7]);
//! ```

use super::{conv_parameters, weight_and_bias};
use tapegrad_tensor::{Conv2dOptions, Float, Param, Tensor};

use crate::module::Module;

/// 2-d convolution layer: `weight` `[out, in/groups, kh, kw]` and `bias` `[out]`, PyTorch's
/// names and layouts.
#[derive(Clone, Debug)]
pub struct Conv2d<F: Float> {
    weight: Param<F>,
    bias: Option<Param<F>>,
    options: Conv2dOptions,
}

impl<F: Float> Conv2d<F> {
    /// `in_channels → out_channels` with a `kernel` `[kh, kw]` and `options` (stride, padding,
    /// dilation, groups), initialised as PyTorch does: weight and bias U(−a, a),
    /// a = 1/√(in/groups·kh·kw), drawn with `seed` (the bias with `seed + 1`).
    ///
    /// # Panics
    /// When `groups` is 0 or does not divide both channel counts.
    #[track_caller]
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        options: Conv2dOptions,
        seed: u64,
    ) -> Self {
        let channels = [in_channels, out_channels, options.groups];
        let (weight, bias) = conv_parameters("Conv2d", channels, &kernel, false, seed);
        Conv2d {
            weight,
            bias,
            options,
        }
    }

    /// The same layer without a bias (PyTorch's `bias=False`).
    pub fn without_bias(self) -> Self {
        Conv2d { bias: None, ..self }
    }

    /// The filters, `[out, in/groups, kh, kw]`.
    pub fn weight(&self) -> &Param<F> {
        &self.weight
    }

    /// The bias `[out]`, if the layer has one.
    pub fn bias(&self) -> Option<&Param<F>> {
        self.bias.as_ref()
    }
}

impl<F: Float> Module<F> for Conv2d<F> {
    /// # Panics
    /// With `conv2d`'s message when x does not fit the layer.
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        let bias = self.bias.as_ref().map(Param::tensor);
        x.conv2d(&self.weight.tensor(), bias.as_ref(), self.options)
    }

    /// `weight`, then `bias` if present.
    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        weight_and_bias(&self.weight, self.bias.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapegrad_tensor::Padding;

    #[test]
    fn forward_is_the_op_and_init_is_pytorchs() {
        let options = Conv2dOptions {
            stride: [2, 1],
            padding: Padding::Symmetric([1, 1]),
            groups: 2,
            ..Default::default()
        };
        let conv = Conv2d::<f64>::new(4, 6, [3, 2], options, 7);
        assert_eq!(conv.weight().shape(), &[6, 2, 3, 2]);
        let bound = 1.0 / 12f64.sqrt(); // fan_in = 2·3·2
        assert!(conv.weight().value().iter().all(|w| w.abs() < bound));
        assert!(conv.bias().unwrap().value().iter().all(|b| b.abs() < bound));
        let x = Tensor::<f64>::randn(&[2, 4, 5, 5], 0.0, 1.0, 1);
        let direct = x.conv2d(
            &conv.weight().tensor(),
            Some(&conv.bias().unwrap().tensor()),
            options,
        );
        assert_eq!(conv.forward(&x).to_vec(), direct.to_vec());
        let names: Vec<String> = conv
            .named_parameters()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["weight", "bias"]);
        assert_eq!(conv.without_bias().named_parameters().len(), 1);
    }
}
