//! The one error type of `tapegrad-optim`.

use std::fmt;

/// A bad setting, or state that does not fit the optimizer it is loaded into.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum OptimError {
    /// A hyper-parameter outside its valid range: `Adam: beta1 = 1.2: must be in [0, 1)`.
    InvalidSetting {
        /// The optimizer or schedule, e.g. `"Adam"`.
        optimizer: &'static str,
        /// The setting's name, e.g. `"beta1"`.
        setting: &'static str,
        /// The rejected value.
        value: f64,
        /// What it must be.
        rule: &'static str,
    },
    /// One parameter given twice (in two groups, or twice in one): it would be updated twice
    /// per step.
    DuplicateParam {
        /// The optimizer.
        optimizer: &'static str,
        /// The parameter's name.
        param: String,
    },
    /// `clip_grad_norm` with `error_if_nonfinite` found a NaN or infinite total norm.
    NonFiniteNorm {
        /// The norm found.
        norm: f64,
        /// Which norm: 1, 2, ∞, …
        norm_type: f64,
    },
    /// `load_state` with state saved from another optimizer or other parameters.
    StateMismatch {
        /// The optimizer loading the state.
        optimizer: &'static str,
        /// What does not match.
        detail: String,
    },
}

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptimError::InvalidSetting {
                optimizer,
                setting,
                value,
                rule,
            } => write!(f, "{optimizer}: {setting} = {value}: {rule}"),
            OptimError::DuplicateParam { optimizer, param } => write!(
                f,
                "{optimizer}: parameter \"{param}\" appears more than once in the parameter groups"
            ),
            OptimError::NonFiniteNorm { norm, norm_type } => write!(
                f,
                "clip_grad_norm: the total {norm_type}-norm of the gradients is {norm}; \
                 the gradients cannot be clipped (pass error_if_nonfinite = false to scale anyway)"
            ),
            OptimError::StateMismatch { optimizer, detail } => {
                write!(f, "{optimizer}: load_state: {detail}")
            }
        }
    }
}

impl std::error::Error for OptimError {}

/// Checks one setting: `Err(InvalidSetting)` unless `ok(value)`.
pub(crate) fn check(
    optimizer: &'static str,
    setting: &'static str,
    value: f64,
    ok: bool,
    rule: &'static str,
) -> Result<(), OptimError> {
    if ok {
        Ok(())
    } else {
        Err(OptimError::InvalidSetting {
            optimizer,
            setting,
            value,
            rule,
        })
    }
}

/// The learning rate must be a positive number (NaN fails every comparison).
pub(crate) fn check_lr(optimizer: &'static str, lr: f64) -> Result<(), OptimError> {
    check(
        optimizer,
        "lr",
        lr,
        lr > 0.0 && lr.is_finite(),
        "must be a positive number",
    )
}

/// A β of an exponential average must be in [0, 1).
pub(crate) fn check_beta(
    optimizer: &'static str,
    setting: &'static str,
    beta: f64,
) -> Result<(), OptimError> {
    check(
        optimizer,
        setting,
        beta,
        (0.0..1.0).contains(&beta),
        "must be in [0, 1)",
    )
}

/// Weight decay, momentum and the like must be ≥ 0.
pub(crate) fn check_non_negative(
    optimizer: &'static str,
    setting: &'static str,
    value: f64,
) -> Result<(), OptimError> {
    check(optimizer, setting, value, value >= 0.0, "must be ≥ 0")
}
