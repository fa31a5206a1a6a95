//! The `tapegrad` command: train, compare and use small models on CSV files.
//!
//! `cargo run --release` runs the main job (linear regression on Galton's heights by
//! gradient descent, next to the closed form); `tapegrad --help` lists the commands.
#![forbid(unsafe_code)]

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match cli::run(cli::Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
