//! Layers: the [`Module`] trait, [`Linear`], activations, [`Sequential`], and (each in its own
//! file under `layers/`) [`Dropout`], [`Embedding`], [`LayerNorm`], [`BatchNorm1d`],
//! [`BatchNorm2d`], the recurrent [`Rnn`], [`Gru`] and [`Lstm`], [`Conv1d`], [`Conv2d`],
//! [`ConvTranspose2d`], [`MaxPool2d`], [`AvgPool2d`], [`AdaptiveAvgPool2d`], [`Flatten`], and
//! for transformers [`MultiheadAttention`], [`TransformerEncoderLayer`],
//! [`TransformerEncoder`], [`TiedLinear`] (an output projection sharing an embedding's
//! weight) and [`sinusoidal_positions`]; and `#[derive(Module)]` for models written as
//! structs of layers.
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
//!
//! # Your own models: `#[derive(Module)]`
//!
//! A model that is more than a chain of layers is a struct of layers with a hand-written
//! forward pass, as a PyTorch module is a class assigning layers to `self`. The derive (from
//! `tapegrad-derive`, re-exported here under the trait's name, so the one `use` brings both)
//! writes the rest of the impl: parameters and buffers named `field.name` in declaration
//! order, exactly the keys of the torch module's `state_dict()`, and `set_training` passed to
//! every field. Its `forward` calls the struct's inherent `forward` method. A field can be any
//! module, a [`Param`], or a `Vec` or `Option` of those (see [`Submodule`]); anything else,
//! such as a width, takes `#[module(skip)]`.
//!
//! ```
//! use tapegrad_models::module::{Dropout, Linear, Module};
//! use tapegrad_tensor::{Float, Tensor};
//!
//! #[derive(Module)]
//! struct Mlp<F: Float> {
//!     hidden: Vec<Linear<F>>, // torch: self.hidden = nn.ModuleList([...])
//!     drop: Dropout,
//!     out: Linear<F>,
//!     #[module(skip)]
//!     width: usize,
//! }
//!
//! impl<F: Float> Mlp<F> {
//!     fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
//!         let h = self.hidden.iter().fold(x.clone(), |h, layer| layer.forward(&h).relu());
//!         self.out.forward(&self.drop.forward(&h))
//!     }
//! }
//!
//! let mut mlp = Mlp::<f64> {
//!     hidden: vec![Linear::new(2, 16, 1), Linear::new(16, 16, 2)],
//!     drop: Dropout::new(0.1, 3),
//!     out: Linear::new(16, 1, 4),
//!     width: 16,
//! };
//! let names: Vec<String> = mlp.named_parameters().into_iter().map(|(n, _)| n).collect();
//! assert_eq!(
//!     names,
//!     ["hidden.0.weight", "hidden.0.bias", "hidden.1.weight", "hidden.1.bias", "out.weight", "out.bias"]
//! );
//! mlp.set_training(false); // reaches the Dropout
//! let x = Tensor::<f64>::randn(&[5, 2], 0.0, 1.0, 5);
//! assert_eq!(mlp.forward(&x).to_vec(), mlp.forward(&x).to_vec());
//! ```
//!
//! The `tapegrad-derive` crate docs give the rules, the attributes (`float`, `forward`,
//! `crate`) and the compile errors for the usual mistakes.

use tapegrad_tensor::{Float, Param, Tensor};

use crate::buffer::Buffer;
use crate::init::xavier_uniform;
pub use crate::layers::{
    batch_norm, layer_norm, sinusoidal_positions, AdaptiveAvgPool2d, AvgPool2d, BatchNorm,
    BatchNorm1d, BatchNorm2d, BatchNormConfig, Conv1d, Conv2d, ConvTranspose2d, Dropout, Embedding,
    Flatten, Gru, LayerNorm, Lstm, MaxPool2d, MultiheadAttention, MultiheadAttentionConfig,
    MultiheadAttentionOptions, RecurrentConfig, Rnn, TiedLinear, TransformerEncoder,
    TransformerEncoderLayer, TransformerEncoderLayerConfig,
};
use crate::rng::SharedRng;
pub use crate::submodule::Submodule;
/// `#[derive(Module)]`, from `tapegrad-derive`: the trait and its derive share the name, so
/// `use tapegrad_models::module::Module;` brings both (see the module docs).
pub use tapegrad_derive::Module;

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

    /// The random generators the module draws from while training (dropout's masks), with
    /// names, in a stable order. None by default. They are not weights — PyTorch's
    /// `state_dict` has no such entries and [`io::save`](crate::io::save) writes none — but a
    /// [checkpoint](crate::trainer::checkpoint) saves their positions, so a resumed run
    /// draws the masks an uninterrupted run would have drawn.
    fn named_rngs(&self) -> Vec<(String, SharedRng)> {
        Vec::new()
    }
}

/// A boxed module is a module: `Box<dyn Module<F>>` can be a field of a derived model, or
/// the `M` of a `struct Net<F, M: Module<F>>`. Every method is the boxed module's.
impl<F: Float, M: Module<F> + ?Sized> Module<F> for Box<M> {
    #[track_caller]
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        (**self).forward(x)
    }

    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        (**self).named_parameters()
    }

    fn parameters(&self) -> Vec<Param<F>> {
        (**self).parameters()
    }

    fn set_training(&mut self, training: bool) {
        (**self).set_training(training);
    }

    fn named_buffers(&self) -> Vec<(String, Buffer<F>)> {
        (**self).named_buffers()
    }

    fn named_rngs(&self) -> Vec<(String, SharedRng)> {
        (**self).named_rngs()
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

/// What `list` names in each of `items`, each name prefixed with `prefix`, the item's index
/// and a dot (`0.weight`, `layers.1.norm1.bias`): how a list of layers names its contents, as
/// torch's `Sequential` and `ModuleList` do.
pub(crate) fn numbered<L, T>(
    items: &[L],
    prefix: &str,
    list: impl Fn(&L) -> Vec<(String, T)>,
) -> Vec<(String, T)> {
    items
        .iter()
        .enumerate()
        .flat_map(|(i, item)| {
            list(item)
                .into_iter()
                .map(move |(name, t)| (format!("{prefix}{i}.{name}"), t))
        })
        .collect()
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
        numbered(&self.layers, "", |layer| layer.named_parameters())
    }

    fn named_buffers(&self) -> Vec<(String, Buffer<F>)> {
        numbered(&self.layers, "", |layer| layer.named_buffers())
    }

    fn named_rngs(&self) -> Vec<(String, SharedRng)> {
        numbered(&self.layers, "", |layer| layer.named_rngs())
    }

    fn set_training(&mut self, training: bool) {
        for layer in &mut self.layers {
            layer.set_training(training);
        }
    }
}

#[cfg(test)]
/// Checks every parameter's gradient of `loss` by central differences, perturbing the
/// parameter's value in place, and returns the gradients by name.
pub(crate) fn check_parameters(
    module: &dyn Module<f64>,
    loss: impl Fn() -> Tensor<f64>,
) -> Vec<(String, ndarray::ArrayD<f64>)> {
    for p in module.parameters() {
        p.zero_grad();
    }
    loss().backward();
    let h = 1e-6;
    let mut grads = Vec::new();
    for (name, p) in module.named_parameters() {
        let analytic = p.grad().unwrap();
        let base = (*p.value()).clone();
        for (index, &a) in analytic.indexed_iter() {
            let at = |v: f64| {
                let mut moved = base.clone();
                moved[&index] = v;
                p.set_value(moved).unwrap();
                tapegrad_tensor::no_grad(|| loss().item())
            };
            let numerical = (at(base[&index] + h) - at(base[&index] - h)) / (2.0 * h);
            assert!(
                (a - numerical).abs() < 1e-6 + 1e-5 * numerical.abs(),
                "{name}{index:?}: analytic {a}, numerical {numerical}"
            );
        }
        p.set_value(base).unwrap();
        grads.push((name, analytic));
    }
    grads
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
    fn a_tiny_conv_net_passes_a_finite_difference_check_in_its_parameters() {
        // Conv2d → tanh → MaxPool2d → Flatten → Linear, on a batch of 2: the gradient that
        // backward leaves in each of the six parameters matches central differences taken by
        // perturbing the parameter's value in place (so the layers themselves are checked).
        use tapegrad_tensor::{Conv2dOptions, MaxPool2dOptions, Padding};
        let same = Conv2dOptions {
            padding: Padding::Same,
            ..Default::default()
        };
        let conv = Conv2dOptions {
            stride: [1, 2],
            padding: Padding::Symmetric([1, 1]),
            groups: 2,
            ..Default::default()
        };
        let net = Sequential::<f64>::new(vec![
            Box::new(Conv2d::new(1, 2, [3, 3], same, 1)),
            Box::new(Activation::Tanh),
            Box::new(Conv2d::new(2, 4, [2, 3], conv, 3)),
            Box::new(MaxPool2d::new(MaxPool2dOptions::new([2, 2]))),
            Box::new(Flatten::default()),
            Box::new(Linear::new(8, 3, 5)),
        ]);
        let x = Tensor::<f64>::randn(&[2, 1, 4, 6], 0.0, 1.0, 7);
        let r = Tensor::<f64>::rand_uniform(&[2, 3], -1.0, 1.0, 8);
        let loss = || (net.forward(&x) * &r).sum();
        loss().backward();
        let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["0.weight", "0.bias", "2.weight", "2.bias", "5.weight", "5.bias"]
        );
        check_parameters(&net, loss);
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
