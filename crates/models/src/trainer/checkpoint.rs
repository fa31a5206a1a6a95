//! Checkpoints: a training run in one safetensors file, to resume exactly.
//!
//! The file holds:
//!
//! | tensor | what |
//! |---|---|
//! | `{name}` (`0.weight`, `bn.running_mean`, …) | the model's parameters and buffers, as [`io::save`] writes them |
//! | `optimizer.steps` | I64 `[P]`: updates received by each of the optimizer's P parameters |
//! | `optimizer.{buffer}.{i}` | parameter i's optimizer buffer (`exp_avg`, `momentum_buffer`, …) |
//! | `best.{name}` | early stopping's best weights, when they are kept for restoring |
//!
//! and in the header's metadata: `tapegrad.checkpoint` (the layout's version, `"1"`),
//! `epoch` (epochs completed), `steps` (optimizer steps taken), `history` (JSON of every [`EpochRecord`](super::EpochRecord)),
//! `optimizer.groups` (JSON `[[size, lr, initial_lr], …]`), `scheduler` (JSON of its named
//! numbers), `early_stopping` (JSON `{best, best_epoch, bad_epochs}`) and `rng.{name}` (each
//! of the model's random generators, [`RngState::to_text`]), with any metadata the caller
//! adds.
//!
//! The model's tensors keep their plain names, so a checkpoint is also a weights file:
//! [`io::load`] reads it, and from PyTorch,
//! `{k: v for k, v in load_file(path).items() if not k.startswith(("optimizer.", "best."))}`
//! is the `state_dict`. Floats are stored in the model's own type, so f64 runs resume bit
//! for bit.

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::ArrayD;
use safetensors::tensor::{Dtype, SafeTensors};
use serde_json::{json, Value};
use tapegrad_optim::{GroupState, Optimizer, OptimizerState};
use tapegrad_tensor::Float;

use super::early_stopping::{EarlyStopping, Watch, Weights};
use super::history::{number, read_number, History};
use super::{RunState, Schedule, TrainError};
use crate::buffer::Buffer;
use crate::io::{self, decode_floats, io_error, module_entries, Entry, IoError, Metadata};
use crate::module::Module;
use crate::rng::RngState;

/// The metadata key that marks a checkpoint, and its layout's version.
pub const FORMAT_KEY: &str = "tapegrad.checkpoint";
const VERSION: &str = "1";

/// The names a model's own tensors may not start with: they belong to the checkpoint.
const RESERVED: [&str; 2] = ["optimizer.", "best."];

/// What a checkpoint says about its run, read without a model.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointInfo {
    /// Epochs completed.
    pub epoch: usize,
    /// The run's history up to then.
    pub history: History,
    /// All the header's metadata (the caller's own keys included).
    pub metadata: Metadata,
}

/// Whether the file at `path` is a checkpoint (and not only weights).
///
/// # Errors
/// As [`io::read_metadata`].
pub fn is_checkpoint(path: impl AsRef<Path>) -> Result<bool, IoError> {
    Ok(io::read_metadata(path)?.contains_key(FORMAT_KEY))
}

/// The epoch, history and metadata of the checkpoint at `path`.
///
/// # Errors
/// `Checkpoint` when the file cannot be read, `Resume` when it is not a checkpoint.
pub fn read_info(path: impl AsRef<Path>) -> Result<CheckpointInfo, TrainError> {
    let path = path.as_ref();
    let metadata = io::read_metadata(path)?;
    let (epoch, history) = run_of(path, &metadata)?;
    Ok(CheckpointInfo {
        epoch,
        history,
        metadata,
    })
}

fn resume_error(path: &Path, what: impl std::fmt::Display) -> TrainError {
    TrainError::Resume(format!("{:?}: {what}", path.display()))
}

fn run_of(path: &Path, metadata: &Metadata) -> Result<(usize, History), TrainError> {
    match metadata.get(FORMAT_KEY).map(String::as_str) {
        Some(VERSION) => {}
        Some(other) => {
            return Err(resume_error(
                path,
                format!("checkpoint layout {other:?}; this version reads {VERSION:?}"),
            ))
        }
        None => {
            return Err(resume_error(
                path,
                format!("not a checkpoint (no {FORMAT_KEY:?} key): it holds weights only, which io::load reads"),
            ))
        }
    }
    let epoch = metadata
        .get("epoch")
        .and_then(|e| e.parse().ok())
        .ok_or_else(|| resume_error(path, "no epoch count"))?;
    let history = metadata
        .get("history")
        .and_then(|h| serde_json::from_str(h).ok())
        .and_then(|h: Value| History::from_json(&h))
        .ok_or_else(|| resume_error(path, "the history is missing or unreadable"))?;
    Ok((epoch, history))
}

/// Writes the run to `path` atomically.
pub(crate) fn save<F: Float, M: Module<F> + ?Sized>(
    path: &Path,
    model: &M,
    optimizer: &dyn Optimizer<F>,
    schedule: Option<&Schedule>,
    state: &RunState<F>,
    extra: &Metadata,
) -> Result<(), TrainError> {
    let mut entries = module_entries(model, "");
    if let Some(entry) = entries
        .iter()
        .find(|e| RESERVED.iter().any(|r| e.name.starts_with(r)))
    {
        return Err(TrainError::Config(format!(
            "checkpoint: the model's tensor {:?} uses a name reserved for the checkpoint ({RESERVED:?})",
            entry.name
        )));
    }
    let optimizer_state = optimizer.state();
    let steps: Vec<i64> = optimizer_state.steps.iter().map(|&s| s as i64).collect();
    entries.push(Entry::integers(
        "optimizer.steps".into(),
        vec![steps.len()],
        &steps,
    ));
    for (buffer, values) in &optimizer_state.buffers {
        for (i, value) in values.iter().enumerate() {
            if let Some(array) = value {
                entries.push(Entry::floats(format!("optimizer.{buffer}.{i}"), array));
            }
        }
    }
    let mut metadata = extra.clone();
    let mut put = |key: &str, value: String| metadata.insert(key.to_string(), value);
    put(FORMAT_KEY, VERSION.into());
    put("epoch", state.epoch.to_string());
    put("steps", state.steps.to_string());
    put("history", state.history.to_json().to_string());
    let groups: Vec<Value> = optimizer_state
        .groups
        .iter()
        .map(|g| json!([g.params, number(g.lr), number(g.initial_lr)]))
        .collect();
    put("optimizer.groups", Value::Array(groups).to_string());
    put(
        "optimizer.buffers",
        json!(optimizer_state.buffers.keys().collect::<Vec<_>>()).to_string(),
    );
    if let Some(schedule) = schedule {
        let numbers = match schedule {
            Schedule::Epoch(s) | Schedule::Step(s) => s.state(),
            Schedule::Plateau(s, _) => s.state(),
        };
        let numbers: Vec<Value> = numbers
            .iter()
            .map(|(k, v)| json!([k, number(*v)]))
            .collect();
        put("scheduler", Value::Array(numbers).to_string());
    }
    if let Some(watch) = &state.watch {
        put(
            "early_stopping",
            json!({
                "best": number(watch.best),
                "best_epoch": watch.best_epoch,
                "bad_epochs": watch.bad_epochs,
            })
            .to_string(),
        );
        if let Some(best) = &watch.best_weights {
            entries.extend(weights_entries(model, best));
        }
    }
    for (name, rng) in model.named_rngs() {
        put(&format!("rng.{name}"), rng.state().to_text());
    }
    io::write_file(path, entries, &metadata).map_err(TrainError::Checkpoint)
}

/// `weights` (a copy of `model`'s) as `best.{name}` entries.
fn weights_entries<F: Float, M: Module<F> + ?Sized>(model: &M, weights: &Weights<F>) -> Vec<Entry> {
    let mut arrays = weights.arrays.iter();
    let mut counts = weights.counts.iter();
    let mut entries: Vec<Entry> = model
        .named_parameters()
        .into_iter()
        .map(|(name, _)| Entry::floats(format!("best.{name}"), arrays.next().expect("a copy")))
        .collect();
    for (name, buffer) in model.named_buffers() {
        entries.push(match buffer {
            Buffer::Float(_) => {
                Entry::floats(format!("best.{name}"), arrays.next().expect("a copy"))
            }
            Buffer::Count(_) => Entry::integers(
                format!("best.{name}"),
                Vec::new(),
                &[*counts.next().expect("a copy")],
            ),
        });
    }
    entries
}

/// Loads the run at `path` into `model`, `optimizer` and `schedule`, and returns where it
/// stood. Everything is read and checked before the model changes.
pub(crate) fn restore<F: Float, M: Module<F> + ?Sized>(
    path: &Path,
    model: &M,
    optimizer: &mut dyn Optimizer<F>,
    schedule: Option<&mut Schedule>,
    rule: Option<&EarlyStopping>,
) -> Result<RunState<F>, TrainError> {
    let bytes = std::fs::read(path).map_err(|e| TrainError::Checkpoint(io_error(path)(e)))?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| {
        TrainError::Checkpoint(IoError::Format {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })
    })?;
    let metadata = io::read_metadata(path)?;
    let (epoch, history) = run_of(path, &metadata)?;
    let floats = |name: &str| -> Result<ArrayD<F>, TrainError> {
        let tensor = file
            .tensor(name)
            .map_err(|_| resume_error(path, format!("tensor {name:?} is missing")))?;
        let values = decode_floats::<F>(&tensor)
            .ok_or_else(|| resume_error(path, format!("tensor {name:?} is not F32 or F64")))?;
        Ok(ArrayD::from_shape_vec(tensor.shape(), values).expect("safetensors checked the length"))
    };
    let integers = |name: &str| -> Result<Vec<i64>, TrainError> {
        let tensor = file
            .tensor(name)
            .map_err(|_| resume_error(path, format!("tensor {name:?} is missing")))?;
        if tensor.dtype() != Dtype::I64 {
            return Err(resume_error(path, format!("tensor {name:?} is not I64")));
        }
        Ok(tensor
            .data()
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    };
    let json = |key: &str| -> Result<Value, TrainError> {
        metadata
            .get(key)
            .and_then(|text| serde_json::from_str(text).ok())
            .ok_or_else(|| resume_error(path, format!("metadata {key:?} is missing or unreadable")))
    };

    // The optimizer's state.
    let steps: Vec<u64> = integers("optimizer.steps")?
        .into_iter()
        .map(|s| s.max(0) as u64)
        .collect();
    let groups = json("optimizer.groups")?
        .as_array()
        .and_then(|groups| {
            groups
                .iter()
                .map(|g| {
                    Some(GroupState {
                        params: usize::try_from(g[0].as_u64()?).ok()?,
                        lr: read_number(&g[1])?,
                        initial_lr: read_number(&g[2])?,
                    })
                })
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| resume_error(path, "optimizer.groups is not [[size, lr, initial_lr], …]"))?;
    let mut buffers = BTreeMap::new();
    for name in json("optimizer.buffers")?.as_array().into_iter().flatten() {
        let name = name
            .as_str()
            .ok_or_else(|| resume_error(path, "optimizer.buffers is not a list of names"))?;
        let values = (0..steps.len())
            .map(|i| {
                let key = format!("optimizer.{name}.{i}");
                file.tensor(&key).ok().map(|_| floats(&key)).transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        buffers.insert(name.to_string(), values);
    }
    let optimizer_state = OptimizerState {
        steps,
        buffers,
        groups,
    };

    // The scheduler's.
    let scheduler_state = match (&schedule, metadata.contains_key("scheduler")) {
        (Some(_), true) => Some(
            json("scheduler")?
                .as_array()
                .and_then(|pairs| {
                    pairs
                        .iter()
                        .map(|p| Some((p[0].as_str()?.to_string(), read_number(&p[1])?)))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or_else(|| resume_error(path, "scheduler is not [[name, value], …]"))?,
        ),
        (Some(_), false) => {
            return Err(resume_error(
                path,
                "the trainer has a scheduler but the checkpoint saved none",
            ))
        }
        (None, _) => None,
    };

    // Early stopping's.
    let watch = match rule {
        None => None,
        Some(rule) => {
            let saved = json("early_stopping").map_err(|_| {
                resume_error(
                    path,
                    "the trainer stops early but the checkpoint has no early-stopping state",
                )
            })?;
            let best_weights = if rule.restore_best_weights
                && file.names().iter().any(|n| n.starts_with("best."))
            {
                let mut arrays = Vec::new();
                let mut counts = Vec::new();
                for (name, _) in model.named_parameters() {
                    arrays.push(floats(&format!("best.{name}"))?);
                }
                for (name, buffer) in model.named_buffers() {
                    match buffer {
                        Buffer::Float(_) => arrays.push(floats(&format!("best.{name}"))?),
                        Buffer::Count(_) => counts.push(integers(&format!("best.{name}"))?[0]),
                    }
                }
                Some(Weights { arrays, counts })
            } else {
                None
            };
            let bad = || resume_error(path, "early_stopping is not {best, best_epoch, bad_epochs}");
            Some(Watch {
                best: read_number(&saved["best"]).ok_or_else(bad)?,
                best_epoch: usize::try_from(saved["best_epoch"].as_u64().ok_or_else(bad)?)
                    .map_err(|_| bad())?,
                bad_epochs: usize::try_from(saved["bad_epochs"].as_u64().ok_or_else(bad)?)
                    .map_err(|_| bad())?,
                best_weights,
            })
        }
    };

    // The generators'.
    let rngs = model
        .named_rngs()
        .into_iter()
        .map(|(name, rng)| {
            let state = metadata
                .get(&format!("rng.{name}"))
                .and_then(|text| RngState::from_text(text))
                .ok_or_else(|| {
                    resume_error(path, format!("generator {name:?} has no saved state"))
                })?;
            Ok((rng, state))
        })
        .collect::<Result<Vec<_>, TrainError>>()?;

    // Everything is read: now change things, putting the model and optimizer back as they
    // were if a part does not fit (io::load itself checks every tensor before setting any).
    let (model_before, optimizer_before) = (Weights::of(model), optimizer.state());
    io::load(model, path)?;
    let loaded =
        optimizer
            .load_state(optimizer_state)
            .and_then(|()| match (schedule, scheduler_state) {
                (Some(Schedule::Epoch(s) | Schedule::Step(s)), Some(numbers)) => {
                    s.load_state(&numbers)
                }
                (Some(Schedule::Plateau(s, _)), Some(numbers)) => s.load_state(&numbers),
                _ => Ok(()),
            });
    if let Err(e) = loaded {
        model_before.restore(model);
        optimizer
            .load_state(optimizer_before)
            .expect("the optimizer's own state");
        return Err(TrainError::Optimizer(e));
    }
    for (rng, state) in rngs {
        rng.restore(&state);
    }
    // Files from before the step count was kept read 0: a step budget counts from the resume.
    let steps = metadata
        .get("steps")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(RunState {
        epoch,
        steps,
        history,
        watch,
    })
}
