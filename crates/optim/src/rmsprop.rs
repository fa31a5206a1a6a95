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

use ndarray::Zip;
use tapegrad_tensor::{Float, Param};

use crate::error::{check_beta, check_lr, check_non_negative};
use crate::optimizer::Slots;
use crate::{OptimError, Optimizer, OptimizerState};

/// Settings of [`RmsProp`]; `Default` gives PyTorch's: lr 1e-2, ρ 0.99, ε 1e-8, no weight
/// decay, no momentum, not centered.
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
        }
    }
}

/// The RMSProp optimizer; see the module docs.
#[derive(Debug)]
pub struct RmsProp<F: Float> {
    params: Vec<Param<F>>,
    config: RmsPropConfig,
    slots: Slots<F>,
}

impl<F: Float> RmsProp<F> {
    /// An optimizer over `params`.
    ///
    /// # Errors
    /// `InvalidSetting` for lr ≤ 0 or NaN, ρ outside [0, 1), negative ε, weight decay or
    /// momentum.
    pub fn new(params: Vec<Param<F>>, config: RmsPropConfig) -> Result<Self, OptimError> {
        const NAME: &str = "RMSProp";
        check_lr(NAME, config.lr)?;
        check_beta(NAME, "alpha", config.alpha)?;
        check_non_negative(NAME, "eps", config.eps)?;
        check_non_negative(NAME, "weight_decay", config.weight_decay)?;
        check_non_negative(NAME, "momentum", config.momentum)?;
        // Only the buffers this configuration uses: ḡ when centered, b with momentum.
        let mut buffers = vec!["square_avg"];
        if config.centered {
            buffers.push("grad_avg");
        }
        if config.momentum > 0.0 {
            buffers.push("momentum_buffer");
        }
        let slots = Slots::new(params.len(), &buffers);
        Ok(RmsProp {
            params,
            config,
            slots,
        })
    }
}

impl<F: Float> Optimizer<F> for RmsProp<F> {
    fn params(&self) -> &[Param<F>] {
        &self.params
    }

    fn step(&mut self) {
        let c = &self.config;
        let [lr, rho, eps, lambda, mu] =
            [c.lr, c.alpha, c.eps, c.weight_decay, c.momentum].map(F::from_f64);
        let (one, centered) = (F::one(), c.centered);
        for (i, p) in self.params.iter().enumerate() {
            // One element: v ← ρv + (1 − ρ)g², s = √(v − ḡ²) + ε (centered) or √v + ε, then
            // w ← w − α·g/s, or through the momentum buffer b ← μb + g/s, w ← w − α·b.
            let update = |w: &mut F, g: F, v: &mut F, g_avg: Option<&mut F>, b: Option<&mut F>| {
                let g = g + lambda * *w;
                *v = rho * *v + (one - rho) * g * g;
                let s = match g_avg {
                    Some(g_avg) => {
                        *g_avg = rho * *g_avg + (one - rho) * g;
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
            let mut buffers = self.slots.of_param(i, p.shape());
            let updated = p.update(|w, g| {
                let zip = Zip::from(w).and(g);
                match (buffers.as_mut_slice(), centered) {
                    ([v], _) => zip
                        .and(&mut **v)
                        .for_each(|w, &g, v| update(w, g, v, None, None)),
                    ([v, g_avg], true) => zip
                        .and(&mut **v)
                        .and(&mut **g_avg)
                        .for_each(|w, &g, v, g_avg| update(w, g, v, Some(g_avg), None)),
                    ([v, b], false) => zip
                        .and(&mut **v)
                        .and(&mut **b)
                        .for_each(|w, &g, v, b| update(w, g, v, None, Some(b))),
                    ([v, g_avg, b], _) => zip
                        .and(&mut **v)
                        .and(&mut **g_avg)
                        .and(&mut **b)
                        .for_each(|w, &g, v, g_avg, b| update(w, g, v, Some(g_avg), Some(b))),
                    _ => unreachable!("one to three buffers were declared"),
                }
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
        self.slots.load("RMSProp", &self.params, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{param, set_grad};

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
