//! Linear regression, ŷ = Xw + b, fitted by any optimizer through the tape.
//!
//! The loss is half the mean squared error,
//!
//! ```text
//! L(w, b) = 1/(2n)·Σ(yᵢ − ŷᵢ)²,   ∂L/∂w = −(1/n)·Xᵀ(y − ŷ),   ∂L/∂b = −(1/n)·Σ(y − ŷ)
//! ```
//!
//! and the gradients come from `backward`, never from these formulas (the tests check that
//! they agree). [`fit`](LinearRegression::fit) runs an optimizer until a stopping rule fires
//! and says which one; a loss that turns NaN or infinite stops it as `Diverged`.
//!
//! ```
//! use tapegrad_models::LinearRegression;
//! use tapegrad_optim::{stop::StopRules, Sgd, SgdConfig};
//! use tapegrad_tensor::Tensor;
//!
//! let x = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[4, 1]);
//! let y = &x * 2.0;
//! let model = LinearRegression::new(1);
//! let mut sgd = Sgd::new(model.params(), SgdConfig { lr: 0.05, ..Default::default() }).unwrap();
//! let rules = StopRules { max_iters: Some(5000), grad_norm_below: Some(1e-9), ..Default::default() };
//! let report = model.fit(&x, &y, &mut sgd, rules);
//! assert!((model.weights()[0] - 2.0).abs() < 1e-6, "{report:?}");
//! assert!(model.score(&x, &y) > 0.999_999);
//! ```

use tapegrad_optim::stop::StopRules;
use tapegrad_optim::Optimizer;
use tapegrad_tensor::{no_grad, Float, Param, Tensor};

use crate::module::{Linear, Module};
use crate::train::{fit_loop, FitReport};

/// ŷ = Xw + b, stored as a `Linear` layer with one output: its weight is the row wᵀ of shape
/// `[1, d]` (PyTorch's `[out, in]`) and b has shape `[1]`.
#[derive(Clone, Debug)]
pub struct LinearRegression<F: Float = f64> {
    layer: Linear<F>,
}

impl<F: Float> LinearRegression<F> {
    /// A model for `n_features` inputs, starting from w = 0, b = 0.
    pub fn new(n_features: usize) -> Self {
        LinearRegression {
            layer: Linear::zeros(n_features, 1),
        }
    }

    /// The parameters, `[w, b]`, for an optimizer.
    pub fn params(&self) -> Vec<Param<F>> {
        self.layer.parameters()
    }

    /// ŷ = Xw + b for X of shape [n, d] (recorded, so it can be differentiated).
    ///
    /// # Panics
    /// When X's second dimension is not the model's number of features.
    #[track_caller]
    pub fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        self.layer.forward(x)
    }

    /// L = 1/(2n)·Σ(y − ŷ)² for y of shape [n, 1].
    ///
    /// # Panics
    /// When the shapes do not fit the model.
    #[track_caller]
    pub fn loss(&self, x: &Tensor<F>, y: &Tensor<F>) -> Tensor<F> {
        let residual = y - &self.forward(x);
        (&residual * &residual).mean().mul_scalar(F::from_f64(0.5))
    }

    /// Full-batch training: each iteration records the loss, runs `backward`, and lets
    /// `optimizer` step, until one of `rules` fires.
    ///
    /// # Panics
    /// When the shapes do not fit the model.
    #[track_caller]
    pub fn fit(
        &self,
        x: &Tensor<F>,
        y: &Tensor<F>,
        optimizer: &mut dyn Optimizer<F>,
        rules: StopRules,
    ) -> FitReport {
        fit_loop(|| self.loss(x, y), optimizer, rules)
    }

    /// Predictions ŷ for X, without recording anything.
    #[track_caller]
    pub fn predict(&self, x: &Tensor<F>) -> Tensor<F> {
        no_grad(|| self.forward(x))
    }

    /// The coefficient of determination R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)² (1 is a perfect fit,
    /// 0 is no better than predicting the mean; NaN when y does not vary), as
    /// [`metrics::r2_score`](crate::metrics::r2_score) computes it.
    #[track_caller]
    pub fn score(&self, x: &Tensor<F>, y: &Tensor<F>) -> f64 {
        let as_f64 = |t: &Tensor<F>| t.to_vec().into_iter().map(F::as_f64).collect::<Vec<_>>();
        crate::metrics::r2_score(&as_f64(y), &as_f64(&self.predict(x)))
    }

    /// The weights w₁, …, w_d.
    pub fn weights(&self) -> Vec<F> {
        self.layer.weight().value().iter().copied().collect()
    }

    /// The bias b.
    pub fn bias(&self) -> F {
        self.layer.bias().value()[[0]]
    }

    /// The number of input features d.
    pub fn n_features(&self) -> usize {
        self.layer.in_features()
    }
}

/// As a module the model is its [`forward`](LinearRegression::forward), with parameters named
/// `weight` (`[1, d]`) and `bias` (`[1]`), so it can be saved and loaded like any layer.
impl<F: Float> Module<F> for LinearRegression<F> {
    fn forward(&self, x: &Tensor<F>) -> Tensor<F> {
        LinearRegression::forward(self, x)
    }

    fn named_parameters(&self) -> Vec<(String, Param<F>)> {
        self.layer.named_parameters()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::least_squares::fit_with_bias;
    use tapegrad_optim::stop::StopReason;
    use tapegrad_optim::{Sgd, SgdConfig};

    fn data() -> (Tensor<f64>, Tensor<f64>) {
        let x = Tensor::<f64>::randn(&[60, 3], 0.0, 1.0, 11);
        let y = x.matmul(&Tensor::from_vec(vec![0.5, -1.0, 2.0], &[3, 1]))
            + 1.5
            + Tensor::randn(&[60, 1], 0.0, 0.3, 12);
        (x, y)
    }

    #[test]
    fn tape_gradient_is_the_analytic_one() {
        // At w = 0, b = 0: ∂L/∂w = −(1/n)·Xᵀy and ∂L/∂b = −(1/n)·Σy.
        let (x, y) = data();
        let model = LinearRegression::new(3);
        model.loss(&x, &y).backward();
        let n = 60.0;
        let expected_w = (x.t().matmul(&y) * (-1.0 / n)).to_vec();
        let expected_b = -y.sum().item() / n;
        let got_w = model.params()[0].grad().unwrap();
        for (g, e) in got_w.iter().zip(&expected_w) {
            assert!((g - e).abs() < 1e-12);
        }
        assert!((model.params()[1].grad().unwrap()[[0]] - expected_b).abs() < 1e-12);
    }

    #[test]
    fn a_too_large_step_is_reported_as_divergence() {
        let (x, y) = data();
        let model = LinearRegression::new(3);
        let mut sgd = Sgd::new(
            model.params(),
            SgdConfig {
                lr: 10.0,
                ..Default::default()
            },
        )
        .unwrap();
        let report = model.fit(
            &x,
            &y,
            &mut sgd,
            StopRules {
                max_iters: Some(10_000),
                ..Default::default()
            },
        );
        assert!(
            matches!(report.reason, StopReason::Diverged { .. }),
            "{report:?}"
        );
    }

    #[test]
    fn score_of_anscombes_first_quartet() {
        // Anscombe (1973): the least-squares line of quartet I has R² = 0.6665.
        let x = Tensor::<f64>::from_vec(
            vec![10.0, 8.0, 13.0, 9.0, 11.0, 14.0, 6.0, 4.0, 12.0, 7.0, 5.0],
            &[11, 1],
        );
        let y = Tensor::<f64>::from_vec(
            vec![
                8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68,
            ],
            &[11, 1],
        );
        let model = LinearRegression::new(1);
        let exact = fit_with_bias(&x, &y).unwrap();
        model.params()[0]
            .set_value(ndarray::arr2(&[[exact[0]]]).into_dyn())
            .unwrap();
        model.params()[1]
            .set_value(ndarray::arr1(&[exact[1]]).into_dyn())
            .unwrap();
        assert!((model.score(&x, &y) - 0.6665).abs() < 1e-4);
        assert_eq!(model.predict(&x).shape(), &[11, 1]);
    }
}
