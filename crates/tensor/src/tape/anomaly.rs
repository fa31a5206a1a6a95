//! Anomaly mode: finding the first op that made a NaN or an infinity.
//!
//! A NaN in a loss says that something went wrong, not where. Inside
//! [`detect_anomaly`]`(|| …)`, every op checks the value it computes, and every backward rule
//! checks the gradients it sends to its inputs; the first one that holds a NaN or ±inf is
//! reported as an [`Anomaly`]: the op's name, its node on the tape, its input shapes, and the
//! line of *your* code that called it (public ops carry `#[track_caller]`, so a composite
//! such as `mean` names your line, not the crate's).
//!
//! How it is reported:
//! - `detect_anomaly(f)` returns `Err(TensorError::Anomaly(..))` with the first anomaly seen
//!   while `f` ran (forward or backward), and `Ok` with `f`'s result when there was none.
//!   A forward anomaly does not stop `f`: the value is what IEEE says (NaN propagates).
//! - A backward sweep in the mode stops at the first rule that sends a non-finite gradient
//!   and returns that anomaly from `try_backward` / `grad` (`backward` panics with the same
//!   text); when an op at or below the root had already produced one in its forward pass,
//!   the sweep returns that one without running, since it came first. The graph is left as
//!   it was (as after any failed sweep).
//!
//! ```
//! use tapegrad_tensor::{detect_anomaly, Tensor, TensorError};
//! let x = Tensor::<f64>::from_vec(vec![1.0, 0.0], &[2]).requires_grad();
//! let err = detect_anomaly(|| x.ln().sum().try_backward()).unwrap_err();
//! let TensorError::Anomaly(anomaly) = &err else { panic!("{err}") };
//! assert_eq!(anomaly.op, "ln"); // ln 0 = −inf, in the forward pass
//! assert_eq!(anomaly.location.unwrap().line(), line!() - 3);
//! ```
//!
//! Off (the default), the mode costs one thread-local read per recorded op, shared with
//! forward mode: no location is captured and no value is scanned. Values that are meant to be
//! infinite — an attention mask's −∞ — trip it too; use it to hunt a bug, not in every run.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::Location;

use ndarray::Dimension;

use super::{lock, NodeId, Op, Tape, Watcher};
use crate::error::{ShapeFmt, TensorError};
use crate::{Float, Tensor};

thread_local! {
    /// How many `detect_anomaly` scopes the thread is inside.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// How many sweeps in the mode are running: the ops their rules run are checked as
    /// gradients (by the sweep), not as forward values.
    static IN_SWEEP: Cell<usize> = const { Cell::new(0) };
    /// The first anomaly of the innermost scope.
    static FIRST: RefCell<Option<Anomaly>> = const { RefCell::new(None) };
}

/// Whether anomaly mode is on for this thread (inside [`detect_anomaly`]).
#[inline]
pub fn is_anomaly_enabled() -> bool {
    Watcher::Anomaly.is_on()
}

/// Whether an op's forward value is checked: in the mode, and not inside a backward sweep.
#[inline]
pub(crate) fn checks_forward() -> bool {
    is_anomaly_enabled() && IN_SWEEP.with(|n| n.get() == 0)
}

/// While alive, ops are not checked as forward values (a sweep checks its rules' outputs).
pub(crate) struct SweepGuard(());

impl SweepGuard {
    pub(crate) fn new() -> SweepGuard {
        IN_SWEEP.with(|n| n.set(n.get() + 1));
        SweepGuard(())
    }
}

impl Drop for SweepGuard {
    fn drop(&mut self) {
        IN_SWEEP.with(|n| n.set(n.get() - 1));
    }
}

/// Runs `f` in anomaly mode and returns the first op whose forward value or backward gradient
/// held a NaN or ±inf, as `Err(TensorError::Anomaly(..))`; `Ok(f())` when there was none.
/// See the [module docs](self) for what is checked and how a sweep reports it.
///
/// ```
/// use tapegrad_tensor::{detect_anomaly, Tensor, TensorError};
/// // The where-trap: √x of a negative x is never selected, yet its NaN is computed.
/// let x = Tensor::<f64>::from_vec(vec![4.0, -1.0], &[2]).requires_grad();
/// let positive = x.value().mapv(|v| v > 0.0);
/// let err = detect_anomaly(|| {
///     let y = Tensor::where_cond(&positive, &x.sqrt(), &Tensor::zeros(&[2]));
///     y.sum().try_backward()
/// })
/// .unwrap_err();
/// let TensorError::Anomaly(anomaly) = err else { unreachable!() };
/// assert_eq!((anomaly.op, anomaly.node), ("sqrt", Some(1)));
/// ```
///
/// # Errors
/// `TensorError::Anomaly` with the first anomaly seen while `f` ran.
pub fn detect_anomaly<R>(f: impl FnOnce() -> R) -> Result<R, TensorError> {
    struct Scope {
        outer: Option<Anomaly>,
    }
    impl Drop for Scope {
        fn drop(&mut self) {
            let depth = DEPTH.with(|depth| {
                depth.set(depth.get() - 1);
                depth.get()
            });
            Watcher::Anomaly.set(depth > 0);
            // The inner scope's anomaly is the outer one's too, unless it already had one.
            let inner = FIRST.with(|first| first.borrow_mut().take());
            let outer = self.outer.take().or(inner);
            FIRST.with(|first| *first.borrow_mut() = outer);
        }
    }
    let outer = FIRST.with(|first| first.borrow_mut().take());
    DEPTH.with(|depth| depth.set(depth.get() + 1));
    Watcher::Anomaly.set(true);
    let scope = Scope { outer };
    let result = f();
    let found = FIRST.with(|first| first.borrow().clone());
    drop(scope);
    match found {
        Some(anomaly) => Err(TensorError::Anomaly(Box::new(anomaly))),
        None => Ok(result),
    }
}

/// Where an anomaly showed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// In the op's own output value.
    Forward,
    /// In the gradient its backward rule sent to input number `input` (counted from 0).
    Backward {
        /// Which input's gradient.
        input: usize,
    },
}

/// The first NaN or infinity found in anomaly mode (see [`detect_anomaly`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anomaly {
    /// The op's name as the printed tape shows it (`ln`, `sqrt`, `div`).
    pub op: &'static str,
    /// The op's node on its tape; `None` for an op on constants, which records no node.
    pub node: Option<NodeId>,
    /// The tape's number, when there is a node.
    pub tape: Option<u64>,
    /// Forward value or backward gradient.
    pub pass: Pass,
    /// The first offending element's index, and its value written out (`NaN`, `inf`, `-inf`).
    pub index: Vec<usize>,
    /// `NaN`, `inf` or `-inf`.
    pub value: String,
    /// The shapes of the op's inputs.
    pub input_shapes: Vec<Vec<usize>>,
    /// The line of user code that called the op, when it was recorded in anomaly mode.
    pub location: Option<&'static Location<'static>>,
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.pass {
            Pass::Forward => format!("{} produced {}", self.op, self.value),
            Pass::Backward { input } => format!(
                "the backward rule of {} produced {} in the gradient of input {input}",
                self.op, self.value
            ),
        };
        write!(f, "anomaly: {what} at {}", ShapeFmt(&self.index))?;
        match (self.node, self.tape) {
            (Some(node), Some(tape)) => write!(f, " (node %{node} on tape #{tape}")?,
            _ => write!(f, " (on constants, no node")?,
        }
        match self.location {
            Some(at) => write!(
                f,
                ", called at {}:{}:{})",
                at.file(),
                at.line(),
                at.column()
            )?,
            None => write!(f, ", recorded outside anomaly mode: no location)")?,
        }
        let shapes: Vec<String> = self.input_shapes.iter().map(|s| format!("{s:?}")).collect();
        write!(f, "; input shapes {}", shapes.join(", "))
    }
}

/// Where and on what a node was recorded in anomaly mode.
#[derive(Clone)]
pub(crate) struct Origin {
    pub location: &'static Location<'static>,
    pub input_shapes: Vec<Vec<usize>>,
}

/// The first non-finite element of `t`: its index and its value written out.
pub(crate) fn first_non_finite<F: Float>(t: &ndarray::ArrayD<F>) -> Option<(Vec<usize>, String)> {
    let (index, x) = t.indexed_iter().find(|(_, x)| !x.as_f64().is_finite())?;
    Some((index.slice().to_vec(), format!("{}", x.as_f64())))
}

/// Keeps `anomaly` as the scope's first, if it has none yet.
pub(crate) fn note(anomaly: &Anomaly) {
    FIRST.with(|first| {
        let mut first = first.borrow_mut();
        if first.is_none() {
            *first = Some(anomaly.clone());
        }
    });
}

/// The forward check of an op recorded in the mode, as `node` (its tape and id) or on
/// constants (`None`): keeps where it was called from, and notes an anomaly when `output`
/// holds a non-finite element. Out of line, so the ordinary `record` stays small.
#[cold]
#[inline(never)]
pub(crate) fn forward_checked<F: Float>(
    op: &Op,
    inputs: &[&Tensor<F>],
    output: &ndarray::ArrayD<F>,
    location: &'static Location<'static>,
    node: Option<(&Tape<F>, NodeId)>,
) {
    let input_shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape().to_vec()).collect();
    let found = first_non_finite(output).map(|(index, value)| Anomaly {
        op: op.label(),
        node: node.map(|(_, id)| id),
        tape: node.map(|(tape, _)| tape.id()),
        pass: Pass::Forward,
        index,
        value,
        input_shapes: input_shapes.clone(),
        location: Some(location),
    });
    if let Some(found) = &found {
        note(found);
    }
    if let Some((tape, id)) = node {
        let mut sidecar = lock(&tape.data.sidecar);
        sidecar.origins.push((
            id,
            Origin {
                location,
                input_shapes,
            },
        ));
        if let Some(found) = found {
            sidecar.forward_anomaly.get_or_insert(found);
        }
    }
}
