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

use ndarray::{ArrayD, Zip};
use tapegrad_tensor::Float;

use crate::error::{check_lr, check_non_negative};
use crate::rule::{Buffer, UpdateRule, WeightDecay};
use crate::{FirstOrder, OptimError};

/// Settings of [`Adagrad`]; `Default` gives PyTorch's: lr 1e-2, no decay, ε 1e-10,
/// accumulator starting at 0, minimizing.
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
    /// Ascend the objective: the gradient is negated first (PyTorch's `maximize`).
    pub maximize: bool,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

/// The Adagrad optimizer; see the module docs.
pub type Adagrad<F = f32> = FirstOrder<F, AdagradConfig>;

impl UpdateRule for AdagradConfig {
    const NAME: &'static str = "Adagrad";

    /// `InvalidSetting` for lr ≤ 0 or NaN, or any other setting negative.
    fn check(&self) -> Result<(), OptimError> {
        const NAME: &str = "Adagrad";
        check_lr(NAME, self.lr)?;
        check_non_negative(NAME, "lr_decay", self.lr_decay)?;
        check_non_negative(NAME, "weight_decay", self.weight_decay)?;
        let s0 = self.initial_accumulator_value;
        check_non_negative(NAME, "initial_accumulator_value", s0)?;
        check_non_negative(NAME, "eps", self.eps)
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

    /// The sum s, starting at `initial_accumulator_value`.
    fn buffers(&self) -> Vec<Buffer> {
        vec![Buffer {
            init: self.initial_accumulator_value,
            ..Buffer::like_param("sum")
        }]
    }

    fn update<F: Float>(&self, t: u64, w: &mut ArrayD<F>, g: &ArrayD<F>, state: &mut [ArrayD<F>]) {
        let lr = F::from_f64(self.lr / (1.0 + (t - 1) as f64 * self.lr_decay));
        let eps = F::from_f64(self.eps);
        Zip::from(w).and(g).and(&mut state[0]).for_each(|w, &g, s| {
            *s += g * g;
            *w -= lr * g / (s.sqrt() + eps);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{param, set_grad};
    use crate::Optimizer;

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
