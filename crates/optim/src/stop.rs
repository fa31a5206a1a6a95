//! Stopping rules for a training loop, with the reason reported.
//!
//! ```
//! use tapegrad_optim::stop::{StopReason, StopRules};
//! let mut rules = StopRules { max_iters: Some(100), loss_below: Some(1e-6), ..Default::default() }.start();
//! let mut loss = 1.0;
//! let reason = loop {
//!     loss *= 0.5; // one "training step"
//!     if let Some(reason) = rules.check(loss, None) {
//!         break reason;
//!     }
//! };
//! assert!(matches!(reason, StopReason::LossBelow { .. }));
//! println!("stopped: {reason}"); // "loss 9.54e-7 is below 1e-6 after 20 iterations"
//! ```

use std::fmt;

/// Which rules apply; `None` switches a rule off.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StopRules {
    /// Stop after this many iterations.
    pub max_iters: Option<usize>,
    /// Stop when the loss falls below this.
    pub loss_below: Option<f64>,
    /// Stop when |Lₜ − Lₜ₋₁| / max(|Lₜ₋₁|, tiny) falls below this.
    pub rel_change_below: Option<f64>,
    /// Stop when the gradient norm falls below this (`gtol`).
    pub grad_norm_below: Option<f64>,
    /// Stop as diverged when the loss grows above this multiple of the first loss: a learning
    /// rate too large, or a gradient with the wrong sign, shows here long before the loss
    /// overflows to infinity (which always stops training).
    pub loss_growth_above: Option<f64>,
}

/// Why training stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    /// The iteration budget ran out.
    MaxIterations {
        /// Iterations run.
        iters: usize,
    },
    /// The loss reached the threshold.
    LossBelow {
        /// The final loss.
        loss: f64,
        /// The threshold.
        threshold: f64,
        /// Iterations run.
        iters: usize,
    },
    /// The loss stopped changing.
    RelativeChange {
        /// The last relative change.
        change: f64,
        /// The tolerance.
        tol: f64,
        /// Iterations run.
        iters: usize,
    },
    /// The gradient vanished.
    GradientNorm {
        /// The last gradient norm.
        norm: f64,
        /// The tolerance.
        gtol: f64,
        /// Iterations run.
        iters: usize,
    },
    /// A line search found no step that lowers the loss: the minimum is reached to the
    /// precision of the arithmetic.
    NoProgress {
        /// Iterations run.
        iters: usize,
    },
    /// The loss became NaN or infinite: training diverged (a learning rate too large, or a
    /// gradient with the wrong sign).
    Diverged {
        /// The offending loss.
        loss: f64,
        /// Iterations run.
        iters: usize,
    },
}

impl StopReason {
    /// The reason as a sentence that counts in `unit` ("epoch", "iteration", …), pluralised
    /// by the count: `describe("epoch")` reads "reached the maximum of 1 epoch".
    pub fn describe(&self, unit: &str) -> String {
        let count = |n: usize| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        match self {
            StopReason::MaxIterations { iters } => {
                format!("reached the maximum of {}", count(*iters))
            }
            StopReason::LossBelow {
                loss,
                threshold,
                iters,
            } => format!(
                "loss {loss:.2e} is below {threshold:e} after {}",
                count(*iters)
            ),
            StopReason::RelativeChange { change, tol, iters } => format!(
                "relative loss change {change:.2e} is below {tol:e} after {}",
                count(*iters)
            ),
            StopReason::GradientNorm { norm, gtol, iters } => format!(
                "gradient norm {norm:.2e} is below {gtol:e} after {}",
                count(*iters)
            ),
            StopReason::NoProgress { iters } => format!(
                "no step lowers the loss any more (floating-point precision) after {}",
                count(*iters)
            ),
            StopReason::Diverged { loss, iters } => {
                format!("diverged: the loss is {loss:.3e} after {}", count(*iters))
            }
        }
    }

    /// Whether the run reached a minimum by some rule (not the budget, not divergence).
    pub fn converged(&self) -> bool {
        !matches!(
            self,
            StopReason::MaxIterations { .. } | StopReason::Diverged { .. }
        )
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe("iteration"))
    }
}

impl StopRules {
    /// A checker that applies these rules from iteration 0.
    pub fn start(self) -> Stopper {
        Stopper {
            rules: self,
            iters: 0,
            first: None,
            previous: None,
        }
    }

    /// A checker for a run whose loss before its first iteration was `initial_loss`: growth
    /// is measured from it, and so is the first relative change.
    pub fn start_at(self, initial_loss: f64) -> Stopper {
        Stopper {
            rules: self,
            iters: 0,
            first: Some(initial_loss),
            previous: Some(initial_loss),
        }
    }
}

/// Counts iterations and applies [`StopRules`] to each one's loss and gradient norm.
#[derive(Clone, Debug)]
pub struct Stopper {
    rules: StopRules,
    iters: usize,
    first: Option<f64>,
    previous: Option<f64>,
}

impl Stopper {
    /// Records one finished iteration with its loss (and gradient norm, if known); returns
    /// why to stop, or `None` to go on. Divergence is checked first, the budget last.
    pub fn check(&mut self, loss: f64, grad_norm: Option<f64>) -> Option<StopReason> {
        self.iters += 1;
        let iters = self.iters;
        let previous = self.previous.replace(loss);
        let first = *self.first.get_or_insert(loss);
        let r = &self.rules;
        let grew = r
            .loss_growth_above
            .is_some_and(|factor| loss.abs() > factor * first.abs());
        if !loss.is_finite() || grew {
            return Some(StopReason::Diverged { loss, iters });
        }
        if let Some(threshold) = r.loss_below.filter(|&t| loss < t) {
            return Some(StopReason::LossBelow {
                loss,
                threshold,
                iters,
            });
        }
        if let (Some(gtol), Some(norm)) = (r.grad_norm_below, grad_norm) {
            if norm < gtol {
                return Some(StopReason::GradientNorm { norm, gtol, iters });
            }
        }
        if let (Some(tol), Some(previous)) = (r.rel_change_below, previous) {
            let change = (loss - previous).abs() / previous.abs().max(f64::MIN_POSITIVE);
            if change < tol {
                return Some(StopReason::RelativeChange { change, tol, iters });
            }
        }
        match r.max_iters {
            Some(max) if iters >= max => Some(StopReason::MaxIterations { iters }),
            _ => None,
        }
    }

    /// Iterations recorded so far.
    pub fn iters(&self) -> usize {
        self.iters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rules: StopRules, losses: &[f64], norms: &[f64]) -> Option<StopReason> {
        let mut stopper = rules.start();
        losses
            .iter()
            .zip(norms)
            .find_map(|(&l, &n)| stopper.check(l, Some(n)))
    }

    #[test]
    fn every_reason_triggers() {
        let losses = [4.0, 2.0, 1.0, 0.99, 0.5];
        let norms = [9.0, 8.0, 7.0, 6.0, 0.1];
        let max = StopRules {
            max_iters: Some(3),
            ..Default::default()
        };
        assert_eq!(
            run(max, &losses, &norms),
            Some(StopReason::MaxIterations { iters: 3 })
        );
        let below = StopRules {
            loss_below: Some(1.5),
            ..Default::default()
        };
        assert_eq!(
            run(below, &losses, &norms),
            Some(StopReason::LossBelow {
                loss: 1.0,
                threshold: 1.5,
                iters: 3
            })
        );
        let change = StopRules {
            rel_change_below: Some(0.05),
            ..Default::default()
        };
        assert!(matches!(
            run(change, &losses, &norms),
            Some(StopReason::RelativeChange { iters: 4, .. })
        ));
        let gtol = StopRules {
            grad_norm_below: Some(1.0),
            ..Default::default()
        };
        assert_eq!(
            run(gtol, &losses, &norms),
            Some(StopReason::GradientNorm {
                norm: 0.1,
                gtol: 1.0,
                iters: 5
            })
        );
        let diverged = run(StopRules::default(), &[1.0, f64::INFINITY], &[1.0, 1.0]);
        assert_eq!(
            diverged,
            Some(StopReason::Diverged {
                loss: f64::INFINITY,
                iters: 2
            })
        );
        let growth = StopRules {
            loss_growth_above: Some(100.0),
            ..Default::default()
        };
        let rising = [2.0, 20.0, 199.0, 201.0, 1e9];
        assert_eq!(
            run(growth, &rising, &norms),
            Some(StopReason::Diverged {
                loss: 201.0,
                iters: 4
            })
        );
        assert_eq!(run(StopRules::default(), &losses, &norms), None);
    }

    #[test]
    fn reasons_read_as_sentences() {
        let r = StopReason::GradientNorm {
            norm: 3.2e-9,
            gtol: 1e-8,
            iters: 12,
        };
        assert_eq!(
            r.to_string(),
            "gradient norm 3.20e-9 is below 1e-8 after 12 iterations"
        );
        let once = StopReason::MaxIterations { iters: 1 };
        assert_eq!(once.describe("epoch"), "reached the maximum of 1 epoch");
        assert!(!once.converged() && r.converged());
    }

    #[test]
    fn growth_is_measured_from_the_initial_loss() {
        // 1 → 50 → 150: from the start that is 150×, over the 100× limit, although the
        // first checked loss (50) grew only 3×.
        let rules = StopRules {
            loss_growth_above: Some(100.0),
            ..Default::default()
        };
        let mut stopper = rules.start_at(1.0);
        assert_eq!(stopper.check(50.0, None), None);
        assert_eq!(
            stopper.check(150.0, None),
            Some(StopReason::Diverged {
                loss: 150.0,
                iters: 2
            })
        );
    }
}
