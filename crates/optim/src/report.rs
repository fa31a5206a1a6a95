//! What a second-order minimisation run reports.

use crate::stop::StopReason;

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
