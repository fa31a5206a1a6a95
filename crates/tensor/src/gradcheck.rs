//! Checking gradients against finite differences.
//!
//! For each input element xᵢ, the central difference
//!
//! ```text
//! ∂L/∂xᵢ ≈ (L(x + h·eᵢ) − L(x − h·eᵢ)) / 2h        (error O(h²))
//! ```
//!
//! is compared with the gradient the tape computes. A function with a non-scalar output is
//! reduced to the scalar L = Σ r ⊙ f(x) with fixed random weights r, which tests every
//! output's gradient at once. Run it in `f64`: in `f32` the rounding error of L(x ± h) swamps
//! the difference.
//!
//! ```
//! use tapegrad_tensor::gradcheck::gradcheck;
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f64>::randn(&[3, 4], 0.0, 1.0, 0).to_array();
//! gradcheck("tanh", |t| t[0].tanh(), &[x]).unwrap();
//! ```
//!
//! Beyond first-order reverse mode: [`gradgradcheck`] checks second derivatives (PyTorch's
//! `torch.autograd.gradgradcheck`), and [`check_grads`] checks forward mode too — JVPs
//! against finite differences and against VJPs, to first or second order (JAX's
//! `jax.test_util.check_grads(f, args, order, modes)`).

use std::fmt;

use ndarray::{ArrayD, Dimension};

use crate::tape::no_grad;
use crate::Tensor;

mod check_grads;
mod gradgrad;

pub use check_grads::{check_grads, jvpcheck, Mode};
pub use gradgrad::gradgradcheck;

/// Step size and tolerances: an element passes when |analytic − numerical| ≤ atol + rtol·|numerical|.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckConfig {
    /// Finite-difference step h (default 1e-6).
    pub eps: f64,
    /// Absolute tolerance (default 1e-6).
    pub atol: f64,
    /// Relative tolerance (default 1e-5).
    pub rtol: f64,
    /// Seed of the weights r that reduce a non-scalar output (default 0).
    pub seed: u64,
}

impl Default for GradcheckConfig {
    fn default() -> Self {
        GradcheckConfig {
            eps: 1e-6,
            atol: 1e-6,
            rtol: 1e-5,
            seed: 0,
        }
    }
}

/// One compared element: where it is and both gradient values.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Which input of the function.
    pub input: usize,
    /// The element's index in that input.
    pub index: Vec<usize>,
    /// The gradient the tape computed.
    pub analytic: f64,
    /// The central-difference estimate.
    pub numerical: f64,
    /// |analytic − numerical| / (atol + rtol·|numerical|): above 1 fails.
    pub ratio: f64,
}

/// The outcome of a passing check.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckReport {
    /// How many elements were compared.
    pub checked: usize,
    /// The element closest to failing (`None` when the inputs are empty).
    pub worst: Option<Comparison>,
}

/// A failing check: the op's name and its worst element.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckError {
    /// The name passed to `gradcheck`.
    pub op: String,
    /// The element furthest out of tolerance.
    pub worst: Comparison,
    /// The step and tolerances used.
    pub config: GradcheckConfig,
    /// What was compared.
    pub check: Check,
}

/// What a failing comparison compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Check {
    /// A reverse-mode gradient element against its central difference (`input`, `index`
    /// name the input element).
    Gradient,
    /// A forward-mode tangent element J·v against (f(x + h·v) − f(x − h·v)) / 2h along a
    /// random direction v (`index` names the output element; `input` is 0).
    Jvp,
    /// ⟨u, J·v⟩ by forward mode (`analytic`) against ⟨Jᵀu, v⟩ by reverse mode (`numerical`),
    /// for random u and v: the two modes disagree.
    JvpVjp,
}

impl fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = &self.worst;
        match self.check {
            Check::Gradient => {}
            Check::Jvp => {
                return write!(
                    f,
                    "jvpcheck {}: output at {:?}: forward mode J·v {:.10e}, numerical {:.10e} (|diff| {:.3e} > atol {:.0e} + rtol {:.0e}·|numerical|)",
                    self.op,
                    w.index,
                    w.analytic,
                    w.numerical,
                    (w.analytic - w.numerical).abs(),
                    self.config.atol,
                    self.config.rtol
                )
            }
            Check::JvpVjp => {
                return write!(
                    f,
                    "jvpcheck {}: forward and reverse mode disagree: ⟨u, J·v⟩ = {:.10e} by jvp but ⟨Jᵀu, v⟩ = {:.10e} by vjp",
                    self.op, w.analytic, w.numerical
                )
            }
        }
        write!(
            f,
            "gradcheck {}: input {} at {:?}: analytic {:.10e}, numerical {:.10e} (|diff| {:.3e} > atol {:.0e} + rtol {:.0e}·|numerical|)",
            self.op,
            w.input,
            w.index,
            w.analytic,
            w.numerical,
            (w.analytic - w.numerical).abs(),
            self.config.atol,
            self.config.rtol
        )
    }
}

impl std::error::Error for GradcheckError {}

/// [`gradcheck_with`] with the default configuration.
pub fn gradcheck(
    op: &str,
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    inputs: &[ArrayD<f64>],
) -> Result<GradcheckReport, GradcheckError> {
    gradcheck_with(op, f, inputs, &GradcheckConfig::default())
}

/// Compares the tape's gradient of `f` at `inputs` with central finite differences.
///
/// `op` names the function in the report. Every input is made a leaf that requires a gradient.
///
/// # Errors
/// A [`GradcheckError`] naming the worst element when any element is out of tolerance (a NaN
/// on either side counts as out of tolerance).
pub fn gradcheck_with(
    op: &str,
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    inputs: &[ArrayD<f64>],
    config: &GradcheckConfig,
) -> Result<GradcheckReport, GradcheckError> {
    let constants = |arrays: &[ArrayD<f64>]| -> Vec<Tensor<f64>> {
        arrays.iter().cloned().map(Tensor::from_array).collect()
    };
    let output_shape = no_grad(|| f(&constants(inputs))).shape().to_vec();
    let weights = Tensor::<f64>::rand_uniform(&output_shape, -1.0, 1.0, config.seed);
    let scalar = |out: Tensor<f64>| (out * &weights).sum();

    let leaves: Vec<Tensor<f64>> = constants(inputs)
        .into_iter()
        .map(Tensor::requires_grad)
        .collect();
    let loss = scalar(f(&leaves));
    // An output that depends on no input is not recorded: every gradient is then zero.
    let _ = loss.try_backward();

    let mut report = GradcheckReport {
        checked: 0,
        worst: None,
    };
    let mut perturbed: Vec<ArrayD<f64>> = inputs.to_vec();
    for (k, leaf) in leaves.iter().enumerate() {
        let analytic = leaf
            .grad()
            .map_or_else(|| ArrayD::zeros(inputs[k].shape()), |g| g.to_array());
        for (index, &a) in analytic.indexed_iter() {
            let x = inputs[k][&index];
            let mut eval = |v: f64| {
                perturbed[k][&index] = v;
                no_grad(|| scalar(f(&constants(&perturbed)))).item()
            };
            let numerical = (eval(x + config.eps) - eval(x - config.eps)) / (2.0 * config.eps);
            perturbed[k][&index] = x;
            let ratio = (a - numerical).abs() / (config.atol + config.rtol * numerical.abs());
            let ratio = if ratio.is_nan() { f64::INFINITY } else { ratio };
            report.checked += 1;
            if report.worst.as_ref().is_none_or(|w| ratio > w.ratio) {
                report.worst = Some(Comparison {
                    input: k,
                    index: index.slice().to_vec(),
                    analytic: a,
                    numerical,
                    ratio,
                });
            }
        }
    }
    match report.worst {
        Some(worst) if worst.ratio > 1.0 => Err(GradcheckError {
            op: op.to_string(),
            worst,
            config: config.clone(),
            check: Check::Gradient,
        }),
        _ => Ok(report),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_gradient_is_reported_with_its_worst_element() {
        // Σ x·detach(x) has true derivative 2x, but the tape sees only x: the check must fail,
        // worst where |x| is largest. (The scalar output is scaled by one random weight r.)
        let x = ndarray::arr1(&[1.0, -3.0, 2.0]).into_dyn();
        let err = gradcheck("half_square", |t| (&t[0] * &t[0].detach()).sum(), &[x]).unwrap_err();
        assert_eq!(err.worst.index, vec![1]);
        assert!((err.worst.numerical / err.worst.analytic - 2.0).abs() < 1e-6);
        assert!(err
            .to_string()
            .starts_with("gradcheck half_square: input 0 at [1]"));
    }
}
