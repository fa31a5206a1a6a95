//! `topk`: the k largest (or smallest) elements along an axis and their indices, PyTorch's
//! `torch.topk(x, k, dim, largest, sorted)`.
//!
//! Returns `(values, indices)`: `values` has `x`'s shape with `k` along `axis`, and
//! `indices` (an `ndarray::ArrayD<usize>`, like `argmax`'s) the same shape, so that
//! `values = x.gather(axis, &indices)`. That is how the values are computed: a composite, the
//! choice of indices being piecewise constant, so the tape yields the gradient of a gather —
//! ∂L/∂x is ∂L/∂values scattered back to the chosen positions, 0 elsewhere.
//!
//! Order: with `sorted`, the largest first (`largest = true`) or the smallest first; without,
//! the chosen elements in the order they appear along the axis. A NaN counts as larger than
//! every number, as in PyTorch (it comes first with `largest`, last otherwise).
//!
//! NOTE: ties. PyTorch leaves the order of equal values unspecified: its CPU kernel runs the
//! C++ library's `nth_element`/`partial_sort`, so `torch.topk([1, 3, 3, 2, 3], 2)` picks
//! indices `[2, 4]` (torch 2.15 with libstdc++; another library may pick others), and
//! `torch.topk([1, 3, 3, 2, 5], 3)` gives `[4, 2, 1]`. The values agree whatever the tie
//! order; the indices cannot be matched in general without copying one C++ library's
//! selection algorithm. tapegrad breaks ties by position: among equal values the lower index
//! comes first and is chosen first (`[1, 2]` and `[4, 1, 2]` above), on every platform.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::from_vec(vec![1.0, 3.0, 3.0, 2.0, 5.0], &[5]);
//! let (values, indices) = x.topk(3, 0, true, true);
//! assert_eq!(values.to_vec(), vec![5.0, 3.0, 3.0]);
//! assert_eq!(indices.flatten().to_vec(), vec![4, 1, 2]);
//! let (smallest, at) = x.topk(2, 0, false, true);
//! assert_eq!((smallest.to_vec(), at.flatten().to_vec()), (vec![1.0, 2.0], vec![0, 3]));
//! ```

use std::cmp::Ordering;

use ndarray::{ArrayD, Axis, Zip};

use crate::error::{or_panic, Result, TensorError};
use crate::shape::{axis_index, Dim};
use crate::{Float, Tensor};

/// `x` before `y` when it is larger, NaN counting as the largest, ties by index.
fn descending<F: Float>((i, x): (usize, F), (j, y): (usize, F)) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => y.partial_cmp(&x).expect("not NaN"),
    }
    .then(i.cmp(&j))
}

/// `x` before `y` when it is smaller, NaN counting as the largest, ties by index.
fn ascending<F: Float>((i, x): (usize, F), (j, y): (usize, F)) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => x.partial_cmp(&y).expect("not NaN"),
    }
    .then(i.cmp(&j))
}

impl<F: Float> Tensor<F> {
    /// The `k` largest (`largest`) or smallest elements along `axis`, and their indices (see
    /// the module docs for the order and for ties).
    ///
    /// # Errors
    /// `topk` when the axis is out of range or `k` is larger than the axis.
    #[track_caller]
    pub fn try_topk(
        &self,
        k: usize,
        axis: impl Dim,
        largest: bool,
        sorted: bool,
    ) -> Result<(Tensor<F>, ArrayD<usize>)> {
        let axis = axis_index("topk", axis, self.shape())?;
        let size = self.shape()[axis];
        if k > size {
            return Err(TensorError::InvalidArgument {
                op: "topk",
                shape: self.shape().to_vec(),
                rule: format!("k = {k} is larger than axis {axis} of size {size}"),
            });
        }
        let order = if largest {
            descending::<F>
        } else {
            ascending::<F>
        };
        let mut shape = self.shape().to_vec();
        shape[axis] = k;
        let mut indices = ArrayD::<usize>::zeros(shape);
        let value = self.value();
        let mut lane: Vec<(usize, F)> = Vec::with_capacity(size);
        // Lanes along one axis of two arrays that differ only in that axis come in the same order.
        Zip::from(indices.lanes_mut(Axis(axis)))
            .and(value.lanes(Axis(axis)))
            .for_each(|mut out, x| {
                if k == 0 {
                    return;
                }
                lane.clear();
                lane.extend(x.iter().copied().enumerate());
                // The order is total (ties broken by index), so selecting and then sorting
                // the first k is deterministic: O(n + k log k) rather than a full sort.
                if k < size {
                    lane.select_nth_unstable_by(k - 1, |&a, &b| order(a, b));
                }
                let chosen = &mut lane[..k];
                if sorted {
                    chosen.sort_unstable_by(|&a, &b| order(a, b));
                } else {
                    chosen.sort_unstable_by_key(|&(i, _)| i);
                }
                for (slot, &(i, _)) in out.iter_mut().zip(chosen.iter()) {
                    *slot = i;
                }
            });
        let values = self.try_gather(axis, &indices)?;
        Ok((values, indices))
    }

    /// Panicking form of [`try_topk`](Self::try_topk).
    #[track_caller]
    pub fn topk(
        &self,
        k: usize,
        axis: impl Dim,
        largest: bool,
        sorted: bool,
    ) -> (Tensor<F>, ArrayD<usize>) {
        or_panic(self.try_topk(k, axis, largest, sorted))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn values_ties_nan_and_unsorted_order() {
        // [1, 3, 3, 2, 3, NaN, 0]: NaN is the largest; the three 3s tie, lower index first.
        let x = Tensor::<f64>::from_vec(vec![1.0, 3.0, 3.0, 2.0, 3.0, f64::NAN, 0.0], &[7]);
        let (v, i) = x.topk(3, 0, true, true);
        assert!(v.to_vec()[0].is_nan());
        assert_eq!(v.to_vec()[1..], [3.0, 3.0]);
        assert_eq!(i.flatten().to_vec(), vec![5, 1, 2]);
        // Smallest: NaN comes last; torch gives the same values [0, 1, 2] at [6, 0, 3].
        let (v, i) = x.topk(3, 0, false, true);
        assert_eq!(
            (v.to_vec(), i.flatten().to_vec()),
            (vec![0.0, 1.0, 2.0], vec![6, 0, 3])
        );
        // Unsorted: the same four elements, in the order they appear.
        let (_, i) = x.topk(4, 0, true, false);
        assert_eq!(i.flatten().to_vec(), vec![1, 2, 4, 5]);
        // Along axis 0 of a matrix: each column's two largest.
        let m = Tensor::<f64>::from_vec(vec![1.0, 6.0, 5.0, 2.0, 3.0, 4.0], &[3, 2]);
        let (v, i) = m.topk(2, 0, true, true);
        assert_eq!(v.to_vec(), vec![5.0, 6.0, 3.0, 4.0]);
        assert_eq!(i.flatten().to_vec(), vec![1, 0, 2, 2]);
        assert_eq!(m.topk(0, 1, true, true).0.shape(), &[3, 0]);
        let err = m.try_topk(4, 0, true, true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "topk: [3, 2]: k = 4 is larger than axis 0 of size 3"
        );
        assert!(m.try_topk(1, 2, true, true).is_err());
    }

    #[test]
    fn analytic_gradient_scatters_back() {
        // Σ top-2 of [1, 4, 2, 5] = 4 + 5: ∂/∂x = [0, 1, 0, 1].
        let x = Tensor::<f64>::from_vec(vec![1.0, 4.0, 2.0, 5.0], &[4]).requires_grad();
        let (v, _) = x.topk(2, 0, true, true);
        (&v * &Tensor::from_vec(vec![10.0, 1.0], &[2]))
            .sum()
            .backward();
        // The largest (5, index 3) was weighted 10, the second (4, index 1) 1.
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 1.0, 0.0, 10.0]);
    }

    #[test]
    fn gradcheck_along_each_axis() {
        // Independent uniform samples almost surely never tie.
        check(
            "topk",
            |t| t[0].topk(2, 1, true, true).0,
            &[uniform(&[3, 5], 1)],
        );
        check(
            "topk",
            |t| t[0].topk(3, 0, false, false).0,
            &[uniform(&[4, 2, 3], 2)],
        );
        check_second_order(
            "topk",
            |t| t[0].topk(2, 2, true, true).0.powf(3.0),
            &[uniform(&[2, 2, 4], 3)],
        );
    }
}
