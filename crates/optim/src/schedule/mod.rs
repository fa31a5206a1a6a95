//! Learning-rate schedules: the learning rate as a function of the epoch (or step) count.
//!
//! A schedule only computes numbers, so it composes with any optimizer:
//!
//! ```
//! use tapegrad_optim::schedule::{CosineAnnealing, LinearWarmup, Schedule};
//! let schedule = LinearWarmup::new(5, CosineAnnealing::new(0.1, 100, 0.0).unwrap()).unwrap();
//! assert_eq!(schedule.lr(0), 0.1 / 5.0); // warming up
//! assert_eq!(schedule.lr(5), 0.1);       // warm-up done, cosine starts at its peak
//! // in a loop: opt.set_lr(schedule.lr(epoch)); … opt.step();
//! ```
//!
//! [`ReduceOnPlateau`] is the exception: it watches a metric, so it is fed losses rather
//! than counts.

mod cosine;
mod exponential;
mod plateau;
mod step;
mod warmup;

pub use cosine::CosineAnnealing;
pub use exponential::Exponential;
pub use plateau::ReduceOnPlateau;
pub use step::StepDecay;
pub use warmup::LinearWarmup;

/// A learning rate for every epoch t = 0, 1, 2, …
pub trait Schedule {
    /// The learning rate to use during epoch `t`.
    fn lr(&self, t: usize) -> f64;
}
