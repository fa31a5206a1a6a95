//! The `tapegrad` command line: its arguments (clap derive: each doc comment below is the
//! `--help` text), and one module per command.
//!
//! ```text
//! tapegrad                       the main job: Galton's heights, gradient descent vs closed form
//! tapegrad fit --csv F --target Y [...]      train, report metrics, save weights and a plot
//! tapegrad predict --model M --csv F         predictions as CSV on stdout
//! tapegrad compare --csv F --target Y [...]  optimizers side by side on one problem
//! tapegrad inspect M                         what a saved model holds
//! ```

mod compare;
mod console;
mod dataset;
mod demo;
mod error;
mod fit;
mod inspect;
mod model;
mod output;
mod plot;
mod predict;
mod problem;
mod saved;
mod table;
mod train;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use error::CliError;

use dataset::Task;
use model::{LossKind, ModelKind};
use train::{OptimizerKind, ScheduleKind};

/// Shown at the end of `tapegrad --help`.
const EXAMPLES: &str = "Examples:
  tapegrad fit --csv heights.csv --target height --standardize --save model.safetensors --plot loss.svg
  tapegrad predict --model model.safetensors --csv new_rows.csv > predictions.csv
  tapegrad fit --csv heights.csv --target height --standardize --val-split 0.2 --patience 20 --plot loss.svg
  tapegrad fit --csv heights.csv --target height --standardize --epochs 2000 --resume model.safetensors --save model.safetensors
  tapegrad compare --csv heights.csv --target height --standardize --optimizers sgd,adam,lbfgs
  tapegrad inspect model.safetensors
  tapegrad fit --csv pets.csv --target animal --model mlp --hidden 16,16 --optimizer adam --lr 0.01";

/// Train and use small models on CSV files, every gradient taken by tapegrad's tape.
///
/// Without a command, runs the main job: linear regression on Galton's 1886 family heights by
/// gradient descent, next to the closed-form least-squares solution.
#[derive(Debug, Parser)]
#[command(name = "tapegrad", version, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do (nothing: the main job).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a model on a CSV file: a progress bar with the loss, train and test metrics, why
    /// training stopped; optionally save the weights and plot the loss curve.
    Fit(FitArgs),
    /// Predict with a model saved by `fit --save`: reads the feature columns it was trained
    /// on from a CSV file and writes the predictions as CSV to stdout.
    Predict(PredictArgs),
    /// Train with several optimizers (all, unless --optimizers is given), each at its default
    /// learning rate or at --lr, on the same problem, and print a table of epochs, time,
    /// training and validation loss, and stop reason.
    Compare(CompareArgs),
    /// Show what a file saved by `fit --save` holds: the model, its metadata, its tensors,
    /// the training history of a checkpoint, and for linear models the coefficients on the
    /// original feature scale.
    Inspect(InspectArgs),
}

/// The data and the model: what is learned from what.
#[derive(Debug, Args)]
pub struct ProblemArgs {
    /// The CSV file; its first line names the columns.
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
    /// The column to predict.
    #[arg(long, value_name = "COLUMN")]
    pub target: String,
    /// The input columns, comma-separated [default: every column but the target].
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// The model.
    #[arg(long, value_enum, default_value_t = ModelKind::Linear)]
    pub model: ModelKind,
    /// Hidden layer widths of --model mlp, comma-separated [default: 32,32].
    #[arg(long, value_name = "N,N", value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// What the target is [default: regression for linear, classification for logistic;
    /// for mlp, classification when the target column is not all numbers].
    #[arg(long, value_enum)]
    pub task: Option<Task>,
    /// Scale each feature to mean 0 and standard deviation 1 (learned on the training rows),
    /// so that one learning rate suits every weight.
    #[arg(long)]
    pub standardize: bool,
    /// Seeds the train/test split, the mini-batch order and the MLP's initial weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The fraction of rows held out for testing, in [0, 1).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.2)]
    pub test_split: f64,
    /// The regression loss (classification always uses the cross-entropy).
    #[arg(long, value_enum, default_value_t = LossKind::Mse)]
    pub loss: LossKind,
}

/// How long to train, and on how many rows at a time.
#[derive(Debug, Args)]
pub struct BudgetArgs {
    /// The most epochs (passes over the training rows; L-BFGS: iterations).
    #[arg(long, default_value_t = 1000)]
    pub epochs: usize,
    /// Rows per mini-batch, reshuffled every epoch [default: all training rows].
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
}

/// Arguments of `tapegrad fit`.
#[derive(Debug, Args)]
pub struct FitArgs {
    #[command(flatten)]
    pub problem: ProblemArgs,
    /// The optimizer.
    #[arg(long, value_enum, default_value_t = OptimizerKind::Sgd)]
    pub optimizer: OptimizerKind,
    /// The learning rate [default: sgd 0.1, momentum and nesterov 0.05, adam and adamw 0.01].
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub lr: Option<f64>,
    #[command(flatten)]
    pub budget: BudgetArgs,
    /// The fraction of the training rows held out for validation, in [0, 1): their loss is
    /// reported every epoch, drawn in --plot, and watched by --patience.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.0)]
    pub val_split: f64,
    /// Stop when the validation loss has not improved for this many epochs, and keep the
    /// weights of its best epoch (needs --val-split).
    #[arg(long, value_name = "EPOCHS")]
    pub patience: Option<usize>,
    /// Weight decay: L2 for sgd, momentum, nesterov and adam; decoupled for adamw
    /// [default: adamw 0.01, the others 0].
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub weight_decay: Option<f64>,
    /// A learning-rate schedule, stepped every epoch.
    #[arg(long, value_enum)]
    pub schedule: Option<ScheduleKind>,
    /// Continue the training saved in this file by `fit --save` (same data and flags; the
    /// optimizer's state, the epoch and the history are restored) up to --epochs in all.
    /// It may also be the --save file.
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Save the model, with what `predict` needs and the training state `--resume` needs,
    /// to this safetensors file.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Plot the training loss per epoch (and the validation loss, with --val-split) to this
    /// SVG file.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
    /// Print only one JSON line summarising the run (model, optimizer, epochs, stop reason,
    /// whether it converged, train and test scores, files written, seconds).
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
}

/// Arguments of `tapegrad predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// A model saved by `tapegrad fit --save`.
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    /// The CSV file with the model's feature columns (other columns are ignored).
    #[arg(long, value_name = "FILE")]
    pub csv: PathBuf,
}

/// Arguments of `tapegrad compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub problem: ProblemArgs,
    #[command(flatten)]
    pub budget: BudgetArgs,
    /// The optimizers to compare, comma-separated [default: all].
    #[arg(long, value_enum, value_name = "A,B,C", value_delimiter = ',')]
    pub optimizers: Option<Vec<OptimizerKind>>,
    /// One learning rate for every optimizer that takes one [default: each optimizer's own].
    #[arg(long, value_name = "X", allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// The fraction of the training rows held out to measure each optimizer's validation
    /// loss, in [0, 1): a perfect training loss with a poor validation loss is overfitting,
    /// not a win.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.2)]
    pub val_split: f64,
}

/// Arguments of `tapegrad inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A file saved by `tapegrad fit --save`.
    #[arg(value_name = "FILE")]
    pub model: PathBuf,
}

/// Runs the command `cli` asks for.
///
/// # Errors
/// Whatever the command met: bad input, an unwritable output, a diverged training.
pub fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        None => demo::run(),
        Some(Command::Fit(args)) => fit::run(&args),
        Some(Command::Predict(args)) => predict::run(&args),
        Some(Command::Compare(args)) => compare::run(&args),
        Some(Command::Inspect(args)) => inspect::run(&args),
    }?;
    console::finish()
}
