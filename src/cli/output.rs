//! Output files are written whole or not at all: into a temporary file in the target's
//! folder, flushed, then renamed over the target, so an existing file is never left
//! half-written and a failed write leaves nothing behind.

use std::io::Write;
use std::path::Path;

use super::error::CliError;

/// Fails early, before any training, when `path` cannot be an output file: its folder does
/// not exist, or it names a folder.
///
/// # Errors
/// `Write`, saying which.
pub fn check_writable(path: &Path) -> Result<(), CliError> {
    let fail = |detail: &str| {
        Err(CliError::Write {
            path: path.to_path_buf(),
            detail: detail.to_string(),
        })
    };
    if path.is_dir() {
        return fail("it is a folder");
    }
    if !folder_of(path).is_dir() {
        return fail("its folder does not exist");
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, flushed to disk, then
/// renamed over it (the way `tapegrad_models::io::save` writes weights).
///
/// # Errors
/// `Write` when the folder cannot be written or the rename fails; the temporary file is
/// removed and an existing file at `path` is untouched.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = folder_of(path).join(format!(".{name}.tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        CliError::Write {
            path: path.to_path_buf(),
            detail: e.to_string(),
        }
    })
}

/// The folder `path` is in (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}
