//! Schedulers made of schedulers: PyTorch's `ChainedScheduler` (all at once, their factors
//! multiplied) and `SequentialLR` (one after another, switching at milestones).

use super::{set_lrs, LrScheduler, SchedulerState, StateReader};
use crate::error::check;
use crate::{LrGroups, OptimError};

/// Steps every scheduler in turn on the same rates, each from the rate the one before it
/// left: their chainable forms multiply. For instance a linear warm-up chained with an
/// exponential decay gives αₜ = α₀·(warm-up factor)·γᵗ.
pub struct ChainedScheduler {
    schedulers: Vec<Box<dyn LrScheduler>>,
    last_lrs: Vec<f64>,
}

impl ChainedScheduler {
    /// Chains `schedulers`, all built on the same optimizer (each already took its first
    /// step when built, as in PyTorch).
    ///
    /// # Errors
    /// `InvalidSetting` for an empty list.
    pub fn new(schedulers: Vec<Box<dyn LrScheduler>>) -> Result<Self, OptimError> {
        let n = schedulers.len();
        check(
            "ChainedScheduler",
            "schedulers",
            n as f64,
            n > 0,
            "needs at least one",
        )?;
        let last_lrs = schedulers[n - 1].last_lrs().to_vec();
        Ok(ChainedScheduler {
            schedulers,
            last_lrs,
        })
    }
}

impl LrScheduler for ChainedScheduler {
    fn step_lrs(&mut self, lrs: &mut [f64]) {
        for s in &mut self.schedulers {
            s.step_lrs(lrs);
        }
        self.last_lrs = lrs.to_vec();
    }

    fn initial_step_lrs(&mut self, lrs: &mut [f64]) {
        // PyTorch's chained `_initial_step` is an ordinary step of each.
        self.step_lrs(lrs);
    }

    fn restart_lrs(&mut self, lrs: &mut [f64]) {
        for s in &mut self.schedulers {
            s.restart_lrs(lrs);
        }
        self.last_lrs = lrs.to_vec();
    }

    fn undo_step(&mut self) {
        for s in &mut self.schedulers {
            s.undo_step();
        }
    }

    fn last_lrs(&self) -> &[f64] {
        &self.last_lrs
    }

    /// Each scheduler's state under `"0/"`, `"1/"`, …
    fn state(&self) -> SchedulerState {
        prefixed(&self.schedulers)
    }

    fn load_state(&mut self, state: &[(String, f64)]) -> Result<(), OptimError> {
        load_prefixed(&mut self.schedulers, state)?;
        self.last_lrs = self.schedulers.last().expect("≥ 1").last_lrs().to_vec();
        Ok(())
    }
}

fn prefixed(schedulers: &[Box<dyn LrScheduler>]) -> SchedulerState {
    schedulers
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            s.state()
                .into_iter()
                .map(move |(k, v)| (format!("{i}/{k}"), v))
        })
        .collect()
}

fn load_prefixed(
    schedulers: &mut [Box<dyn LrScheduler>],
    state: &[(String, f64)],
) -> Result<(), OptimError> {
    let read = StateReader::new("ChainedScheduler", state);
    for (i, s) in schedulers.iter_mut().enumerate() {
        s.load_state(&read.under(&format!("{i}/")))?;
    }
    Ok(())
}

/// Runs `schedulers[0]` until the first milestone, then `schedulers[1]` (started afresh at its
/// epoch 0, from the base rates) until the next, and so on — PyTorch's `SequentialLR`, the
/// usual way to put a warm-up in front of a decay.
pub struct SequentialLR {
    schedulers: Vec<Box<dyn LrScheduler>>,
    milestones: Vec<u64>,
    last_epoch: u64,
    last_lrs: Vec<f64>,
}

impl SequentialLR {
    /// Sequences `schedulers`, all built on `optimizer`, switching at `milestones` (epochs,
    /// one fewer than schedulers). Resets the optimizer to its initial rates, undoes the first
    /// step each scheduler took when built, and takes the first scheduler's first step, as
    /// PyTorch does.
    ///
    /// # Errors
    /// `InvalidSetting` for no scheduler, or a milestone count that is not one fewer.
    pub fn new<O: LrGroups + ?Sized>(
        optimizer: &mut O,
        mut schedulers: Vec<Box<dyn LrScheduler>>,
        milestones: &[u64],
    ) -> Result<Self, OptimError> {
        const NAME: &str = "SequentialLR";
        let n = schedulers.len();
        check(NAME, "schedulers", n as f64, n > 0, "needs at least one")?;
        let m = milestones.len();
        check(
            NAME,
            "milestones",
            m as f64,
            m + 1 == n,
            "needs one fewer than schedulers",
        )?;
        let mut lrs: Vec<f64> = (0..optimizer.num_groups())
            .map(|g| optimizer.initial_lr(g))
            .collect();
        for s in &mut schedulers {
            s.undo_step();
        }
        let first = milestones.partition_point(|&m| m == 0);
        schedulers[first].initial_step_lrs(&mut lrs);
        set_lrs(optimizer, &lrs);
        Ok(SequentialLR {
            last_lrs: schedulers[first].last_lrs().to_vec(),
            schedulers,
            milestones: milestones.to_vec(),
            last_epoch: 0,
        })
    }
}

impl LrScheduler for SequentialLR {
    fn step_lrs(&mut self, lrs: &mut [f64]) {
        self.last_epoch += 1;
        let epoch = self.last_epoch;
        let i = self.milestones.partition_point(|&m| m <= epoch);
        if i > 0 && self.milestones[i - 1] == epoch {
            self.schedulers[i].restart_lrs(lrs);
        } else {
            self.schedulers[i].step_lrs(lrs);
        }
        self.last_lrs = self.schedulers[i].last_lrs().to_vec();
    }

    fn initial_step_lrs(&mut self, lrs: &mut [f64]) {
        self.step_lrs(lrs);
    }

    fn restart_lrs(&mut self, lrs: &mut [f64]) {
        self.last_epoch = 0;
        self.schedulers[0].restart_lrs(lrs);
        self.last_lrs = lrs.to_vec();
    }

    fn undo_step(&mut self) {
        for s in &mut self.schedulers {
            s.undo_step();
        }
    }

    fn last_lrs(&self) -> &[f64] {
        &self.last_lrs
    }

    /// `"last_epoch"`, then each scheduler's state under `"0/"`, `"1/"`, …
    fn state(&self) -> SchedulerState {
        let mut state = vec![("last_epoch".to_string(), self.last_epoch as f64)];
        state.extend(prefixed(&self.schedulers));
        state
    }

    fn load_state(&mut self, state: &[(String, f64)]) -> Result<(), OptimError> {
        let epoch = StateReader::new("SequentialLR", state).get("last_epoch")?;
        load_prefixed(&mut self.schedulers, state)?;
        self.last_epoch = epoch as u64;
        let i = self.milestones.partition_point(|&m| m <= self.last_epoch);
        self.last_lrs = self.schedulers[i].last_lrs().to_vec();
        Ok(())
    }
}
