//! The full-batch training loop shared by the models here.

use tapegrad_optim::clip::grad_norm;
use tapegrad_optim::stop::{StopReason, StopRules};
use tapegrad_optim::Optimizer;
use tapegrad_tensor::{Float, Tensor};

/// How a `fit` ended.
#[derive(Clone, Debug, PartialEq)]
pub struct FitReport {
    /// Optimizer steps taken.
    pub iterations: usize,
    /// The loss at the last step.
    pub loss: f64,
    /// Why it stopped.
    pub reason: StopReason,
}

/// Records `loss()`, runs `backward` and lets `optimizer` step, until one of `rules` fires
/// (checked on each loss and the gradient norm before the step).
pub(crate) fn fit_loop<F: Float>(
    mut loss: impl FnMut() -> Tensor<F>,
    optimizer: &mut dyn Optimizer<F>,
    rules: StopRules,
) -> FitReport {
    let mut stopper = rules.start();
    loop {
        optimizer.zero_grad();
        let l = loss();
        l.backward();
        let (value, norm) = (l.item().as_f64(), grad_norm(optimizer.params()));
        if let Some(reason) = stopper.check(value, Some(norm)) {
            return FitReport {
                iterations: stopper.iters(),
                loss: value,
                reason,
            };
        }
        optimizer.step();
    }
}
