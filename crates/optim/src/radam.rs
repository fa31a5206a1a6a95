//! RAdam: Adam with a rectified adaptive rate (Liu et al., 2020, "On the Variance of the
//! Adaptive Learning Rate and Beyond") — PyTorch's `torch.optim.RAdam`.
//!
//! Early on, v averages so few squared gradients that its variance is large; RAdam measures
//! how many (ρₜ) and only uses the adaptive rate once ρₜ > 5, scaled by a rectification rₜ.
//! For each parameter w with gradient g, step t:
//!
//! ```text
//! m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²,   m̂ = m/(1 − β₁ᵗ)
//! ρ∞ = 2/(1 − β₂) − 1,      ρₜ = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)
//! ρₜ > 5:  rₜ = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
//!          w ← w − α·m̂·rₜ·√(1 − β₂ᵗ)/(√v + ε)
//! else:    w ← w − α·m̂                       (SGD with momentum, un-adapted)
//! ```
//!
//! With the default β₂ = 0.999, ρₜ > 5 from t = 6 on. Weight decay is L2 unless
//! `decoupled_weight_decay`.

use ndarray::{ArrayD, Zip};
use tapegrad_tensor::Float;

use crate::adam::{adam_buffers, check_adam};
use crate::rule::{Buffer, UpdateRule, WeightDecay};
use crate::{FirstOrder, OptimError};

/// Settings of [`RAdam`]; `Default` gives PyTorch's: lr 1e-3, betas (0.9, 0.999), ε 1e-8,
/// no weight decay, coupled decay, minimizing.
#[derive(Clone, Debug, PartialEq)]
pub struct RAdamConfig {
    /// Learning rate α.
    pub lr: f64,
    /// Decay β₁ of the first-moment average.
    pub beta1: f64,
    /// Decay β₂ of the second-moment average.
    pub beta2: f64,
    /// ε, added to the denominator.
    pub eps: f64,
    /// Weight decay λ.
    pub weight_decay: f64,
    /// Decay the weights directly (w ← w·(1 − αλ)) instead of through the gradient.
    pub decoupled_weight_decay: bool,
    /// Ascend the objective: the gradient is negated first (PyTorch's `maximize`).
    pub maximize: bool,
}

impl Default for RAdamConfig {
    fn default() -> Self {
        RAdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

/// The RAdam optimizer; see the module docs.
pub type RAdam<F = f32> = FirstOrder<F, RAdamConfig>;

/// ρₜ and, when ρₜ > 5, the rectification rₜ.
fn rectification(beta2: f64, t: f64) -> Option<f64> {
    let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
    let bias2 = 1.0 - beta2.powf(t);
    let rho_t = rho_inf - 2.0 * t * beta2.powf(t) / bias2;
    (rho_t > 5.0).then(|| {
        ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
            .sqrt()
    })
}

impl UpdateRule for RAdamConfig {
    const NAME: &'static str = "RAdam";

    /// As Adam's.
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
        adam_buffers(false)
    }

    fn update<F: Float>(&self, t: u64, w: &mut ArrayD<F>, g: &ArrayD<F>, state: &mut [ArrayD<F>]) {
        let [m, v] = state else {
            unreachable!("two buffers were declared")
        };
        let t = t as f64;
        let bias1 = F::from_f64(1.0 - self.beta1.powf(t));
        let sqrt_bias2 = F::from_f64((1.0 - self.beta2.powf(t)).sqrt());
        let rect = rectification(self.beta2, t).map(F::from_f64);
        let [lr, one_minus_beta1, beta2, one_minus_beta2, eps] = [
            self.lr,
            1.0 - self.beta1,
            self.beta2,
            1.0 - self.beta2,
            self.eps,
        ]
        .map(F::from_f64);
        Zip::from(w).and(g).and(m).and(v).for_each(|w, &g, m, v| {
            *m += one_minus_beta1 * (g - *m);
            *v = beta2 * *v + one_minus_beta2 * g * g;
            let m_hat = *m / bias1;
            *w -= match rect {
                Some(r) => m_hat * lr * (sqrt_bias2 / (v.sqrt() + eps)) * r,
                None => m_hat * lr,
            };
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{param, set_grad};
    use crate::Optimizer;

    #[test]
    fn momentum_steps_until_rho_exceeds_five() {
        // β₂ = 0.999: ρₜ = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ) with ρ∞ = 1999 is about t − 1 + O(t²/1000)…
        // in numbers: ρ₅ ≈ 4.0, ρ₆ ≈ 5.0013 — the adaptive rate starts at t = 6.
        assert!(rectification(0.999, 5.0).is_none());
        let r6 = rectification(0.999, 6.0).expect("ρ₆ > 5");
        assert!(r6 > 0.0 && r6 < 0.1, "r₆ = {r6}");
        // Before that a step is SGD with momentum on m̂: a constant g = 1 gives m̂ = 1, so each
        // of the first five steps moves w by exactly α.
        let w = param(&[0.0]);
        let config = RAdamConfig {
            lr: 0.1,
            ..Default::default()
        };
        let mut opt = RAdam::new(vec![w.clone()], config).unwrap();
        for _ in 0..5 {
            set_grad(&w, &[1.0]);
            opt.step();
        }
        approx::assert_abs_diff_eq!(w.value()[[0]], -0.5, epsilon = 1e-14);
        // Step 6: m̂ = 1, v = 1 − 0.999⁶, so √(1 − β₂⁶)/√v = 1 (ε aside) and the step is α·r₆.
        set_grad(&w, &[1.0]);
        opt.step();
        approx::assert_abs_diff_eq!(w.value()[[0]], -0.5 - 0.1 * r6, epsilon = 1e-8);
    }
}
