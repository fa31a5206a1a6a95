//! The one error type of `tapegrad-tensor`.
//!
//! Every message names the op, then the shapes or values involved, then the rule that was
//! broken, e.g. `matmul: [3, 4] x [5, 2]: inner dimensions 4 and 5 differ`.
//!
//! # Which ops can fail, and their `try_` forms
//!
//! An op that can fail on its arguments comes in two forms: `try_op` returns this error, and
//! `op` panics with exactly its text (`#[track_caller]`, so the panic names your line). The
//! fallible ops, each with a `try_` twin:
//!
//! - construction: `from_vec`, `arange`, `item`;
//! - elementwise with broadcasting: `add`, `sub`, `mul`, `div`, `pow`, `maximum`,
//!   `minimum`, `where_cond`, `masked_fill`, `clamp` (min > max or a NaN bound);
//! - shapes: `reshape`, `broadcast_to`, `permute`, `transpose`, `t` (fewer than 2 axes),
//!   `squeeze`, `unsqueeze`, `narrow`, `slice`, `pad`, `concat`, `stack`, `index_select`,
//!   `gather`, `tril`, `triu`, `topk`;
//! - reductions over axes (an axis out of range, or an empty group where a maximum is
//!   needed): `sum_axes`, `mean_axes`, `max_axes`, `min_axes`, `max`, `min`, `argmax`,
//!   `logsumexp`, `logsumexp_axes`, `var_axes`, `std_axes`, `softmax`, `log_softmax`;
//! - products, images and attention: `matmul`, `linear`, `conv1d`, `conv2d`,
//!   `conv_transpose1d`, `conv_transpose2d`, `unfold`, `fold`, `max_pool1d/2d`,
//!   `avg_pool1d/2d`, `adaptive_avg_pool2d`, `scaled_dot_product_attention`,
//!   `attention_weights`, `multinomial`;
//! - the tape: `backward`, `backward_retain`, `backward_with`, `backward_traced` (not a
//!   scalar, nothing recorded, graph consumed, anomaly mode's [`Anomaly`](TensorError::Anomaly)),
//!   `register_hook`, `retain_grad`, `custom` (the op's own errors); `grad` and `grad_with`
//!   return `Result` only.
//!
//! Ops that cannot fail — elementwise maths of one tensor (`exp`, `ln`, `sqrt`, `relu`, …,
//! where a bad value is IEEE's NaN or ±inf, see [`detect_anomaly`](crate::detect_anomaly)),
//! `sum`, `mean`, `var`, `std`, `flatten`, scalar arithmetic — have no `try_` form.

use std::fmt;

/// A shape written the way NumPy users read it: `[3, 4]`.
pub(crate) struct ShapeFmt<'a>(pub &'a [usize]);

impl fmt::Display for ShapeFmt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// Everything that can go wrong in tensor maths and on the tape.
// Fields are named for what they hold (`op`, `lhs`, `rhs`, `axis`, …); `Display` prints them.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TensorError {
    /// Two shapes cannot be broadcast together (NumPy rules: align from the right; each pair
    /// of dimensions must be equal or one of them 1).
    Broadcast {
        op: &'static str,
        lhs: Vec<usize>,
        rhs: Vec<usize>,
        /// The failing dimension, counted in the longer shape.
        dim: usize,
    },
    /// `broadcast_to` was asked for a target the input cannot stretch to.
    BroadcastTo {
        op: &'static str,
        from: Vec<usize>,
        to: Vec<usize>,
    },
    /// Matrix product with inner dimensions that differ.
    MatMul {
        op: &'static str,
        lhs: Vec<usize>,
        rhs: Vec<usize>,
    },
    /// Operands whose shapes must be equal (or otherwise agree) do not.
    ShapeMismatch {
        op: &'static str,
        lhs: Vec<usize>,
        rhs: Vec<usize>,
        rule: String,
    },
    /// A reshape to a different number of elements, or data whose length does not fit a shape.
    ElementCount {
        op: &'static str,
        from: Vec<usize>,
        to: Vec<usize>,
    },
    /// An axis that the tensor does not have, as given (negative counts from the back).
    AxisOutOfRange {
        op: &'static str,
        axis: i64,
        shape: Vec<usize>,
    },
    /// An index past the end of an axis.
    IndexOutOfRange {
        op: &'static str,
        index: usize,
        axis: usize,
        shape: Vec<usize>,
    },
    /// Any other invalid argument; `rule` says what was expected.
    InvalidArgument {
        op: &'static str,
        shape: Vec<usize>,
        rule: String,
    },
    /// Inputs of one op were recorded on two different tapes.
    DifferentTapes { op: &'static str, a: u64, b: u64 },
    /// `backward` without an explicit output gradient needs a one-element output.
    NotScalar { op: &'static str, shape: Vec<usize> },
    /// `backward` on a tensor that no tape recorded (no input required a gradient).
    NotRecorded { op: &'static str },
    /// The graph was freed by an earlier `backward`.
    Consumed { op: &'static str, tape: u64 },
    /// Anomaly mode found a NaN or an infinity ([`detect_anomaly`](crate::detect_anomaly)).
    Anomaly(Box<crate::tape::anomaly::Anomaly>),
    /// A custom op without a forward-mode rule ([`CustomOp::jvp`](crate::CustomOp::jvp)).
    NoForwardRule { op: &'static str },
}

impl TensorError {
    /// The same error, reported under the name of the op the user called: a composite such
    /// as `softmax` fails inside `max`, but its message should say `softmax`.
    pub fn in_op(mut self, name: &'static str) -> Self {
        use TensorError::*;
        match &mut self {
            Broadcast { op, .. }
            | BroadcastTo { op, .. }
            | MatMul { op, .. }
            | ShapeMismatch { op, .. }
            | ElementCount { op, .. }
            | AxisOutOfRange { op, .. }
            | IndexOutOfRange { op, .. }
            | InvalidArgument { op, .. }
            | DifferentTapes { op, .. }
            | NotScalar { op, .. }
            | NotRecorded { op }
            | Consumed { op, .. } => *op = name,
            // An anomaly names the op that made it, not the one the user called.
            Anomaly(_) | NoForwardRule { .. } => {}
        }
        self
    }
}

/// `Result` with [`TensorError`].
pub type Result<T, E = TensorError> = std::result::Result<T, E>;

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TensorError::*;
        match self {
            Anomaly(anomaly) => write!(f, "{anomaly}"),
            NoForwardRule { op } => write!(
                f,
                "jvp: no forward-mode rule for custom op {op}; implement CustomOp::jvp"
            ),
            Broadcast { op, lhs, rhs, dim } => {
                let rank = lhs.len().max(rhs.len());
                let pick = |s: &[usize]| (dim + s.len()).checked_sub(rank).map(|i| s[i]);
                write!(
                    f,
                    "{op}: cannot broadcast {} with {}: dimension {dim} is {} vs {}",
                    ShapeFmt(lhs),
                    ShapeFmt(rhs),
                    pick(lhs).unwrap_or(1),
                    pick(rhs).unwrap_or(1)
                )
            }
            BroadcastTo { op, from, to } => write!(
                f,
                "{op}: cannot broadcast {} to {}: each dimension must match or be 1",
                ShapeFmt(from),
                ShapeFmt(to)
            ),
            MatMul { op, lhs, rhs } => {
                let k_lhs = lhs.last().copied().unwrap_or(0);
                let k_rhs = if rhs.len() == 1 { rhs[0] } else { rhs[rhs.len() - 2] };
                write!(
                    f,
                    "{op}: {} x {}: inner dimensions {k_lhs} and {k_rhs} differ",
                    ShapeFmt(lhs),
                    ShapeFmt(rhs)
                )
            }
            ShapeMismatch { op, lhs, rhs, rule } => {
                write!(f, "{op}: {} and {}: {rule}", ShapeFmt(lhs), ShapeFmt(rhs))
            }
            ElementCount { op, from, to } => write!(
                f,
                "{op}: cannot reshape {} ({} elements) into {} ({} elements)",
                ShapeFmt(from),
                from.iter().product::<usize>(),
                ShapeFmt(to),
                to.iter().product::<usize>()
            ),
            AxisOutOfRange { op, axis, shape } => write!(
                f,
                "{op}: axis {axis} is out of range for shape {} (rank {})",
                ShapeFmt(shape),
                shape.len()
            ),
            IndexOutOfRange {
                op,
                index,
                axis,
                shape,
            } => write!(
                f,
                "{op}: index {index} is out of range for axis {axis} of shape {} (size {})",
                ShapeFmt(shape),
                shape.get(*axis).copied().unwrap_or(0)
            ),
            InvalidArgument { op, shape, rule } => write!(f, "{op}: {}: {rule}", ShapeFmt(shape)),
            DifferentTapes { op, a, b } => write!(
                f,
                "{op}: operands were recorded on different tapes (#{a} and #{b}); detach the older one"
            ),
            NotScalar { op, shape } => write!(
                f,
                "{op}: called on a tensor of shape {}; {op} needs a scalar (or pass an output gradient)",
                ShapeFmt(shape)
            ),
            NotRecorded { op } => write!(
                f,
                "{op}: the tensor was not recorded on a tape: no input of its graph requires a gradient"
            ),
            Consumed { op, tape } => write!(
                f,
                "{op}: graph already consumed (tape #{tape}); use backward_retain to keep it for a second pass"
            ),
        }
    }
}

impl std::error::Error for TensorError {}

/// Unwraps the result of a `try_` op, panicking with its message at the caller's line.
#[track_caller]
pub(crate) fn or_panic<T>(result: Result<T>) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("{err}"),
    }
}
