//! The reverse sweep: one loop over node indices, last node first.
//!
//! `grads[i]` holds ∂root/∂(node i), the adjoint of node `i`. Visiting `i` from the top down,
//! every node that used `i` has already added its contribution, so `grads[i]` is complete when
//! `i`'s own rule turns it into its inputs' contributions (the chain rule, one node at a time).
//!
//! Rules are written with tensor ops. A first-order pass runs them with recording off, as
//! plain array maths; `grad(…, create_graph = true)` runs them with recording on, so the
//! gradients are themselves tensors on the tape and can be differentiated again. Their new
//! nodes land above the root, where this sweep never looks.

use std::sync::Arc;

use smallvec::SmallVec;

use super::hooks::run_hooks;
use super::record::GradMode;
use super::trace::{Observer, Untraced};
use super::watch::{self, Watch};
use super::{Node, NodeId, Op, Tape};
use crate::error::{or_panic, Result, TensorError};
use crate::tensor::Repr;
use crate::{ops, pool, Float, Tensor};

/// What a backward rule returns: one gradient per input, `None` where an input is constant.
pub(crate) type InputGrads<F> = SmallVec<[Option<Tensor<F>>; 2]>;

/// What a backward rule can see of its node.
pub(crate) struct BackwardCtx<'a, F: Float> {
    pub op: &'a Op,
    node: &'a Node<F>,
    tape: &'a Tape<F>,
    create_graph: bool,
}

impl<F: Float> BackwardCtx<'_, F> {
    /// The `k`-th saved array, as a tensor: on a second-order pass it is linked to the node it
    /// is the value of, so gradients can flow through it.
    pub fn saved(&self, k: usize) -> Tensor<F> {
        let (value, id) = &self.node.saved[k];
        match id {
            Some(id) if self.create_graph => Tensor {
                repr: Repr::Recorded {
                    value: Arc::clone(value),
                    tape: self.tape.clone(),
                    id: *id,
                },
            },
            _ => Tensor::from_arc(Arc::clone(value)),
        }
    }

    /// How many arrays the node saved.
    pub fn saved_len(&self) -> usize {
        self.node.saved.len()
    }

    /// The shape of the `k`-th saved array.
    pub fn saved_shape(&self, k: usize) -> &[usize] {
        self.node.saved[k].0.shape()
    }

    /// Whether inputs `i` and `j` are the same recorded node (as in `x * x`).
    pub fn same_input(&self, i: usize, j: usize) -> bool {
        self.node.inputs[i].is_some() && self.node.inputs[i] == self.node.inputs[j]
    }

    /// Whether input `i` wants a gradient (constants do not; rules skip their work).
    pub fn needs_grad(&self, i: usize) -> bool {
        self.node.inputs[i].is_some()
    }

    /// Whether this sweep records the rules (`grad(.., create_graph = true)`). When it does
    /// not, a rule may compute its result with plain array maths in one pass: nothing will
    /// differentiate it again.
    pub fn create_graph(&self) -> bool {
        self.create_graph
    }

    /// The shape of the node's output.
    pub fn shape(&self) -> &[usize] {
        &self.node.shape
    }
}

/// Runs the backward rule of the node in `ctx` on `grad_out`. Inlined into both of the
/// sweep's instantiations (plain and watched), as it was when there was one sweep: W4
/// 806.9M → 800.3M instructions.
#[inline(always)]
fn run_rule<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    match ctx.op {
        Op::Leaf | Op::Stale { .. } => SmallVec::new(),
        Op::Add => ops::add::backward(ctx, grad_out),
        Op::AddChannelBias => ops::channel_bias::backward(ctx, grad_out),
        Op::Mul => ops::mul::backward(ctx, grad_out),
        Op::Div => ops::div::backward(ctx, grad_out),
        Op::Pow => ops::pow::backward(ctx, grad_out),
        Op::Maximum => ops::maximum::backward(ctx, grad_out),
        Op::AddScalar(_) => ops::add_scalar::backward(ctx, grad_out),
        Op::MulScalar(_) => ops::mul_scalar::backward(ctx, grad_out),
        Op::PowScalar(_) => ops::powf::backward(ctx, grad_out),
        Op::Exp => ops::exp::backward(ctx, grad_out),
        Op::Ln => ops::ln::backward(ctx, grad_out),
        Op::Log1p => ops::log1p::backward(ctx, grad_out),
        Op::Sqrt => ops::sqrt::backward(ctx, grad_out),
        Op::Abs => ops::abs::backward(ctx, grad_out),
        Op::Sin => ops::sin::backward(ctx, grad_out),
        Op::Cos => ops::cos::backward(ctx, grad_out),
        Op::Tanh => ops::tanh::backward(ctx, grad_out),
        Op::Relu => ops::relu::backward(ctx, grad_out),
        Op::LstmGates => ops::lstm_gates::backward(ctx, grad_out),
        Op::LstmSequence => ops::lstm_sequence::backward(ctx, grad_out),
        Op::Sum { .. } => ops::sum::backward(ctx, grad_out),
        Op::Broadcast { .. } => ops::broadcast::backward(ctx, grad_out),
        Op::Reshape { .. } => ops::reshape::backward(ctx, grad_out),
        Op::Permute { .. } => ops::permute::backward(ctx, grad_out),
        Op::MatMul { .. } => ops::matmul::backward(ctx, grad_out),
        Op::Max { .. } => ops::max::backward(ctx, grad_out),
        Op::Narrow { .. } => ops::narrow::backward(ctx, grad_out),
        Op::Pad { .. } => ops::pad::backward(ctx, grad_out),
        Op::Concat { .. } => ops::concat::backward(ctx, grad_out),
        Op::IndexSelect { .. } => ops::index_select::backward(ctx, grad_out),
        Op::IndexAdd { .. } => ops::index_add::backward(ctx, grad_out),
        Op::Gather { .. } => ops::gather::backward(ctx, grad_out),
        Op::ScatterAdd { .. } => ops::scatter_add::backward(ctx, grad_out),
        Op::Unfold { .. } => ops::unfold::backward(ctx, grad_out),
        Op::Fold { .. } => ops::fold::backward(ctx, grad_out),
        Op::Erf => ops::erf::backward(ctx, grad_out),
        Op::MaxPool { .. } => ops::max_pool::backward(ctx, grad_out),
        Op::WhereCond { .. } => ops::where_cond::backward(ctx, grad_out),
        Op::Custom(_) => ops::custom::backward(ctx, grad_out),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// First order; the tape is freed as the sweep goes (the default `backward`).
    Consume,
    /// First order; the tape is kept for another pass (`backward_retain`).
    Retain,
    /// Rules are recorded, so the gradients can be differentiated (`grad(.., true)`).
    CreateGraph,
}

/// Where a sweep's results go.
pub(super) enum Target<'a> {
    /// Into each parameter's `.grad()` (`backward`).
    Params,
    /// Returned for these nodes (`grad`); parameters are left alone.
    Nodes(&'a [NodeId]),
}

/// Sweeps from `root` with adjoint `seed`, delivering gradients to `target`.
///
/// A consuming sweep (`Mode::Consume`) holds the tape's lock throughout (its rules record
/// nothing) and frees each node it visits. When it visited every node, the whole tape is
/// freed and marked consumed; otherwise the nodes it did not reach — another loss's graph,
/// built on the same tape from the same parameters — stay intact for their own `backward`,
/// as in PyTorch, where `a.backward(); b.backward()` works when `a` and `b` share only leaves.
///
/// `observer` is shown each node's adjoint and what its rule sends to each input. The sweep
/// is generic over it, so the untraced sweep ([`Untraced`], whose methods are empty) compiles
/// to the same loop as if it were not there: tracing costs nothing unless it is asked for.
///
/// A tape with hooks or retained gradients, or a sweep in anomaly mode, wraps the observer in
/// a [`Watch`] that runs the hooks and checks each rule's output; without them the plain
/// loop runs, and hooks cost one flag read per sweep.
pub(super) fn sweep<F: Float>(
    op: &'static str,
    root: &Tensor<F>,
    seed: Tensor<F>,
    mode: Mode,
    target: Target,
    observer: &mut impl Observer<F>,
) -> Result<Vec<Option<Tensor<F>>>> {
    let Repr::Recorded { tape, id, .. } = &root.repr else {
        return Err(TensorError::NotRecorded { op });
    };
    if watch::needed(tape) {
        let keep = matches!(target, Target::Params);
        let create_graph = mode == Mode::CreateGraph;
        let mut watched = Watch::new(tape, *id, observer, keep, create_graph)?;
        let result = sweep_with(op, tape, *id, seed, mode, target, &mut watched);
        watched.finish(tape);
        return result;
    }
    sweep_with(op, tape, *id, seed, mode, target, observer)
}

/// [`sweep`] with its observer chosen.
fn sweep_with<F: Float>(
    op: &'static str,
    tape: &Tape<F>,
    root: NodeId,
    seed: Tensor<F>,
    mode: Mode,
    target: Target,
    observer: &mut impl Observer<F>,
) -> Result<Vec<Option<Tensor<F>>>> {
    let consumed = || TensorError::Consumed {
        op,
        tape: tape.id(),
    };
    let mut owned = if mode == Mode::Consume {
        let nodes = tape.nodes();
        if tape.is_consumed() {
            return Err(consumed());
        }
        Some(nodes)
    } else if tape.is_consumed() {
        return Err(consumed());
    } else {
        None
    };
    let _mode = GradMode::set(mode == Mode::CreateGraph);
    let mut state = SweepState {
        op,
        mode,
        grads: vec![None; root + 1],
        found: vec![None; target.wanted().len()],
        // Nodes above the root belong to other graphs: only without them can the sweep drop
        // the nodes above the one it visits as it goes (which keeps W4 fast).
        truncate: owned.as_ref().is_some_and(|nodes| nodes.len() == root + 1),
        all_swept: true,
        len_before: owned.as_ref().map_or(0, |nodes| nodes.len()),
    };
    // With nodes above the root, the tape is freed whole only if earlier sweeps took them.
    state.all_swept = owned
        .as_ref()
        .is_some_and(|nodes| nodes[root + 1..].iter().all(Node::is_swept));
    state.grads[root] = Some(seed);
    let result = run_sweep(
        tape,
        root,
        &target,
        &mut state,
        owned.as_deref_mut(),
        observer,
    );
    if let Some(nodes) = owned.as_deref_mut() {
        if result.is_ok() && state.all_swept {
            tape.consume(nodes, state.len_before);
        } else {
            // Truncated ids come back as stale markers: tensors may still name them.
            let stale = tape.id();
            if nodes.len() < root + 1 {
                nodes.resize_with(root + 1, || {
                    Node::leaf(Op::Stale { tape: stale }, &[], None)
                });
            }
            super::nodes_dropped(state.len_before - nodes.len());
        }
    }
    result.map(|()| state.found)
}

/// The sweep's working state, kept outside the loop so that an error leaves the tape whole.
struct SweepState<F: Float> {
    /// The caller's name for error messages (`backward`, `grad`).
    op: &'static str,
    mode: Mode,
    /// `grads[i]`: the adjoint of node i, once every consumer of node i has added to it.
    grads: Vec<Option<Tensor<F>>>,
    /// The gradients of the wanted nodes (for `grad`).
    found: Vec<Option<Tensor<F>>>,
    /// Whether nodes above the one visited can still be dropped (a consuming sweep that so
    /// far reached every node below the tape's end).
    truncate: bool,
    /// Whether every node visited so far was reached by this sweep or an earlier one.
    all_swept: bool,
    /// The tape's length when a consuming sweep began.
    len_before: usize,
}

impl Target<'_> {
    fn wanted(&self) -> &[NodeId] {
        match self {
            Target::Params => &[],
            Target::Nodes(ids) => ids,
        }
    }
}

/// The loop of [`sweep`]: from the root down, each reached node's rule adds its inputs'
/// contributions. `owned` is the locked node list of a consuming sweep.
fn run_sweep<F: Float>(
    tape: &Tape<F>,
    root: NodeId,
    target: &Target,
    state: &mut SweepState<F>,
    mut owned: Option<&mut Vec<Node<F>>>,
    observer: &mut impl Observer<F>,
) -> Result<()> {
    let (op, mode) = (state.op, state.mode);
    let wanted = target.wanted();
    let grads = &mut state.grads;
    let tape_id = tape.id();
    // A visited node of a consuming sweep that kept its nodes, to free once its rule ran.
    let mut visited: Option<NodeId> = None;
    for i in (0..=root).rev() {
        // The node: read in place from a consuming sweep's list, whose nodes above i are
        // dropped where they lie while the sweep has reached them all (moving each node out
        // cost 7% of W4), or copied out of the lock, because a second-order rule records
        // onto this very tape.
        if let Some(nodes) = owned.as_deref_mut() {
            let v = visited.take();
            if state.truncate {
                // This drops the node visited last too; freeing it first would drop its parts
                // twice (W4 830.6M → 806.9M instructions).
                nodes.truncate(i + 1);
            } else if let Some(v) = v {
                nodes[v].free(tape_id);
            }
        }
        let Some(grad_out) = grads[i].take() else {
            // no path from node i to the root
            if let Some(nodes) = owned.as_deref() {
                if !nodes[i].is_swept() {
                    state.truncate = false;
                    state.all_swept = false;
                }
            }
            continue;
        };
        let copied;
        let node = match owned.as_deref() {
            Some(nodes) => {
                visited = Some(i);
                &nodes[i]
            }
            None => {
                copied = tape.nodes()[i].clone();
                &copied
            }
        };
        let mut grad_out = observer.arrive(i, grad_out)?;
        if let (Op::Leaf, Some(param)) = (&node.op, &node.param) {
            if let Some(hooks) = param.hooks() {
                grad_out = run_hooks(&hooks, grad_out, mode == Mode::CreateGraph)?;
            }
        }
        observer.adjoint(i, &grad_out);
        for (slot, _) in state.found.iter_mut().zip(wanted).filter(|(_, &w)| w == i) {
            *slot = Some(grad_out.clone());
        }
        match &node.op {
            Op::Leaf => {
                if let (Some(param), Target::Params) = (&node.param, target) {
                    param.accumulate_grad(grad_out.into_value());
                }
                continue;
            }
            Op::Stale { tape } => return Err(TensorError::Consumed { op, tape: *tape }),
            _ => {}
        }
        if let (
            Op::Narrow {
                axis, start, size, ..
            },
            Some(Some(j)),
        ) = (&node.op, node.inputs.first())
        {
            if mode != Mode::CreateGraph {
                // fast path: a narrow's adjoint is ∂L/∂y padded with zeros; adding that pad
                // to its input's adjoint is the same as adding ∂L/∂y into the window. Per
                // step of a recurrent layer, this adds [N, G·H] instead of zeroing and adding
                // the whole [T·N, G·H] projection (T times): W7 11.4 → 5.0 ms/step.
                let mut input_shape = node.shape.to_vec();
                input_shape[*axis] = *size;
                observer.check_sent(i, &node.op, 0, &grad_out)?;
                observer.sent_window(i, *j, &grad_out, &input_shape, *axis, *start);
                accumulate_window(&mut grads[*j], &grad_out, &input_shape, *axis, *start);
                pool::recycle(grad_out.into_value());
                continue;
            }
        }
        if let (Op::Reshape { from }, Some(Some(j))) = (&node.op, node.inputs.first()) {
            if mode != Mode::CreateGraph {
                // fast path: a reshape's adjoint is ∂L/∂y read in the input's shape. The
                // sweep owns ∂L/∂y, so its buffer is relabelled where the rule would copy it
                // (W6: conv2d's [N, O, L] → [N, O, OH, OW], 3.4% of a 1-thread step).
                let g = grad_out.into_reshape(from);
                observer.check_sent(i, &node.op, 0, &g)?;
                observer.sent(i, *j, &g);
                accumulate(&mut grads[*j], g);
                continue;
            }
        }
        let ctx = BackwardCtx {
            op: &node.op,
            node,
            tape,
            create_graph: mode == Mode::CreateGraph,
        };
        let input_grads = run_rule(&ctx, &grad_out);
        for (k, (input, g)) in node.inputs.iter().zip(input_grads).enumerate() {
            if let (Some(j), Some(g)) = (input, g) {
                observer.check_sent(i, &node.op, k, &g)?;
                observer.sent(i, *j, &g);
                accumulate(&mut grads[*j], g);
            }
        }
        pool::recycle(grad_out.into_value());
    }
    if let (Some(nodes), Some(v)) = (owned, visited) {
        nodes[v].free(tape_id);
    }
    Ok(())
}

/// `slot += g`: in place on a first-order pass, recorded on a second-order one.
#[inline(always)]
fn accumulate<F: Float>(slot: &mut Option<Tensor<F>>, g: Tensor<F>) {
    *slot = Some(match slot.take() {
        None => g,
        Some(previous) if previous.is_tracked() || g.is_tracked() => previous.add(&g),
        Some(previous) => {
            let mut sum = previous.into_value();
            *Arc::make_mut(&mut sum) += &*g.value();
            pool::recycle(g.into_value());
            Tensor::from_arc(sum)
        }
    });
}

/// `slot[window] += g`, where the window is `g`'s extent along `axis` from `start` and `slot`
/// (zeros when empty) has `shape`: the first-order adjoint of `narrow` without its pad.
fn accumulate_window<F: Float>(
    slot: &mut Option<Tensor<F>>,
    g: &Tensor<F>,
    shape: &[usize],
    axis: usize,
    start: usize,
) {
    let window = ndarray::Slice::from(start..start + g.shape()[axis]);
    let mut sum = match slot.take() {
        Some(previous) if previous.is_tracked() || g.is_tracked() => {
            let before = start;
            let after = shape[axis] - start - g.shape()[axis];
            *slot = Some(previous.add(&g.pad(axis, before, after)));
            return;
        }
        Some(previous) => previous.into_value(),
        None => Arc::new(ndarray::ArrayD::zeros(shape)),
    };
    let mut target = Arc::make_mut(&mut sum).slice_axis_mut(ndarray::Axis(axis), window);
    target += &*g.value();
    *slot = Some(Tensor::from_arc(sum));
}

/// The seed ∂root/∂root: ones for a one-element root, an error otherwise.
pub(super) fn unit_seed<F: Float>(op: &'static str, root: &Tensor<F>) -> Result<Tensor<F>> {
    if root.numel() != 1 {
        return Err(TensorError::NotScalar {
            op,
            shape: root.shape().to_vec(),
        });
    }
    Ok(Tensor::ones(root.shape()))
}

impl<F: Float> Tensor<F> {
    /// Reverse-mode differentiation from this one-element tensor (usually a loss): adds
    /// ∂self/∂p to the gradient of every parameter `p` it depends on, then frees the graph.
    ///
    /// Only the nodes this pass visits are freed. Two losses that share nothing but
    /// parameters can each run their own `backward`, in either order, and their gradients
    /// accumulate, as in PyTorch:
    /// ```
    /// use tapegrad_tensor::Tensor;
    /// let w = Tensor::<f64>::scalar(2.0).requires_grad();
    /// let (a, b) = ((&w * 3.0).sum(), (&w * &w).sum()); // ∂a/∂w = 3, ∂b/∂w = 2w = 4
    /// a.backward();
    /// b.backward();
    /// assert_eq!(w.grad().unwrap().item(), 7.0);
    /// ```
    /// A second pass through a node the first one freed is an error (`Consumed`), as is
    /// PyTorch's "backward through the graph a second time"; `backward_retain` keeps it.
    ///
    /// # Panics
    /// With the message of [`try_backward`](Self::try_backward)'s error.
    #[track_caller]
    pub fn backward(&self) {
        or_panic(self.try_backward())
    }

    /// [`backward`](Self::backward), returning errors instead of panicking.
    ///
    /// # Errors
    /// `NotScalar` when the tensor has more than one element, `NotRecorded` when nothing it
    /// depends on requires a gradient, `Consumed` when an earlier `backward` freed the graph.
    pub fn try_backward(&self) -> Result<()> {
        let seed = unit_seed("backward", self)?;
        sweep(
            "backward",
            self,
            seed,
            Mode::Consume,
            Target::Params,
            &mut Untraced,
        )
        .map(drop)
    }

    /// [`backward`](Self::backward), keeping the graph so that `backward` can run again
    /// (PyTorch's `retain_graph=True`).
    ///
    /// # Panics
    /// With the message of [`try_backward_retain`](Self::try_backward_retain)'s error.
    #[track_caller]
    pub fn backward_retain(&self) {
        or_panic(self.try_backward_retain())
    }

    /// [`backward_retain`](Self::backward_retain), returning errors instead of panicking.
    ///
    /// # Errors
    /// Those of [`try_backward`](Self::try_backward).
    pub fn try_backward_retain(&self) -> Result<()> {
        let seed = unit_seed("backward", self)?;
        sweep(
            "backward",
            self,
            seed,
            Mode::Retain,
            Target::Params,
            &mut Untraced,
        )
        .map(drop)
    }

    /// Vector-Jacobian product: backward from a tensor of any shape, with `grad_output` as
    /// ∂L/∂self (its shape must equal `self`'s). Frees the graph.
    ///
    /// # Errors
    /// `ShapeMismatch` when the shapes differ, plus those of [`try_backward`](Self::try_backward).
    pub fn try_backward_with(&self, grad_output: &Tensor<F>) -> Result<()> {
        if grad_output.shape() != self.shape() {
            return Err(TensorError::ShapeMismatch {
                op: "backward",
                lhs: self.shape().to_vec(),
                rhs: grad_output.shape().to_vec(),
                rule: "the output gradient must have the output's shape".into(),
            });
        }
        let seed = grad_output.detach();
        sweep(
            "backward",
            self,
            seed,
            Mode::Consume,
            Target::Params,
            &mut Untraced,
        )
        .map(drop)
    }

    /// Panicking form of [`try_backward_with`](Self::try_backward_with).
    #[track_caller]
    pub fn backward_with(&self, grad_output: &Tensor<F>) {
        or_panic(self.try_backward_with(grad_output))
    }
}

/// The gradients of the one-element tensor `output` with respect to each of `inputs`
/// (parameters or intermediate tensors of the same tape), returned rather than accumulated
/// into `.grad()` — PyTorch's `torch.autograd.grad`.
///
/// With `create_graph`, the backward rules are recorded, so the returned gradients are on the
/// tape and can be differentiated again; the graph is kept. Without it, the graph is freed.
/// An input the output does not depend on is an error, as in PyTorch; [`grad_with`] with
/// [`GradOptions::allow_unused`] or [`GradOptions::materialize_grads`] accepts it.
///
/// Hessian-vector product of f(x) = x³ (f'' = 6x):
/// ```
/// use tapegrad_tensor::{grad, Tensor};
/// let x = Tensor::<f64>::from_vec(vec![2.0], &[1]).requires_grad();
/// let y = x.powf(3.0).sum();
/// let dy = grad(&y, &[&x], true).unwrap().remove(0); // 3x² = 12
/// let d2y = grad(&dy.sum(), &[&x], false).unwrap().remove(0); // 6x = 12
/// assert_eq!((dy.item(), d2y.item()), (12.0, 12.0));
/// ```
///
/// # Errors
/// `NotScalar`, `NotRecorded` and `Consumed` as for `backward`; `DifferentTapes` when an input
/// is on another tape; `InvalidArgument` when an input requires no gradient at all, or when
/// the output does not depend on an input (the message says which).
pub fn grad<F: Float>(
    output: &Tensor<F>,
    inputs: &[&Tensor<F>],
    create_graph: bool,
) -> Result<Vec<Tensor<F>>> {
    let options = GradOptions {
        create_graph,
        ..GradOptions::default()
    };
    let grads = grad_with(output, inputs, options)?;
    // Without allow_unused, grad_with returned an error rather than a `None`.
    Ok(grads.into_iter().flatten().collect())
}

/// Options of [`grad_with`], named as `torch.autograd.grad`'s keyword arguments. The default
/// (all `false`) is PyTorch's: first order, and an error for an unused input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GradOptions {
    /// Record the backward rules, so that the gradients can be differentiated again (the
    /// graph is kept); otherwise the pass frees the nodes it visits.
    pub create_graph: bool,
    /// An input the output does not depend on gets `None` instead of an error.
    pub allow_unused: bool,
    /// An input the output does not depend on gets zeros of its shape (implies
    /// `allow_unused`): its gradient, mathematically, but a silent zero can hide a bug — a
    /// layer left out of the forward pass — so it must be asked for.
    pub materialize_grads: bool,
}

/// [`grad`] with [`GradOptions`]: `None` for an input the output does not depend on when
/// `allow_unused` is set (zeros with `materialize_grads`), and an error naming the input
/// otherwise.
///
/// ```
/// use tapegrad_tensor::{grad_with, GradOptions, Tensor};
/// let x = Tensor::<f64>::scalar(3.0).requires_grad();
/// let unused = Tensor::<f64>::ones(&[2]).requires_grad();
/// let y = &x * &x;
/// let err = grad_with(&y, &[&x, &unused], GradOptions::default()).unwrap_err();
/// assert!(err.to_string().contains("input 1"), "{err}");
/// let y = &x * &x;
/// let zeros = GradOptions { materialize_grads: true, ..GradOptions::default() };
/// let g = grad_with(&y, &[&x, &unused], zeros).unwrap();
/// assert_eq!(g[0].as_ref().unwrap().item(), 6.0); // ∂(x²)/∂x = 2x
/// assert_eq!(g[1].as_ref().unwrap().to_vec(), vec![0.0, 0.0]);
/// ```
///
/// # Errors
/// Those of [`grad`]; the unused-input error only without `allow_unused`/`materialize_grads`.
pub fn grad_with<F: Float>(
    output: &Tensor<F>,
    inputs: &[&Tensor<F>],
    options: GradOptions,
) -> Result<Vec<Option<Tensor<F>>>> {
    const OP: &str = "grad";
    let seed = unit_seed(OP, output)?;
    let Some(tape) = output.tape() else {
        return Err(TensorError::NotRecorded { op: OP });
    };
    let tape_id = tape.id();
    let mut wanted = Vec::with_capacity(inputs.len());
    for input in inputs {
        let id = match &input.repr {
            Repr::Param(p) => p.leaf_on(tape_id),
            Repr::Recorded { tape: t, id, .. } if t.same_as(&tape) => Some(*id),
            Repr::Recorded { tape: t, .. } => {
                return Err(TensorError::DifferentTapes {
                    op: OP,
                    a: tape_id,
                    b: t.id(),
                })
            }
            Repr::Constant(_) => {
                return Err(TensorError::InvalidArgument {
                    op: OP,
                    shape: input.shape().to_vec(),
                    rule: "this input requires no gradient; call requires_grad() on it first"
                        .into(),
                })
            }
        };
        // `usize::MAX` never matches a node: such an input is unused.
        wanted.push(id.unwrap_or(usize::MAX));
    }
    let mode = if options.create_graph {
        Mode::CreateGraph
    } else {
        Mode::Consume
    };
    let found = sweep(
        OP,
        output,
        seed,
        mode,
        Target::Nodes(&wanted),
        &mut Untraced,
    )?;
    let allow_unused = options.allow_unused || options.materialize_grads;
    found
        .into_iter()
        .zip(inputs)
        .enumerate()
        .map(|(k, (g, input))| match g {
            Some(g) => Ok(Some(g)),
            None if options.materialize_grads => Ok(Some(Tensor::zeros(input.shape()))),
            None if allow_unused => Ok(None),
            None => Err(TensorError::InvalidArgument {
                op: OP,
                shape: input.shape().to_vec(),
                rule: format!(
                    "input {k} (of {}) was not used to compute the output, so it has no \
                     gradient; set GradOptions::allow_unused to get None for it, or \
                     materialize_grads to get zeros",
                    inputs.len()
                ),
            }),
        })
        .collect()
}
