//! `#[derive(Module)]` on models written as structs of layers: the names are the ones
//! PyTorch's `state_dict()` gives the same module (field by field, `conv1.weight`), a saved
//! model loads into a fresh one, the training mode reaches every layer, and an optimizer
//! trains what `parameters()` lists.
//!
//! The torch modules the names are pinned against are written beside each struct; no Python
//! runs here. In torch, `self.conv1 = nn.Conv2d(...)` registers a child whose tensors are
//! named `conv1.<name>`, `nn.ModuleList` numbers its children, `nn.Parameter` attributes are
//! named by the attribute alone, and plain attributes (`self.width = 128`) are not saved.

use std::path::Path;

use safetensors::SafeTensors;
use tapegrad_models::buffer::Buffer;
use tapegrad_models::io::{load, save};
use tapegrad_models::loss::mse;
use tapegrad_models::module::{
    Activation, BatchNorm2d, Conv2d, Dropout, Linear, Module, Sequential,
};
use tapegrad_optim::{Optimizer, Sgd, SgdConfig};
use tapegrad_tensor::{Conv2dOptions, Float, Padding, Param, Tensor};

fn parameter_names<F: Float>(module: &dyn Module<F>) -> Vec<String> {
    module
        .named_parameters()
        .into_iter()
        .map(|(n, _)| n)
        .collect()
}

fn buffer_names<F: Float>(module: &dyn Module<F>) -> Vec<String> {
    module.named_buffers().into_iter().map(|(n, _)| n).collect()
}

fn same() -> Conv2dOptions {
    Conv2dOptions {
        padding: Padding::Same,
        ..Default::default()
    }
}

/// ```python
/// class Cnn(nn.Module):
///     def __init__(self):
///         super().__init__()
///         self.conv1 = nn.Conv2d(1, 4, 3, padding="same")
///         self.bn = nn.BatchNorm2d(4)
///         self.conv2 = nn.Conv2d(4, 8, 3, padding="same")
///         self.fc = nn.Linear(8 * 4 * 4, 3)
///         self.width = 8 * 4 * 4
/// ```
#[derive(Module)]
struct Cnn<F: Float> {
    conv1: Conv2d<F>,
    bn: BatchNorm2d<F>,
    conv2: Conv2d<F>,
    fc: Linear<F>,
    #[module(skip)]
    width: usize,
}

impl<F: Float> Cnn<F> {
    /// On `[N, 1, 4, 4]` images.
    fn new(seed: u64) -> Self {
        Cnn {
            conv1: Conv2d::new(1, 4, [3, 3], same(), seed),
            bn: BatchNorm2d::new(4),
            conv2: Conv2d::new(4, 8, [3, 3], same(), seed + 2),
            fc: Linear::new(8 * 4 * 4, 3, seed + 4),
            width: 8 * 4 * 4,
        }
    }

    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        let h = self.bn.forward(&self.conv1.forward(x)).relu();
        let h = self.conv2.forward(&h).relu();
        self.fc.forward(&h.reshape(&[x.shape()[0], self.width]))
    }
}

/// torch's `Cnn().state_dict()`: each key with its shape, in torch's order (a module's
/// parameters, then its buffers, child after child).
const TORCH_CNN_STATE_DICT: [(&str, &[usize]); 11] = [
    ("conv1.weight", &[4, 1, 3, 3]),
    ("conv1.bias", &[4]),
    ("bn.weight", &[4]),
    ("bn.bias", &[4]),
    ("bn.running_mean", &[4]),
    ("bn.running_var", &[4]),
    ("bn.num_batches_tracked", &[]),
    ("conv2.weight", &[8, 4, 3, 3]),
    ("conv2.bias", &[8]),
    ("fc.weight", &[3, 128]),
    ("fc.bias", &[3]),
];

/// A temporary folder removed on drop.
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Every tensor in a safetensors file: name and shape, sorted by name.
fn file_contents(path: &Path) -> Vec<(String, Vec<usize>)> {
    let bytes = std::fs::read(path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut contents: Vec<(String, Vec<usize>)> = file
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.shape().to_vec()))
        .collect();
    contents.sort();
    contents
}

#[test]
fn a_derived_cnn_names_its_tensors_field_by_field_as_torch_does() {
    let net = Cnn::<f32>::new(0);
    assert_eq!(
        parameter_names(&net),
        [
            "conv1.weight",
            "conv1.bias",
            "bn.weight",
            "bn.bias",
            "conv2.weight",
            "conv2.bias",
            "fc.weight",
            "fc.bias"
        ],
        "torch's named_parameters(): declaration order, the skipped width left out"
    );
    assert_eq!(
        buffer_names(&net),
        [
            "bn.running_mean",
            "bn.running_var",
            "bn.num_batches_tracked"
        ],
        "torch's named_buffers()"
    );
    assert_eq!(net.parameters().len(), 8, "an optimizer sees no buffer");
    // The saved file holds exactly torch's state_dict keys, with torch's shapes.
    let dir = scratch();
    let path = dir.path().join("cnn.safetensors");
    save(&net, &path).unwrap();
    let mut torch: Vec<(String, Vec<usize>)> = TORCH_CNN_STATE_DICT
        .iter()
        .map(|(name, shape)| (name.to_string(), shape.to_vec()))
        .collect();
    torch.sort();
    assert_eq!(file_contents(&path), torch);
}

#[test]
fn the_derived_forward_is_the_inherent_one_through_the_trait_too() {
    let net = Cnn::<f64>::new(3);
    let x = Tensor::<f64>::randn(&[2, 1, 4, 4], 0.0, 1.0, 5);
    let direct = net.forward(&x).to_vec();
    let as_trait = Module::forward(&net, &x).to_vec();
    let boxed: Box<dyn Module<f64>> = Box::new(Cnn::<f64>::new(3));
    assert_eq!(direct, as_trait);
    assert_eq!(direct, boxed.forward(&x).to_vec());
    assert_eq!(direct.len(), 2 * 3);
}

#[test]
fn a_saved_model_loads_into_a_fresh_one_with_its_buffers() {
    let trained = Cnn::<f64>::new(1);
    // One training-mode pass moves the running statistics off their start (0 and 1).
    trained.forward(&Tensor::randn(&[4, 1, 4, 4], 2.0, 3.0, 7));
    let dir = scratch();
    let path = dir.path().join("cnn.safetensors");
    save(&trained, &path).unwrap();
    let fresh = Cnn::<f64>::new(100);
    assert_ne!(
        fresh.parameters()[0].value(),
        trained.parameters()[0].value()
    );
    load(&fresh, &path).unwrap();
    for ((name, a), (_, b)) in trained
        .named_parameters()
        .into_iter()
        .zip(fresh.named_parameters())
    {
        assert_eq!(a.value(), b.value(), "{name}");
    }
    for ((name, a), (_, b)) in trained
        .named_buffers()
        .into_iter()
        .zip(fresh.named_buffers())
    {
        match (a, b) {
            (Buffer::Float(a), Buffer::Float(b)) => assert_eq!(a.value(), b.value(), "{name}"),
            (Buffer::Count(a), Buffer::Count(b)) => assert_eq!((a.get(), b.get()), (1, 1)),
            _ => panic!("{name}: buffer kinds differ"),
        }
    }
    let x = Tensor::<f64>::randn(&[2, 1, 4, 4], 0.0, 1.0, 8);
    let (mut trained, mut fresh) = (trained, fresh);
    trained.set_training(false);
    fresh.set_training(false);
    assert_eq!(trained.forward(&x).to_vec(), fresh.forward(&x).to_vec());
}

/// ```python
/// class Block(nn.Module):                 # self.conv = nn.Conv2d(2, 2, 3, padding="same")
///     ...                                 # self.norm = nn.BatchNorm2d(2)
/// class Net(nn.Module):
///     def __init__(self):
///         super().__init__()
///         self.stem = nn.Conv2d(1, 2, 3, padding="same")
///         self.block = Block()
///         self.blocks = nn.ModuleList([Block(), Block()])
///         self.gain = nn.Parameter(torch.ones(1))
///         self.taps = nn.ParameterList([nn.Parameter(torch.zeros(2)) for _ in range(2)])
///         self.head = nn.Linear(2, 1)
///         self.aux = None
///         self.body = nn.Sequential(nn.Linear(1, 1), nn.Tanh(), nn.Linear(1, 1))
/// ```
#[derive(Module)]
struct Block<F: Float> {
    conv: Conv2d<F>,
    norm: BatchNorm2d<F>,
}

impl<F: Float> Block<F> {
    fn new(seed: u64) -> Self {
        Block {
            conv: Conv2d::new(2, 2, [3, 3], same(), seed),
            norm: BatchNorm2d::new(2),
        }
    }

    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        self.norm.forward(&self.conv.forward(x)).relu()
    }
}

#[derive(Module)]
struct Net<F: Float> {
    stem: Conv2d<F>,
    block: Block<F>,
    blocks: Vec<Block<F>>,
    gain: Param<F>,
    taps: Vec<Param<F>>,
    head: Option<Linear<F>>,
    aux: Option<Linear<F>>,
    body: Box<dyn Module<F>>,
}

impl<F: Float> Net<F> {
    fn new() -> Self {
        Net {
            stem: Conv2d::new(1, 2, [3, 3], same(), 0),
            block: Block::new(2),
            blocks: vec![Block::new(4), Block::new(6)],
            gain: Param::new("gain", ndarray::ArrayD::ones(vec![1])),
            taps: (0..2)
                .map(|_| Param::new("tap", ndarray::ArrayD::zeros(vec![2])))
                .collect(),
            head: Some(Linear::new(2, 1, 8)),
            aux: None,
            body: Box::new(Sequential::new(vec![
                Box::new(Linear::new(1, 1, 9)),
                Box::new(Activation::Tanh),
                Box::new(Linear::new(1, 1, 10)),
            ])),
        }
    }

    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        let h = self.block.forward(&self.stem.forward(x));
        let h = self.blocks.iter().fold(h, |h, b| b.forward(&h));
        let pooled = h.mean_axes(&[2, 3], false); // [N, 2]
        let h = self.head.as_ref().unwrap().forward(&pooled) * &self.gain.tensor();
        self.body.forward(&h)
    }
}

#[test]
fn nested_structs_vecs_params_options_and_boxes_compose_their_names() {
    let net = Net::<f32>::new();
    assert_eq!(
        parameter_names(&net),
        [
            "stem.weight",
            "stem.bias",
            "block.conv.weight",
            "block.conv.bias",
            "block.norm.weight",
            "block.norm.bias",
            "blocks.0.conv.weight",
            "blocks.0.conv.bias",
            "blocks.0.norm.weight",
            "blocks.0.norm.bias",
            "blocks.1.conv.weight",
            "blocks.1.conv.bias",
            "blocks.1.norm.weight",
            "blocks.1.norm.bias",
            "gain",
            "taps.0",
            "taps.1",
            "head.weight",
            "head.bias",
            "body.0.weight",
            "body.0.bias",
            "body.2.weight",
            "body.2.bias",
        ]
    );
    assert_eq!(
        buffer_names(&net),
        [
            "block.norm.running_mean",
            "block.norm.running_var",
            "block.norm.num_batches_tracked",
            "blocks.0.norm.running_mean",
            "blocks.0.norm.running_var",
            "blocks.0.norm.num_batches_tracked",
            "blocks.1.norm.running_mean",
            "blocks.1.norm.running_var",
            "blocks.1.norm.num_batches_tracked",
        ]
    );
    let y = net.forward(&Tensor::zeros(&[3, 1, 5, 5]));
    assert_eq!(y.shape(), &[3, 1]);
    // A derived model inside a Sequential is prefixed by its index like any layer.
    let outer = Sequential::new(vec![Box::new(Block::<f32>::new(0))]);
    assert_eq!(
        parameter_names(&outer),
        [
            "0.conv.weight",
            "0.conv.bias",
            "0.norm.weight",
            "0.norm.bias"
        ]
    );
}

/// ```python
/// class Regularised(nn.Module):   # self.fc = nn.Linear(4, 16); self.drop = nn.Dropout(0.5)
/// ```
#[derive(Module)]
struct Regularised<F: Float> {
    fc: Linear<F>,
    drop: Dropout,
    #[module(skip)]
    label: String,
}

impl<F: Float> Regularised<F> {
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        self.drop.forward(&self.fc.forward(x))
    }
}

#[test]
fn set_training_reaches_a_dropout_inside() {
    let mut net = Regularised::<f64> {
        fc: Linear::new(4, 16, 1),
        drop: Dropout::new(0.5, 2),
        label: "regularised".into(),
    };
    let x = Tensor::<f64>::randn(&[8, 4], 0.0, 1.0, 3);
    assert_ne!(
        net.forward(&x).to_vec(),
        net.forward(&x).to_vec(),
        "training: a fresh mask each pass"
    );
    net.set_training(false);
    let eval = net.forward(&x).to_vec();
    assert_eq!(eval, net.forward(&x).to_vec(), "evaluation: the identity");
    assert_eq!(eval, net.fc.forward(&x).to_vec());
    net.set_training(true);
    assert_ne!(net.forward(&x).to_vec(), eval, "and back to training");
    assert_eq!(parameter_names(&net), ["fc.weight", "fc.bias"]);
    assert_eq!(net.label, "regularised");
    // The dropout's generator is listed too, for checkpoints to save its position.
    let rngs: Vec<String> = net.named_rngs().into_iter().map(|(n, _)| n).collect();
    assert_eq!(rngs, ["drop.rng"]);
}

#[test]
fn sgd_trains_a_derived_model_through_parameters() {
    let net = Cnn::<f64>::new(11);
    let x = Tensor::<f64>::randn(&[8, 1, 4, 4], 0.0, 1.0, 12);
    let y = Tensor::<f64>::randn(&[8, 3], 0.0, 1.0, 13);
    let mut sgd = Sgd::new(
        net.parameters(),
        SgdConfig {
            lr: 0.05,
            ..Default::default()
        },
    )
    .unwrap();
    let mut losses = Vec::new();
    for _ in 0..30 {
        sgd.zero_grad();
        let loss = mse(&net.forward(&x), &y);
        losses.push(loss.item());
        loss.backward();
        sgd.step();
    }
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    assert!(last < 0.5 * first, "loss {first} → {last}: {losses:?}");
    // Every parameter moved, the deepest (conv1's weight) included.
    assert_ne!(
        *net.conv1.weight().value(),
        *Cnn::<f64>::new(11).conv1.weight().value()
    );
}

/// A generic body with a residual connection: the float type is found in the where-clause,
/// and the `B: Module<F>` bound is copied onto the impl.
#[derive(Module)]
struct Residual<F, B>
where
    F: Float,
    B: Module<F>,
{
    body: B,
    proj: Option<Linear<F>>,
}

impl<F, B> Residual<F, B>
where
    F: Float,
    B: Module<F>,
{
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        let skip = match &self.proj {
            Some(proj) => proj.forward(x),
            None => x.clone(),
        };
        &self.body.forward(x) + &skip
    }
}

#[test]
fn generic_structs_with_where_clauses_derive() {
    let plain = Residual::<f64, Linear<f64>> {
        body: Linear::new(3, 3, 1),
        proj: None,
    };
    assert_eq!(parameter_names(&plain), ["body.weight", "body.bias"]);
    let x = Tensor::<f64>::randn(&[2, 3], 0.0, 1.0, 2);
    let expected = (&plain.body.forward(&x) + &x).to_vec();
    assert_eq!(Module::forward(&plain, &x).to_vec(), expected);
    // Nested generics: a residual around a derived struct around a boxed module.
    let deep = Residual::<f32, Residual<f32, Box<dyn Module<f32>>>> {
        body: Residual {
            body: Box::new(Linear::new(3, 2, 3)),
            proj: Some(Linear::new(3, 2, 4)),
        },
        proj: Some(Linear::new(3, 2, 5)),
    };
    assert_eq!(
        parameter_names(&deep),
        [
            "body.body.weight",
            "body.body.bias",
            "body.proj.weight",
            "body.proj.bias",
            "proj.weight",
            "proj.bias"
        ]
    );
}

/// A concrete model: no type parameter, so the float type is named.
#[derive(Module)]
#[module(float = f32, forward = run)]
struct Tiny {
    hidden: Linear<f32>,
    out: Linear<f32>,
}

impl Tiny {
    fn run(&self, x: &Tensor<f32>) -> Tensor<f32> {
        self.out.forward(&self.hidden.forward(x).tanh())
    }
}

/// Forward through a free function, named by a path.
#[derive(Module)]
#[module(forward = self::twice)]
struct Twice<F: Float> {
    r#type: Linear<F>,
}

fn twice<F: Float>(m: &Twice<F>, x: &Tensor<F>) -> Tensor<F> {
    m.r#type.forward(&m.r#type.forward(x))
}

#[test]
fn concrete_floats_and_other_forward_methods() {
    let tiny = Tiny {
        hidden: Linear::new(2, 4, 1),
        out: Linear::new(4, 1, 2),
    };
    let x = Tensor::<f32>::randn(&[3, 2], 0.0, 1.0, 3);
    let boxed: &dyn Module<f32> = &tiny;
    assert_eq!(boxed.forward(&x).to_vec(), tiny.run(&x).to_vec());
    assert_eq!(
        parameter_names(&tiny),
        ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]
    );
    let t = Twice::<f64> {
        r#type: Linear::new(2, 2, 4),
    };
    let x = Tensor::<f64>::randn(&[1, 2], 0.0, 1.0, 5);
    assert_eq!(Module::forward(&t, &x).to_vec(), twice(&t, &x).to_vec());
    assert_eq!(
        parameter_names(&t),
        ["type.weight", "type.bias"],
        "a raw identifier is named without its r#"
    );
}

/// A tuple struct numbers its fields as `nn.Sequential` does; a skipped field keeps its
/// number (as torch keeps the index of a parameter-free layer).
#[derive(Module)]
struct Pair<F: Float>(Linear<F>, #[module(skip)] usize, Linear<F>);

impl<F: Float> Pair<F> {
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        self.2.forward(&self.0.forward(x).relu())
    }
}

#[test]
fn tuple_structs_are_numbered_like_torch_sequential() {
    let pair = Pair::<f64>(Linear::new(2, 3, 1), 7, Linear::new(3, 1, 2));
    assert_eq!(
        parameter_names(&pair),
        ["0.weight", "0.bias", "2.weight", "2.bias"]
    );
    // The same layers in a Sequential (with the ReLU at index 1) save under the same names.
    let seq = Sequential::<f64>::new(vec![
        Box::new(Linear::new(2, 3, 1)),
        Box::new(Activation::Relu),
        Box::new(Linear::new(3, 1, 2)),
    ]);
    assert_eq!(parameter_names(&pair), parameter_names(&seq));
    let x = Tensor::<f64>::randn(&[4, 2], 0.0, 1.0, 3);
    assert_eq!(pair.forward(&x).to_vec(), seq.forward(&x).to_vec());
    assert_eq!(pair.1, 7);
}

/// A struct with no layers at all derives too: nothing to list, and `forward` still works.
#[derive(Module)]
#[module(float = f64)]
struct Scale {
    #[module(skip)]
    factor: f64,
}

impl Scale {
    fn forward(&self, x: &Tensor<f64>) -> Tensor<f64> {
        x * self.factor
    }
}

#[test]
fn a_struct_of_skipped_fields_lists_nothing() {
    let mut scale = Scale { factor: 2.0 };
    scale.set_training(false);
    assert!(parameter_names(&scale).is_empty() && buffer_names(&scale).is_empty());
    let y = Module::forward(&scale, &Tensor::from_vec(vec![1.5], &[1]));
    assert_eq!(y.to_vec(), [3.0]);
}
