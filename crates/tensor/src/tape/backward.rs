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

use super::record::GradMode;
use super::trace::{Observer, Untraced};
use super::{Node, NodeId, Op, Tape};
use crate::error::{or_panic, Result, TensorError};
use crate::ops;
use crate::tensor::Repr;
use crate::{Float, Tensor};

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

/// Runs the backward rule of the node in `ctx` on `grad_out`.
fn run_rule<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    match ctx.op {
        Op::Leaf | Op::Stale { .. } => SmallVec::new(),
        Op::Add => ops::add::backward(ctx, grad_out),
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
/// `observer` is shown each node's adjoint and what its rule sends to each input. The sweep
/// is generic over it, so the untraced sweep ([`Untraced`], whose methods are empty) compiles
/// to the same loop as if it were not there: tracing costs nothing unless it is asked for.
pub(super) fn sweep<F: Float>(
    op: &'static str,
    root: &Tensor<F>,
    seed: Tensor<F>,
    mode: Mode,
    target: Target,
    observer: &mut impl Observer<F>,
) -> Result<Vec<Option<Tensor<F>>>> {
    let wanted = match target {
        Target::Params => &[][..],
        Target::Nodes(ids) => ids,
    };
    let Repr::Recorded { tape, id: root, .. } = &root.repr else {
        return Err(TensorError::NotRecorded { op });
    };
    let root = *root;
    let consumed = || TensorError::Consumed {
        op,
        tape: tape.id(),
    };
    let mut owned = if mode == Mode::Consume {
        let mut nodes = tape.take_nodes().ok_or_else(consumed)?;
        nodes.truncate(root + 1);
        Some(nodes)
    } else if tape.is_consumed() {
        return Err(consumed());
    } else {
        None
    };
    let _mode = GradMode::set(mode == Mode::CreateGraph);
    let mut grads: Vec<Option<Tensor<F>>> = vec![None; root + 1];
    grads[root] = Some(seed);
    let mut found: Vec<Option<Tensor<F>>> = vec![None; wanted.len()];
    for i in (0..=root).rev() {
        // The node: read in place from a consumed tape, whose nodes above i are freed as the
        // sweep goes (dropped where they lie: moving each node out cost 7% of W4), or copied
        // out of the lock, because a second-order rule records onto this very tape.
        if let Some(nodes) = owned.as_mut() {
            nodes.truncate(i + 1);
        }
        let Some(grad_out) = grads[i].take() else {
            continue; // no path from node i to the root
        };
        observer.adjoint(i, &grad_out);
        let copied;
        let node = match &owned {
            Some(nodes) => &nodes[i],
            None => {
                copied = tape.nodes()[i].clone();
                &copied
            }
        };
        for (slot, _) in found.iter_mut().zip(wanted).filter(|(_, &w)| w == i) {
            *slot = Some(grad_out.clone());
        }
        match &node.op {
            Op::Leaf => {
                if let (Some(param), Target::Params) = (&node.param, &target) {
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
                observer.sent_window(i, *j, &grad_out, &input_shape, *axis, *start);
                accumulate_window(&mut grads[*j], &grad_out, &input_shape, *axis, *start);
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
        for (input, g) in node.inputs.iter().zip(input_grads) {
            if let (Some(j), Some(g)) = (input, g) {
                observer.sent(i, *j, &g);
                accumulate(&mut grads[*j], g);
            }
        }
    }
    Ok(found)
}

/// `slot += g`: in place on a first-order pass, recorded on a second-order one.
fn accumulate<F: Float>(slot: &mut Option<Tensor<F>>, g: Tensor<F>) {
    *slot = Some(match slot.take() {
        None => g,
        Some(previous) if previous.is_tracked() || g.is_tracked() => previous.add(&g),
        Some(previous) => {
            let mut sum = previous.into_value();
            *Arc::make_mut(&mut sum) += &*g.value();
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
    #[track_caller]
    pub fn backward_retain(&self) {
        or_panic(unit_seed("backward", self).and_then(|seed| {
            sweep(
                "backward",
                self,
                seed,
                Mode::Retain,
                Target::Params,
                &mut Untraced,
            )
            .map(drop)
        }))
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
/// An input the output does not depend on gets a zero gradient.
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
/// is on another tape; `InvalidArgument` when an input requires no gradient at all.
pub fn grad<F: Float>(
    output: &Tensor<F>,
    inputs: &[&Tensor<F>],
    create_graph: bool,
) -> Result<Vec<Tensor<F>>> {
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
        // `usize::MAX` never matches a node: such an input gets zeros below.
        wanted.push(id.unwrap_or(usize::MAX));
    }
    let mode = if create_graph {
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
    Ok(found
        .into_iter()
        .zip(inputs)
        .map(|(g, input)| g.unwrap_or_else(|| Tensor::zeros(input.shape())))
        .collect())
}
