//! Stochastic gradient descent, with momentum (classical or Nesterov), dampening and weight
//! decay — PyTorch's `torch.optim.SGD`.
//!
//! For each parameter w with gradient g, step t:
//!
//! ```text
//! g ← g + λ·w                              (weight decay λ, an L2 penalty ½λ‖w‖²)
//! b ← g                  at t = 1          (momentum buffer)
//! b ← μ·b + (1 − τ)·g    after              (momentum μ, dampening τ)
//! d ← g + μ·b            (Nesterov)   or   d ← b   (classical)   or   d ← g   (μ = 0)
//! w ← w − α·d
//! ```
//!
//! Momentum: Polyak (1964); Nesterov's variant as formulated by Sutskever et al. (2013),
//! "On the importance of initialization and momentum in deep learning".

use ndarray::{ArrayD, Zip};
use tapegrad_tensor::Float;

use crate::error::{check, check_lr, check_non_negative};
use crate::rule::{Buffer, UpdateRule, WeightDecay};
use crate::{FirstOrder, OptimError};

/// Settings of [`Sgd`]; `Default` gives PyTorch's: lr 1e-3, no momentum, no weight decay, no
/// dampening, not Nesterov, minimizing.
#[derive(Clone, Debug, PartialEq)]
pub struct SgdConfig {
    /// Learning rate α.
    pub lr: f64,
    /// Momentum μ (0 for plain SGD).
    pub momentum: f64,
    /// Dampening τ of the momentum buffer's new gradient.
    pub dampening: f64,
    /// Nesterov momentum (needs μ > 0 and τ = 0).
    pub nesterov: bool,
    /// Weight decay λ (L2, through the gradient).
    pub weight_decay: f64,
    /// Ascend the objective: the gradient is negated first (PyTorch's `maximize`).
    pub maximize: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

/// SGD with optional momentum; see the module docs for the update.
pub type Sgd<F = f32> = FirstOrder<F, SgdConfig>;

impl UpdateRule for SgdConfig {
    const NAME: &'static str = "SGD";

    /// `InvalidSetting` for lr ≤ 0 or NaN, negative momentum, dampening or weight decay, or
    /// Nesterov without momentum or with dampening.
    fn check(&self) -> Result<(), OptimError> {
        const NAME: &str = "SGD";
        check_lr(NAME, self.lr)?;
        check_non_negative(NAME, "momentum", self.momentum)?;
        check_non_negative(NAME, "dampening", self.dampening)?;
        check_non_negative(NAME, "weight_decay", self.weight_decay)?;
        if self.nesterov {
            let ok = self.momentum > 0.0;
            check(
                NAME,
                "momentum",
                self.momentum,
                ok,
                "Nesterov needs momentum > 0",
            )?;
            let ok = self.dampening == 0.0;
            check(
                NAME,
                "dampening",
                self.dampening,
                ok,
                "Nesterov needs dampening = 0",
            )?;
        }
        Ok(())
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn weight_decay(&self) -> Option<WeightDecay> {
        Some(WeightDecay::L2(self.weight_decay))
    }

    fn maximize(&self) -> bool {
        self.maximize
    }

    /// The momentum buffer b, only with momentum.
    fn buffers(&self) -> Vec<Buffer> {
        if self.momentum != 0.0 {
            vec![Buffer::like_param("momentum_buffer")]
        } else {
            vec![]
        }
    }

    fn update<F: Float>(&self, t: u64, w: &mut ArrayD<F>, g: &ArrayD<F>, state: &mut [ArrayD<F>]) {
        let [lr, mu, tau] = [self.lr, self.momentum, self.dampening].map(F::from_f64);
        match state {
            [] => Zip::from(w).and(g).for_each(|w, &g| *w -= lr * g),
            [b] => Zip::from(w).and(g).and(b).for_each(|w, &g, b| {
                *b = if t == 1 {
                    g
                } else {
                    mu * *b + (F::one() - tau) * g
                };
                let d = if self.nesterov { g + mu * *b } else { *b };
                *w -= lr * d;
            }),
            _ => unreachable!("SGD declares at most one buffer"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{param, set_grad};
    use crate::Optimizer;

    #[test]
    fn plain_step_by_hand() {
        // w = [1, 2], g = [0.5, -1], α = 0.1, λ = 0.1: w − α(g + λw) = [0.94, 2.08].
        let w = param(&[1.0, 2.0]);
        set_grad(&w, &[0.5, -1.0]);
        let config = SgdConfig {
            lr: 0.1,
            weight_decay: 0.1,
            ..Default::default()
        };
        Sgd::new(vec![w.clone()], config).unwrap().step();
        let got: Vec<f64> = w.value().iter().copied().collect();
        approx::assert_abs_diff_eq!(got.as_slice(), [0.94, 2.08].as_slice(), epsilon = 1e-15);
    }

    #[test]
    fn momentum_and_nesterov_by_hand() {
        // g = 1 twice, μ = 0.9, τ = 0.5, α = 1. Classical: b₁ = 1, b₂ = 0.9 + 0.5 = 1.4;
        // w = −1 − 1.4 = −2.4. Nesterov (τ = 0): b₂ = 1.9, d₂ = 1 + 0.9·1.9 = 2.71, d₁ = 1.9.
        for (nesterov, dampening, expected) in [(false, 0.5, -2.4), (true, 0.0, -1.9 - 2.71)] {
            let w = param(&[0.0]);
            let config = SgdConfig {
                lr: 1.0,
                momentum: 0.9,
                dampening,
                nesterov,
                ..Default::default()
            };
            let mut opt = Sgd::new(vec![w.clone()], config).unwrap();
            for _ in 0..2 {
                set_grad(&w, &[1.0]);
                opt.step();
            }
            approx::assert_abs_diff_eq!(w.value()[[0]], expected, epsilon = 1e-12);
        }
    }

    #[test]
    fn bad_settings_are_rejected() {
        let bad = |config: SgdConfig| Sgd::<f64>::new(vec![], config).unwrap_err().to_string();
        assert_eq!(
            bad(SgdConfig {
                lr: 0.0,
                ..Default::default()
            }),
            "SGD: lr = 0: must be a positive number"
        );
        assert_eq!(
            bad(SgdConfig {
                lr: f64::NAN,
                ..Default::default()
            }),
            "SGD: lr = NaN: must be a positive number"
        );
        assert_eq!(
            bad(SgdConfig {
                weight_decay: -1.0,
                ..Default::default()
            }),
            "SGD: weight_decay = -1: must be ≥ 0"
        );
        assert_eq!(
            bad(SgdConfig {
                nesterov: true,
                ..Default::default()
            }),
            "SGD: momentum = 0: Nesterov needs momentum > 0"
        );
    }
}
