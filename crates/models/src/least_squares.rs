//! Closed-form least squares: the exact minimiser of L(w, b) = 1/(2n)·Σ(y − Xw − b)².
//!
//! Setting ∂L/∂w = −(1/n)·Xᵀ(y − Xw − b) and ∂L/∂b = −(1/n)·Σ(y − Xw − b) to zero gives the
//! normal equations, with A = [X | 1] (a column of ones for the bias):
//!
//! ```text
//! AᵀA·[w; b] = Aᵀy
//! ```
//!
//! solved here by Gaussian elimination with partial pivoting, in f64. (The normal equations
//! square the condition number of X; they are fine as a reference for well-posed problems.)
//!
//! ```
//! use tapegrad_models::least_squares::fit_with_bias;
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4, 1]);
//! let y = &x * 2.0 + 1.0;
//! let wb = fit_with_bias(&x, &y).unwrap();
//! assert!((wb[0] - 2.0).abs() < 1e-12 && (wb[1] - 1.0).abs() < 1e-12);
//! ```

use tapegrad_tensor::Tensor;

/// [w₁, …, w_d, b] minimising Σ(y − Xw − b)² for X of shape [n, d] and y of shape [n, 1];
/// `None` when the normal equations are singular (e.g. a constant or repeated feature).
///
/// # Panics
/// When X is not 2-D or y's shape is not [n, 1].
#[track_caller]
pub fn fit_with_bias(x: &Tensor<f64>, y: &Tensor<f64>) -> Option<Vec<f64>> {
    assert_eq!(
        x.ndim(),
        2,
        "fit_with_bias: X has shape {:?}; it must be [n, d]",
        x.shape()
    );
    assert_eq!(
        y.shape(),
        [x.shape()[0], 1],
        "fit_with_bias: y must have shape [n, 1]"
    );
    let ones = Tensor::ones(&[x.shape()[0], 1]);
    let a = Tensor::concat(&[x, &ones], 1);
    solve(a.t().matmul(&a).to_vec(), a.t().matmul(y).to_vec())
}

/// Solves the k×k system a·x = b (a row-major) by Gaussian elimination with partial
/// pivoting; `None` when a pivot vanishes (relative to the matrix's scale).
pub fn solve(mut a: Vec<f64>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let k = b.len();
    assert_eq!(a.len(), k * k, "solve: a must be {k}×{k}");
    let scale = a.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    for col in 0..k {
        let pivot =
            (col..k).max_by(|&i, &j| a[i * k + col].abs().total_cmp(&a[j * k + col].abs()))?;
        if a[pivot * k + col].abs() <= 1e-13 * scale {
            return None;
        }
        for c in 0..k {
            a.swap(col * k + c, pivot * k + c);
        }
        b.swap(col, pivot);
        for row in col + 1..k {
            let factor = a[row * k + col] / a[col * k + col];
            for c in col..k {
                a[row * k + c] -= factor * a[col * k + c];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; k];
    for row in (0..k).rev() {
        let tail: f64 = (row + 1..k).map(|c| a[row * k + c] * x[c]).sum();
        x[row] = (b[row] - tail) / a[row * k + row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_system_that_needs_pivoting() {
        // [[0, 1], [1, 1]]·x = [2, 3] has x = [1, 2]; the zero pivot forces a row swap.
        assert_eq!(
            solve(vec![0.0, 1.0, 1.0, 1.0], vec![2.0, 3.0]),
            Some(vec![1.0, 2.0])
        );
        assert_eq!(
            solve(vec![1.0, 2.0, 2.0, 4.0], vec![1.0, 2.0]),
            None,
            "singular"
        );
    }

    #[test]
    fn recovers_an_exact_linear_model() {
        // y = 3x₁ − x₂ + 0.5 with no noise: the fit is exact.
        let x = Tensor::<f64>::randn(&[20, 2], 0.0, 1.0, 4);
        let y = x.matmul(&Tensor::from_vec(vec![3.0, -1.0], &[2, 1])) + 0.5;
        let wb = fit_with_bias(&x, &y).unwrap();
        for (got, want) in wb.iter().zip([3.0, -1.0, 0.5]) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }
}
