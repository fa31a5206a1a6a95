//! What the trainer shows while it runs: nothing, plain lines, or an indicatif bar with the
//! live loss. Everything goes to standard error, so standard output stays the program's own
//! (results, tables, JSON), and a closed stderr is ignored rather than a panic.

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::history::EpochRecord;

/// How to show progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Progress {
    /// Nothing (the default: a library prints only when asked).
    #[default]
    Off,
    /// A bar when stderr is a terminal, else a plain line about every tenth of the run.
    Auto,
    /// A plain line every `every` epochs.
    Lines {
        /// Epochs between lines (≥ 1).
        every: usize,
    },
}

/// The display of one run.
pub(crate) enum Display {
    Off,
    Bar(ProgressBar),
    Lines(usize),
}

impl Display {
    /// The display `progress` asks for, over `epochs` epochs starting after `done`.
    pub(crate) fn start(progress: Progress, epochs: usize, done: usize) -> Self {
        match progress {
            Progress::Off => Display::Off,
            Progress::Auto if std::io::stderr().is_terminal() => {
                let bar = ProgressBar::with_draw_target(
                    Some(epochs as u64),
                    ProgressDrawTarget::stderr(),
                );
                let style = ProgressStyle::with_template("{bar:30} epoch {pos}/{len}  {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style);
                bar.set_position(done as u64);
                Display::Bar(bar)
            }
            Progress::Auto => Display::Lines(epochs.div_ceil(10).max(1)),
            Progress::Lines { every } => Display::Lines(every.max(1)),
        }
    }

    /// The running loss of the epoch in progress.
    pub(crate) fn step(&self, running_loss: f64) {
        if let Display::Bar(bar) = self {
            bar.set_message(format!("loss {running_loss:.4e}"));
        }
    }

    /// An epoch's end.
    pub(crate) fn epoch(&self, record: &EpochRecord, last: bool) {
        let line = describe(record);
        match self {
            Display::Off => {}
            Display::Bar(bar) => {
                bar.set_position(record.epoch as u64);
                bar.set_message(line);
            }
            Display::Lines(every) => {
                if record.epoch.is_multiple_of(*every) || last || record.epoch == 0 {
                    let _ = writeln!(std::io::stderr(), "epoch {:>5}  {line}", record.epoch);
                }
            }
        }
    }

    /// The end of the run: the bar gives way to its last line.
    pub(crate) fn finish(&self) {
        if let Display::Bar(bar) = self {
            let message = bar.message();
            bar.finish_and_clear();
            let _ = writeln!(std::io::stderr(), "epoch {:>5}  {message}", bar.position());
        }
    }
}

/// "loss 1.2345e-1  val_loss 1.5e-1  accuracy 0.9700".
fn describe(record: &EpochRecord) -> String {
    let mut line = format!("loss {:.4e}", record.train_loss);
    if let Some(val) = record.val_loss {
        line += &format!("  val_loss {val:.4e}");
    }
    for (name, value) in &record.metrics {
        line += &format!("  {name} {value:.4}");
    }
    line
}
