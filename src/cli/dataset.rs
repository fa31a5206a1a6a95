//! From a CSV table to what training needs: the feature matrix X of shape [n, d] and the
//! target, either numbers (regression) or class labels mapped to 0..k (classification).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use clap::ValueEnum;
use tapegrad::models::loader::Rows;
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
#[derive(Clone, Debug)]
pub enum Targets {
    /// Regression targets, [m, 1].
    Values(Tensor<f64>),
    /// Class indices.
    Classes(Vec<usize>),
}

/// A loader cuts targets into batches with the rows of X.
impl Rows for Targets {
    fn num_rows(&self) -> usize {
        match self {
            Targets::Values(y) => y.num_rows(),
            Targets::Classes(labels) => labels.len(),
        }
    }

    fn select_rows(&self, rows: &[usize]) -> Self {
        match self {
            Targets::Values(y) => Targets::Values(y.select_rows(rows)),
            Targets::Classes(labels) => Targets::Classes(labels.select_rows(rows)),
        }
    }
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
        // Each name must be in the header exactly once (ambiguous columns are refused)
        // before the list itself is checked.
        for name in &features {
            table.column(name)?;
        }
        check_features(table.path(), target, &features)?;
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

/// The most classes a target may have per row: each class needs several rows to be learned,
/// so a column with a distinct value every few rows is a number to regress, not labels.
const ROWS_PER_CLASS: usize = 5;

/// The target column as class indices; the classes sorted numerically when every label is
/// a number (so "2" comes before "10"), as text otherwise. Numeric labels are classes by
/// value — "1" and "1.0" are one class, named "1" — as they are for scikit-learn.
fn classes(table: &Table, target: &str) -> Result<Target, CliError> {
    let cells = table.texts(target)?;
    let numeric = table.is_numeric(target);
    let label = |text: &str| {
        if numeric {
            canonical_number(text)
        } else {
            text.to_string()
        }
    };
    let labels_text: Vec<String> = cells.iter().map(|&(_, t)| label(t)).collect();
    let distinct: BTreeSet<&str> = labels_text.iter().map(String::as_str).collect();
    let mut names: Vec<String> = distinct.into_iter().map(str::to_string).collect();
    if numeric {
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
    if names.len() * ROWS_PER_CLASS > cells.len() {
        return Err(too_little(
            table.path(),
            format!(
                "column {target:?} has {} distinct values in {} rows, too many classes to learn (each needs about {ROWS_PER_CLASS} rows); to predict it as a number use --model linear, or mlp with --task regression",
                names.len(),
                cells.len()
            ),
        ));
    }
    let index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let labels = labels_text.iter().map(|t| index[t.as_str()]).collect();
    Ok(Target::Classes { labels, names })
}

/// A numeric label in one spelling: the shortest decimal that reads back as the same
/// number ("1.0" and "1e0" are "1"; "-0" is "0").
fn canonical_number(text: &str) -> String {
    let v = number(text);
    if v == 0.0 {
        "0".into()
    } else {
        v.to_string()
    }
}

/// Whether the numbers of column `target` look like class labels: whole numbers, and few
/// distinct ones (at most `MAX_INFERRED_CLASSES`). Used to infer the task of an MLP.
pub fn looks_like_labels(table: &Table, target: &str) -> Option<usize> {
    let values = table.numbers(target).ok()?;
    if !values.iter().all(|v| v.fract() == 0.0) {
        return None;
    }
    // Adding 0.0 folds −0 into 0.
    let distinct: BTreeSet<u64> = values.iter().map(|v| (v + 0.0).to_bits()).collect();
    (distinct.len() <= MAX_INFERRED_CLASSES).then_some(distinct.len())
}

/// The most distinct whole numbers a target may hold for an MLP to read it as labels.
pub const MAX_INFERRED_CLASSES: usize = 20;

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
