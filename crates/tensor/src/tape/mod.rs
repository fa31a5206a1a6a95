//! The tape: an explicit Wengert list of every op recorded during one training step.
//!
//! ```text
//!  forward: each op appends one node          backward: one loop, last node first
//!
//!  %0 = leaf "w"      [16, 1]                  grad[%3] = 1
//!  %1 = matmul(const, %0) [100, 1]             %3: grad[%2] += rule(sum)(grad[%3])
//!  %2 = sub(%1, const)    [100, 1]       ──►   %2: grad[%1] += rule(sub)(grad[%2])
//!  %3 = sum(%2)           []                   %1: grad[%0] += rule(matmul)(grad[%1])
//!                                              %0: w.grad += grad[%0]
//! ```
//!
//! Nodes are created in execution order, so their index order is already a topological
//! order: the reverse sweep is a plain loop over indices. Nodes name their inputs by index and
//! hold arrays, never tensors, so no reference cycle can form and dropping a tape frees one
//! flat `Vec` — a chain of a million ops needs no recursion, forward, backward or drop.
//!
//! To watch the sweep at work, [`Tensor::backward_traced`](crate::Tensor::backward_traced)
//! runs the same loop and returns a [`Trace`]: each node's adjoint and what its rule passed to
//! its inputs, printed in the layout above ([`trace`]).

pub mod anomaly;
mod backward;
pub(crate) use backward::InputGrads;
pub mod hooks;
pub(crate) mod op;
mod print;
mod record;
pub mod trace;
mod watch;

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use ndarray::ArrayD;
use smallvec::SmallVec;

use crate::{Float, Param};

pub(crate) use backward::BackwardCtx;
pub use backward::{grad, grad_with, GradOptions};
pub use op::Op;
pub use record::{is_grad_enabled, no_grad};
pub(crate) use record::{record, GradMode, Saved, Watcher};
pub use trace::Trace;

/// The index of a node on its tape.
pub type NodeId = usize;

/// Small shapes stay inline: most tensors have rank ≤ 4.
pub(crate) type Shape = SmallVec<[usize; 4]>;

/// A saved array and the node whose value it is (`None` for a constant).
pub(crate) type SavedValue<F> = (Arc<ArrayD<F>>, Option<NodeId>);

/// One recorded op: what it was, which nodes fed it, and what its backward rule needs.
pub(crate) struct Node<F: Float> {
    pub op: Op,
    /// One entry per operand: the operand's node, or `None` for a constant (no gradient).
    pub inputs: SmallVec<[Option<NodeId>; 2]>,
    /// The arrays the backward rule reads, each with the node it is the value of (an input's
    /// or this node's own id), so that a second-order pass can differentiate through it.
    pub saved: SmallVec<[SavedValue<F>; 2]>,
    /// The output's shape.
    pub shape: Shape,
    /// For leaves: the parameter that receives this node's gradient.
    pub param: Option<Param<F>>,
    /// For leaves: a consuming sweep has delivered a gradient here. Other nodes a consuming
    /// sweep visits are freed (turned `stale`) instead; a tape whose every node is swept or
    /// stale is freed whole.
    pub swept: bool,
}

impl<F: Float> Node<F> {
    /// A node with no inputs: a parameter's leaf, or a `stale` marker.
    pub(crate) fn leaf(op: Op, shape: &[usize], param: Option<Param<F>>) -> Node<F> {
        Node {
            op,
            inputs: SmallVec::new(),
            saved: SmallVec::new(),
            shape: shape.into(),
            param,
            swept: false,
        }
    }

    /// Whether a consuming sweep has already been through this node.
    pub(crate) fn is_swept(&self) -> bool {
        self.swept || matches!(self.op, Op::Stale { .. })
    }

    /// Frees what a visited node holds once a consuming sweep is done with it: its saved
    /// arrays go and it becomes `stale`, so a second pass through it fails as in PyTorch
    /// ("backward through the graph a second time"). Leaves stay, for other losses.
    pub(crate) fn free(&mut self, tape: u64) {
        if matches!(self.op, Op::Leaf) {
            self.swept = true;
        } else {
            self.op = Op::Stale { tape };
            self.recycle_saved();
            self.inputs = SmallVec::new();
        }
    }

    /// Drops the saved arrays, handing those nothing else holds to the pool.
    fn recycle_saved(&mut self) {
        for (value, _) in std::mem::take(&mut self.saved) {
            crate::pool::recycle(value);
        }
    }
}

impl<F: Float> Drop for Node<F> {
    fn drop(&mut self) {
        self.recycle_saved();
    }
}

impl<F: Float> Clone for Node<F> {
    fn clone(&self) -> Self {
        Node {
            op: self.op.clone(),
            inputs: self.inputs.clone(),
            saved: self.saved.clone(),
            shape: self.shape.clone(),
            param: self.param.clone(),
            swept: self.swept,
        }
    }
}

/// What every handle to one tape shares.
pub(crate) struct TapeData<F: Float> {
    /// The tape's number, unique within the process.
    id: u64,
    /// Set by a consuming `backward` that swept every node: the nodes are gone and no op may
    /// be added (a sweep that left some nodes unvisited, such as a second loss's, frees only
    /// the nodes it visited and leaves this unset). It changes
    /// only while `nodes` is locked, so a reader holding that lock sees it exactly, and a
    /// reader without the lock (`choose_tape`, `Tape::current`) never has to take it.
    consumed: AtomicBool,
    nodes: Mutex<Vec<Node<F>>>,
    /// Hooks, retained gradients and anomaly-mode origins ([`hooks`], [`anomaly`]). Locked
    /// after `nodes` when both are held, never before.
    pub(crate) sidecar: Mutex<hooks::Sidecar<F>>,
    /// Whether the sidecar holds hooks or retained gradients: a sweep reads only this flag
    /// unless it does.
    pub(crate) watched: AtomicBool,
}

/// A shared handle to one tape. Every tensor recorded on it holds one, so the tape lives
/// exactly as long as the step's tensors do.
pub struct Tape<F: Float = f32> {
    pub(crate) data: Arc<TapeData<F>>,
}

impl<F: Float> Clone for Tape<F> {
    fn clone(&self) -> Self {
        Tape {
            data: Arc::clone(&self.data),
        }
    }
}

static NEXT_TAPE_ID: AtomicU64 = AtomicU64::new(1);
static LIVE_TAPES: AtomicUsize = AtomicUsize::new(0);
static LIVE_NODES: AtomicUsize = AtomicUsize::new(0);

/// Locks a mutex, ignoring poisoning: a panic in user code mid-step must not make every later
/// use of a parameter panic too.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl<F: Float> Tape<F> {
    fn new() -> Self {
        LIVE_TAPES.fetch_add(1, Ordering::Relaxed);
        Tape {
            data: Arc::new(TapeData {
                id: NEXT_TAPE_ID.fetch_add(1, Ordering::Relaxed),
                consumed: AtomicBool::new(false),
                nodes: Mutex::new(Vec::new()),
                sidecar: Mutex::new(hooks::Sidecar::default()),
                watched: AtomicBool::new(false),
            }),
        }
    }

    /// The tape's number, unique within the process (`#3` in messages).
    pub fn id(&self) -> u64 {
        self.data.id
    }

    /// How many nodes are recorded (0 once a `backward` consumed the tape).
    pub fn len(&self) -> usize {
        self.nodes().len()
    }

    /// Whether no node is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a `backward` has consumed (freed) this tape.
    pub fn is_consumed(&self) -> bool {
        self.data.consumed.load(Ordering::Acquire)
    }

    /// The node list, locked.
    pub(crate) fn nodes(&self) -> MutexGuard<'_, Vec<Node<F>>> {
        lock(&self.data.nodes)
    }

    /// Marks the tape consumed and frees its nodes; the caller holds the lock as `nodes`,
    /// and `counted` nodes were on it (some may have been dropped already).
    pub(crate) fn consume(&self, nodes: &mut Vec<Node<F>>, counted: usize) {
        self.data.consumed.store(true, Ordering::Release);
        nodes_dropped(counted);
        *nodes = Vec::new();
    }

    pub(crate) fn same_as(&self, other: &Tape<F>) -> bool {
        Arc::ptr_eq(&self.data, &other.data)
    }

    /// The thread's current tape for element type `F`, made anew when there is none or the
    /// last one was consumed or dropped. Only a weak pointer is kept, so the thread never
    /// keeps a step's graph alive.
    pub(crate) fn current() -> Tape<F> {
        CURRENT_TAPES.with(|cell| {
            let mut current = cell.borrow_mut();
            let key = TypeId::of::<F>();
            let live = current
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, weak)| weak.upgrade())
                .and_then(|any| any.downcast::<TapeData<F>>().ok())
                .filter(|data| !data.consumed.load(Ordering::Acquire));
            if let Some(data) = live {
                return Tape { data };
            }
            let tape = Tape::new();
            let weak: Weak<TapeData<F>> = Arc::downgrade(&tape.data);
            current.retain(|(k, _)| *k != key);
            current.push((key, weak));
            tape
        })
    }
}

type AnyWeak = Weak<dyn Any + Send + Sync>;

thread_local! {
    /// One current tape per element type (`f32`, `f64`) and thread.
    static CURRENT_TAPES: RefCell<Vec<(TypeId, AnyWeak)>> = const { RefCell::new(Vec::new()) };
}

/// Appends `node` to a tape's (locked) node list and returns its id.
pub(crate) fn push_node<F: Float>(nodes: &mut Vec<Node<F>>, node: Node<F>) -> NodeId {
    LIVE_NODES.fetch_add(1, Ordering::Relaxed);
    nodes.push(node);
    nodes.len() - 1
}

/// Keeps arrays beyond its inputs and output for the backward rule of the op that recorded
/// `output` (its workspace, such as an LSTM's gates), after the node's other saved values.
/// They are kept as constants: a second-order pass must not differentiate through them, so
/// a rule reads them only on its first-order path. Nothing is kept for an unrecorded output.
pub(crate) fn save_workspace<F: Float>(
    output: &crate::Tensor<F>,
    arrays: impl IntoIterator<Item = ArrayD<F>>,
) {
    if let crate::tensor::Repr::Recorded { tape, id, .. } = &output.repr {
        let saved = &mut tape.nodes()[*id].saved;
        saved.extend(arrays.into_iter().map(|a| (Arc::new(a), None)));
    }
}

/// Accounts for `n` nodes removed from a tape.
pub(crate) fn nodes_dropped(n: usize) {
    LIVE_NODES.fetch_sub(n, Ordering::Relaxed);
}

impl<F: Float> Drop for TapeData<F> {
    fn drop(&mut self) {
        LIVE_TAPES.fetch_sub(1, Ordering::Relaxed);
        let nodes = self.nodes.get_mut().unwrap_or_else(|e| e.into_inner());
        LIVE_NODES.fetch_sub(nodes.len(), Ordering::Relaxed);
    }
}

/// Process-wide counters for tests and examples that check memory stays flat.
pub mod debug {
    use super::*;

    /// Tapes alive right now, over all threads and element types.
    pub fn live_tapes() -> usize {
        LIVE_TAPES.load(Ordering::Relaxed)
    }

    /// Nodes on live tapes right now.
    pub fn live_nodes() -> usize {
        LIVE_NODES.load(Ordering::Relaxed)
    }
}
