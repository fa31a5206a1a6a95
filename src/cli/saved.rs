//! A trained model on disk: the weights in safetensors, and in the file's metadata everything
//! `predict` needs to use them — the model kind and task, the feature and target names, the
//! class names, the hidden widths, and the standardiser's mean and scale.
//!
//! Lists are stored as one CSV line (so a name may hold a comma) and numbers in Rust's
//! shortest round-trip form, so a saved standardiser is bit for bit the trained one.

use std::path::Path;

use tapegrad::models::io::{load, read_metadata, save_with_metadata, Metadata};
use tapegrad::models::preprocess::Standardizer;

use super::dataset::Task;
use super::error::CliError;
use super::model::{Model, ModelKind};

/// Identifies files written by this version of `tapegrad fit`.
const FORMAT: &str = "tapegrad-cli/1";

/// A model with the names and scaling its inputs need.
pub struct SavedModel {
    /// The model, with its trained weights.
    pub model: Model,
    /// The feature columns, in input order.
    pub features: Vec<String>,
    /// The target column's name.
    pub target: String,
    /// The scaling applied to the features before the model, if any.
    pub standardizer: Option<Standardizer>,
}

impl SavedModel {
    /// Writes the weights and the metadata to `path`, atomically.
    ///
    /// # Errors
    /// `Weights` when the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<(), CliError> {
        let model = &self.model;
        let mut metadata = Metadata::from([
            ("format".to_string(), FORMAT.to_string()),
            ("model".to_string(), model.kind.name().to_string()),
            ("task".to_string(), model.task.name().to_string()),
            ("features".to_string(), to_csv_line(&self.features)),
            ("target".to_string(), self.target.clone()),
            ("classes".to_string(), to_csv_line(&model.classes)),
            ("hidden".to_string(), numbers_line(&model.hidden)),
        ]);
        if let Some(s) = &self.standardizer {
            metadata.insert("standardizer.mean".into(), numbers_line(s.mean()));
            metadata.insert("standardizer.scale".into(), numbers_line(s.scale()));
        }
        save_with_metadata(model.module(), &metadata, path)?;
        Ok(())
    }

    /// Reads the metadata at `path`, rebuilds the model it describes and loads its weights.
    ///
    /// # Errors
    /// `Weights` when the file cannot be read or its tensors do not fit, `Metadata` when
    /// the metadata is missing or inconsistent.
    pub fn load(path: &Path) -> Result<SavedModel, CliError> {
        let metadata = read_metadata(path)?;
        let field = |key: &str| {
            metadata.get(key).ok_or_else(|| CliError::Metadata {
                path: path.to_path_buf(),
                detail: format!("its metadata has no {key:?}"),
            })
        };
        let bad = |detail: String| CliError::Metadata {
            path: path.to_path_buf(),
            detail,
        };
        if field("format")? != FORMAT {
            return Err(bad(format!(
                "format {:?}, expected {FORMAT:?}",
                field("format")?
            )));
        }
        let kind = match field("model")?.as_str() {
            "linear" => ModelKind::Linear,
            "logistic" => ModelKind::Logistic,
            "mlp" => ModelKind::Mlp,
            other => return Err(bad(format!("unknown model {other:?}"))),
        };
        let task = match field("task")?.as_str() {
            "regression" => Task::Regression,
            "classification" => Task::Classification,
            other => return Err(bad(format!("unknown task {other:?}"))),
        };
        if matches!(
            (kind, task),
            (ModelKind::Linear, Task::Classification) | (ModelKind::Logistic, Task::Regression)
        ) {
            return Err(bad(format!(
                "model {} cannot do {}",
                kind.name(),
                task.name()
            )));
        }
        let features = from_csv_line(field("features")?).map_err(&bad)?;
        let classes = from_csv_line(field("classes")?).map_err(&bad)?;
        let hidden: Vec<usize> = parse_numbers(field("hidden")?).map_err(&bad)?;
        if task == Task::Classification && classes.len() < 2 {
            return Err(bad(format!(
                "{} classes; at least 2 are needed",
                classes.len()
            )));
        }
        if features.is_empty() || hidden.contains(&0) {
            return Err(bad("no features, or a hidden layer of width 0".into()));
        }
        let standardizer = match metadata.get("standardizer.mean") {
            None => None,
            Some(mean) => Some(
                standardizer(
                    parse_numbers(mean).map_err(&bad)?,
                    parse_numbers(field("standardizer.scale")?).map_err(&bad)?,
                    features.len(),
                )
                .map_err(&bad)?,
            ),
        };
        let model = Model::new(kind, task, features.len(), hidden, classes, 0);
        load(model.module(), path)?;
        Ok(SavedModel {
            model,
            features,
            target: field("target")?.clone(),
            standardizer,
        })
    }
}

/// A standardiser from stored parts, checked so that `from_parts` cannot panic.
fn standardizer(mean: Vec<f64>, scale: Vec<f64>, d: usize) -> Result<Standardizer, String> {
    if mean.len() != d || scale.len() != d {
        return Err(format!(
            "the standardiser has {} means and {} scales for {d} features",
            mean.len(),
            scale.len()
        ));
    }
    if !scale.iter().all(|s| s.is_finite() && *s > 0.0) {
        return Err("a standardiser scale is not a positive number".into());
    }
    Ok(Standardizer::from_parts(mean, scale))
}

/// `items` as one CSV record (empty for no items).
fn to_csv_line(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    // Writing to memory cannot fail, and every String is valid UTF-8.
    let _ = writer.write_record(items);
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).trim_end().to_string()
}

/// The items of one CSV record.
fn from_csv_line(line: &str) -> Result<Vec<String>, String> {
    if line.is_empty() {
        return Ok(Vec::new());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    match reader.records().next() {
        Some(Ok(record)) => Ok(record.iter().map(str::to_string).collect()),
        _ => Err(format!("cannot read the list {line:?}")),
    }
}

/// Numbers as one comma-separated line, each in its shortest round-trip form (Debug switches
/// to an exponent for very large or small values, where Display would write every digit).
fn numbers_line<T: std::fmt::Debug>(values: &[T]) -> String {
    values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The numbers of a line written by [`numbers_line`].
fn parse_numbers<T: std::str::FromStr>(line: &str) -> Result<Vec<T>, String> {
    if line.is_empty() {
        return Ok(Vec::new());
    }
    line.split(',')
        .map(|v| v.parse().map_err(|_| format!("{v:?} is not a number")))
        .collect()
}
