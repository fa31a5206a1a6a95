//! A training problem as `fit` and `compare` set it up: the data read and checked, the rows
//! split into training and test, and the features standardised if asked.

use tapegrad::models::data::train_test_split;
use tapegrad::models::preprocess::Standardizer;
use tapegrad::Tensor;

use super::dataset::{Dataset, Target, Targets, Task};
use super::error::CliError;
use super::model::{Model, ModelKind};
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
    /// X of the test rows, as the model sees it (no rows when there is no test split).
    pub x_test: Tensor<f64>,
    /// Their targets.
    pub y_test: Targets,
}

impl Problem {
    /// Reads and prepares the problem `args` describe.
    ///
    /// # Errors
    /// Any input error: the file, a column, a cell, too few rows, options that conflict.
    pub fn prepare(args: &ProblemArgs) -> Result<Problem, CliError> {
        let split = args.test_split;
        if !(0.0..1.0).contains(&split) {
            return Err(CliError::Usage(format!(
                "--test-split {split}: it must be in [0, 1)"
            )));
        }
        let hidden = hidden_widths(args)?;
        let table = Table::read(&args.csv)?;
        let task = task(args, &table)?;
        let data = Dataset::load(&table, &args.target, args.features.as_deref(), task)?;
        let (train, test) = train_test_split(data.len(), split, args.seed);
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
        let x_train = data.x.index_select(0, &train);
        let standardizer = args.standardize.then(|| Standardizer::fit(&x_train));
        let scaled = |x: Tensor<f64>| match &standardizer {
            Some(s) => s.transform(&x),
            None => x,
        };
        Ok(Problem {
            kind: args.model,
            task,
            hidden,
            seed: args.seed,
            x_train: scaled(x_train),
            y_train: data.targets(&train),
            x_test: scaled(data.x.index_select(0, &test)),
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
        let model = Model::new(
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
        model
    }

    /// The number of test rows.
    pub fn test_rows(&self) -> usize {
        self.x_test.shape()[0]
    }
}

/// The task: given, or implied by the model and the target column.
fn task(args: &ProblemArgs, table: &Table) -> Result<Task, CliError> {
    let implied = match args.model {
        ModelKind::Linear => Task::Regression,
        ModelKind::Logistic => Task::Classification,
        ModelKind::Mlp if table.is_numeric(&args.target) => Task::Regression,
        ModelKind::Mlp => Task::Classification,
    };
    match (args.model, args.task) {
        (ModelKind::Linear, Some(Task::Classification)) => Err(CliError::Usage(
            "--model linear predicts numbers; classify with --model logistic or mlp".into(),
        )),
        (ModelKind::Logistic, Some(Task::Regression)) => Err(CliError::Usage(
            "--model logistic predicts classes; regress with --model linear or mlp".into(),
        )),
        (_, task) => Ok(task.unwrap_or(implied)),
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
