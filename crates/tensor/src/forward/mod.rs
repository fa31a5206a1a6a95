//! Forward mode: tangents pushed through every primitive by its own JVP rule (dual numbers on
//! tensors), PyTorch's `torch.autograd.forward_ad`.
//!
//! A *dual* tensor is a pair (x, ẋ): a value and a tangent, the direction in which x moves.
//! Each primitive y = f(x₁, …, xₖ) has, beside its backward rule, a JVP rule that computes the
//! tangent of its output from the tangents of its inputs,
//!
//! ```text
//! ẏ = J_f(x) · ẋ = Σᵢ ∂f/∂xᵢ · ẋᵢ          e.g. y = sin x:  ẏ = cos x ⊙ ẋ
//! ```
//!
//! so one forward pass gives the directional derivative J·v for a whole program — no reverse
//! sweep, and no double-VJP trick: reverse mode is never run here.
//!
//! # How the tangents travel
//!
//! ```text
//!  dual_level(|| {                          tangents (beside the tape, keyed by node)
//!    let x = make_dual(&x0, &v)?;  %0 leaf  %1 = reshape(%0)          %1 ↦ v
//!    let y = x.sin();                       %2 = sin(%1)              %2 ↦ cos(%1) ⊙ v
//!    let z = &y * &x;                       %4 = mul(%2, %1)          %4 ↦ ẏ ⊙ x + y ⊙ ẋ
//!    tangent(&z)                                                      → J·v
//!  })
//! ```
//!
//! - A tangent is kept *beside* its node: while a [`dual_level`] is active, the thread holds
//!   a table from (tape, node) to the node's tangent. Each time an op records a node, the
//!   table is asked for its inputs' tangents, and the op's JVP rule (`jvp` in
//!   `ops/<name>.rs`, beside `backward`) computes the output's. No node, tensor or tape
//!   layout changes, so reverse mode is untouched.
//! - An absent tangent means zero. When no input of a node has one, the rule is not run at
//!   all, so the parts of a program that do not depend on the perturbed inputs cost a table
//!   look-up each, not a tensor op.
//! - Outside a `dual_level`, recording checks one thread-local flag: nothing else. (Measured
//!   on W3/W4 of `examples/workloads.rs`: within the noise of the machine.)
//! - JVP rules are written with tensor ops, and recorded like any other op. A tangent is
//!   therefore itself a tensor on the tape, differentiable in reverse mode (reverse over
//!   forward). While a rule runs, forward mode is paused, so the rule's own nodes get no
//!   tangent of their own. (`func`'s transforms, called at the top level where nothing will
//!   differentiate a tangent, run the rules unrecorded: the same values, fewer nodes.)
//! - Forward over reverse needs only that backward rules are recorded: in a `dual_level`,
//!   `grad(.., create_graph = true)` records its rules, each recorded node gets a tangent,
//!   and the tangent of ∇f is the Hessian-vector product H·v
//!   ([`func::hvp`](crate::func::hvp)).
//! - Forward mode rides on the tape: a dual level turns recording on for its scope (like
//!   `torch.func`, it ignores an outer [`no_grad`](crate::no_grad)). A `no_grad` *inside*
//!   the level stops tangents as well as gradients.
//! - Levels do not nest (JAX and PyTorch allow it; tapegrad keeps one level per thread): a
//!   Hessian is `jacfwd` over `jacrev`, forward over reverse, never forward over forward.
//!
//! The rules are dispatched from [`Op`] in `run_rule` (this file), one line per primitive;
//! the match is exhaustive, so a primitive added without a JVP rule does not compile, and
//! the table-driven test in `forward/tests.rs` fails for a primitive that no case exercises.
//!
//! ```
//! use tapegrad_tensor::forward::{dual_level, make_dual, tangent};
//! use tapegrad_tensor::Tensor;
//! // y = x², so ẏ = 2x·ẋ: at x = 3 with ẋ = 1, ẏ = 6.
//! let dy = dual_level(|| {
//!     let x = make_dual(&Tensor::<f64>::scalar(3.0), &Tensor::scalar(1.0)).unwrap();
//!     tangent(&(&x * &x)).unwrap()
//! })
//! .unwrap();
//! assert_eq!(dy.item(), 6.0);
//! ```

#[cfg(test)]
mod tests;

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use smallvec::SmallVec;

use crate::error::{Result, TensorError};
use crate::ops;
use crate::tape::{record, GradMode, NodeId, Op, Watcher};
use crate::tensor::Repr;
use crate::{Float, Tensor};

thread_local! {
    /// Whether the active level records its JVP rules (so that tangents can be differentiated).
    static RECORD_TANGENTS: Cell<bool> = const { Cell::new(true) };
    /// The active level's tangents, one `Tangents<F>` per element type used in it.
    static LEVEL: RefCell<Option<Vec<Box<dyn Any>>>> = const { RefCell::new(None) };
}

/// The tangents of one dual level, by (tape id, node id).
struct Tangents<F: Float> {
    by_node: HashMap<(u64, NodeId), Tensor<F>>,
}

/// Whether forward-mode tangents are being computed on this thread right now (a dual level is
/// active and not paused: the one thing recording checks).
#[inline]
pub fn is_forward_ad_enabled() -> bool {
    Watcher::Forward.is_on()
}

/// Restores the active flag when dropped, also on a panic.
struct ActiveGuard(bool);

impl ActiveGuard {
    fn set(active: bool) -> ActiveGuard {
        ActiveGuard(Watcher::Forward.set(active))
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        Watcher::Forward.set(self.0);
    }
}

/// Ends a level: drops its tangents and clears the flag, also on a panic.
struct LevelGuard {
    _active: ActiveGuard,
    _grad: GradMode,
}

impl Drop for LevelGuard {
    fn drop(&mut self) {
        LEVEL.with(|level| level.borrow_mut().take());
    }
}

/// Runs `f` inside a forward-mode scope (PyTorch's `with forward_ad.dual_level():`): inputs
/// made dual with [`make_dual`] carry tangents through every op `f` runs, and [`tangent`]
/// reads them. The tangents are dropped when `f` returns.
///
/// Recording is on inside the scope, whatever the caller's [`no_grad`](crate::no_grad).
///
/// # Errors
/// `InvalidArgument` naming `dual_level` when another level is already active on this thread
/// (levels do not nest; see the module docs).
pub fn dual_level<R>(f: impl FnOnce() -> R) -> Result<R> {
    level(true, f)
}

/// [`dual_level`], with the JVP rules recorded or not. Unrecorded tangents are constants:
/// right whenever nothing will differentiate a tangent itself (reverse over forward), and
/// cheaper — `func`'s transforms use it at the top level.
pub(crate) fn level<R>(record_tangents: bool, f: impl FnOnce() -> R) -> Result<R> {
    let nested = LEVEL.with(|level| level.borrow().is_some());
    if nested {
        return Err(TensorError::InvalidArgument {
            op: "dual_level",
            shape: vec![],
            rule: "forward-mode levels do not nest (forward over forward); differentiate \
                   forward over reverse instead, as func::hessian does"
                .into(),
        });
    }
    LEVEL.with(|level| *level.borrow_mut() = Some(Vec::new()));
    RECORD_TANGENTS.with(|r| r.set(record_tangents));
    let _guard = LevelGuard {
        _active: ActiveGuard::set(true),
        _grad: GradMode::set(true),
    };
    Ok(f())
}

/// The table key of a tensor: its tape and node, when it is recorded.
fn key<F: Float>(t: &Tensor<F>) -> Option<(u64, NodeId)> {
    match &t.repr {
        Repr::Recorded { tape, id, .. } => Some((tape.id(), *id)),
        _ => None,
    }
}

/// Runs `f` on the active level's table for element type `F` (made when first needed);
/// `None` outside a level.
fn with_table<F: Float, R>(f: impl FnOnce(&mut Tangents<F>) -> R) -> Option<R> {
    LEVEL.with(|level| {
        let mut level = level.borrow_mut();
        let tables = level.as_mut()?;
        let k = match tables.iter().position(|t| t.is::<Tangents<F>>()) {
            Some(k) => k,
            None => {
                tables.push(Box::new(Tangents::<F> {
                    by_node: HashMap::new(),
                }));
                tables.len() - 1
            }
        };
        tables[k].downcast_mut::<Tangents<F>>().map(f)
    })
}

/// A fresh node on the tape whose value is `x`'s (an identity `reshape`), so that a tangent
/// or a gradient can be attached to exactly this use of `x`. A tracked `x` stays linked to
/// its own graph through the node; a constant is made a leaf first.
pub(crate) fn lift<F: Float>(x: &Tensor<F>) -> Result<Tensor<F>> {
    let _grad = GradMode::set(true);
    let base = if x.is_tracked() {
        x.clone()
    } else {
        x.detach().requires_grad()
    };
    let value = (*x.value()).clone();
    let op = Op::Reshape {
        from: x.shape().into(),
    };
    record(op, &[&base], value, &[])
}

/// `primal` with `tangent` attached (PyTorch's `forward_ad.make_dual`): a new tensor with
/// `primal`'s value, on the tape (linked to `primal` when that is tracked), whose ops carry
/// `tangent` forward.
///
/// # Errors
/// `InvalidArgument` outside a [`dual_level`]; `ShapeMismatch` naming `make_dual` when the
/// shapes differ.
pub fn make_dual<F: Float>(primal: &Tensor<F>, tangent: &Tensor<F>) -> Result<Tensor<F>> {
    const OP: &str = "make_dual";
    if primal.shape() != tangent.shape() {
        return Err(TensorError::ShapeMismatch {
            op: OP,
            lhs: primal.shape().to_vec(),
            rhs: tangent.shape().to_vec(),
            rule: "the tangent must have the primal's shape".into(),
        });
    }
    let in_level = with_table::<F, ()>(|_| ()).is_some();
    if !in_level {
        return Err(TensorError::InvalidArgument {
            op: OP,
            shape: primal.shape().to_vec(),
            rule: "no forward-mode level is active; call it inside forward::dual_level".into(),
        });
    }
    let dual = lift(primal)?;
    let k = key(&dual).expect("a lifted tensor is recorded");
    with_table(|table| table.by_node.insert(k, tangent.clone()));
    Ok(dual)
}

/// The tangent `t` carries in the active level (PyTorch's `unpack_dual(t).tangent`), or
/// `None` when it carries none — a zero tangent, because nothing it depends on was made dual.
pub fn tangent<F: Float>(t: &Tensor<F>) -> Option<Tensor<F>> {
    let k = key(t)?;
    with_table(|table| table.by_node.get(&k).cloned()).flatten()
}

/// What a JVP rule can see of its node: the op, its inputs' values and its own output.
pub(crate) struct JvpCtx<'a, F: Float> {
    pub op: &'a Op,
    inputs: &'a [&'a Tensor<F>],
    output: &'a Tensor<F>,
}

impl<F: Float> JvpCtx<'_, F> {
    /// The `i`-th input, as the op saw it (tracked, so the rule differentiates through it).
    pub fn input(&self, i: usize) -> &Tensor<F> {
        self.inputs[i]
    }

    /// The node's own output.
    pub fn output(&self) -> &Tensor<F> {
        self.output
    }

    /// The shape of the node's output.
    pub fn shape(&self) -> &[usize] {
        self.output.shape()
    }
}

/// The input tangents a rule receives, one per input, `None` where the tangent is zero.
pub(crate) type Dots<F> = [Option<Tensor<F>>];

/// `a + b` for tangents that may be absent (zero).
pub(crate) fn add_dots<F: Float>(a: Option<Tensor<F>>, b: Option<Tensor<F>>) -> Option<Tensor<F>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.add(&b)),
        (a, b) => a.or(b),
    }
}

/// Called by `record` for each node while a level is active: looks up the inputs' tangents
/// and, when any is present, runs the op's JVP rule and keeps the result beside the node.
pub(crate) fn on_record<F: Float>(
    op: &Op,
    inputs: &[&Tensor<F>],
    ids: &[Option<NodeId>],
    output: &Tensor<F>,
) {
    let Some((tape, id)) = key(output) else {
        return;
    };
    let dots: Option<SmallVec<[Option<Tensor<F>>; 2]>> = with_table(|table: &mut Tangents<F>| {
        ids.iter()
            .map(|j| j.and_then(|j| table.by_node.get(&(tape, j)).cloned()))
            .collect()
    });
    let Some(dots) = dots else { return };
    if dots.iter().all(Option::is_none) {
        return; // zero in, zero out: the rule is skipped
    }
    let dot = {
        // The rule's own ops are recorded, but get no tangents of their own.
        let _paused = ActiveGuard::set(false);
        let _unrecorded = (!RECORD_TANGENTS.with(Cell::get)).then(|| GradMode::set(false));
        let ctx = JvpCtx { op, inputs, output };
        run_rule(&ctx, &dots)
    };
    if let Some(dot) = dot {
        debug_assert_eq!(dot.shape(), output.shape(), "{} jvp shape", op.label());
        with_table(|table: &mut Tangents<F>| table.by_node.insert((tape, id), dot));
    }
}

/// The JVP rule of each primitive: one line per op, each rule in `ops/<label>.rs` beside its
/// backward rule. `None` is a zero tangent.
fn run_rule<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    match ctx.op {
        // Leaves are never recorded by an op: a leaf's tangent is the one `make_dual` gave it.
        // A stale value (from a consumed tape) is a constant here: zero tangent.
        Op::Leaf | Op::Stale { .. } => None,
        Op::Add => ops::add::jvp(ctx, dots),
        Op::AddChannelBias => ops::channel_bias::jvp(ctx, dots),
        Op::Mul => ops::mul::jvp(ctx, dots),
        Op::Div => ops::div::jvp(ctx, dots),
        Op::Pow => ops::pow::jvp(ctx, dots),
        Op::Maximum => ops::maximum::jvp(ctx, dots),
        Op::AddScalar(_) => ops::add_scalar::jvp(ctx, dots),
        Op::MulScalar(_) => ops::mul_scalar::jvp(ctx, dots),
        Op::PowScalar(_) => ops::powf::jvp(ctx, dots),
        Op::Exp => ops::exp::jvp(ctx, dots),
        Op::Ln => ops::ln::jvp(ctx, dots),
        Op::Log1p => ops::log1p::jvp(ctx, dots),
        Op::Sqrt => ops::sqrt::jvp(ctx, dots),
        Op::Abs => ops::abs::jvp(ctx, dots),
        Op::Sin => ops::sin::jvp(ctx, dots),
        Op::Cos => ops::cos::jvp(ctx, dots),
        Op::Tanh => ops::tanh::jvp(ctx, dots),
        Op::Relu => ops::relu::jvp(ctx, dots),
        Op::Sum { .. } => ops::sum::jvp(ctx, dots),
        Op::Max { .. } => ops::max::jvp(ctx, dots),
        Op::Broadcast { .. } => ops::broadcast::jvp(ctx, dots),
        Op::Reshape { .. } => ops::reshape::jvp(ctx, dots),
        Op::Permute { .. } => ops::permute::jvp(ctx, dots),
        Op::MatMul { .. } => ops::matmul::jvp(ctx, dots),
        Op::Narrow { .. } => ops::narrow::jvp(ctx, dots),
        Op::Pad { .. } => ops::pad::jvp(ctx, dots),
        Op::Concat { .. } => ops::concat::jvp(ctx, dots),
        Op::IndexSelect { .. } => ops::index_select::jvp(ctx, dots),
        Op::IndexAdd { .. } => ops::index_add::jvp(ctx, dots),
        Op::Gather { .. } => ops::gather::jvp(ctx, dots),
        Op::ScatterAdd { .. } => ops::scatter_add::jvp(ctx, dots),
        Op::Unfold { .. } => ops::unfold::jvp(ctx, dots),
        Op::Fold { .. } => ops::fold::jvp(ctx, dots),
        Op::Erf => ops::erf::jvp(ctx, dots),
        Op::MaxPool { .. } => ops::max_pool::jvp(ctx, dots),
        Op::WhereCond { .. } => ops::where_cond::jvp(ctx, dots),
        Op::LstmGates => ops::lstm_gates::jvp(ctx, dots),
        Op::LstmSequence => ops::lstm_sequence::jvp(ctx, dots),
        Op::Custom(_) => ops::custom::jvp(ctx, dots),
    }
}
