//! # 03 — Checking and differentiating gradients
//!
//! How do we know a backward rule is right? `gradcheck` compares the tape's gradient with
//! central finite differences, (f(x + h) − f(x − h)) / 2h, element by element, and reports the
//! worst one. Then, because every backward rule is itself made of tensor ops, a gradient can be
//! differentiated again: `grad(&y, &[&x], true)` returns ∂y/∂x as a recorded tensor. That gives
//! second derivatives and Hessian-vector products, which Newton's method uses: here it finds
//! a minimum of f(x) = x⁴ − 3x² + x in a handful of steps.
//!
//! Run: `cargo run --example 03_gradients`

use tapegrad::tensor::gradcheck::gradcheck;
use tapegrad::{grad, Tensor};

fn f(x: &Tensor<f64>) -> Tensor<f64> {
    (x.powf(4.0) - &(x.powf(2.0) * 3.0) + x).sum()
}

fn main() {
    let x = Tensor::<f64>::randn(&[4], 0.0, 1.0, 3).to_array();
    let report = gradcheck("f", |t| f(&t[0]), &[x]).expect("the rules are right");
    let worst = report.worst.expect("four elements were compared");
    println!(
        "gradcheck: {} elements, worst at {:?}: tape {:.9}, finite differences {:.9}",
        report.checked, worst.index, worst.analytic, worst.numerical
    );

    // Newton's method: x ← x − f′(x)/f″(x), with both derivatives from the tape.
    // This loop is the lesson; to train a model, `tapegrad::models::trainer::Trainer` runs it.
    let mut x = 1.5;
    println!("\nNewton's method on f(x) = x⁴ − 3x² + x, from x = {x}");
    for step in 1..=8 {
        let xt = Tensor::<f64>::scalar(x).requires_grad();
        let y = f(&xt);
        let d1 = grad(&y, &[&xt], true).unwrap().remove(0); // f′ = 4x³ − 6x + 1
        let d2 = grad(&d1, &[&xt], false).unwrap().remove(0); // f″ = 12x² − 6
        x -= d1.item() / d2.item();
        println!("step {step}: x = {x:.12}, f′ = {:+.3e}", d1.item());
    }
    let slope = 4.0 * x * x * x - 6.0 * x + 1.0;
    assert!(slope.abs() < 1e-12, "f′(x) = {slope}");
    println!("\ncheck: f′(x) = {slope:.1e} at the local minimum x = {x:.12}");
}
