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

use std::any::Any;

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayD, ArrayView1, ArrayView2, Axis, Ix2, IxDyn};
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
        // faer for large products, and for X·v with X stored row by row; Xᵀ·v stays with
        // transposed_matrix_vector, which was faster than faer (0.17 vs 0.39 ms on W1's X).
        let use_faer = |m: usize, k: usize, n: usize| match n {
            1 => !transpose_lhs && m * k >= FAER_MIN_MATRIX_VECTOR,
            _ => m * k * n >= FAER_MIN_PRODUCT,
        };
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
            // fast path: faer's GEMM for large f32/f64 products, W5 74.7 → 70.2 ms/rep and
            // W2 1.24 → 1.11 ms/step; its matrix-vector kernel for X·w, W1 0.67 → 0.54 ms/step
            let fast = use_faer(a2.nrows(), a2.ncols(), b2.ncols())
                .then(|| faer_product(&a, transpose_lhs, &b, transpose_rhs))
                .flatten();
            fast.unwrap_or_else(|| matrix_product(a2, b2).into_dyn())
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

/// a·b for 2-D views. A product with a single output column is a matrix-vector product, and
/// when `a` is stored contiguously — as X (linear regression's X·w) or as the transposed view
/// Xᵀ (the backward pass's Xᵀ·g) — a loop reading X once in memory order beats GEMM, which
/// first copies ("packs") all of X. (Large f32/f64 X·v reach faer before this function.)
fn matrix_product<F: Float>(a: ArrayView2<'_, F>, b: ArrayView2<'_, F>) -> ndarray::Array2<F> {
    if b.ncols() == 1 && a.ncols() > 0 {
        let v = b.column(0);
        if let Some(x) = a.as_slice() {
            // fast path: X·v, a dot product per row; W1's X·w 0.45 → 0.29 ms (vs ndarray's dot)
            return matrix_vector(x, a.ncols(), v).insert_axis(Axis(1));
        }
        if let Some(x) = a.t().as_slice() {
            // fast path: Xᵀ·v without packing X; W1's Xᵀ·g 0.47 → 0.17 ms (vs GEMM)
            return transposed_matrix_vector(x, a.nrows(), v).insert_axis(Axis(1));
        }
    }
    a.dot(&b)
}

/// X·v for X given as its row-major elements with rows `d` long: one dot product per row.
fn matrix_vector<F: Float>(x: &[F], d: usize, v: ArrayView1<'_, F>) -> Array1<F> {
    let v = v.as_standard_layout();
    let v = v.as_slice().expect("standard layout");
    x.chunks_exact(d).map(|row| dot(row, v)).collect()
}

/// Σₖ aₖ·bₖ summed in eight interleaved lanes, then the lanes, then the tail: the order of
/// ndarray's `dot`, so results match it bit for bit. The lanes are independent, which lets the
/// compiler keep them in SIMD registers.
fn dot<F: Float>(a: &[F], b: &[F]) -> F {
    let mut lanes = [F::zero(); 8];
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let (a_tail, b_tail) = (a_chunks.remainder(), b_chunks.remainder());
    for (ca, cb) in a_chunks.zip(b_chunks) {
        let (ca, cb): (&[F; 8], &[F; 8]) = (ca.try_into().expect("8"), cb.try_into().expect("8"));
        for k in 0..8 {
            lanes[k] += ca[k] * cb[k];
        }
    }
    let mut sum = (lanes[0] + lanes[4]) + (lanes[1] + lanes[5]);
    sum += lanes[2] + lanes[6];
    sum += lanes[3] + lanes[7];
    for (&p, &q) in a_tail.iter().zip(b_tail) {
        sum += p * q;
    }
    sum
}

/// Rows of X per partial sum in [`transposed_matrix_vector`]: summing in blocks keeps the
/// rounding error of a 100000-term f32 sum near a blocked GEMM's, not a running sum's.
const ROW_BLOCK: usize = 256;

/// Xᵀ·v for X given as its row-major elements with rows `d` long: Σᵢ vᵢ·xᵢ over the rows xᵢ,
/// one pass over X in memory order. Columns are taken eight at a time, so that their eight
/// running sums stay in registers while a block of rows streams past.
fn transposed_matrix_vector<F: Float>(x: &[F], d: usize, v: ArrayView1<'_, F>) -> Array1<F> {
    let v = v.as_standard_layout();
    let v = v.as_slice().expect("standard layout");
    let mut total = vec![F::zero(); d];
    for (rows, v) in x.chunks(ROW_BLOCK * d).zip(v.chunks(ROW_BLOCK)) {
        for col in (0..d).step_by(8) {
            let width = 8.min(d - col);
            let mut sums = [F::zero(); 8];
            for (row, &vi) in rows.chunks_exact(d).zip(v) {
                let row = &row[col..col + width];
                if let Ok(row) = <&[F; 8]>::try_from(row) {
                    for k in 0..8 {
                        sums[k] += vi * row[k];
                    }
                } else {
                    for (s, &xij) in sums.iter_mut().zip(row) {
                        *s += vi * xij;
                    }
                }
            }
            for (t, s) in total[col..col + width].iter_mut().zip(sums) {
                *t += s;
            }
        }
    }
    Array1::from(total)
}

/// Products with at least this many multiply-adds (m·k·n) go to faer's GEMM: on 1024² f32 it
/// is 6% faster than matrixmultiply, but on W3's [32, 16]·[16, 16] it was slower (W3 14.3 →
/// 16.1 µs/step with faer for every size).
const FAER_MIN_PRODUCT: usize = 64 * 64 * 64;

/// Matrix-vector products X·v with X of at least this many elements go to faer's kernel:
/// 0.22 ms on W1's 100000×16 X, vs 0.29 ms for [`matrix_vector`] (runtime AVX against SSE2).
const FAER_MIN_MATRIX_VECTOR: usize = 64 * 64;

/// op(a)·op(b) through faer when the element type is f32 or f64 and both operands are stored
/// in standard (row-major) order; `None` otherwise. faer is generic over its own element
/// trait, not over `Float`, so the arrays are matched against the two concrete types.
fn faer_product<F: Float>(
    a: &ArrayD<F>,
    transpose_a: bool,
    b: &ArrayD<F>,
    transpose_b: bool,
) -> Option<ArrayD<F>> {
    let (a, b): (&dyn Any, &dyn Any) = (a, b);
    let product: Box<dyn Any> =
        if let (Some(a), Some(b)) = (a.downcast_ref::<ArrayD<f32>>(), b.downcast_ref()) {
            Box::new(faer_gemm(a, transpose_a, b, transpose_b, 1.0f32)?)
        } else if let (Some(a), Some(b)) = (a.downcast_ref::<ArrayD<f64>>(), b.downcast_ref()) {
            Box::new(faer_gemm(a, transpose_a, b, transpose_b, 1.0f64)?)
        } else {
            return None;
        };
    product.downcast::<ArrayD<F>>().ok().map(|c| *c)
}

/// op(a)·op(b) for row-major 2-D arrays, in faer.
fn faer_gemm<T: faer::traits::ComplexField + Copy + num_traits::Zero>(
    a: &ArrayD<T>,
    transpose_a: bool,
    b: &ArrayD<T>,
    transpose_b: bool,
    one: T,
) -> Option<ArrayD<T>> {
    let (a, b) = (as_mat(a, transpose_a)?, as_mat(b, transpose_b)?);
    let (m, n) = (a.nrows(), b.ncols());
    let mut out = Array2::<T>::zeros((m, n));
    let c = faer::MatMut::from_row_major_slice_mut(out.as_slice_mut()?, m, n);
    let par = parallelism(m * a.ncols() * n);
    faer::linalg::matmul::matmul(c, faer::Accum::Replace, a, b, one, par);
    Some(out.into_dyn())
}

/// Products with at least this many multiply-adds use every thread of rayon's pool. Smaller
/// ones stay on this thread: at 2 threads, a threshold of 64³ made W2 slower (1.12 → 1.19
/// ms/step, its small products paying for the hand-off), 512³ left W2's 128·784·256 products
/// on one core, and 256³ parallelises just those: W2 1.10 → 0.87 ms/step, W5 70 → 40 ms/rep.
const PARALLEL_MIN_PRODUCT: usize = 256 * 256 * 256;

/// All of rayon's global pool (RAYON_NUM_THREADS threads, else one per core) for a product of
/// `work` multiply-adds, or this thread alone for small products and a one-thread pool.
fn parallelism(work: usize) -> faer::Par {
    if work < PARALLEL_MIN_PRODUCT {
        return faer::Par::Seq;
    }
    match faer::Par::rayon(0) {
        par if par.degree() > 1 => par,
        _ => faer::Par::Seq,
    }
}

/// A row-major 2-D array as a faer matrix, transposed if asked (a strided view, no copy).
fn as_mat<T: faer::traits::ComplexField>(
    x: &ArrayD<T>,
    transpose: bool,
) -> Option<faer::MatRef<'_, T>> {
    let m = faer::MatRef::from_row_major_slice(x.as_slice()?, x.shape()[0], x.shape()[1]);
    Some(if transpose { m.transpose() } else { m })
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
    fn matrix_vector_fast_paths_agree_with_gemm() {
        // X·v (X contiguous) and Xᵀ·v (Xᵀ a transposed view) skip GEMM; both must equal
        // ndarray's general product, for widths around the 8-lane blocks, for more rows than
        // one row block, and for strided operands, which take the general path.
        use ndarray::{Array2, Axis, Slice};
        for &(n, d) in &[(1, 1), (5, 3), (7, 8), (300, 16), (601, 19), (0, 4)] {
            let x: Array2<f64> = uniform(&[n, d], n as u64).into_dimensionality().unwrap();
            let v = uniform(&[d, 1], 1).into_dimensionality().unwrap();
            let g = uniform(&[n, 1], 2).into_dimensionality().unwrap();
            let close = |fast: &Array2<f64>, slow: &Array2<f64>| {
                assert_eq!(fast.shape(), slow.shape());
                for (p, q) in fast.iter().zip(slow) {
                    assert!((p - q).abs() < 1e-12, "{p} vs {q} for n={n}, d={d}");
                }
            };
            let v: Array2<f64> = v;
            let g: Array2<f64> = g;
            close(&super::matrix_product(x.view(), v.view()), &x.dot(&v));
            close(&super::matrix_product(x.t(), g.view()), &x.t().dot(&g));
            // A column of a transposed [1, k] array: v read with a stride.
            let vt = v.t().to_owned();
            close(&super::matrix_product(x.view(), vt.t()), &x.dot(&v));
            // Every other column of a wider matrix: not contiguous, the general path.
            let wide = Array2::from_shape_fn((n, 2 * d), |(i, j)| (i * 7 + j) as f64 * 0.01);
            let strided = wide.slice_axis(Axis(1), Slice::new(0, None, 2));
            close(&super::matrix_product(strided, v.view()), &strided.dot(&v));
            if n > 0 {
                let gw: Array2<f64> = uniform(&[n, 1], 3).into_dimensionality().unwrap();
                close(
                    &super::matrix_product(strided.t(), gw.view()),
                    &strided.t().dot(&gw),
                );
            }
        }
        // Through the tape: linear regression's Xw and its backward Xᵀ·g pass gradcheck.
        check(
            "matmul",
            |t| t[0].matmul(&t[1]),
            &[uniform(&[300, 16], 4), uniform(&[16, 1], 5)],
        );
    }

    #[test]
    fn faer_products_agree_with_matrixmultiply() {
        // Above FAER_MIN_PRODUCT, f32 and f64 products go to faer; they must match ndarray's
        // GEMM for every combination of transposed reads. A column-major (non-standard layout)
        // operand is not handed to faer and takes the general path.
        use ndarray::Array2;
        let (m, k, n) = (70, 65, 66);
        assert!(m * k * n >= super::FAER_MIN_PRODUCT);
        let a64 = uniform(&[m, k], 1);
        let b64 = uniform(&[k, n], 2);
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            let stored = |x: &ndarray::ArrayD<f64>, t: bool| {
                if t {
                    x.t().as_standard_layout().into_owned()
                } else {
                    x.clone()
                }
            };
            let (a, b) = (stored(&a64, ta), stored(&b64, tb));
            let expected: Array2<f64> = a64
                .view()
                .into_dimensionality::<ndarray::Ix2>()
                .unwrap()
                .dot(&b64.view().into_dimensionality::<ndarray::Ix2>().unwrap());
            let got =
                Tensor::from_array(a.clone()).matmul_t(&Tensor::from_array(b.clone()), ta, tb);
            for (p, q) in got.to_vec().iter().zip(expected.iter()) {
                assert!((p - q).abs() < 1e-12, "f64 {ta} {tb}: {p} vs {q}");
            }
            let (a32, b32) = (a.mapv(|v| v as f32), b.mapv(|v| v as f32));
            let got = Tensor::from_array(a32).matmul_t(&Tensor::from_array(b32), ta, tb);
            for (p, q) in got.to_vec().iter().zip(expected.iter()) {
                assert!((*p as f64 - q).abs() < 1e-4, "f32 {ta} {tb}: {p} vs {q}");
            }
        }
        // X·v above FAER_MIN_MATRIX_VECTOR: faer's kernel, with v as a column or read
        // transposed from a row, against ndarray's product.
        let x64 = uniform(&[300, 16], 3);
        const { assert!(300 * 16 >= super::FAER_MIN_MATRIX_VECTOR) };
        let v64 = uniform(&[16, 1], 4);
        let expected = x64
            .view()
            .into_dimensionality::<ndarray::Ix2>()
            .unwrap()
            .dot(&v64.view().into_dimensionality::<ndarray::Ix2>().unwrap());
        let x = Tensor::from_array(x64.clone());
        let as_column = x.matmul_t(&Tensor::from_array(v64.clone()), false, false);
        let as_row = x.matmul_t(&Tensor::from_array(v64.t().to_owned()), false, true);
        let x32 = Tensor::from_array(x64.mapv(|v| v as f32));
        let in_f32 = x32.matmul(&Tensor::from_array(v64.mapv(|v| v as f32)));
        for (((p, q), r), e) in as_column
            .to_vec()
            .iter()
            .zip(as_row.to_vec())
            .zip(in_f32.to_vec())
            .zip(expected.iter())
        {
            assert!(
                (p - e).abs() < 1e-12 && (q - e).abs() < 1e-12,
                "{p} {q} vs {e}"
            );
            assert!((r as f64 - e).abs() < 1e-5, "f32 {r} vs {e}");
        }
        let column_major =
            Tensor::from_array(a64.t().as_standard_layout().into_owned().reversed_axes());
        let got = column_major.matmul(&Tensor::from_array(b64.clone()));
        let expected = Tensor::from_array(a64).matmul(&Tensor::from_array(b64));
        for (p, q) in got.to_vec().iter().zip(expected.to_vec()) {
            assert!((p - q).abs() < 1e-12);
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
