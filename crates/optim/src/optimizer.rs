//! The interface every first-order optimizer shares, and its saved state.

use std::collections::BTreeMap;

use ndarray::ArrayD;
use tapegrad_tensor::{Float, Param};

use crate::OptimError;

/// A first-order optimizer: it owns handles to the parameters it updates, and each
/// [`step`](Optimizer::step) moves every parameter that has a gradient.
///
/// The training loop is PyTorch's:
///
/// ```text
/// let loss = model.loss(&batch);
/// loss.backward();      // fills p.grad() for every parameter
/// opt.step();           // p ← update(p, p.grad(), state)
/// opt.zero_grad();      // forget the gradients before the next step
/// ```
pub trait Optimizer<F: Float> {
    /// The parameters this optimizer updates.
    fn params(&self) -> &[Param<F>];

    /// One update of every parameter that has a gradient (others are skipped, as in PyTorch).
    fn step(&mut self);

    /// Forgets every parameter's gradient.
    fn zero_grad(&self) {
        for p in self.params() {
            p.zero_grad();
        }
    }

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Sets the learning rate (schedules call this between steps).
    fn set_lr(&mut self, lr: f64);

    /// A copy of the optimizer's running state (step counts and moment buffers).
    fn state(&self) -> OptimizerState<F>;

    /// Replaces the running state with one saved by [`state`](Optimizer::state).
    ///
    /// # Errors
    /// `StateMismatch` when the state has other buffers, another parameter count, or buffers
    /// whose shapes differ from the parameters'.
    fn load_state(&mut self, state: OptimizerState<F>) -> Result<(), OptimError>;
}

/// An optimizer's running state: per parameter, how many updates it received, and named
/// buffers (`"exp_avg"`, `"momentum_buffer"`, …), `None` until first used.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerState<F: Float> {
    /// Updates received by each parameter.
    pub steps: Vec<u64>,
    /// Buffer name → one optional array per parameter.
    pub buffers: BTreeMap<String, Vec<Option<ArrayD<F>>>>,
}

/// Per-parameter step counts and named buffers, the storage behind every optimizer here.
#[derive(Clone, Debug)]
pub(crate) struct Slots<F: Float> {
    pub steps: Vec<u64>,
    names: Vec<&'static str>,
    /// `buffers[k][i]`: buffer `names[k]` of parameter `i`.
    buffers: Vec<Vec<Option<ArrayD<F>>>>,
}

impl<F: Float> Slots<F> {
    /// Empty state for `n` parameters with the named buffers.
    pub fn new(n: usize, names: &[&'static str]) -> Self {
        Slots {
            steps: vec![0; n],
            names: names.to_vec(),
            buffers: vec![vec![None; n]; names.len()],
        }
    }

    /// Whether parameter `i` has not been updated yet.
    pub fn is_fresh(&self, i: usize) -> bool {
        self.steps[i] == 0
    }

    /// Every buffer of parameter `i`, in declaration order, created as zeros of `shape` on
    /// first use.
    pub fn of_param(&mut self, i: usize, shape: &[usize]) -> Vec<&mut ArrayD<F>> {
        self.buffers
            .iter_mut()
            .map(|per_param| per_param[i].get_or_insert_with(|| ArrayD::zeros(shape)))
            .collect()
    }

    pub fn to_state(&self) -> OptimizerState<F> {
        OptimizerState {
            steps: self.steps.clone(),
            buffers: self
                .names
                .iter()
                .map(|n| n.to_string())
                .zip(self.buffers.iter().cloned())
                .collect(),
        }
    }

    /// Checks `state` against these slots and `params`, then takes it.
    pub fn load(
        &mut self,
        optimizer: &'static str,
        params: &[Param<F>],
        mut state: OptimizerState<F>,
    ) -> Result<(), OptimError> {
        let mismatch = |detail: String| Err(OptimError::StateMismatch { optimizer, detail });
        if state.steps.len() != params.len() {
            return mismatch(format!(
                "state for {} parameters, the optimizer has {}",
                state.steps.len(),
                params.len()
            ));
        }
        let mut expected = self.names.clone();
        expected.sort_unstable();
        let found: Vec<&str> = state.buffers.keys().map(String::as_str).collect();
        if found != expected {
            return mismatch(format!("buffers {found:?}, expected {expected:?}"));
        }
        let mut buffers = Vec::with_capacity(self.names.len());
        for name in &self.names {
            let per_param = state.buffers.remove(*name).expect("names were compared");
            if per_param.len() != params.len() {
                return mismatch(format!("buffer \"{name}\" has {} entries", per_param.len()));
            }
            for (i, (buffer, param)) in per_param.iter().zip(params).enumerate() {
                if let Some(b) = buffer.as_ref().filter(|b| b.shape() != param.shape()) {
                    return mismatch(format!(
                        "buffer \"{name}\" of parameter {i} has shape {:?}, the parameter {:?}",
                        b.shape(),
                        param.shape()
                    ));
                }
            }
            buffers.push(per_param);
        }
        self.steps = state.steps;
        self.buffers = buffers;
        Ok(())
    }
}
