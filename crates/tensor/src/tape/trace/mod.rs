//! Watching the chain rule: a backward sweep that reports every node it visits.
//!
//! [`Tensor::backward_traced`] does what [`backward`](Tensor::backward) does — the same
//! reverse loop, the same rules, the same gradients left in the parameters — and also returns
//! a [`Trace`]: for each node, from the root down to node 0, its line of the printed tape, its
//! adjoint (∂root/∂node, complete by the time the loop reaches it) and what its backward rule
//! added to each input's adjoint. Small tensors show their values, larger ones their shape
//! and Euclidean norm.
//!
//! ```
//! use tapegrad_tensor::{Param, Tensor};
//! // L = Σ (3w)², so ∂L/∂w = 18w = [18, 36].
//! let w = Param::<f64>::new("w", ndarray::arr1(&[1.0, 2.0]).into_dyn());
//! let z = w.tensor() * 3.0;
//! let loss = (&z * &z).sum();
//! let trace = loss.backward_traced();
//! println!("{trace}");
//! assert_eq!(
//!     trace.to_string().lines().skip(1).collect::<Vec<_>>(),
//!     [
//!         "%3 = sum(%2; axes=[0]) []",
//!         "    adjoint 1",
//!         "    %2 += [1, 1]",
//!         "%2 = mul(%1, %1) [2]",
//!         "    adjoint [1, 1]",
//!         "    %1 += [6, 12]",
//!         "%1 = mul_scalar(%0; 3) [2]",
//!         "    adjoint [6, 12]",
//!         "    %0 += [18, 36]",
//!         "%0 = leaf \"w\" [2]",
//!         "    adjoint [18, 36]",
//!         "    w.grad += [18, 36]",
//!     ]
//! );
//! assert_eq!(w.grad().unwrap().iter().copied().collect::<Vec<_>>(), [18.0, 36.0]);
//! ```
//!
//! The ordinary sweep pays nothing for this. The sweep is one generic function, given an
//! observer that it shows each adjoint and each contribution; `backward` gives it one whose
//! methods are empty, so the compiler removes every call, and only `backward_traced` compiles
//! a second copy of the loop that writes things down.

use std::fmt;

use super::backward::{sweep, unit_seed, Mode, Target};
use super::print::node_line;
use super::{NodeId, Op};
use crate::error::{or_panic, Result, ShapeFmt, TensorError};
use crate::{no_grad, Float, Tensor};

/// Tensors with at most this many elements are shown by value in a trace; larger ones by
/// their shape and norm.
pub const VALUES_UP_TO: usize = 8;

/// What a reverse sweep shows its observer: each visited node's adjoint, then each
/// contribution its rule sends to an input. Every method does nothing by default.
pub(crate) trait Observer<F: Float> {
    /// Node `node`'s adjoint ∂root/∂node, complete, as the sweep reaches it.
    #[inline(always)]
    fn adjoint(&mut self, _node: NodeId, _adjoint: &Tensor<F>) {}

    /// Node `from`'s rule adds `contribution` to input `to`'s adjoint.
    #[inline(always)]
    fn sent(&mut self, _from: NodeId, _to: NodeId, _contribution: &Tensor<F>) {}

    /// Node `node`'s adjoint, complete, before anything uses it: the observer may replace it
    /// (gradient hooks) or stop the sweep with an error.
    #[inline(always)]
    fn arrive(&mut self, _node: NodeId, adjoint: Tensor<F>) -> Result<Tensor<F>> {
        Ok(adjoint)
    }

    /// Node `from`'s rule (of op `op`) is about to add `contribution` to the adjoint of its
    /// input number `input`: the observer may stop the sweep (anomaly mode).
    #[inline(always)]
    fn check_sent(
        &mut self,
        _from: NodeId,
        _op: &Op,
        _input: usize,
        _contribution: &Tensor<F>,
    ) -> Result<()> {
        Ok(())
    }

    /// Node `from` (a `narrow`) adds `window` to input `to`'s adjoint, of shape `shape`,
    /// along `axis` from `start`: the contribution is `window` padded with zeros to `shape`.
    #[inline(always)]
    fn sent_window(
        &mut self,
        _from: NodeId,
        _to: NodeId,
        _window: &Tensor<F>,
        _shape: &[usize],
        _axis: usize,
        _start: usize,
    ) {
    }
}

/// The observer of every ordinary sweep: it watches nothing.
pub(crate) struct Untraced;

impl<F: Float> Observer<F> for Untraced {}

/// A tensor as a trace shows it: its shape, its norm, and its values when it is small.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The shape.
    pub shape: Vec<usize>,
    /// The Euclidean norm √(Σ xᵢ²) of all elements.
    pub norm: f64,
    /// The elements in row-major order, when there are at most [`VALUES_UP_TO`].
    pub values: Option<Vec<f64>>,
}

impl Summary {
    fn of<F: Float>(t: &Tensor<F>) -> Summary {
        let value = t.value();
        let norm = value
            .iter()
            .map(|x| x.as_f64() * x.as_f64())
            .sum::<f64>()
            .sqrt();
        let values =
            (value.len() <= VALUES_UP_TO).then(|| value.iter().map(|x| x.as_f64()).collect());
        Summary {
            shape: value.shape().to_vec(),
            norm,
            values,
        }
    }
}

/// A number to four significant digits, as short as its value allows: `-15`, `0.125`,
/// `0.03125`, `0.3333`, `123.5`, `1.5e-7`.
fn number(x: f64) -> String {
    fn trim(s: &str) -> &str {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.')
        } else {
            s
        }
    }
    if x == 0.0 {
        "0".to_string()
    } else if !x.is_finite() {
        format!("{x}")
    } else if (0.01..1e6).contains(&x.abs()) {
        // 3 − ⌊log₁₀|x|⌋ decimals leave four significant digits: 0 to 5 in this range.
        let decimals = (3 - x.abs().log10().floor() as i32).max(0) as usize;
        trim(&format!("{x:.decimals$}")).to_string()
    } else {
        let s = format!("{x:.3e}");
        let (mantissa, exponent) = s.split_once('e').expect("`{:e}` writes an exponent");
        format!("{}e{exponent}", trim(mantissa))
    }
}

impl fmt::Display for Summary {
    /// A scalar as a number, a small tensor as its flat values `[1, 2.5, -3]`, a larger one as
    /// `[100, 1] ‖·‖ = 12.35`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.values {
            Some(values) if self.shape.is_empty() => write!(f, "{}", number(values[0])),
            Some(values) => {
                let shown: Vec<String> = values.iter().map(|&x| number(x)).collect();
                write!(f, "[{}]", shown.join(", "))
            }
            None => write!(f, "{} ‖·‖ = {}", ShapeFmt(&self.shape), number(self.norm)),
        }
    }
}

/// One node of a traced sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceStep {
    /// The node's index on the tape.
    pub node: NodeId,
    /// The node's line of the printed tape, `%4 = add(%1, %3) [4, 1]`.
    pub line: String,
    /// For a parameter's leaf, the parameter's name (empty when it has none): the adjoint is
    /// what was added to its `.grad()`.
    pub param: Option<String>,
    /// ∂root/∂node; `None` when no path leads from the node to the root (the sweep skips it).
    pub adjoint: Option<Summary>,
    /// What the node's rule added to each input's adjoint, in input order. An input used
    /// twice (as in `x * x`) may receive one contribution or two.
    pub sent: Vec<(NodeId, Summary)>,
}

/// A record of one backward sweep, node by node, from the root down to node 0. `Display`
/// prints it in the layout of the printed tape:
///
/// ```text
/// backward from %7 on tape #3 (adjoint = ∂%7/∂node; `%j +=` is what a rule adds to input %j's)
/// %7 = mul(%6, %6) [4, 1]
///     adjoint [0.125, 0.125, 0.125, 0.125]
///     %6 += [0.5, 1, 1.5, 2]
/// …
/// %0 = leaf "w" [1, 1]
///     adjoint [-15]
///     w.grad += [-15]
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    tape: u64,
    root: NodeId,
    steps: Vec<TraceStep>,
}

impl Trace {
    /// The number of the tape that was swept.
    pub fn tape_id(&self) -> u64 {
        self.tape
    }

    /// The node the sweep started from.
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// Every node from the root down to node 0, in the order the sweep visited them.
    pub fn steps(&self) -> &[TraceStep] {
        &self.steps
    }

    /// The step of node `node`, if it is at or below the root.
    pub fn step(&self, node: NodeId) -> Option<&TraceStep> {
        self.root
            .checked_sub(node)
            .and_then(|from_top| self.steps.get(from_top))
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "backward from %{} on tape #{} (adjoint = ∂%{}/∂node; `%j +=` is what a rule adds to input %j's)",
            self.root, self.tape, self.root
        )?;
        for step in &self.steps {
            writeln!(f, "{}", step.line)?;
            let Some(adjoint) = &step.adjoint else {
                writeln!(f, "    no path to the root: skipped")?;
                continue;
            };
            writeln!(f, "    adjoint {adjoint}")?;
            for (to, contribution) in &step.sent {
                writeln!(f, "    %{to} += {contribution}")?;
            }
            match step.param.as_deref() {
                Some("") => writeln!(f, "    grad += {adjoint}")?,
                Some(name) => writeln!(f, "    {name}.grad += {adjoint}")?,
                None => {}
            }
        }
        Ok(())
    }
}

/// The observer of a traced sweep: it writes down what it is shown.
struct Recorder {
    lines: Vec<String>,
    params: Vec<Option<String>>,
    /// Visited nodes, root first (the sweep's order).
    visited: Vec<TraceStep>,
}

impl Recorder {
    /// Copies the printed lines of nodes 0..=root before the sweep frees them.
    fn new<F: Float>(tensor: &Tensor<F>) -> Option<(Recorder, u64, NodeId)> {
        let (tape, root) = (tensor.tape()?, tensor.node_id()?);
        let nodes = tape.nodes();
        let below = nodes.iter().take(root + 1).enumerate();
        let (lines, params) = below
            .map(|(i, node)| {
                let param = node.param.as_ref().map(|p| p.name().to_string());
                (node_line(i, node), param)
            })
            .unzip();
        let recorder = Recorder {
            lines,
            params,
            visited: Vec::new(),
        };
        Some((recorder, tape.id(), root))
    }

    /// Every node from `root` down, visited or skipped.
    fn finish(self, tape: u64, root: NodeId) -> Trace {
        let mut visited = self.visited.into_iter().peekable();
        let mut steps = Vec::with_capacity(root + 1);
        for i in (0..=root).rev() {
            match visited.next_if(|step| step.node == i) {
                Some(step) => steps.push(step),
                None => steps.push(TraceStep {
                    node: i,
                    line: self.lines[i].clone(),
                    param: self.params[i].clone(),
                    adjoint: None,
                    sent: Vec::new(),
                }),
            }
        }
        Trace { tape, root, steps }
    }
}

impl<F: Float> Observer<F> for Recorder {
    fn adjoint(&mut self, node: NodeId, adjoint: &Tensor<F>) {
        self.visited.push(TraceStep {
            node,
            line: self.lines[node].clone(),
            param: self.params[node].clone(),
            adjoint: Some(Summary::of(adjoint)),
            sent: Vec::new(),
        });
    }

    fn sent(&mut self, _from: NodeId, to: NodeId, contribution: &Tensor<F>) {
        if let Some(step) = self.visited.last_mut() {
            step.sent.push((to, Summary::of(contribution)));
        }
    }

    fn sent_window(
        &mut self,
        from: NodeId,
        to: NodeId,
        window: &Tensor<F>,
        shape: &[usize],
        axis: usize,
        start: usize,
    ) {
        let after = shape[axis] - start - window.shape()[axis];
        let padded = no_grad(|| window.pad(axis, start, after));
        self.sent(from, to, &padded);
    }
}

impl<F: Float> Tensor<F> {
    /// [`backward`](Self::backward), returning a [`Trace`] of the sweep: every node's adjoint
    /// and what its rule passed to its inputs, printable as a list in the tape's layout. The
    /// gradients are the same and are left in the parameters as `backward` leaves them; the
    /// graph is freed.
    ///
    /// Meant for learning on small graphs: each adjoint is summarised (values for at most
    /// [`VALUES_UP_TO`] elements, else shape and norm) as the sweep goes.
    ///
    /// # Panics
    /// With the message of [`try_backward_traced`](Self::try_backward_traced)'s error.
    #[track_caller]
    pub fn backward_traced(&self) -> Trace {
        or_panic(self.try_backward_traced())
    }

    /// [`backward_traced`](Self::backward_traced), returning errors instead of panicking.
    ///
    /// # Errors
    /// Those of [`try_backward`](Self::try_backward): `NotScalar`, `NotRecorded`, `Consumed`.
    pub fn try_backward_traced(&self) -> Result<Trace> {
        const OP: &str = "backward";
        let seed = unit_seed(OP, self)?;
        let Some((mut recorder, tape, root)) = Recorder::new(self) else {
            return Err(TensorError::NotRecorded { op: OP });
        };
        sweep(OP, self, seed, Mode::Consume, Target::Params, &mut recorder)?;
        Ok(recorder.finish(tape, root))
    }
}

#[cfg(test)]
mod tests;
