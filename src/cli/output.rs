//! Output files are written whole or not at all, and never over the user's other files:
//! through `tapegrad_models::atomic` (a temporary file beside the target, flushed, then renamed
//! over it; symlinks written through as `cp` does; folders, devices and FIFOs never replaced;
//! temporary files of killed runs cleaned up). Every output path is checked before the work
//! starts, against the folder and against the command's own inputs and other outputs.

use std::path::{Path, PathBuf};

use tapegrad::models::atomic::{check_output, same_file, write_atomically as write_whole};

use super::error::CliError;

/// Fails early, before any training, when an output cannot be written where asked: its
/// folder is missing or read-only, the path is a folder, a device or a FIFO, or it is one of
/// the command's `inputs` (`--save data.csv` would replace the training data) or another of
/// its `outputs` (`--save x.svg --plot x.svg`).
///
/// # Errors
/// `Write` (or `Usage` for a collision), saying which.
pub fn check_outputs(outputs: &[(&str, &Path)], inputs: &[(&str, &Path)]) -> Result<(), CliError> {
    for (i, &(flag, path)) in outputs.iter().enumerate() {
        let earlier = inputs.iter().chain(&outputs[..i]);
        if let Some((other, _)) = earlier.clone().find(|(_, p)| same_file(path, p)) {
            return Err(CliError::Usage(format!(
                "{flag} {:?} is the same file as {other}; it would be overwritten",
                path.display()
            )));
        }
        check_output(path).map_err(|e| write_error(path, &e))?;
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically (see the module docs).
///
/// # Errors
/// `Write` when the folder cannot be written or the rename fails; the temporary file is
/// removed and an existing file at `path` is untouched.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    write_whole(path, bytes).map_err(|e| write_error(path, &e))
}

fn write_error(path: &Path, e: &std::io::Error) -> CliError {
    CliError::Write {
        path: PathBuf::from(path),
        detail: e.to_string(),
    }
}
