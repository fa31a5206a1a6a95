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

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayD, ArrayView2, Axis, Ix2, IxDyn};
use smallvec::smallvec;

use crate::error::{or_panic, Result, TensorError};
use crate::shape::broadcast_shapes;
use crate::tape::{is_grad_enabled, record, BackwardCtx, InputGrads, Op, Saved};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// The matrix product `self · rhs` (see the module docs for the shapes accepted).
    ///
    /// # Errors
    /// `matmul: [3, 4] x [5, 2]: inner dimensions 4 and 5 differ`; also when an operand is a
    /// scalar or the batch axes do not broadcast.
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
    pub(crate) fn matmul_same_batch(
        &self,
        rhs: &Tensor<F>,
        transpose_lhs: bool,
        transpose_rhs: bool,
    ) -> Result<Tensor<F>> {
        let (a, b) = (self.value(), rhs.value());
        let out = if a.ndim() == 2 {
            let a2 = a.view().into_dimensionality::<Ix2>().expect("rank 2");
            let b2 = b.view().into_dimensionality::<Ix2>().expect("rank 2");
            let a2 = if transpose_lhs {
                a2.reversed_axes()
            } else {
                a2
            };
            let b2 = if transpose_rhs {
                b2.reversed_axes()
            } else {
                b2
            };
            matrix_product(a2, b2).into_dyn()
        } else {
            batched(&a, &b, transpose_lhs, transpose_rhs)
        };
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

/// a·b for 2-D views. A product with a single output column whose `a` has contiguous rows
/// (linear regression's X·w) is a row-by-row dot product, skipping GEMM's packing of `a`.
/// A transposed `a` (Xᵀ·g in the backward pass) stays with GEMM: its strided rows made the
/// dot products slower than packing. Measured on W1: 1.84 → 1.56 ms per step.
fn matrix_product<F: Float>(a: ArrayView2<'_, F>, b: ArrayView2<'_, F>) -> ndarray::Array2<F> {
    if b.ncols() == 1 && a.strides()[1] == 1 {
        a.dot(&b.column(0)).insert_axis(Axis(1))
    } else {
        a.dot(&b)
    }
}

/// A loop of 2-D products over the flattened batch axes.
fn batched<F: Float>(
    a: &ArrayD<F>,
    b: &ArrayD<F>,
    transpose_a: bool,
    transpose_b: bool,
) -> ArrayD<F> {
    let r = a.ndim();
    let (a_rows, a_cols) = (a.shape()[r - 2], a.shape()[r - 1]);
    let (b_rows, b_cols) = (b.shape()[r - 2], b.shape()[r - 1]);
    let m = if transpose_a { a_cols } else { a_rows };
    let n = if transpose_b { b_rows } else { b_cols };
    let batch: usize = a.shape()[..r - 2].iter().product();
    let a3 = a.as_standard_layout();
    let b3 = b.as_standard_layout();
    let a3 = a3
        .view()
        .into_shape_with_order((batch, a_rows, a_cols))
        .expect("contiguous");
    let b3 = b3
        .view()
        .into_shape_with_order((batch, b_rows, b_cols))
        .expect("contiguous");
    let mut out = ndarray::Array3::<F>::zeros((batch, m, n));
    for ((a, b), mut c) in a3
        .axis_iter(Axis(0))
        .zip(b3.axis_iter(Axis(0)))
        .zip(out.axis_iter_mut(Axis(0)))
    {
        let a = if transpose_a { a.reversed_axes() } else { a };
        let b = if transpose_b { b.reversed_axes() } else { b };
        general_mat_mul(F::one(), &a, &b, F::zero(), &mut c);
    }
    let mut out_shape = a.shape()[..r - 2].to_vec();
    out_shape.extend([m, n]);
    out.into_shape_with_order(IxDyn(&out_shape))
        .expect("contiguous")
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

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn values() {
        // [[1, 2], [3, 4]]·[[5], [6]] = [[17], [39]]
        let a = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
        let b = Tensor::<f64>::from_vec(vec![5.0, 6.0], &[2, 1]);
        assert_eq!(a.matmul(&b).to_vec(), vec![17.0, 39.0]);
        let v = Tensor::<f64>::from_vec(vec![5.0, 6.0], &[2]);
        assert_eq!(a.matmul(&v).shape(), &[2]);
        assert_eq!(v.matmul(&a).to_vec(), vec![23.0, 34.0]);
        assert_eq!(v.matmul(&v).item(), 61.0);
        // A batch of two copies of a, times b: two copies of [[17], [39]].
        let batch = a.unsqueeze(0).broadcast_to(&[2, 2, 2]);
        assert_eq!(batch.matmul(&b).to_vec(), vec![17.0, 39.0, 17.0, 39.0]);
    }

    #[test]
    fn analytic_gradient() {
        // L = Σ A·B: ∂L/∂A = 1·Bᵀ (row sums of B), ∂L/∂B = Aᵀ·1 (column sums of A).
        let a = Tensor::<f64>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]).requires_grad();
        let b = Tensor::<f64>::from_vec(vec![5.0, 6.0, 7.0, 8.0], &[2, 2]).requires_grad();
        a.matmul(&b).sum().backward();
        assert_eq!(a.grad().unwrap().to_vec(), vec![11.0, 15.0, 11.0, 15.0]);
        assert_eq!(b.grad().unwrap().to_vec(), vec![4.0, 4.0, 6.0, 6.0]);
    }

    #[test]
    fn gradcheck_over_shapes() {
        let cases: &[(&[usize], &[usize])] = &[
            (&[3, 4], &[4, 2]),
            (&[1, 3], &[3, 1]),
            (&[4], &[4, 2]),
            (&[3, 4], &[4]),
            (&[4], &[4]),
            (&[2, 3, 4], &[4, 5]),
            (&[2, 1, 3, 4], &[3, 4, 2]),
            (&[0, 3], &[3, 2]),
            (&[2, 0], &[0, 3]),
        ];
        for (i, (lhs, rhs)) in cases.iter().enumerate() {
            let inputs = [uniform(lhs, 2 * i as u64), uniform(rhs, 2 * i as u64 + 1)];
            check("matmul", |t| t[0].matmul(&t[1]), &inputs);
        }
    }

    #[test]
    fn transposed_operands_and_their_gradients() {
        // Every combination of transposed reads equals the product of materialised transposes,
        // and passes gradcheck (including the second-order rules through them).
        for (ta, tb) in [(false, true), (true, false), (true, true)] {
            let (sa, sb): (&[usize], &[usize]) = match (ta, tb) {
                (false, true) => (&[2, 3, 4], &[2, 5, 4]),
                (true, false) => (&[2, 4, 3], &[2, 4, 5]),
                _ => (&[4, 3], &[5, 4]),
            };
            let (a, b) = (
                Tensor::<f64>::from_array(uniform(sa, 1)),
                Tensor::from_array(uniform(sb, 2)),
            );
            let fused = a.matmul_t(&b, ta, tb);
            let (a_op, b_op) = (
                if ta { a.t() } else { a.clone() },
                if tb { b.t() } else { b.clone() },
            );
            let plain = a_op.matmul(&b_op);
            for (x, y) in fused.to_vec().iter().zip(plain.to_vec()) {
                assert!((x - y).abs() < 1e-12);
            }
            check(
                "matmul_t",
                |t| t[0].matmul_t(&t[1], ta, tb),
                &[uniform(sa, 3), uniform(sb, 4)],
            );
        }
        // Second order: f = Σ (x·xᵀ) = Σₖ cₖ² (cₖ the column sums of x [2, 3]), so ∂f/∂x = 2c
        // in every row and ∂(Σ ∂f/∂x)/∂x = 2·(2 rows) = 4 everywhere.
        let x = Tensor::<f64>::from_array(uniform(&[2, 3], 5)).requires_grad();
        let f = x.matmul(&x.t()).sum();
        let g = crate::grad(&f, &[&x], true).unwrap().remove(0);
        let hv = crate::grad(&g.sum(), &[&x], false).unwrap().remove(0);
        assert!(hv.to_vec().iter().all(|&h| (h - 4.0).abs() < 1e-12), "{hv}");
    }

    #[test]
    fn shape_errors() {
        let err = Tensor::<f32>::zeros(&[3, 4])
            .try_matmul(&Tensor::zeros(&[5, 2]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "matmul: [3, 4] x [5, 2]: inner dimensions 4 and 5 differ"
        );
        let err = Tensor::<f32>::zeros(&[2, 3, 4])
            .try_matmul(&Tensor::zeros(&[3, 4, 2]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "matmul: [2, 3, 4] and [3, 4, 2]: batch dimensions do not broadcast"
        );
        assert!(Tensor::<f32>::scalar(1.0)
            .try_matmul(&Tensor::zeros(&[1]))
            .is_err());
    }
}
