//! A training problem as `fit` and `compare` set it up: the data read and checked, the rows
//! split into training and test, and the features standardised if asked.

use tapegrad::models::data::{stratified_train_test_split, train_test_split};
use tapegrad::models::preprocess::Standardizer;
use tapegrad::Tensor;

use super::dataset::{looks_like_labels, Dataset, Target, Targets, Task, MAX_INFERRED_CLASSES};
use super::error::CliError;
use super::model::{LossKind, Model, ModelKind};
use super::table::Table;
use super::ProblemArgs;

/// The hidden widths of an MLP when --hidden is not given.
const DEFAULT_HIDDEN: [usize; 2] = [32, 32];

/// Everything a training run needs, ready to use.
pub struct Problem {
    /// The data as read.
    pub data: Dataset,
    /// The model to build.
    pub kind: ModelKind,
    /// Regression or classification.
    pub task: Task,
    /// Why the task was chosen, when it was inferred from the data.
    pub task_reason: Option<String>,
    /// The regression loss.
    pub loss: LossKind,
    /// Hidden widths (MLP only; empty otherwise).
    pub hidden: Vec<usize>,
    /// Seeds the model's initial weights.
    pub seed: u64,
    /// The feature scaling, learned on the training rows.
    pub standardizer: Option<Standardizer>,
    /// X of the training rows, as the model sees it.
    pub x_train: Tensor<f64>,
    /// Their targets.
    pub y_train: Targets,
    /// X and targets of the validation rows (`--val-split`), held out of the training rows
    /// before the standardiser learns its scale; `None` without a validation split.
    pub val: Option<(Tensor<f64>, Targets)>,
    /// X of the test rows, as the model sees it (no rows when there is no test split).
    pub x_test: Tensor<f64>,
    /// Their targets.
    pub y_test: Targets,
}

impl Problem {
    /// Reads and prepares the problem `args` describe, holding out `val_split` of the
    /// training rows for validation.
    ///
    /// # Errors
    /// Any input error: the file, a column, a cell, too few rows, options that conflict.
    pub fn prepare(args: &ProblemArgs, val_split: f64) -> Result<Problem, CliError> {
        let split = args.test_split;
        for (flag, fraction) in [("--test-split", split), ("--val-split", val_split)] {
            if !(0.0..1.0).contains(&fraction) {
                return Err(CliError::Usage(format!(
                    "{flag} {fraction}: it must be in [0, 1)"
                )));
            }
        }
        let hidden = hidden_widths(args)?;
        let table = Table::read(&args.csv)?;
        let (task, task_reason) = task(args, &table)?;
        if args.loss != LossKind::Mse && task == Task::Classification {
            return Err(CliError::Usage(format!(
                "--loss {}: classification trains with the cross-entropy; --loss applies to regression",
                args.loss.name()
            )));
        }
        let data = Dataset::load(&table, &args.target, args.features.as_deref(), task)?;
        let (train, test) = match &data.target {
            Target::Classes { labels, .. } => stratified_train_test_split(labels, split, args.seed),
            Target::Values(_) => train_test_split(data.len(), split, args.seed),
        };
        if train.len() < 2 {
            return Err(CliError::TooLittleData {
                path: args.csv.clone(),
                detail: format!(
                    "--test-split {split} leaves {} training rows of {}; at least 2 are needed",
                    train.len(),
                    data.len()
                ),
            });
        }
        // The validation rows come out of the training rows, split the same way (within
        // each class for classification) with the next seed.
        let (train, val) = match &data.target {
            _ if val_split == 0.0 => (train, Vec::new()),
            Target::Classes { labels, .. } => {
                let train_labels: Vec<usize> = train.iter().map(|&i| labels[i]).collect();
                let (a, b) = stratified_train_test_split(&train_labels, val_split, args.seed + 1);
                (
                    a.iter().map(|&i| train[i]).collect(),
                    b.iter().map(|&i| train[i]).collect(),
                )
            }
            Target::Values(_) => {
                let (a, b) = train_test_split(train.len(), val_split, args.seed + 1);
                (
                    a.iter().map(|&i| train[i]).collect(),
                    b.iter().map(|&i| train[i]).collect(),
                )
            }
        };
        if val_split > 0.0 && (val.is_empty() || train.len() < 2) {
            return Err(CliError::TooLittleData {
                path: args.csv.clone(),
                detail: format!(
                    "--val-split {val_split} leaves {} training and {} validation rows; at least 2 and 1 are needed",
                    train.len(),
                    val.len()
                ),
            });
        }
        let x_train = data.x.index_select(0, &train);
        let standardizer = args.standardize.then(|| Standardizer::fit(&x_train));
        let scaled = |x: Tensor<f64>| match &standardizer {
            Some(s) => check_finite(&args.csv, &data.features, s.transform(&x)),
            None => Ok(x),
        };
        Ok(Problem {
            kind: args.model,
            loss: args.loss,
            task,
            task_reason,
            hidden,
            seed: args.seed,
            x_train: scaled(x_train)?,
            y_train: data.targets(&train),
            val: if val.is_empty() {
                None
            } else {
                Some((scaled(data.x.index_select(0, &val))?, data.targets(&val)))
            },
            x_test: scaled(data.x.index_select(0, &test))?,
            y_test: data.targets(&test),
            standardizer,
            data,
        })
    }

    /// A fresh, untrained model for this problem. A regression model's output bias starts at
    /// the training targets' mean (as scikit-learn's centring does), so training fits how y
    /// varies rather than first travelling to its level: with targets far from 0, optimizers
    /// whose steps are about lr in size (Adam, AdamW) would otherwise spend their whole
    /// budget moving the bias.
    pub fn new_model(&self) -> Model {
        let classes = match &self.data.target {
            Target::Values(_) => Vec::new(),
            Target::Classes { names, .. } => names.clone(),
        };
        let mut model = Model::new(
            self.kind,
            self.task,
            self.data.features.len(),
            self.hidden.clone(),
            classes,
            self.seed,
        );
        if let Targets::Values(y) = &self.y_train {
            model.set_output_bias(y.mean().item());
        }
        model.loss = self.loss;
        model
    }

    /// The number of test rows.
    pub fn test_rows(&self) -> usize {
        self.x_test.shape()[0]
    }
}

/// `x` (standardised features), unless a value overflowed on the way (the spread of a
/// column near the largest float): then an error naming the column, rather than a model
/// trained on infinities.
fn check_finite(
    path: &std::path::Path,
    features: &[String],
    x: Tensor<f64>,
) -> Result<Tensor<f64>, CliError> {
    let d = features.len();
    match x.to_vec().iter().position(|v| !v.is_finite()) {
        None => Ok(x),
        Some(k) => Err(CliError::TooLittleData {
            path: path.to_path_buf(),
            detail: format!(
                "column {:?} cannot be standardised: its values span more than a 64-bit float holds",
                features[k % d]
            ),
        }),
    }
}

/// The task: given, or implied by the model and the target column, with the reason when
/// it was inferred from the data (so the user sees what was chosen and how to change it).
fn task(args: &ProblemArgs, table: &Table) -> Result<(Task, Option<String>), CliError> {
    match (args.model, args.task) {
        (ModelKind::Linear, Some(Task::Classification)) => Err(CliError::Usage(
            "--model linear predicts numbers; classify with --model logistic or mlp".into(),
        )),
        (ModelKind::Logistic, Some(Task::Regression)) => Err(CliError::Usage(
            "--model logistic predicts classes; regress with --model linear or mlp".into(),
        )),
        (_, Some(task)) => Ok((task, None)),
        (ModelKind::Linear, None) => Ok((Task::Regression, None)),
        (ModelKind::Logistic, None) => {
            if table.is_numeric(&args.target) && looks_like_labels(table, &args.target).is_none() {
                return Err(CliError::Usage(format!(
                    "--model logistic: column {:?} holds fractional or many distinct numbers, not class labels; regress it with --model linear or mlp, or pass --task classification to make each value a class",
                    args.target
                )));
            }
            Ok((Task::Classification, None))
        }
        (ModelKind::Mlp, None) if !table.is_numeric(&args.target) => Ok((
            Task::Classification,
            Some(format!("column {:?} holds text labels", args.target)),
        )),
        (ModelKind::Mlp, None) => Ok(match looks_like_labels(table, &args.target) {
            Some(k) => (
                Task::Classification,
                Some(format!(
                    "column {:?} holds {k} distinct whole numbers; pass --task regression to predict them as numbers",
                    args.target
                )),
            ),
            None => (
                Task::Regression,
                Some(format!(
                    "column {:?} holds numbers (not {MAX_INFERRED_CLASSES} or fewer whole numbers); pass --task classification to treat them as labels",
                    args.target
                )),
            ),
        }),
    }
}

/// The hidden widths: only an MLP has them, and none may be 0.
fn hidden_widths(args: &ProblemArgs) -> Result<Vec<usize>, CliError> {
    match (&args.hidden, args.model) {
        (None, ModelKind::Mlp) => Ok(DEFAULT_HIDDEN.to_vec()),
        (None, _) => Ok(Vec::new()),
        (Some(_), kind) if kind != ModelKind::Mlp => Err(CliError::Usage(format!(
            "--hidden applies to --model mlp, not {}",
            kind.name()
        ))),
        (Some(widths), _) if widths.contains(&0) => Err(CliError::Usage(
            "--hidden: a layer needs at least 1 unit".into(),
        )),
        (Some(widths), _) => Ok(widths.clone()),
    }
}
