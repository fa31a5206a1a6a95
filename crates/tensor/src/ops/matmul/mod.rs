//! `matmul`: the matrix product, NumPy-style.
//!
//! - `[m, k] x [k, n] → [m, n]`;
//! - batched: `[..., m, k] x [..., k, n] → [..., m, n]`, the batch axes broadcast;
//! - a 1-D operand is a vector: `[k] x [k, n] → [n]`, `[m, k] x [k] → [m]`, `[k] x [k] → []`.
//!
//! Only equal-batch products of rank ≥ 2 are recorded as `matmul` nodes; vector promotion and
//! batch broadcasting are explicit `reshape` and `broadcast` nodes around them.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let a = Tensor::<f32>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
//! let b = Tensor::<f32>::from_vec(vec![1.0, 0.0, 0.0, 1.0], &[2, 2]);
//! assert_eq!(a.matmul(&b).to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
//! ```

mod kernels;
mod packed;
pub(crate) use kernels::{gemm_faer, gemm_ndarray};

use ndarray::IxDyn;
use smallvec::smallvec;

use crate::error::{or_panic, Result, TensorError};
use crate::forward::{add_dots, Dots, JvpCtx};
use crate::shape::broadcast_shapes;
use crate::tape::{is_grad_enabled, record, BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// The matrix product `self · rhs` (see the module docs for the shapes accepted).
    ///
    /// # Errors
    /// `matmul: [3, 4] x [5, 2]: inner dimensions 4 and 5 differ`; also when an operand is a
    /// scalar or the batch axes do not broadcast.
    #[track_caller]
    pub fn try_matmul(&self, rhs: &Tensor<F>) -> Result<Tensor<F>> {
        const OP: &str = "matmul";
        let (ls, rs) = (self.shape(), rhs.shape());
        if ls.is_empty() || rs.is_empty() {
            return Err(TensorError::InvalidArgument {
                op: OP,
                shape: if ls.is_empty() {
                    ls.to_vec()
                } else {
                    rs.to_vec()
                },
                rule: "matmul needs operands with at least one axis; use mul for scalars".into(),
            });
        }
        let k_rhs = if rs.len() == 1 {
            rs[0]
        } else {
            rs[rs.len() - 2]
        };
        if ls[ls.len() - 1] != k_rhs {
            return Err(TensorError::MatMul {
                op: OP,
                lhs: ls.to_vec(),
                rhs: rs.to_vec(),
            });
        }
        // Vectors become matrices, and their extra axis is removed from the result.
        let lhs = if ls.len() == 1 {
            self.unsqueeze(0)
        } else {
            self.clone()
        };
        let rhs_m = if rs.len() == 1 {
            rhs.unsqueeze(1)
        } else {
            rhs.clone()
        };
        let (lhs, rhs_m) =
            broadcast_batch(&lhs, &rhs_m).map_err(|_| TensorError::ShapeMismatch {
                op: OP,
                lhs: ls.to_vec(),
                rhs: rs.to_vec(),
                rule: "batch dimensions do not broadcast".into(),
            })?;
        let mut out = lhs.matmul_same_batch(&rhs_m, false, false)?;
        if rs.len() == 1 {
            out = out.squeeze(out.ndim() - 1);
        }
        if ls.len() == 1 {
            out = out.squeeze(out.ndim() - if rs.len() == 1 { 1 } else { 2 });
        }
        Ok(out)
    }

    /// Panicking form of [`try_matmul`](Self::try_matmul).
    #[track_caller]
    pub fn matmul(&self, rhs: &Tensor<F>) -> Tensor<F> {
        or_panic(self.try_matmul(rhs))
    }
}

/// Both operands (rank ≥ 2) broadcast to the same batch axes.
#[track_caller]
fn broadcast_batch<F: Float>(lhs: &Tensor<F>, rhs: &Tensor<F>) -> Result<(Tensor<F>, Tensor<F>)> {
    let (ls, rs) = (lhs.shape(), rhs.shape());
    let (lb, rb) = (&ls[..ls.len() - 2], &rs[..rs.len() - 2]);
    if lb == rb {
        return Ok((lhs.clone(), rhs.clone()));
    }
    let batch = broadcast_shapes("matmul", lb, rb)?;
    let stretch = |t: &Tensor<F>, matrix: &[usize]| -> Result<Tensor<F>> {
        let target: Vec<usize> = batch.iter().chain(matrix).copied().collect();
        if t.shape() == target.as_slice() {
            Ok(t.clone())
        } else if t.is_tracked() && is_grad_enabled() {
            t.try_broadcast_to(&target)
        } else {
            Ok(Tensor::from_array(
                t.value()
                    .broadcast(IxDyn(&target))
                    .expect("checked")
                    .to_owned(),
            ))
        }
    };
    Ok((
        stretch(lhs, &ls[ls.len() - 2..])?,
        stretch(rhs, &rs[rs.len() - 2..])?,
    ))
}

impl<F: Float> Tensor<F> {
    /// The recorded primitive: op(self)·op(rhs) over the last two axes, with identical batch
    /// axes, where op transposes the last two axes when its flag is set. A transposed operand
    /// is read through a strided view, never copied: the backward rules below use this to
    /// form A·Bᵀ and Aᵀ·B. (Materialising Xᵀ for W1's 100000×16 X took half of each step.)
    #[track_caller]
    pub(crate) fn matmul_same_batch(
        &self,
        rhs: &Tensor<F>,
        transpose_lhs: bool,
        transpose_rhs: bool,
    ) -> Result<Tensor<F>> {
        let (a, b) = (self.value(), rhs.value());
        let out = kernels::product(&a, transpose_lhs, &b, transpose_rhs);
        let op = Op::MatMul {
            transpose_lhs,
            transpose_rhs,
        };
        record(op, &[self, rhs], out, &[Saved::Input(0), Saved::Input(1)])
    }

    /// Panicking form, for the backward rules (their shapes always agree).
    #[track_caller]
    fn matmul_t(&self, rhs: &Tensor<F>, transpose_lhs: bool, transpose_rhs: bool) -> Tensor<F> {
        or_panic(self.matmul_same_batch(rhs, transpose_lhs, transpose_rhs))
    }
}

// C = A·B with A [m, k], B [k, n] (per batch): Cᵢⱼ = Σₗ Aᵢₗ·Bₗⱼ, so
// ∂L/∂A = ∂L/∂C · Bᵀ   ([m, n]·[n, k] = [m, k])  and  ∂L/∂B = Aᵀ · ∂L/∂C   ([k, m]·[m, n]).
// With an operand read transposed, the same identities transposed give the four cases:
//   C = A·B:    ∂A = G·Bᵀ     ∂B = Aᵀ·G
//   C = A·Bᵀ:   ∂A = G·B      ∂B = Gᵀ·A
//   C = Aᵀ·B:   ∂A = B·Gᵀ     ∂B = A·G
//   C = Aᵀ·Bᵀ:  ∂A = Bᵀ·Gᵀ    ∂B = Gᵀ·Aᵀ
// Every product is itself a recorded `matmul`, so the rule can be differentiated again.
// Saved: A, B.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::MatMul {
        transpose_lhs,
        transpose_rhs,
    } = *ctx.op
    else {
        unreachable!("matmul rule on {:?}", ctx.op)
    };
    let (a, b, g) = (ctx.saved(0), ctx.saved(1), grad_out);
    let grad_a = ctx
        .needs_grad(0)
        .then(|| match (transpose_lhs, transpose_rhs) {
            (false, false) => g.matmul_t(&b, false, true),
            (false, true) => g.matmul_t(&b, false, false),
            (true, false) => b.matmul_t(g, false, true),
            (true, true) => b.matmul_t(g, true, true),
        });
    let grad_b = ctx
        .needs_grad(1)
        .then(|| match (transpose_lhs, transpose_rhs) {
            (false, false) => a.matmul_t(g, true, false),
            (false, true) => g.matmul_t(&a, true, false),
            (true, false) => a.matmul_t(g, false, false),
            (true, true) => g.matmul_t(&a, true, true),
        });
    smallvec![grad_a, grad_b]
}

// C = op(A)·op(B): bilinear, so Ċ = op(Ȧ)·op(B) + op(A)·op(Ḃ), each a recorded matmul with
// the node's own transpose flags.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::MatMul {
        transpose_lhs,
        transpose_rhs,
    } = *ctx.op
    else {
        unreachable!("matmul rule on {:?}", ctx.op)
    };
    let (a, b) = (ctx.input(0), ctx.input(1));
    let da = dots[0]
        .as_ref()
        .map(|da| da.matmul_t(b, transpose_lhs, transpose_rhs));
    let db = dots[1]
        .as_ref()
        .map(|db| a.matmul_t(db, transpose_lhs, transpose_rhs));
    add_dots(da, db)
}

#[cfg(test)]
mod tests;
