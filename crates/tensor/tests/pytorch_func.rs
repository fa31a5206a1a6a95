//! `func::jvp`, `jacfwd`, `hessian` and `hvp` pinned against torch.func (float64, CPU).
//!
//! The numbers come from `tests/pytorch/func_reference.py`, run once; its output is
//! `tests/pytorch/func_pinned.rs`. Inputs and tangents are `pattern(seed, shape)`, rebuilt
//! here bit for bit, and every function is written with the same ops as in the script.

use tapegrad_tensor::{func, Tensor};

mod support;

#[rustfmt::skip]
#[allow(clippy::all, dead_code)]
#[path = "pytorch/func_pinned.rs"]
mod pinned;

use pinned::*;
use support::{assert_close, pattern};

#[track_caller]
fn assert_pinned(what: &str, got: &Tensor<f64>, want: &[f64], shape: &[usize]) {
    assert_eq!(got.shape(), shape, "{what}: shape");
    assert_close(what, &got.to_vec(), want);
}

fn half(seed: usize, shape: &[usize]) -> Tensor<f64> {
    &pattern(seed, shape) * 0.5
}

#[test]
fn jvp_of_an_mlp_matches_torch_func() {
    // tanh(x·w1 + b1)·w2, tangents on all four inputs at once.
    let mlp = |t: &[Tensor<f64>]| (&t[0].matmul(&t[1]) + &t[2]).tanh().matmul(&t[3]);
    let primals = [
        half(1, &[3, 2]),
        half(2, &[2, 4]),
        half(3, &[4]),
        half(4, &[4, 2]),
    ];
    let tangents: Vec<Tensor<f64>> = primals
        .iter()
        .enumerate()
        .map(|(k, p)| pattern(10 + k, p.shape()))
        .collect();
    let (y, dy) = func::jvp(mlp, &primals, &tangents).unwrap();
    assert_pinned("mlp y", &y, MLP_JVP_Y, MLP_JVP_Y_SHAPE);
    assert_pinned("mlp jvp", &dy, MLP_JVP_T, MLP_JVP_T_SHAPE);
}

#[test]
fn jacfwd_of_softmax_times_sin_matches_torch_func() {
    let f = |t: &[Tensor<f64>]| t[0].softmax(-1).mul(&t[0].sin());
    let j = func::jacfwd(f, &[half(5, &[2, 3])]).unwrap();
    assert_pinned(
        "softmax·sin jacfwd",
        &j[0],
        SOFT_SIN_JACFWD,
        SOFT_SIN_JACFWD_SHAPE,
    );
    // and reverse mode agrees
    let jr = func::jacrev(f, &[half(5, &[2, 3])]).unwrap();
    assert_pinned(
        "softmax·sin jacrev",
        &jr[0],
        SOFT_SIN_JACFWD,
        SOFT_SIN_JACFWD_SHAPE,
    );
}

#[test]
fn hessian_of_two_inputs_matches_torch_func() {
    // Σ sin(x) ⊙ y² + Σ x³ / 3 + (Σ x ⊙ y)², every block of torch.func.hessian(argnums=(0, 1)).
    let f = |t: &[Tensor<f64>]| {
        let (x, y) = (&t[0], &t[1]);
        &(&(&x.sin() * &y.powf(2.0)).sum() + &(&x.powf(3.0).sum() / 3.0)) + &(x * y).sum().powf(2.0)
    };
    let h = func::hessian(f, &[half(6, &[3]), half(7, &[3])]).unwrap();
    let want: [[(&[f64], &[usize]); 2]; 2] = [
        [
            (TWO_HESSIAN_00, TWO_HESSIAN_00_SHAPE),
            (TWO_HESSIAN_01, TWO_HESSIAN_01_SHAPE),
        ],
        [
            (TWO_HESSIAN_10, TWO_HESSIAN_10_SHAPE),
            (TWO_HESSIAN_11, TWO_HESSIAN_11_SHAPE),
        ],
    ];
    for i in 0..2 {
        for j in 0..2 {
            let (values, shape) = want[i][j];
            assert_pinned(&format!("hessian[{i}][{j}]"), &h[i][j], values, shape);
        }
    }
}

#[test]
fn hvp_of_an_mlp_loss_matches_torch_func() {
    // mean((tanh(X·w1)·w2 − Y)²), H·v for both weights: torch's jvp(grad(f), w, v).
    let (x, y) = (half(30, &[5, 3]), half(31, &[5, 2]));
    let loss = move |w: &[Tensor<f64>]| {
        let r = &x.matmul(&w[0]).tanh().matmul(&w[1]) - &y;
        (&r * &r).mean()
    };
    let w = [half(8, &[3, 4]), half(9, &[4, 2])];
    let v = [pattern(20, &[3, 4]), pattern(21, &[4, 2])];
    let hv = func::hvp(loss, &w, &v).unwrap();
    assert_pinned("hvp w1", &hv[0], MLP_HVP_0, MLP_HVP_0_SHAPE);
    assert_pinned("hvp w2", &hv[1], MLP_HVP_1, MLP_HVP_1_SHAPE);
}
