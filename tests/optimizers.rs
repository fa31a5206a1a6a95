//! Optimizers against problems whose answers are known: a least-squares fit (closed form by
//! the normal equations), the Rosenbrock function (minimum at (1, 1)), and quadratics.

use tapegrad::models::least_squares::fit_with_bias;
use tapegrad::optim::*;
use tapegrad::{no_grad, Param, Tensor};

/// A least-squares problem: y = Xw* + b* + noise, L = 1/(2n)·Σ(y − Xw − b)².
struct LeastSquares {
    x: Tensor<f64>,
    y: Tensor<f64>,
    w: Param<f64>,
    b: Param<f64>,
}

impl LeastSquares {
    fn new() -> Self {
        let n = 40;
        // Features on different scales, as raw data often is: the problem is ill-conditioned
        // (Hessian eigenvalues from about 0.04 to 25), which is what slows gradient descent.
        let x = Tensor::<f64>::randn(&[n, 3], 0.0, 1.0, 1)
            * Tensor::from_vec(vec![1.0, 5.0, 0.2], &[3]);
        let w_true = Tensor::from_vec(vec![1.0, -2.0, 0.5], &[3, 1]);
        let noise = Tensor::randn(&[n, 1], 0.0, 0.1, 2);
        let y = x.matmul(&w_true) + 0.3 + noise;
        LeastSquares {
            x,
            y,
            w: Param::new("w", ndarray::ArrayD::zeros(vec![3, 1])),
            b: Param::new("b", ndarray::ArrayD::zeros(vec![1])),
        }
    }

    fn params(&self) -> Vec<Param<f64>> {
        vec![self.w.clone(), self.b.clone()]
    }

    fn loss(&self) -> Tensor<f64> {
        let residual = &self.y - &(self.x.matmul(&self.w.tensor()) + self.b.tensor());
        (&residual * &residual).mean() * 0.5
    }

    /// [w; b] from the normal equations (the closed form).
    fn closed_form(&self) -> Vec<f64> {
        fit_with_bias(&self.x, &self.y).expect("a well-posed problem")
    }

    fn solution(&self) -> Vec<f64> {
        self.w
            .value()
            .iter()
            .chain(self.b.value().iter())
            .copied()
            .collect()
    }

    fn distance_to_closed_form(&self) -> f64 {
        let cf = self.closed_form();
        self.solution()
            .iter()
            .zip(&cf)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    }
}

/// Plain gradient descent on the least-squares problem: iterations until within `tol` of
/// the closed form (or `cap`).
fn gradient_descent_iterations(tol: f64, cap: usize) -> usize {
    let problem = LeastSquares::new();
    // The largest stable step is 2/λ_max ≈ 0.08.
    let mut opt = Sgd::new(
        problem.params(),
        SgdConfig {
            lr: 0.06,
            ..Default::default()
        },
    )
    .unwrap();
    for i in 1..=cap {
        problem.loss().backward();
        opt.step();
        opt.zero_grad();
        if problem.distance_to_closed_form() < tol {
            return i;
        }
    }
    cap
}

#[test]
fn second_order_methods_reach_the_closed_form_in_few_iterations() {
    let gd = gradient_descent_iterations(1e-8, 100_000);
    assert!(
        gd > 100,
        "the problem is not trivial for gradient descent: {gd} iterations"
    );
    // 1e-8 in the parameters needs ‖∇f‖ ≲ λ_min·1e-8 ≈ 4e-10; a relative loss change cannot
    // certify it (the loss floor is the noise), so only the gradient rule is used.
    let lbfgs_tight = LbfgsConfig {
        gtol: 1e-10,
        tolerance_change: 0.0,
        ..Default::default()
    };
    let cg_tight = CgConfig {
        gtol: 1e-10,
        tolerance_change: 0.0,
        ..Default::default()
    };
    let newton_tight = NewtonCgConfig {
        gtol: 1e-10,
        ..Default::default()
    };
    type Run<'a> = Box<dyn Fn(&LeastSquares) -> Report + 'a>;
    let runs: [(&str, Run); 3] = [
        (
            "L-BFGS",
            Box::new(|p| {
                Lbfgs::new(p.params(), lbfgs_tight.clone())
                    .unwrap()
                    .minimize(|| p.loss())
            }),
        ),
        (
            "CG",
            Box::new(|p| {
                ConjugateGradient::new(p.params(), cg_tight.clone())
                    .unwrap()
                    .minimize(|| p.loss())
            }),
        ),
        (
            "Newton-CG",
            Box::new(|p| {
                NewtonCg::new(p.params(), newton_tight.clone())
                    .unwrap()
                    .minimize(|| p.loss())
            }),
        ),
    ];
    for (name, run) in runs {
        let problem = LeastSquares::new();
        let report = run(&problem);
        let distance = problem.distance_to_closed_form();
        assert!(
            distance < 1e-8,
            "{name}: {distance:e} from the closed form; {report:?}"
        );
        assert!(
            report.iterations * 10 < gd,
            "{name}: {} iterations vs GD's {gd}",
            report.iterations
        );
        eprintln!(
            "{name}: {} iterations, {} evaluations (GD: {gd}); {}",
            report.iterations, report.evaluations, report.reason
        );
    }
}

/// The Rosenbrock function (1 − x)² + 100(y − x²)², minimum 0 at (1, 1).
fn rosenbrock(p: &Param<f64>) -> Tensor<f64> {
    let v = p.tensor();
    let (x, y) = (v.narrow(0, 0, 1), v.narrow(0, 1, 1));
    let a = 1.0 - &x;
    let b = &y - &(&x * &x);
    (&a * &a + &b * &b * 100.0).sum()
}

#[test]
fn lbfgs_and_newton_cg_solve_rosenbrock_from_the_classic_start() {
    let start = || Param::new("xy", ndarray::arr1(&[-1.2, 1.0]).into_dyn());
    let p = start();
    let report = Lbfgs::new(
        vec![p.clone()],
        LbfgsConfig {
            max_iters: 200,
            ..Default::default()
        },
    )
    .unwrap()
    .minimize(|| rosenbrock(&p));
    let xy = p.value();
    assert!(
        (xy[0] - 1.0).abs() < 1e-6 && (xy[1] - 1.0).abs() < 1e-6,
        "L-BFGS ended at {xy} ({report:?})"
    );

    let p = start();
    let report = NewtonCg::new(vec![p.clone()], NewtonCgConfig::default())
        .unwrap()
        .minimize(|| rosenbrock(&p));
    let xy = p.value();
    assert!(
        (xy[0] - 1.0).abs() < 1e-6 && (xy[1] - 1.0).abs() < 1e-6,
        "Newton-CG ended at {xy} ({report:?})"
    );
}

/// Iterations of `opt` until ½(w₀² + 100·w₁²) < 1e-8, from w = (1, 1) (or `cap`).
fn iterations_on_ill_conditioned_quadratic(
    make: impl Fn(Vec<Param<f64>>) -> Box<dyn Optimizer<f64>>,
    cap: usize,
) -> usize {
    let w = Param::new("w", ndarray::arr1(&[1.0, 1.0]).into_dyn());
    let scale = Tensor::from_vec(vec![1.0, 100.0], &[2]);
    let loss = || (&w.tensor() * &w.tensor() * &scale).sum() * 0.5;
    let mut opt = make(vec![w.clone()]);
    for i in 1..=cap {
        loss().backward();
        opt.step();
        opt.zero_grad();
        if no_grad(loss).item() < 1e-8 {
            return i;
        }
    }
    cap
}

#[test]
fn momentum_and_adam_beat_plain_sgd_on_an_ill_conditioned_quadratic() {
    // Condition number 100: SGD's step is limited by the steep axis (lr < 2/100) and crawls
    // along the flat one.
    let sgd = iterations_on_ill_conditioned_quadratic(
        |p| {
            Box::new(
                Sgd::new(
                    p,
                    SgdConfig {
                        lr: 0.019,
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        },
        100_000,
    );
    let momentum = iterations_on_ill_conditioned_quadratic(
        |p| {
            Box::new(
                Sgd::new(
                    p,
                    SgdConfig {
                        lr: 0.019,
                        momentum: 0.8,
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        },
        100_000,
    );
    let nesterov = iterations_on_ill_conditioned_quadratic(
        // Nesterov's look-ahead is stable only for lr·λ_max < 2(1 + μ)/(1 + 2μ), so a smaller lr.
        |p| {
            Box::new(
                Sgd::new(
                    p,
                    SgdConfig {
                        lr: 0.01,
                        momentum: 0.9,
                        nesterov: true,
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        },
        100_000,
    );
    let adam = iterations_on_ill_conditioned_quadratic(
        |p| {
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
        },
        100_000,
    );
    assert!(momentum * 3 < sgd, "momentum {momentum} vs SGD {sgd}");
    assert!(nesterov * 2 < sgd, "Nesterov {nesterov} vs SGD {sgd}");
    eprintln!(
        "iterations to 1e-8: SGD {sgd}, momentum {momentum}, Nesterov {nesterov}, Adam {adam}"
    );
    assert!(adam < sgd, "Adam {adam} vs SGD {sgd}");
}

#[test]
fn every_first_order_optimizer_converges_on_a_convex_quadratic() {
    type Make = fn(Vec<Param<f64>>) -> Box<dyn Optimizer<f64>>;
    let optimizers: [(&str, Make); 8] = [
        ("SGD", |p| {
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
        ("momentum", |p| {
            Box::new(
                Sgd::new(
                    p,
                    SgdConfig {
                        lr: 0.1,
                        momentum: 0.5,
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        }),
        ("Adam", |p| {
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
        ("AdamW", |p| {
            Box::new(
                AdamW::new(
                    p,
                    AdamWConfig {
                        lr: 0.05,
                        weight_decay: 0.0,
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        }),
        ("NAdam", |p| {
            Box::new(
                NAdam::new(
                    p,
                    NAdamConfig {
                        lr: 0.05,
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        }),
        ("RAdam", |p| {
            Box::new(
                RAdam::new(
                    p,
                    RAdamConfig {
                        lr: 0.05,
                        ..Default::default()
                    },
                )
                .unwrap(),
            )
        }),
        ("RMSProp", |p| {
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
        ("Adagrad", |p| {
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
    for (name, make) in optimizers {
        // L = Σ (w − c)², minimum at c.
        let w = Param::new("w", ndarray::arr1(&[0.0, 0.0, 0.0]).into_dyn());
        let c = Tensor::from_vec(vec![1.0, -2.0, 0.5], &[3]);
        let mut opt = make(vec![w.clone()]);
        for _ in 0..3000 {
            let d = &w.tensor() - &c;
            (&d * &d).sum().backward();
            opt.step();
            opt.zero_grad();
        }
        let distance = w
            .value()
            .iter()
            .zip(c.to_vec())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(distance < 1e-3, "{name}: {distance} from the minimum");
    }
}

#[test]
fn saved_state_resumes_bit_identically() {
    let run = |w: &Param<f64>, opt: &mut Adam<f64>, steps: usize| {
        for _ in 0..steps {
            (w.tensor().powf(2.0) * w.tensor().sin()).sum().backward();
            opt.step();
            opt.zero_grad();
        }
    };
    let config = AdamConfig {
        lr: 0.1,
        amsgrad: true,
        ..Default::default()
    };
    let w = Param::new("w", ndarray::arr1(&[1.0, -0.5, 2.0]).into_dyn());
    let mut opt = Adam::new(vec![w.clone()], config.clone()).unwrap();
    run(&w, &mut opt, 5);
    let saved_state = opt.state();
    let copy = Param::new("w", (*w.value()).clone());
    run(&w, &mut opt, 5);

    let mut resumed = Adam::new(vec![copy.clone()], config.clone()).unwrap();
    resumed.load_state(saved_state.clone()).unwrap();
    run(&copy, &mut resumed, 5);
    assert_eq!(*w.value(), *copy.value(), "bit-identical after resuming");

    let other = Param::new("v", ndarray::ArrayD::zeros(vec![2]));
    let mut wrong = Adam::new(vec![other], config).unwrap();
    let err = wrong.load_state(saved_state.clone()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Adam: load_state: buffer \"exp_avg\" of parameter 0 has shape [3], the parameter [2]"
    );
    // Plain Adam keeps no running maximum, so AMSGrad's state does not fit it.
    let mut plain = Adam::new(vec![copy], AdamConfig::default()).unwrap();
    let err = plain.load_state(saved_state).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Adam: load_state: buffers [\"exp_avg\", \"exp_avg_sq\", \"max_exp_avg_sq\"], expected [\"exp_avg\", \"exp_avg_sq\"]"
    );
    assert_eq!(plain.state().buffers.len(), 2);
}
