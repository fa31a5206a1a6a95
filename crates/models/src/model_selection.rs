//! Choosing a learning rate by k-fold cross-validation.
//!
//! The rows are split into k folds ([`data::k_fold`](crate::data::k_fold)); for every
//! candidate learning rate a fresh model is trained k times, each time on all folds but one,
//! and scored by its loss on the fold it did not see. The candidate with the lowest mean
//! validation loss wins. A run that diverges scores +∞, so a learning rate that is too large
//! can never be chosen; one that is too small loses because the training budget ends before it
//! gets anywhere.
//!
//! [`cross_validate_lr`] is the general procedure (you supply "train on these rows with this
//! rate, return the loss on those"); [`select_linear_regression_lr`] applies it to
//! [`LinearRegression`] with any optimizer.
//!
//! ```
//! use tapegrad_models::model_selection::select_linear_regression_lr;
//! use tapegrad_optim::{stop::StopRules, Optimizer, Sgd, SgdConfig};
//! use tapegrad_tensor::{Param, Tensor};
//!
//! let x = Tensor::<f64>::randn(&[40, 2], 0.0, 1.0, 1);
//! let y = x.matmul(&Tensor::from_vec(vec![1.0, -1.0], &[2, 1])) + 0.5;
//! let sgd = |params: Vec<Param<f64>>, lr: f64| -> Box<dyn Optimizer<f64>> {
//!     Box::new(Sgd::new(params, SgdConfig { lr, ..Default::default() }).unwrap())
//! };
//! let rules = StopRules { max_iters: Some(50), loss_growth_above: Some(1e6), ..Default::default() };
//! let search = select_linear_regression_lr(&x, &y, &[0.001, 0.1, 5.0], 4, 7, sgd, rules);
//! assert_eq!(search.best().unwrap().lr, 0.1);
//! println!("{search}"); // a table: one row per learning rate, "diverged" for 5.0
//! ```

use std::fmt;

use tapegrad_optim::stop::{StopReason, StopRules};
use tapegrad_optim::Optimizer;
use tapegrad_tensor::{Float, Param, Tensor};

use crate::data::k_fold;
use crate::LinearRegression;

/// One learning rate's validation losses, one per fold (+∞ where training diverged).
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// The learning rate.
    pub lr: f64,
    /// The loss on each held-out fold.
    pub fold_losses: Vec<f64>,
}

impl Candidate {
    /// The mean validation loss over the folds (+∞ if any fold diverged).
    pub fn mean(&self) -> f64 {
        self.fold_losses.iter().sum::<f64>() / self.fold_losses.len() as f64
    }

    /// Whether training diverged on some fold.
    pub fn diverged(&self) -> bool {
        !self.mean().is_finite()
    }
}

/// The outcome of a cross-validated search: every candidate, in the order given.
#[derive(Clone, Debug, PartialEq)]
pub struct LrSearch {
    /// The candidates with their validation losses.
    pub candidates: Vec<Candidate>,
}

impl LrSearch {
    /// The candidate with the lowest mean validation loss (the first on a tie); `None` when
    /// every candidate diverged.
    pub fn best(&self) -> Option<&Candidate> {
        self.candidates
            .iter()
            .filter(|c| !c.diverged())
            .min_by(|a, b| a.mean().total_cmp(&b.mean()))
    }
}

impl fmt::Display for LrSearch {
    /// A table of learning rate, mean validation loss and the per-fold losses, the best
    /// marked with `<`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let best = self.best().map(|c| c.lr);
        writeln!(f, "{:>10}  {:>14}  per fold", "lr", "mean val loss")?;
        for c in &self.candidates {
            let mean = if c.diverged() {
                "diverged".to_string()
            } else {
                format!("{:.6e}", c.mean())
            };
            let folds: Vec<String> = c.fold_losses.iter().map(|l| format!("{l:.3e}")).collect();
            let mark = if Some(c.lr) == best { "  <" } else { "" };
            let lr = if c.lr < 1e-3 {
                format!("{:e}", c.lr)
            } else {
                c.lr.to_string()
            };
            writeln!(f, "{lr:>10}  {mean:>14}  {}{mark}", folds.join(" "))?;
        }
        Ok(())
    }
}

/// k-fold cross-validation of `learning_rates` over `n_rows` rows split with `seed`:
/// `validation_loss(lr, train_rows, validation_rows)` trains a fresh model on the training
/// rows and returns its loss on the validation rows (+∞ or NaN if training diverged).
///
/// # Panics
/// When k is not in 2..=n_rows.
#[track_caller]
pub fn cross_validate_lr(
    n_rows: usize,
    learning_rates: &[f64],
    k: usize,
    seed: u64,
    mut validation_loss: impl FnMut(f64, &[usize], &[usize]) -> f64,
) -> LrSearch {
    let folds = k_fold(n_rows, k, seed);
    let candidates = learning_rates
        .iter()
        .map(|&lr| Candidate {
            lr,
            fold_losses: folds
                .iter()
                .map(|(train, validation)| {
                    let loss = validation_loss(lr, train, validation);
                    if loss.is_nan() {
                        f64::INFINITY
                    } else {
                        loss
                    }
                })
                .collect(),
        })
        .collect();
    LrSearch { candidates }
}

/// [`cross_validate_lr`] for [`LinearRegression`] on X [n, d] and y [n, 1]: each fold trains a
/// zero-initialised model with `make_optimizer(params, lr)` until `rules` stop it, and is
/// scored by the half mean squared error on its held-out rows.
///
/// # Panics
/// When the shapes do not fit or k is not in 2..=n.
#[track_caller]
pub fn select_linear_regression_lr<F: Float>(
    x: &Tensor<F>,
    y: &Tensor<F>,
    learning_rates: &[f64],
    k: usize,
    seed: u64,
    make_optimizer: impl Fn(Vec<Param<F>>, f64) -> Box<dyn Optimizer<F>>,
    rules: StopRules,
) -> LrSearch {
    let &[n, d] = x.shape() else {
        panic!(
            "select_linear_regression_lr: X of shape {:?}; it must be [n, d]",
            x.shape()
        )
    };
    cross_validate_lr(n, learning_rates, k, seed, |lr, train, validation| {
        let model = LinearRegression::new(d);
        let mut optimizer = make_optimizer(model.params(), lr);
        let (x_train, y_train) = (x.index_select(0, train), y.index_select(0, train));
        let report = model.fit(&x_train, &y_train, optimizer.as_mut(), rules.clone());
        if matches!(report.reason, StopReason::Diverged { .. }) {
            return f64::INFINITY;
        }
        let (x_val, y_val) = (x.index_select(0, validation), y.index_select(0, validation));
        tapegrad_tensor::no_grad(|| model.loss(&x_val, &y_val).item().as_f64())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lowest_mean_wins_and_diverged_candidates_never_do() {
        let search = cross_validate_lr(6, &[0.1, 1.0, 10.0], 3, 0, |lr, train, validation| {
            assert_eq!(train.len() + validation.len(), 6);
            match lr {
                0.1 => 2.0,
                1.0 => 1.0,
                _ => f64::NAN,
            }
        });
        assert_eq!(search.best().unwrap().lr, 1.0);
        assert!(search.candidates[2].diverged());
        assert_eq!(search.candidates[2].fold_losses, [f64::INFINITY; 3]);
        let table = search.to_string();
        assert!(table.contains("diverged"), "{table}");
        assert!(table.lines().nth(2).unwrap().ends_with('<'), "{table}");

        let hopeless = cross_validate_lr(4, &[1.0], 2, 0, |_, _, _| f64::INFINITY);
        assert_eq!(hopeless.best(), None);
    }
}
