//! Linear warm-up in front of any schedule (Goyal et al., 2017): the rate climbs linearly to
//! the inner schedule's first value over `w` epochs, then follows the inner schedule, shifted:
//!
//! ```text
//! αₜ = inner(0)·(t + 1)/w   for t < w,        αₜ = inner(t − w)   after
//! ```

use super::Schedule;
use crate::error::check;
use crate::OptimError;

/// Linear warm-up over `warmup` epochs, then `inner`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearWarmup<S> {
    warmup: usize,
    inner: S,
}

impl<S: Schedule> LinearWarmup<S> {
    /// Warms up over `warmup` epochs into `inner`.
    ///
    /// # Errors
    /// `InvalidSetting` when `warmup` is 0.
    pub fn new(warmup: usize, inner: S) -> Result<Self, OptimError> {
        check(
            "LinearWarmup",
            "warmup",
            warmup as f64,
            warmup > 0,
            "must be ≥ 1",
        )?;
        Ok(LinearWarmup { warmup, inner })
    }
}

impl<S: Schedule> Schedule for LinearWarmup<S> {
    fn lr(&self, t: usize) -> f64 {
        if t < self.warmup {
            self.inner.lr(0) * (t + 1) as f64 / self.warmup as f64
        } else {
            self.inner.lr(t - self.warmup)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::StepDecay;

    #[test]
    fn sequence() {
        let s = LinearWarmup::new(4, StepDecay::new(1.0, 2, 0.5).unwrap()).unwrap();
        let lrs: Vec<f64> = (0..8).map(|t| s.lr(t)).collect();
        assert_eq!(lrs, vec![0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 0.5, 0.5]);
    }
}
