//! `narrow`: the elements `start..start + len` along one axis (PyTorch's `narrow`), and the
//! composite `slice`, one range per axis.
//!
//! ```
//! use tapegrad_tensor::Tensor;
//! let x = Tensor::<f32>::arange(0.0, 12.0, 1.0).reshape(&[3, 4]);
//! assert_eq!(x.narrow(1, 1, 2).to_vec(), vec![1.0, 2.0, 5.0, 6.0, 9.0, 10.0]);
//! assert_eq!(x.slice(&[1..3, 0..1]).to_vec(), vec![4.0, 8.0]);
//! ```

use std::ops::Range;

use ndarray::{Axis, Slice};
use smallvec::smallvec;

use super::materialize;
use crate::error::{or_panic, Result, TensorError};
use crate::forward::{Dots, JvpCtx};
use crate::shape::{axis_index, Dim};
use crate::tape::{record, BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor};

impl<F: Float> Tensor<F> {
    /// Elements `start..start + len` along `axis`.
    ///
    /// # Errors
    /// `narrow` when the axis is out of range or the range does not fit in it.
    #[track_caller]
    pub fn try_narrow(&self, axis: impl Dim, start: usize, len: usize) -> Result<Tensor<F>> {
        let axis = axis_index("narrow", axis, self.shape())?;
        let size = self.shape()[axis];
        if start.checked_add(len).is_none_or(|end| end > size) {
            return Err(TensorError::InvalidArgument {
                op: "narrow",
                shape: self.shape().to_vec(),
                rule: format!(
                    "range {start}..{} does not fit axis {axis} of size {size}",
                    start.saturating_add(len)
                ),
            });
        }
        let value = self.value();
        let out = materialize(value.slice_axis(Axis(axis), Slice::from(start..start + len)));
        let op = Op::Narrow {
            axis,
            start,
            len,
            size,
        };
        record(op, &[self], out, &[])
    }

    /// Panicking form of [`try_narrow`](Self::try_narrow).
    #[track_caller]
    pub fn narrow(&self, axis: impl Dim, start: usize, len: usize) -> Tensor<F> {
        or_panic(self.try_narrow(axis, start, len))
    }

    /// The sub-tensor with `ranges[k]` along axis `k`; axes past `ranges.len()` are kept
    /// whole (NumPy's `x[1:3, 0:1]`). A composite: one `narrow` per axis that is cut.
    ///
    /// # Errors
    /// `slice` when there are more ranges than axes, or a range runs backwards or does not fit.
    #[track_caller]
    pub fn try_slice(&self, ranges: &[Range<usize>]) -> Result<Tensor<F>> {
        if ranges.len() > self.ndim() {
            return Err(TensorError::InvalidArgument {
                op: "slice",
                shape: self.shape().to_vec(),
                rule: format!("{} ranges for {} axes", ranges.len(), self.ndim()),
            });
        }
        if let Some((axis, range)) = ranges.iter().enumerate().find(|(_, r)| r.start > r.end) {
            return Err(TensorError::InvalidArgument {
                op: "slice",
                shape: self.shape().to_vec(),
                rule: format!("range {range:?} for axis {axis} runs backwards"),
            });
        }
        let mut out = self.clone();
        for (axis, range) in ranges.iter().enumerate() {
            if *range != (0..self.shape()[axis]) {
                out = out
                    .try_narrow(axis, range.start, range.len())
                    .map_err(|e| e.in_op("slice"))?;
            }
        }
        Ok(out)
    }

    /// Panicking form of [`try_slice`](Self::try_slice).
    #[track_caller]
    pub fn slice(&self, ranges: &[Range<usize>]) -> Tensor<F> {
        or_panic(self.try_slice(ranges))
    }
}

// y = x[start..start + len] along an axis: each kept element passes its gradient straight
// back, the cut ones get 0, so ∂L/∂x = ∂L/∂y padded with zeros to x's extent.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::Narrow {
        axis,
        start,
        len,
        size,
    } = *ctx.op
    else {
        unreachable!("narrow rule on {:?}", ctx.op)
    };
    smallvec![Some(grad_out.pad(axis, start, size - start - len))]
}

// y = x[start..start + len]: linear, so ẏ = ẋ[start..start + len].
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::Narrow {
        axis, start, len, ..
    } = *ctx.op
    else {
        unreachable!("narrow rule on {:?}", ctx.op)
    };
    Some(dots[0].as_ref()?.narrow(axis, start, len))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::Tensor;

    #[test]
    fn windows_of_one_input_add_their_gradients_in_place() {
        // L = Σ x[0..2]·1 + Σ x[1..4]·10 + Σ x·100: each element's gradient counts the windows
        // that hold it. The first-order sweep adds each window straight into x's adjoint
        // (whatever the order the adjoints arrive in); the recorded sweep pads and adds.
        let x = Tensor::<f64>::zeros(&[4, 2]).requires_grad();
        let loss = x.narrow(0, 0, 2).sum() + x.narrow(0, 1, 3).sum() * 10.0 + x.sum() * 100.0;
        let want = [101.0, 101.0, 111.0, 111.0, 110.0, 110.0, 110.0, 110.0];
        let recorded = crate::grad(&loss, &[&x], true).unwrap().remove(0);
        assert_eq!(recorded.to_vec(), want);
        loss.backward();
        assert_eq!(x.grad().unwrap().to_vec(), want);
    }

    #[test]
    fn analytic_gradient_gradcheck_and_errors() {
        // Σ x[1..3] has gradient [0, 1, 1, 0].
        let x = Tensor::<f64>::zeros(&[4]).requires_grad();
        x.narrow(0, 1, 2).sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 1.0, 1.0, 0.0]);
        check("narrow", |t| t[0].narrow(1, 1, 2), &[uniform(&[3, 4], 1)]);
        check("narrow", |t| t[0].narrow(0, 2, 0), &[uniform(&[3, 2], 2)]);
        check(
            "slice",
            |t| t[0].slice(&[0..1, 1..3]),
            &[uniform(&[2, 4, 2], 3)],
        );
        let x = Tensor::<f32>::zeros(&[3, 4]);
        assert_eq!(
            x.try_narrow(1, 3, 2).unwrap_err().to_string(),
            "narrow: [3, 4]: range 3..5 does not fit axis 1 of size 4"
        );
        assert_eq!(
            x.try_slice(&[0..1, 0..1, 0..1]).unwrap_err().to_string(),
            "slice: [3, 4]: 3 ranges for 2 axes"
        );
    }
}
