//! Weights move between tapegrad and PyTorch in one safetensors file, with no transposing:
//! `Linear` stores `weight` as `[out, in]` and `bias` as `[out]`, under torch's names.
//!
//! Both directions are pinned with numbers PyTorch computed once
//! (`tests/pytorch/linear_reference.py` beside this file regenerates them):
//! - torch → tapegrad: a `torch.nn.Sequential(Linear(3, 4), ReLU(), Linear(4, 2))` state dict,
//!   and a small CNN's, saved by torch, load into the same tapegrad `Sequential`s and predict
//!   torch's outputs (recurrent layers and BatchNorm: `pytorch_crosscheck.rs`);
//! - tapegrad → torch: the weights of a seeded tapegrad MLP, and of a small CNN and an LSTM
//!   trained for a few steps in tapegrad, saved by tapegrad and loaded into torch's modules,
//!   gave the outputs pinned below, which tapegrad reproduces.

use tapegrad::models::io::{load, save};
use tapegrad::models::loss::mse;
use tapegrad::models::module::{
    Activation, Conv2d, Flatten, Linear, Lstm, MaxPool2d, Module, Sequential,
};
use tapegrad::optim::{Optimizer, Sgd, SgdConfig};
use tapegrad::tensor::{Conv2dOptions, MaxPool2dOptions, Padding};
use tapegrad::Tensor;

const TORCH_MLP_OUT: [f64; 10] = [
    -0.3159107978800383,
    0.06269786221966836,
    -0.5040825459671472,
    0.12997862288960374,
    -0.5757013527565917,
    0.0956809508354983,
    -0.4837954780790874,
    0.08183910397279501,
    -0.2598252487768522,
    0.06479185139234213,
];
const TAPEGRAD_CNN_IN_TORCH_OUT: [f64; 6] = [
    0.47009308355443735,
    0.45257449942081773,
    0.5769274797008269,
    0.46773555256444477,
    0.38635446514697713,
    0.4297873673788748,
];
const TAPEGRAD_LSTM_IN_TORCH_OUT: [f64; 30] = [
    0.011774991731826126,
    -0.013227598531199921,
    -0.03542055527660162,
    0.07425056886486867,
    -0.04912574421978594,
    -0.03675627267710185,
    0.10303979245292737,
    -0.0711177177206036,
    -0.057424294791961046,
    0.12262394318515653,
    -0.09092069572441727,
    -0.060499440045105,
    0.10396363204934293,
    -0.09200302801229723,
    -0.07947723272732134,
    0.06872782714302081,
    -0.07587531394952057,
    -0.08353351705720871,
    0.022735380858984848,
    -0.03205871766460825,
    -0.08933744822749005,
    -0.016781990808662963,
    0.016832730715344465,
    -0.07567393724834363,
    -0.05584737298767624,
    0.05930082976336599,
    -0.0695755758462261,
    -0.07441923477689154,
    0.06539873283994115,
    -0.06444259204955269,
];
const TORCH_CNN_OUT: [f64; 6] = [
    0.31365575536418283,
    0.03165209926003054,
    -0.12591510254095653,
    0.45028116034569926,
    0.21153841506157753,
    0.08735445616397869,
];
const TAPEGRAD_MLP_IN_TORCH_OUT: [f64; 10] = [
    0.24155111867887946,
    0.07352326829776717,
    0.3350386848847629,
    0.292720192036499,
    0.26159299364951216,
    0.4165525735393166,
    0.20373618834144983,
    0.32442319036429623,
    0.07019419963849302,
    0.3228931409827475,
];

fn mlp(seed: u64) -> Sequential<f64> {
    Sequential::new(vec![
        Box::new(Linear::new(3, 4, seed)),
        Box::new(Activation::Relu),
        Box::new(Linear::new(4, 2, seed + 1)),
    ])
}

/// x[i, j] = sin(0.7·i + 0.3·j) − 0.2, as the script builds it.
fn inputs() -> Tensor<f64> {
    let values = (0..5)
        .flat_map(|i| (0..3).map(move |j| (0.7 * f64::from(i) + 0.3 * f64::from(j)).sin() - 0.2))
        .collect();
    Tensor::from_vec(values, &[5, 3])
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
    }
}

#[test]
fn a_torch_state_dict_loads_and_predicts_what_torch_predicted() {
    let model = mlp(99);
    load(&model, "tests/data/torch_mlp.safetensors").unwrap();
    assert_close(&model.forward(&inputs()).to_vec(), &TORCH_MLP_OUT);
}

#[test]
fn tapegrad_weights_give_torch_the_same_outputs() {
    // The fixture is exactly what tapegrad writes for this seed today.
    let model = mlp(7);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    save(&model, &path).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read("tests/data/tapegrad_mlp.safetensors").unwrap(),
        "the committed fixture is stale: run write_tapegrad_fixture and the script"
    );
    assert_close(
        &model.forward(&inputs()).to_vec(),
        &TAPEGRAD_MLP_IN_TORCH_OUT,
    );
}

/// Conv2d(1 → 2, 3×3, padding 1) → ReLU → MaxPool2d(2) → Flatten → Linear(8 → 3), the
/// script's `torch.nn.Sequential` with the same indices (so the same names).
fn cnn() -> Sequential<f64> {
    let padded = Conv2dOptions {
        padding: Padding::Symmetric([1, 1]),
        ..Default::default()
    };
    Sequential::new(vec![
        Box::new(Conv2d::new(1, 2, [3, 3], padded, 3)),
        Box::new(Activation::Relu),
        Box::new(MaxPool2d::new(MaxPool2dOptions::new([2, 2]))),
        Box::new(Flatten::default()),
        Box::new(Linear::new(8, 3, 4)),
    ])
}

/// Images [2, 1, 4, 4]: x = cos(0.5·k) for the k-th value, as the script builds them.
fn images() -> Tensor<f64> {
    Tensor::from_vec(
        (0..32).map(|k| (0.5 * f64::from(k)).cos()).collect(),
        &[2, 1, 4, 4],
    )
}

/// Sequences [T = 5, N = 2, 2]: x = sin(0.3·k + 0.1), as the script builds them.
fn sequences() -> Tensor<f64> {
    Tensor::from_vec(
        (0..20).map(|k| (0.3 * f64::from(k) + 0.1).sin()).collect(),
        &[5, 2, 2],
    )
}

/// Ten steps of SGD (lr 0.1) pulling `model(x)` towards 0.5: a model that tapegrad trained.
fn trained<M: Module<f64>>(model: M, x: &Tensor<f64>) -> M {
    let mut sgd = Sgd::new(
        model.parameters(),
        SgdConfig {
            lr: 0.1,
            ..Default::default()
        },
    )
    .unwrap();
    for _ in 0..10 {
        sgd.zero_grad();
        let y = model.forward(x);
        let target = Tensor::full(y.shape(), 0.5);
        mse(&y, &target).backward();
        sgd.step();
    }
    model
}

#[test]
fn a_cnn_and_an_lstm_trained_here_give_torch_the_same_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let cnn = trained(cnn(), &images());
    let lstm = trained(Lstm::<f64>::new(2, 3, 5), &sequences());
    for (name, module) in [("cnn", &cnn as &dyn Module<f64>), ("lstm", &lstm)] {
        let path = dir.path().join(format!("{name}.safetensors"));
        save(module, &path).unwrap();
        let fixture = format!("tests/data/tapegrad_{name}.safetensors");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(&fixture).unwrap(),
            "{fixture} is stale: run write_tapegrad_fixture and the script"
        );
    }
    assert_close(&cnn.forward(&images()).to_vec(), &TAPEGRAD_CNN_IN_TORCH_OUT);
    assert_close(
        &lstm.forward(&sequences()).to_vec(),
        &TAPEGRAD_LSTM_IN_TORCH_OUT,
    );
}

#[test]
fn a_torch_cnn_state_dict_loads_and_predicts_what_torch_predicted() {
    let model = cnn();
    load(&model, "tests/data/torch_cnn.safetensors").unwrap();
    assert_close(&model.forward(&images()).to_vec(), &TORCH_CNN_OUT);
}

/// Writes the fixtures the script reads (run by hand with `--ignored`).
#[test]
#[ignore = "writes tests/data/tapegrad_*.safetensors for the Python script"]
fn write_tapegrad_fixture() {
    save(&mlp(7), "tests/data/tapegrad_mlp.safetensors").unwrap();
    save(
        &trained(cnn(), &images()),
        "tests/data/tapegrad_cnn.safetensors",
    )
    .unwrap();
    let lstm = trained(Lstm::<f64>::new(2, 3, 5), &sequences());
    save(&lstm, "tests/data/tapegrad_lstm.safetensors").unwrap();
}

#[test]
fn the_facade_re_exports_ndarray_and_the_element_trait() {
    // An array built through the re-export is the type tensors take: same crate, same version.
    let array = tapegrad::ndarray::ArrayD::<f64>::zeros(vec![2, 3]);
    let t = tapegrad::Tensor::from_array(array);
    fn sum<F: tapegrad::Float>(t: &tapegrad::Tensor<F>) -> f64 {
        t.sum().item().as_f64()
    }
    assert_eq!(sum(&t), 0.0);
    assert_eq!(
        t.softmax(-1).shape(),
        &[2, 3],
        "negative dims through the facade"
    );
}
