//! AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019, "Decoupled Weight
//! Decay Regularization") — PyTorch's `torch.optim.AdamW`.
//!
//! The decay shrinks the weights directly instead of entering the gradient, so Adam's
//! per-coordinate scaling does not weaken it for weights with large gradients:
//!
//! ```text
//! w ← w − α·λ·w
//! then the Adam update of the module `adam`, with no λ in the gradient
//! ```

use tapegrad_tensor::{Float, Param};

use crate::adam::Decay;
use crate::{Adam, AdamConfig, OptimError, Optimizer, OptimizerState};

/// Settings of [`AdamW`]: PyTorch's defaults, lr 1e-3, betas (0.9, 0.999), ε 1e-8, weight
/// decay 0.01, no AMSGrad.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamWConfig(pub AdamConfig);

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig(AdamConfig {
            weight_decay: 0.01,
            ..AdamConfig::default()
        })
    }
}

/// Adam with decoupled weight decay; see the module docs.
#[derive(Debug)]
pub struct AdamW<F: Float>(Adam<F>);

impl<F: Float> AdamW<F> {
    /// An optimizer over `params`.
    ///
    /// # Errors
    /// As [`Adam::new`], naming `AdamW`.
    pub fn new(params: Vec<Param<F>>, config: AdamWConfig) -> Result<Self, OptimError> {
        Adam::with_decay(params, config.0, Decay::Decoupled, "AdamW").map(AdamW)
    }
}

impl<F: Float> Optimizer<F> for AdamW<F> {
    fn params(&self) -> &[Param<F>] {
        self.0.params()
    }
    fn step(&mut self) {
        self.0.step()
    }
    fn lr(&self) -> f64 {
        self.0.lr()
    }
    fn set_lr(&mut self, lr: f64) {
        self.0.set_lr(lr)
    }
    fn state(&self) -> OptimizerState<F> {
        self.0.state()
    }
    fn load_state(&mut self, state: OptimizerState<F>) -> Result<(), OptimError> {
        self.0.load_state(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{param, set_grad};

    #[test]
    fn decay_is_decoupled_from_the_gradient() {
        // w = 2, g = 0.5, α = 0.1, λ = 0.1: w ← 2 − 0.1·0.1·2 = 1.98, then the Adam step
        // −α·g/(|g| + ε) ≈ −0.1: 1.88. Adam with L2 would see g + λw = 0.7 and step by ≈0.1
        // too, but keeps no separate shrink: 1.9.
        let w = param(&[2.0]);
        set_grad(&w, &[0.5]);
        let config = AdamWConfig(AdamConfig {
            lr: 0.1,
            weight_decay: 0.1,
            ..Default::default()
        });
        AdamW::new(vec![w.clone()], config).unwrap().step();
        approx::assert_abs_diff_eq!(
            w.value()[[0]],
            1.98 - 0.1 * 0.5 / (0.5 + 1e-8),
            epsilon = 1e-12
        );
        let err = AdamW::<f64>::new(
            vec![],
            AdamWConfig(AdamConfig {
                weight_decay: -0.1,
                ..Default::default()
            }),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "AdamW: weight_decay = -0.1: must be ≥ 0");
    }
}
