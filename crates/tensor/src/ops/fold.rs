//! `fold`: columns `[N, C·kh·kw, OH·OW]` summed back into an image (col2im, PyTorch's
//! `F.fold`) — the adjoint of [`unfold`](Tensor::unfold), used by its backward rule and by
//! `conv_transpose2d`. The window and the loops are shared with `unfold.rs`.

use ndarray::{ArrayD, IxDyn};
use smallvec::smallvec;

use super::unfold::{contiguous, fold_kernel, image_hw, Geometry};
use crate::error::{or_panic, Result, TensorError};
use crate::forward::{Dots, JvpCtx};
use crate::tape::{record, BackwardCtx, InputGrads, Op};
use crate::{Float, Tensor, Window};

impl<F: Float> Tensor<F> {
    /// The adjoint of [`unfold`](Self::unfold) (col2im, PyTorch's `F.fold`): columns
    /// `[N, C·kh·kw, OH·OW]` summed back into an image of spatial size `size` (`[H, W]`, or
    /// `[L]` for a 1-d signal), each entry added where `unfold` would have read it.
    ///
    /// ```text
    /// y[n, c, ih, iw] = Σ over (i, j, oh, ow) reading (ih, iw) of cols[n, (c·kh + i)·kw + j, oh·OW + ow]
    /// ```
    ///
    /// ```
    /// use tapegrad_tensor::{Tensor, Window};
    /// // fold(unfold(ones)) counts how many windows cover each pixel.
    /// let ones = Tensor::<f32>::ones(&[1, 1, 3, 3]);
    /// let window = Window::new([2, 2]);
    /// let counts = ones.unfold(&window).fold(&[3, 3], &window);
    /// assert_eq!(counts.to_vec(), vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]);
    /// ```
    ///
    /// # Errors
    /// `fold` when the columns are not rank 3, `size` has not 1 or 2 entries, the window is
    /// invalid for `size` (as for `unfold`), or the columns' shape does not fit: the middle
    /// axis must be a multiple of kh·kw and the last the number of window positions.
    #[track_caller]
    pub fn try_fold(&self, size: &[usize], window: &Window) -> Result<Tensor<F>> {
        const OP: &str = "fold";
        let shape = self.shape();
        if shape.len() != 3 || !(1..=2).contains(&size.len()) {
            return Err(TensorError::InvalidArgument {
                op: OP,
                shape: shape.to_vec(),
                rule: format!(
                    "fold needs columns [N, C·kh·kw, positions] and an output size [H, W] or [L], got size {size:?}"
                ),
            });
        }
        let out = window.positions(OP, shape, size)?;
        let taps = window.taps();
        if !shape[1].is_multiple_of(taps) || shape[2] != out[0] * out[1] {
            return Err(TensorError::InvalidArgument {
                op: OP,
                shape: shape.to_vec(),
                rule: format!(
                    "columns for a {}×{} window over {size:?} need a multiple of {taps} rows and {} positions",
                    window.kernel[0],
                    window.kernel[1],
                    out[0] * out[1]
                ),
            });
        }
        let channels = shape[1] / taps;
        let g = Geometry {
            planes: shape[0] * channels,
            hw: image_hw(size),
            out,
            window: *window,
        };
        let value = self.value();
        let image = fold_kernel(&contiguous(&value), &g);
        let mut image_shape = vec![shape[0], channels];
        image_shape.extend_from_slice(size);
        let image =
            ArrayD::from_shape_vec(IxDyn(&image_shape), image).expect("one value per pixel");
        let op = Op::Fold {
            window: Box::new(*window),
            size: size.into(),
        };
        record(op, &[self], image, &[])
    }

    /// Panicking form of [`try_fold`](Self::try_fold).
    #[track_caller]
    pub fn fold(&self, size: &[usize], window: &Window) -> Tensor<F> {
        or_panic(self.try_fold(size, window))
    }
}

// y = fold(cols) adds cols' entries into the pixels they map to, a linear map whose
// transpose reads each pixel back into every entry mapped to it: ∂L/∂cols = unfold(∂L/∂y).
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::Fold { window, .. } = ctx.op else {
        unreachable!("fold rule on {:?}", ctx.op)
    };
    smallvec![Some(grad_out.unfold(window))]
}

// y = fold(cols): linear, so ẏ = fold(ċols), with the same window.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::Fold { window, size } = ctx.op else {
        unreachable!("fold rule on {:?}", ctx.op)
    };
    Some(dots[0].as_ref()?.fold(size, window))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use crate::{Tensor, Window};

    #[test]
    fn hand_worked_overlap_and_gradcheck() {
        // Two 1-d columns of a 2-tap window, stride 1, over L = 3: [a, b] at positions 0 and
        // 1 of tap 0, [c, d] of tap 1 ⇒ y = [a, b + c, d].
        let cols = Tensor::<f64>::from_vec(vec![1.0, 2.0, 10.0, 20.0], &[1, 2, 2]);
        assert_eq!(
            cols.fold(&[3], &Window::new_1d(2)).to_vec(),
            vec![1.0, 12.0, 20.0]
        );
        let w = Window::new([2, 2])
            .with_stride([2, 1])
            .with_padding([[1, 0], [0, 0]]);
        check(
            "fold",
            |t| t[0].fold(&[3, 3], &w),
            &[uniform(&[2, 8, 4], 1)],
        );
    }
}
