//! `gather`: one element picked per position along an axis (PyTorch's `gather`): for
//! axis 1 of a 2-D tensor, `out[i][j] = x[i][index[i][j]]` — how cross-entropy picks each
//! row's log-probability of its label.
//!
//! `index` has the same rank as `x`, its extent along every other axis at most `x`'s, and the
//! output has `index`'s shape. It may be given as an `ArrayD<usize>`, as a tensor of whole
//! numbers (`Tensor<F>`: labels kept as floats, PyTorch's index tensor), or as a slice of
//! indices, which is a 1-D index ([`GatherIndex`]).
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::from_vec(vec![0.1, 0.9, 0.7, 0.3], &[2, 2]);
//! let labels = ndarray::arr2(&[[1], [0]]).into_dyn();
//! assert_eq!(x.gather(1, &labels).to_vec(), vec![0.9, 0.7]);
//! ```

use std::borrow::Cow;
use std::sync::Arc;

use ndarray::{ArrayD, Dimension};
use smallvec::smallvec;

use super::index_select::check_indices;
use crate::error::{or_panic, Result, TensorError};
use crate::forward::{Dots, JvpCtx};
use crate::shape::{axis_index, Dim};
use crate::tape::{record, BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor};

/// What [`Tensor::gather`] takes as its index: an index array, a tensor of whole numbers ≥ 0,
/// or a slice of indices (a 1-D index), as PyTorch's `gather` takes an index tensor.
pub trait GatherIndex<'a> {
    /// The index as an array.
    ///
    /// # Errors
    /// `gather` when a tensor holds a value that is not a whole number ≥ 0.
    fn into_index(self) -> Result<Cow<'a, ArrayD<usize>>>;
}

impl<'a> GatherIndex<'a> for &'a ArrayD<usize> {
    fn into_index(self) -> Result<Cow<'a, ArrayD<usize>>> {
        Ok(Cow::Borrowed(self))
    }
}

impl<'a> GatherIndex<'a> for &[usize] {
    fn into_index(self) -> Result<Cow<'a, ArrayD<usize>>> {
        Ok(Cow::Owned(ndarray::Array1::from(self.to_vec()).into_dyn()))
    }
}

impl<'a> GatherIndex<'a> for &Vec<usize> {
    fn into_index(self) -> Result<Cow<'a, ArrayD<usize>>> {
        self.as_slice().into_index()
    }
}

impl<'a, const N: usize> GatherIndex<'a> for &[usize; N] {
    fn into_index(self) -> Result<Cow<'a, ArrayD<usize>>> {
        self.as_slice().into_index()
    }
}

impl<'a, F: Float> GatherIndex<'a> for &Tensor<F> {
    fn into_index(self) -> Result<Cow<'a, ArrayD<usize>>> {
        let value = self.value();
        let bad = value.indexed_iter().find(|(_, x)| {
            let x = x.as_f64();
            !(x >= 0.0 && x.fract() == 0.0 && x < usize::MAX as f64)
        });
        if let Some((at, x)) = bad {
            return Err(TensorError::InvalidArgument {
                op: "gather",
                shape: value.shape().to_vec(),
                rule: format!(
                    "the index tensor holds {} at {:?}; indices are whole numbers ≥ 0",
                    x.as_f64(),
                    at.slice()
                ),
            });
        }
        Ok(Cow::Owned(value.mapv(|x| x.as_f64() as usize)))
    }
}

impl<F: Float> Tensor<F> {
    /// Elements picked along `axis` by `index` (see the module docs).
    ///
    /// The index may be an `&ArrayD<usize>`, a `&Tensor` of whole numbers, or a slice:
    /// ```
    /// use tapegrad_tensor::Tensor;
    /// let x = Tensor::<f64>::from_vec(vec![10.0, 20.0, 30.0], &[3]);
    /// let by_slice = x.gather(0, &[2, 0]);
    /// let by_tensor = x.gather(0, &Tensor::<f64>::from_vec(vec![2.0, 0.0], &[2]));
    /// assert_eq!(by_slice.to_vec(), vec![30.0, 10.0]);
    /// assert_eq!(by_tensor.to_vec(), by_slice.to_vec());
    /// ```
    ///
    /// # Errors
    /// `gather` when the axis is out of range, `index` has another rank or a larger extent
    /// on another axis, or an index is past the end of `axis` (or, for an index tensor, is
    /// not a whole number ≥ 0).
    #[track_caller]
    pub fn try_gather<'a>(&self, axis: impl Dim, index: impl GatherIndex<'a>) -> Result<Tensor<F>> {
        let index = index.into_index()?;
        let index = index.as_ref();
        let axis = axis_index("gather", axis, self.shape())?;
        let fits = index.ndim() == self.ndim()
            && (0..self.ndim()).all(|d| d == axis || index.shape()[d] <= self.shape()[d]);
        if !fits {
            return Err(TensorError::ShapeMismatch {
                op: "gather",
                lhs: self.shape().to_vec(),
                rhs: index.shape().to_vec(),
                rule: format!(
                    "the index needs the same rank, and no larger extent except on axis {axis}"
                ),
            });
        }
        check_indices("gather", index.iter().copied(), axis, self.shape())?;
        let value = self.value();
        let out = gather_rows(&value, axis, index).unwrap_or_else(|| {
            ArrayD::from_shape_fn(index.raw_dim(), |mut position| {
                position[axis] = index[&position];
                value[position]
            })
        });
        let op = Op::Gather {
            axis,
            index: Arc::new(index.clone()),
            input: self.shape().into(),
        };
        record(op, &[self], out, &[])
    }

    /// Panicking form of [`try_gather`](Self::try_gather).
    #[track_caller]
    pub fn gather<'a>(&self, axis: impl Dim, index: impl GatherIndex<'a>) -> Tensor<F> {
        or_panic(self.try_gather(axis, index))
    }
}

// y[p] = x[p with its axis coordinate replaced by index[p]]: every y element copies one x
// element, so ∂L/∂x adds each ∂L/∂y[p] at the element it came from (scatter_add).
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::Gather { axis, index, input } = ctx.op else {
        unreachable!("gather rule on {:?}", ctx.op)
    };
    smallvec![Some(grad_out.scatter_add(*axis, Arc::clone(index), input))]
}

// y = gather(x, index): linear, so ẏ = gather(ẋ, index).
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::Gather { axis, index, .. } = ctx.op else {
        unreachable!("gather rule on {:?}", ctx.op)
    };
    Some(dots[0].as_ref()?.gather(*axis, &**index))
}

/// The rows of x and of the index along the last axis, when `axis` is the last, both are
/// contiguous and their other extents agree (max-pooling's and cross-entropy's case).
#[track_caller]
pub(crate) fn last_axis_rows<'a>(
    x_shape: &[usize],
    axis: usize,
    index: &'a ArrayD<usize>,
) -> Option<(usize, &'a [usize])> {
    let last = x_shape.len().checked_sub(1)?;
    let fits = axis == last && index.shape()[..last] == x_shape[..last] && x_shape[last] > 0;
    fits.then(|| index.as_slice().map(|i| (x_shape[last], i)))
        .flatten()
}

/// gather along the last axis, one contiguous row at a time; `None` off that case.
// fast path: the second-order rule of max_pool gathers this way
fn gather_rows<F: Float>(x: &ArrayD<F>, axis: usize, index: &ArrayD<usize>) -> Option<ArrayD<F>> {
    let (len, index_slice) = last_axis_rows(x.shape(), axis, index)?;
    let x_slice = x.as_slice()?;
    let picks = index.shape()[axis];
    let mut out = Vec::with_capacity(index_slice.len());
    if picks > 0 {
        for (row, idx) in x_slice
            .chunks_exact(len)
            .zip(index_slice.chunks_exact(picks))
        {
            out.extend(idx.iter().map(|&i| row[i]));
        }
    }
    ArrayD::from_shape_vec(index.raw_dim(), out).ok()
}

/// `index`'s positions, each with its axis coordinate replaced by the index stored there.
#[track_caller]
pub(crate) fn targets<'a>(
    index: &'a ArrayD<usize>,
    axis: usize,
) -> impl Iterator<Item = (ndarray::IxDyn, ndarray::IxDyn)> + 'a {
    index.indexed_iter().map(move |(position, &i)| {
        let mut target = position.clone();
        target.as_array_view_mut()[axis] = i;
        (position, target)
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn analytic_gradient_accumulates_repeats() {
        // Row 0 picks column 2 twice: ∂/∂x[0][2] = 2.
        let x = Tensor::<f64>::zeros(&[2, 3]).requires_grad();
        let index = ndarray::arr2(&[[2, 2], [0, 1]]).into_dyn();
        x.gather(1, &index).sum().backward();
        assert_eq!(
            x.grad().unwrap().to_vec(),
            vec![0.0, 0.0, 2.0, 1.0, 1.0, 0.0]
        );
    }

    #[test]
    fn gradcheck_and_errors() {
        let index = ndarray::arr2(&[[1], [0], [1]]).into_dyn();
        check("gather", |t| t[0].gather(1, &index), &[uniform(&[3, 2], 1)]);
        let index = ndarray::arr2(&[[2, 0]]).into_dyn();
        check("gather", |t| t[0].gather(0, &index), &[uniform(&[3, 2], 2)]);
        let x = Tensor::<f32>::zeros(&[2, 2]);
        let bad = ndarray::arr2(&[[5], [0]]).into_dyn();
        assert_eq!(
            x.try_gather(1, &bad).unwrap_err().to_string(),
            "gather: index 5 is out of range for axis 1 of shape [2, 2] (size 2)"
        );
        let wrong_rank = ndarray::arr1(&[0]).into_dyn();
        assert!(x.try_gather(0, &wrong_rank).is_err());
    }
}
