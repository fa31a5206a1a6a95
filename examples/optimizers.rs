//! # Which optimizer? Every one of them on the same least-squares fit
//!
//! A linear model ŷ = Xw + b is fitted to 200 noisy points whose three features have very
//! different scales (as raw data often does), by minimising L = 1/(2n)·Σ(y − ŷ)². The exact
//! answer is known — the normal equations give it in closed form — so for each optimizer the
//! table shows how many iterations it needed to come within 1e-6 of it (max-norm), its
//! final loss, and its final distance. The second-order methods use curvature and need a
//! handful of iterations; plain gradient descent, whose step is limited by the steepest
//! direction, crawls along the flattest one and needs thousands; momentum and the adaptive
//! methods sit in between. The ranking is this problem's: rerun it on yours.
//!
//! Run: `cargo run --release --example optimizers`

use std::process::ExitCode;

use tapegrad::models::least_squares::fit_with_bias;
use tapegrad::optim::*;
use tapegrad::{Param, Tensor};

const TOL: f64 = 1e-6;
const BUDGET: usize = 20_000;
/// Where the second-order methods stop: ‖∇L‖ below this.
const GTOL: f64 = 1e-10;

struct Problem {
    x: Tensor<f64>,
    y: Tensor<f64>,
    w: Param<f64>,
    b: Param<f64>,
    exact: Vec<f64>,
}

impl Problem {
    fn new() -> Self {
        let n = 200;
        let x = Tensor::<f64>::randn(&[n, 3], 0.0, 1.0, 7)
            * Tensor::from_vec(vec![1.0, 4.0, 0.25], &[3]);
        let y = x.matmul(&Tensor::from_vec(vec![1.5, -0.5, 2.0], &[3, 1]))
            + 0.7
            + Tensor::randn(&[n, 1], 0.0, 0.2, 8);
        let exact = fit_with_bias(&x, &y).expect("a well-posed problem");
        Problem {
            x,
            y,
            w: Param::new("w", ndarray::ArrayD::zeros(vec![3, 1])),
            b: Param::new("b", ndarray::ArrayD::zeros(vec![1])),
            exact,
        }
    }

    fn params(&self) -> Vec<Param<f64>> {
        vec![self.w.clone(), self.b.clone()]
    }

    fn loss(&self) -> Tensor<f64> {
        let residual = &self.y - &(self.x.matmul(&self.w.tensor()) + self.b.tensor());
        (&residual * &residual).mean() * 0.5
    }

    fn distance(&self) -> f64 {
        let got = self
            .w
            .value()
            .iter()
            .chain(self.b.value().iter())
            .copied()
            .collect::<Vec<_>>();
        got.iter()
            .zip(&self.exact)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    }
}

/// A first-order optimizer's run: steps until within TOL of the exact answer, or BUDGET.
fn first_order(problem: &Problem, mut opt: Box<dyn Optimizer<f64>>) -> (Option<usize>, f64) {
    // This loop is the lesson; everyday training leaves it to `models::trainer::Trainer`.
    for step in 1..=BUDGET {
        let loss = problem.loss();
        loss.backward();
        opt.step();
        opt.zero_grad();
        if problem.distance() < TOL {
            return (Some(step), problem.loss().item());
        }
    }
    (None, problem.loss().item())
}

fn main() -> ExitCode {
    type Make = fn(Vec<Param<f64>>) -> Box<dyn Optimizer<f64>>;
    // Steps chosen by hand for this problem; the largest stable plain-SGD step is 2/λ_max ≈ 0.12.
    let first: [(&str, Make); 8] = [
        ("SGD lr 0.1", |p| {
            Box::new(
                Sgd::new(
                    p,
                    SgdConfig {
                        lr: 0.1,
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        }),
        ("momentum 0.9", |p| {
            Box::new(
                Sgd::new(
                    p,
                    SgdConfig {
                        lr: 0.1,
                        momentum: 0.9,
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        }),
        ("Nesterov 0.9", |p| {
            Box::new(
                Sgd::new(
                    p,
                    SgdConfig {
                        lr: 0.05,
                        momentum: 0.9,
                        nesterov: true,
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        }),
        ("Adam lr 0.05", |p| {
            Box::new(
                Adam::new(
                    p,
                    AdamConfig {
                        lr: 0.05,
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        }),
        ("AMSGrad lr 0.05", |p| {
            Box::new(
                Adam::new(
                    p,
                    AdamConfig {
                        lr: 0.05,
                        amsgrad: true,
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        }),
        ("AdamW lr 0.05, λ 0", |p| {
            let config = AdamWConfig {
                lr: 0.05,
                weight_decay: 0.0,
                ..Default::default()
            };
            Box::new(AdamW::new(p, config).unwrap())
        }),
        ("RMSProp lr 0.01", |p| {
            Box::new(
                RmsProp::new(
                    p,
                    RmsPropConfig {
                        lr: 0.01,
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        }),
        ("Adagrad lr 0.5", |p| {
            Box::new(
                Adagrad::new(
                    p,
                    AdagradConfig {
                        lr: 0.5,
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        }),
    ];

    println!("Least squares, 200 points, 3 features on scales 1, 4 and 0.25, plus a bias.");
    println!("Iterations to come within {TOL:e} of the closed-form solution (budget {BUDGET}):\n");
    println!(
        "{:<20} {:>10} {:>14} {:>12}",
        "optimizer", "iterations", "final loss", "distance"
    );
    let mut all_converged = true;
    let mut gradient_descent = usize::MAX;
    for (name, make) in first {
        let problem = Problem::new();
        let (iterations, loss) = first_order(&problem, make(problem.params()));
        let shown = iterations.map_or(format!("> {BUDGET}"), |i| i.to_string());
        println!(
            "{name:<20} {shown:>10} {loss:>14.10} {:>12.2e}",
            problem.distance()
        );
        if name.starts_with("SGD") {
            gradient_descent = iterations.unwrap_or(usize::MAX);
        }
    }

    type Minimize = fn(&Problem) -> Report;
    let second: [(&str, Minimize); 3] = [
        ("L-BFGS", |p| {
            let config = LbfgsConfig {
                gtol: GTOL,
                tolerance_change: 0.0,
                ..Default::default()
            };
            Lbfgs::new(p.params(), config)
                .unwrap()
                .minimize(|| p.loss())
        }),
        ("CG (Polak-Ribière+)", |p| {
            let config = CgConfig {
                gtol: GTOL,
                tolerance_change: 0.0,
                ..Default::default()
            };
            ConjugateGradient::new(p.params(), config)
                .unwrap()
                .minimize(|| p.loss())
        }),
        ("Newton-CG", |p| {
            NewtonCg::new(
                p.params(),
                NewtonCgConfig {
                    gtol: GTOL,
                    ..Default::default()
                },
            )
            .unwrap()
            .minimize(|| p.loss())
        }),
    ];
    for (name, minimize) in second {
        let problem = Problem::new();
        let report = minimize(&problem);
        let distance = problem.distance();
        println!(
            "{name:<20} {:>10} {:>14.10} {distance:>12.2e}   ({} loss evaluations)",
            report.iterations, report.loss, report.evaluations
        );
        all_converged &= distance < TOL && report.iterations * 10 < gradient_descent;
    }
    println!("\n(second-order methods stop at ‖∇L‖ < {GTOL:e}; their iterations count Newton or quasi-Newton steps)");
    if all_converged {
        println!("check: every second-order method reached the closed form in under a tenth of gradient descent's iterations");
        ExitCode::SUCCESS
    } else {
        eprintln!("check FAILED");
        ExitCode::FAILURE
    }
}
