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
//! With `maximize` the gradient is negated first; with `decoupled_weight_decay` the first
//! line becomes w ← w·(1 − α·λ) (AdamW; see [`AdamW`](crate::AdamW)).
//!
//! The factors 1/(1 − βᵗ) undo the bias of averages that start at zero; with them the
//! first step moves every weight by almost exactly α (when ε is negligible).

use ndarray::{ArrayD, Zip};
use tapegrad_tensor::Float;

use crate::error::{check_beta, check_lr, check_non_negative};
use crate::rule::{Buffer, UpdateRule, WeightDecay};
use crate::{FirstOrder, OptimError};

/// Settings of [`Adam`]; `Default` gives the paper's and PyTorch's: lr 1e-3, betas
/// (0.9, 0.999), ε 1e-8, no weight decay, no AMSGrad, coupled decay, minimizing.
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
    /// Weight decay λ: an L2 penalty through the gradient, or decoupled (AdamW) with
    /// `decoupled_weight_decay`.
    pub weight_decay: f64,
    /// Use the running maximum of v (AMSGrad).
    pub amsgrad: bool,
    /// Decay the weights directly, w ← w·(1 − αλ), instead of through the gradient: AdamW
    /// (PyTorch 2's `decoupled_weight_decay`). The default weight decay stays 0, as in
    /// PyTorch; [`AdamWConfig`](crate::AdamWConfig) has AdamW's 0.01.
    pub decoupled_weight_decay: bool,
    /// Ascend the objective: the gradient is negated first (PyTorch's `maximize`).
    pub maximize: bool,
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
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

/// The Adam optimizer; see the module docs for the update.
pub type Adam<F = f32> = FirstOrder<F, AdamConfig>;

/// Checks Adam's settings, naming the optimizer `name`.
pub(crate) fn check_adam(
    name: &'static str,
    lr: f64,
    betas: [f64; 2],
    eps: f64,
    weight_decay: f64,
) -> Result<(), OptimError> {
    check_lr(name, lr)?;
    check_beta(name, "beta1", betas[0])?;
    check_beta(name, "beta2", betas[1])?;
    check_non_negative(name, "eps", eps)?;
    check_non_negative(name, "weight_decay", weight_decay)
}

/// The moments m, v, and with AMSGrad the running maximum of v.
pub(crate) fn adam_buffers(amsgrad: bool) -> Vec<Buffer> {
    // Plain Adam keeps two buffers per parameter, not three.
    let mut buffers = vec![
        Buffer::like_param("exp_avg"),
        Buffer::like_param("exp_avg_sq"),
    ];
    if amsgrad {
        buffers.push(Buffer::like_param("max_exp_avg_sq"));
    }
    buffers
}

/// Adam's step (the module docs' formula), shared with AdamW.
pub(crate) fn adam_update<F: Float>(
    [lr, beta1, beta2, eps]: [f64; 4],
    t: u64,
    w: &mut ArrayD<F>,
    g: &ArrayD<F>,
    state: &mut [ArrayD<F>],
) {
    let t = t as f64;
    let step_size = F::from_f64(lr / (1.0 - beta1.powf(t)));
    let sqrt_bias2 = F::from_f64((1.0 - beta2.powf(t)).sqrt());
    let [one_minus_beta1, beta2, one_minus_beta2, eps] =
        [1.0 - beta1, beta2, 1.0 - beta2, eps].map(F::from_f64);
    // One element: m ← m + (1 − β₁)(g − m), v ← β₂v + (1 − β₂)g², v̂ = max of all v so far
    // under AMSGrad and v otherwise, w ← w − α/(1 − β₁ᵗ) · m / (√v̂/√(1 − β₂ᵗ) + ε).
    let update = |w: &mut F, g: F, m: &mut F, v: &mut F, v_max: Option<&mut F>| {
        *m += one_minus_beta1 * (g - *m);
        *v = beta2 * *v + one_minus_beta2 * g * g;
        let v_hat = match v_max {
            Some(v_max) => {
                *v_max = v_max.max(*v);
                *v_max
            }
            None => *v,
        };
        *w -= step_size * *m / (v_hat.sqrt() / sqrt_bias2 + eps);
    };
    match state {
        [m, v] => Zip::from(w)
            .and(g)
            .and(m)
            .and(v)
            .for_each(|w, &g, m, v| update(w, g, m, v, None)),
        [m, v, v_max] => Zip::from(w)
            .and(g)
            .and(m)
            .and(v)
            .and(v_max)
            .for_each(|w, &g, m, v, v_max| update(w, g, m, v, Some(v_max))),
        _ => unreachable!("two or three buffers were declared"),
    }
}

impl UpdateRule for AdamConfig {
    const NAME: &'static str = "Adam";

    /// `InvalidSetting` for lr ≤ 0 or NaN, betas outside [0, 1), ε or weight decay < 0.
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
        Some(WeightDecay::chosen(
            self.weight_decay,
            self.decoupled_weight_decay,
        ))
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
