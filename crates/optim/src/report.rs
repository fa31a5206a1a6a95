//! What a second-order minimisation run reports.

use crate::flat::norm;
use crate::stop::{StopReason, StopRules, Stopper};

/// The outcome of `minimize`: where it ended and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Iterations (outer steps) taken.
    pub iterations: usize,
    /// Loss evaluations, line-search trials included.
    pub evaluations: usize,
    /// The final loss.
    pub loss: f64,
    /// The final gradient norm ‖∇f‖₂.
    pub grad_norm: f64,
    /// Why it stopped.
    pub reason: StopReason,
}

impl Report {
    /// The report of a run that ended at loss `loss` with gradient `g`.
    pub(crate) fn new(
        iterations: usize,
        evaluations: usize,
        loss: f64,
        g: &[f64],
        reason: StopReason,
    ) -> Report {
        Report {
            iterations,
            evaluations,
            loss,
            grad_norm: norm(g),
            reason,
        }
    }
}

/// The stopping rules of the line-search methods (L-BFGS, CG), started: an iteration budget,
/// a relative loss change and a gradient tolerance.
pub(crate) fn line_search_stopper(max_iters: usize, tolerance_change: f64, gtol: f64) -> Stopper {
    StopRules {
        max_iters: Some(max_iters),
        rel_change_below: Some(tolerance_change),
        grad_norm_below: Some(gtol),
        ..Default::default()
    }
    .start()
}

/// `Some` when ‖g‖ < gtol before any step: the starting point is already a minimum, and the
/// run stops at iteration 0.
pub(crate) fn converged_at_start(g: &[f64], gtol: f64) -> Option<StopReason> {
    (norm(g) < gtol).then(|| StopReason::GradientNorm {
        norm: norm(g),
        gtol,
        iters: 0,
    })
}
