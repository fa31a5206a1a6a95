//! AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019, "Decoupled Weight
//! Decay Regularization") — PyTorch's `torch.optim.AdamW`.
//!
//! The decay shrinks the weights directly instead of entering the gradient, so Adam's
//! per-coordinate scaling does not weaken it for weights with large gradients:
//!
//! ```text
//! w ← w·(1 − α·λ)
//! then the Adam update of the module `adam`, with no λ in the gradient
//! ```

use ndarray::ArrayD;
use tapegrad_tensor::Float;

use crate::adam::{adam_buffers, adam_update, check_adam};
use crate::rule::{Buffer, UpdateRule, WeightDecay};
use crate::{AdamConfig, FirstOrder, OptimError};

/// Settings of [`AdamW`]; `Default` gives PyTorch's `AdamW` defaults: lr 1e-3, betas
/// (0.9, 0.999), ε 1e-8, **weight decay 0.01**, no AMSGrad, minimizing.
///
/// Write `AdamWConfig { lr: 0.01, ..Default::default() }`: the rest, weight decay included,
/// are AdamW's defaults.
///
/// NOTE: this used to be a wrapper, `AdamWConfig(AdamConfig { … })`, where
/// `..Default::default()` inside meant *Adam's* defaults and silently gave weight decay 0
/// instead of AdamW's 0.01. The same optimizer is also
/// `AdamConfig { decoupled_weight_decay: true, weight_decay: 0.01, … }` (PyTorch 2's
/// spelling); [`From`] converts.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate α.
    pub lr: f64,
    /// Decay β₁ of the first-moment average.
    pub beta1: f64,
    /// Decay β₂ of the second-moment average.
    pub beta2: f64,
    /// ε, added to the denominator for stability.
    pub eps: f64,
    /// Decoupled weight decay λ: w ← w·(1 − αλ) every step.
    pub weight_decay: f64,
    /// Use the running maximum of v (AMSGrad).
    pub amsgrad: bool,
    /// Ascend the objective: the gradient is negated first (PyTorch's `maximize`).
    pub maximize: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            amsgrad: false,
            maximize: false,
        }
    }
}

impl From<AdamWConfig> for AdamConfig {
    /// The same optimizer as PyTorch 2 spells it: Adam with `decoupled_weight_decay`.
    fn from(c: AdamWConfig) -> AdamConfig {
        AdamConfig {
            lr: c.lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            weight_decay: c.weight_decay,
            amsgrad: c.amsgrad,
            decoupled_weight_decay: true,
            maximize: c.maximize,
        }
    }
}

/// Adam with decoupled weight decay; see the module docs.
pub type AdamW<F = f32> = FirstOrder<F, AdamWConfig>;

impl UpdateRule for AdamWConfig {
    const NAME: &'static str = "AdamW";

    /// As Adam's: lr ≤ 0 or NaN, betas outside [0, 1), ε or weight decay < 0.
    fn check(&self) -> Result<(), OptimError> {
        let betas = [self.beta1, self.beta2];
        check_adam(Self::NAME, self.lr, betas, self.eps, self.weight_decay)
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn weight_decay(&self) -> Option<WeightDecay> {
        Some(WeightDecay::Decoupled(self.weight_decay))
    }

    fn maximize(&self) -> bool {
        self.maximize
    }

    fn buffers(&self) -> Vec<Buffer> {
        adam_buffers(self.amsgrad)
    }

    fn update<F: Float>(&self, t: u64, w: &mut ArrayD<F>, g: &ArrayD<F>, state: &mut [ArrayD<F>]) {
        let settings = [self.lr, self.beta1, self.beta2, self.eps];
        adam_update(settings, t, w, g, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{param, set_grad};
    use crate::Optimizer;

    #[test]
    fn decay_is_decoupled_from_the_gradient() {
        // w = 2, g = 0.5, α = 0.1, λ = 0.1: w ← 2 − 0.1·0.1·2 = 1.98, then the Adam step
        // −α·g/(|g| + ε) ≈ −0.1: 1.88. Adam with L2 would see g + λw = 0.7 and step by ≈0.1
        // too, but keeps no separate shrink: 1.9.
        let w = param(&[2.0]);
        set_grad(&w, &[0.5]);
        let config = AdamWConfig {
            lr: 0.1,
            weight_decay: 0.1,
            ..Default::default()
        };
        AdamW::new(vec![w.clone()], config).unwrap().step();
        approx::assert_abs_diff_eq!(
            w.value()[[0]],
            2.0 * (1.0 - 0.1 * 0.1) - 0.1 * 0.5 / (0.5 + 1e-8),
            epsilon = 1e-12
        );
        let err = AdamW::<f64>::new(
            vec![],
            AdamWConfig {
                weight_decay: -0.1,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "AdamW: weight_decay = -0.1: must be ≥ 0");
    }

    #[test]
    fn the_obvious_config_keeps_adamws_weight_decay() {
        // PyTorch: AdamW([w], lr=0.01) from w = 1 with g = 0.5: w ← 1·(1 − 0.01·0.01) = 0.9999,
        // then −0.01·0.5/(0.5 + 1e-8): 0.9899000002 (the old wrapper gave 0.9900000002).
        let w = param(&[1.0]);
        set_grad(&w, &[0.5]);
        let config = AdamWConfig {
            lr: 0.01,
            ..Default::default()
        };
        assert_eq!(config.weight_decay, 0.01);
        AdamW::new(vec![w.clone()], config.clone()).unwrap().step();
        approx::assert_abs_diff_eq!(w.value()[[0]], 0.9899000002, epsilon = 1e-10);
        approx::assert_abs_diff_eq!(
            w.value()[[0]],
            0.9999 - 0.01 * 0.5 / (0.5 + 1e-8),
            epsilon = 1e-15
        );
        // The same optimizer spelled as PyTorch 2's Adam(decoupled_weight_decay=True).
        let v = param(&[1.0]);
        set_grad(&v, &[0.5]);
        crate::Adam::new(vec![v.clone()], AdamConfig::from(config))
            .unwrap()
            .step();
        assert_eq!(v.value()[[0]], w.value()[[0]]);
    }
}
