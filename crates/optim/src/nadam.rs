//! NAdam: Adam with Nesterov momentum (Dozat, 2016, "Incorporating Nesterov Momentum into
//! Adam"), with the momentum-decay schedule of PyTorch's `torch.optim.NAdam`.
//!
//! For each parameter w with gradient g, step t (ψ = `momentum_decay`):
//!
//! ```text
//! μₜ = β₁·(1 − ½·0.96^(t·ψ))            (the momentum schedule; μₜ₊₁ likewise)
//! Πₜ = μ₁·μ₂···μₜ                       (kept per parameter: "mu_product")
//! m ← β₁·m + (1 − β₁)·g
//! v ← β₂·v + (1 − β₂)·g²
//! d = √(v/(1 − β₂ᵗ)) + ε
//! w ← w − α·(1 − μₜ)/(1 − Πₜ) · g/d − α·μₜ₊₁/(1 − Πₜ·μₜ₊₁) · m/d
//! ```
//!
//! The last line is Nesterov's look-ahead: the step uses the momentum the *next* step will
//! have. Weight decay is L2 (through g) unless `decoupled_weight_decay` (then w ← w·(1 − αλ)
//! first, "NAdamW").

use ndarray::{ArrayD, Zip};
use tapegrad_tensor::Float;

use crate::adam::check_adam;
use crate::error::check_non_negative;
use crate::rule::{Buffer, UpdateRule, WeightDecay};
use crate::{FirstOrder, OptimError};

/// Settings of [`NAdam`]; `Default` gives PyTorch's: lr 2e-3, betas (0.9, 0.999), ε 1e-8,
/// no weight decay, momentum decay 4e-3, coupled decay, minimizing.
#[derive(Clone, Debug, PartialEq)]
pub struct NAdamConfig {
    /// Learning rate α.
    pub lr: f64,
    /// Decay β₁ of the first-moment average (the momentum before its schedule).
    pub beta1: f64,
    /// Decay β₂ of the second-moment average.
    pub beta2: f64,
    /// ε, added to the denominator.
    pub eps: f64,
    /// Weight decay λ.
    pub weight_decay: f64,
    /// ψ of the momentum schedule μₜ = β₁(1 − ½·0.96^(tψ)).
    pub momentum_decay: f64,
    /// Decay the weights directly (w ← w·(1 − αλ)) instead of through the gradient.
    pub decoupled_weight_decay: bool,
    /// Ascend the objective: the gradient is negated first (PyTorch's `maximize`).
    pub maximize: bool,
}

impl Default for NAdamConfig {
    fn default() -> Self {
        NAdamConfig {
            lr: 2e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

/// The NAdam optimizer; see the module docs.
pub type NAdam<F = f32> = FirstOrder<F, NAdamConfig>;

impl UpdateRule for NAdamConfig {
    const NAME: &'static str = "NAdam";

    /// As Adam's, and `momentum_decay` < 0.
    fn check(&self) -> Result<(), OptimError> {
        let betas = [self.beta1, self.beta2];
        check_adam(Self::NAME, self.lr, betas, self.eps, self.weight_decay)?;
        check_non_negative(Self::NAME, "momentum_decay", self.momentum_decay)
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

    /// m, v, and the running product Π of the momentum schedule (one number, from 1).
    fn buffers(&self) -> Vec<Buffer> {
        vec![
            Buffer::like_param("exp_avg"),
            Buffer::like_param("exp_avg_sq"),
            Buffer::scalar("mu_product", 1.0),
        ]
    }

    fn update<F: Float>(&self, t: u64, w: &mut ArrayD<F>, g: &ArrayD<F>, state: &mut [ArrayD<F>]) {
        let [m, v, mu_product] = state else {
            unreachable!("three buffers were declared")
        };
        let t = t as f64;
        let (lr, beta1) = (self.lr, self.beta1);
        let bias2 = F::from_f64(1.0 - self.beta2.powf(t));
        let mu = beta1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = beta1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        let product = mu_product[[]].as_f64() * mu;
        mu_product[[]] = F::from_f64(product);
        let grad_coef = F::from_f64(lr * (1.0 - mu) / (1.0 - product));
        let momentum_coef = F::from_f64(lr * mu_next / (1.0 - product * mu_next));
        let [one_minus_beta1, beta2, one_minus_beta2, eps] =
            [1.0 - beta1, self.beta2, 1.0 - self.beta2, self.eps].map(F::from_f64);
        Zip::from(w).and(g).and(m).and(v).for_each(|w, &g, m, v| {
            *m += one_minus_beta1 * (g - *m);
            *v = beta2 * *v + one_minus_beta2 * g * g;
            let d = (*v / bias2).sqrt() + eps;
            *w -= grad_coef * g / d;
            *w -= momentum_coef * *m / d;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{param, set_grad};
    use crate::Optimizer;

    #[test]
    fn first_step_by_hand() {
        // t = 1, g = 2, ψ = 0.5, β₁ = 0.5, β₂ = 0.5, ε = 0, α = 1:
        // μ₁ = 0.5(1 − ½·0.96^0.5), μ₂ = 0.5(1 − ½·0.96), Π₁ = μ₁;
        // m = 1, v = 2, d = √(2/0.5) = 2;
        // w = 0 − (1 − μ₁)/(1 − μ₁)·2/2 − μ₂/(1 − μ₁μ₂)·1/2 = −1 − μ₂/(2(1 − μ₁μ₂)).
        let w = param(&[0.0]);
        set_grad(&w, &[2.0]);
        let config = NAdamConfig {
            lr: 1.0,
            beta1: 0.5,
            beta2: 0.5,
            eps: 0.0,
            momentum_decay: 0.5,
            ..Default::default()
        };
        let mut opt = NAdam::new(vec![w.clone()], config).unwrap();
        opt.step();
        let mu1 = 0.5 * (1.0 - 0.5 * 0.96f64.sqrt());
        let mu2 = 0.5 * (1.0 - 0.5 * 0.96);
        let expected = -1.0 - mu2 / (2.0 * (1.0 - mu1 * mu2));
        approx::assert_abs_diff_eq!(w.value()[[0]], expected, epsilon = 1e-15);
        // The product Π is one number per parameter.
        let state = opt.state();
        let product = state.buffers["mu_product"][0].as_ref().unwrap();
        assert_eq!(product.shape(), &[] as &[usize]);
        approx::assert_abs_diff_eq!(product[[]], mu1, epsilon = 1e-16);
    }
}
