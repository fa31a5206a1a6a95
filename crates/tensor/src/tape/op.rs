//! The primitive ops a tape can record. Each variant's forward pass and backward rule live in
//! `ops/<label>.rs`; composite ops (sub, mean, softmax, …) record only primitives.

use std::fmt::Write;
use std::sync::Arc;

use ndarray::ArrayD;

use super::Shape;

/// One primitive op and the small parameters its backward rule needs.
// Variants are named like their ops (see `label`); fields are documented where not obvious.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Op {
    /// A parameter lifted onto the tape; its gradient is deposited into the parameter.
    Leaf,
    /// A value from tape `tape`, which a `backward` already consumed: no gradient can pass.
    Stale {
        tape: u64,
    },
    Add,
    /// `x + b` with b `[C]` along x's axis 1 (a convolution's bias).
    AddChannelBias,
    Mul,
    Div,
    /// Elementwise `a^b` with both operands tensors.
    Pow,
    /// Elementwise maximum of two tensors.
    Maximum,
    AddScalar(f64),
    MulScalar(f64),
    /// `x^p` for a constant exponent `p`.
    PowScalar(f64),
    Exp,
    Ln,
    /// ln(1 + x), accurate near 0.
    Log1p,
    Sqrt,
    Abs,
    Sin,
    Cos,
    Tanh,
    Relu,
    /// σ on gate blocks i, f, o and tanh on block g of the last axis (an LSTM cell).
    LstmGates,
    /// An LSTM layer's recurrence over a sequence (inputs P, W_hh, h_0, c_0).
    LstmSequence,
    /// Sum over `axes` of an input of shape `input`.
    Sum {
        axes: Shape,
        keepdim: bool,
        input: Shape,
    },
    /// Maximum over `axes`; the gradient goes to the first arg-max element.
    Max {
        axes: Shape,
        keepdim: bool,
    },
    /// Stretch an input of shape `from` to the node's shape.
    Broadcast {
        from: Shape,
    },
    /// Same elements, new shape; the input had shape `from`.
    Reshape {
        from: Shape,
    },
    /// Reorder axes: output axis `k` is input axis `axes[k]`.
    Permute {
        axes: Shape,
    },
    /// Matrix product over the last two axes, batch axes already equal; each operand may be
    /// read transposed (its last two axes swapped) without being copied.
    MatMul {
        transpose_lhs: bool,
        transpose_rhs: bool,
    },
    /// Elements `start..start + len` along `axis`, of an input `size` long there.
    Narrow {
        axis: usize,
        start: usize,
        len: usize,
        size: usize,
    },
    /// Zeros added along `axis`: `before` in front, `after` behind.
    Pad {
        axis: usize,
        before: usize,
        after: usize,
    },
    /// Inputs joined along `axis`; `sizes` are their extents along it.
    Concat {
        axis: usize,
        sizes: Shape,
    },
    /// Output slice `k` along `axis` is input slice `indices[k]`; the input is `size` long there.
    IndexSelect {
        axis: usize,
        indices: Arc<[usize]>,
        size: usize,
    },
    /// Zeros of extent `size` along `axis`, with input slice `k` added into slice `indices[k]`.
    IndexAdd {
        axis: usize,
        indices: Arc<[usize]>,
        size: usize,
    },
    /// `out[.., k, ..] = x[.., index[.., k, ..], ..]` along `axis` (PyTorch's `gather`).
    Gather {
        axis: usize,
        index: Arc<ArrayD<usize>>,
        input: Shape,
    },
    /// The adjoint of `Gather`: zeros of shape `shape`, input element at position p added
    /// at p with its `axis` coordinate replaced by `index[p]`.
    ScatterAdd {
        axis: usize,
        index: Arc<ArrayD<usize>>,
        shape: Shape,
    },
    /// Sliding windows of an image of spatial size `size` laid out as columns (im2col).
    Unfold {
        /// Boxed: inline, its ten numbers made every node 80 bytes larger and the backward
        /// sweep of a scalar chain (W4) 2× slower (0.18 → 0.35 µs/node).
        window: Box<crate::Window>,
        size: Shape,
    },
    /// Columns added back into an image of spatial size `size` (col2im), the adjoint of `Unfold`.
    Fold {
        window: Box<crate::Window>,
        size: Shape,
    },
    /// The error function erf(x).
    Erf,
    /// Max-pooling of an input of shape `input`: output element k of plane (n, c) is the
    /// plane's element `index[n, c, k]` (flat within the plane), its window's first maximum.
    MaxPool {
        index: Arc<ArrayD<usize>>,
        input: Shape,
    },
    /// Elementwise choice: the first input where `cond` is true, the second elsewhere (the
    /// mask broadcasts to the node's shape). Shared, so the rule's own `where_cond`s reuse it.
    WhereCond {
        cond: Arc<ArrayD<bool>>,
    },
    /// A user-defined op ([`CustomOp`](crate::CustomOp)); it prints as its own name.
    Custom(crate::ops::custom::CustomRef),
}

impl Op {
    /// The op's name as printed on the tape and used in error messages.
    pub fn label(&self) -> &'static str {
        match self {
            Op::Leaf => "leaf",
            Op::Stale { .. } => "stale",
            Op::Add => "add",
            Op::AddChannelBias => "add_channel_bias",
            Op::Mul => "mul",
            Op::Div => "div",
            Op::Pow => "pow",
            Op::Maximum => "maximum",
            Op::AddScalar(_) => "add_scalar",
            Op::MulScalar(_) => "mul_scalar",
            Op::PowScalar(_) => "powf",
            Op::Exp => "exp",
            Op::Ln => "ln",
            Op::Log1p => "log1p",
            Op::Sqrt => "sqrt",
            Op::Abs => "abs",
            Op::Sin => "sin",
            Op::Cos => "cos",
            Op::Tanh => "tanh",
            Op::Relu => "relu",
            Op::LstmGates => "lstm_gates",
            Op::LstmSequence => "lstm_sequence",
            Op::Sum { .. } => "sum",
            Op::Max { .. } => "max",
            Op::Broadcast { .. } => "broadcast",
            Op::Reshape { .. } => "reshape",
            Op::Permute { .. } => "permute",
            Op::MatMul { .. } => "matmul",
            Op::Narrow { .. } => "narrow",
            Op::Pad { .. } => "pad",
            Op::Concat { .. } => "concat",
            Op::IndexSelect { .. } => "index_select",
            Op::IndexAdd { .. } => "index_add",
            Op::Gather { .. } => "gather",
            Op::ScatterAdd { .. } => "scatter_add",
            Op::Unfold { .. } => "unfold",
            Op::Fold { .. } => "fold",
            Op::Erf => "erf",
            Op::MaxPool { .. } => "max_pool",
            Op::WhereCond { .. } => "where_cond",
            Op::Custom(op) => op.name(),
        }
    }

    /// The op's parameters as printed after its inputs (`axes=[0], keepdim`), or "".
    pub fn params(&self) -> String {
        let mut s = String::new();
        // Writing into a String cannot fail.
        let _ = match self {
            Op::Stale { tape } => write!(s, "from consumed tape #{tape}"),
            Op::AddScalar(c) | Op::MulScalar(c) => write!(s, "{c}"),
            Op::PowScalar(p) => write!(s, "p={p}"),
            Op::Sum { axes, keepdim, .. } | Op::Max { axes, keepdim } => {
                write!(
                    s,
                    "axes={axes:?}{}",
                    if *keepdim { ", keepdim" } else { "" }
                )
            }
            Op::Broadcast { from } | Op::Reshape { from } => write!(s, "from={from:?}"),
            Op::Permute { axes } => write!(s, "axes={axes:?}"),
            Op::Narrow {
                axis, start, len, ..
            } => write!(s, "axis={axis}, {start}..{}", start + len),
            Op::Pad {
                axis,
                before,
                after,
            } => write!(s, "axis={axis}, before={before}, after={after}"),
            Op::Concat { axis, .. } => write!(s, "axis={axis}"),
            Op::MatMul {
                transpose_lhs,
                transpose_rhs,
            } if *transpose_lhs || *transpose_rhs => {
                let t = |flag: bool| if flag { "ᵀ" } else { "" };
                write!(s, "lhs{} · rhs{}", t(*transpose_lhs), t(*transpose_rhs))
            }
            Op::IndexSelect { axis, indices, .. } | Op::IndexAdd { axis, indices, .. } => {
                write!(s, "axis={axis}, {} indices", indices.len())
            }
            Op::Gather { axis, .. } | Op::ScatterAdd { axis, .. } => write!(s, "axis={axis}"),
            Op::WhereCond { cond } => write!(s, "cond={:?}", cond.shape()),
            Op::Unfold { window, size } | Op::Fold { window, size } => write!(
                s,
                "kernel={:?}, stride={:?}, dilation={:?}, padding={:?}, size={size:?}",
                window.kernel, window.stride, window.dilation, window.padding
            ),
            _ => Ok(()),
        };
        s
    }
}
