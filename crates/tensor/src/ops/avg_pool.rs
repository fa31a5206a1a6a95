//! `avg_pool2d` and `avg_pool1d`: the mean of each window (PyTorch's `F.avg_pool2d`,
//! `F.avg_pool1d`, floor mode), over an input padded with zeros.
//!
//! ```text
//! y[n, c, p, q] = (1/count) · Σ_{i < kh, j < kw} x̃[n, c, p·sh + i, q·sw + j]
//! count = kh·kw                      (count_include_pad = true, PyTorch's default)
//! count = taps inside the image      (count_include_pad = false)
//! ```
//!
//! A composite: each plane is unfolded into its windows `[N·C, kh·kw, OH·OW]`, summed over
//! the taps and divided by the (constant) counts. So the tape yields
//! ∂L/∂x = fold(∂L/∂y / count, broadcast over the taps): every pixel receives 1/count of the
//! gradient of each window it is in.
//!
//! ```
//! use tapegrad_tensor::{AvgPool2dOptions, Tensor};
//! let x = Tensor::<f32>::arange(0.0, 16.0, 1.0).reshape(&[1, 1, 4, 4]);
//! let y = x.avg_pool2d(AvgPool2dOptions::new([2, 2]));
//! assert_eq!(y.to_vec(), vec![2.5, 4.5, 10.5, 12.5]);
//! ```

use super::conv::window_of;
use super::max_pool::check_pool;
use crate::error::{or_panic, Result};
use crate::{Float, Tensor};

/// The settings of [`avg_pool2d`](Tensor::avg_pool2d) (D = 2) and
/// [`avg_pool1d`](Tensor::avg_pool1d) (D = 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AvgPoolOptions<const D: usize> {
    /// Window size per spatial axis.
    pub kernel: [usize; D],
    /// Step between windows; `None` (the default) means the kernel size, as in PyTorch.
    pub stride: Option<[usize; D]>,
    /// Zeros added on both sides of each spatial axis, at most half the kernel (default 0).
    pub padding: [usize; D],
    /// Whether padding zeros count in the divisor (default `true`, as in PyTorch).
    pub count_include_pad: bool,
}

impl<const D: usize> AvgPoolOptions<D> {
    /// Windows of `kernel`, stride = kernel, no padding, padding counted.
    #[track_caller]
    pub fn new(kernel: [usize; D]) -> Self {
        AvgPoolOptions {
            kernel,
            stride: None,
            padding: [0; D],
            count_include_pad: true,
        }
    }
}

/// Options of [`avg_pool2d`](Tensor::avg_pool2d).
pub type AvgPool2dOptions = AvgPoolOptions<2>;
/// Options of [`avg_pool1d`](Tensor::avg_pool1d).
pub type AvgPool1dOptions = AvgPoolOptions<1>;

#[track_caller]
fn avg_pool<F: Float, const D: usize>(
    op: &'static str,
    x: &Tensor<F>,
    options: &AvgPoolOptions<D>,
) -> Result<Tensor<F>> {
    let shape = x.shape().to_vec();
    let stride = check_pool(op, &shape, options.kernel, options.stride, options.padding)?;
    let window = window_of(
        &options.kernel,
        stride,
        [1; D],
        options.padding.map(|p| [p, p]),
    );
    let out = window.positions(op, &shape, &shape[2..])?;
    let (n, c) = (shape[0], shape[1]);
    let mut planes = vec![n * c, 1];
    planes.extend_from_slice(&shape[2..]);
    let sums = x.reshape(&planes).unfold(&window).sum_axes(&[1], false); // [N·C, OH·OW]
    let means = if options.count_include_pad {
        sums.mul_scalar(F::from_f64(1.0 / window.taps() as f64))
    } else {
        // Taps inside the image, per position: the windows of an image of ones.
        let mut one = vec![1, 1];
        one.extend_from_slice(&shape[2..]);
        let counts = Tensor::<F>::ones(&one)
            .unfold(&window)
            .sum_axes(&[1], false)
            .reshape(&[1, out[0] * out[1]]);
        sums.div(&counts)
    };
    let mut out_shape = vec![n, c];
    out_shape.extend_from_slice(&out[2 - D..]);
    Ok(means.into_reshape(&out_shape))
}

impl<F: Float> Tensor<F> {
    /// The mean of each window of `[N, C, H, W]`, giving `[N, C, OH, OW]` (see the module
    /// docs).
    ///
    /// # Errors
    /// `avg_pool2d` when the input is not rank 4, the kernel or stride has a zero, the
    /// padding exceeds half the kernel, or the kernel is larger than the padded input.
    #[track_caller]
    pub fn try_avg_pool2d(&self, options: AvgPool2dOptions) -> Result<Tensor<F>> {
        avg_pool("avg_pool2d", self, &options)
    }

    /// Panicking form of [`try_avg_pool2d`](Self::try_avg_pool2d).
    #[track_caller]
    pub fn avg_pool2d(&self, options: AvgPool2dOptions) -> Tensor<F> {
        or_panic(self.try_avg_pool2d(options))
    }

    /// The mean of each window of `[N, C, L]`, giving `[N, C, OL]`.
    ///
    /// # Errors
    /// As for [`try_avg_pool2d`](Self::try_avg_pool2d), named `avg_pool1d`, for rank 3.
    #[track_caller]
    pub fn try_avg_pool1d(&self, options: AvgPool1dOptions) -> Result<Tensor<F>> {
        avg_pool("avg_pool1d", self, &options)
    }

    /// Panicking form of [`try_avg_pool1d`](Self::try_avg_pool1d).
    #[track_caller]
    pub fn avg_pool1d(&self, options: AvgPool1dOptions) -> Tensor<F> {
        or_panic(self.try_avg_pool1d(options))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    #[test]
    fn values_with_and_without_counting_padding() {
        // 2×2 image [[1, 2], [3, 4]], kernel 2, stride 1, padding 1: 3×3 windows. The corner
        // window covers only 1: 1/4 counting the padding, 1/1 without; the middle one all four.
        let x = Tensor::<f64>::from_vec(vec![1., 2., 3., 4.], &[1, 1, 2, 2]);
        let o = AvgPool2dOptions {
            stride: Some([1, 1]),
            padding: [1, 1],
            ..AvgPool2dOptions::new([2, 2])
        };
        let y = x.avg_pool2d(o).to_vec();
        assert_eq!(y, vec![0.25, 0.75, 0.5, 1.0, 2.5, 1.5, 0.75, 1.75, 1.0]);
        let y = x
            .avg_pool2d(AvgPool2dOptions {
                count_include_pad: false,
                ..o
            })
            .to_vec();
        assert_eq!(y, vec![1.0, 1.5, 2.0, 2.0, 2.5, 3.0, 3.0, 3.5, 4.0]);
        let r = Tensor::<f64>::from_vec(vec![1., 3., 2., 6., 9.], &[1, 1, 5]);
        assert_eq!(
            r.avg_pool1d(AvgPool1dOptions::new([2])).to_vec(),
            vec![2., 4.]
        );
    }

    #[test]
    fn gradchecks_and_errors() {
        let d = AvgPool2dOptions::new([2, 2]);
        let cases = [
            d,
            AvgPool2dOptions {
                kernel: [3, 2],
                stride: Some([2, 1]),
                padding: [1, 1],
                count_include_pad: false,
            },
            AvgPool2dOptions {
                stride: Some([1, 3]),
                padding: [1, 0],
                ..d
            },
        ];
        for (k, o) in cases.into_iter().enumerate() {
            check(
                "avg_pool2d",
                |t| t[0].avg_pool2d(o),
                &[uniform(&[2, 3, 5, 6], k as u64)],
            );
        }
        check(
            "avg_pool1d",
            |t| t[0].avg_pool1d(AvgPool1dOptions::new([3])),
            &[uniform(&[2, 2, 7], 9)],
        );
        check_second_order(
            "avg_pool2d",
            |t| t[0].avg_pool2d(cases[1]).powf(3.0),
            &[uniform(&[1, 2, 4, 4], 5)],
        );
        let err = Tensor::<f32>::zeros(&[1, 1, 4, 4])
            .try_avg_pool2d(AvgPool2dOptions {
                padding: [0, 2],
                ..AvgPool2dOptions::new([2, 2])
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "avg_pool2d: [1, 1, 4, 4]: padding [0, 2] must be at most half the kernel [2, 2]"
        );
    }
}
