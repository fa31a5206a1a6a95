//! # Linear regression by gradient descent, with gradients from the tape
//!
//! Part 1 fits ŷ = w·x + b to y = 2x on x = [1, 2, 3, 4] by minimising
//!
//! ```text
//! L(w, b) = 1/(2n) · Σ (yᵢ − w·xᵢ − b)²
//! ```
//!
//! with plain gradient descent, w ← w − α·∂L/∂w at α = 0.01, and never writes a derivative:
//! `loss.backward()` records the ops and runs them in reverse. What the tape must find (and
//! what this example checks on the first step) is
//!
//! ```text
//! ∂L/∂w = −(1/n) · Σ xᵢ (yᵢ − ŷᵢ)        ∂L/∂b = −(1/n) · Σ (yᵢ − ŷᵢ)
//! ```
//!
//! The minus sign comes from differentiating −ŷ inside the square. Part 2 drops it: every step
//! then climbs the loss, and the stopping rules report the divergence. Part 3 fits a
//! three-feature problem with `LinearRegression` and compares it with the closed-form
//! least-squares solution.
//!
//! Run: `cargo run --release --example linear_regression`

use std::process::ExitCode;

use tapegrad::models::least_squares::fit_with_bias;
use tapegrad::models::LinearRegression;
use tapegrad::optim::stop::{StopReason, StopRules};
use tapegrad::optim::{Optimizer, Sgd, SgdConfig};
use tapegrad::Tensor;

const LR: f64 = 0.01;

/// Plain gradient descent on `model`, printing the loss every `every` iterations, until a rule
/// in `rules` fires. With `sign = -1` the step is w ← w − α·∂L/∂w (descent); `sign = +1` is
/// what dropping the gradient's minus sign does to the update (ascent).
fn gradient_descent(
    model: &LinearRegression,
    x: &Tensor<f64>,
    y: &Tensor<f64>,
    sign: f64,
    every: usize,
    rules: StopRules,
) -> StopReason {
    let mut stopper = rules.start();
    // This loop is the lesson; everyday training leaves it to `models::trainer::Trainer`.
    loop {
        let loss = model.loss(x, y);
        loss.backward();
        let (value, iter) = (loss.item(), stopper.iters());
        if iter % every == 0 {
            println!(
                "{iter:>6}  {value:>12.4e}  {:>9.5}  {:>9.5}",
                model.weights()[0],
                model.bias()
            );
        }
        let grad_norm = tapegrad::optim::clip::grad_norm(&model.params());
        if let Some(reason) = stopper.check(value, Some(grad_norm)) {
            return reason;
        }
        for p in model.params() {
            p.update(|value, grad| value.scaled_add(sign * LR, grad));
            p.zero_grad();
        }
    }
}

/// Part 1: the first gradient against the formula, then the fit. Returns whether both check.
fn part_1_descent(x: &Tensor<f64>, y: &Tensor<f64>, xs: &[f64], ys: &[f64]) -> bool {
    let n = xs.len() as f64;
    let model = LinearRegression::new(1);
    let first = model.loss(x, y);
    println!("The tape of one step:\n{}", first.tape().expect("recorded"));
    first.backward();
    // At w = b = 0 the residual is y itself: ∂L/∂w = −(1/n)·Σ x·y, ∂L/∂b = −(1/n)·Σ y.
    let by_hand = [
        -xs.iter().zip(ys).map(|(x, y)| x * y).sum::<f64>() / n,
        -ys.iter().sum::<f64>() / n,
    ];
    let tape: Vec<f64> = model
        .params()
        .iter()
        .map(|p| p.grad().unwrap().iter().sum())
        .collect();
    println!(
        "step 0 gradient  ∂L/∂w: tape {:.6}, by hand {:.6}",
        tape[0], by_hand[0]
    );
    println!(
        "                 ∂L/∂b: tape {:.6}, by hand {:.6}",
        tape[1], by_hand[1]
    );
    println!(
        "(without the minus sign the hand formula would give +{:.1}: the wrong way)\n",
        -by_hand[0]
    );
    model.params().iter().for_each(|p| p.zero_grad());

    println!("{:>6}  {:>12}  {:>9}  {:>9}", "iter", "loss", "w", "b");
    let rules = StopRules {
        max_iters: Some(20_000),
        grad_norm_below: Some(1e-8),
        ..Default::default()
    };
    let reason = gradient_descent(&model, x, y, -1.0, 100, rules);
    let (w, b) = (model.weights()[0], model.bias());
    println!("stopped: {reason}");
    println!("learned w = {w:.6}, b = {b:.6} (exact: w = 2, b = 0)\n");
    let gradients_agree = tape
        .iter()
        .zip(&by_hand)
        .all(|(t, h)| (t - h).abs() < 1e-12);
    gradients_agree && (w - 2.0).abs() < 1e-6 && b.abs() < 1e-6
}

/// Part 2: the update with the gradient's sign dropped climbs the loss until the
/// loss-growth rule reports divergence. Returns whether it was detected.
fn part_2_sign_dropped(x: &Tensor<f64>, y: &Tensor<f64>) -> bool {
    println!("Part 2: the same descent with the gradient's minus sign dropped (w ← w + α·∂L/∂w)");
    println!("{:>6}  {:>12}  {:>9}  {:>9}", "iter", "loss", "w", "b");
    let rules = StopRules {
        max_iters: Some(20_000),
        loss_growth_above: Some(1e6),
        ..Default::default()
    };
    let reason = gradient_descent(&LinearRegression::new(1), x, y, 1.0, 10, rules);
    println!("stopped: {reason}");
    println!(
        "(the loss grew by more than 10⁶ times its first value: the rule caught the sign error)\n"
    );
    matches!(reason, StopReason::Diverged { .. })
}

/// Part 3: y = 1.5·x₁ − 2·x₂ + 0.5·x₃ + 3 + noise on 200 seeded rows, fitted by gradient
/// descent and compared with the closed form. Returns whether they agree to 1e-6.
fn part_3_several_features() -> bool {
    let (n, d) = (200, 3);
    let x = Tensor::<f64>::randn(&[n, d], 0.0, 1.0, 7);
    let noise = Tensor::<f64>::randn(&[n, 1], 0.0, 0.1, 8);
    let true_w = Tensor::from_vec(vec![1.5, -2.0, 0.5], &[d, 1]);
    let y = x.matmul(&true_w) + 3.0 + noise;

    let model = LinearRegression::new(d);
    let mut sgd = Sgd::new(
        model.params(),
        SgdConfig {
            lr: 0.1,
            ..Default::default()
        },
    )
    .expect("a valid learning rate");
    let rules = StopRules {
        max_iters: Some(10_000),
        grad_norm_below: Some(1e-10),
        ..Default::default()
    };
    let report = model.fit(&x, &y, &mut sgd, rules);
    sgd.zero_grad();
    let exact = fit_with_bias(&x, &y).expect("the features are not collinear");
    let fitted: Vec<f64> = model.weights().into_iter().chain([model.bias()]).collect();

    println!(
        "Part 3: {n} rows, {d} features, gradient descent at lr 0.1: {}",
        report.reason
    );
    println!(
        "{:<10}{:>14}{:>14}{:>12}",
        "", "descent", "closed form", "|diff|"
    );
    let names = ["w1", "w2", "w3", "b"];
    let mut worst = 0.0f64;
    for ((name, got), want) in names.iter().zip(&fitted).zip(&exact) {
        worst = worst.max((got - want).abs());
        println!(
            "{name:<10}{got:>14.8}{want:>14.8}{:>12.1e}",
            (got - want).abs()
        );
    }
    println!("R² = {:.6}\n", model.score(&x, &y));
    worst < 1e-6
}

fn main() -> ExitCode {
    let (xs, ys) = ([1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0]);
    let x = Tensor::from_vec(xs.to_vec(), &[4, 1]);
    let y = Tensor::from_vec(ys.to_vec(), &[4, 1]);
    println!("Part 1: fitting y = w·x + b to y = 2x, x = {xs:?}, gradient descent at lr {LR}\n");

    let checks = [
        (
            "tape gradients match the formula and the fit reaches w = 2, b = 0",
            part_1_descent(&x, &y, &xs, &ys),
        ),
        (
            "dropping the sign diverges and is reported",
            part_2_sign_dropped(&x, &y),
        ),
        (
            "three features match the closed form to 1e-6",
            part_3_several_features(),
        ),
    ];
    let mut ok = true;
    for (what, passed) in checks {
        println!("[{}] {what}", if passed { "ok" } else { "FAILED" });
        ok &= passed;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
