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

/// Checks that `axis` exists in a tensor of shape `shape`.
pub(crate) fn check_axis(op: &'static str, axis: usize, shape: &[usize]) -> Result<()> {
    if axis < shape.len() {
        Ok(())
    } else {
        Err(TensorError::AxisOutOfRange {
            op,
            axis,
            shape: shape.to_vec(),
        })
    }
}

/// Sorted, de-duplicated and range-checked reduction axes.
pub(crate) fn normalize_axes(
    op: &'static str,
    axes: &[usize],
    shape: &[usize],
) -> Result<Vec<usize>> {
    let mut sorted = axes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    for &axis in &sorted {
        check_axis(op, axis, shape)?;
    }
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
    fn reduced_shape_with_and_without_keepdim() {
        assert_eq!(reduced_shape(&[2, 3, 4], &[0, 2], true), vec![1, 3, 1]);
        assert_eq!(reduced_shape(&[2, 3, 4], &[0, 2], false), vec![3]);
    }
}
