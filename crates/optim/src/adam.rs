//! Adam (Kingma & Ba, 2015, "Adam: A Method for Stochastic Optimization"), with the AMSGrad
//! variant (Reddi et al., 2018) and L2 weight decay — PyTorch's `torch.optim.Adam`.
//!
//! For each parameter w with gradient g, step t:
//!
//! ```text
//! g ← g + λ·w                          (weight decay λ, added to the gradient)
//! m ← β₁·m + (1 − β₁)·g                (first moment)
//! v ← β₂·v + (1 − β₂)·g²               (second moment)
//! v̂ ← max(v̂, v)  with AMSGrad, else v̂ ← v
//! w ← w − α/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
//! ```
//!
//! The factors 1/(1 − βᵗ) undo the bias of averages that start at zero; with them the
//! first step moves every weight by almost exactly α (when ε is negligible).

use ndarray::Zip;
use tapegrad_tensor::{Float, Param};

use crate::error::{check_beta, check_lr, check_non_negative};
use crate::optimizer::Slots;
use crate::{OptimError, Optimizer, OptimizerState};

/// Settings of [`Adam`]; `Default` gives the paper's and PyTorch's: lr 1e-3, betas
/// (0.9, 0.999), ε 1e-8, no weight decay, no AMSGrad.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate α.
    pub lr: f64,
    /// Decay β₁ of the first-moment average.
    pub beta1: f64,
    /// Decay β₂ of the second-moment average.
    pub beta2: f64,
    /// ε, added to the denominator for stability.
    pub eps: f64,
    /// Weight decay λ (an L2 penalty through the gradient; see [`AdamW`](crate::AdamW) for
    /// the decoupled form).
    pub weight_decay: f64,
    /// Use the running maximum of v (AMSGrad).
    pub amsgrad: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
        }
    }
}

/// How weight decay enters the update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Decay {
    /// g ← g + λw (Adam).
    L2,
    /// w ← w − αλw before the Adam step (AdamW).
    Decoupled,
}

/// The Adam optimizer; see the module docs for the update.
#[derive(Debug)]
pub struct Adam<F: Float> {
    params: Vec<Param<F>>,
    config: AdamConfig,
    decay: Decay,
    name: &'static str,
    slots: Slots<F>,
}

impl<F: Float> Adam<F> {
    /// An optimizer over `params`.
    ///
    /// # Errors
    /// `InvalidSetting` for lr ≤ 0 or NaN, betas outside [0, 1), ε or weight decay < 0.
    pub fn new(params: Vec<Param<F>>, config: AdamConfig) -> Result<Self, OptimError> {
        Self::with_decay(params, config, Decay::L2, "Adam")
    }

    pub(crate) fn with_decay(
        params: Vec<Param<F>>,
        config: AdamConfig,
        decay: Decay,
        name: &'static str,
    ) -> Result<Self, OptimError> {
        check_lr(name, config.lr)?;
        check_beta(name, "beta1", config.beta1)?;
        check_beta(name, "beta2", config.beta2)?;
        check_non_negative(name, "eps", config.eps)?;
        check_non_negative(name, "weight_decay", config.weight_decay)?;
        // The running maximum of v exists only with AMSGrad: plain Adam keeps two buffers per
        // parameter, not three.
        let buffers: &[&str] = if config.amsgrad {
            &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        } else {
            &["exp_avg", "exp_avg_sq"]
        };
        let slots = Slots::new(params.len(), buffers);
        Ok(Adam {
            params,
            config,
            decay,
            name,
            slots,
        })
    }
}

impl<F: Float> Optimizer<F> for Adam<F> {
    fn params(&self) -> &[Param<F>] {
        &self.params
    }

    fn step(&mut self) {
        let c = &self.config;
        let [lr, beta1, beta2, eps, lambda] =
            [c.lr, c.beta1, c.beta2, c.eps, c.weight_decay].map(F::from_f64);
        let one = F::one();
        for (i, p) in self.params.iter().enumerate() {
            let t = self.slots.steps[i] as i32 + 1;
            let bias1 = one - beta1.powi(t);
            let sqrt_bias2 = (one - beta2.powi(t)).sqrt();
            let decay = self.decay;
            // One element: w ← w − α/(1 − β₁ᵗ) · m / (√(v̂/(1 − β₂ᵗ)) + ε), with v̂ = max of all
            // v so far under AMSGrad and v otherwise.
            let update = |w: &mut F, g: F, m: &mut F, v: &mut F, v_max: Option<&mut F>| {
                let g = match decay {
                    Decay::L2 => g + lambda * *w,
                    Decay::Decoupled => {
                        *w -= lr * lambda * *w;
                        g
                    }
                };
                *m = beta1 * *m + (one - beta1) * g;
                *v = beta2 * *v + (one - beta2) * g * g;
                let v_hat = match v_max {
                    Some(v_max) => {
                        *v_max = v_max.max(*v);
                        *v_max
                    }
                    None => *v,
                };
                *w -= lr / bias1 * *m / (v_hat.sqrt() / sqrt_bias2 + eps);
            };
            let mut buffers = self.slots.of_param(i, p.shape());
            let updated = p.update(|w, g| match buffers.as_mut_slice() {
                [m, v] => Zip::from(w)
                    .and(g)
                    .and(&mut **m)
                    .and(&mut **v)
                    .for_each(|w, &g, m, v| update(w, g, m, v, None)),
                [m, v, v_max] => Zip::from(w)
                    .and(g)
                    .and(&mut **m)
                    .and(&mut **v)
                    .and(&mut **v_max)
                    .for_each(|w, &g, m, v, v_max| update(w, g, m, v, Some(v_max))),
                _ => unreachable!("two or three buffers were declared"),
            });
            if updated {
                self.slots.steps[i] += 1;
            }
        }
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn state(&self) -> OptimizerState<F> {
        self.slots.to_state()
    }

    fn load_state(&mut self, state: OptimizerState<F>) -> Result<(), OptimError> {
        self.slots.load(self.name, &self.params, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{param, set_grad};

    #[test]
    fn first_step_moves_by_lr_times_sign() {
        // t = 1: m = 0.1g, v = 0.001g², m/(1−β₁) = g, √(v/(1−β₂)) = |g|, so the step is
        // α·g/(|g| + ε) = α·sign(g)·|g|/(|g| + ε).
        let w = param(&[1.0, -1.0]);
        set_grad(&w, &[3.0, -0.5]);
        let mut opt = Adam::new(
            vec![w.clone()],
            AdamConfig {
                lr: 0.1,
                ..Default::default()
            },
        )
        .unwrap();
        opt.step();
        let expected = [
            1.0 - 0.1 * 3.0 / (3.0 + 1e-8),
            -1.0 + 0.1 * 0.5 / (0.5 + 1e-8),
        ];
        approx::assert_abs_diff_eq!(w.value()[[0]], expected[0], epsilon = 1e-15);
        approx::assert_abs_diff_eq!(w.value()[[1]], expected[1], epsilon = 1e-15);
    }

    #[test]
    fn second_step_by_hand_with_amsgrad() {
        // g₁ = 2, g₂ = 1, β = (0.5, 0.5), α = 1, ε = 0:
        // m₁ = 1, v₁ = 2; m₂ = 1, v₂ = 1.5, v̂₂ = max(2, 1.5) = 2 with AMSGrad.
        // step₂ = m₂/(1 − 0.25) / (√v̂₂/√(1 − 0.25)) = (4/3)/(√2/√0.75) = 0.8165 (AMSGrad),
        // or (4/3)/(√1.5/√0.75) = 0.9428 without.
        for (amsgrad, step2) in [
            (true, (4.0 / 3.0) / (2f64.sqrt() / 0.75f64.sqrt())),
            (false, (4.0 / 3.0) / 2f64.sqrt()),
        ] {
            let w = param(&[0.0]);
            let config = AdamConfig {
                lr: 1.0,
                beta1: 0.5,
                beta2: 0.5,
                eps: 0.0,
                amsgrad,
                ..Default::default()
            };
            let mut opt = Adam::new(vec![w.clone()], config).unwrap();
            set_grad(&w, &[2.0]);
            opt.step();
            set_grad(&w, &[1.0]);
            opt.step();
            approx::assert_abs_diff_eq!(w.value()[[0]], -1.0 - step2, epsilon = 1e-12);
        }
    }

    #[test]
    fn bad_betas_are_rejected() {
        let err = Adam::<f64>::new(
            vec![],
            AdamConfig {
                beta1: 1.2,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "Adam: beta1 = 1.2: must be in [0, 1)");
        let err = Adam::<f64>::new(
            vec![],
            AdamConfig {
                beta2: 1.0,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "Adam: beta2 = 1: must be in [0, 1)");
    }
}
