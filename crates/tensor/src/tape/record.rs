//! Recording: how a forward op appends its node, and the `no_grad` switch.

use std::cell::Cell;
use std::panic::Location;
use std::sync::Arc;

use ndarray::ArrayD;
use smallvec::SmallVec;

use super::anomaly;
use super::{push_node, Node, NodeId, Op, Shape, Tape};
use crate::error::{Result, TensorError};
use crate::tensor::Repr;
use crate::{Float, Tensor};

thread_local! {
    /// How many `no_grad` scopes the thread is inside; recording happens only at 0.
    static NO_GRAD_DEPTH: Cell<usize> = const { Cell::new(0) };
    /// The modes that watch what this thread records, one bit each ([`Watcher`]): one read
    /// tells `record` whether it has anything more to do than record.
    static WATCHERS: Cell<u8> = const { Cell::new(0) };
}

/// Whether ops on this thread are being recorded (`false` inside [`no_grad`]).
#[inline]
pub fn is_grad_enabled() -> bool {
    NO_GRAD_DEPTH.with(|depth| depth.get() == 0)
}

/// A mode that watches recording; each owns a bit of `WATCHERS`.
#[derive(Clone, Copy)]
pub(crate) enum Watcher {
    /// Anomaly mode: inside some `detect_anomaly` scope.
    Anomaly = 1,
    /// Forward mode: a dual level is active and not paused.
    Forward = 2,
}

impl Watcher {
    /// Turns the mode on or off for this thread; returns whether it was on.
    pub(crate) fn set(self, on: bool) -> bool {
        WATCHERS.with(|w| {
            let was = w.get();
            let bit = self as u8;
            w.set(if on { was | bit } else { was & !bit });
            was & bit != 0
        })
    }

    /// Whether the mode is on for this thread.
    #[inline]
    pub(crate) fn is_on(self) -> bool {
        WATCHERS.with(|w| w.get() & self as u8 != 0)
    }
}

/// Runs `f` with recording turned off: every op inside computes values only, as in PyTorch's
/// `with torch.no_grad():`. Use it for evaluation and for hand-written parameter updates.
///
/// ```
/// use tapegrad_tensor::{no_grad, Tensor};
/// let w = Tensor::<f64>::ones(&[2]).requires_grad();
/// let y = no_grad(|| &w * 3.0);
/// assert!(!y.is_tracked());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = GradMode::set(false);
    f()
}

/// Sets the recording mode for a scope and restores the previous one on drop, even if the
/// scope panics.
pub(crate) struct GradMode {
    previous: usize,
}

impl GradMode {
    pub(crate) fn set(enabled: bool) -> GradMode {
        let previous = NO_GRAD_DEPTH.with(|depth| {
            let previous = depth.get();
            depth.set(if enabled { 0 } else { previous + 1 });
            previous
        });
        GradMode { previous }
    }
}

impl Drop for GradMode {
    fn drop(&mut self) {
        NO_GRAD_DEPTH.with(|depth| depth.set(self.previous));
    }
}

/// What a node keeps for its backward rule.
#[derive(Clone, Copy)]
pub(crate) enum Saved {
    /// The value of the op's `i`-th input.
    Input(usize),
    /// The op's own output.
    Output,
}

/// Wraps `output`, the value an op computed from `inputs`, as a tensor — recording a node
/// when recording is on and some input is tracked, and a plain constant otherwise.
///
/// Parameters among the inputs are lifted onto the tape as leaves (once per tape); an input
/// left over from a consumed tape becomes a `stale` leaf, which is an error only if a
/// gradient later tries to flow into it (PyTorch's "backward through the graph a second time").
///
/// In anomaly mode it also checks `output` for NaN and ±inf and keeps where the op was called
/// from: the public op's caller, since every function between it and here is
/// `#[track_caller]`.
#[track_caller]
pub(crate) fn record<F: Float>(
    op: Op,
    inputs: &[&Tensor<F>],
    output: ArrayD<F>,
    saved: &[Saved],
) -> Result<Tensor<F>> {
    // fast path: with anomaly and forward mode off, one flag read per op; their work is in
    // the cold functions below, called by reference (W4 800.3M → 787.6M instructions).
    if !is_grad_enabled() || !inputs.iter().any(|t| t.is_tracked()) {
        if watching() {
            watch_constant(&op, inputs, &output, Location::caller());
        }
        return Ok(Tensor::from_arc(Arc::new(output)));
    }
    let tape = choose_tape(&op, inputs)?;
    let output = Arc::new(output);
    let mut nodes = tape.nodes();
    if tape.is_consumed() {
        return Err(TensorError::Consumed {
            op: op.label(),
            tape: tape.id(),
        });
    }
    let tape_id = tape.id();
    // SmallVecs here are filled by `push` and `from_slice`: `collect` and `into` go through
    // `extend`, about 70 instructions per call, 9% of all of W4's (W4 21.6 → 19.9 ms).
    let mut ids: SmallVec<[Option<NodeId>; 2]> = SmallVec::with_capacity(inputs.len());
    for input in inputs {
        let id = match &input.repr {
            Repr::Constant(_) => None,
            // Only a consumed tape can differ here (choose_tape rejected live ones).
            Repr::Recorded {
                value, tape: other, ..
            } if !other.same_as(&tape) => {
                let stale = Op::Stale { tape: other.id() };
                Some(push_node(
                    &mut nodes,
                    Node::leaf(stale, value.shape(), None),
                ))
            }
            Repr::Recorded { id, .. } => Some(*id),
            // A cached leaf a partial sweep truncated (now `stale`) is lifted anew.
            Repr::Param(p) => Some(
                match p
                    .leaf_on(tape_id)
                    .filter(|&id| matches!(nodes[id].op, Op::Leaf))
                {
                    Some(id) => id,
                    None => {
                        let leaf = Node::leaf(Op::Leaf, p.shape(), Some(p.clone()));
                        let id = push_node(&mut nodes, leaf);
                        p.set_leaf(tape_id, id);
                        id
                    }
                },
            ),
        };
        ids.push(id);
    }
    let own_id = nodes.len();
    let mut saved_values = SmallVec::new();
    for s in saved {
        saved_values.push(match *s {
            Saved::Input(i) => (inputs[i].value(), ids[i]),
            Saved::Output => (Arc::clone(&output), Some(own_id)),
        });
    }
    let shape = Shape::from_slice(output.shape());
    let id = push_node(
        &mut nodes,
        Node {
            op,
            inputs: ids,
            saved: saved_values,
            shape,
            param: None,
            swept: false,
        },
    );
    let jvp = if watching() {
        watch_recorded(&tape, id, &nodes[id], inputs, &output, Location::caller())
    } else {
        None
    };
    drop(nodes);
    let output = Tensor {
        repr: Repr::Recorded {
            value: output,
            tape,
            id,
        },
    };
    Ok(match jvp {
        None => output,
        Some(jvp) => with_tangent(*jvp, inputs, output),
    })
}

/// Whether anomaly mode or forward mode is on: then the cold functions below say what each
/// wants of this op. Read where each path needs it, not kept across `record` in a register.
#[inline(always)]
fn watching() -> bool {
    WATCHERS.with(|w| w.get() != 0)
}

/// Anomaly mode's check of an op's value when no node is recorded.
#[cold]
#[inline(never)]
fn watch_constant<F: Float>(
    op: &Op,
    inputs: &[&Tensor<F>],
    output: &ArrayD<F>,
    called_at: &'static Location<'static>,
) {
    if anomaly::checks_forward() {
        anomaly::forward_checked(op, inputs, output, called_at, None);
    }
}

/// The two modes' work on a node just pushed, its tape's lock still held: anomaly mode checks
/// its value and keeps its origin; forward mode gets back the op and input ids it needs to run
/// the JVP rule once the lock is released.
#[cold]
#[inline(never)]
fn watch_recorded<F: Float>(
    tape: &Tape<F>,
    id: NodeId,
    node: &Node<F>,
    inputs: &[&Tensor<F>],
    output: &ArrayD<F>,
    called_at: &'static Location<'static>,
) -> Option<Box<ForJvp>> {
    if anomaly::checks_forward() {
        anomaly::forward_checked(&node.op, inputs, output, called_at, Some((tape, id)));
    }
    crate::forward::is_forward_ad_enabled()
        .then(|| Box::new((node.op.clone(), node.inputs.clone())))
}

/// What forward mode needs of a recorded node to run its JVP rule: its op and input ids.
type ForJvp = (Op, SmallVec<[Option<NodeId>; 2]>);

/// Forward mode's work on a recorded op, its tape unlocked: the op's JVP rule runs.
#[cold]
#[inline(never)]
fn with_tangent<F: Float>(
    (op, ids): ForJvp,
    inputs: &[&Tensor<F>],
    output: Tensor<F>,
) -> Tensor<F> {
    crate::forward::on_record(&op, inputs, &ids, &output);
    output
}

/// The tape an op records on: the one its recorded inputs share, or the thread's current tape
/// when only parameters are tracked. Tapes consumed by `backward` do not count. It takes the
/// op, not its label: a label is a jump through the op's variants (a custom op's is a call),
/// needed only for the error.
fn choose_tape<F: Float>(op: &Op, inputs: &[&Tensor<F>]) -> Result<Tape<F>> {
    let mut chosen: Option<Tape<F>> = None;
    for input in inputs {
        if let Repr::Recorded { tape, .. } = &input.repr {
            if tape.is_consumed() {
                continue;
            }
            match &chosen {
                None => chosen = Some(tape.clone()),
                Some(c) if c.same_as(tape) => {}
                Some(c) => {
                    return Err(TensorError::DifferentTapes {
                        op: op.label(),
                        a: c.id(),
                        b: tape.id(),
                    })
                }
            }
        }
    }
    Ok(chosen.unwrap_or_else(Tape::current))
}
