//! RMSProp (Hinton, Coursera lecture 6e, 2012) — PyTorch's `torch.optim.RMSprop`, with
//! optional momentum and the centered variant (Graves, 2013).
//!
//! For each parameter w with gradient g:
//!
//! ```text
//! g ← g + λ·w
//! v ← ρ·v + (1 − ρ)·g²                     (ρ is PyTorch's `alpha`)
//! centered:  ḡ ← ρ·ḡ + (1 − ρ)·g,  s = √(v − ḡ²) + ε     else  s = √v + ε
//! momentum μ > 0:  b ← μ·b + g/s,  w ← w − α·b           else  w ← w − α·g/s
//! ```

use ndarray::{ArrayD, Zip};
use tapegrad_tensor::Float;

use crate::error::{check_beta, check_lr, check_non_negative};
use crate::rule::{Buffer, UpdateRule, WeightDecay};
use crate::{FirstOrder, OptimError};

/// Settings of [`RmsProp`]; `Default` gives PyTorch's: lr 1e-2, ρ 0.99, ε 1e-8, no weight
/// decay, no momentum, not centered, minimizing.
#[derive(Clone, Debug, PartialEq)]
pub struct RmsPropConfig {
    /// Learning rate α.
    pub lr: f64,
    /// Decay ρ of the squared-gradient average (PyTorch's `alpha`).
    pub alpha: f64,
    /// ε, added to the denominator.
    pub eps: f64,
    /// Weight decay λ (through the gradient).
    pub weight_decay: f64,
    /// Momentum μ.
    pub momentum: f64,
    /// Normalise by the variance estimate v − ḡ² instead of v.
    pub centered: bool,
    /// Ascend the objective: the gradient is negated first (PyTorch's `maximize`).
    pub maximize: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

/// The RMSProp optimizer; see the module docs.
pub type RmsProp<F = f32> = FirstOrder<F, RmsPropConfig>;

impl UpdateRule for RmsPropConfig {
    const NAME: &'static str = "RMSProp";

    /// `InvalidSetting` for lr ≤ 0 or NaN, ρ outside [0, 1), negative ε, weight decay or
    /// momentum.
    fn check(&self) -> Result<(), OptimError> {
        const NAME: &str = "RMSProp";
        check_lr(NAME, self.lr)?;
        check_beta(NAME, "alpha", self.alpha)?;
        check_non_negative(NAME, "eps", self.eps)?;
        check_non_negative(NAME, "weight_decay", self.weight_decay)?;
        check_non_negative(NAME, "momentum", self.momentum)
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

    /// Only the buffers this configuration uses: v, ḡ when centered, b with momentum.
    fn buffers(&self) -> Vec<Buffer> {
        let mut buffers = vec![Buffer::like_param("square_avg")];
        if self.centered {
            buffers.push(Buffer::like_param("grad_avg"));
        }
        if self.momentum > 0.0 {
            buffers.push(Buffer::like_param("momentum_buffer"));
        }
        buffers
    }

    fn update<F: Float>(&self, _t: u64, w: &mut ArrayD<F>, g: &ArrayD<F>, state: &mut [ArrayD<F>]) {
        let [lr, rho, eps, mu] = [self.lr, self.alpha, self.eps, self.momentum].map(F::from_f64);
        let one = F::one();
        // One element: v ← ρv + (1 − ρ)g², s = √(v − ḡ²) + ε (centered) or √v + ε, then
        // w ← w − α·g/s, or through the momentum buffer b ← μb + g/s, w ← w − α·b.
        let update = |w: &mut F, g: F, v: &mut F, g_avg: Option<&mut F>, b: Option<&mut F>| {
            *v = rho * *v + (one - rho) * g * g;
            let s = match g_avg {
                Some(g_avg) => {
                    *g_avg += (one - rho) * (g - *g_avg);
                    (*v - *g_avg * *g_avg).sqrt() + eps
                }
                None => v.sqrt() + eps,
            };
            match b {
                Some(b) => {
                    *b = mu * *b + g / s;
                    *w -= lr * *b;
                }
                None => *w -= lr * g / s,
            }
        };
        let zip = Zip::from(w).and(g);
        match (state, self.centered) {
            ([v], _) => zip.and(v).for_each(|w, &g, v| update(w, g, v, None, None)),
            ([v, g_avg], true) => zip
                .and(v)
                .and(g_avg)
                .for_each(|w, &g, v, g_avg| update(w, g, v, Some(g_avg), None)),
            ([v, b], false) => zip
                .and(v)
                .and(b)
                .for_each(|w, &g, v, b| update(w, g, v, None, Some(b))),
            ([v, g_avg, b], _) => zip
                .and(v)
                .and(g_avg)
                .and(b)
                .for_each(|w, &g, v, g_avg, b| update(w, g, v, Some(g_avg), Some(b))),
            _ => unreachable!("one to three buffers were declared"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{param, set_grad};
    use crate::Optimizer;

    #[test]
    fn one_step_by_hand() {
        // g = 2, ρ = 0.9, α = 0.01, ε = 0: v = 0.1·4 = 0.4, step = 0.01·2/√0.4 = 0.0316228.
        // Centered: ḡ = 0.2, s = √(0.4 − 0.04) = 0.6, step = 0.01·2/0.6 = 0.0333333.
        for (centered, step) in [(false, 0.02 / 0.4f64.sqrt()), (true, 0.02 / 0.6)] {
            let w = param(&[1.0]);
            set_grad(&w, &[2.0]);
            let config = RmsPropConfig {
                lr: 0.01,
                alpha: 0.9,
                eps: 0.0,
                centered,
                ..Default::default()
            };
            let mut rmsprop = RmsProp::new(vec![w.clone()], config).unwrap();
            rmsprop.step();
            approx::assert_abs_diff_eq!(w.value()[[0]], 1.0 - step, epsilon = 1e-15);
            // Only the buffers in use are kept: v, and ḡ when centered.
            let buffers = rmsprop.state().buffers.into_keys().collect::<Vec<_>>();
            let expected: &[&str] = if centered {
                &["grad_avg", "square_avg"]
            } else {
                &["square_avg"]
            };
            assert_eq!(buffers, expected);
        }
        let err = RmsProp::<f64>::new(
            vec![],
            RmsPropConfig {
                alpha: 1.5,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "RMSProp: alpha = 1.5: must be in [0, 1)");
    }

    #[test]
    fn two_momentum_steps_by_hand() {
        // Constant g = 2, ρ = 0.9, α = 0.01, μ = 0.5, ε = 0: v₁ = 0.4, v₂ = 0.76, and
        // b₁ = g/s₁, b₂ = μ·b₁ + g/s₂ with s = √v, or s = √(v − ḡ²) when centered
        // (ḡ₁ = 0.2, ḡ₂ = 0.38).
        let plain = [0.4f64.sqrt(), 0.76f64.sqrt()];
        let centered = [0.36f64.sqrt(), (0.76f64 - 0.38 * 0.38).sqrt()];
        for (is_centered, [s1, s2]) in [(false, plain), (true, centered)] {
            let w = param(&[1.0]);
            let config = RmsPropConfig {
                lr: 0.01,
                alpha: 0.9,
                eps: 0.0,
                momentum: 0.5,
                centered: is_centered,
                ..Default::default()
            };
            let mut rmsprop = RmsProp::new(vec![w.clone()], config).unwrap();
            for _ in 0..2 {
                set_grad(&w, &[2.0]);
                rmsprop.step();
            }
            let (b1, b2) = (2.0 / s1, 0.5 * 2.0 / s1 + 2.0 / s2);
            approx::assert_abs_diff_eq!(w.value()[[0]], 1.0 - 0.01 * (b1 + b2), epsilon = 1e-14);
        }
    }
}
