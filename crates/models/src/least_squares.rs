//! Closed-form least squares: the exact minimiser of L(w, b) = 1/(2n)·Σ(y − Xw − b)².
//!
//! Setting ∂L/∂w = −(1/n)·Xᵀ(y − Xw − b) and ∂L/∂b = −(1/n)·Σ(y − Xw − b) to zero gives the
//! normal equations, with A = [X | 1] (a column of ones for the bias):
//!
//! ```text
//! AᵀA·[w; b] = Aᵀy
//! ```
//!
//! They are solved here without forming AᵀA, whose condition number is the square of A's:
//! faer's singular value decomposition A = UΣVᵀ gives [w; b] = VΣ⁻¹Uᵀy directly, in
//! f64, and its singular values tell when the problem has no unique answer.
//!
//! ```
//! use tapegrad_models::least_squares::fit_with_bias;
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4, 1]);
//! let y = &x * 2.0 + 1.0;
//! let wb = fit_with_bias(&x, &y).unwrap();
//! assert!((wb[0] - 2.0).abs() < 1e-12 && (wb[1] - 1.0).abs() < 1e-12);
//! ```

use faer::Mat;
use tapegrad_tensor::Tensor;

/// [w₁, …, w_d, b] minimising Σ(y − Xw − b)² for X of shape [n, d] and y of shape [n, 1];
/// `None` when the minimiser is not unique: A = [X | 1] has rank below d + 1 (a constant or
/// repeated feature, or fewer rows than unknowns), judged as NumPy's `lstsq` does, by
/// singular values below σ_max·max(n, d + 1)·ε.
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
    let (n, d) = (x.shape()[0], x.shape()[1]);
    assert_eq!(y.shape(), [n, 1], "fit_with_bias: y must have shape [n, 1]");
    let x = x.to_array();
    let a = Mat::<f64>::from_fn(n, d + 1, |i, j| if j < d { x[[i, j]] } else { 1.0 });
    let y = y.to_vec();
    let svd = a.thin_svd().ok()?;
    let (u, sigma, v) = (svd.U(), svd.S().column_vector(), svd.V());
    // Singular values come sorted, largest first.
    let largest = if sigma.nrows() > 0 { sigma[0] } else { 0.0 };
    let cutoff = largest * n.max(d + 1) as f64 * f64::EPSILON;
    if sigma.nrows() < d + 1 || largest == 0.0 || sigma[d] <= cutoff {
        return None;
    }
    // [w; b] = V·Σ⁻¹·Uᵀy: project y on each left singular vector, scale, map back.
    let scaled: Vec<f64> = (0..=d)
        .map(|k| (0..n).map(|i| u[(i, k)] * y[i]).sum::<f64>() / sigma[k])
        .collect();
    Some(
        (0..=d)
            .map(|j| (0..=d).map(|k| v[(j, k)] * scaled[k]).sum())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_feature_or_too_few_rows_has_no_unique_answer() {
        let x = Tensor::<f64>::randn(&[10, 1], 0.0, 1.0, 1);
        let y = &x * 2.0;
        let repeated = Tensor::concat(&[&x, &x], 1);
        assert_eq!(fit_with_bias(&repeated, &y), None);
        let constant = Tensor::concat(&[&x, &Tensor::ones(&[10, 1])], 1);
        assert_eq!(
            fit_with_bias(&constant, &y),
            None,
            "a constant column repeats the bias"
        );
        let few = Tensor::<f64>::randn(&[2, 3], 0.0, 1.0, 2);
        assert_eq!(fit_with_bias(&few, &Tensor::zeros(&[2, 1])), None);
    }

    #[test]
    fn an_ill_conditioned_problem_keeps_its_digits() {
        // A feature near 1000 beside one below 1e-4: A's condition number is 1.4e8, so AᵀA's
        // is 1.8e16. Solving the normal equations in f64 (NumPy, checked by hand) gets the bias
        // wrong by 3e-6 relative; the SVD of A keeps every coefficient to 1e-8.
        let t = Tensor::<f64>::arange(0.0, 50.0, 1.0).reshape(&[50, 1]) * 0.02;
        let x = Tensor::concat(&[&(&t + 1000.0), &(t.powf(2.0) * 1e-4)], 1);
        let y = x.matmul(&Tensor::from_vec(vec![3.0, -2.0e4], &[2, 1])) + 7.0;
        let wb = fit_with_bias(&x, &y).unwrap();
        for (got, want) in wb.iter().zip([3.0, -2.0e4, 7.0]) {
            assert!((got - want).abs() < 1e-8 * want.abs(), "{got} vs {want}");
        }
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
