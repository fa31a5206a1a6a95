//! Standard output that never panics: `println!` panics when stdout is closed (`tapegrad fit
//! | head -1`) or full (`> /dev/full`). Every line the command prints goes through [`say!`]
//! instead, which writes to stdout and remembers the first write error; once stdout has
//! failed, later lines are dropped and the work itself goes on (a `fit` still trains and
//! saves its model). At the end, [`finish`] turns the remembered error into the command's
//! result: a closed pipe ends the command quietly with success, as `head`'s writers do when
//! Unix stops them; any other failure (a full disk) is an error.
//!
//! [`say!`]: crate::cli::console::say

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::error::CliError;

/// The first error met writing to stdout, if any.
static FAILED: Mutex<Option<std::io::Error>> = Mutex::new(None);

/// Whether [`say!`] lines are dropped (`--quiet`, `--json`).
static QUIET: AtomicBool = AtomicBool::new(false);

/// Drops every later [`say!`] line; [`write_all`] still writes.
pub fn set_quiet() {
    QUIET.store(true, Ordering::Relaxed);
}

/// Whether output is being dropped (so a caller can skip drawing a progress bar).
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Writes one formatted line to stdout (see the module docs).
macro_rules! say {
    () => {
        $crate::cli::console::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::cli::console::line(format_args!($($arg)*))
    };
}
pub(crate) use say;

/// Writes `text` and a newline to stdout, unless stdout has already failed.
pub fn line(text: std::fmt::Arguments) {
    if is_quiet() {
        return;
    }
    let mut failed = FAILED.lock().unwrap_or_else(|e| e.into_inner());
    if failed.is_some() {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        *failed = Some(e);
    }
}

/// Writes `bytes` to stdout as they are (no newline added).
///
/// # Errors
/// As [`finish`].
pub fn write_all(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        let mut failed = FAILED.lock().unwrap_or_else(|e| e.into_inner());
        failed.get_or_insert(e);
    }
    finish()
}

/// The command's verdict on its output: `Ok` when every line was written or the reader
/// closed the pipe early, an error naming stdout otherwise.
///
/// # Errors
/// `Write` for any failure other than a closed pipe.
pub fn finish() -> Result<(), CliError> {
    match &*FAILED.lock().unwrap_or_else(|e| e.into_inner()) {
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Write {
            path: "stdout".into(),
            detail: e.to_string(),
        }),
        _ => Ok(()),
    }
}
