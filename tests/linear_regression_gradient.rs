//! The first check a user makes of an autodiff framework: linear regression's MSE gradient.
//!
//! For L = 1/(2n)·Σ(y − Xw − b)² the gradients are
//!
//! ```text
//! ∂L/∂w = −(1/n)·Xᵀ(y − Xw − b)        ∂L/∂b = −(1/n)·Σ(y − Xw − b)
//! ```
//!
//! (note the minus sign: the residual y − ŷ enters with −1). The tape must find exactly these.

use ndarray::{Array1, Array2};
use tapegrad::{no_grad, Tensor};

/// L = 1/(2n)·Σ(y − Xw − b)², recorded on the tape.
fn mse_half(x: &Tensor<f64>, y: &Tensor<f64>, w: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    let residual = y - &(x.matmul(w) + b);
    (&residual * &residual).mean() * 0.5
}

#[test]
fn autodiff_equals_the_analytic_mse_gradient() {
    let (n, d) = (50, 4);
    for seed in 0..5 {
        let x = Tensor::<f64>::randn(&[n, d], 0.0, 1.0, seed);
        let y = Tensor::<f64>::randn(&[n, 1], 0.5, 2.0, seed + 100);
        let w = Tensor::<f64>::randn(&[d, 1], 0.0, 1.0, seed + 200).requires_grad();
        let b = Tensor::<f64>::randn(&[1], 0.0, 1.0, seed + 300).requires_grad();

        mse_half(&x, &y, &w, &b).backward();

        // The same formulas in plain ndarray, no tape involved.
        let xa: Array2<f64> = x.to_array().into_dimensionality().unwrap();
        let ya: Array1<f64> = y.to_array().into_shape_with_order(n).unwrap();
        let wa: Array1<f64> = w.to_array().into_shape_with_order(d).unwrap();
        let residual = &ya - &xa.dot(&wa) - b.item();
        let dw = -xa.t().dot(&residual) / n as f64;
        let db = -residual.sum() / n as f64;

        let auto_dw = w.grad().unwrap().to_vec();
        for (auto, analytic) in auto_dw.iter().zip(dw.iter()) {
            assert!(
                (auto - analytic).abs() < 1e-10,
                "dL/dw: {auto} vs {analytic}"
            );
        }
        let auto_db = b.grad().unwrap().item();
        assert!((auto_db - db).abs() < 1e-10, "dL/db: {auto_db} vs {db}");
    }
}

#[test]
fn gradient_descent_fits_y_equals_2x() {
    // x = [1, 2, 3, 4], y = 2x. With lr 0.05 and 2000 steps w → 2 and b → 0.
    let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4, 1]);
    let y = &x * 2.0;
    let w = Tensor::<f64>::zeros(&[1, 1]).requires_grad();
    let b = Tensor::<f64>::zeros(&[1]).requires_grad();
    let lr = 0.05;
    let mut first_loss = None;
    for _ in 0..2000 {
        let loss = mse_half(&x, &y, &w, &b);
        first_loss.get_or_insert(loss.item());
        loss.backward();
        for p in [&w, &b] {
            // w ← w − α·∂L/∂w: the gradient already carries the minus sign of the residual.
            p.param()
                .unwrap()
                .update(|value, grad| value.scaled_add(-lr, grad));
            p.zero_grad();
        }
    }
    let final_loss = no_grad(|| mse_half(&x, &y, &w, &b)).item();
    assert!(final_loss < 1e-8 * first_loss.unwrap(), "loss {final_loss}");
    assert!((w.item() - 2.0).abs() < 1e-3, "w = {}", w.item());
    assert!(b.item().abs() < 1e-3, "b = {}", b.item());
}
