//! Saving and loading a module's parameters in the safetensors format.
//!
//! Each parameter is stored under its name from [`Module::named_parameters`] (`0.weight`, …)
//! as a little-endian F32 or F64 array, in PyTorch's names and layouts (`Linear`'s weight is
//! `[out, in]`, as in `torch.nn.Linear`), so `safetensors.torch.load_file` followed by
//! `load_state_dict` moves the weights into the same torch module with no transposing.
//!
//! Files are never left half-written: [`save`] writes through
//! [`atomic::write_atomically`](crate::atomic::write_atomically) (a temporary file in the
//! target's folder, flushed, then renamed over the target; symlinks written through, never a
//! folder or a device replaced), so a crash mid-save leaves the previous file intact. The
//! same weights give the same bytes on every run: the header's keys are sorted. [`load`]
//! checks every tensor (present, same shape, a float type, every value finite) before
//! changing any parameter, so a bad file leaves the model as it was.
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
    /// The model has a parameter the file does not.
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
    /// A tensor is stored as something other than F32 or F64.
    Dtype {
        /// The file.
        path: PathBuf,
        /// The parameter's name.
        name: String,
        /// The type in the file, as safetensors names it.
        found: String,
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
            IoError::Dtype { path, name, found } => write!(
                f,
                "load_weights {:?}: tensor {name:?} is stored as {found}; only F32 and F64 load",
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

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> IoError + '_ {
    move |source| IoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The little-endian bytes of an array's values in row-major order.
fn to_bytes<F: Float>(values: &ArrayD<F>) -> (Dtype, Vec<u8>) {
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
struct Entry {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

/// The bytes of a safetensors file holding `entries` and `metadata`, the same bytes for the
/// same contents every time: the header's keys in sorted order and the tensors' data in the
/// order of their names. The format is an 8-byte little-endian header length, the JSON
/// header (each tensor's dtype, shape and byte range; `__metadata__` for the text), padded
/// with spaces to a multiple of 8 bytes, then the tensors' bytes back to back.
fn serialize(mut entries: Vec<Entry>, metadata: &Metadata) -> Vec<u8> {
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

/// Writes every parameter of `module` to `path` in safetensors format, atomically (temporary
/// file, flush, rename).
///
/// # Errors
/// `Io` when the folder cannot be written or the rename fails; the previous file, if any, is
/// then untouched.
pub fn save<F: Float>(module: &dyn Module<F>, path: impl AsRef<Path>) -> Result<(), IoError> {
    save_with_metadata(module, &Metadata::new(), path)
}

/// Free-form text stored in a safetensors header beside the tensors (what model the weights
/// belong to, the feature names, …); PyTorch's reader returns it as `metadata()`.
pub type Metadata = BTreeMap<String, String>;

/// [`save`], with `metadata` written into the file's header.
///
/// # Errors
/// As [`save`].
pub fn save_with_metadata<F: Float>(
    module: &dyn Module<F>,
    metadata: &Metadata,
    path: impl AsRef<Path>,
) -> Result<(), IoError> {
    let path = path.as_ref();
    let entries = module
        .named_parameters()
        .into_iter()
        .map(|(name, p)| {
            let (dtype, bytes) = to_bytes(&p.value());
            Entry {
                name,
                dtype,
                shape: p.shape().to_vec(),
                bytes,
            }
        })
        .collect();
    let bytes = serialize(entries, metadata);
    write_atomically(path, &bytes).map_err(io_error(path))
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

/// Reads `path` and sets every parameter of `module` from the tensor of the same name. All
/// tensors are checked first: on any error, no parameter has changed.
///
/// # Errors
/// `Io` when the file cannot be read, `Format` when it is not valid safetensors, `Missing`,
/// `Shape` or `Dtype` when a parameter's tensor is absent, shaped differently, or not a float.
pub fn load<F: Float>(module: &dyn Module<F>, path: impl AsRef<Path>) -> Result<(), IoError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    let file = SafeTensors::deserialize(&bytes).map_err(|e| IoError::Format {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let mut values = Vec::new();
    for (name, param) in module.named_parameters() {
        let tensor = file.tensor(&name).map_err(|_| IoError::Missing {
            path: path.to_path_buf(),
            name: name.clone(),
        })?;
        if tensor.shape() != param.shape() {
            return Err(IoError::Shape {
                path: path.to_path_buf(),
                name,
                file: tensor.shape().to_vec(),
                model: param.shape().to_vec(),
            });
        }
        let data: Vec<F> = match tensor.dtype() {
            Dtype::F32 => tensor
                .data()
                .chunks_exact(4)
                .map(|c| {
                    F::from_f64(f64::from(f32::from_le_bytes(
                        c.try_into().expect("4 bytes"),
                    )))
                })
                .collect(),
            Dtype::F64 => tensor
                .data()
                .chunks_exact(8)
                .map(|c| F::from_f64(f64::from_le_bytes(c.try_into().expect("8 bytes"))))
                .collect(),
            other => {
                return Err(IoError::Dtype {
                    path: path.to_path_buf(),
                    name,
                    found: format!("{other:?}"),
                })
            }
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
        values.push((param, array));
    }
    for (param, array) in values {
        param.set_value(array).expect("shapes were checked");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::module::{Activation, Linear, Sequential};

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
                "load_weights {:?}: tensor \"0.weight\" has shape [4, 4], the model expects [3, 4]",
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
}
