//! Logistic regression: a linear model of class scores, trained on the cross-entropy.
//!
//! Two classes use one logit z = xw + b with P(class 1) = σ(z) and the binary cross-entropy
//! from logits; k > 2 classes use k logits z = x·Wᵀ + b (W of shape `[k, d]`, PyTorch's layout) with P = softmax(z) and the
//! cross-entropy. In both cases ∂L/∂z = (P − onehot(label))/n, derived by the tape.
//!
//! ```
//! use tapegrad_models::LogisticRegression;
//! use tapegrad_optim::{stop::StopRules, Adam, AdamConfig};
//! use tapegrad_tensor::Tensor;
//!
//! let x = Tensor::<f64>::from_vec(vec![-2.0, -1.0, 1.0, 2.0], &[4, 1]);
//! let labels = [0, 0, 1, 1];
//! let model = LogisticRegression::new(1, 2);
//! let mut adam = Adam::new(model.params(), AdamConfig { lr: 0.1, ..Default::default() }).unwrap();
//! model.fit(&x, &labels, &mut adam, StopRules { max_iters: Some(200), ..Default::default() });
//! assert_eq!(model.predict(&x), labels);
//! ```

use tapegrad_optim::stop::StopRules;
use tapegrad_optim::Optimizer;
use tapegrad_tensor::{no_grad, Float, Param, Tensor};

use crate::loss::{binary_cross_entropy_with_logits, cross_entropy};
use crate::module::{Linear, Module};
use crate::train::{fit_loop, FitReport};

/// A linear classifier over `classes` classes (one logit for two, `classes` logits beyond).
#[derive(Clone, Debug)]
pub struct LogisticRegression<F: Float = f64> {
    layer: Linear<F>,
    classes: usize,
}

impl<F: Float> LogisticRegression<F> {
    /// A classifier of `n_features` inputs into `classes` ≥ 2 classes, starting at zero.
    ///
    /// # Panics
    /// When `classes` < 2.
    #[track_caller]
    pub fn new(n_features: usize, classes: usize) -> Self {
        assert!(
            classes >= 2,
            "LogisticRegression: {classes} classes; it needs at least 2"
        );
        let logits = if classes == 2 { 1 } else { classes };
        LogisticRegression {
            layer: Linear::zeros(n_features, logits),
            classes,
        }
    }

    /// The parameters, `[w, b]`, for an optimizer.
    pub fn params(&self) -> Vec<Param<F>> {
        self.layer.parameters()
    }

    /// The logits z = x·Wᵀ + b: `[n, 1]` for two classes, `[n, classes]` beyond.
    #[track_caller]
    pub fn logits(&self, x: &Tensor<F>) -> Tensor<F> {
        self.layer.forward(x)
    }

    /// The mean cross-entropy of the labels (each in 0..classes).
    ///
    /// # Panics
    /// When a label is out of range or the shapes do not fit.
    #[track_caller]
    pub fn loss(&self, x: &Tensor<F>, labels: &[usize]) -> Tensor<F> {
        let z = self.logits(x);
        if self.classes == 2 {
            assert!(
                labels.iter().all(|&l| l < 2),
                "LogisticRegression: binary labels must be 0 or 1"
            );
            let targets: Vec<F> = labels.iter().map(|&l| F::from_f64(l as f64)).collect();
            binary_cross_entropy_with_logits(&z, &Tensor::from_vec(targets, &[labels.len(), 1]))
        } else {
            cross_entropy(&z, labels)
        }
    }

    /// Full-batch training with `optimizer` until one of `rules` fires.
    #[track_caller]
    pub fn fit(
        &self,
        x: &Tensor<F>,
        labels: &[usize],
        optimizer: &mut dyn Optimizer<F>,
        rules: StopRules,
    ) -> FitReport {
        fit_loop(|| self.loss(x, labels), optimizer, rules)
    }

    /// Class probabilities, [n, classes] (rows sum to 1), without recording anything.
    #[track_caller]
    pub fn predict_proba(&self, x: &Tensor<F>) -> Tensor<F> {
        no_grad(|| {
            let z = self.logits(x);
            if self.classes == 2 {
                let p1 = z.sigmoid();
                Tensor::concat(&[&p1.neg().add_scalar(F::one()), &p1], 1)
            } else {
                z.softmax(1)
            }
        })
    }

    /// The most probable class of each row.
    #[track_caller]
    pub fn predict(&self, x: &Tensor<F>) -> Vec<usize> {
        self.predict_proba(x).argmax(1).into_iter().collect()
    }

    /// The fraction of rows whose predicted class is the label.
    #[track_caller]
    pub fn accuracy(&self, x: &Tensor<F>, labels: &[usize]) -> f64 {
        crate::metrics::accuracy(labels, &self.predict(x))
    }

    /// The number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// The number of input features.
    pub fn n_features(&self) -> usize {
        self.layer.in_features()
    }
}

/// As a module the model is its [`logits`](LogisticRegression::logits), with parameters named
/// `weight` and `bias`, so it can be saved and loaded like any layer.
impl<F: Float> Module<F> for LogisticRegression<F> {
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        self.logits(x)
    }

    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        self.layer.named_parameters()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_gradient_is_sigma_minus_label() {
        // At w = b = 0, σ = ½ everywhere: ∂L/∂b = mean(½ − y) = ½ − ¾ for labels [1, 1, 1, 0].
        let model = LogisticRegression::<f64>::new(1, 2);
        let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4, 1]);
        model.loss(&x, &[1, 1, 1, 0]).backward();
        assert_eq!(model.params()[1].grad().unwrap()[[0]], -0.25);
    }
}
