//! Layers: the [`Module`] trait, [`Linear`], activations, [`Sequential`], and (each in its own
//! file under `layers/`) [`Dropout`], [`Embedding`] and [`LayerNorm`].
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

use crate::init::xavier_uniform;
pub use crate::layers::{layer_norm, Dropout, Embedding, LayerNorm};

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
}

/// y = xW + b with W of shape `[in, out]` (stored the way `x @ w` reads it) and b of shape `[out]`.
#[derive(Clone, Debug)]
pub struct Linear<F: Float> {
    weight: Param<F>,
    bias: Param<F>,
}

impl<F: Float> Linear<F> {
    /// A layer from `inputs` to `outputs` features: Xavier-uniform weights drawn with `seed`,
    /// zero bias.
    pub fn new(inputs: usize, outputs: usize, seed: u64) -> Self {
        Linear {
            weight: Param::new("weight", xavier_uniform(inputs, outputs, seed)),
            bias: Param::new("bias", ndarray::ArrayD::zeros(vec![outputs])),
        }
    }

    /// A layer whose weights and bias start at zero: the start of linear and logistic
    /// regression, whose losses are convex, so no random start is needed to break symmetry.
    pub fn zeros(inputs: usize, outputs: usize) -> Self {
        Linear {
            weight: Param::new("weight", ndarray::ArrayD::zeros(vec![inputs, outputs])),
            bias: Param::new("bias", ndarray::ArrayD::zeros(vec![outputs])),
        }
    }

    /// W, of shape [in, out].
    pub fn weight(&self) -> &Param<F> {
        &self.weight
    }

    /// b, of shape `[out]`.
    pub fn bias(&self) -> &Param<F> {
        &self.bias
    }
}

impl<F: Float> Module<F> for Linear<F> {
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        x.matmul(&self.weight.tensor()) + self.bias.tensor()
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
    /// GELU, exact: x·Φ(x) = ½x(1 + erf(x/√2)) (PyTorch's `nn.GELU()`; until this version
    /// it meant the tanh form, now [`GeluTanh`](Activation::GeluTanh))
    Gelu,
    /// GELU, tanh approximation (PyTorch's `nn.GELU(approximate='tanh')`)
    GeluTanh,
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
            Activation::GeluTanh => x.gelu_tanh(),
            Activation::LeakyRelu(slope) => x.leaky_relu(F::from_f64(slope)),
        }
    }

    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        Vec::new()
    }
}

/// Layers applied in order; parameter names are prefixed with the layer's index (`0.weight`).
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
            let h = (x.matmul(&t[0]) + &t[1]).tanh();
            (h.matmul(&t[2]) + &t[3]).sum()
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
