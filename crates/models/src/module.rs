//! Layers: the [`Module`] trait, [`Linear`], activations, [`Sequential`], and (each in its own
//! file under `layers/`) [`Dropout`], [`Embedding`], [`LayerNorm`], [`BatchNorm1d`],
//! [`BatchNorm2d`], and the recurrent [`Rnn`], [`Gru`] and [`Lstm`].
//!
//! ```
//! use tapegrad_models::module::{Activation, Linear, Module, Sequential};
//! use tapegrad_tensor::Tensor;
//! let mlp = Sequential::new(vec![
//!     Box::new(Linear::<f64>::new(2, 8, 1)),
//!     Box::new(Activation::Tanh),
//!     Box::new(Linear::new(8, 1, 2)),
//! ]);
//! let y = mlp.forward(&Tensor::zeros(&[5, 2]));
//! assert_eq!(y.shape(), &[5, 1]);
//! let names: Vec<String> = mlp.named_parameters().into_iter().map(|(n, _)| n).collect();
//! assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
//! ```

use tapegrad_tensor::{Float, Param, Tensor};

use crate::buffer::Buffer;
use crate::init::xavier_uniform;
pub use crate::layers::{
    batch_norm, layer_norm, BatchNorm, BatchNorm1d, BatchNorm2d, BatchNormConfig, Dropout,
    Embedding, Gru, LayerNorm, Lstm, RecurrentConfig, Rnn,
};

/// A piece of a model: a forward pass and the parameters it trains.
pub trait Module<F: Float>: Send + Sync {
    /// The output for input `x` (recorded, so it can be differentiated).
    fn forward(&self, x: &Tensor<F>) -> Tensor<F>;

    /// The trainable parameters with their names, in a stable order (the order an optimizer
    /// and a saved file see them).
    fn named_parameters(&self) -> Vec<(String, Param<F>)>;

    /// The parameters alone, for an optimizer.
    fn parameters(&self) -> Vec<Param<F>> {
        self.named_parameters()
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    /// Switches between training and evaluation behaviour (dropout, …); layers without such
    /// behaviour ignore it.
    fn set_training(&mut self, _training: bool) {}

    /// The non-trainable state saved with the weights (batch normalisation's running
    /// statistics), with names, in a stable order. None by default. Optimizers never see
    /// these: [`parameters`](Self::parameters) lists only [`named_parameters`](Self::named_parameters).
    fn named_buffers(&self) -> Vec<(String, Buffer<F>)> {
        Vec::new()
    }
}

/// y = x·Wᵀ + b, as `torch.nn.Linear`: W of shape `[out, in]` (one row per output
/// feature) and b of shape `[out]`, stored under the names `weight` and `bias`, so a saved
/// layer loads into torch without transposing. x may have any leading axes: `[..., in]`.
#[derive(Clone, Debug)]
pub struct Linear<F: Float> {
    weight: Param<F>,
    bias: Param<F>,
}

impl<F: Float> Linear<F> {
    /// A layer from `inputs` to `outputs` features: Xavier-uniform weights drawn with `seed`,
    /// zero bias.
    pub fn new(inputs: usize, outputs: usize, seed: u64) -> Self {
        // The draw fills an [in, out] array; its transpose keeps the numbers of earlier
        // releases (which stored [in, out]) in their places, so a seed builds the same network.
        let weight = xavier_uniform::<F>(inputs, outputs, seed).reversed_axes();
        Linear {
            weight: Param::new("weight", weight.as_standard_layout().into_owned()),
            bias: Param::new("bias", ndarray::ArrayD::zeros(vec![outputs])),
        }
    }

    /// A layer whose weights and bias start at zero: the start of linear and logistic
    /// regression, whose losses are convex, so no random start is needed to break symmetry.
    pub fn zeros(inputs: usize, outputs: usize) -> Self {
        Linear {
            weight: Param::new("weight", ndarray::ArrayD::zeros(vec![outputs, inputs])),
            bias: Param::new("bias", ndarray::ArrayD::zeros(vec![outputs])),
        }
    }

    /// W, of shape `[out, in]`.
    pub fn weight(&self) -> &Param<F> {
        &self.weight
    }

    /// b, of shape `[out]`.
    pub fn bias(&self) -> &Param<F> {
        &self.bias
    }

    /// The number of input features.
    pub fn in_features(&self) -> usize {
        self.weight.shape()[1]
    }

    /// The number of output features.
    pub fn out_features(&self) -> usize {
        self.weight.shape()[0]
    }
}

impl<F: Float> Module<F> for Linear<F> {
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        x.linear(&self.weight.tensor(), Some(&self.bias.tensor()))
    }

    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        vec![
            ("weight".into(), self.weight.clone()),
            ("bias".into(), self.bias.clone()),
        ]
    }
}

/// Elementwise activations as layers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// max(x, 0)
    Relu,
    /// tanh x
    Tanh,
    /// 1/(1 + e⁻ˣ)
    Sigmoid,
    /// GELU, tanh approximation
    Gelu,
    /// x for x > 0, slope·x otherwise
    LeakyRelu(f64),
}

impl<F: Float> Module<F> for Activation {
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        match *self {
            Activation::Relu => x.relu(),
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Gelu => x.gelu(),
            Activation::LeakyRelu(slope) => x.leaky_relu(F::from_f64(slope)),
        }
    }

    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        Vec::new()
    }
}

/// Layers applied in order; parameter and buffer names are prefixed with the layer's index
/// (`0.weight`, `1.running_mean`).
pub struct Sequential<F: Float> {
    layers: Vec<Box<dyn Module<F>>>,
}

impl<F: Float> Sequential<F> {
    /// A model that applies `layers` one after the other.
    pub fn new(layers: Vec<Box<dyn Module<F>>>) -> Self {
        Sequential { layers }
    }
}

impl<F: Float> Module<F> for Sequential<F> {
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        self.layers
            .iter()
            .fold(x.clone(), |h, layer| layer.forward(&h))
    }

    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, layer)| {
                layer
                    .named_parameters()
                    .into_iter()
                    .map(move |(name, p)| (format!("{i}.{name}"), p))
            })
            .collect()
    }

    fn named_buffers(&self) -> Vec<(String, Buffer<F>)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, layer)| {
                layer
                    .named_buffers()
                    .into_iter()
                    .map(move |(name, b)| (format!("{i}.{name}"), b))
            })
            .collect()
    }

    fn set_training(&mut self, training: bool) {
        for layer in &mut self.layers {
            layer.set_training(training);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tapegrad_tensor::gradcheck::gradcheck;

    #[test]
    fn a_two_layer_mlp_passes_gradcheck_in_its_parameters() {
        // The autodiff gradient of Σ MLP(x) with respect to every weight matches finite
        // differences: the inputs of the checked function are the four parameter arrays.
        let template = Sequential::<f64>::new(vec![
            Box::new(Linear::new(3, 4, 1)),
            Box::new(Activation::Tanh),
            Box::new(Linear::new(4, 2, 2)),
        ]);
        let x = Tensor::<f64>::randn(&[5, 3], 0.0, 1.0, 3);
        let values: Vec<_> = template
            .parameters()
            .iter()
            .map(|p| (*p.value()).clone())
            .collect();
        let f = |t: &[Tensor<f64>]| {
            let h = x.linear(&t[0], Some(&t[1])).tanh();
            h.linear(&t[2], Some(&t[3])).sum()
        };
        gradcheck("mlp", f, &values).unwrap();
        // And the Sequential computes exactly that function.
        let direct = f(&values
            .iter()
            .cloned()
            .map(Tensor::from_array)
            .collect::<Vec<_>>());
        assert_eq!(template.forward(&x).sum().item(), direct.item());
    }

    #[test]
    fn linear_stores_torch_layout_and_computes_x_w_transposed_plus_b() {
        // W [out = 2, in = 3]: row o holds output o's weights. y = x·Wᵀ + b by hand.
        let layer = Linear::<f64>::zeros(3, 2);
        layer
            .weight()
            .set_value(
                ndarray::ArrayD::from_shape_vec(vec![2, 3], vec![1.0, 2.0, 3.0, 0.0, -1.0, 1.0])
                    .unwrap(),
            )
            .unwrap();
        layer
            .bias()
            .set_value(ndarray::ArrayD::from_shape_vec(vec![2], vec![0.5, -0.5]).unwrap())
            .unwrap();
        let x = Tensor::from_vec(vec![1.0, 1.0, 2.0], &[1, 3]);
        // [1 + 2 + 6 + 0.5, 0 − 1 + 2 − 0.5] = [9.5, 0.5]
        assert_eq!(layer.forward(&x).to_vec(), vec![9.5, 0.5]);
        assert_eq!((layer.in_features(), layer.out_features()), (3, 2));
        assert_eq!(Linear::<f32>::new(5, 4, 1).weight().shape(), &[4, 5]);
    }

    #[test]
    fn sequential_passes_the_mode_to_its_layers() {
        let mut net = Sequential::<f64>::new(vec![
            Box::new(Linear::new(3, 8, 1)),
            Box::new(Dropout::new(0.5, 2)),
            Box::new(LayerNorm::new(8)),
        ]);
        let x = Tensor::<f64>::randn(&[4, 3], 0.0, 1.0, 3);
        assert_ne!(net.forward(&x).to_vec(), net.forward(&x).to_vec());
        net.set_training(false);
        assert_eq!(net.forward(&x).to_vec(), net.forward(&x).to_vec());
        let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
    }
}
