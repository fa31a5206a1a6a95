//! Shapes and NumPy broadcasting.
//!
//! Two shapes broadcast when, aligned from their last dimension, each pair of dimensions is
//! equal or one of them is 1; a missing leading dimension counts as 1. The result takes the
//! larger size of each pair: `[3, 1] with [4]` gives `[3, 4]`.

use crate::error::{Result, TensorError};

/// The broadcast shape of `lhs` and `rhs`, or an error naming `op` and the failing dimension.
///
/// ```
/// use tapegrad_tensor::shape::broadcast_shapes;
/// assert_eq!(broadcast_shapes("add", &[3, 1], &[4]).unwrap(), vec![3, 4]);
/// assert!(broadcast_shapes("add", &[3, 4], &[2, 4]).is_err());
/// ```
pub fn broadcast_shapes(op: &'static str, lhs: &[usize], rhs: &[usize]) -> Result<Vec<usize>> {
    let rank = lhs.len().max(rhs.len());
    let dim_of = |s: &[usize], d: usize| (d + s.len()).checked_sub(rank).map_or(1, |i| s[i]);
    (0..rank)
        .map(|d| match (dim_of(lhs, d), dim_of(rhs, d)) {
            (a, b) if a == b || b == 1 => Ok(a),
            (1, b) => Ok(b),
            _ => Err(TensorError::Broadcast {
                op,
                lhs: lhs.to_vec(),
                rhs: rhs.to_vec(),
                dim: d,
            }),
        })
        .collect()
}

/// Whether `from` can be broadcast to exactly `to`.
pub fn can_broadcast_to(from: &[usize], to: &[usize]) -> bool {
    from.len() <= to.len()
        && from
            .iter()
            .rev()
            .zip(to.iter().rev())
            .all(|(&f, &t)| f == t || f == 1)
}

/// The axes of `to` that a broadcast from `from` stretched: the leading axes `from` lacks and
/// the axes where `from` has size 1 but `to` does not. Summing a gradient over these axes
/// brings it back to `from`'s shape.
pub fn broadcast_axes(from: &[usize], to: &[usize]) -> Vec<usize> {
    let lead = to.len() - from.len();
    (0..to.len())
        .filter(|&d| d < lead || (from[d - lead] == 1 && to[d] != 1))
        .collect()
}

/// The permutation that undoes `perm`: if output axis k of a permute is input axis
/// `perm[k]`, permuting by the result puts every axis back.
pub(crate) fn inverse_permutation(perm: &[usize]) -> Vec<usize> {
    let mut inverse = vec![0; perm.len()];
    for (k, &axis) in perm.iter().enumerate() {
        inverse[axis] = k;
    }
    inverse
}

/// An axis argument, as PyTorch and NumPy take one: `0` is the first axis and `-1` the last.
///
/// Every method that takes an axis (`softmax`, `sum_axes`, `unsqueeze`, `transpose`,
/// `index_select`, `concat`, `narrow`, …) accepts any `Dim`: a `usize` counts from the
/// front; a signed integer (`i32`, `i64`, `isize`) counts from the back when negative, so
/// for a tensor of rank r, axis −k is axis r − k. An unsuffixed literal such as `-1` is an
/// `i32`, so `x.softmax(-1)` and `x.sum_axes(&[0, -1], false)` read as in PyTorch.
///
/// ```
/// use tapegrad_tensor::Tensor;
/// let x = Tensor::<f64>::ones(&[2, 3, 4]);
/// assert_eq!(x.sum_axes(&[-1], false).shape(), &[2, 3]);
/// assert_eq!(x.unsqueeze(-1).shape(), &[2, 3, 4, 1]); // unsqueeze counts among r + 1 slots
/// assert_eq!(x.transpose(0, -1).shape(), &[4, 3, 2]);
/// assert_eq!(
///     x.try_softmax(-4).unwrap_err().to_string(),
///     "softmax: axis -4 is out of range for shape [2, 3, 4] (rank 3)"
/// );
/// ```
pub trait Dim: Copy {
    /// The axis as a signed number: negative counts from the back.
    fn signed(self) -> i64;
}

impl Dim for usize {
    fn signed(self) -> i64 {
        i64::try_from(self).unwrap_or(i64::MAX)
    }
}

macro_rules! signed_dim {
    ($($t:ty),*) => {$(
        impl Dim for $t {
            fn signed(self) -> i64 {
                self as i64
            }
        }
    )*};
}
signed_dim!(i32, i64, isize);

/// The index of `dim` among `rank` axes (usually `shape.len()`; one more for ops that insert
/// an axis), or `AxisOutOfRange` naming `op`, the axis as given, and `shape`.
pub(crate) fn axis_in(
    op: &'static str,
    dim: impl Dim,
    rank: usize,
    shape: &[usize],
) -> Result<usize> {
    let d = dim.signed();
    let r = rank as i64;
    let index = if d < 0 { d + r } else { d };
    if (0..r).contains(&index) {
        Ok(index as usize)
    } else {
        Err(TensorError::AxisOutOfRange {
            op,
            axis: d,
            shape: shape.to_vec(),
        })
    }
}

/// The index of axis `dim` of a tensor of shape `shape` (see [`Dim`]).
pub(crate) fn axis_index(op: &'static str, dim: impl Dim, shape: &[usize]) -> Result<usize> {
    axis_in(op, dim, shape.len(), shape)
}

/// Sorted, de-duplicated and range-checked reduction axes (negative ones counted from the back).
pub(crate) fn normalize_axes<D: Dim>(
    op: &'static str,
    axes: &[D],
    shape: &[usize],
) -> Result<Vec<usize>> {
    let mut sorted = axes
        .iter()
        .map(|&d| axis_index(op, d, shape))
        .collect::<Result<Vec<_>>>()?;
    sorted.sort_unstable();
    sorted.dedup();
    Ok(sorted)
}

/// The shape after reducing `axes` of `shape`: each reduced axis becomes 1 with `keepdim`,
/// or disappears without it.
pub(crate) fn reduced_shape(shape: &[usize], axes: &[usize], keepdim: bool) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .filter_map(|(d, &n)| match (axes.contains(&d), keepdim) {
            (false, _) => Some(n),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy() {
        assert_eq!(
            broadcast_shapes("add", &[3, 1], &[1, 4]).unwrap(),
            vec![3, 4]
        );
        assert_eq!(
            broadcast_shapes("add", &[2, 3, 4], &[4]).unwrap(),
            vec![2, 3, 4]
        );
        assert_eq!(broadcast_shapes("add", &[], &[2]).unwrap(), vec![2]);
        assert_eq!(
            broadcast_shapes("add", &[0, 1], &[1, 5]).unwrap(),
            vec![0, 5]
        );
        let err = broadcast_shapes("add", &[3, 4], &[2, 4]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "add: cannot broadcast [3, 4] with [2, 4]: dimension 0 is 3 vs 2"
        );
    }

    #[test]
    fn broadcast_axes_lists_stretched_axes() {
        assert_eq!(broadcast_axes(&[4], &[2, 3, 4]), vec![0, 1]);
        assert_eq!(broadcast_axes(&[3, 1], &[3, 4]), vec![1]);
        assert_eq!(broadcast_axes(&[1, 1], &[1, 1]), Vec::<usize>::new());
        assert!(can_broadcast_to(&[3, 1], &[2, 3, 4]));
        assert!(!can_broadcast_to(&[3, 2], &[3, 4]));
    }

    #[test]
    fn negative_dims_count_from_the_back_in_every_op_that_takes_one() {
        use crate::Tensor;
        let x = Tensor::<f64>::from_vec((0..24).map(f64::from).collect(), &[2, 3, 4]);
        let same = |a: Tensor<f64>, b: Tensor<f64>| {
            assert_eq!(a.shape(), b.shape());
            assert_eq!(a.to_vec(), b.to_vec());
        };
        same(x.softmax(-1), x.softmax(2));
        same(x.log_softmax(-2), x.log_softmax(1usize));
        same(x.sum_axes(&[-1], false), x.sum_axes(&[2], false));
        same(x.sum_axes(&[0, -1], true), x.sum_axes(&[0, 2], true));
        same(x.mean_axes(&[-3], false), x.mean_axes(&[0], false));
        same(x.max_axes(&[-1i64], true), x.max_axes(&[2], true));
        same(x.min_axes(&[-2isize], false), x.min_axes(&[1], false));
        same(
            x.logsumexp_axes(&[-1], false),
            x.logsumexp_axes(&[2], false),
        );
        same(x.var_axes(&[-1], 1, false), x.var_axes(&[2], 1, false));
        same(x.unsqueeze(-1), x.unsqueeze(3));
        same(x.unsqueeze(-4), x.unsqueeze(0));
        same(x.unsqueeze(-1).squeeze(-1), x.clone());
        same(x.transpose(-1, -2), x.transpose(2, 1));
        same(x.permute(&[-1, 0, 1]), x.permute(&[2, 0, 1]));
        same(x.index_select(-1, &[3, 0]), x.index_select(2, &[3, 0]));
        same(x.narrow(-1, 1, 2), x.narrow(2, 1, 2));
        same(x.pad(-1, 1, 0), x.pad(2, 1, 0));
        same(Tensor::concat(&[&x, &x], -1), Tensor::concat(&[&x, &x], 2));
        same(Tensor::stack(&[&x, &x], -1), Tensor::stack(&[&x, &x], 3));
        assert_eq!(x.argmax(-1), x.argmax(2));
        let index = ndarray::ArrayD::from_elem(vec![2, 3, 1], 1usize);
        same(x.gather(-1, &index), x.gather(2, &index));
        // A usize held in a variable, as existing call sites pass it, still works.
        let axes: Vec<usize> = vec![1, 2];
        same(x.sum_axes(&axes, false), x.sum_axes(&[-2, -1], false));
        // Gradients flow the same way: ∂/∂x Σ softmax(x, −1)·w is what axis 2 gives.
        let w = Tensor::<f64>::from_vec((0..24).map(|i| f64::from(i % 5)).collect(), &[2, 3, 4]);
        let grads: Vec<Vec<f64>> = [-1i64, 2]
            .iter()
            .map(|&axis| {
                let x = x.mul_scalar(0.1).requires_grad();
                (&x.softmax(axis) * &w).sum().backward();
                x.grad().unwrap().to_vec()
            })
            .collect();
        assert_eq!(grads[0], grads[1]);
    }

    #[test]
    fn out_of_range_dims_name_the_op_the_dim_and_the_rank() {
        use crate::Tensor;
        let x = Tensor::<f32>::zeros(&[2, 3]);
        let message = |e: crate::TensorError| e.to_string();
        assert_eq!(
            message(x.try_softmax(-3).unwrap_err()),
            "softmax: axis -3 is out of range for shape [2, 3] (rank 2)"
        );
        assert_eq!(
            message(x.try_sum_axes(&[2], false).unwrap_err()),
            "sum: axis 2 is out of range for shape [2, 3] (rank 2)"
        );
        assert_eq!(
            message(x.try_unsqueeze(-4).unwrap_err()),
            "unsqueeze: axis -4 is out of range for shape [2, 3] (rank 2)"
        );
        assert_eq!(
            message(x.try_transpose(0, -5).unwrap_err()),
            "transpose: axis -5 is out of range for shape [2, 3] (rank 2)"
        );
        assert_eq!(
            message(Tensor::try_concat(&[&x, &x], -3).unwrap_err()),
            "concat: axis -3 is out of range for shape [2, 3] (rank 2)"
        );
        assert!(x.try_narrow(-3, 0, 1).is_err() && x.try_index_select(2, &[0]).is_err());
    }

    #[test]
    fn reduced_shape_with_and_without_keepdim() {
        assert_eq!(reduced_shape(&[2, 3, 4], &[0, 2], true), vec![1, 3, 1]);
        assert_eq!(reduced_shape(&[2, 3, 4], &[0, 2], false), vec![3]);
    }
}
