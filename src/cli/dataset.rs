//! From a CSV table to what training needs: the feature matrix X of shape [n, d] and the
//! target, either numbers (regression) or class labels mapped to 0..k (classification).

use std::collections::BTreeSet;
use std::path::Path;

use clap::ValueEnum;
use tapegrad::Tensor;

use super::error::CliError;
use super::table::Table;

/// What the target column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Task {
    /// Numbers, predicted with the mean squared error.
    Regression,
    /// Labels (any text), predicted with the cross-entropy.
    Classification,
}

impl Task {
    /// The name used on the command line and in saved files.
    pub fn name(self) -> &'static str {
        match self {
            Task::Regression => "regression",
            Task::Classification => "classification",
        }
    }
}

/// The target column, as the task reads it.
#[derive(Clone, Debug)]
pub enum Target {
    /// One number per row.
    Values(Vec<f64>),
    /// One class index per row, into `names`.
    Classes {
        /// Each row's class.
        labels: Vec<usize>,
        /// The class names, sorted (numerically when they are all numbers).
        names: Vec<String>,
    },
}

/// The target of some rows, ready for a loss.
pub enum Targets {
    /// Regression targets, [m, 1].
    Values(Tensor<f64>),
    /// Class indices.
    Classes(Vec<usize>),
}

/// A table's feature matrix and target.
pub struct Dataset {
    /// The feature columns, in the order of X's columns.
    pub features: Vec<String>,
    /// The target column.
    pub target_name: String,
    /// X, [n, d], as in the file (not standardised).
    pub x: Tensor<f64>,
    /// The target.
    pub target: Target,
}

impl Dataset {
    /// Reads `target` and the `features` (every other column when `None`) from `table`.
    ///
    /// # Errors
    /// `UnknownColumn`, `Cell` for an unusable cell, `Usage` when the target is also a
    /// feature, and `TooLittleData` for fewer than 2 rows or, in classification, 1 class.
    pub fn load(
        table: &Table,
        target: &str,
        features: Option<&[String]>,
        task: Task,
    ) -> Result<Dataset, CliError> {
        table.column(target)?;
        let features: Vec<String> = match features {
            Some(names) => names.iter().map(|n| n.trim().to_string()).collect(),
            None => table
                .header()
                .iter()
                .filter(|h| *h != target)
                .cloned()
                .collect(),
        };
        check_features(table.path(), target, &features)?;
        for name in &features {
            table.column(name)?;
        }
        if table.len() < 2 {
            return Err(too_little(
                table.path(),
                format!(
                    "{} data row{}; fitting needs at least 2",
                    table.len(),
                    if table.len() == 1 { "" } else { "s" }
                ),
            ));
        }
        let x = feature_matrix(table, &features)?;
        let target_values = match task {
            Task::Regression => Target::Values(table.numbers(target)?),
            Task::Classification => classes(table, target)?,
        };
        Ok(Dataset {
            features,
            target_name: target.to_string(),
            x,
            target: target_values,
        })
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.x.shape()[0]
    }

    /// The targets of rows `rows`.
    pub fn targets(&self, rows: &[usize]) -> Targets {
        match &self.target {
            Target::Values(v) => Targets::Values(Tensor::from_vec(
                rows.iter().map(|&i| v[i]).collect(),
                &[rows.len(), 1],
            )),
            Target::Classes { labels, .. } => {
                Targets::Classes(rows.iter().map(|&i| labels[i]).collect())
            }
        }
    }
}

/// X of shape [n, d] from the named columns of `table`, every cell a finite number.
///
/// # Errors
/// `UnknownColumn`, or `Cell` for the first unusable cell.
pub fn feature_matrix(table: &Table, features: &[String]) -> Result<Tensor<f64>, CliError> {
    let columns = features
        .iter()
        .map(|name| table.numbers(name))
        .collect::<Result<Vec<_>, _>>()?;
    let (n, d) = (table.len(), features.len());
    let values = (0..n)
        .flat_map(|i| columns.iter().map(move |column| column[i]))
        .collect();
    Ok(Tensor::from_vec(values, &[n, d]))
}

/// At least one feature, none repeated, and not the target.
fn check_features(path: &Path, target: &str, features: &[String]) -> Result<(), CliError> {
    if features.is_empty() {
        return Err(too_little(
            path,
            format!("no feature columns: the file has only the target {target:?}"),
        ));
    }
    if features.iter().any(|f| f == target) {
        return Err(CliError::Usage(format!(
            "--features includes the target {target:?}; a model cannot see what it predicts"
        )));
    }
    if let Some(twice) = features
        .iter()
        .enumerate()
        .find_map(|(i, f)| features[..i].contains(f).then_some(f))
    {
        return Err(CliError::Usage(format!("--features names {twice:?} twice")));
    }
    Ok(())
}

/// The target column as class indices; the classes sorted numerically when every label is
/// a number (so "2" comes before "10"), as text otherwise.
fn classes(table: &Table, target: &str) -> Result<Target, CliError> {
    let cells = table.texts(target)?;
    let distinct: BTreeSet<&str> = cells.iter().map(|&(_, t)| t).collect();
    let mut names: Vec<String> = distinct.into_iter().map(str::to_string).collect();
    if table.is_numeric(target) {
        names.sort_by(|a, b| number(a).total_cmp(&number(b)));
    }
    if names.len() < 2 {
        return Err(too_little(
            table.path(),
            format!(
                "column {target:?} holds one class ({:?}); classification needs at least 2",
                names[0]
            ),
        ));
    }
    let labels = cells
        .iter()
        .map(|(_, t)| names.iter().position(|n| n == t).unwrap_or_default())
        .collect();
    Ok(Target::Classes { labels, names })
}

/// A label known to parse as a number.
fn number(label: &str) -> f64 {
    label.parse().unwrap_or(f64::NAN)
}

fn too_little(path: &Path, detail: String) -> CliError {
    CliError::TooLittleData {
        path: path.to_path_buf(),
        detail,
    }
}
