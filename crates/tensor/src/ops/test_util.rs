//! Inputs and assertions shared by the ops' tests.

use ndarray::ArrayD;

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
