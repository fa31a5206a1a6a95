//! # Linear regression by gradient descent, with gradients from the tape
//!
//! The data is Anscombe's first quartet (F. J. Anscombe, "Graphs in Statistical Analysis",
//! *The American Statistician* 27, 1973), eleven points whose least-squares line is famously
//! y ≈ 3.00 + 0.500·x. We fit ŷ = w·x + b by minimising
//!
//! ```text
//! L(w, b) = 1/(2n) · Σ (yᵢ − w·xᵢ − b)²
//! ```
//!
//! and never write a derivative: `loss.backward()` records the ops and runs them in reverse.
//! What it must find (and what this example checks on the first step) is
//!
//! ```text
//! ∂L/∂w = −(1/n) · Σ xᵢ (yᵢ − ŷᵢ)        ∂L/∂b = −(1/n) · Σ (yᵢ − ŷᵢ)
//! ```
//!
//! The minus sign comes from differentiating −ŷ inside the square. The update
//! w ← w − α·∂L/∂w therefore *adds* α·(1/n)·Σ xᵢ(yᵢ − ŷᵢ): when predictions are too low the
//! weight grows. Drop the sign and every step climbs the loss instead.
//!
//! At the end the fitted line is compared with the closed-form least-squares solution.
//! Run: `cargo run --release --example linear_regression`

use std::process::ExitCode;

use tapegrad::{no_grad, Param, Tensor};

const X: [f64; 11] = [10.0, 8.0, 13.0, 9.0, 11.0, 14.0, 6.0, 4.0, 12.0, 7.0, 5.0];
const Y: [f64; 11] = [
    8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68,
];

/// L = 1/(2n)·Σ(y − Xw − b)², built from tensor ops so the tape can differentiate it.
fn loss(x: &Tensor<f64>, y: &Tensor<f64>, w: &Param<f64>, b: &Param<f64>) -> Tensor<f64> {
    let y_hat = x.matmul(&w.tensor()) + b.tensor();
    let residual = y - &y_hat;
    (&residual * &residual).mean() * 0.5
}

/// Closed-form least squares for one feature: slope = cov(x, y)/var(x), intercept = ȳ − slope·x̄.
fn closed_form(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(y).map(|(xi, yi)| (xi - mx) * (yi - my)).sum();
    let var: f64 = x.iter().map(|xi| (xi - mx) * (xi - mx)).sum();
    let slope = cov / var;
    (slope, my - slope * mx)
}

fn main() -> ExitCode {
    let n = X.len();
    let x = Tensor::<f64>::from_vec(X.to_vec(), &[n, 1]);
    let y = Tensor::<f64>::from_vec(Y.to_vec(), &[n, 1]);
    let w = Param::new("w", ndarray::arr2(&[[0.0]]).into_dyn());
    let b = Param::new("b", ndarray::arr1(&[0.0]).into_dyn());

    // The largest curvature of L is about mean(x²) ≈ 91, so steps above 2/91 ≈ 0.022 diverge.
    let (lr, steps) = (0.02, 10_000);
    println!("Fitting y = w·x + b to Anscombe's quartet I ({n} points), lr = {lr}\n");

    let first = loss(&x, &y, &w, &b);
    println!("The tape of one step:\n{}", first.tape().expect("recorded"));
    first.backward();
    // At w = b = 0 the residual is y itself: ∂L/∂w = −(1/n)·Σ x·y, ∂L/∂b = −(1/n)·Σ y.
    let analytic_w = -X.iter().zip(&Y).map(|(x, y)| x * y).sum::<f64>() / n as f64;
    let analytic_b = -Y.iter().sum::<f64>() / n as f64;
    let (tape_w, tape_b) = (
        w.grad().expect("grad")[[0, 0]],
        b.grad().expect("grad")[[0]],
    );
    println!("step 0 gradient  ∂L/∂w: tape {tape_w:.6}, by hand {analytic_w:.6}");
    println!("                 ∂L/∂b: tape {tape_b:.6}, by hand {analytic_b:.6}\n");
    w.zero_grad();
    b.zero_grad();

    println!("{:>6}  {:>12}  {:>9}  {:>9}", "step", "loss", "w", "b");
    for step in 0..=steps {
        let l = loss(&x, &y, &w, &b);
        if step % 1000 == 0 {
            let (wv, bv) = (w.value()[[0, 0]], b.value()[[0]]);
            println!("{step:>6}  {:>12.8}  {wv:>9.5}  {bv:>9.5}", l.item());
        }
        l.backward();
        for p in [&w, &b] {
            p.update(|value, grad| value.scaled_add(-lr, grad)); // w ← w − α·∂L/∂w
            p.zero_grad();
        }
    }

    let (slope, intercept) = closed_form(&X, &Y);
    let (wv, bv) = (w.value()[[0, 0]], b.value()[[0]]);
    let final_loss = no_grad(|| loss(&x, &y, &w, &b)).item();
    println!("\n{:<22}{:>10}  {:>10}", "", "w (slope)", "b");
    println!("{:<22}{wv:>10.6}  {bv:>10.6}", "gradient descent");
    println!("{:<22}{slope:>10.6}  {intercept:>10.6}", "closed form");
    println!("final loss {final_loss:.6}");

    let gradients_agree =
        (tape_w - analytic_w).abs() < 1e-12 && (tape_b - analytic_b).abs() < 1e-12;
    let converged = (wv - slope).abs() < 1e-6 && (bv - intercept).abs() < 1e-6;
    if gradients_agree && converged {
        println!(
            "check: tape gradients match the formulas, and the fit matches the closed form to 1e-6"
        );
        ExitCode::SUCCESS
    } else {
        eprintln!("check FAILED: gradients agree: {gradients_agree}, converged: {converged}");
        ExitCode::FAILURE
    }
}
