//! What the command-line tests share: running the binary in a folder, and small data sets.
#![allow(dead_code)] // Each test file uses its own share of these.

use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

/// The binary, run in `dir`.
pub fn tapegrad(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("tapegrad").expect("the binary is built");
    command.current_dir(dir);
    command
}

/// What a finished run printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `tapegrad` with `args`, a command line split at whitespace.
pub fn run(dir: &Path, args: &str) -> Run {
    let output = tapegrad(dir)
        .args(args.split_whitespace())
        .output()
        .expect("the binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A run that must succeed; returns its stdout.
pub fn ok(dir: &Path, args: &str) -> String {
    let r = run(dir, args);
    assert_eq!(r.code, 0, "{args:?} failed:\n{}\n{}", r.stdout, r.stderr);
    r.stdout
}

/// A run that must fail with one `error:` line containing `expected`.
pub fn fails(dir: &Path, args: &str, expected: &str) {
    let r = run(dir, args);
    assert_eq!(
        r.code, 1,
        "{args:?} should fail:\n{}\n{}",
        r.stdout, r.stderr
    );
    assert!(
        !r.stderr.contains("panicked"),
        "{args:?} panicked: {}",
        r.stderr
    );
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "one line of error for {args:?}: {}",
        r.stderr
    );
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains(expected),
        "{args:?}: expected {expected:?} in {:?}",
        lines[0]
    );
}

/// A temporary folder with `files` (name, contents) in it.
pub fn folder(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (name, contents) in files {
        std::fs::write(dir.path().join(name), contents).expect("writable");
    }
    dir
}

/// 40 rows of y = 2·x1 − 3·x2 + 1, no noise, with x1 and x2 not collinear.
pub fn plane() -> (String, Vec<[f64; 3]>) {
    let rows: Vec<[f64; 3]> = (0..40)
        .map(|i| {
            let x1 = f64::from(i) / 10.0;
            let x2 = f64::from((i * 7) % 11) / 5.0;
            [x1, x2, 2.0 * x1 - 3.0 * x2 + 1.0]
        })
        .collect();
    let mut csv = String::from("x1,x2,y\n");
    for [x1, x2, y] in &rows {
        csv.push_str(&format!("{x1},{x2},{y}\n"));
    }
    (csv, rows)
}
