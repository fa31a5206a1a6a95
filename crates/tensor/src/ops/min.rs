//! `min`: the smallest element overall or over axes — a composite, min(x) = −max(−x), so the
//! gradient goes to the first minimum of each group and NaN propagates.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::from_vec(vec![1.0, 7.0, 3.0, 4.0], &[2, 2]);
//! assert_eq!(x.min().item(), 1.0);
//! assert_eq!(x.min_axes(&[1], false).to_vec(), vec![1.0, 3.0]);
//! ```

use crate::error::{or_panic, Result};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// The smallest element, as a tensor of shape `[]`.
    ///
    /// # Errors
    /// `min` when the tensor is empty.
    #[track_caller]
    pub fn try_min(&self) -> Result<Tensor<F>> {
        Ok(self.neg().try_max().map_err(|e| e.in_op("min"))?.neg())
    }

    /// Panicking form of [`try_min`](Self::try_min).
    #[track_caller]
    pub fn min(&self) -> Tensor<F> {
        or_panic(self.try_min())
    }

    /// The minimum over `axes` (kept as size 1 with `keepdim`).
    ///
    /// # Errors
    /// `min` when an axis is out of range or a reduced axis is empty.
    #[track_caller]
    pub fn try_min_axes(&self, axes: &[impl crate::Dim], keepdim: bool) -> Result<Tensor<F>> {
        let max = self
            .neg()
            .try_max_axes(axes, keepdim)
            .map_err(|e| e.in_op("min"))?;
        Ok(max.neg())
    }

    /// Panicking form of [`try_min_axes`](Self::try_min_axes).
    #[track_caller]
    pub fn min_axes(&self, axes: &[impl crate::Dim], keepdim: bool) -> Tensor<F> {
        or_panic(self.try_min_axes(axes, keepdim))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn gradient_to_the_first_minimum_and_gradcheck() {
        let x = Tensor::<f64>::from_vec(vec![2.0, -1.0, -1.0], &[3]).requires_grad();
        x.min().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 1.0, 0.0]);
        assert!(Tensor::<f64>::from_vec(vec![1.0, f64::NAN], &[2])
            .min()
            .item()
            .is_nan());
        check(
            "min",
            |t| t[0].min_axes(&[0], false),
            &[uniform(&[4, 3], 1)],
        );
    }
}
