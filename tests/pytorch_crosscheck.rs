//! tapegrad against PyTorch: BatchNorm1d/2d, Lstm, Gru and Rnn give the numbers torch gives.
//!
//! The expected values were computed once by `tests/pytorch/reference.py` (torch 2.x, float64)
//! and pinned in `tests/pytorch/expected.rs`, because CI has no Python. Inputs are rebuilt
//! here by the same formula (value k is sin(0.37·k + phase)·scale, losses weight outputs by
//! cos(0.23·k)). The recurrent layers' weights are torch's own initialisation, exported by
//! the script as safetensors state dicts: loading those fixtures with `io::load` is itself
//! part of the check (torch's names, shapes and gate order), as is loading a BatchNorm2d state
//! dict whose `num_batches_tracked` is torch's int64 scalar.

use std::path::PathBuf;

use tapegrad::models::buffer::Buffer;
use tapegrad::models::io;
use tapegrad::models::module::{
    BatchNorm1d, BatchNorm2d, BatchNormConfig, Gru, Lstm, Module, RecurrentConfig, Rnn,
};

#[rustfmt::skip]
#[path = "pytorch/expected.rs"]
mod expected;

use expected::*;

mod torch_support;
use torch_support::{assert_close, cosw, grad_of, wave};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/pytorch")
        .join(name)
}

fn param_grad(module: &dyn Module<f64>, name: &str) -> Vec<f64> {
    let (_, p) = module
        .named_parameters()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no parameter {name}"));
    p.grad().expect("a gradient").iter().copied().collect()
}

#[test]
fn lstm_loaded_from_a_torch_state_dict_matches_torch() {
    let two = RecurrentConfig {
        num_layers: 2,
        ..RecurrentConfig::default()
    };
    let lstm = Lstm::<f64>::with_config(3, 4, two, 99);
    io::load(&lstm, fixture("lstm.safetensors")).unwrap();
    let x = wave(&[3, 2, 3], 0.0, 1.0).requires_grad();
    let h0 = wave(&[2, 2, 4], 1.0, 0.5).requires_grad();
    let c0 = wave(&[2, 2, 4], 2.0, 1.0).requires_grad();
    let (out, (h_n, c_n)) = lstm.forward_with_state(&x, Some((&h0, &c0)));
    let loss =
        (&out * &cosw(out.shape())).sum() + (&h_n * &h_n).sum() + (&c_n * &cosw(c_n.shape())).sum();
    assert_close("output", &out.to_vec(), LSTM_OUT);
    assert_close("h_n", &h_n.to_vec(), LSTM_H_N);
    assert_close("c_n", &c_n.to_vec(), LSTM_C_N);
    assert_close("loss", &[loss.item()], LSTM_LOSS);
    loss.backward();
    assert_close("∂L/∂x", &grad_of(&x), LSTM_GRAD_X);
    assert_close("∂L/∂h0", &grad_of(&h0), LSTM_GRAD_H0);
    assert_close("∂L/∂c0", &grad_of(&c0), LSTM_GRAD_C0);
    let grads: [(&str, &[f64]); 8] = [
        ("weight_ih_l0", LSTM_GRAD_WEIGHT_IH_L0),
        ("weight_hh_l0", LSTM_GRAD_WEIGHT_HH_L0),
        ("bias_ih_l0", LSTM_GRAD_BIAS_IH_L0),
        ("bias_hh_l0", LSTM_GRAD_BIAS_HH_L0),
        ("weight_ih_l1", LSTM_GRAD_WEIGHT_IH_L1),
        ("weight_hh_l1", LSTM_GRAD_WEIGHT_HH_L1),
        ("bias_ih_l1", LSTM_GRAD_BIAS_IH_L1),
        ("bias_hh_l1", LSTM_GRAD_BIAS_HH_L1),
    ];
    for (name, want) in grads {
        assert_close(name, &param_grad(&lstm, name), want);
    }
}

#[test]
fn gru_loaded_from_a_torch_state_dict_matches_torch_batch_first() {
    let config = RecurrentConfig {
        num_layers: 2,
        batch_first: true,
        ..RecurrentConfig::default()
    };
    let gru = Gru::<f64>::with_config(3, 4, config, 99);
    io::load(&gru, fixture("gru.safetensors")).unwrap();
    let x = wave(&[2, 3, 3], 0.5, 1.0).requires_grad();
    let h0 = wave(&[2, 2, 4], 1.5, 0.5).requires_grad();
    let (out, h_n) = gru.forward_with_state(&x, Some(&h0));
    assert_close("output", &out.to_vec(), GRU_OUT);
    assert_close("h_n", &h_n.to_vec(), GRU_H_N);
    ((&out * &cosw(out.shape())).sum() + (&h_n * &h_n).sum()).backward();
    assert_close("∂L/∂x", &grad_of(&x), GRU_GRAD_X);
    assert_close("∂L/∂h0", &grad_of(&h0), GRU_GRAD_H0);
    let grads: [(&str, &[f64]); 8] = [
        ("weight_ih_l0", GRU_GRAD_WEIGHT_IH_L0),
        ("weight_hh_l0", GRU_GRAD_WEIGHT_HH_L0),
        ("bias_ih_l0", GRU_GRAD_BIAS_IH_L0),
        ("bias_hh_l0", GRU_GRAD_BIAS_HH_L0),
        ("weight_ih_l1", GRU_GRAD_WEIGHT_IH_L1),
        ("weight_hh_l1", GRU_GRAD_WEIGHT_HH_L1),
        ("bias_ih_l1", GRU_GRAD_BIAS_IH_L1),
        ("bias_hh_l1", GRU_GRAD_BIAS_HH_L1),
    ];
    for (name, want) in grads {
        assert_close(name, &param_grad(&gru, name), want);
    }
}

#[test]
fn rnn_loaded_from_a_torch_state_dict_matches_torch_unbatched() {
    let two = RecurrentConfig {
        num_layers: 2,
        ..RecurrentConfig::default()
    };
    let rnn = Rnn::<f64>::with_config(3, 4, two, 99);
    io::load(&rnn, fixture("rnn.safetensors")).unwrap();
    let x = wave(&[5, 3], 0.2, 1.0).requires_grad();
    let h0 = wave(&[2, 4], 0.9, 0.5);
    let (out, h_n) = rnn.forward_with_state(&x, Some(&h0));
    assert_close("output", &out.to_vec(), RNN_OUT);
    assert_close("h_n", &h_n.to_vec(), RNN_H_N);
    ((&out * &cosw(out.shape())).sum() + (&h_n * &h_n).sum()).backward();
    assert_close("∂L/∂x", &grad_of(&x), RNN_GRAD_X);
    assert_close(
        "weight_hh_l0",
        &param_grad(&rnn, "weight_hh_l0"),
        RNN_GRAD_WEIGHT_HH_L0,
    );
    assert_close(
        "bias_ih_l1",
        &param_grad(&rnn, "bias_ih_l1"),
        RNN_GRAD_BIAS_IH_L1,
    );
}

struct BatchNormCase<'a> {
    y: &'a [f64],
    running_mean: &'a [f64],
    running_var: &'a [f64],
    grad_x: &'a [f64],
    grad_weight: &'a [f64],
    grad_bias: &'a [f64],
    eval_y: &'a [f64],
}

/// The script's steps: γ = 1 + 0.1·c, β = 0.05·c − 0.1; a first training call for the
/// statistics; a second whose loss Σ y ⊙ cos-weights is differentiated; then evaluation.
fn batch_norm_case(bn: &mut dyn Module<f64>, shape: &[usize], want: BatchNormCase) {
    let params = bn.parameters();
    let c = params[0].shape()[0];
    let gamma = (0..c).map(|k| 1.0 + 0.1 * k as f64).collect();
    let beta = (0..c).map(|k| 0.05 * k as f64 - 0.1).collect();
    params[0]
        .set_value(ndarray::ArrayD::from_shape_vec(vec![c], gamma).unwrap())
        .unwrap();
    params[1]
        .set_value(ndarray::ArrayD::from_shape_vec(vec![c], beta).unwrap())
        .unwrap();
    bn.forward(&wave(shape, 0.0, 2.0).add_scalar(0.5));
    let x = wave(shape, 1.0, 1.5).requires_grad();
    let y = bn.forward(&x);
    (&y * &cosw(y.shape())).sum().backward();
    assert_close("y", &y.to_vec(), want.y);
    let buffers = bn.named_buffers();
    let float = |i: usize| match &buffers[i].1 {
        Buffer::Float(p) => p.value().iter().copied().collect::<Vec<f64>>(),
        Buffer::Count(_) => panic!("{} is a counter", buffers[i].0),
    };
    assert_close("running_mean", &float(0), want.running_mean);
    assert_close("running_var", &float(1), want.running_var);
    assert!(matches!(&buffers[2].1, Buffer::Count(n) if n.get() == 2));
    assert_close("∂L/∂x", &grad_of(&x), want.grad_x);
    let grad = |i: usize| {
        params[i]
            .grad()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<_>>()
    };
    assert_close("∂L/∂γ", &grad(0), want.grad_weight);
    assert_close("∂L/∂β", &grad(1), want.grad_bias);
    bn.set_training(false);
    assert_close(
        "eval y",
        &bn.forward(&wave(shape, 2.0, 1.0)).to_vec(),
        want.eval_y,
    );
}

#[test]
fn batch_norm_1d_trains_and_evaluates_as_torch() {
    let case = BatchNormCase {
        y: BN1_Y,
        running_mean: BN1_RUNNING_MEAN,
        running_var: BN1_RUNNING_VAR,
        grad_x: BN1_GRAD_X,
        grad_weight: BN1_GRAD_WEIGHT,
        grad_bias: BN1_GRAD_BIAS,
        eval_y: BN1_EVAL_Y,
    };
    batch_norm_case(&mut BatchNorm1d::new(3), &[4, 3, 2], case);
}

#[test]
fn batch_norm_2d_trains_and_evaluates_as_torch() {
    let case = BatchNormCase {
        y: BN2_Y,
        running_mean: BN2_RUNNING_MEAN,
        running_var: BN2_RUNNING_VAR,
        grad_x: BN2_GRAD_X,
        grad_weight: BN2_GRAD_WEIGHT,
        grad_bias: BN2_GRAD_BIAS,
        eval_y: BN2_EVAL_Y,
    };
    batch_norm_case(&mut BatchNorm2d::new(3), &[2, 3, 2, 2], case);
}

#[test]
fn a_torch_batch_norm_state_dict_loads_with_its_int64_counter() {
    // The fixture is torch's state dict after the two training calls above.
    let mut bn = BatchNorm2d::<f64>::new(3);
    io::load(&bn, fixture("batch_norm_2d.safetensors")).unwrap();
    assert_eq!(bn.num_batches_tracked(), Some(2));
    assert_close(
        "running_mean",
        bn.running_mean().unwrap().as_slice().unwrap(),
        BN2_RUNNING_MEAN,
    );
    Module::<f64>::set_training(&mut bn, false);
    assert_close(
        "eval y",
        &bn.forward(&wave(&[2, 3, 2, 2], 2.0, 1.0)).to_vec(),
        BN2_EVAL_Y,
    );
}

#[test]
fn cumulative_momentum_averages_as_torch() {
    let bn = BatchNorm1d::<f64>::with_config(
        2,
        BatchNormConfig {
            momentum: None,
            ..BatchNormConfig::default()
        },
    );
    bn.forward(&wave(&[3, 2], 0.0, 1.0).add_scalar(1.0));
    bn.forward(&wave(&[3, 2], 1.0, 3.0));
    assert_close(
        "running_mean",
        bn.running_mean().unwrap().as_slice().unwrap(),
        BN_CUMULATIVE_RUNNING_MEAN,
    );
    assert_close(
        "running_var",
        bn.running_var().unwrap().as_slice().unwrap(),
        BN_CUMULATIVE_RUNNING_VAR,
    );
}
