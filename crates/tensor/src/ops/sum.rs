//! `sum`: the sum of all elements, or over chosen axes (optionally keeping them as size 1).
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[2, 2]);
//! assert_eq!(x.sum().item(), 10.0);
//! assert_eq!(x.sum_axes(&[0], false).to_vec(), vec![4.0, 6.0]);
//! assert_eq!(x.sum_axes(&[1], true).shape(), &[2, 1]);
//! ```

use ndarray::{ArrayD, Axis};
use smallvec::smallvec;

use crate::error::{or_panic, Result};
use crate::forward::{Dots, JvpCtx};
use crate::parallel::{self, RowsMut, RowsOf};
use crate::shape::{normalize_axes, reduced_shape, Dim};
use crate::tape::{record, BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// The sum of every element, as a tensor of shape `[]`.
    #[track_caller]
    pub fn sum(&self) -> Tensor<F> {
        let all: Vec<usize> = (0..self.ndim()).collect();
        self.sum_axes(&all, false)
    }

    /// Sums over `axes`; with `keepdim` each reduced axis stays as size 1 (so the result
    /// broadcasts against the input). Empty `axes` reduce nothing.
    ///
    /// # Errors
    /// `sum` when an axis is out of range.
    #[track_caller]
    pub fn try_sum_axes(&self, axes: &[impl Dim], keepdim: bool) -> Result<Tensor<F>> {
        let axes = normalize_axes("sum", axes, self.shape())?;
        let value = self.value();
        let mut out = if axes.len() == self.ndim() {
            ndarray::arr0(sum_all(&value)).into_dyn()
        } else {
            let mut out = None;
            for &axis in axes.iter().rev() {
                out = Some(sum_one_axis(out.as_ref().unwrap_or(&*value), axis));
            }
            out.unwrap_or_else(|| (*value).clone())
        };
        if keepdim {
            out = out
                .into_shape_with_order(reduced_shape(self.shape(), &axes, true))
                .expect("only size-1 axes were added");
        }
        let op = Op::Sum {
            axes: axes.into(),
            keepdim,
            input: self.shape().into(),
        };
        record(op, &[self], out, &[])
    }

    /// Panicking form of [`try_sum_axes`](Self::try_sum_axes).
    #[track_caller]
    pub fn sum_axes(&self, axes: &[impl Dim], keepdim: bool) -> Tensor<F> {
        or_panic(self.try_sum_axes(axes, keepdim))
    }
}

/// Elements per block of [`sum_all`].
const SUM_BLOCK: usize = 1 << 15;

/// Σ of every element. A contiguous array longer than [`SUM_BLOCK`] is summed block by
/// block, the blocks shared among the threads (`crate::parallel`), and the blocks' sums
/// added in order: the result does not depend on the number of threads. (A shorter one is
/// one block: ndarray's sum.)
// fast path: against ndarray's sum of the whole array, W5's ΣC (2²⁰ f32) 0.18–0.19 → 0.15 ms
// at 1 thread and 0.097 at 2 (medians of 41), and closer to the exact sum (there, an error
// of 8 against 92)
fn sum_all<F: Float>(x: &ArrayD<F>) -> F {
    let Some(flat) = x
        .as_slice_memory_order()
        .filter(|flat| flat.len() > SUM_BLOCK)
    else {
        return x.sum();
    };
    let block_sum = |block: &[F]| ndarray::ArrayView1::from(block).sum();
    let whole = flat.len() / SUM_BLOCK;
    let mut sums = vec![F::zero(); whole];
    parallel::for_row_blocks(
        (
            RowsOf(&flat[..whole * SUM_BLOCK], SUM_BLOCK),
            RowsMut(&mut sums, 1),
        ),
        flat.len(),
        &|(blocks, sums): (RowsOf<F>, RowsMut<F>)| {
            for (block, sum) in blocks.0.chunks_exact(SUM_BLOCK).zip(sums.0) {
                *sum = block_sum(block);
            }
        },
    );
    let total = sums.iter().fold(F::zero(), |total, &s| total + s);
    total + block_sum(&flat[whole * SUM_BLOCK..])
}

/// Σ over one axis, computed on a static-rank `[outer, len, inner]` view of the array:
/// ndarray's `sum_axis` on a dynamic-rank array pays per-element index bookkeeping (measured
/// 10× slower on W1's `[100000, 1]` sums).
fn sum_one_axis<F: Float>(x: &ArrayD<F>, axis: usize) -> ArrayD<F> {
    let shape = x.shape();
    let outer: usize = shape[..axis].iter().product();
    let inner: usize = shape[axis + 1..].iter().product();
    let x = x.as_standard_layout();
    let x3 = x
        .view()
        .into_shape_with_order((outer, shape[axis], inner))
        .expect("standard layout");
    let summed = if inner == 1 {
        // Each sum runs over a contiguous row.
        x3.index_axis(Axis(2), 0)
            .map_axis(Axis(1), |row| row.sum())
            .insert_axis(Axis(1))
    } else if shape[axis] > 0 && inner > 0 {
        // fast path: adds contiguous rows as slices (ndarray's sum_axis sets up a Zip per
        // row), W3 17.4 → 16.2 µs/step
        let flat = x3.as_slice().expect("standard layout");
        let mut out = ndarray::Array2::<F>::zeros((outer, inner));
        let out_rows = out
            .as_slice_mut()
            .expect("fresh array")
            .chunks_exact_mut(inner);
        for (sum, block) in out_rows.zip(flat.chunks_exact(shape[axis] * inner)) {
            for row in block.chunks_exact(inner) {
                for (s, &x) in sum.iter_mut().zip(row) {
                    *s += x;
                }
            }
        }
        out
    } else {
        // Adds whole [outer, inner] planes, vectorised over inner.
        x3.sum_axis(Axis(1))
    };
    let mut out_shape = shape.to_vec();
    out_shape.remove(axis);
    summed
        .into_shape_with_order(out_shape)
        .expect("same element count")
}

// y = Σ_axes x: every xᵢ in a reduced group adds to one y with weight 1, so ∂L/∂xᵢ is the
// ∂L/∂y of its group: reshape ∂L/∂y to keep the reduced axes as 1, then broadcast to x's shape.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::Sum { axes, input, .. } = ctx.op else {
        unreachable!("sum rule on {:?}", ctx.op)
    };
    let kept = grad_out.reshape(&reduced_shape(input, axes, true));
    smallvec![Some(kept.broadcast_to(input))]
}

// y = Σ_axes x: linear, so ẏ = Σ_axes ẋ.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::Sum { axes, keepdim, .. } = ctx.op else {
        unreachable!("sum rule on {:?}", ctx.op)
    };
    Some(dots[0].as_ref()?.sum_axes(axes, *keepdim))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn values() {
        // [[1, 2, 3], [4, 5, 6]]: rows sum to [6, 15], columns to [5, 7, 9].
        let x = Tensor::<f64>::arange(1.0, 7.0, 1.0).reshape(&[2, 3]);
        assert_eq!(x.sum_axes(&[1], false).to_vec(), vec![6.0, 15.0]);
        assert_eq!(x.sum_axes(&[0], true).to_vec(), vec![5.0, 7.0, 9.0]);
        assert_eq!(x.sum_axes(&[0, 1], false).shape(), &[] as &[usize]);
        assert_eq!(Tensor::<f64>::zeros(&[0, 3]).sum().item(), 0.0);
    }

    #[test]
    fn long_arrays_are_summed_by_blocks_in_order() {
        use super::{sum_all, SUM_BLOCK};
        use crate::parallel::PARALLEL_WAKE_ELEMENTS;
        use ndarray::{Array1, ArrayView1, Axis, Slice};
        // 32.5 blocks (enough to be split among the threads whether or not a helper is
        // awake): the whole blocks' sums, then the rest's, added in order
        let n = PARALLEL_WAKE_ELEMENTS + SUM_BLOCK / 2;
        let x = Array1::from_shape_fn(n, |i| ((i % 97) as f32 - 48.0) / 7.0);
        let x = x.into_dyn();
        let flat = x.as_slice().unwrap();
        let blocks = flat.chunks(SUM_BLOCK).map(|b| ArrayView1::from(b).sum());
        let expected = blocks.fold(0.0f32, |total, b| total + b);
        assert_eq!(sum_all(&x), expected);
        let exact: f64 = flat.iter().map(|&v| v as f64).sum();
        let scale: f64 = flat.iter().map(|&v| v.abs() as f64).sum();
        assert!((expected as f64 - exact).abs() <= 1e-6 * scale);
        // a short array, and a long one not contiguous in memory, are ndarray's sum
        let short = x.slice_axis(Axis(0), Slice::from(..100)).to_owned();
        assert_eq!(sum_all(&short), short.sum());
        let mut every_other = x.clone();
        every_other.slice_axis_inplace(Axis(0), Slice::new(0, None, 2));
        assert!(every_other.as_slice_memory_order().is_none());
        assert_eq!(sum_all(&every_other), every_other.sum());
    }

    #[test]
    fn analytic_gradient_is_ones() {
        // ∂(Σx)/∂x = 1 everywhere.
        let x = Tensor::<f64>::zeros(&[2, 3]).requires_grad();
        x.sum_axes(&[1], false).sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![1.0; 6]);
    }

    #[test]
    fn axis_sum_fast_path_agrees_with_ndarray() {
        // sum_one_axis adds contiguous rows as slices; it must match ndarray's sum_axis, also
        // for a transposed (non-standard-layout) input and for empty axes.
        use ndarray::Axis;
        let cases: &[(&[usize], usize)] = &[
            (&[32, 16], 0),
            (&[2, 3, 4], 1),
            (&[2, 3, 4], 0),
            (&[5, 1, 3], 1),
            (&[3, 0, 2], 1),
            (&[0, 3], 0),
            (&[3, 2, 0], 1),
        ];
        for (i, (shape, axis)) in cases.iter().enumerate() {
            let x = uniform(shape, i as u64);
            let transposed = x.clone().reversed_axes();
            for x in [x, transposed] {
                let (fast, slow) = (super::sum_one_axis(&x, *axis), x.sum_axis(Axis(*axis)));
                assert_eq!(fast.shape(), slow.shape());
                for (p, q) in fast.iter().zip(&slow) {
                    assert!((p - q).abs() < 1e-12, "{shape:?} axis {axis}: {p} vs {q}");
                }
            }
        }
    }

    #[test]
    fn gradcheck_over_axes() {
        let cases: &[(&[usize], &[usize], bool)] = &[
            (&[2, 3, 4], &[1], false),
            (&[2, 3, 4], &[0, 2], true),
            (&[2, 3, 4], &[], false),
            (&[5], &[0], true),
            (&[2, 0, 3], &[1], false),
            (&[1, 1], &[0, 1], false),
        ];
        for (i, (shape, axes, keepdim)) in cases.iter().enumerate() {
            check(
                "sum",
                |t| t[0].sum_axes(axes, *keepdim),
                &[uniform(shape, i as u64)],
            );
        }
        let err = Tensor::<f32>::zeros(&[2, 3])
            .try_sum_axes(&[2], false)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "sum: axis 2 is out of range for shape [2, 3] (rank 2)"
        );
    }
}
