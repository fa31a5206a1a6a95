//! What the PyTorch-pinned tests share: the inputs their Python scripts build, and the
//! comparison with PyTorch's numbers.

use tapegrad_tensor::Tensor;

/// Element i = ((37·i + 11·seed) mod 101 − 50) / 25, as the scripts in `pytorch/` build it.
pub fn pattern(seed: usize, shape: &[usize]) -> Tensor<f64> {
    let n: usize = shape.iter().product();
    let data = (0..n)
        .map(|i| ((37 * i + 11 * seed) % 101) as f64 - 50.0)
        .map(|v| v / 25.0)
        .collect();
    Tensor::from_vec(data, shape)
}

/// `got` equals PyTorch's `want` to 1e-12, relative to 1 + |want|.
#[track_caller]
pub fn assert_close(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
            "{what}[{i}]: tapegrad {g:e}, PyTorch {w:e}"
        );
    }
}
