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
use ndarray::{ArrayD, Axis, Ix2, Ix3, IxDyn};
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
        let mut out = matmul_same_batch(&lhs, &rhs_m)?;
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

/// The recorded primitive: `[..., m, k] x [..., k, n]` with identical batch axes.
fn matmul_same_batch<F: Float>(lhs: &Tensor<F>, rhs: &Tensor<F>) -> Result<Tensor<F>> {
    let (a, b) = (lhs.value(), rhs.value());
    let out = if a.ndim() == 2 {
        let a2 = a.view().into_dimensionality::<Ix2>().expect("rank 2");
        let b2 = b.view().into_dimensionality::<Ix2>().expect("rank 2");
        a2.dot(&b2).into_dyn()
    } else {
        batched(&a, &b)
    };
    record(
        Op::MatMul,
        &[lhs, rhs],
        out,
        &[Saved::Input(0), Saved::Input(1)],
    )
}

/// A loop of 2-D products over the flattened batch axes.
fn batched<F: Float>(a: &ArrayD<F>, b: &ArrayD<F>) -> ArrayD<F> {
    let shape = a.shape();
    let r = shape.len();
    let (m, k, n) = (shape[r - 2], shape[r - 1], b.shape()[r - 1]);
    let batch: usize = shape[..r - 2].iter().product();
    let a3 = a.as_standard_layout();
    let b3 = b.as_standard_layout();
    let a3 = a3
        .view()
        .into_shape_with_order((batch, m, k))
        .expect("contiguous");
    let b3 = b3
        .view()
        .into_shape_with_order((batch, k, n))
        .expect("contiguous");
    let mut out = ndarray::Array3::<F>::zeros((batch, m, n));
    for ((a, b), mut c) in a3
        .axis_iter(Axis(0))
        .zip(b3.axis_iter(Axis(0)))
        .zip(out.axis_iter_mut(Axis(0)))
    {
        general_mat_mul(F::one(), &a, &b, F::zero(), &mut c);
    }
    let mut out_shape = shape[..r - 2].to_vec();
    out_shape.extend([m, n]);
    out.into_dimensionality::<Ix3>()
        .expect("rank 3")
        .into_shape_with_order(IxDyn(&out_shape))
        .expect("contiguous")
}

// C = A·B with A [m, k], B [k, n] (per batch): Cᵢⱼ = Σₗ Aᵢₗ·Bₗⱼ, so
// ∂L/∂A = ∂L/∂C · Bᵀ   ([m, n]·[n, k] = [m, k])  and  ∂L/∂B = Aᵀ · ∂L/∂C   ([k, m]·[m, n]).
// Saved: A, B.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    smallvec![
        ctx.needs_grad(0)
            .then(|| grad_out.matmul(&ctx.saved(1).t())),
        ctx.needs_grad(1).then(|| ctx.saved(0).t().matmul(grad_out)),
    ]
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
