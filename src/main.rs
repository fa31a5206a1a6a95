//! The `tapegrad` command: train, compare and use small models on CSV files.
//!
//! `cargo run --release` runs the main job (linear regression on Galton's heights by
//! gradient descent, next to the closed form); `tapegrad --help` lists the commands.
#![forbid(unsafe_code)]

mod cli;

use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            // A closed stdout while printing help is not worth a message.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => return fail(&argument_error(&e)),
    };
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.to_string()),
    }
}

/// Every failure ends the same way: one `error: …` line on stderr and exit code 1.
fn fail(message: &str) -> ExitCode {
    // If stderr itself is gone there is nobody left to tell.
    let _ = writeln!(std::io::stderr(), "error: {message}");
    ExitCode::FAILURE
}

/// clap's message for a bad command line, as one line: its first line (which says what is
/// wrong) and where to read more, instead of clap's several lines and exit code 2.
fn argument_error(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let first = rendered
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("bad arguments");
    let first = first.strip_prefix("error: ").unwrap_or(first).trim();
    let command = std::env::args()
        .nth(1)
        .filter(|c| ["fit", "predict", "compare"].contains(&c.as_str()))
        .map_or_else(String::new, |c| format!(" {c}"));
    format!("{first} (see tapegrad{command} --help)")
}
