//! `max_pool2d` and `max_pool1d`: the largest value in each window (PyTorch's `F.max_pool2d`,
//! `F.max_pool1d`), windows of `kernel` taps every `stride` (default: the kernel, so windows
//! tile the image), over an input padded with −∞ (padding at most half the kernel, as in
//! PyTorch, so that no window is all padding).
//!
//! ```text
//! y[n, c, p, q] = max_{i < kh, j < kw} x̃[n, c, p·sh + i, q·sw + j]       x̃: x padded with −∞
//! OH = ⌊(H + 2·ph − kh)/sh⌋ + 1                                          (floor mode)
//! ```
//!
//! A primitive that is a `gather` in disguise: the forward pass finds each window's first
//! maximum and remembers its position in the flattened plane (a constant: it does not move
//! under an infinitesimal change of x); the rule adds the output gradient at those
//! positions (a `scatter_add`, whose own rule is a gather, so second-order gradients pass
//! through too).
//!
//! NOTE: when several elements of a window tie for the maximum, the whole gradient goes to the
//! first in row-major order within the window (PyTorch's rule); a NaN counts as the maximum.
//!
//! ```
//! use tapegrad_tensor::{MaxPool2dOptions, Tensor};
//! let x = Tensor::<f32>::arange(0.0, 16.0, 1.0).reshape(&[1, 1, 4, 4]);
//! let y = x.max_pool2d(MaxPool2dOptions::new([2, 2]));
//! assert_eq!(y.to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
//! ```

use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use smallvec::smallvec;

use super::conv::window_of;
use super::unfold::contiguous;
use crate::error::{or_panic, Result, TensorError};
use crate::forward::{Dots, JvpCtx};
use crate::parallel::{self, RowsMut, RowsOf};
use crate::tape::{record, BackwardCtx, InputGrads, Op};
use crate::{pool, Float, Tensor};

/// The settings of [`max_pool2d`](Tensor::max_pool2d) (D = 2) and
/// [`max_pool1d`](Tensor::max_pool1d) (D = 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MaxPoolOptions<const D: usize> {
    /// Window size per spatial axis.
    pub kernel: [usize; D],
    /// Step between windows; `None` (the default) means the kernel size, as in PyTorch.
    pub stride: Option<[usize; D]>,
    /// −∞ added on both sides of each spatial axis, at most half the kernel (default 0).
    pub padding: [usize; D],
}

impl<const D: usize> MaxPoolOptions<D> {
    /// Windows of `kernel`, stride = kernel, no padding.
    #[track_caller]
    pub fn new(kernel: [usize; D]) -> Self {
        MaxPoolOptions {
            kernel,
            stride: None,
            padding: [0; D],
        }
    }
}

/// Options of [`max_pool2d`](Tensor::max_pool2d).
pub type MaxPool2dOptions = MaxPoolOptions<2>;
/// Options of [`max_pool1d`](Tensor::max_pool1d).
pub type MaxPool1dOptions = MaxPoolOptions<1>;

/// The pool checks shared with `avg_pool`: rank D + 2, kernel and stride without zeros,
/// padding at most half the kernel. Returns the stride.
#[track_caller]
pub(crate) fn check_pool<const D: usize>(
    op: &'static str,
    shape: &[usize],
    kernel: [usize; D],
    stride: Option<[usize; D]>,
    padding: [usize; D],
) -> Result<[usize; D]> {
    let invalid = |rule: String| TensorError::InvalidArgument {
        op,
        shape: shape.to_vec(),
        rule,
    };
    if shape.len() != D + 2 {
        return Err(invalid(format!(
            "{op} needs an input {}",
            if D == 1 { "[N, C, L]" } else { "[N, C, H, W]" }
        )));
    }
    let stride = stride.unwrap_or(kernel);
    for (name, v) in [("kernel", kernel), ("stride", stride)] {
        if v.contains(&0) {
            return Err(invalid(format!(
                "{name} {v:?} has a zero; it must be at least 1"
            )));
        }
    }
    if (0..D).any(|a| padding[a] > kernel[a] / 2) {
        return Err(invalid(format!(
            "padding {padding:?} must be at most half the kernel {kernel:?}"
        )));
    }
    Ok(stride)
}

/// Image planes read, and each plane's window maxima and their indices written.
type Planes<'a, F> = (RowsOf<'a, F>, RowsMut<'a, F>, RowsMut<'a, usize>);

/// Runs `window_loop(plane, maxima, indices)` on each image plane of `x` (`plane_len`
/// elements) and its `per_plane` outputs, the planes split among the threads.
fn each_plane<F: Float>(
    x: &[F],
    plane_len: usize,
    (maxima, indices): (&mut [F], &mut [usize]),
    per_plane: usize,
    window_loop: &(impl Fn(&[F], &mut [F], &mut [usize]) + Sync),
) {
    let planes = (
        RowsOf(x, plane_len),
        RowsMut(maxima, per_plane),
        RowsMut(indices, per_plane),
    );
    parallel::for_row_blocks(planes, x.len(), &|(x, maxima, indices): Planes<F>| {
        for ((plane, maxima), indices) in
            x.0.chunks_exact(plane_len)
                .zip(maxima.0.chunks_exact_mut(per_plane))
                .zip(indices.0.chunks_exact_mut(per_plane))
        {
            window_loop(plane, maxima, indices);
        }
    });
}

/// For each window of each plane: its maximum, and the flat index ih·W + iw of the first
/// maximum (a NaN counting as the maximum).
#[allow(clippy::too_many_arguments)]
fn pool_windows<F: Float>(
    x: &[F],
    planes: usize,
    hw: [usize; 2],
    out: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> (Vec<F>, Vec<usize>) {
    if kernel == [2, 2] && stride == [2, 2] && padding == [0, 0] {
        // fast path: the common 2×2/2 pool, two image rows at a time with the four taps
        // unrolled (the plain version is `pool_windows_general`; gain measured at `pool_2x2`)
        return pool_2x2(x, planes, hw, out);
    }
    pool_windows_general(x, planes, hw, out, kernel, stride, padding)
}

/// `pool_windows` for any kernel, stride and padding.
#[allow(clippy::too_many_arguments)]
fn pool_windows_general<F: Float>(
    x: &[F],
    planes: usize,
    hw: [usize; 2],
    out: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> (Vec<F>, Vec<usize>) {
    let (h, w) = (hw[0], hw[1]);
    let total = planes * out[0] * out[1];
    // Written through slices, not pushed: a call to grow a Vec inside the loop made the
    // compiler keep the running maximum in memory.
    let (mut maxima, mut indices) = (pool::buffer(total), vec![0; total]);
    // The rows and columns of each window inside the image (the −∞ padding never wins).
    let inside = |o: usize, a: usize, len: usize| {
        let start = o * stride[a];
        start.saturating_sub(padding[a])..(start + kernel[a]).saturating_sub(padding[a]).min(len)
    };
    let cols: Vec<_> = (0..out[1]).map(|q| inside(q, 1, w)).collect();
    let rows: Vec<_> = (0..out[0]).map(|p| inside(p, 0, h)).collect();
    let windows = rows
        .iter()
        .flat_map(|r| cols.iter().map(move |c| (r.clone(), c.clone())));
    let per_plane = out[0] * out[1];
    let window_loop = |plane: &[F], maxima: &mut [F], indices: &mut [usize]| {
        for (((rows, cols), max), index) in windows.clone().zip(maxima).zip(indices) {
            let mut best = rows.start * w + cols.start;
            let mut best_v = plane[best];
            let mut nan = false;
            for ih in rows.clone() {
                let at = ih * w + cols.start;
                for (k, &v) in plane[at..ih * w + cols.end].iter().enumerate() {
                    // Branch-free: on random data a branch on `v > best` mispredicts half the
                    // time. The index moves through a mask; `max` is one instruction.
                    let mask = usize::from(v > best_v).wrapping_neg();
                    best ^= (best ^ (at + k)) & mask;
                    best_v = best_v.max(v);
                    nan |= v.is_nan();
                }
            }
            if nan {
                // The first NaN is the window's maximum.
                let first = rows
                    .flat_map(|ih| (cols.clone()).map(move |iw| ih * w + iw))
                    .find(|&i| plane[i].is_nan())
                    .expect("a NaN was seen");
                (best, best_v) = (first, plane[first]);
            }
            *max = best_v;
            *index = best;
        }
    };
    each_plane(
        x,
        h * w,
        (&mut maxima, &mut indices),
        per_plane,
        &window_loop,
    );
    (maxima, indices)
}

/// `pool_windows` for kernel 2×2, stride 2, no padding: each window's four taps a, b (row
/// 2p) and c, d (row 2p + 1) compared in row-major order, so the first maximum wins ties;
/// a window with a NaN takes its first NaN. W6, 1 thread: max_pool's share of the samples
/// 22.6% → 9.0%, CPU time of a run 1.66 → 1.25–1.54 s (loaded machine).
fn pool_2x2<F: Float>(
    x: &[F],
    planes: usize,
    hw: [usize; 2],
    out: [usize; 2],
) -> (Vec<F>, Vec<usize>) {
    let (h, w) = (hw[0], hw[1]);
    let per_plane = out[0] * out[1];
    let (mut maxima, mut indices) = (
        pool::buffer(planes * per_plane),
        vec![0; planes * per_plane],
    );
    if per_plane == 0 {
        return (maxima, indices);
    }
    let window_loop = |plane: &[F], maxima: &mut [F], indices: &mut [usize]| {
        for (p, (maxima, indices)) in maxima
            .chunks_exact_mut(out[1])
            .zip(indices.chunks_exact_mut(out[1]))
            .enumerate()
        {
            let top = 2 * p * w;
            let (r0, r1) = (&plane[top..top + w], &plane[top + w..top + 2 * w]);
            for (q, (max, index)) in maxima.iter_mut().zip(indices.iter_mut()).enumerate() {
                let j = 2 * q;
                let (mut best_v, mut best) = (r0[j], top + j);
                let mut nan = best_v.is_nan();
                for (v, at) in [
                    (r0[j + 1], top + j + 1),
                    (r1[j], top + w + j),
                    (r1[j + 1], top + w + j + 1),
                ] {
                    // Branch-free, as in the general loop: `max` is one instruction and the
                    // index moves through a mask (branches mispredict on random data).
                    let mask = usize::from(v > best_v).wrapping_neg();
                    best ^= (best ^ at) & mask;
                    best_v = best_v.max(v);
                    nan |= v.is_nan();
                }
                if nan {
                    // The first NaN in row-major order is the window's maximum.
                    let first = [top + j, top + j + 1, top + w + j, top + w + j + 1]
                        .into_iter()
                        .find(|&i| plane[i].is_nan())
                        .expect("a NaN was seen");
                    (best, best_v) = (first, plane[first]);
                }
                *max = best_v;
                *index = best;
            }
        }
    };
    each_plane(
        x,
        h * w,
        (&mut maxima, &mut indices),
        per_plane,
        &window_loop,
    );
    (maxima, indices)
}

/// max_pool1d and max_pool2d on the 4-d view.
#[track_caller]
fn max_pool<F: Float, const D: usize>(
    op: &'static str,
    x: &Tensor<F>,
    options: &MaxPoolOptions<D>,
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
    let hw = if D == 1 {
        [1, shape[2]]
    } else {
        [shape[2], shape[3]]
    };
    let value = x.value();
    let (maxima, indices) = pool_windows(
        &contiguous(&value),
        n * c,
        hw,
        out,
        window.kernel,
        window.stride,
        [window.padding[0][0], window.padding[1][0]],
    );
    let indices = ArrayD::from_shape_vec(IxDyn(&[n, c, out[0] * out[1]]), indices)
        .expect("one index per window");
    let mut out_shape = vec![n, c];
    out_shape.extend_from_slice(&out[2 - D..]);
    let maxima = ArrayD::from_shape_vec(IxDyn(&out_shape), maxima).expect("one maximum per window");
    let op = Op::MaxPool {
        index: Arc::new(indices),
        input: shape.as_slice().into(),
    };
    record(op, &[x], maxima, &[])
}

impl<F: Float> Tensor<F> {
    /// The maximum of each window of `[N, C, H, W]`, giving `[N, C, OH, OW]` (see the
    /// module docs).
    ///
    /// # Errors
    /// `max_pool2d` when the input is not rank 4, the kernel or stride has a zero, the
    /// padding exceeds half the kernel, or the kernel is larger than the padded input.
    #[track_caller]
    pub fn try_max_pool2d(&self, options: MaxPool2dOptions) -> Result<Tensor<F>> {
        max_pool("max_pool2d", self, &options)
    }

    /// Panicking form of [`try_max_pool2d`](Self::try_max_pool2d).
    #[track_caller]
    pub fn max_pool2d(&self, options: MaxPool2dOptions) -> Tensor<F> {
        or_panic(self.try_max_pool2d(options))
    }

    /// The maximum of each window of `[N, C, L]`, giving `[N, C, OL]`.
    ///
    /// # Errors
    /// As for [`try_max_pool2d`](Self::try_max_pool2d), named `max_pool1d`, for rank 3.
    #[track_caller]
    pub fn try_max_pool1d(&self, options: MaxPool1dOptions) -> Result<Tensor<F>> {
        max_pool("max_pool1d", self, &options)
    }

    /// Panicking form of [`try_max_pool1d`](Self::try_max_pool1d).
    #[track_caller]
    pub fn max_pool1d(&self, options: MaxPool1dOptions) -> Tensor<F> {
        or_panic(self.try_max_pool1d(options))
    }
}

// y[n, c, k] = x[n, c, index[n, c, k]] in the flattened plane (the first maximum of window
// k): a gather, so ∂L/∂x adds each ∂L/∂y[n, c, k] at its window's maximum — a scatter_add
// of the flattened output gradient, whose own rule (a gather) makes the rule differentiable
// again. (A primitive rather than a composite of reshape and gather: the composite's two
// reshapes copied the whole image every step. With the branch-free window loop, W6's CPU
// time per step went 10.1 → about 7 ms, measured on a loaded 2-core machine.)
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::MaxPool { index, input } = ctx.op else {
        unreachable!("max_pool rule on {:?}", ctx.op)
    };
    let (n, c) = (input[0], input[1]);
    let plane: usize = input[2..].iter().product();
    let g = grad_out.value();
    if let (false, Some(g), Some(index)) = (ctx.create_graph(), g.as_slice(), index.as_slice()) {
        // fast path: when nothing records the rule, add each gradient at its maximum in one
        // pass, into the input's shape directly (the reshapes around scatter_add copied the
        // whole image)
        // zeroed plane by plane on the threads, as im2col's columns are
        let mut grad_x = pool::buffer(n * c * plane);
        let windows = index.len() / (n * c).max(1);
        if windows == 0 || plane == 0 {
            grad_x.fill(F::zero());
        } else {
            let work = grad_x.len() + 2 * index.len();
            let planes_of = (
                RowsMut(&mut grad_x, plane),
                RowsOf(g, windows),
                RowsOf(index, windows),
            );
            parallel::for_row_blocks(planes_of, work, &|(grad_x, g, index)| {
                for ((dest, g), index) in grad_x
                    .0
                    .chunks_exact_mut(plane)
                    .zip(g.0.chunks_exact(windows))
                    .zip(index.0.chunks_exact(windows))
                {
                    dest.fill(F::zero());
                    for (&g, &i) in g.iter().zip(index) {
                        dest[i] += g;
                    }
                }
            });
        }
        let grad_x = ArrayD::from_shape_vec(IxDyn(input), grad_x).expect("input's size");
        return smallvec![Some(Tensor::from_array(grad_x))];
    }
    let flat = grad_out.reshape(&[n, c, index.shape()[2]]);
    smallvec![Some(
        flat.scatter_add(2, Arc::clone(index), &[n, c, plane])
            .reshape(input)
    )]
}

// y[n, c, k] = x[n, c, index[n, c, k]]: a gather, so ẏ is ẋ gathered at the same maxima.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::MaxPool { index, input } = ctx.op else {
        unreachable!("max_pool rule on {:?}", ctx.op)
    };
    let plane: usize = input[2..].iter().product();
    let flat = dots[0].as_ref()?.reshape(&[input[0], input[1], plane]);
    Some(flat.gather(2, &**index).reshape(ctx.shape()))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    #[test]
    fn the_2x2_fast_path_matches_the_general_loop() {
        // Random planes, odd sizes (a last row or column no window reads), ties (values
        // rounded to a few levels) and NaNs, in f32 and f64.
        for (k, &(planes, h, w)) in [(1, 2, 2), (3, 5, 7), (2, 4, 9), (4, 7, 3), (1, 3, 2)]
            .iter()
            .enumerate()
        {
            let raw = uniform(&[planes * h * w], k as u64);
            let mut x: Vec<f64> = raw.iter().map(|v| (v * 3.0).round()).collect();
            if k % 2 == 1 {
                x[k] = f64::NAN;
                x[planes * h * w - 1] = f64::NAN;
            }
            let out = [h / 2, w / 2];
            let fast = pool_2x2(&x, planes, [h, w], out);
            let plain = pool_windows_general(&x, planes, [h, w], out, [2, 2], [2, 2], [0, 0]);
            assert_eq!(fast.1, plain.1, "indices, case {k}");
            let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fast.0), bits(&plain.0), "maxima, case {k}");
            let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
            let fast = pool_2x2(&x32, planes, [h, w], out);
            let plain = pool_windows_general(&x32, planes, [h, w], out, [2, 2], [2, 2], [0, 0]);
            assert_eq!(fast.1, plain.1, "f32 indices, case {k}");
        }
    }

    #[test]
    fn planes_split_among_threads_agree_with_one_plane_at_a_time() {
        // [6, 8, 48, 64]: 147,456 elements read per pass, enough to be split among the
        // threads (crate::parallel); each plane alone is not. Forward (both window loops) and
        // the one-pass backward, bit for bit.
        let (n, c, h, w) = (6, 8, 48, 64);
        let x = Tensor::<f64>::from_array(uniform(&[n, c, h, w], 3)).requires_grad();
        let general = MaxPool2dOptions {
            stride: Some([2, 3]),
            padding: [1, 1],
            ..MaxPool2dOptions::new([3, 3])
        };
        for options in [MaxPool2dOptions::new([2, 2]), general] {
            x.zero_grad();
            let y = x.max_pool2d(options);
            let g = Tensor::from_array(uniform(y.shape(), 4));
            y.backward_with(&g);
            let grad = x.grad().expect("x's gradient");
            for i in 0..n {
                for j in 0..c {
                    let plane = x.narrow(0, i, 1).narrow(1, j, 1).detach().requires_grad();
                    let one = plane.max_pool2d(options);
                    one.backward_with(&g.narrow(0, i, 1).narrow(1, j, 1));
                    let at = |t: &Tensor<f64>| t.narrow(0, i, 1).narrow(1, j, 1).to_vec();
                    assert_eq!(one.to_vec(), at(&y), "maxima of plane ({i}, {j})");
                    assert_eq!(
                        plane.grad().unwrap().to_vec(),
                        at(&grad),
                        "gradient ({i}, {j})"
                    );
                }
            }
        }
    }

    #[test]
    fn values_padding_and_stride() {
        // 3×3 image 0..9 with kernel 2, stride 1, padding 1: 4×4 windows, each the max of
        // the pixels it covers: the top-left window sees only x[0][0] = 0.
        let x = Tensor::<f64>::arange(0.0, 9.0, 1.0).reshape(&[1, 1, 3, 3]);
        let o = MaxPool2dOptions {
            stride: Some([1, 1]),
            padding: [1, 1],
            ..MaxPool2dOptions::new([2, 2])
        };
        let y = x.max_pool2d(o);
        assert_eq!(y.shape(), &[1, 1, 4, 4]);
        assert_eq!(
            y.to_vec(),
            vec![0., 1., 2., 2., 3., 4., 5., 5., 6., 7., 8., 8., 6., 7., 8., 8.]
        );
        // A NaN is the maximum of its window, and the gradient goes to it.
        let n = Tensor::<f64>::from_vec(vec![1., f64::NAN, 5., 2.], &[1, 1, 4]).requires_grad();
        let y = n.max_pool1d(MaxPool1dOptions::new([2]));
        assert!(y.to_vec()[0].is_nan() && y.to_vec()[1] == 5.0);
        y.backward_with(&Tensor::ones(&[1, 1, 2]));
        assert_eq!(n.grad().unwrap().to_vec(), vec![0., 1., 1., 0.]);
        // Floor mode: a 5-wide row with kernel 2 gives 2 windows, the last column unused.
        let r = Tensor::<f64>::from_vec(vec![1., 3., 2., 5., 9.], &[1, 1, 5]);
        assert_eq!(
            r.max_pool1d(MaxPool1dOptions::new([2])).to_vec(),
            vec![3., 5.]
        );
    }

    #[test]
    fn gradient_goes_to_the_first_maximum_of_a_tie() {
        // One 2×2 window [[7, 7], [1, 7]]: the gradient goes to (0, 0) only.
        let x = Tensor::<f64>::from_vec(vec![7., 7., 1., 7.], &[1, 1, 2, 2]).requires_grad();
        x.max_pool2d(MaxPool2dOptions::new([2, 2])).sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![1., 0., 0., 0.]);
        // Overlapping windows that share a maximum add their gradients there.
        let r = Tensor::<f64>::from_vec(vec![1., 9., 2.], &[1, 1, 3]).requires_grad();
        r.max_pool1d(MaxPool1dOptions {
            stride: Some([1]),
            ..MaxPool1dOptions::new([2])
        })
        .sum()
        .backward();
        assert_eq!(r.grad().unwrap().to_vec(), vec![0., 2., 0.]);
    }

    #[test]
    fn gradchecks() {
        // Values away from ties (distinct with probability 1), batch 2, non-square.
        let d = MaxPool2dOptions::new([2, 2]);
        let cases = [
            d,
            MaxPool2dOptions {
                kernel: [3, 2],
                stride: Some([2, 1]),
                padding: [1, 1],
            },
            MaxPool2dOptions {
                stride: Some([1, 3]),
                ..d
            },
        ];
        for (k, o) in cases.into_iter().enumerate() {
            check(
                "max_pool2d",
                |t| t[0].max_pool2d(o),
                &[uniform(&[2, 3, 5, 6], k as u64)],
            );
        }
        check(
            "max_pool1d",
            |t| {
                t[0].max_pool1d(MaxPool1dOptions {
                    padding: [1],
                    ..MaxPool1dOptions::new([3])
                })
            },
            &[uniform(&[2, 2, 7], 9)],
        );
        check_second_order(
            "max_pool2d",
            |t| t[0].max_pool2d(d).powf(3.0),
            &[uniform(&[1, 2, 4, 4], 5)],
        );
    }

    #[test]
    fn errors() {
        let msg = |r: Result<Tensor<f32>>| r.unwrap_err().to_string();
        let x = Tensor::<f32>::zeros(&[1, 1, 4, 4]);
        assert_eq!(
            msg(x.try_max_pool2d(MaxPool2dOptions {
                padding: [2, 0],
                ..MaxPool2dOptions::new([3, 3])
            })),
            "max_pool2d: [1, 1, 4, 4]: padding [2, 0] must be at most half the kernel [3, 3]"
        );
        assert_eq!(
            msg(x.try_max_pool2d(MaxPool2dOptions {
                stride: Some([0, 1]),
                ..MaxPool2dOptions::new([2, 2])
            })),
            "max_pool2d: [1, 1, 4, 4]: stride [0, 1] has a zero; it must be at least 1"
        );
        assert_eq!(
            msg(x.try_max_pool2d(MaxPool2dOptions::new([5, 1]))),
            "max_pool2d: [1, 1, 4, 4]: the kernel spans 5 along the height (kernel 5, dilation 1) but the padded input is only 4"
        );
        assert_eq!(
            msg(Tensor::zeros(&[4, 4]).try_max_pool2d(MaxPool2dOptions::new([2, 2]))),
            "max_pool2d: [4, 4]: max_pool2d needs an input [N, C, H, W]"
        );
    }
}
