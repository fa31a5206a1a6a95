//! What the tests pinned against PyTorch share: the deterministic inputs the generating
//! scripts (`tests/pytorch/*.py`) build the same way, and the float64 comparison.

use tapegrad::Tensor;

/// sin(0.37·k + phase)·scale over the flat index k (the scripts' `wave`).
pub fn wave(shape: &[usize], phase: f64, scale: f64) -> Tensor<f64> {
    let n = shape.iter().product();
    let values = (0..n)
        .map(|k| (0.37 * k as f64 + phase).sin() * scale)
        .collect();
    Tensor::from_vec(values, shape)
}

/// cos(0.23·k) over the flat index k (the scripts' `cosw`).
pub fn cosw(shape: &[usize]) -> Tensor<f64> {
    let n = shape.iter().product();
    Tensor::from_vec((0..n).map(|k| (0.23 * k as f64).cos()).collect(), shape)
}

/// Agreement to 1e-10 absolute or relative: both sides are float64; the sums are ordered
/// differently, and libm's sin may differ from Python's by an ulp.
#[track_caller]
pub fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} values vs {}",
        got.len(),
        want.len()
    );
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-10 * w.abs().max(1.0),
            "{what}[{k}]: tapegrad {g}, torch {w}"
        );
    }
}

/// The gradient of `t`, which must have one.
pub fn grad_of(t: &Tensor<f64>) -> Vec<f64> {
    t.grad().expect("a gradient").to_vec()
}
