//! Adagrad (Duchi, Hazan & Singer, 2011, "Adaptive Subgradient Methods for Online Learning
//! and Stochastic Optimization") — PyTorch's `torch.optim.Adagrad`.
//!
//! For each parameter w with gradient g, step t:
//!
//! ```text
//! g ← g + λ·w
//! s ← s + g²                            (the sum of every squared gradient so far)
//! w ← w − α/(1 + (t − 1)·η) · g/(√s + ε)  (η: learning-rate decay)
//! ```

use ndarray::Zip;
use tapegrad_tensor::{Float, Param};

use crate::error::{check_lr, check_non_negative};
use crate::optimizer::Slots;
use crate::{OptimError, Optimizer, OptimizerState};

/// Settings of [`Adagrad`]; `Default` gives PyTorch's: lr 1e-2, no decay, ε 1e-10,
/// accumulator starting at 0.
#[derive(Clone, Debug, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate α.
    pub lr: f64,
    /// Learning-rate decay η.
    pub lr_decay: f64,
    /// Weight decay λ (through the gradient).
    pub weight_decay: f64,
    /// The starting value of the squared-gradient sum s.
    pub initial_accumulator_value: f64,
    /// ε, added to the denominator.
    pub eps: f64,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        }
    }
}

/// The Adagrad optimizer; see the module docs.
#[derive(Debug)]
pub struct Adagrad<F: Float> {
    params: Vec<Param<F>>,
    config: AdagradConfig,
    slots: Slots<F>,
}

impl<F: Float> Adagrad<F> {
    /// An optimizer over `params`.
    ///
    /// # Errors
    /// `InvalidSetting` for lr ≤ 0 or NaN, or any other setting negative.
    pub fn new(params: Vec<Param<F>>, config: AdagradConfig) -> Result<Self, OptimError> {
        const NAME: &str = "Adagrad";
        check_lr(NAME, config.lr)?;
        check_non_negative(NAME, "lr_decay", config.lr_decay)?;
        check_non_negative(NAME, "weight_decay", config.weight_decay)?;
        check_non_negative(
            NAME,
            "initial_accumulator_value",
            config.initial_accumulator_value,
        )?;
        check_non_negative(NAME, "eps", config.eps)?;
        let slots = Slots::new(params.len(), &["sum"]);
        Ok(Adagrad {
            params,
            config,
            slots,
        })
    }
}

impl<F: Float> Optimizer<F> for Adagrad<F> {
    fn params(&self) -> &[Param<F>] {
        &self.params
    }

    fn step(&mut self) {
        let c = &self.config;
        let [lambda, eps, s0] =
            [c.weight_decay, c.eps, c.initial_accumulator_value].map(F::from_f64);
        for (i, p) in self.params.iter().enumerate() {
            let t = self.slots.steps[i] as f64 + 1.0;
            let lr = F::from_f64(c.lr / (1.0 + (t - 1.0) * c.lr_decay));
            let first = self.slots.is_fresh(i);
            let mut buffers = self.slots.of_param(i, p.shape());
            let s = &mut *buffers[0];
            let updated = p.update(|w, g| {
                Zip::from(w).and(g).and(s).for_each(|w, &g, s| {
                    let g = g + lambda * *w;
                    *s = if first { s0 } else { *s } + g * g;
                    *w -= lr * g / (s.sqrt() + eps);
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
        self.slots.load("Adagrad", &self.params, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{param, set_grad};

    #[test]
    fn two_steps_by_hand() {
        // g = 3 then 4, α = 1, ε = 0: s₁ = 9, step 3/3 = 1; s₂ = 25, step 4/5 = 0.8.
        let w = param(&[0.0]);
        let config = AdagradConfig {
            lr: 1.0,
            eps: 0.0,
            ..Default::default()
        };
        let mut opt = Adagrad::new(vec![w.clone()], config).unwrap();
        set_grad(&w, &[3.0]);
        opt.step();
        set_grad(&w, &[4.0]);
        opt.step();
        approx::assert_abs_diff_eq!(w.value()[[0]], -1.8, epsilon = 1e-15);
    }
}
