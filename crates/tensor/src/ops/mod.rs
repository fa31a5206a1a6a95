//! One file per op: its forward pass, its backward rule headed by the maths, and its tests.
//! Files of primitives define a `backward` function that `tape/backward.rs` dispatches to,
//! and beside it a `jvp` function (forward mode) that `forward/mod.rs` dispatches to;
//! composites (sub, mean, softmax, …) record only primitives and have no rule of their own.

pub(crate) mod abs;
pub(crate) mod adaptive_avg_pool;
pub(crate) mod add;
pub(crate) mod add_scalar;
pub(crate) mod avg_pool;
pub(crate) mod broadcast;
pub(crate) mod channel_bias;
pub(crate) mod clamp;
pub(crate) mod compare;
pub(crate) mod concat;
pub(crate) mod conv;
pub(crate) mod conv_transpose;
pub(crate) mod cos;
pub(crate) mod custom;
pub(crate) mod div;
pub(crate) mod erf;
pub(crate) mod exp;
pub(crate) mod fold;
pub(crate) mod gather;
pub(crate) mod gelu;
pub(crate) mod index_add;
pub(crate) mod index_select;
pub(crate) mod leaky_relu;
pub(crate) mod linear;
pub(crate) mod ln;
pub(crate) mod log1p;
pub(crate) mod logsumexp;
pub(crate) mod lstm_gates;
pub(crate) mod lstm_sequence;
pub(crate) mod matmul;
pub(crate) mod max;
pub(crate) mod max_pool;
pub(crate) mod maximum;
pub(crate) mod mean;
pub(crate) mod min;
pub(crate) mod mul;
pub(crate) mod mul_scalar;
pub(crate) mod multinomial;
pub(crate) mod narrow;
pub(crate) mod neg;
mod operators;
pub(crate) mod pad;
pub(crate) mod permute;
pub(crate) mod pow;
pub(crate) mod powf;
pub(crate) mod relu;
pub(crate) mod reshape;
pub(crate) mod scaled_dot_product_attention;
pub(crate) mod scatter_add;
pub(crate) mod sigmoid;
pub(crate) mod sin;
pub(crate) mod softmax;
pub(crate) mod softplus;
pub(crate) mod sqrt;
pub(crate) mod squeeze;
pub(crate) mod sub;
pub(crate) mod sum;
pub(crate) mod tanh;
pub(crate) mod topk;
pub(crate) mod tril;
pub(crate) mod unfold;
pub(crate) mod var;
pub(crate) mod where_cond;

#[cfg(test)]
pub(crate) mod test_util;

use ndarray::ArrayD;

use crate::error::{or_panic, Result};
use crate::parallel::{self, RowRange, RowsMut, RowsOf};
use crate::shape::broadcast_shapes;
use crate::tape::{is_grad_enabled, record, Op, Saved};
use crate::{pool, Float, Tensor};

/// Brings two operands to one shape by NumPy broadcasting. A tracked operand that must
/// stretch gets an explicit `broadcast` node — the one place where gradients are summed back
/// to an input's shape. A constant operand is left as it is: ndarray broadcasts it on the fly.
#[track_caller]
pub(crate) fn broadcast_pair<F: Float>(
    op: &'static str,
    lhs: &Tensor<F>,
    rhs: &Tensor<F>,
) -> Result<(Tensor<F>, Tensor<F>)> {
    if lhs.shape() == rhs.shape() {
        return Ok((lhs.clone(), rhs.clone()));
    }
    let shape = broadcast_shapes(op, lhs.shape(), rhs.shape())?;
    let stretch = |t: &Tensor<F>| {
        if t.is_tracked() && is_grad_enabled() && t.shape() != shape.as_slice() {
            t.try_broadcast_to(&shape)
        } else {
            Ok(t.clone())
        }
    };
    Ok((stretch(lhs)?, stretch(rhs)?))
}

/// An elementwise binary op: broadcast, compute `f(lhs, rhs)` element by element (a constant
/// operand is broadcast in place, not copied), record.
#[track_caller]
pub(crate) fn binary<F: Float>(
    op: Op,
    lhs: &Tensor<F>,
    rhs: &Tensor<F>,
    f: impl Fn(F, F) -> F + Sync,
    saved: &[Saved],
) -> Result<Tensor<F>> {
    let (lhs, rhs) = broadcast_pair(op.label(), lhs, rhs)?;
    let (a, b) = (lhs.value(), rhs.value());
    let out = if a.shape() == b.shape() {
        zip_elements(&a, &b, f)
    } else {
        zip_map(&a, &b, f)
    };
    record(op, &[&lhs, &rhs], out, saved)
}

/// An elementwise unary op `y = f(x)`. It cannot fail on shapes, so it has no `try_` form.
#[track_caller]
pub(crate) fn unary<F: Float>(
    op: Op,
    x: &Tensor<F>,
    f: impl Fn(F) -> F + Sync,
    saved: &[Saved],
) -> Tensor<F> {
    let out = map_elements(&x.value(), f);
    or_panic(record(op, &[x], out, saved))
}

/// `f` of every element, shared among the threads for a large contiguous array.
// fast path: blocks on the threads (`crate::parallel`); with the other row and plane splits,
// W6 at 2 threads 1.33× → 1.42× its 1-thread speed. The plain version, ndarray's `mapv`,
// stays for one thread: it does not zero `out` first.
pub(crate) fn map_elements<F: Float>(x: &ArrayD<F>, f: impl Fn(F) -> F + Sync) -> ArrayD<F> {
    match x.as_slice() {
        Some(xs) if parallel::worth_splitting(2 * xs.len()) => {
            let mut out = pool::buffer(xs.len()); // every element written
            parallel::for_row_blocks(
                (RowsOf(xs, 1), RowsMut(&mut out, 1)),
                2 * xs.len(),
                &|(x, y): (RowsOf<F>, RowsMut<F>)| {
                    for (y, &x) in y.0.iter_mut().zip(x.0) {
                        *y = f(x);
                    }
                },
            );
            ArrayD::from_shape_vec(x.raw_dim(), out).expect("one value per element")
        }
        _ => x.mapv(f),
    }
}

/// `f` of every pair of elements of two arrays of one shape, shared among the threads when
/// both are large and contiguous (as [`map_elements`]).
pub(crate) fn zip_elements<F: Float>(
    a: &ArrayD<F>,
    b: &ArrayD<F>,
    f: impl Fn(F, F) -> F + Sync,
) -> ArrayD<F> {
    debug_assert_eq!(a.shape(), b.shape());
    match (a.as_slice(), b.as_slice()) {
        (Some(xs), Some(ys)) if parallel::worth_splitting(3 * xs.len()) => {
            let mut out = pool::buffer(xs.len()); // every element written
            parallel::for_row_blocks(
                (RowsOf(xs, 1), RowsOf(ys, 1), RowsMut(&mut out, 1)),
                3 * xs.len(),
                &|(x, y, z): (RowsOf<F>, RowsOf<F>, RowsMut<F>)| {
                    for ((z, &x), &y) in z.0.iter_mut().zip(x.0).zip(y.0) {
                        *z = f(x, y);
                    }
                },
            );
            ArrayD::from_shape_vec(a.raw_dim(), out).expect("one value per element")
        }
        _ => ndarray::Zip::from(a).and(b).map_collect(|&x, &y| f(x, y)),
    }
}

/// A constant tensor with `x`'s shape: 1 where `keep(x)`, else 0. Masks are piecewise
/// constant, so their own derivative is zero and they never need recording.
#[track_caller]
pub(crate) fn mask<F: Float>(x: &Tensor<F>, keep: impl Fn(F) -> bool) -> Tensor<F> {
    Tensor::from_array(
        x.value()
            .mapv(|v| if keep(v) { F::one() } else { F::zero() }),
    )
}

/// An owned, standard-layout copy of `view`. A contiguous view is one `memcpy`; a transposed
/// matrix is copied in blocks ([`transpose_2d`]); any other strided one (a permutation, a
/// broadcast) is copied lane by lane through `assign`, which is several times faster than
/// ndarray's element-by-element `to_owned` on dynamic-rank arrays.
/// A view that reads one element everywhere (a broadcast scalar) is a fill. Otherwise size-1
/// axes are dropped first: they do not change the order of the elements, but `assign` would
/// walk lanes one element long (W1's bias stretched to [100000, 1]: the two broadcasts of a
/// W1 step took 30% of it before).
#[track_caller]
pub(crate) fn materialize<F: Float>(view: ndarray::ArrayViewD<'_, F>) -> ArrayD<F> {
    if view.is_standard_layout() {
        return view.to_owned();
    }
    if let Some(transposed) = transpose_2d(&view) {
        return transposed;
    }
    let one_element = view
        .shape()
        .iter()
        .zip(view.strides())
        .all(|(&n, &s)| n <= 1 || s == 0);
    if let (true, Some(&x)) = (one_element, view.first()) {
        // fast path: one value repeated is a fill, W1 0.76 → 0.69 ms/step; into a pooled
        // buffer and on the threads, W5's 2²⁰ ones for ΣC's gradient 0.17 → 0.09 ms at 2
        // threads (1 thread unchanged; medians of 41)
        let mut out = pool::buffer(view.len());
        parallel::for_row_blocks(RowsMut(&mut out, 1), view.len(), &|block: RowsMut<F>| {
            block.0.fill(x)
        });
        return ArrayD::from_shape_vec(view.raw_dim(), out).expect("one value per element");
    }
    if !view.is_empty() && view.shape().contains(&1) {
        let shape = view.raw_dim();
        let mut squeezed = view;
        for axis in (0..squeezed.ndim()).rev() {
            if squeezed.shape()[axis] == 1 {
                squeezed = squeezed.index_axis_move(ndarray::Axis(axis), 0);
            }
        }
        return materialize(squeezed)
            .into_shape_with_order(shape)
            .expect("only size-1 axes differ");
    }
    let mut out = pool::buffer(view.len()); // every element written, row by row
    let rows = view.shape()[0];
    let row_len = view.len() / rows.max(1);
    // Blocks of rows (first axis) on the threads (`crate::parallel`), each assigned from
    // its part of the view, as W6's conv biases stretched to [32, 8, 784] and [32, 16, 196]
    // are (the plain version is one `assign`; the gain is in `map_elements`'s comment).
    parallel::for_row_blocks(
        (RowRange(0..rows), RowsMut(&mut out, row_len)),
        2 * view.len(),
        &|(range, block): (RowRange, RowsMut<F>)| {
            let mut shape = view.shape().to_vec();
            shape[0] = range.0.len();
            ndarray::ArrayViewMutD::from_shape(shape, block.0)
                .expect("whole rows")
                .assign(&view.slice_axis(ndarray::Axis(0), range.0.into()));
        },
    );
    ArrayD::from_shape_vec(view.raw_dim(), out).expect("one value per element")
}

/// `out[p·width + j] = source[j·stride + p]` for p < `depth` and j < `count` (at most
/// `width`; the other elements of `out` are left alone): `count` runs of `depth` elements,
/// `stride` apart in `source`, become columns of `out`. Taken in blocks of
/// [`INTERLEAVE_BLOCK`] elements of each run, so that the block of `out` being written
/// stays in L1 while each run is read a piece at a time. With `count` = `width` runs, the
/// rows of a `width`×`depth` row-major matrix, this is its transpose.
#[inline(always)] // into the packs of `matmul::packed`, compiled for the CPU's instruction set
pub(crate) fn interleave<T: Copy>(
    out: &mut [T],
    width: usize,
    source: &[T],
    stride: usize,
    count: usize,
    depth: usize,
) {
    let blocks = depth / INTERLEAVE_BLOCK;
    for (b, out_block) in out
        .chunks_exact_mut(INTERLEAVE_BLOCK * width)
        .take(blocks)
        .enumerate()
    {
        for j in 0..count {
            let run: &[T; INTERLEAVE_BLOCK] = source[j * stride + b * INTERLEAVE_BLOCK..]
                [..INTERLEAVE_BLOCK]
                .try_into()
                .expect("a run of INTERLEAVE_BLOCK elements");
            for (q, &x) in run.iter().enumerate() {
                out_block[q * width + j] = x;
            }
        }
    }
    for p in blocks * INTERLEAVE_BLOCK..depth {
        for j in 0..count {
            out[p * width + j] = source[j * stride + p];
        }
    }
}

/// Elements of each source per block of [`interleave`] (16 was slower on 1024² GEMM packs).
const INTERLEAVE_BLOCK: usize = 8;

/// A matrix read transposed (a 2-D view whose transpose is in standard layout, as `t()`
/// gives), copied through [`interleave`]: the source's rows become the copy's columns.
// fast path: a 1024² f32 transpose 3.8–4.2 → 0.69–0.79 ms at 1 thread and 1.8–2.1 → 0.38–0.47
// at 2, against the general path below (100000×16: 1.5–1.6 → 0.73–0.96, 0.81 → 0.57)
fn transpose_2d<F: Float>(view: &ndarray::ArrayViewD<'_, F>) -> Option<ArrayD<F>> {
    if view.ndim() != 2 {
        return None;
    }
    let (rows, cols) = (view.shape()[0], view.shape()[1]);
    let source = view.clone().reversed_axes().to_slice()?;
    if source.is_empty() {
        return Some(ArrayD::zeros(view.raw_dim()));
    }
    // Every element is written: blocks of the copy's rows on the threads, each from the same
    // columns of the source.
    let mut out = pool::buffer(rows * cols);
    parallel::for_row_blocks(
        (RowRange(0..rows), RowsMut(&mut out, cols)),
        2 * rows * cols,
        &|(range, block): (RowRange, RowsMut<F>)| {
            let runs = &source[range.0.start..];
            interleave(block.0, cols, runs, rows, cols, range.0.len());
        },
    );
    Some(ArrayD::from_shape_vec(view.raw_dim(), out).expect("one value per element"))
}

/// `f(a, b)` elementwise over the broadcast of both arrays (whose shapes are known to
/// broadcast), neither copied.
#[track_caller]
pub(crate) fn zip_map<F: Float>(a: &ArrayD<F>, b: &ArrayD<F>, f: impl Fn(F, F) -> F) -> ArrayD<F> {
    zip_map_to(a, b, f)
}

/// [`zip_map`] into another element type (comparisons give `bool`).
#[track_caller]
pub(crate) fn zip_map_to<F: Float, T>(
    a: &ArrayD<F>,
    b: &ArrayD<F>,
    f: impl Fn(F, F) -> T,
) -> ArrayD<T> {
    let shape = broadcast_shapes("zip_map", a.shape(), b.shape()).expect("shapes were checked");
    let (a, b) = (
        a.broadcast(shape.clone()).expect("checked"),
        b.broadcast(shape).expect("checked"),
    );
    ndarray::Zip::from(&a).and(&b).map_collect(|&x, &y| f(x, y))
}

#[cfg(test)]
mod tests {
    use ndarray::IxDyn;

    use super::test_util::uniform;
    use super::*;

    #[test]
    fn elementwise_kernels_split_among_threads_agree_with_one_thread() {
        // 3·10⁵ elements: enough to be split among the threads (crate::parallel). The
        // references are ndarray's own one-thread loops.
        let (a, b) = (uniform(&[300, 1000], 1), uniform(&[300, 1000], 2));
        let f = |x: f64| (3.0 * x).tanh() - x;
        assert_eq!(map_elements(&a, f), a.mapv(f));
        let g = |x: f64, y: f64| x * y - y;
        let expected = ndarray::Zip::from(&a).and(&b).map_collect(|&x, &y| g(x, y));
        assert_eq!(zip_elements(&a, &b, g), expected);
        // A transposed array (not in standard layout) takes the one-thread path and agrees.
        let mut t = a.clone();
        t.swap_axes(0, 1);
        assert_eq!(map_elements(&t, f), t.mapv(f));
        assert_eq!(zip_elements(&t, &t, g), t.mapv(|x| g(x, x)));
    }

    #[test]
    fn transposing_interleaves_the_sources_whole_blocks_and_remainder() {
        // 3 sources of depth 2·INTERLEAVE_BLOCK + 3: out[p·3 + j] = sources[j][p]
        let depth = 2 * INTERLEAVE_BLOCK + 3;
        // (each source `depth + 2` apart in one buffer, the two between left unread)
        let stride = depth + 2;
        let sources: Vec<f32> = (0..3 * stride)
            .map(|i| (100 * (i / stride) + i % stride) as f32)
            .collect();
        let mut out = vec![f32::NAN; 3 * depth];
        interleave(&mut out, 3, &sources, stride, 3, depth);
        let expected: Vec<f32> = (0..depth)
            .flat_map(|p| (0..3).map(move |j| (100 * j + p) as f32))
            .collect();
        assert_eq!(out, expected);
        // fewer sources than the width: the other columns are left as they were
        let mut out = vec![-1.0; 3 * depth];
        interleave(&mut out, 3, &sources, stride, 2, depth);
        for (p, row) in out.chunks_exact(3).enumerate() {
            assert_eq!(row, [p as f32, (100 + p) as f32, -1.0], "p = {p}");
        }
    }

    #[test]
    fn materialize_splits_rows_and_keeps_the_order() {
        // A bias [1, 40, 1] stretched to [64, 40, 300] (768,000 elements, split among the
        // threads), a transpose, and an empty broadcast.
        let bias = uniform(&[1, 40, 1], 3);
        let view = bias.broadcast(IxDyn(&[64, 40, 300])).unwrap();
        let out = materialize(view.view());
        assert!(out.is_standard_layout());
        assert_eq!(out, view);
        let m = uniform(&[500, 300], 4);
        assert_eq!(materialize(m.t()), m.t());
        let empty = uniform(&[0, 3], 5);
        let stretched = empty.broadcast(IxDyn(&[2, 0, 3])).unwrap();
        assert_eq!(materialize(stretched.view()).shape(), &[2, 0, 3]);
        // one value everywhere: a fill (2²⁰ elements, split among the threads whether or not
        // a helper is awake) of a buffer the pool may hand back with old values in it
        let value = uniform(&[1, 1], 9);
        pool::recycle_array(uniform(&[1024, 1024], 10));
        let filled = materialize(value.broadcast(IxDyn(&[1024, 1024])).unwrap());
        assert_eq!(filled, value.broadcast(IxDyn(&[1024, 1024])).unwrap());
    }

    #[test]
    fn transposes_are_copied_whole_split_and_empty() {
        // 500×300 (split among the threads), rows not a multiple of the interleave block,
        // one row, and no rows
        for shape in [[500, 300], [13, 7], [1, 9], [0, 4], [4, 0]] {
            let m = uniform(&shape, 6);
            let view = m.t();
            let copy = transpose_2d(&view.view()).expect("a transposed matrix");
            assert!(copy.is_standard_layout(), "{shape:?}");
            assert_eq!(copy, view, "{shape:?}");
        }
        // a broadcast or a view with a gap between rows is not one
        let row = uniform(&[1, 5], 7);
        assert!(transpose_2d(&row.broadcast(IxDyn(&[5, 5])).unwrap().t()).is_none());
        let m = uniform(&[6, 6], 8);
        let every_other =
            m.slice_each_axis(|a| ndarray::Slice::new(0, None, if a.axis.0 == 0 { 2 } else { 1 }));
        assert!(transpose_2d(&every_other.t()).is_none());
    }
}
