//! Comparisons: `gt`, `ge`, `lt`, `le` against another tensor (broadcasting) or a scalar
//! (`gt_scalar`, …), PyTorch's `x > y`. They return a boolean mask, an `ndarray::ArrayD<bool>`
//! (see `where_cond` for why masks are plain arrays), and record nothing: a comparison is
//! piecewise constant, so it has no gradient, and no JVP rule either: its tangent is zero
//! (forward mode sees a constant, like reverse mode). As in IEEE arithmetic and PyTorch, every
//! comparison with NaN is false.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::from_vec(vec![-1.0, 0.0, 2.0, f32::NAN], &[4]);
//! assert_eq!(x.gt_scalar(0.0).flatten().to_vec(), vec![false, false, true, false]);
//! assert_eq!(x.le(&Tensor::scalar(0.0)).flatten().to_vec(), vec![true, true, false, false]);
//! ```

use ndarray::ArrayD;

use super::zip_map_to;
use crate::error::{or_panic, Result};
use crate::shape::broadcast_shapes;
use crate::{Float, Tensor};

macro_rules! comparisons {
    ($($name:ident, $try_name:ident, $scalar:ident, $label:literal, $sym:literal, $cmp:expr;)*) => {
        impl<F: Float> Tensor<F> {
            $(
                #[doc = concat!("Where `self ", $sym, " rhs`, elementwise, broadcasting both.")]
                ///
                /// # Errors
                #[doc = concat!("`", $label, ": cannot broadcast …` when the shapes do not broadcast.")]
                pub fn $try_name(&self, rhs: &Tensor<F>) -> Result<ArrayD<bool>> {
                    broadcast_shapes($label, self.shape(), rhs.shape())?;
                    Ok(zip_map_to(&self.value(), &rhs.value(), $cmp))
                }

                #[doc = concat!("Panicking form of [`", stringify!($try_name), "`](Self::", stringify!($try_name), ").")]
                #[track_caller]
                pub fn $name(&self, rhs: &Tensor<F>) -> ArrayD<bool> {
                    or_panic(self.$try_name(rhs))
                }

                #[doc = concat!("Where `self ", $sym, " c`, elementwise.")]
                pub fn $scalar(&self, c: F) -> ArrayD<bool> {
                    let cmp = $cmp;
                    self.value().mapv(|x| cmp(x, c))
                }
            )*
        }
    };
}

comparisons! {
    gt, try_gt, gt_scalar, "gt", ">", |x: F, y: F| x > y;
    ge, try_ge, ge_scalar, "ge", "≥", |x: F, y: F| x >= y;
    lt, try_lt, lt_scalar, "lt", "<", |x: F, y: F| x < y;
    le, try_le, le_scalar, "le", "≤", |x: F, y: F| x <= y;
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn values_broadcasting_nan_and_errors() {
        // [[1], [3]] against [2, 3]: row 0 is 1 vs (2, 3), row 1 is 3 vs (2, 3).
        let a = Tensor::<f64>::from_vec(vec![1.0, 3.0], &[2, 1]);
        let b = Tensor::<f64>::from_vec(vec![2.0, 3.0], &[2]);
        assert_eq!(a.gt(&b).flatten().to_vec(), vec![false, false, true, false]);
        assert_eq!(a.ge(&b).flatten().to_vec(), vec![false, false, true, true]);
        assert_eq!(a.lt(&b).flatten().to_vec(), vec![true, true, false, false]);
        assert_eq!(a.le(&b).flatten().to_vec(), vec![true, true, false, true]);
        assert_eq!(a.gt(&b).shape(), &[2, 2]);
        let nan = Tensor::<f64>::scalar(f64::NAN);
        for m in [nan.ge_scalar(0.0), nan.lt_scalar(0.0), nan.le(&nan)] {
            assert_eq!(m.flatten().to_vec(), vec![false]);
        }
        let err = a.try_lt(&Tensor::zeros(&[3, 2])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "lt: cannot broadcast [2, 1] with [3, 2]: dimension 0 is 2 vs 3"
        );
    }
}
