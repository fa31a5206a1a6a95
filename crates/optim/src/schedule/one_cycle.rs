//! The 1cycle policy (Smith & Topin, 2018, "Super-Convergence") — PyTorch's `OneCycleLR`.
//!
//! Over `total_steps` steps (call [`step`](super::LrScheduler::step) after every batch, not
//! every epoch), each group's rate rises from α_max/`div_factor` to α_max during the first
//! `pct_start` of the run, then anneals to α_max/(`div_factor`·`final_div_factor`):
//!
//! ```text
//! phase 1: steps 0 … pct·N − 1       α_max/d  →  α_max
//! phase 2: … N − 1                    α_max    →  α_max/(d·d_final)
//! three_phase: α_max/d → α_max → α_max/d over 2·pct·N steps, then → α_max/(d·d_final)
//! anneal cos: α = end + ½(start − end)(1 + cos(π·p))   linear: α = start + (end − start)·p
//! ```
//!
//! with p the fraction of the phase done. Defaults are PyTorch's: `pct_start` 0.3, cosine,
//! `div_factor` 25, `final_div_factor` 1e4, two phases.
//!
//! NOTE: PyTorch also cycles the momentum (β₁ for Adam) inversely, from 0.95 to 0.85 and
//! back; tapegrad's schedulers set learning rates only, so that part is omitted — it is
//! PyTorch's `cycle_momentum=False`.

use std::f64::consts::PI;

use super::{ScheduleRule, Scheduler};
use crate::error::check;
use crate::{LrGroups, OptimError};

/// How a phase moves from its start rate to its end rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anneal {
    /// Along half a cosine (PyTorch's `"cos"`, the default).
    Cos,
    /// In a straight line (`"linear"`).
    Linear,
}

/// The settings of [`OneCycleLR`]; [`OneCycleConfig::new`] fills in PyTorch's defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct OneCycleConfig {
    /// The peak rate of each group (one value: the same for all).
    pub max_lr: Vec<f64>,
    /// N, the steps of the whole cycle.
    pub total_steps: u64,
    /// The fraction of the steps spent rising.
    pub pct_start: f64,
    /// The shape of each phase.
    pub anneal: Anneal,
    /// d: the starting rate is α_max/d.
    pub div_factor: f64,
    /// d_final: the final rate is α_max/(d·d_final).
    pub final_div_factor: f64,
    /// Come back down to α_max/d before annealing to the final rate (fast.ai's variant).
    pub three_phase: bool,
}

impl OneCycleConfig {
    /// Peak `max_lr` for every group over `total_steps`, with PyTorch's defaults.
    pub fn new(max_lr: f64, total_steps: u64) -> Self {
        OneCycleConfig {
            max_lr: vec![max_lr],
            total_steps,
            pct_start: 0.3,
            anneal: Anneal::Cos,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }
}

/// One phase: ends at step `end_step`, going from rate `start` to rate `end` (per group).
#[derive(Clone, Debug, PartialEq)]
struct Phase {
    end_step: f64,
    start: Vec<f64>,
    end: Vec<f64>,
}

/// The computed phases of [`OneCycleLR`].
#[derive(Clone, Debug, PartialEq)]
pub struct OneCycleRule {
    config: OneCycleConfig,
    phases: Vec<Phase>,
}

/// PyTorch's `OneCycleLR`, driving an optimizer; see the module docs.
pub type OneCycleLR = Scheduler<OneCycleRule>;

impl OneCycleLR {
    /// The 1cycle policy on `optimizer`; sets the step-0 rates (α_max/d). Step it
    /// `total_steps` times at most: one more panics, as PyTorch raises.
    ///
    /// # Errors
    /// `InvalidSetting` for `total_steps` 0, `pct_start` outside [0, 1], a `max_lr` that is
    /// not positive or not one value per group (or one for all), or factors ≤ 0.
    pub fn new<O: LrGroups + ?Sized>(
        optimizer: &mut O,
        config: OneCycleConfig,
    ) -> Result<Self, OptimError> {
        const NAME: &str = "OneCycleLR";
        let groups = optimizer.num_groups();
        let n = config.total_steps;
        check(NAME, "total_steps", n as f64, n > 0, "must be ≥ 1")?;
        let pct = config.pct_start;
        check(
            NAME,
            "pct_start",
            pct,
            (0.0..=1.0).contains(&pct),
            "must be in [0, 1]",
        )?;
        for (name, v) in [
            ("div_factor", config.div_factor),
            ("final_div_factor", config.final_div_factor),
        ] {
            check(NAME, name, v, v > 0.0, "must be > 0")?;
        }
        let count = config.max_lr.len();
        let ok = count == 1 || count == groups;
        check(
            NAME,
            "max_lr",
            count as f64,
            ok,
            "needs one value, or one per group",
        )?;
        let max: Vec<f64> = (0..groups)
            .map(|g| config.max_lr[if count == 1 { 0 } else { g }])
            .collect();
        for &m in &max {
            check(
                NAME,
                "max_lr",
                m,
                m > 0.0 && m.is_finite(),
                "must be a positive number",
            )?;
        }
        let initial: Vec<f64> = max.iter().map(|m| m / config.div_factor).collect();
        let min: Vec<f64> = initial
            .iter()
            .map(|i| i / config.final_div_factor)
            .collect();
        let rise_end = pct * n as f64 - 1.0;
        let last = n as f64 - 1.0;
        let phase = |end_step, start: &Vec<f64>, end: &Vec<f64>| Phase {
            end_step,
            start: start.clone(),
            end: end.clone(),
        };
        let phases = if config.three_phase {
            vec![
                phase(rise_end, &initial, &max),
                phase(2.0 * pct * n as f64 - 2.0, &max, &initial),
                phase(last, &initial, &min),
            ]
        } else {
            vec![phase(rise_end, &initial, &max), phase(last, &max, &min)]
        };
        let rule = OneCycleRule { config, phases };
        Ok(Scheduler::start(rule, optimizer, initial))
    }
}

impl ScheduleRule for OneCycleRule {
    const NAME: &'static str = "OneCycleLR";

    /// # Panics
    /// Past `total_steps` steps, as PyTorch raises.
    fn lr(&self, epoch: u64, group: usize, _base: f64, _lr: f64, _initial: bool) -> f64 {
        let total = self.config.total_steps;
        assert!(
            epoch <= total,
            "OneCycleLR: stepped {epoch} times, but total_steps is {total}"
        );
        let step = epoch as f64;
        let mut start_step = 0.0;
        for (i, phase) in self.phases.iter().enumerate() {
            if step <= phase.end_step || i == self.phases.len() - 1 {
                let pct = (step - start_step) / (phase.end_step - start_step);
                let (start, end) = (phase.start[group], phase.end[group]);
                return match self.config.anneal {
                    Anneal::Cos => end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0),
                    Anneal::Linear => (end - start) * pct + start,
                };
            }
            start_step = phase.end_step;
        }
        unreachable!("the last phase always matches")
    }
}
