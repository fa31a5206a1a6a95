//! Helpers for this crate's unit tests.

use tapegrad_tensor::{Param, Tensor};

/// An f64 parameter holding `values`.
pub(crate) fn param(values: &[f64]) -> Param<f64> {
    Param::new("w", ndarray::Array1::from(values.to_vec()).into_dyn())
}

/// Makes the tape compute ∂L/∂w = `grad`, with L = Σ w ⊙ grad (replacing any old gradient).
pub(crate) fn set_grad(w: &Param<f64>, grad: &[f64]) {
    w.zero_grad();
    let g = Tensor::from_vec(grad.to_vec(), &[grad.len()]);
    (&w.tensor() * &g).sum().backward();
}
