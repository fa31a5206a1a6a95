//! Inputs and assertions shared by the ops' tests.

use ndarray::{ArrayD, Dimension};

use crate::gradcheck::gradcheck;
use crate::Tensor;

/// Uniform on [-1, 1), seeded.
pub(crate) fn uniform(shape: &[usize], seed: u64) -> ArrayD<f64> {
    Tensor::<f64>::rand_uniform(shape, -1.0, 1.0, seed).to_array()
}

/// Uniform on [low, high), seeded (for ops defined only on part of the line).
pub(crate) fn uniform_in(shape: &[usize], low: f64, high: f64, seed: u64) -> ArrayD<f64> {
    Tensor::<f64>::rand_uniform(shape, low, high, seed).to_array()
}

/// Values of magnitude in [0.2, 1.2) with random signs: away from kinks at 0.
pub(crate) fn away_from_zero(shape: &[usize], seed: u64) -> ArrayD<f64> {
    uniform(shape, seed).mapv(|x| x.signum() * (0.2 + x.abs()))
}

/// Asserts that `f`'s tape gradient matches finite differences at `inputs`.
#[track_caller]
pub(crate) fn check(op: &str, f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>, inputs: &[ArrayD<f64>]) {
    if let Err(e) = gradcheck(op, f, inputs) {
        panic!("{e}");
    }
}

/// The shape pairs every broadcasting binary op is checked on: equal shapes, a size-1
/// dimension on either side, a rank difference, scalars, and an empty dimension.
pub(crate) const BROADCAST_CASES: &[(&[usize], &[usize])] = &[
    (&[3, 4], &[3, 4]),
    (&[3, 1], &[1, 4]),
    (&[2, 3, 4], &[4]),
    (&[4], &[2, 3, 4]),
    (&[], &[2, 2]),
    (&[2, 1], &[]),
    (&[0, 3], &[1, 3]),
];

/// Asserts that Hessian-vector products through `f` are right: with L = Σ r ⊙ f(x) for fixed
/// random r and a random direction v, the tape's H·v — `grad` of ⟨∇L, v⟩ where ∇L came from
/// `grad(.., create_graph = true)` — must match the central difference of first-order
/// gradients (∇L(x + h·v) − ∇L(x − h·v)) / 2h, for every input at once.
#[track_caller]
pub(crate) fn check_second_order(
    op: &str,
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    inputs: &[ArrayD<f64>],
) {
    use crate::{grad, no_grad};
    let constants = |xs: &[ArrayD<f64>]| -> Vec<Tensor<f64>> {
        xs.iter().cloned().map(Tensor::from_array).collect()
    };
    let shape = no_grad(|| f(&constants(inputs))).shape().to_vec();
    let r = Tensor::<f64>::rand_uniform(&shape, -1.0, 1.0, 7);
    let v: Vec<ArrayD<f64>> = (0..inputs.len())
        .map(|k| uniform(inputs[k].shape(), 100 + k as u64))
        .collect();
    // ∇L at xs, as tensors on a tape when `create_graph`.
    let gradient = |xs: &[ArrayD<f64>], create_graph: bool| {
        let leaves: Vec<Tensor<f64>> = constants(xs)
            .into_iter()
            .map(Tensor::requires_grad)
            .collect();
        let loss = (f(&leaves) * &r).sum();
        let refs: Vec<&Tensor<f64>> = leaves.iter().collect();
        let g = if loss.is_tracked() {
            grad(&loss, &refs, create_graph).unwrap()
        } else {
            xs.iter().map(|x| Tensor::zeros(x.shape())).collect()
        };
        (leaves, g)
    };
    let (leaves, g) = gradient(inputs, true);
    let s = g
        .iter()
        .zip(&v)
        .map(|(g, v)| (g * &Tensor::from_array(v.clone())).sum())
        .reduce(|a, b| a + b)
        .expect("at least one input");
    let refs: Vec<&Tensor<f64>> = leaves.iter().collect();
    let analytic: Vec<Tensor<f64>> = if s.is_tracked() {
        grad(&s, &refs, false).unwrap()
    } else {
        inputs.iter().map(|x| Tensor::zeros(x.shape())).collect()
    };
    let h = 1e-5;
    let shifted = |sign: f64| -> Vec<ArrayD<f64>> {
        inputs
            .iter()
            .zip(&v)
            .map(|(x, v)| x + &(v * (sign * h)))
            .collect()
    };
    let (plus, minus) = (
        gradient(&shifted(1.0), false).1,
        gradient(&shifted(-1.0), false).1,
    );
    for k in 0..inputs.len() {
        let numerical = (&plus[k].to_array() - &minus[k].to_array()) / (2.0 * h);
        for ((index, &num), &ana) in numerical.indexed_iter().zip(analytic[k].value().iter()) {
            assert!(
                (ana - num).abs() <= 1e-6 + 1e-5 * num.abs(),
                "second-order check {op}: input {k} at {:?}: H·v analytic {ana:.10e}, numerical {num:.10e}",
                index.slice()
            );
        }
    }
}
