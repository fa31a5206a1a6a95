//! Saving and loading a module's parameters in the safetensors format.
//!
//! Each parameter is stored under its name from [`Module::named_parameters`] (`0.weight`, …)
//! as a little-endian F32 or F64 array, in PyTorch's names and layouts (`Linear`'s weight is
//! `[out, in]`, as in `torch.nn.Linear`), so `safetensors.torch.load_file` followed by
//! `load_state_dict` moves the weights into the same torch module with no transposing.
//!
//! Buffers (non-trainable state such as batch normalisation's running statistics, listed by
//! [`Module::named_buffers`]) are stored after the parameters under their names as well:
//! float buffers like parameters, counters (`num_batches_tracked`) as I64 scalars of shape
//! `[]`, as PyTorch stores them, so `torch.nn.Module.load_state_dict` accepts the file and a
//! torch `state_dict` saved with `safetensors.torch.save_file` loads here.
//!
//! Files are never left half-written: [`save`] writes through
//! [`atomic::write_atomically`](crate::atomic::write_atomically) (a temporary file in the
//! target's folder, flushed, then renamed over the target; symlinks written through, never a
//! folder or a device replaced), so a crash mid-save leaves the previous file intact. The
//! same weights give the same bytes on every run: the header's keys are sorted. [`load`]
//! checks every tensor (present, same shape, a float type, every value finite) before
//! changing any parameter or buffer, so a bad file leaves the model as it was.
//!
//! ```
//! use tapegrad_models::io::{load, save};
//! use tapegrad_models::module::{Linear, Module};
//! let dir = std::env::temp_dir().join(format!("tapegrad-io-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("layer.safetensors");
//! let trained = Linear::<f32>::new(3, 2, 1);
//! save(&trained, &path).unwrap();
//! let fresh = Linear::<f32>::new(3, 2, 99);
//! load(&fresh, &path).unwrap();
//! assert_eq!(fresh.parameters()[0].value(), trained.parameters()[0].value());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use ndarray::ArrayD;
use safetensors::tensor::{Dtype, SafeTensors};
use tapegrad_tensor::Float;

use crate::atomic::write_atomically;
use crate::buffer::Buffer;
use crate::module::Module;

/// What can go wrong saving or loading weights; every message names the file.
#[derive(Debug)]
#[non_exhaustive]
pub enum IoError {
    /// The file could not be read, written or renamed.
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The bytes are not a valid safetensors file (truncated, corrupt header, …).
    Format {
        /// The file.
        path: PathBuf,
        /// What the parser found wrong.
        detail: String,
    },
    /// The model has a parameter or buffer the file does not.
    Missing {
        /// The file.
        path: PathBuf,
        /// The parameter's name.
        name: String,
    },
    /// A tensor's shape differs from the parameter's.
    Shape {
        /// The file.
        path: PathBuf,
        /// The parameter's name.
        name: String,
        /// The shape in the file.
        file: Vec<usize>,
        /// The shape the model expects.
        model: Vec<usize>,
    },
    /// A tensor holds NaN or an infinity: weights like that predict nonsense (every class
    /// the same, every number NaN), so they are refused rather than loaded.
    NonFinite {
        /// The file.
        path: PathBuf,
        /// The parameter's name.
        name: String,
        /// The first bad value's position in row-major order.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A tensor is stored in a type the model cannot take: parameters and float buffers
    /// load from F32 or F64, counters from I64 (or I32).
    Dtype {
        /// The file.
        path: PathBuf,
        /// The parameter's or buffer's name.
        name: String,
        /// The type in the file, as safetensors names it.
        found: String,
        /// The types that would load, in words (`"F32 and F64"`).
        allowed: &'static str,
    },
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IoError::Io { path, source } => write!(f, "weights {:?}: {source}", path.display()),
            IoError::Format { path, detail } => {
                write!(f, "load_weights {:?}: not a valid safetensors file: {detail}", path.display())
            }
            IoError::Missing { path, name } => {
                write!(f, "load_weights {:?}: tensor {name:?} is missing from the file", path.display())
            }
            IoError::Shape { path, name, file, model } => write!(
                f,
                "load_weights {:?}: tensor {name:?} has shape {file:?}, the model expects {model:?}",
                path.display()
            ),
            IoError::NonFinite { path, name, index, value } => write!(
                f,
                "load_weights {:?}: tensor {name:?} holds {value} at position {index}; weights must be finite",
                path.display()
            ),
            IoError::Dtype { path, name, found, allowed } => write!(
                f,
                "load_weights {:?}: tensor {name:?} is stored as {found}; only {allowed} load",
                path.display()
            ),
        }
    }
}

impl std::error::Error for IoError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            IoError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub(crate) fn io_error(path: &Path) -> impl Fn(std::io::Error) -> IoError + '_ {
    move |source| IoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The little-endian bytes of an array's values in row-major order.
pub(crate) fn to_bytes<F: Float>(values: &ArrayD<F>) -> (Dtype, Vec<u8>) {
    if F::NAME == "f64" {
        (
            Dtype::F64,
            values
                .iter()
                .flat_map(|v| v.as_f64().to_le_bytes())
                .collect(),
        )
    } else {
        (
            Dtype::F32,
            values
                .iter()
                .flat_map(|v| (v.as_f64() as f32).to_le_bytes())
                .collect(),
        )
    }
}

/// One tensor as it goes into a file.
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) dtype: Dtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) bytes: Vec<u8>,
}

impl Entry {
    /// A float array under `name`, in the model's float type.
    pub(crate) fn floats<F: Float>(name: String, values: &ArrayD<F>) -> Self {
        let (dtype, bytes) = to_bytes(values);
        Entry {
            name,
            dtype,
            shape: values.shape().to_vec(),
            bytes,
        }
    }

    /// Whole numbers under `name`, as an I64 array of `shape`.
    pub(crate) fn integers(name: String, shape: Vec<usize>, values: &[i64]) -> Self {
        Entry {
            name,
            dtype: Dtype::I64,
            shape,
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
}

/// The bytes of a safetensors file holding `entries` and `metadata`, the same bytes for the
/// same contents every time: the header's keys in sorted order and the tensors' data in the
/// order of their names. The format is an 8-byte little-endian header length, the JSON
/// header (each tensor's dtype, shape and byte range; `__metadata__` for the text), padded
/// with spaces to a multiple of 8 bytes, then the tensors' bytes back to back.
pub(crate) fn serialize(mut entries: Vec<Entry>, metadata: &Metadata) -> Vec<u8> {
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        let text = metadata
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        header.insert("__metadata__".into(), serde_json::Value::Object(text));
    }
    let mut offset = 0;
    for entry in &entries {
        let end = offset + entry.bytes.len();
        header.insert(
            entry.name.clone(),
            serde_json::json!({
                "dtype": format!("{:?}", entry.dtype),
                "shape": entry.shape,
                "data_offsets": [offset, end],
            }),
        );
        offset = end;
    }
    let mut json = serde_json::Value::Object(header).to_string().into_bytes();
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut bytes = Vec::with_capacity(8 + json.len() + offset);
    bytes.extend_from_slice(&(json.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&json);
    for entry in &entries {
        bytes.extend_from_slice(&entry.bytes);
    }
    bytes
}

/// Writes every parameter and buffer of `module` to `path` in safetensors format, atomically
/// (temporary file, flush, rename).
///
/// # Errors
/// `Io` when the folder cannot be written or the rename fails; the previous file, if any, is
/// then untouched.
pub fn save<F: Float, M: Module<F> + ?Sized>(
    module: &M,
    path: impl AsRef<Path>,
) -> Result<(), IoError> {
    save_with_metadata(module, &Metadata::new(), path)
}

/// Free-form text stored in a safetensors header beside the tensors (what model the weights
/// belong to, the feature names, …); PyTorch's reader returns it as `metadata()`.
pub type Metadata = BTreeMap<String, String>;

/// [`save`], with `metadata` written into the file's header.
///
/// # Errors
/// As [`save`].
pub fn save_with_metadata<F: Float, M: Module<F> + ?Sized>(
    module: &M,
    metadata: &Metadata,
    path: impl AsRef<Path>,
) -> Result<(), IoError> {
    let path = path.as_ref();
    write_file(path, module_entries(module, ""), metadata)
}

/// The values of an F32 or F64 tensor in the model's float type; `None` for other types.
pub(crate) fn decode_floats<F: Float>(
    tensor: &safetensors::tensor::TensorView<'_>,
) -> Option<Vec<F>> {
    match tensor.dtype() {
        Dtype::F32 => Some(
            tensor
                .data()
                .chunks_exact(4)
                .map(|c| {
                    F::from_f64(f64::from(f32::from_le_bytes(
                        c.try_into().expect("4 bytes"),
                    )))
                })
                .collect(),
        ),
        Dtype::F64 => Some(
            tensor
                .data()
                .chunks_exact(8)
                .map(|c| F::from_f64(f64::from_le_bytes(c.try_into().expect("8 bytes"))))
                .collect(),
        ),
        _ => None,
    }
}

/// Writes `entries` and `metadata` to `path` as a safetensors file, atomically.
pub(crate) fn write_file(
    path: &Path,
    entries: Vec<Entry>,
    metadata: &Metadata,
) -> Result<(), IoError> {
    write_atomically(path, &serialize(entries, metadata)).map_err(io_error(path))
}

/// Every parameter and buffer of `module` as entries, each name prefixed with `prefix`.
pub(crate) fn module_entries<F: Float, M: Module<F> + ?Sized>(
    module: &M,
    prefix: &str,
) -> Vec<Entry> {
    let mut entries: Vec<Entry> = module
        .named_parameters()
        .into_iter()
        .map(|(name, p)| Entry::floats(format!("{prefix}{name}"), &p.value()))
        .collect();
    for (name, buffer) in module.named_buffers() {
        let name = format!("{prefix}{name}");
        entries.push(match buffer {
            Buffer::Float(p) => Entry::floats(name, &p.value()),
            Buffer::Count(c) => Entry::integers(name, Vec::new(), &[c.get()]),
        });
    }
    entries
}

/// The metadata in the header of the safetensors file at `path` (empty when it has none),
/// read without loading the tensors: enough to know which model to build before [`load`].
///
/// # Errors
/// `Io` when the file cannot be read, `Format` when it is not valid safetensors.
pub fn read_metadata(path: impl AsRef<Path>) -> Result<Metadata, IoError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| IoError::Format {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    Ok(header
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect())
}

/// One tensor of a safetensors file, as its header describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// Its name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its element type, as safetensors names it (`"F32"`, `"I64"`, …).
    pub dtype: String,
}

/// The tensors of the safetensors file at `path`, in name order, read from its header only.
///
/// # Errors
/// `Io` when the file cannot be read, `Format` when it is not valid safetensors.
pub fn list_tensors(path: impl AsRef<Path>) -> Result<Vec<TensorInfo>, IoError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| IoError::Format {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let mut tensors: Vec<TensorInfo> = header
        .tensors()
        .into_iter()
        .map(|(name, info)| TensorInfo {
            name,
            shape: info.shape.clone(),
            dtype: format!("{:?}", info.dtype),
        })
        .collect();
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tensors)
}

/// Reads `path` and sets every parameter and buffer of `module` from the tensor of the same
/// name. All tensors are checked first: on any error, nothing has changed. Tensors in the
/// file that the model does not name are ignored.
///
/// # Errors
/// `Io` when the file cannot be read, `Format` when it is not valid safetensors, `Missing`,
/// `Shape` or `Dtype` when a tensor is absent, shaped differently, or of a type that does
/// not fit (a float for parameters and float buffers, I64 or I32 for counters).
pub fn load<F: Float, M: Module<F> + ?Sized>(
    module: &M,
    path: impl AsRef<Path>,
) -> Result<(), IoError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| IoError::Format {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let mut floats = Vec::new();
    let buffers = module.named_buffers().into_iter().map(|(name, b)| match b {
        Buffer::Float(p) => (name, Err(p)),
        Buffer::Count(c) => (name, Ok(c)),
    });
    let tensors = module
        .named_parameters()
        .into_iter()
        .map(|(name, p)| (name, Err(p)))
        .chain(buffers);
    let mut counts = Vec::new();
    for (name, slot) in tensors {
        let tensor = file.tensor(&name).map_err(|_| IoError::Missing {
            path: path.to_path_buf(),
            name: name.clone(),
        })?;
        let expected = match &slot {
            Err(param) => param.shape().to_vec(),
            Ok(_) => Vec::new(),
        };
        if tensor.shape() != expected {
            return Err(IoError::Shape {
                path: path.to_path_buf(),
                name,
                file: tensor.shape().to_vec(),
                model: expected,
            });
        }
        let wrong_type = |allowed: &'static str| IoError::Dtype {
            path: path.to_path_buf(),
            name: name.clone(),
            found: format!("{:?}", tensor.dtype()),
            allowed,
        };
        let param = match slot {
            Ok(counter) => {
                let count = match tensor.dtype() {
                    Dtype::I64 => i64::from_le_bytes(tensor.data().try_into().expect("8 bytes")),
                    Dtype::I32 => i64::from(i32::from_le_bytes(
                        tensor.data().try_into().expect("4 bytes"),
                    )),
                    _ => return Err(wrong_type("I64 and I32")),
                };
                counts.push((counter, count));
                continue;
            }
            Err(param) => param,
        };
        let Some(data) = decode_floats::<F>(&tensor) else {
            return Err(wrong_type("F32 and F64"));
        };
        if let Some(index) = data.iter().position(|v| !v.is_finite()) {
            return Err(IoError::NonFinite {
                path: path.to_path_buf(),
                name,
                index,
                value: data[index].as_f64(),
            });
        }
        let array =
            ArrayD::from_shape_vec(param.shape(), data).expect("safetensors checked the length");
        floats.push((param, array));
    }
    for (param, array) in floats {
        param.set_value(array).expect("shapes were checked");
    }
    for (counter, count) in counts {
        counter.set(count);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::module::{Activation, Linear, Sequential};
    use safetensors::tensor::TensorView;

    fn folder(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tapegrad-io-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn mlp(seed: u64) -> Sequential<f64> {
        Sequential::new(vec![
            Box::new(Linear::new(3, 4, seed)),
            Box::new(Activation::Relu),
            Box::new(Linear::new(4, 2, seed + 1)),
        ])
    }

    #[test]
    fn round_trip_is_bit_exact_and_replaces_atomically() {
        let dir = folder("round-trip");
        let path = dir.join("model.safetensors");
        std::fs::write(&path, b"an older file").unwrap();
        let trained = mlp(1);
        save(&trained, &path).unwrap();
        let fresh = mlp(7);
        load(&fresh, &path).unwrap();
        for ((n1, p1), (n2, p2)) in trained
            .named_parameters()
            .iter()
            .zip(fresh.named_parameters())
        {
            assert_eq!((n1, p1.value()), (&n2, p2.value()));
        }
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            leftovers.len(),
            1,
            "no temporary file is left behind: {leftovers:?}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn metadata_round_trips_and_plain_files_have_none() {
        let dir = folder("metadata");
        let (plain, tagged) = (
            dir.join("plain.safetensors"),
            dir.join("tagged.safetensors"),
        );
        let model = mlp(3);
        save(&model, &plain).unwrap();
        let metadata = Metadata::from([
            ("model".to_string(), "mlp".to_string()),
            ("features".to_string(), "a,b,c".to_string()),
        ]);
        save_with_metadata(&model, &metadata, &tagged).unwrap();
        assert_eq!(read_metadata(&plain).unwrap(), Metadata::new());
        assert_eq!(read_metadata(&tagged).unwrap(), metadata);
        load(&mlp(4), &tagged).unwrap();
        std::fs::write(&plain, b"\x05").unwrap();
        assert!(matches!(read_metadata(&plain), Err(IoError::Format { .. })));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_files_are_typed_errors_and_change_nothing() {
        let dir = folder("bad");
        let path = dir.join("model.safetensors");
        save(&mlp(1), &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let model = mlp(5);
        let before: Vec<_> = model.parameters().iter().map(|p| p.value()).collect();

        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = load(&model, &path).unwrap_err();
        assert!(matches!(err, IoError::Format { .. }), "{err}");
        assert!(
            err.to_string().contains("not a valid safetensors file"),
            "{err}"
        );

        std::fs::write(&path, b"\xff\xff\xff\xff\xff\xff\xff\xff garbage").unwrap();
        assert!(matches!(
            load(&model, &path).unwrap_err(),
            IoError::Format { .. }
        ));

        let wider = Sequential::<f64>::new(vec![Box::new(Linear::new(4, 4, 1))]);
        save(&wider, &path).unwrap();
        let err = load(&model, &path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "load_weights {:?}: tensor \"0.weight\" has shape [4, 4], the model expects [4, 3]",
                path.display()
            )
        );

        let only_first = Sequential::<f64>::new(vec![Box::new(Linear::new(3, 4, 1))]);
        save(&only_first, &path).unwrap();
        assert!(
            matches!(load(&model, &path).unwrap_err(), IoError::Missing { ref name, .. } if name == "2.weight")
        );

        let missing = dir.join("absent.safetensors");
        assert!(matches!(
            load(&model, &missing).unwrap_err(),
            IoError::Io { .. }
        ));
        let after: Vec<_> = model.parameters().iter().map(|p| p.value()).collect();
        assert_eq!(before, after, "failed loads changed nothing");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn f32_files_load_into_f64_models() {
        let dir = folder("cast");
        let path = dir.join("small.safetensors");
        let small = Linear::<f32>::new(2, 2, 3);
        save(&small, &path).unwrap();
        let wide = Linear::<f64>::new(2, 2, 4);
        load(&wide, &path).unwrap();
        let expected: Vec<f64> = small.parameters()[0]
            .value()
            .iter()
            .map(|&v| f64::from(v))
            .collect();
        assert_eq!(
            wide.parameters()[0]
                .value()
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            expected
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn normed(seed: u64) -> Sequential<f64> {
        Sequential::new(vec![
            Box::new(Linear::new(3, 2, seed)),
            Box::new(crate::module::BatchNorm1d::new(2)),
        ])
    }

    #[test]
    fn buffers_round_trip_with_their_types_and_optimizers_never_see_them() {
        let dir = folder("buffers");
        let path = dir.join("normed.safetensors");
        let trained = normed(1);
        for seed in 0..3 {
            trained.forward(&tapegrad_tensor::Tensor::randn(&[5, 3], 1.0, 2.0, seed));
        }
        save(&trained, &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        let count = file.tensor("1.num_batches_tracked").unwrap();
        assert_eq!((count.dtype(), count.shape()), (Dtype::I64, &[][..]));
        assert_eq!(count.data(), 3i64.to_le_bytes());
        assert_eq!(file.tensor("1.running_var").unwrap().dtype(), Dtype::F64);

        let fresh = normed(9);
        let names: Vec<String> = fresh
            .named_parameters()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["0.weight", "0.bias", "1.weight", "1.bias"]);
        load(&fresh, &path).unwrap();
        let state = |m: &Sequential<f64>| -> Vec<(String, Vec<f64>)> {
            m.named_buffers()
                .into_iter()
                .map(|(name, b)| match b {
                    Buffer::Float(p) => (name, p.value().iter().copied().collect()),
                    Buffer::Count(c) => (name, vec![c.get() as f64]),
                })
                .collect()
        };
        assert_eq!(state(&fresh), state(&trained));
        assert_eq!(
            state(&fresh)[2],
            ("1.num_batches_tracked".to_string(), vec![3.0])
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_bad_buffer_fails_the_load_before_anything_changes() {
        let dir = folder("bad-buffer");
        let path = dir.join("normed.safetensors");
        // A file whose counter is a float, as a hand-made export might write it.
        let model = normed(1);
        let mut tensors: Vec<(String, TensorView<'_>)> = Vec::new();
        let arrays: Vec<(String, Vec<usize>, Vec<u8>, Dtype)> = model
            .named_parameters()
            .into_iter()
            .map(|(n, p)| {
                let (dtype, bytes) = to_bytes(&p.value());
                (n, p.shape().to_vec(), bytes, dtype)
            })
            .chain([
                (
                    "1.running_mean".into(),
                    vec![2],
                    to_bytes(&ArrayD::from_elem(vec![2], 5.0f64)).1,
                    Dtype::F64,
                ),
                (
                    "1.running_var".into(),
                    vec![2],
                    to_bytes(&ArrayD::from_elem(vec![2], 5.0f64)).1,
                    Dtype::F64,
                ),
                (
                    "1.num_batches_tracked".into(),
                    vec![],
                    3.0f32.to_le_bytes().to_vec(),
                    Dtype::F32,
                ),
            ])
            .collect();
        for (name, shape, bytes, dtype) in &arrays {
            tensors.push((
                name.clone(),
                TensorView::new(*dtype, shape.clone(), bytes).unwrap(),
            ));
        }
        std::fs::write(&path, safetensors::serialize(tensors, None).unwrap()).unwrap();
        let fresh = normed(2);
        let before: Vec<_> = fresh.parameters().iter().map(|p| p.value()).collect();
        let err = load(&fresh, &path).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "load_weights {:?}: tensor \"1.num_batches_tracked\" is stored as F32; only I64 and I32 load",
                path.display()
            )
        );
        let after: Vec<_> = fresh.parameters().iter().map(|p| p.value()).collect();
        assert_eq!(before, after);
        let Buffer::Float(mean) = &fresh.named_buffers()[0].1 else {
            panic!()
        };
        assert_eq!(
            mean.value().iter().copied().collect::<Vec<_>>(),
            [0.0, 0.0],
            "buffers unchanged too"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
