//! The one driver behind every first-order optimizer: parameter groups, per-parameter state,
//! the step loop, and saving. What differs between optimizers is only the [`UpdateRule`].
//!
//! ```
//! use tapegrad_optim::{LrGroups, Optimizer, ParamGroup, Sgd, SgdConfig};
//! use tapegrad_tensor::Param;
//!
//! let w = Param::<f64>::new("w", ndarray::arr1(&[1.0]).into_dyn());
//! let b = Param::<f64>::new("b", ndarray::arr1(&[1.0]).into_dyn());
//! let decayed = SgdConfig { lr: 0.1, weight_decay: 0.01, ..Default::default() };
//! // Weights decay, biases do not, and train at half the rate: one optimizer, two groups.
//! let mut sgd = Sgd::with_groups(vec![
//!     ParamGroup::new(vec![w.clone()], decayed.clone()),
//!     ParamGroup::new(vec![b.clone()], SgdConfig { lr: 0.05, weight_decay: 0.0, ..decayed }),
//! ]).unwrap();
//! assert_eq!(sgd.lrs(), vec![0.1, 0.05]);
//! (w.tensor() * 2.0 + b.tensor() * 2.0).sum().backward();
//! sgd.step();
//! assert!((w.value()[0] - (1.0 - 0.1 * (2.0 + 0.01))).abs() < 1e-15);
//! assert!((b.value()[0] - (1.0 - 0.05 * 2.0)).abs() < 1e-15);
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;

use ndarray::ArrayD;
use tapegrad_tensor::{Float, Param};

use crate::rule::{UpdateRule, WeightDecay};
use crate::{GroupState, LrGroups, OptimError, Optimizer, OptimizerState};

/// Parameters that share settings (PyTorch's `param_groups` entry): for instance weights with
/// weight decay in one group, biases and norms without it in another.
#[derive(Clone, Debug)]
pub struct ParamGroup<F: Float, R> {
    /// The parameters.
    pub params: Vec<Param<F>>,
    /// Their settings (each optimizer's config struct: its lr, weight decay, …).
    pub config: R,
}

impl<F: Float, R> ParamGroup<F, R> {
    /// A group of `params` with `config`.
    pub fn new(params: Vec<Param<F>>, config: R) -> Self {
        ParamGroup { params, config }
    }
}

/// One group as the driver keeps it: which parameters, their settings, the initial rate.
#[derive(Clone, Debug)]
struct Group<R> {
    /// Its parameters are `params[start..end]`.
    start: usize,
    end: usize,
    config: R,
    initial_lr: f64,
}

/// A first-order optimizer: the update rule `R` applied to every parameter of every group.
/// [`Sgd`](crate::Sgd), [`Adam`](crate::Adam) and the others are this type with their rule.
#[derive(Clone, Debug)]
pub struct FirstOrder<F: Float, R> {
    params: Vec<Param<F>>,
    groups: Vec<Group<R>>,
    /// Updates received by each parameter.
    steps: Vec<u64>,
    /// Each parameter's buffers, in the order its rule declares them; empty until its first
    /// update.
    state: Vec<Vec<ArrayD<F>>>,
}

impl<F: Float, R: UpdateRule> FirstOrder<F, R> {
    /// An optimizer over `params`, all with the settings `config` (one group).
    ///
    /// # Errors
    /// `InvalidSetting` for a setting outside its range (each optimizer's `check` names it).
    pub fn new(params: Vec<Param<F>>, config: R) -> Result<Self, OptimError> {
        Self::with_groups(vec![ParamGroup::new(params, config)])
    }

    /// An optimizer over several groups, each with its own settings.
    ///
    /// # Errors
    /// `InvalidSetting` for a bad setting in any group or for no group at all;
    /// `DuplicateParam` when a parameter is in two groups (or twice in one).
    pub fn with_groups(groups: Vec<ParamGroup<F, R>>) -> Result<Self, OptimError> {
        let n = groups.len();
        crate::error::check(R::NAME, "groups", n as f64, n > 0, "must be ≥ 1")?;
        let mut optimizer = FirstOrder {
            params: Vec::new(),
            groups: Vec::new(),
            steps: Vec::new(),
            state: Vec::new(),
        };
        for group in groups {
            optimizer.add_param_group(group)?;
        }
        Ok(optimizer)
    }

    /// Adds a group (PyTorch's `add_param_group`), for instance layers unfrozen later.
    ///
    /// # Errors
    /// As [`with_groups`](FirstOrder::with_groups).
    pub fn add_param_group(&mut self, group: ParamGroup<F, R>) -> Result<(), OptimError> {
        group.config.check()?;
        for (i, p) in group.params.iter().enumerate() {
            let seen = self.params.iter().chain(&group.params[..i]);
            if seen.clone().any(|q| q.id() == p.id()) {
                return Err(OptimError::DuplicateParam {
                    optimizer: R::NAME,
                    param: p.name().to_string(),
                });
            }
        }
        let start = self.params.len();
        let count = group.params.len();
        self.params.extend(group.params);
        self.steps.extend(std::iter::repeat_n(0, count));
        self.state.extend(std::iter::repeat_n(Vec::new(), count));
        self.groups.push(Group {
            start,
            end: start + count,
            initial_lr: group.config.lr(),
            config: group.config,
        });
        Ok(())
    }

    /// The settings of group `group`.
    ///
    /// # Panics
    /// When there is no such group.
    #[track_caller]
    pub fn config(&self, group: usize) -> &R {
        &self.groups[group].config
    }

    /// The parameters of group `group`.
    ///
    /// # Panics
    /// When there is no such group.
    #[track_caller]
    pub fn group_params(&self, group: usize) -> &[Param<F>] {
        let g = &self.groups[group];
        &self.params[g.start..g.end]
    }
}

/// The gradient the rule sees: negated when maximizing, plus λ·w under L2 decay; and the
/// weights shrunk by (1 − α·λ) under decoupled decay. Borrowed when nothing changes.
fn prepare<'g, F: Float>(
    w: &mut ArrayD<F>,
    g: &'g ArrayD<F>,
    lr: f64,
    decay: Option<WeightDecay>,
    maximize: bool,
) -> Cow<'g, ArrayD<F>> {
    let mut g = Cow::Borrowed(g);
    if maximize {
        g = Cow::Owned(g.mapv(|x| -x));
    }
    match decay {
        Some(WeightDecay::L2(lambda)) if lambda != 0.0 => {
            let lambda = F::from_f64(lambda);
            g.to_mut().zip_mut_with(w, |g, &w| *g += lambda * w);
        }
        Some(WeightDecay::Decoupled(lambda)) if lambda != 0.0 => {
            let shrink = F::from_f64(1.0 - lr * lambda);
            w.mapv_inplace(|w| w * shrink);
        }
        _ => {}
    }
    g
}

impl<F: Float, R: UpdateRule> LrGroups for FirstOrder<F, R> {
    fn num_groups(&self) -> usize {
        self.groups.len()
    }

    #[track_caller]
    fn group_lr(&self, group: usize) -> f64 {
        self.groups[group].config.lr()
    }

    #[track_caller]
    fn set_group_lr(&mut self, group: usize, lr: f64) {
        self.groups[group].config.set_lr(lr);
    }

    #[track_caller]
    fn initial_lr(&self, group: usize) -> f64 {
        self.groups[group].initial_lr
    }
}

impl<F: Float, R: UpdateRule> Optimizer<F> for FirstOrder<F, R> {
    fn params(&self) -> &[Param<F>] {
        &self.params
    }

    fn step(&mut self) {
        for group in &self.groups {
            let rule = &group.config;
            let (lr, decay, maximize) = (rule.lr(), rule.weight_decay(), rule.maximize());
            for i in group.start..group.end {
                let p = &self.params[i];
                let t = self.steps[i] + 1;
                let state = &mut self.state[i];
                let updated = p.update(|w, g| {
                    if state.is_empty() {
                        *state = rule.buffers().iter().map(|b| b.create(w.shape())).collect();
                    }
                    let g = prepare(w, g, lr, decay, maximize);
                    rule.update(t, w, &g, state);
                });
                if updated {
                    self.steps[i] = t;
                }
            }
        }
    }

    fn state(&self) -> OptimizerState<F> {
        let mut buffers: BTreeMap<String, Vec<Option<ArrayD<F>>>> = BTreeMap::new();
        for group in &self.groups {
            for (k, buffer) in group.config.buffers().iter().enumerate() {
                let per_param = buffers
                    .entry(buffer.name.to_string())
                    .or_insert_with(|| vec![None; self.params.len()]);
                let range = group.start..group.end;
                for (slot, state) in per_param[range.clone()].iter_mut().zip(&self.state[range]) {
                    *slot = state.get(k).cloned();
                }
            }
        }
        OptimizerState {
            steps: self.steps.clone(),
            buffers,
            groups: self
                .groups
                .iter()
                .map(|g| GroupState {
                    params: g.end - g.start,
                    lr: g.config.lr(),
                    initial_lr: g.initial_lr,
                })
                .collect(),
        }
    }

    fn load_state(&mut self, mut state: OptimizerState<F>) -> Result<(), OptimError> {
        let mismatch = |detail: String| {
            Err(OptimError::StateMismatch {
                optimizer: R::NAME,
                detail,
            })
        };
        let n = self.params.len();
        if state.steps.len() != n {
            return mismatch(format!(
                "state for {} parameters, the optimizer has {n}",
                state.steps.len(),
            ));
        }
        let sizes = |groups: &mut dyn Iterator<Item = usize>| groups.collect::<Vec<_>>();
        let (saved, ours) = (
            sizes(&mut state.groups.iter().map(|g| g.params)),
            sizes(&mut self.groups.iter().map(|g| g.end - g.start)),
        );
        if saved != ours {
            return mismatch(format!(
                "groups of {saved:?} parameters, the optimizer has {ours:?}"
            ));
        }
        let mut expected: Vec<&str> = self
            .groups
            .iter()
            .flat_map(|g| g.config.buffers().into_iter().map(|b| b.name))
            .collect();
        expected.sort_unstable();
        expected.dedup();
        let found: Vec<&str> = state.buffers.keys().map(String::as_str).collect();
        if found != expected {
            return mismatch(format!("buffers {found:?}, expected {expected:?}"));
        }
        let mut loaded: Vec<Vec<ArrayD<F>>> = vec![Vec::new(); n];
        for group in &self.groups {
            let declared = group.config.buffers();
            for i in group.start..group.end {
                let shape = self.params[i].shape();
                let mut buffers = Vec::with_capacity(declared.len());
                for buffer in &declared {
                    let per_param = &mut state.buffers.get_mut(buffer.name).expect("compared");
                    if per_param.len() != n {
                        return mismatch(format!(
                            "buffer \"{}\" has {} entries",
                            buffer.name,
                            per_param.len()
                        ));
                    }
                    match per_param[i].take() {
                        Some(b) if b.shape() != buffer.shape(shape) => {
                            return mismatch(format!(
                                "buffer \"{}\" of parameter {i} has shape {:?}, the parameter {:?}",
                                buffer.name,
                                b.shape(),
                                shape
                            ));
                        }
                        Some(b) => buffers.push(b),
                        None => {}
                    }
                }
                // All of a parameter's buffers, or none (not yet updated).
                if !buffers.is_empty() && buffers.len() != declared.len() {
                    return mismatch(format!("parameter {i} has only some of its buffers"));
                }
                loaded[i] = buffers;
            }
        }
        self.steps = state.steps;
        self.state = loaded;
        for (group, saved) in self.groups.iter_mut().zip(&state.groups) {
            group.config.set_lr(saved.lr);
            group.initial_lr = saved.initial_lr;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{param, set_grad};
    use crate::{Adam, AdamConfig, Sgd, SgdConfig};

    #[test]
    fn a_parameter_may_be_in_one_group_only() {
        let w = param(&[1.0]);
        let config = SgdConfig::default();
        let err = Sgd::with_groups(vec![
            ParamGroup::new(vec![w.clone()], config.clone()),
            ParamGroup::new(vec![w.clone()], config.clone()),
        ])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "SGD: parameter \"w\" appears more than once in the parameter groups"
        );
        assert!(Sgd::new(vec![w.clone(), w], config).is_err());
        assert!(Sgd::<f64>::with_groups(vec![]).is_err());
    }

    #[test]
    fn groups_keep_their_own_buffers_and_rates_through_a_save() {
        // Group 0 with AMSGrad keeps three buffers, group 1 without keeps two; the state
        // lists max_exp_avg_sq for the first parameter only.
        let (a, b) = (param(&[1.0]), param(&[2.0, 3.0]));
        let amsgrad = AdamConfig {
            lr: 0.1,
            amsgrad: true,
            ..Default::default()
        };
        let plain = AdamConfig {
            lr: 0.01,
            ..Default::default()
        };
        let build = |a: &Param<f64>, b: &Param<f64>| {
            Adam::with_groups(vec![
                ParamGroup::new(vec![a.clone()], amsgrad.clone()),
                ParamGroup::new(vec![b.clone()], plain.clone()),
            ])
            .unwrap()
        };
        let mut opt = build(&a, &b);
        set_grad(&a, &[1.0]);
        set_grad(&b, &[1.0, -1.0]);
        opt.step();
        // First Adam step moves by ≈ lr·sign(g): each group its own lr.
        approx::assert_abs_diff_eq!(a.value()[[0]], 0.9, epsilon = 1e-7);
        approx::assert_abs_diff_eq!(b.value()[[1]], 3.01, epsilon = 1e-7);
        opt.set_group_lr(1, 0.5);
        let state = opt.state();
        assert!(state.buffers["max_exp_avg_sq"][0].is_some());
        assert!(state.buffers["max_exp_avg_sq"][1].is_none());
        assert_eq!(state.buffers["exp_avg"][1].as_ref().unwrap().shape(), &[2]);
        assert_eq!(
            state.groups,
            vec![
                GroupState {
                    params: 1,
                    lr: 0.1,
                    initial_lr: 0.1
                },
                GroupState {
                    params: 1,
                    lr: 0.5,
                    initial_lr: 0.01
                },
            ]
        );
        let mut fresh = build(&param(&[1.0]), &param(&[2.0, 3.0]));
        fresh.load_state(state.clone()).unwrap();
        assert_eq!(fresh.lrs(), vec![0.1, 0.5]);
        assert_eq!(fresh.initial_lr(1), 0.01);
        assert_eq!(fresh.state(), state);
        assert_eq!(fresh.group_params(1)[0].shape(), &[2]);
        assert!(fresh.config(0).amsgrad);
    }

    #[test]
    fn parameters_without_gradients_are_skipped() {
        let (a, b) = (param(&[1.0]), param(&[1.0]));
        let config = SgdConfig {
            lr: 0.5,
            momentum: 0.9,
            ..Default::default()
        };
        let mut opt = Sgd::new(vec![a.clone(), b.clone()], config).unwrap();
        set_grad(&a, &[1.0]);
        opt.step();
        assert_eq!((a.value()[[0]], b.value()[[0]]), (0.5, 1.0));
        let state = opt.state();
        assert_eq!(state.steps, vec![1, 0]);
        assert!(state.buffers["momentum_buffer"][1].is_none());
    }
}
