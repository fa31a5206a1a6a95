//! `squeeze` and `unsqueeze`: remove or insert a size-1 axis — composites of `reshape`, so
//! their gradient is ∂L/∂y reshaped back.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::zeros(&[3]);
//! assert_eq!(x.unsqueeze(0).shape(), &[1, 3]);
//! assert_eq!(x.unsqueeze(1).squeeze(1).shape(), &[3]);
//! ```

use crate::error::{or_panic, Result, TensorError};
use crate::shape::{axis_in, axis_index, Dim};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// Removes axis `axis`, which must have size 1.
    ///
    /// # Errors
    /// `squeeze` when the axis is out of range or its size is not 1.
    #[track_caller]
    pub fn try_squeeze(&self, axis: impl Dim) -> Result<Tensor<F>> {
        let axis = axis_index("squeeze", axis, self.shape())?;
        if self.shape()[axis] != 1 {
            return Err(TensorError::InvalidArgument {
                op: "squeeze",
                shape: self.shape().to_vec(),
                rule: format!("axis {axis} has size {}, not 1", self.shape()[axis]),
            });
        }
        let mut shape = self.shape().to_vec();
        shape.remove(axis);
        self.try_reshape(&shape)
    }

    /// Panicking form of [`try_squeeze`](Self::try_squeeze).
    #[track_caller]
    pub fn squeeze(&self, axis: impl Dim) -> Tensor<F> {
        or_panic(self.try_squeeze(axis))
    }

    /// Inserts a size-1 axis at position `axis` (0 ≤ axis ≤ ndim).
    ///
    /// # Errors
    /// `unsqueeze` when `axis > ndim`.
    #[track_caller]
    pub fn try_unsqueeze(&self, axis: impl Dim) -> Result<Tensor<F>> {
        let axis = axis_in("unsqueeze", axis, self.ndim() + 1, self.shape())?;
        let mut shape = self.shape().to_vec();
        shape.insert(axis, 1);
        self.try_reshape(&shape)
    }

    /// Panicking form of [`try_unsqueeze`](Self::try_unsqueeze).
    #[track_caller]
    pub fn unsqueeze(&self, axis: impl Dim) -> Tensor<F> {
        or_panic(self.try_unsqueeze(axis))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn shapes_gradcheck_and_errors() {
        let x = Tensor::<f64>::zeros(&[2, 1, 3]);
        assert_eq!(x.squeeze(1).shape(), &[2, 3]);
        assert_eq!(x.unsqueeze(3).shape(), &[2, 1, 3, 1]);
        check("squeeze", |t| t[0].squeeze(1), &[uniform(&[2, 1, 3], 1)]);
        check("unsqueeze", |t| t[0].unsqueeze(0), &[uniform(&[2, 3], 2)]);
        assert_eq!(
            x.try_squeeze(0).unwrap_err().to_string(),
            "squeeze: [2, 1, 3]: axis 0 has size 2, not 1"
        );
        assert_eq!(
            x.try_unsqueeze(4).unwrap_err().to_string(),
            "unsqueeze: axis 4 is out of range for shape [2, 1, 3] (rank 3)"
        );
    }
}
