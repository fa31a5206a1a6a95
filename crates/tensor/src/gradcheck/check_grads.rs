//! Forward mode against finite differences and against reverse mode ([`jvpcheck`]), and both
//! modes to any order ([`check_grads`], after JAX's `jax.test_util.check_grads`).

use std::rc::Rc;

use ndarray::ArrayD;

use super::gradgrad::flat_vjp;
use super::{gradcheck_with, Check, Comparison, GradcheckConfig, GradcheckError, GradcheckReport};
use crate::tape::no_grad;
use crate::{func, Tensor};

/// A checked function, shared by the levels built on it.
type Checked = Rc<dyn Fn(&[Tensor<f64>]) -> Tensor<f64>>;

/// Which mode of differentiation [`check_grads`] checks (JAX's `modes=["fwd", "rev"]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Forward mode: [`jvpcheck`].
    Fwd,
    /// Reverse mode: [`gradcheck_with`](super::gradcheck_with).
    Rev,
}

/// Σ a ⊙ b.
fn dot(a: &Tensor<f64>, b: &Tensor<f64>) -> f64 {
    a.value()
        .iter()
        .zip(b.value().iter())
        .map(|(x, y)| x * y)
        .sum()
}

/// Checks forward mode at `inputs`: for a random direction v (one per input, uniform on
/// [−1, 1), seeded with `config.seed`), the tangent J·v that the JVP rules push through `f`
/// ([`func::jvp`]) must match the central difference
///
/// ```text
/// J·v ≈ (f(x + h·v) − f(x − h·v)) / 2h        (every output element)
/// ```
///
/// and, for a random cotangent u, the two modes must agree: ⟨u, J·v⟩ by forward mode equals
/// ⟨Jᵀu, v⟩ by reverse mode ([`func::vjp`]), within the same tolerances.
///
/// ```
/// use tapegrad_tensor::gradcheck::{jvpcheck, GradcheckConfig};
/// let x = tapegrad_tensor::Tensor::<f64>::randn(&[3, 2], 0.0, 1.0, 0).to_array();
/// jvpcheck("sin", |t| t[0].sin(), &[x], &GradcheckConfig::default()).unwrap();
/// ```
///
/// # Errors
/// A [`GradcheckError`] with [`Check::Jvp`] naming the worst output element, or with
/// [`Check::JvpVjp`] when the two modes disagree.
///
/// # Panics
/// When the transforms themselves fail (`f` called inside another forward-mode level).
pub fn jvpcheck(
    op: &str,
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    inputs: &[ArrayD<f64>],
    config: &GradcheckConfig,
) -> Result<GradcheckReport, GradcheckError> {
    let xs: Vec<Tensor<f64>> = inputs.iter().cloned().map(Tensor::from_array).collect();
    let v: Vec<Tensor<f64>> = xs
        .iter()
        .enumerate()
        .map(|(k, x)| Tensor::rand_uniform(x.shape(), -1.0, 1.0, config.seed + 1 + k as u64))
        .collect();
    let (y, jv) = func::jvp(&f, &xs, &v).unwrap_or_else(|e| panic!("jvpcheck {op}: {e}"));
    let shifted = |s: f64| {
        let moved: Vec<Tensor<f64>> = xs.iter().zip(&v).map(|(x, v)| x + &(v * s)).collect();
        no_grad(|| f(&moved)).to_array()
    };
    let (plus, minus) = (shifted(config.eps), shifted(-config.eps));
    let fail = |worst: Comparison, check| GradcheckError {
        op: op.to_string(),
        worst,
        config: config.clone(),
        check,
    };
    let mut report = GradcheckReport {
        checked: 0,
        worst: None,
    };
    let tangent = jv.to_array();
    for (index, &a) in tangent.indexed_iter() {
        let numerical = (plus[&index] - minus[&index]) / (2.0 * config.eps);
        let ratio = (a - numerical).abs() / (config.atol + config.rtol * numerical.abs());
        let ratio = if ratio.is_nan() { f64::INFINITY } else { ratio };
        report.checked += 1;
        if report.worst.as_ref().is_none_or(|w| ratio > w.ratio) {
            report.worst = Some(Comparison {
                input: 0,
                index: ndarray::Dimension::slice(&index).to_vec(),
                analytic: a,
                numerical,
                ratio,
            });
        }
    }
    if let Some(worst) = report.worst.clone().filter(|w| w.ratio > 1.0) {
        return Err(fail(worst, Check::Jvp));
    }
    let u = Tensor::<f64>::rand_uniform(y.shape(), -1.0, 1.0, config.seed + 100);
    let (_, vjp) = func::vjp(&f, &xs, &u).unwrap_or_else(|e| panic!("jvpcheck {op}: {e}"));
    let forward = dot(&u, &jv);
    let reverse: f64 = vjp.iter().zip(&v).map(|(g, v)| dot(g, v)).sum();
    let ratio = (forward - reverse).abs() / (config.atol + config.rtol * reverse.abs());
    let ratio = if ratio.is_nan() { f64::INFINITY } else { ratio };
    report.checked += 1;
    let pair = Comparison {
        input: 0,
        index: vec![],
        analytic: forward,
        numerical: reverse,
        ratio,
    };
    if ratio > 1.0 {
        return Err(fail(pair, Check::JvpVjp));
    }
    Ok(report)
}

/// Checks the derivatives of `f` at `inputs` in each of `modes`, to `order` (JAX's
/// `check_grads(f, args, order, modes)`), with the default [`GradcheckConfig`].
///
/// Order 1 runs [`jvpcheck`] (`Mode::Fwd`) and [`gradcheck_with`](super::gradcheck_with)
/// (`Mode::Rev`) on `f`. Order k + 1 runs the same checks on the gradient function of order
/// k, x ↦ ∇ₓ⟨u, g(x)⟩ for a fixed random u: forward over reverse for `Fwd` (the way
/// [`func::hvp`] works), reverse over reverse for `Rev` (the way
/// [`gradgradcheck`](super::gradgradcheck) does). Failures name the op with one `'` per
/// order above the first.
///
/// ```
/// use tapegrad_tensor::gradcheck::{check_grads, Mode};
/// let x = tapegrad_tensor::Tensor::<f64>::randn(&[4], 0.0, 1.0, 0).to_array();
/// check_grads("exp_sin", |t| t[0].exp().sin(), &[x], 2, &[Mode::Fwd, Mode::Rev]).unwrap();
/// ```
///
/// # Errors
/// The first failing check's [`GradcheckError`].
pub fn check_grads(
    op: &str,
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64> + 'static,
    inputs: &[ArrayD<f64>],
    order: usize,
    modes: &[Mode],
) -> Result<(), GradcheckError> {
    let config = GradcheckConfig::default();
    let mut level: Checked = Rc::new(f);
    for k in 1..=order {
        let name = format!("{op}{}", "'".repeat(k - 1));
        for mode in modes {
            match mode {
                Mode::Fwd => jvpcheck(&name, &*level, inputs, &config).map(drop)?,
                Mode::Rev => gradcheck_with(&name, &*level, inputs, &config).map(drop)?,
            }
        }
        if k < order {
            let previous = Rc::clone(&level);
            let constants: Vec<Tensor<f64>> =
                inputs.iter().cloned().map(Tensor::from_array).collect();
            let shape = no_grad(|| previous(&constants)).shape().to_vec();
            let u = Tensor::<f64>::rand_uniform(&shape, -1.0, 1.0, config.seed + 10 + k as u64);
            level = Rc::new(move |xs: &[Tensor<f64>]| flat_vjp(&name, &*previous, xs, &u));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forward::is_forward_ad_enabled;
    use crate::ops::test_util::{away_from_zero, uniform};

    /// sin x with a hand-made derivative: the value is sin x, and the tape sees the slope
    /// `slope(x)` (straight-through: detach(sin x) + (x − detach(x)) ⊙ slope), so a wrong
    /// slope is a wrong rule, in forward or reverse mode or both.
    fn custom_sin(x: &Tensor<f64>, slope: Tensor<f64>) -> Tensor<f64> {
        let d = x.detach();
        &d.sin() + &(x - &d).mul(&slope)
    }

    #[test]
    fn passes_on_right_rules_in_both_modes_and_orders() {
        let f = |t: &[Tensor<f64>]| (&t[0].exp().sin() * &t[1]).sum_axes(&[0], false).tanh();
        let inputs = [uniform(&[3, 2], 1), uniform(&[3, 2], 2)];
        check_grads("sin_exp", f, &inputs, 2, &[Mode::Fwd, Mode::Rev]).unwrap();
        let report = jvpcheck("sin_exp", f, &inputs, &GradcheckConfig::default()).unwrap();
        assert_eq!(report.checked, 2 + 1);
        // a custom rule that is right passes too
        let right = |t: &[Tensor<f64>]| custom_sin(&t[0], t[0].detach().cos());
        check_grads(
            "custom_sin",
            right,
            &[away_from_zero(&[4], 3)],
            1,
            &[Mode::Fwd, Mode::Rev],
        )
        .unwrap();
    }

    #[test]
    fn catches_a_wrong_jvp_against_finite_differences() {
        // slope sin x instead of cos x, in both modes.
        let wrong = |t: &[Tensor<f64>]| custom_sin(&t[0], t[0].detach().sin());
        let x = [away_from_zero(&[4], 4)];
        let err = jvpcheck("bad_sin", wrong, &x, &GradcheckConfig::default()).unwrap_err();
        assert_eq!(err.check, Check::Jvp);
        assert!(
            err.to_string().starts_with("jvpcheck bad_sin: output at ["),
            "{err}"
        );
        let err = check_grads("bad_sin", wrong, &x, 1, &[Mode::Fwd]).unwrap_err();
        assert_eq!(err.check, Check::Jvp);
    }

    #[test]
    fn catches_a_forward_rule_that_reverse_mode_checks_cannot_see() {
        // Right in reverse mode, wrong in forward mode: gradcheck passes, the forward check fails.
        let fwd_wrong = |t: &[Tensor<f64>]| {
            let x = &t[0];
            let slope = if is_forward_ad_enabled() {
                x.detach().cos().mul_scalar(2.0)
            } else {
                x.detach().cos()
            };
            custom_sin(x, slope)
        };
        let x = [away_from_zero(&[3], 5)];
        check_grads("fwd_wrong", fwd_wrong, &x, 1, &[Mode::Rev]).unwrap();
        let err = check_grads("fwd_wrong", fwd_wrong, &x, 1, &[Mode::Fwd]).unwrap_err();
        assert_eq!(err.check, Check::Jvp);
        assert!((err.worst.analytic / err.worst.numerical - 2.0).abs() < 1e-6);
    }

    #[test]
    fn catches_forward_and_reverse_modes_that_disagree() {
        // Right in forward mode, wrong in reverse mode: J·v matches finite differences, but
        // ⟨u, J·v⟩ ≠ ⟨Jᵀu, v⟩.
        let rev_wrong = |t: &[Tensor<f64>]| {
            let x = &t[0];
            let slope = if is_forward_ad_enabled() {
                x.detach().cos()
            } else {
                x.detach().cos().mul_scalar(-1.0)
            };
            custom_sin(x, slope)
        };
        let x = [away_from_zero(&[3], 6)];
        let err = jvpcheck("rev_wrong", rev_wrong, &x, &GradcheckConfig::default()).unwrap_err();
        assert_eq!(err.check, Check::JvpVjp);
        assert!(
            (err.worst.analytic + err.worst.numerical).abs() < 1e-12,
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("forward and reverse mode disagree"),
            "{err}"
        );
    }

    #[test]
    fn second_order_catches_a_detached_second_derivative_in_both_modes() {
        // d³ + 3d²(x − d), d = detach(x): first derivatives right, second ones 0 instead of 6x.
        let cube = |t: &[Tensor<f64>]| {
            let d = t[0].detach();
            &d.powf(3.0) + &(&(&d * &d) * 3.0).mul(&(&t[0] - &d))
        };
        let x = [away_from_zero(&[3], 7)];
        check_grads("cube", cube, &x, 1, &[Mode::Fwd, Mode::Rev]).unwrap();
        for mode in [Mode::Fwd, Mode::Rev] {
            let err = check_grads("cube", cube, &x, 2, &[mode]).unwrap_err();
            assert_eq!(err.op, "cube'", "{mode:?}");
            assert_eq!(err.worst.analytic, 0.0, "{mode:?}");
        }
    }
}
