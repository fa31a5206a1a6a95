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
        let slots = Slots::new(params.len(), &["square_avg", "grad_avg", "momentum_buffer"]);
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
            let mut buffers = self.slots.of_param(i, p.shape());
            let [v, g_avg, b] = buffers.as_mut_slice() else {
                unreachable!("three buffers were declared")
            };
            let updated = p.update(|w, g| {
                Zip::from(w)
                    .and(g)
                    .and(&mut **v)
                    .and(&mut **g_avg)
                    .and(&mut **b)
                    .for_each(|w, &g, v, g_avg, b| {
                        let g = g + lambda * *w;
                        *v = rho * *v + (one - rho) * g * g;
                        let s = if centered {
                            *g_avg = rho * *g_avg + (one - rho) * g;
                            (*v - *g_avg * *g_avg).sqrt() + eps
                        } else {
                            v.sqrt() + eps
                        };
                        if mu > F::zero() {
                            *b = mu * *b + g / s;
                            *w -= lr * *b;
                        } else {
                            *w -= lr * g / s;
                        }
                    })
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
            RmsProp::new(vec![w.clone()], config).unwrap().step();
            approx::assert_abs_diff_eq!(w.value()[[0]], 1.0 - step, epsilon = 1e-15);
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
}
