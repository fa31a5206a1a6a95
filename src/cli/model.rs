//! The three models the command line trains, behind one type: what they output, the loss
//! they minimise, and how their predictions are scored.
//!
//! | model | task | outputs | loss |
//! |---|---|---|---|
//! | `linear` | regression | ŷ = Xw + b | mean squared error |
//! | `logistic` | classification | logits z = XW + b | cross-entropy |
//! | `mlp` | either | Linear → ReLU → … → Linear | as the task |
//!
//! Two classes use one logit (P(second class) = σ(z)) and the binary cross-entropy; k > 2
//! classes use k logits and the softmax cross-entropy, as `LogisticRegression` does.

use clap::ValueEnum;
use tapegrad::models::loss::{binary_cross_entropy_with_logits, cross_entropy, huber, mae, mse};
use tapegrad::models::metrics;
use tapegrad::models::module::{Activation, Linear, Module, Sequential};
use tapegrad::models::{LinearRegression, LogisticRegression};
use tapegrad::{no_grad, Param, Tensor};

use super::dataset::{Targets, Task};

/// Which model to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelKind {
    /// Linear regression, ŷ = Xw + b.
    Linear,
    /// Logistic regression (softmax beyond two classes).
    Logistic,
    /// A multi-layer perceptron with ReLU between the layers given by --hidden.
    Mlp,
}

impl ModelKind {
    /// The name used on the command line and in saved files.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Linear => "linear",
            ModelKind::Logistic => "logistic",
            ModelKind::Mlp => "mlp",
        }
    }
}

/// The regression losses (`--loss`); classification always uses the cross-entropy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LossKind {
    /// Mean squared error, (1/n)·Σ(ŷ − y)².
    Mse,
    /// Mean absolute error, (1/n)·Σ|ŷ − y|: less pulled by outliers.
    Mae,
    /// Huber with δ = 1: squared near the target, absolute far from it.
    Huber,
}

impl LossKind {
    /// The name used on the command line and in saved files.
    pub fn name(self) -> &'static str {
        match self {
            LossKind::Mse => "mse",
            LossKind::Mae => "mae",
            LossKind::Huber => "huber",
        }
    }
}

/// A model with everything needed to train it and to read its outputs.
pub struct Model {
    /// Which model.
    pub kind: ModelKind,
    /// Regression or classification.
    pub task: Task,
    /// The hidden layers' widths (MLP only).
    pub hidden: Vec<usize>,
    /// The class names (classification only), in output order.
    pub classes: Vec<String>,
    /// The regression loss it is trained with (unused in classification).
    pub loss: LossKind,
    module: Box<dyn Module<f64>>,
}

/// What a model predicts for each row.
pub enum Predictions {
    /// Regression: one number per row.
    Values(Vec<f64>),
    /// Classification: per row, the probability of each class.
    Probabilities(Vec<Vec<f64>>),
}

impl Model {
    /// A fresh model of `kind` for `n_features` inputs; `classes` is empty for regression.
    /// Weights are zero for the linear models and seeded Xavier-uniform for the MLP.
    pub fn new(
        kind: ModelKind,
        task: Task,
        n_features: usize,
        hidden: Vec<usize>,
        classes: Vec<String>,
        seed: u64,
    ) -> Model {
        let outputs = if classes.len() > 2 { classes.len() } else { 1 };
        let module: Box<dyn Module<f64>> = match kind {
            ModelKind::Linear => Box::new(LinearRegression::new(n_features)),
            ModelKind::Logistic => Box::new(LogisticRegression::new(n_features, classes.len())),
            ModelKind::Mlp => Box::new(mlp(n_features, &hidden, outputs, seed)),
        };
        Model {
            kind,
            task,
            hidden,
            classes,
            loss: LossKind::Mse,
            module,
        }
    }

    /// The network itself, for saving and loading.
    pub fn module(&self) -> &dyn Module<f64> {
        self.module.as_ref()
    }

    /// The parameters, for an optimizer.
    pub fn parameters(&self) -> Vec<Param<f64>> {
        self.module.parameters()
    }

    /// Sets every entry of the output layer's bias (the last parameter of every model here)
    /// to `value`.
    pub fn set_output_bias(&self, value: f64) {
        if let Some(bias) = self.module.parameters().last() {
            let filled = tapegrad::Tensor::full(bias.shape(), value).to_array();
            bias.set_value(filled).expect("the same shape");
        }
    }

    /// The module, to train it.
    pub fn module_mut(&mut self) -> &mut dyn Module<f64> {
        self.module.as_mut()
    }

    /// The training loss of outputs against targets: the regression loss for values;
    /// for classes, the binary cross-entropy on one logit for two classes, else the softmax
    /// cross-entropy.
    pub fn loss_fn(&self) -> impl Fn(&Tensor<f64>, &Targets) -> Tensor<f64> + 'static {
        let (loss, binary) = (self.loss, self.classes.len() == 2);
        move |output, targets| match targets {
            Targets::Values(y) => match loss {
                LossKind::Mse => mse(output, y),
                LossKind::Mae => mae(output, y),
                LossKind::Huber => huber(output, y, 1.0),
            },
            Targets::Classes(labels) if binary => {
                // The binary target is 1 for the second class, 0 for the first.
                let is_second: Vec<f64> = labels.iter().map(|&l| l as f64).collect();
                binary_cross_entropy_with_logits(
                    output,
                    &Tensor::from_vec(is_second, &[labels.len(), 1]),
                )
            }
            Targets::Classes(labels) => cross_entropy(output, labels),
        }
    }

    /// Predictions for `x`, without recording anything.
    pub fn predict(&self, x: &Tensor<f64>) -> Predictions {
        let output = no_grad(|| self.module.forward(x));
        match self.task {
            Task::Regression => Predictions::Values(output.to_vec()),
            Task::Classification => {
                let probabilities = no_grad(|| {
                    if self.classes.len() == 2 {
                        let p = output.sigmoid();
                        Tensor::concat(&[&p.neg().add_scalar(1.0), &p], 1)
                    } else {
                        output.softmax(1)
                    }
                });
                let k = probabilities.shape()[1];
                Predictions::Probabilities(
                    probabilities
                        .to_vec()
                        .chunks(k)
                        .map(<[f64]>::to_vec)
                        .collect(),
                )
            }
        }
    }

    /// How well the model predicts `targets` from `x`.
    pub fn score(&self, x: &Tensor<f64>, targets: &Targets) -> Score {
        match (self.predict(x), targets) {
            (Predictions::Values(y_hat), Targets::Values(y)) => {
                let y = y.to_vec();
                Score::Regression {
                    mse: metrics::mean_squared_error(&y, &y_hat),
                    r2: metrics::r2_score(&y, &y_hat),
                }
            }
            (Predictions::Probabilities(p), Targets::Classes(labels)) => {
                let predicted: Vec<usize> = p.iter().map(|row| most_probable(row)).collect();
                Score::Classification {
                    accuracy: metrics::accuracy(labels, &predicted),
                }
            }
            _ => unreachable!("a model's task and its targets agree"),
        }
    }
}

/// How well a model fits some rows.
#[derive(Clone, Copy, Debug)]
pub enum Score {
    /// Mean squared error and R² = 1 − Σ(y − ŷ)²/Σ(y − ȳ)² (NaN when y does not vary).
    Regression {
        /// Mean squared error.
        mse: f64,
        /// The coefficient of determination.
        r2: f64,
    },
    /// The fraction of rows whose most probable class is the label.
    Classification {
        /// Between 0 and 1.
        accuracy: f64,
    },
}

impl std::fmt::Display for Score {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Score::Regression { mse, r2 } if r2.is_nan() => write!(
                f,
                "MSE {}, R² undefined (the targets do not vary)",
                readable(*mse)
            ),
            Score::Regression { mse, r2 } => write!(f, "MSE {}, R² {r2:.4}", readable(*mse)),
            Score::Classification { accuracy } => write!(f, "accuracy {:.2}%", 100.0 * accuracy),
        }
    }
}

/// Six decimals, or three significant digits with an exponent for values below 0.001.
fn readable(v: f64) -> String {
    if v.abs() >= 1e-3 || v == 0.0 {
        format!("{v:.6}")
    } else {
        format!("{v:.3e}")
    }
}

/// The index of the largest probability (the first on ties).
pub fn most_probable(row: &[f64]) -> usize {
    row.iter()
        .enumerate()
        .fold(0, |best, (i, p)| if *p > row[best] { i } else { best })
}

/// Linear → ReLU → … → Linear through the `hidden` widths, each layer seeded differently.
fn mlp(inputs: usize, hidden: &[usize], outputs: usize, seed: u64) -> Sequential<f64> {
    let widths: Vec<usize> = [inputs]
        .into_iter()
        .chain(hidden.iter().copied())
        .chain([outputs])
        .collect();
    let mut layers: Vec<Box<dyn Module<f64>>> = Vec::new();
    for (i, pair) in widths.windows(2).enumerate() {
        if i > 0 {
            layers.push(Box::new(Activation::Relu));
        }
        layers.push(Box::new(Linear::new(
            pair[0],
            pair[1],
            seed.wrapping_add(i as u64),
        )));
    }
    Sequential::new(layers)
}
