//! L-BFGS (Liu & Nocedal, 1989) with a strong-Wolfe line search — the method of
//! `torch.optim.LBFGS`, driven by a closure that records the loss.
//!
//! BFGS builds an approximation of the inverse Hessian from how the gradient changed along
//! the steps taken; L-BFGS keeps only the last m pairs
//!
//! ```text
//! sₖ = xₖ₊₁ − xₖ,   yₖ = ∇fₖ₊₁ − ∇fₖ
//! ```
//!
//! and applies the approximation H to −∇f with the two-loop recursion (Nocedal & Wright,
//! algorithm 7.4), starting from H₀ = (sᵀy / yᵀy)·I. Each step then searches along
//! d = −H∇f for a step satisfying the strong Wolfe conditions.
//!
//! Two ways to run it:
//!
//! - [`Lbfgs::minimize`] runs to convergence and reports why it stopped (tapegrad's own
//!   driver: a total iteration budget, ‖∇f‖₂ and a relative loss change as stopping rules,
//!   always a strong-Wolfe search);
//! - [`Lbfgs::step`] is `torch.optim.LBFGS.step(closure)`: up to `max_iter` iterations per
//!   call, the history kept between calls, PyTorch's stopping tests, and either a fixed step
//!   `lr` or PyTorch's strong-Wolfe search (`line_search_fn`). Its iterates agree with
//!   PyTorch's.
//!
//! Settings side by side ([`LbfgsConfig`]; the `step` column is [`LbfgsStepConfig`]):
//!
//! | setting | `minimize` | `step` | PyTorch's `LBFGS` |
//! |---|---|---|---|
//! | history m | `history_size` 10 | the same field, 10 | `history_size` 100 |
//! | iterations | `max_iters` 100 in all | `max_iter` 20 per call | `max_iter` 20 per call |
//! | evaluations | ≤ 25 per line search | `max_eval` ⌊max_iter·5/4⌋ per call | the same |
//! | gradient test | `gtol`: ‖∇f‖₂ < 1e-7 | `tolerance_grad`: max\|∇f\| ≤ 1e-7 | the same |
//! | change test | `tolerance_change`: \|Δf\|/\|f\| < 1e-12 (relative) | `tolerance_change`: \|Δf\| < 1e-9 or max\|t·d\| ≤ 1e-9 (absolute) | the same |
//! | step length | strong Wolfe (N&W 3.5–3.6), c₂ 0.9 | `lr` 1, or `line_search_fn` strong Wolfe | `lr` 1, `line_search_fn` None |
//!
//! Why `minimize` differs: it is meant to *finish* a problem and say why, so it takes one
//! total budget and scale-free tests (a relative change and the Euclidean gradient norm do not
//! depend on how the loss is scaled), and it never takes an unchecked fixed step. Why m = 10
//! for both: Nocedal & Wright recommend 3–20 pairs, each pair costs 2n numbers and two dot
//! products per iteration, and on the small full-batch problems tapegrad targets 100 pairs buy
//! nothing; set `history_size: 100` for PyTorch's behaviour.

use tapegrad_tensor::{Float, Param, Tensor};

use crate::error::check;
use crate::flat::{axpy, dot, loss_and_grad, norm, set_values, values};
use crate::line_search::strong_wolfe;
use crate::report::{converged_at_start, line_search_stopper};
use crate::stop::StopReason;
use crate::{LrGroups, OptimError, Report};

mod stepwise;

use stepwise::StepState;
pub use stepwise::{LbfgsStepConfig, LineSearchFn};

impl<F: Float> LrGroups for Lbfgs<F> {
    /// One group: L-BFGS takes no parameter groups (as in PyTorch).
    fn num_groups(&self) -> usize {
        1
    }

    fn group_lr(&self, group: usize) -> f64 {
        assert_eq!(group, 0, "L-BFGS has one parameter group");
        self.config.step.lr
    }

    fn set_group_lr(&mut self, group: usize, lr: f64) {
        assert_eq!(group, 0, "L-BFGS has one parameter group");
        self.config.step.lr = lr;
    }

    fn initial_lr(&self, group: usize) -> f64 {
        assert_eq!(group, 0, "L-BFGS has one parameter group");
        self.initial_lr
    }
}

/// Settings of [`Lbfgs`]; `Default`: history 10; for `minimize`, at most 100 iterations,
/// stop when ‖∇f‖ < 1e-7 or the loss changes by less than 1e-12 relatively; for `step`,
/// PyTorch's defaults (see the module docs' table).
#[derive(Clone, Debug, PartialEq)]
pub struct LbfgsConfig {
    /// How many (s, y) pairs are kept (m), in both modes.
    pub history_size: usize,
    /// `minimize`: the iteration budget.
    pub max_iters: usize,
    /// `minimize`: stop when ‖∇f‖₂ falls below this.
    pub gtol: f64,
    /// `minimize`: stop when the relative loss change falls below this.
    pub tolerance_change: f64,
    /// The settings of the step-wise mode, [`Lbfgs::step`].
    pub step: LbfgsStepConfig,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        LbfgsConfig {
            history_size: 10,
            max_iters: 100,
            gtol: 1e-7,
            tolerance_change: 1e-12,
            step: LbfgsStepConfig::default(),
        }
    }
}

/// The L-BFGS optimizer; see the module docs.
#[derive(Debug)]
pub struct Lbfgs<F: Float> {
    params: Vec<Param<F>>,
    config: LbfgsConfig,
    /// The step-wise mode's memory between calls.
    state: StepState,
    initial_lr: f64,
}

impl<F: Float> Lbfgs<F> {
    /// An optimizer over `params`.
    ///
    /// # Errors
    /// `InvalidSetting` for a history of 0, tolerances that are negative or NaN, a negative
    /// `lr`, or `max_iter` 0.
    pub fn new(params: Vec<Param<F>>, config: LbfgsConfig) -> Result<Self, OptimError> {
        let m = config.history_size;
        check("L-BFGS", "history_size", m as f64, m > 0, "must be ≥ 1")?;
        check(
            "L-BFGS",
            "gtol",
            config.gtol,
            config.gtol >= 0.0,
            "must be ≥ 0",
        )?;
        let tol = config.tolerance_change;
        check("L-BFGS", "tolerance_change", tol, tol >= 0.0, "must be ≥ 0")?;
        config.step.check()?;
        let initial_lr = config.step.lr;
        Ok(Lbfgs {
            params,
            config,
            state: StepState::default(),
            initial_lr,
        })
    }

    /// The parameters it updates.
    pub fn params(&self) -> &[Param<F>] {
        &self.params
    }

    /// Its settings.
    pub fn config(&self) -> &LbfgsConfig {
        &self.config
    }

    /// Minimises the loss that `closure` records from the parameters (it is called again
    /// for every evaluation; the gradient comes from the tape), updating them in place.
    ///
    /// # Panics
    /// When the closure's result is not a one-element tensor recorded from the parameters.
    #[track_caller]
    pub fn minimize(&mut self, mut closure: impl FnMut() -> Tensor<F>) -> Report {
        let params = &self.params;
        let mut eval = |x: &[f64]| {
            set_values(params, x);
            loss_and_grad(params, &mut closure)
        };
        let mut x = values(params);
        let (mut f, mut g) = eval(&x);
        let mut evaluations = 1;
        let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new(); // (s, y, 1/yᵀs)
        let c = &self.config;
        let mut stopper = line_search_stopper(c.max_iters, c.tolerance_change, c.gtol);
        let reason = match converged_at_start(&g, c.gtol) {
            Some(reason) => reason,
            None => loop {
                let mut d = two_loop(&g, &history);
                if dot(&g, &d) >= 0.0 {
                    // Not a descent direction (the curvature pairs went stale): restart.
                    history.clear();
                    d = g.iter().map(|v| -v).collect();
                }
                // The first step has no scale yet: aim for a move of length 1.
                let alpha0 = if history.is_empty() {
                    (1.0 / norm(&g)).min(1.0)
                } else {
                    1.0
                };
                let found = strong_wolfe(&x, &d, f, dot(&g, &d), alpha0, 0.9, &mut eval);
                evaluations += found.evaluations;
                let p = found.point;
                if p.f >= f {
                    // No step lowers the loss: we are at the limit of f64 precision.
                    break StopReason::NoProgress {
                        iters: stopper.iters(),
                    };
                }
                let x_new = axpy(&x, p.alpha, &d);
                let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
                let y: Vec<f64> = p.g.iter().zip(&g).map(|(a, b)| a - b).collect();
                let ys = dot(&y, &s);
                // Keep the pair only if it carries curvature (yᵀs > 0, relative to its size).
                if ys > f64::EPSILON * norm(&s) * norm(&y) {
                    if history.len() == self.config.history_size {
                        history.remove(0);
                    }
                    history.push((s, y, 1.0 / ys));
                }
                (x, f, g) = (x_new, p.f, p.g);
                if let Some(reason) = stopper.check(f, Some(norm(&g))) {
                    break reason;
                }
            },
        };
        set_values(params, &x);
        Report::new(stopper.iters(), evaluations, f, &g, reason)
    }
}

/// d = −H·g by the two-loop recursion over the history (oldest first in `history`).
fn two_loop(g: &[f64], history: &[(Vec<f64>, Vec<f64>, f64)]) -> Vec<f64> {
    let mut q: Vec<f64> = g.iter().map(|v| -v).collect();
    let mut alphas = Vec::with_capacity(history.len());
    for (s, y, rho) in history.iter().rev() {
        let a = rho * dot(s, &q);
        q = axpy(&q, -a, y);
        alphas.push(a);
    }
    if let Some((s, y, _)) = history.last() {
        let gamma = dot(s, y) / dot(y, y);
        q.iter_mut().for_each(|v| *v *= gamma);
    }
    for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
        let b = rho * dot(y, &q);
        q = axpy(&q, a - b, s);
    }
    q
}
