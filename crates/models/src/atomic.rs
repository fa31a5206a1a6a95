//! Writing an output file whole or not at all, and never over something that is not an
//! ordinary file.
//!
//! [`write_atomically`] writes into a temporary file beside the target, flushes it to disk and
//! renames it over the target: a crash or a kill mid-write leaves the previous file intact.
//! Around that core it keeps four promises that a user's files depend on:
//!
//! - **a symlink is written through**, as `cp` does: the file it points to is replaced, and
//!   the link stays a link;
//! - **only regular files are replaced**: a folder, a device such as `/dev/null`, a FIFO or a
//!   socket at the path is an error, never renamed over;
//! - **the target keeps its permissions** (the new file takes the old one's mode);
//! - **no temporary files pile up**: they are named `.NAME.tmp-PID`, and a write removes the
//!   ones of the same target whose process has gone (killed mid-save), where the system can
//!   tell (Linux's `/proc`); elsewhere, those older than a day.
//!
//! [`check_output`] runs the same checks, plus a trial file in the folder, before any long
//! work, so that an unwritable path fails in a second rather than after the training.
//!
//! ```
//! use tapegrad_models::atomic::write_atomically;
//! let dir = std::env::temp_dir().join(format!("tapegrad-atomic-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("notes.txt");
//! write_atomically(&path, b"first").unwrap();
//! write_atomically(&path, b"second").unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"second");
//! assert!(write_atomically(&dir, b"x").is_err()); // a folder is never replaced
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How many symlinks are followed before giving up (Linux's own limit).
const MAX_LINKS: usize = 40;

/// How old a temporary file of another process must be to count as abandoned where the
/// system cannot say whether that process still runs.
const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Writes `bytes` to `path` atomically; see the [module docs](self).
///
/// # Errors
/// The operating system's error when the folder cannot be written or the rename fails, and
/// `InvalidInput` when `path` (or what its symlinks point to) is not a regular file. On any
/// error the temporary file is removed and the target is untouched.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let target = resolve(path)?;
    let (folder, name) = split(&target)?;
    remove_stale_temporaries(folder, &name);
    let temporary = temporary_path(folder, &name);
    let write = || -> io::Result<()> {
        let mut file = create_new(&temporary)?;
        if let Ok(existing) = fs::metadata(&target) {
            file.set_permissions(existing.permissions())?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, &target)
    };
    write().inspect_err(|_| {
        let _ = fs::remove_file(&temporary);
    })?;
    // Make the rename itself durable; a folder that cannot be opened for this is no error.
    if let Ok(dir) = fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Checks, before any work, that [`write_atomically`] could write `path`: what is there (after
/// following symlinks) is nothing or a regular file, and its folder exists and takes a new
/// file (a trial file is created and removed).
///
/// # Errors
/// As [`write_atomically`].
pub fn check_output(path: &Path) -> io::Result<()> {
    let target = resolve(path)?;
    let (folder, name) = split(&target)?;
    if !folder.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("its folder {:?} does not exist", folder.display()),
        ));
    }
    let trial = temporary_path(folder, &name);
    create_new(&trial)?;
    fs::remove_file(&trial)
}

/// Whether `a` and `b` name the same file: the same path once symlinks and `..` are resolved,
/// or (on Unix) the same file reached through two hard links. A path that does not exist yet
/// is compared by where it would be created.
pub fn same_file(a: &Path, b: &Path) -> bool {
    let where_ = |p: &Path| {
        let target = resolve(p).unwrap_or_else(|_| p.to_path_buf());
        match (target.parent(), target.file_name()) {
            (Some(parent), Some(name)) => {
                let parent = if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                };
                fs::canonicalize(parent).map_or(target.clone(), |dir| dir.join(name))
            }
            _ => target,
        }
    };
    if where_(a) == where_(b) {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (fs::metadata(a), fs::metadata(b)) {
            return x.dev() == y.dev() && x.ino() == y.ino();
        }
    }
    false
}

/// The file `path` finally names: symlinks followed (relative ones from their own folder) up
/// to a regular file or a path where nothing is yet.
///
/// # Errors
/// `InvalidInput` when it ends at something that is not a regular file, or after too many
/// links.
fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let metadata = match fs::symlink_metadata(&current) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(current),
            other => other?,
        };
        let kind = metadata.file_type();
        if kind.is_symlink() {
            let link = fs::read_link(&current)?;
            current = match current.parent() {
                Some(parent) if link.is_relative() => parent.join(link),
                _ => link,
            };
        } else if kind.is_file() {
            return Ok(current);
        } else {
            let what = if kind.is_dir() {
                "a folder"
            } else {
                "a device, FIFO or socket"
            };
            let it = if current == path {
                "it".to_string()
            } else {
                format!("it links to {:?}, which", current.display())
            };
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{it} is {what}, not a regular file, and is never replaced"),
            ));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("more than {MAX_LINKS} symlinks from {:?}", path.display()),
    ))
}

/// The folder a file is in (`.` for a bare name) and the file's name.
fn split(target: &Path) -> io::Result<(&Path, String)> {
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?
        .to_string_lossy()
        .into_owned();
    let folder = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    Ok((folder, name))
}

/// This process's temporary file for `name` in `folder`.
fn temporary_path(folder: &Path, name: &str) -> PathBuf {
    folder.join(format!(".{name}.tmp-{}", std::process::id()))
}

/// Creates `path` as a new file, replacing a leftover of this same process (never following
/// a symlink planted there: `create_new` refuses to open an existing path).
fn create_new(path: &Path) -> io::Result<fs::File> {
    let open = || OpenOptions::new().write(true).create_new(true).open(path);
    match open() {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            fs::remove_file(path)?;
            open()
        }
        other => other,
    }
}

/// Removes `.NAME.tmp-PID` files in `folder` left by processes that no longer run. Failures
/// are ignored: cleaning up is a courtesy, not part of the write.
fn remove_stale_temporaries(folder: &Path, name: &str) {
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && pid != std::process::id() && abandoned(pid, &entry.path()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether the temporary file at `path`, written by process `pid`, was abandoned.
fn abandoned(pid: u32, path: &Path) -> bool {
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        return !proc.join(pid.to_string()).exists();
    }
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|modified| SystemTime::now().duration_since(modified).ok())
        .is_some_and(|age| age > STALE_AFTER)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> tempfile::TempDir {
        tempfile::tempdir().expect("a temporary folder")
    }

    #[test]
    fn writes_replace_regular_files_and_keep_their_mode() {
        let dir = folder();
        let path = dir.path().join("a.txt");
        write_atomically(&path, b"one").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
            write_atomically(&path, b"two").unwrap();
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o640);
        }
        write_atomically(&path, b"three").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"three");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_written_through_and_stay_links() {
        let dir = folder();
        let real = dir.path().join("real.txt");
        fs::write(&real, b"old").unwrap();
        let link = dir.path().join("link.txt");
        std::os::unix::fs::symlink("real.txt", &link).unwrap();
        write_atomically(&link, b"new").unwrap();
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(same_file(&link, &real));
        // A dangling link creates its target.
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink("created.txt", &dangling).unwrap();
        write_atomically(&dangling, b"x").unwrap();
        assert_eq!(fs::read(dir.path().join("created.txt")).unwrap(), b"x");
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_folders_are_refused_before_and_at_the_write() {
        let dir = folder();
        for path in [Path::new("/dev/null"), dir.path()] {
            let e = check_output(path).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{e}");
            assert!(e.to_string().contains("not a regular file"), "{e}");
            assert!(write_atomically(path, b"x").is_err());
        }
        let missing = dir.path().join("no/such/folder/x.bin");
        assert!(check_output(&missing)
            .unwrap_err()
            .to_string()
            .contains("does not exist"));
    }

    #[test]
    fn abandoned_temporaries_are_removed_and_live_ones_kept() {
        let dir = folder();
        let path = dir.path().join("m.bin");
        // A PID far above any the system hands out, and one that certainly runs (ours is
        // skipped by name, so use PID 1 on Linux).
        let dead = dir.path().join(".m.bin.tmp-4000000000");
        fs::write(&dead, b"partial").unwrap();
        let other = dir.path().join(".other.bin.tmp-4000000000");
        fs::write(&other, b"not ours").unwrap();
        let live = dir.path().join(".m.bin.tmp-1");
        fs::write(&live, b"in progress").unwrap();
        write_atomically(&path, b"done").unwrap();
        if Path::new("/proc/self").exists() {
            assert!(!dead.exists(), "the dead process's file is gone");
            assert!(live.exists(), "a running process's file is kept");
        }
        assert!(other.exists(), "another target's file is left alone");
    }

    #[test]
    fn same_file_sees_through_dots_and_hard_links() {
        let dir = folder();
        let a = dir.path().join("a.csv");
        fs::write(&a, b"x").unwrap();
        let dotted = dir.path().join("sub/../a.csv");
        fs::create_dir(dir.path().join("sub")).unwrap();
        assert!(same_file(&a, &dotted));
        let hard = dir.path().join("b.csv");
        fs::hard_link(&a, &hard).unwrap();
        assert!(same_file(&a, &hard));
        assert!(!same_file(&a, &dir.path().join("c.csv")));
    }
}
