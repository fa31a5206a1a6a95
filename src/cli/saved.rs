//! A trained model on disk: the weights in safetensors, and in the file's metadata everything
//! `predict` needs to use them — the model kind and task, the feature and target names, the
//! class names, the hidden widths, the loss, and the standardiser's mean and scale. A model
//! trained by a first-order optimizer is saved as a training checkpoint
//! (`tapegrad_models::trainer::checkpoint`: the optimizer's state, the epoch and the history
//! beside the weights), which `fit --resume` continues.
//!
//! Lists are stored as one CSV line (so a name may hold a comma) and numbers in Rust's
//! shortest round-trip form, so a saved standardiser is bit for bit the trained one.

use std::path::Path;

use clap::ValueEnum;
use tapegrad::models::io::{load, read_metadata, Metadata};
use tapegrad::models::preprocess::Standardizer;

use super::dataset::Task;
use super::error::CliError;
use super::model::{LossKind, Model, ModelKind};

/// Identifies files written by this version of `tapegrad fit`. Version 3 adds the training
/// state of a checkpoint and the loss; version 2 stores every weight matrix in PyTorch's
/// `[out, in]` layout; version 1 stored `[in, out]`.
const FORMAT: &str = "tapegrad-cli/3";

/// The previous format, which `predict` and `inspect` still read (it only lacks the training
/// state, so it cannot be resumed).
const FORMAT_V2: &str = "tapegrad-cli/2";

/// The format of the previous release, named in the error that refuses it.
const FORMAT_V1: &str = "tapegrad-cli/1";

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

/// The metadata a saved model carries: everything `predict` needs besides the weights.
pub fn metadata(
    model: &Model,
    features: &[String],
    target: &str,
    standardizer: Option<&Standardizer>,
) -> Metadata {
    let mut metadata = Metadata::from([
        ("format".to_string(), FORMAT.to_string()),
        ("model".to_string(), model.kind.name().to_string()),
        ("task".to_string(), model.task.name().to_string()),
        ("features".to_string(), to_csv_line(features)),
        ("target".to_string(), target.to_string()),
        ("classes".to_string(), to_csv_line(&model.classes)),
        ("hidden".to_string(), numbers_line(&model.hidden)),
        ("loss".to_string(), model.loss.name().to_string()),
    ]);
    if let Some(s) = standardizer {
        metadata.insert("standardizer.mean".into(), numbers_line(s.mean()));
        metadata.insert("standardizer.scale".into(), numbers_line(s.scale()));
    }
    metadata
}

impl SavedModel {
    /// Reads the metadata at `path`, rebuilds the model it describes and loads its weights.
    ///
    /// # Errors
    /// `Weights` when the file cannot be read or its tensors do not fit, `Metadata` when
    /// the metadata is missing or inconsistent.
    pub fn load(path: &Path) -> Result<SavedModel, CliError> {
        let fields = Fields {
            path,
            metadata: read_metadata(path)?,
        };
        let format = fields.get("format")?;
        if format == FORMAT_V1 {
            return Err(fields.bad(format!(
                "format {format:?} stores weights as [in, out], from before tapegrad moved to PyTorch's [out, in]; fit the model again to write {FORMAT:?}"
            )));
        }
        if format != FORMAT && format != FORMAT_V2 {
            return Err(fields.bad(format!("format {format:?}, expected {FORMAT:?}")));
        }
        let kind: ModelKind = fields.choice("model")?;
        let task: Task = fields.choice("task")?;
        let features = fields.list("features")?;
        let classes = fields.list("classes")?;
        let hidden: Vec<usize> = fields.numbers("hidden")?;
        check_architecture(kind, task, &features, &classes, &hidden).map_err(|d| fields.bad(d))?;
        let standardizer = fields.standardizer(features.len())?;
        let mut model = Model::new(kind, task, features.len(), hidden, classes, 0);
        if let Some(loss) = fields.metadata.get("loss") {
            model.loss = LossKind::from_str(loss, false)
                .map_err(|_| fields.bad(format!("unknown loss {loss:?}")))?;
        }
        load(model.module(), path)?;
        Ok(SavedModel {
            model,
            features,
            target: fields.get("target")?.to_string(),
            standardizer,
        })
    }
}

/// The metadata of one file, read with errors that name the file.
struct Fields<'a> {
    path: &'a Path,
    metadata: Metadata,
}

impl Fields<'_> {
    fn bad(&self, detail: String) -> CliError {
        CliError::Metadata {
            path: self.path.to_path_buf(),
            detail,
        }
    }

    fn get(&self, key: &str) -> Result<&str, CliError> {
        self.metadata
            .get(key)
            .map(String::as_str)
            .ok_or_else(|| self.bad(format!("its metadata has no {key:?}")))
    }

    /// A value that must be one of an enum's command-line names.
    fn choice<E: ValueEnum>(&self, key: &str) -> Result<E, CliError> {
        let value = self.get(key)?;
        E::from_str(value, false).map_err(|_| self.bad(format!("unknown {key} {value:?}")))
    }

    fn list(&self, key: &str) -> Result<Vec<String>, CliError> {
        from_csv_line(self.get(key)?).map_err(|d| self.bad(d))
    }

    fn numbers<T: std::str::FromStr>(&self, key: &str) -> Result<Vec<T>, CliError> {
        parse_numbers(self.get(key)?).map_err(|d| self.bad(d))
    }

    /// The standardiser, if one was saved, checked so that `from_parts` cannot panic.
    fn standardizer(&self, d: usize) -> Result<Option<Standardizer>, CliError> {
        if !self.metadata.contains_key("standardizer.mean") {
            return Ok(None);
        }
        let mean: Vec<f64> = self.numbers("standardizer.mean")?;
        let scale: Vec<f64> = self.numbers("standardizer.scale")?;
        if mean.len() != d || scale.len() != d {
            return Err(self.bad(format!(
                "the standardiser has {} means and {} scales for {d} features",
                mean.len(),
                scale.len()
            )));
        }
        if !scale.iter().all(|s| s.is_finite() && *s > 0.0) {
            return Err(self.bad("a standardiser scale is not a positive number".into()));
        }
        Ok(Some(Standardizer::from_parts(mean, scale)))
    }
}

/// A model the metadata describes must be one `Model::new` can build.
fn check_architecture(
    kind: ModelKind,
    task: Task,
    features: &[String],
    classes: &[String],
    hidden: &[usize],
) -> Result<(), String> {
    let mismatched = matches!(
        (kind, task),
        (ModelKind::Linear, Task::Classification) | (ModelKind::Logistic, Task::Regression)
    );
    if mismatched {
        return Err(format!("model {} cannot do {}", kind.name(), task.name()));
    }
    if task == Task::Classification && classes.len() < 2 {
        return Err(format!("{} classes; at least 2 are needed", classes.len()));
    }
    if features.is_empty() || hidden.contains(&0) {
        return Err("no features, or a hidden layer of width 0".into());
    }
    Ok(())
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
