//! Weights move between tapegrad and PyTorch in one safetensors file, with no transposing:
//! `Linear` stores `weight` as `[out, in]` and `bias` as `[out]`, under torch's names.
//!
//! Both directions are pinned with numbers PyTorch computed once
//! (`tests/pytorch/linear_reference.py` beside this file regenerates them):
//! - torch → tapegrad: a `torch.nn.Sequential(Linear(3, 4), ReLU(), Linear(4, 2))` state dict
//!   saved by torch loads into the same tapegrad `Sequential` and predicts torch's outputs;
//! - tapegrad → torch: the weights of a seeded tapegrad MLP, saved by tapegrad, loaded into
//!   torch's module, gave the outputs pinned below, which tapegrad reproduces.

use tapegrad::models::io::{load, save};
use tapegrad::models::module::{Activation, Linear, Module, Sequential};
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

/// Writes the fixture the script reads (run by hand with `--ignored`).
#[test]
#[ignore = "writes tests/data/tapegrad_mlp.safetensors for the Python script"]
fn write_tapegrad_fixture() {
    save(&mlp(7), "tests/data/tapegrad_mlp.safetensors").unwrap();
}
