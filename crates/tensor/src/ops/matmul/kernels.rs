//! How `matmul` computes a product: which kernel takes which case, and the kernels written
//! here. Every path computes the same product; they differ in speed (and in rounding, at
//! the level of summation order).
//!
//! | product | kernel | motivated by |
//! |---|---|---|
//! | f32 X·v or Xᵀ·v, X stored row by row | [`simd_matrix_vector`]: explicit SIMD through `pulp` | W1 |
//! | f64 X·v, X of at least 64² elements | faer's matrix-vector kernel | |
//! | other X·v, Xᵀ·v with X contiguous | [`matrix_vector`], [`transposed_matrix_vector`] | gradchecks |
//! | f32, at least 512³ multiply-adds | [`packed`](super::packed)'s GEMM, rows split among threads | W5 |
//! | f32/f64, at least 64³ multiply-adds | faer's GEMM, rows split among threads from 256³ | W2 |
//! | anything else (small or strided) | ndarray's `dot` (matrixmultiply) | W3 |
//! | batched (rank > 2) | `Float::gemm` (faer for f32/f64), one batch entry at a time | W6 |
//!
//! Which instruction set `pulp` picks is decided on the machine that runs the program, so
//! f32 matrix-vector results can differ in the last bits between CPUs (fused multiply-add
//! rounds once where a separate multiply and add round twice).

use std::any::Any;

use ndarray::linalg::general_mat_mul;
use ndarray::{
    Array1, Array2, ArrayD, ArrayView1, ArrayView2, ArrayView3, ArrayViewMut3, Axis, Ix2, IxDyn,
};
use pulp::{Simd, WithSimd};

use super::packed::{self, Strided};
use crate::{parallel, pool, Float};

/// op(a)·op(b) over the last two axes, op transposing when its flag is set; the batch axes of
/// `a` and `b` are equal.
pub(super) fn product<F: Float>(
    a: &ArrayD<F>,
    transpose_a: bool,
    b: &ArrayD<F>,
    transpose_b: bool,
) -> ArrayD<F> {
    if a.ndim() != 2 {
        return batched(a, b, transpose_a, transpose_b);
    }
    let (a2, b2) = (view_2d(a, transpose_a), view_2d(b, transpose_b));
    let (m, k, n) = (a2.nrows(), a2.ncols(), b2.ncols());
    let fast = if n == 1 {
        simd_matrix_vector(a, transpose_a, b).or_else(|| {
            (!transpose_a && m * k >= FAER_MIN_MATRIX_VECTOR)
                .then(|| faer_product(a, transpose_a, b, transpose_b))
                .flatten()
        })
    } else if m * k * n >= GEMM_MIN_PRODUCT {
        // fast path: faer's GEMM, W5 74.7 → 70.2 ms/rep and W2 1.24 → 1.11 ms/step; for large
        // f32 products the packed GEMM instead, W5 84.5 → 69.4 ms/rep (numpy 67.9)
        gemm_product(a, transpose_a, b, transpose_b, m * k * n)
    } else {
        None
    };
    fast.unwrap_or_else(|| matrix_product(a2, b2).into_dyn())
}

/// A rank-2 array as a 2-D view, transposed (axes swapped, no copy) if asked.
fn view_2d<F: Float>(x: &ArrayD<F>, transpose: bool) -> ArrayView2<'_, F> {
    let x = x.view().into_dimensionality::<Ix2>().expect("rank 2");
    if transpose {
        x.reversed_axes()
    } else {
        x
    }
}

/// a·b for 2-D views. A product with a single output column is a matrix-vector product, and
/// when `a` is stored contiguously — as X (linear regression's X·w) or as the transposed view
/// Xᵀ (the backward pass's Xᵀ·g) — a loop reading X once in memory order beats GEMM, which
/// first copies ("packs") all of X. (f32 X·v and Xᵀ·v, and large f64 X·v, are taken
/// before this function, by [`simd_matrix_vector`] and faer.)
pub(super) fn matrix_product<F: Float>(
    a: ArrayView2<'_, F>,
    b: ArrayView2<'_, F>,
) -> ndarray::Array2<F> {
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

/// X·v or Xᵀ·v (`transpose_x`) for f32, with X stored row by row and v the one column of
/// `v` (stored as [k, 1], or as [1, k] and read transposed: contiguous either way); `None`
/// for other element types and layouts.
///
/// The plain loops above are compiled for the baseline x86-64 CPU (SSE2, 4 lanes) and leave
/// the vectorising to the compiler. These kernels are written with `pulp`'s portable SIMD
/// vectors instead, and `pulp::Arch` picks at run time the widest instruction set the CPU
/// has (AVX-512, 16 f32 lanes, on the machine measured here; AVX2 with fused multiply-add,
/// 8 lanes, on many others).
// fast path: on W1's 100000×16 X, X·w 0.22 → 0.10 ms (vs faer) and Xᵀ·g 0.17 → 0.08 ms
// (vs transposed_matrix_vector): W1 0.50 → 0.34 ms/step
fn simd_matrix_vector<F: Float>(
    x: &ArrayD<F>,
    transpose_x: bool,
    v: &ArrayD<F>,
) -> Option<ArrayD<F>> {
    let (x, v): (&dyn Any, &dyn Any) = (x, v);
    let (x, v) = (
        x.downcast_ref::<ArrayD<f32>>()?,
        v.downcast_ref::<ArrayD<f32>>()?,
    );
    let (rows, cols) = (x.shape()[0], x.shape()[1]);
    let (x, v) = (x.as_slice()?, v.as_slice()?);
    if cols == 0 {
        return None;
    }
    let threads = threads_for(x.len(), PARALLEL_MIN_MATRIX_VECTOR);
    let out = if transpose_x {
        let mut out = vec![0.0; cols];
        transposed_matrix_vector_on(threads, x, cols, v, &mut out);
        out
    } else {
        let mut out = vec![0.0; rows];
        matrix_vector_on(threads, x, cols, v, &mut out);
        out
    };
    let out = Array2::from_shape_vec((out.len(), 1), out).expect("one entry per row");
    as_generic(out.into_dyn())
}

/// f32 matrix-vector products with X of at least this many elements split X's rows among
/// the threads (see `crate::parallel`), the calling thread taking the first block.
pub(super) const PARALLEL_MIN_MATRIX_VECTOR: usize = 1 << 20;

/// [`MatrixVector`] on `threads` threads, each taking a block of rows of X and of `out`.
fn matrix_vector_on(threads: usize, x: &[f32], d: usize, v: &[f32], out: &mut [f32]) {
    if threads <= 1 || out.len() < 2 {
        pulp::Arch::new().dispatch(MatrixVector { x, d, v, out });
        return;
    }
    let first = threads / 2;
    let split = out.len() * first / threads;
    let (x_top, x_bottom) = x.split_at(split * d);
    let (out_top, out_bottom) = out.split_at_mut(split);
    parallel::join(
        || matrix_vector_on(first, x_top, d, v, out_top),
        || matrix_vector_on(threads - first, x_bottom, d, v, out_bottom),
    );
}

/// [`TransposedMatrixVector`] on `threads` threads: each sums the rows of its block of X
/// into a vector of its own, and the vectors are added at the end.
fn transposed_matrix_vector_on(threads: usize, x: &[f32], d: usize, v: &[f32], out: &mut [f32]) {
    if threads <= 1 || v.len() < 2 {
        pulp::Arch::new().dispatch(TransposedMatrixVector { x, d, v, out });
        return;
    }
    let first = threads / 2;
    let split = v.len() * first / threads;
    let (x_top, x_bottom) = x.split_at(split * d);
    let (v_top, v_bottom) = v.split_at(split);
    let mut bottom = vec![0.0; d];
    parallel::join(
        || transposed_matrix_vector_on(first, x_top, d, v_top, out),
        || transposed_matrix_vector_on(threads - first, x_bottom, d, v_bottom, &mut bottom),
    );
    for (total, part) in out.iter_mut().zip(bottom) {
        *total += part;
    }
}

/// out = X·v with X's rows `d` long: for each row, the lanes of one SIMD accumulator collect
/// xⱼ·vⱼ a vector of j's at a time (a fused multiply-add each), then are summed across.
pub(super) struct MatrixVector<'a> {
    pub x: &'a [f32],
    pub d: usize,
    pub v: &'a [f32],
    pub out: &'a mut [f32],
}

impl WithSimd for MatrixVector<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let MatrixVector { x, d, v, out } = self;
        let (v_vectors, v_tail) = S::as_simd_f32s(v);
        for (row, out) in x.chunks_exact(d).zip(out) {
            let (row_vectors, row_tail) = S::as_simd_f32s(row);
            let mut acc = simd.splat_f32s(0.0);
            for (&xs, &vs) in row_vectors.iter().zip(v_vectors) {
                acc = simd.mul_add_f32s(xs, vs, acc);
            }
            let tail: f32 = row_tail.iter().zip(v_tail).map(|(x, v)| x * v).sum();
            *out = simd.reduce_sum_f32s(acc) + tail;
        }
    }
}

/// out = Xᵀ·v = Σᵢ vᵢ·xᵢ over X's rows xᵢ (`d` long), accumulated into `out` (zeros on entry).
///
/// Four independent accumulators are in flight while 256-row blocks stream past (one
/// accumulator would make every addition wait for the previous one): columns are taken two
/// SIMD vectors wide and rows two at a time, and where fewer than two vectors of columns are
/// left, one vector wide and rows four at a time. Each block's sum is added to `out`, which
/// keeps the rounding of a 100000-row sum near a blocked GEMM's. Columns left over at the
/// right edge, fewer than one vector's worth, are summed lane by lane.
pub(super) struct TransposedMatrixVector<'a> {
    pub x: &'a [f32],
    pub d: usize,
    pub v: &'a [f32],
    pub out: &'a mut [f32],
}

impl WithSimd for TransposedMatrixVector<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let TransposedMatrixVector { x, d, v, out } = self;
        let lanes = S::F32_LANES;
        let mut col = 0;
        while col + 2 * lanes <= d {
            column_sums::<S, 2, 2>(simd, x, d, v, &mut out[col..col + 2 * lanes], col);
            col += 2 * lanes;
        }
        // fast path: one vector of columns, four rows at a time, instead of lane by lane;
        // W1 (d = 16) with AVX-512's 16 lanes 0.66 → 0.39 ms/step
        if col + lanes <= d {
            column_sums::<S, 1, 4>(simd, x, d, v, &mut out[col..col + lanes], col);
            col += lanes;
        }
        if col < d {
            let mut block_sums = vec![0.0; d - col];
            for (rows, v) in x.chunks(ROW_BLOCK * d).zip(v.chunks(ROW_BLOCK)) {
                block_sums.fill(0.0);
                for (row, &vi) in rows.chunks_exact(d).zip(v) {
                    for (s, &xij) in block_sums.iter_mut().zip(&row[col..]) {
                        *s += vi * xij;
                    }
                }
                for (t, s) in out[col..].iter_mut().zip(&block_sums) {
                    *t += s;
                }
            }
        }
    }
}

/// [`TransposedMatrixVector`] for the `NV` vectors of columns from `col`, added to `out`:
/// `ROWS` rows at a time, each with its own `NV` accumulators, summed per 256-row block.
#[inline(always)]
fn column_sums<S: Simd, const NV: usize, const ROWS: usize>(
    simd: S,
    x: &[f32],
    d: usize,
    v: &[f32],
    out: &mut [f32],
    col: usize,
) {
    let width = NV * S::F32_LANES;
    let columns = |row: &[f32]| -> [S::f32s; NV] {
        let (vectors, _) = S::as_simd_f32s(&row[col..col + width]);
        std::array::from_fn(|j| vectors[j])
    };
    for (rows, v) in x.chunks(ROW_BLOCK * d).zip(v.chunks(ROW_BLOCK)) {
        let mut acc = [[simd.splat_f32s(0.0); NV]; ROWS];
        let (mut groups, mut v_groups) = (rows.chunks_exact(ROWS * d), v.chunks_exact(ROWS));
        for (group, vg) in (&mut groups).zip(&mut v_groups) {
            for ((acc, row), &vi) in acc.iter_mut().zip(group.chunks_exact(d)).zip(vg) {
                let vi = simd.splat_f32s(vi);
                for (a, xs) in acc.iter_mut().zip(columns(row)) {
                    *a = simd.mul_add_f32s(vi, xs, *a);
                }
            }
        }
        let rest = groups.remainder().chunks_exact(d);
        for (row, &vi) in rest.zip(v_groups.remainder()) {
            let vi = simd.splat_f32s(vi);
            for (a, xs) in acc[0].iter_mut().zip(columns(row)) {
                *a = simd.mul_add_f32s(vi, xs, *a);
            }
        }
        let (total, _) = S::as_mut_simd_f32s(out);
        for (j, total) in total.iter_mut().enumerate() {
            let block = acc
                .iter()
                .fold(simd.splat_f32s(0.0), |s, a| simd.add_f32s(s, a[j]));
            *total = simd.add_f32s(*total, block);
        }
    }
}

/// Products with at least this many multiply-adds (m·k·n) go to a packed GEMM (faer's, or
/// ours for f32 from [`PACKED_MIN_PRODUCT`]): on 1024² f32 faer's is 6% faster than
/// matrixmultiply, but on W3's [32, 16]·[16, 16] it was slower (W3 14.3 → 16.1 µs/step with
/// faer for every size).
pub(super) const GEMM_MIN_PRODUCT: usize = 64 * 64 * 64;

/// f64 matrix-vector products X·v with X of at least this many elements go to faer's kernel,
/// which uses AVX where the CPU has it: on W1's 100000×16 X in f32 it took 0.22 ms against
/// 0.29 ms for [`matrix_vector`] (built for SSE2 only). f32 has its own kernel below.
pub(super) const FAER_MIN_MATRIX_VECTOR: usize = 64 * 64;

/// op(a)·op(b), of `multiply_adds` = m·k·n, through a packed GEMM (ours for large f32
/// products, else faer's) when both operands are stored in standard (row-major) order;
/// `None` otherwise.
fn gemm_product<F: Float>(
    a: &ArrayD<F>,
    transpose_a: bool,
    b: &ArrayD<F>,
    transpose_b: bool,
    multiply_adds: usize,
) -> Option<ArrayD<F>> {
    let (a_any, b_any): (&dyn Any, &dyn Any) = (a, b);
    match (a_any.downcast_ref::<ArrayD<f32>>(), b_any.downcast_ref()) {
        (Some(a32), Some(b32)) if multiply_adds >= PACKED_MIN_PRODUCT => {
            as_generic(packed_gemm(a32, transpose_a, b32, transpose_b)?)
        }
        _ => faer_product(a, transpose_a, b, transpose_b),
    }
}

/// f32 products with at least this many multiply-adds go to [`packed_gemm`], smaller ones to
/// faer: on W2's products (128·784·256 at most) the packed GEMM made a step 12% slower
/// (1.28 → 1.43 ms), its packing not repaid over so few multiply-adds.
pub(super) const PACKED_MIN_PRODUCT: usize = 512 * 512 * 512;

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
    if let (Some(a), Some(b)) = (a.downcast_ref::<ArrayD<f32>>(), b.downcast_ref()) {
        as_generic(faer_gemm(a, transpose_a, b, transpose_b, 1.0f32)?)
    } else if let (Some(a), Some(b)) = (a.downcast_ref::<ArrayD<f64>>(), b.downcast_ref()) {
        as_generic(faer_gemm(a, transpose_a, b, transpose_b, 1.0f64)?)
    } else {
        None
    }
}

/// An array of a concrete element type (f32, f64) as the caller's generic `F`, which the
/// caller matched it against: the way back from the kernels that only exist for f32 or f64.
fn as_generic<F: Float, T: 'static>(out: ArrayD<T>) -> Option<ArrayD<F>> {
    (Box::new(out) as Box<dyn Any>)
        .downcast::<ArrayD<F>>()
        .ok()
        .map(|out| *out)
}

/// op(a)·op(b) for row-major 2-D arrays, in faer.
fn faer_gemm<T: faer::traits::ComplexField + Float>(
    a: &ArrayD<T>,
    transpose_a: bool,
    b: &ArrayD<T>,
    transpose_b: bool,
    one: T,
) -> Option<ArrayD<T>> {
    let (a, b) = (as_mat(a, transpose_a)?, as_mat(b, transpose_b)?);
    let (m, n) = (a.nrows(), b.ncols());
    // every element is written (callers come with m·k·n ≥ GEMM_MIN_PRODUCT or m·k ≥
    // FAER_MIN_MATRIX_VECTOR, so the depth k is never empty)
    let mut out = Array2::from_shape_vec((m, n), pool::buffer(m * n)).ok()?;
    let c = faer::MatMut::from_row_major_slice_mut(out.as_slice_mut()?, m, n);
    let threads = threads_for(m * a.ncols() * n, PARALLEL_MIN_PRODUCT);
    product_split_by_rows(c, a, b, one, threads);
    Some(out.into_dyn())
}

/// op(a)·op(b) for row-major 2-D f32 arrays, in [`packed`]'s GEMM.
// fast path: against faer's GEMM on W5's 1024² products, A·B 23.7 → 23.6 ms, G·Bᵀ 23.4 →
// 23.8 and Aᵀ·G 34.3 → 24.0 (faer reads the transposed A poorly)
fn packed_gemm(
    a: &ArrayD<f32>,
    transpose_a: bool,
    b: &ArrayD<f32>,
    transpose_b: bool,
) -> Option<ArrayD<f32>> {
    let (a, b) = (as_strided(a, transpose_a)?, as_strided(b, transpose_b)?);
    // every element is written: the first depth block is stored, not added
    let mut out = Array2::from_shape_vec((a.rows, b.cols), pool::buffer(a.rows * b.cols)).ok()?;
    let threads = threads_for(a.rows * a.cols * b.cols, PARALLEL_MIN_PRODUCT);
    packed::gemm(out.as_slice_mut()?, a, b, threads);
    Some(out.into_dyn())
}

/// A row-major 2-D array as a [`Strided`] matrix, transposed if asked (read in place).
fn as_strided(x: &ArrayD<f32>, transpose: bool) -> Option<Strided<'_>> {
    let data = x.as_slice()?;
    Some(Strided::row_major(
        data,
        x.shape()[0],
        x.shape()[1],
        transpose,
    ))
}

/// Products with at least this many multiply-adds are split among the threads (see
/// `crate::parallel`). Smaller ones stay on this thread: at 2 threads, a threshold of 64³ made W2 slower
/// (1.12 → 1.19 ms/step, its small products paying for the hand-off), 512³ left W2's
/// 128·784·256 products on one core.
pub(super) const PARALLEL_MIN_PRODUCT: usize = 256 * 256 * 256;

/// How many threads a kernel of `work` (multiply-adds, or elements read) should use: every
/// thread (see `crate::parallel`) from `parallel_from` on, else just this one.
fn threads_for(work: usize, parallel_from: usize) -> usize {
    if work < parallel_from {
        1
    } else {
        parallel::threads()
    }
}

/// c = a·b on `threads` threads: the rows of c (and of a) are split into one block per
/// thread, each block an ordinary one-thread GEMM. The calling thread computes the first
/// block itself while pool threads, kept awake between products, take the others.
// fast path: row blocks instead of faer's own parallel GEMM, which on W2's [128, 784]·[784,
// 256] at 2 threads took 270–540 µs against 290 µs (450 µs on one thread)
fn product_split_by_rows<T: faer::traits::ComplexField + Copy>(
    c: faer::MatMut<'_, T>,
    a: faer::MatRef<'_, T>,
    b: faer::MatRef<'_, T>,
    one: T,
    threads: usize,
) {
    if threads <= 1 || c.nrows() < 2 {
        faer_matmul(c, faer::Accum::Replace, a, b, one);
        return;
    }
    let first = threads / 2;
    let split = c.nrows() * first / threads;
    let (c_top, c_bottom) = c.split_at_row_mut(split);
    let (a_top, a_bottom) = a.split_at_row(split);
    parallel::join(
        || product_split_by_rows(c_top, a_top, b, one, first),
        || product_split_by_rows(c_bottom, a_bottom, b, one, threads - first),
    );
}

/// [`Float::gemm`] for f32 and f64, in faer on one thread.
// fast path: against `gemm_ndarray` for W7's per-step [16, 64]·[64, 256] and [16, 256]·[256,
// 64] products, W7 2.98 → 2.67 ms/step
pub(crate) fn gemm_faer<T: faer::traits::ComplexField + Copy + num_traits::One>(
    c: &mut [T],
    a: &[T],
    b: &[T],
    [m, k, n]: [usize; 3],
    [transpose_a, transpose_b]: [bool; 2],
    accumulate: bool,
) {
    let operand = |x, rows, cols, transpose| {
        if transpose {
            faer::MatRef::from_row_major_slice(x, cols, rows).transpose()
        } else {
            faer::MatRef::from_row_major_slice(x, rows, cols)
        }
    };
    let accum = if accumulate {
        faer::Accum::Add
    } else {
        faer::Accum::Replace
    };
    faer_matmul(
        faer::MatMut::from_row_major_slice_mut(c, m, n),
        accum,
        operand(a, m, k, transpose_a),
        operand(b, k, n, transpose_b),
        T::one(),
    );
}

/// c = a·b (or c += a·b) in faer on this thread, leaving the vector registers clean.
///
/// faer's x86 kernels are inline assembly that returns with the upper halves of the AVX
/// registers still in use (no `vzeroupper`, which compiled code always issues). Until one
/// runs, an Intel CPU makes every SSE instruction wait on those halves, and all of ndarray's
/// and the standard library's scalar f32 code is SSE: 1280 `exp`s after a [128, 256]·[256, 10]
/// product took 162 µs instead of 2.6 on an Intel Xeon, and W2 went 0.92 → 0.76 ms/step
/// with this `vzeroupper`. AMD CPUs have no such penalty.
fn faer_matmul<T: faer::traits::ComplexField + Copy>(
    c: faer::MatMut<'_, T>,
    accum: faer::Accum,
    a: faer::MatRef<'_, T>,
    b: faer::MatRef<'_, T>,
    alpha: T,
) {
    faer::linalg::matmul::matmul(c, accum, a, b, alpha, faer::Par::Seq);
    #[cfg(target_arch = "x86_64")]
    if let Some(avx) = pulp::core_arch::x86::Avx::try_new() {
        avx._mm256_zeroupper();
    }
}

/// [`Float::gemm`] for any element type, in ndarray (matrixmultiply).
pub(crate) fn gemm_ndarray<F: Float>(
    c: &mut [F],
    a: &[F],
    b: &[F],
    [m, k, n]: [usize; 3],
    [transpose_a, transpose_b]: [bool; 2],
    accumulate: bool,
) {
    let operand = |x, rows, cols, transpose| {
        if transpose {
            ArrayView2::from_shape((cols, rows), x)
                .expect("sizes")
                .reversed_axes()
        } else {
            ArrayView2::from_shape((rows, cols), x).expect("sizes")
        }
    };
    let beta = if accumulate { F::one() } else { F::zero() };
    general_mat_mul(
        F::one(),
        &operand(a, m, k, transpose_a),
        &operand(b, k, n, transpose_b),
        beta,
        &mut ndarray::ArrayViewMut2::from_shape((m, n), c).expect("sizes"),
    );
}

/// A row-major 2-D array as a faer matrix, transposed if asked (a strided view, no copy).
fn as_mat<T: faer::traits::ComplexField>(
    x: &ArrayD<T>,
    transpose: bool,
) -> Option<faer::MatRef<'_, T>> {
    let m = faer::MatRef::from_row_major_slice(x.as_slice()?, x.shape()[0], x.shape()[1]);
    Some(if transpose { m.transpose() } else { m })
}

/// Batched products with at least this many multiply-adds in all are split among the threads
/// by batch entry: W6's convolutions (32 images, 1.8M and 7.2M multiply-adds) are, each
/// image's product too small to split by rows.
pub(super) const PARALLEL_MIN_BATCHED: usize = 1 << 20;

/// c[i] = op(a[i])·op(b[i]) for every batch entry i, the entries split among `threads`
/// threads as [`product_split_by_rows`] splits rows.
// fast path: each entry through `Float::gemm` (faer's AVX-512 kernels for f32) instead of
// `general_mat_mul` (matrixmultiply, AVX2 at most, packing both operands every call): W6 on
// an Intel Xeon 2.21 → 1.86 ms/step at 1 thread, 1.72 → 1.60 at 2 (no gain on the AMD Zen 4
// of round 4)
fn batch_split<F: Float>(
    a: ArrayView3<'_, F>,
    b: ArrayView3<'_, F>,
    mut c: ArrayViewMut3<'_, F>,
    [transpose_a, transpose_b]: [bool; 2],
    threads: usize,
) {
    let (batch, m, n) = c.dim();
    if threads <= 1 || batch < 2 {
        let k = if transpose_a { a.dim().1 } else { a.dim().2 };
        const LAYOUT: &str = "batch entries are in standard layout";
        for ((a, b), mut c) in a
            .axis_iter(Axis(0))
            .zip(b.axis_iter(Axis(0)))
            .zip(c.axis_iter_mut(Axis(0)))
        {
            let (a, b) = (a.as_slice().expect(LAYOUT), b.as_slice().expect(LAYOUT));
            let c = c.as_slice_mut().expect(LAYOUT);
            F::gemm(c, a, b, [m, k, n], [transpose_a, transpose_b], false);
        }
        return;
    }
    let first = threads / 2;
    let split = batch * first / threads;
    let (a_top, a_bottom) = a.split_at(Axis(0), split);
    let (b_top, b_bottom) = b.split_at(Axis(0), split);
    let (c_top, c_bottom) = c.split_at(Axis(0), split);
    let flags = [transpose_a, transpose_b];
    parallel::join(
        || batch_split(a_top, b_top, c_top, flags, first),
        || batch_split(a_bottom, b_bottom, c_bottom, flags, threads - first),
    );
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
    // every element is written (one product per entry, not added to)
    let mut out = ndarray::Array3::from_shape_vec((batch, m, n), pool::buffer(batch * m * n))
        .expect("one value per element");
    let k = if transpose_a { a_rows } else { a_cols };
    let threads = threads_for(batch * m * k * n, PARALLEL_MIN_BATCHED);
    batch_split(a3, b3, out.view_mut(), [transpose_a, transpose_b], threads);
    let mut out_shape = a.shape()[..r - 2].to_vec();
    out_shape.extend([m, n]);
    out.into_shape_with_order(IxDyn(&out_shape))
        .expect("contiguous")
}
