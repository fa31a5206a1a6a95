//! The one error type of the command line: every message names the file, and where it helps
//! the line and the column, then says what rule the input broke.

use std::fmt;
use std::path::PathBuf;

use tapegrad::models::io::IoError;
use tapegrad::models::trainer::TrainError;
use tapegrad::optim::OptimError;

/// Anything that stops a command; `main` prints it as one `error: …` line and exits with 1.
#[derive(Debug)]
pub enum CliError {
    /// A file could not be opened or read.
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The CSV itself is malformed (a row with the wrong number of fields, bad UTF-8, …).
    Csv {
        /// The file.
        path: PathBuf,
        /// What the CSV reader found, with its line.
        detail: String,
    },
    /// A column named on the command line (or in a saved model) is not in the header.
    UnknownColumn {
        /// The file.
        path: PathBuf,
        /// The missing column.
        column: String,
        /// The header's columns.
        available: Vec<String>,
    },
    /// One cell cannot be used: empty, not a number, or not finite.
    Cell {
        /// The file.
        path: PathBuf,
        /// The line of the file (the header is line 1).
        line: u64,
        /// The column's name.
        column: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The file has too few rows (or classes) for the command.
    TooLittleData {
        /// The file.
        path: PathBuf,
        /// What is missing.
        detail: String,
    },
    /// Options that do not fit together, or a value out of range.
    Usage(String),
    /// The optimizer rejected a setting (a negative learning rate, …).
    Optimizer(OptimError),
    /// Saving or loading weights failed.
    Weights(IoError),
    /// A weights file without the metadata `tapegrad fit` stores beside them.
    Metadata {
        /// The file.
        path: PathBuf,
        /// What is missing or malformed.
        detail: String,
    },
    /// An output file could not be written; nothing was left at its path.
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// Training diverged, so nothing was saved.
    Diverged {
        /// What happened to the loss.
        reason: String,
        /// Whether the features were standardised (the hint then suggests only the rate).
        standardized: bool,
    },
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Read { path, source } => {
                write!(f, "cannot read {:?}: {source}", path.display())
            }
            CliError::Csv { path, detail } => write!(f, "{:?}: {detail}", path.display()),
            CliError::UnknownColumn {
                path,
                column,
                available,
            } => write!(
                f,
                "{:?}: no column {column:?}; the columns are {}",
                path.display(),
                quoted_list(available)
            ),
            CliError::Cell {
                path,
                line,
                column,
                problem,
            } => write!(
                f,
                "{:?} line {line}, column {column:?}: {problem}",
                path.display()
            ),
            CliError::TooLittleData { path, detail } => {
                write!(f, "{:?}: {detail}", path.display())
            }
            CliError::Usage(detail) => f.write_str(detail),
            CliError::Optimizer(e) => write!(f, "{e}"),
            CliError::Weights(e) => write!(f, "{e}"),
            CliError::Metadata { path, detail } => write!(
                f,
                "{:?}: {detail}; is it a model saved by `tapegrad fit --save`?",
                path.display()
            ),
            CliError::Write { path, detail } => {
                write!(f, "cannot write {:?}: {detail}", path.display())
            }
            CliError::Diverged {
                reason,
                standardized,
            } => {
                let hint = if *standardized {
                    "try a smaller --lr"
                } else {
                    "try --standardize or a smaller --lr"
                };
                write!(f, "training {reason}; nothing was saved ({hint})")
            }
        }
    }
}

impl std::error::Error for CliError {}

impl From<OptimError> for CliError {
    fn from(e: OptimError) -> Self {
        CliError::Optimizer(e)
    }
}

/// A training run that could not start or save: its checkpoint's file problem, else the
/// trainer's own message.
impl From<TrainError> for CliError {
    fn from(e: TrainError) -> Self {
        match e {
            TrainError::Checkpoint(e) => CliError::Weights(e),
            TrainError::Optimizer(e) => CliError::Optimizer(e),
            other => CliError::Usage(other.to_string()),
        }
    }
}

impl From<IoError> for CliError {
    fn from(e: IoError) -> Self {
        CliError::Weights(e)
    }
}

/// `"a", "b", "c"`: names as they would be typed, quoted so that spaces show.
fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
