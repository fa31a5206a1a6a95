//! `unfold`: sliding windows of an image laid out as columns (im2col, PyTorch's `F.unfold`) —
//! the primitive that turns a convolution into one matrix product.
//!
//! An input `[N, C, H, W]` (or `[N, C, L]`, a 1-d signal, treated as an image of height 1)
//! with a window of kernel `kh × kw`, stride, dilation and zero padding gives columns
//! `[N, C·kh·kw, OH·OW]`: column `l` holds the `C·kh·kw` input values under the window at
//! output position `l = oh·OW + ow`, zeros where the window hangs over the padding.
//!
//! ```text
//! cols[n, (c·kh + i)·kw + j, oh·OW + ow] = x[n, c, oh·sh + i·dh − top, ow·sw + j·dw − left]
//! OH = ⌊(H + top + bottom − dh·(kh − 1) − 1) / sh⌋ + 1      (OW alike)
//! ```
//!
//! Its adjoint is [`fold`](Tensor::fold) (col2im), which adds every column entry back into
//! the image position it was read from; each one's backward rule is the other, as for
//! `index_select` and `index_add`.
//!
//! Why this layout: for a fixed (c, i, j), the `OW` entries of one output row are one run of
//! a row of `cols`, read from one row of `x` (a plain slice copy when the stride is 1), and
//! the convolution is then `weight [O, C·kh·kw] · cols[n]`, a GEMM per image with no
//! transposes.
//!
//! ```
//! use tapegrad_tensor::{Tensor, Window};
//! // A 3×3 image, 2×2 windows: 4 positions, each column holds one window.
//! let x = Tensor::<f32>::arange(0.0, 9.0, 1.0).reshape(&[1, 1, 3, 3]);
//! let cols = x.unfold(&Window::new([2, 2]));
//! assert_eq!(cols.shape(), &[1, 4, 4]);
//! // Row 0 is the top-left element of each window, row 3 the bottom-right one.
//! assert_eq!(cols.to_vec()[..4], [0.0, 1.0, 3.0, 4.0]);
//! assert_eq!(cols.to_vec()[12..], [4.0, 5.0, 7.0, 8.0]);
//! ```

use ndarray::{ArrayD, IxDyn};
use smallvec::smallvec;

use super::materialize;
use crate::error::{or_panic, Result, TensorError};
use crate::forward::{Dots, JvpCtx};
use crate::parallel::{self, RowsMut, RowsOf};
use crate::tape::{record, BackwardCtx, InputGrads, Op};
use crate::{pool, Float, Tensor};

/// The sliding window of [`unfold`](Tensor::unfold) and [`fold`](Tensor::fold): entry 0 of
/// each pair is along the height, entry 1 along the width.
///
/// For a 1-d signal `[N, C, L]` only the width entries are used; the height entries must be
/// kernel 1, stride 1, dilation 1 and no padding ([`Window::new_1d`] sets them so).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    /// Kernel size `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Step between window positions `[sh, sw]` (default 1).
    pub stride: [usize; 2],
    /// Spacing between kernel taps `[dh, dw]` (default 1: taps are adjacent).
    pub dilation: [usize; 2],
    /// Zeros added around the image: `[[top, bottom], [left, right]]` (default none).
    pub padding: [[usize; 2]; 2],
}

impl Window {
    /// A `kh × kw` window, stride 1, dilation 1, no padding.
    #[track_caller]
    pub fn new(kernel: [usize; 2]) -> Self {
        Window {
            kernel,
            stride: [1, 1],
            dilation: [1, 1],
            padding: [[0, 0], [0, 0]],
        }
    }

    /// A 1-d window of `kernel` taps, for `[N, C, L]` signals.
    #[track_caller]
    pub fn new_1d(kernel: usize) -> Self {
        Window::new([1, kernel])
    }

    /// The same window with stride `[sh, sw]`.
    #[track_caller]
    pub fn with_stride(self, stride: [usize; 2]) -> Self {
        Window { stride, ..self }
    }

    /// The same window with dilation `[dh, dw]`.
    #[track_caller]
    pub fn with_dilation(self, dilation: [usize; 2]) -> Self {
        Window { dilation, ..self }
    }

    /// The same window with padding `[[top, bottom], [left, right]]`.
    #[track_caller]
    pub fn with_padding(self, padding: [[usize; 2]; 2]) -> Self {
        Window { padding, ..self }
    }

    /// How far one window reaches along axis `a`: d·(k − 1) + 1.
    fn span(&self, a: usize) -> usize {
        self.dilation[a] * (self.kernel[a] - 1) + 1
    }

    /// Taps per window, kh·kw.
    #[track_caller]
    pub(crate) fn taps(&self) -> usize {
        self.kernel[0] * self.kernel[1]
    }

    /// Checks the window on an image of spatial size `size` (1 or 2 entries) and returns the
    /// number of positions along height and width.
    #[track_caller]
    pub(crate) fn positions(
        &self,
        op: &'static str,
        shape: &[usize],
        size: &[usize],
    ) -> Result<[usize; 2]> {
        let invalid = |rule: String| TensorError::InvalidArgument {
            op,
            shape: shape.to_vec(),
            rule,
        };
        for (name, v) in [
            ("kernel", self.kernel),
            ("stride", self.stride),
            ("dilation", self.dilation),
        ] {
            if v.contains(&0) {
                return Err(invalid(format!(
                    "{name} {v:?} has a zero; it must be at least 1"
                )));
            }
        }
        let hw = image_hw(size);
        if size.len() == 1
            && (*self
                != Window {
                    kernel: [1, self.kernel[1]],
                    stride: [1, self.stride[1]],
                    dilation: [1, self.dilation[1]],
                    padding: [[0, 0], self.padding[1]],
                })
        {
            return Err(invalid(
                "a 1-d window needs kernel, stride and dilation 1 and no padding along the height (use Window::new_1d)".into(),
            ));
        }
        let mut out = [0; 2];
        for a in 0..2 {
            let padded = hw[a] + self.padding[a][0] + self.padding[a][1];
            if padded < self.span(a) {
                let axis = ["height", "width"][a];
                return Err(invalid(format!(
                    "the kernel spans {} along the {axis} (kernel {}, dilation {}) but the padded input is only {padded}",
                    self.span(a),
                    self.kernel[a],
                    self.dilation[a]
                )));
            }
            out[a] = (padded - self.span(a)) / self.stride[a] + 1;
        }
        Ok(out)
    }
}

/// A spatial size of 1 or 2 entries as `[height, width]`.
pub(super) fn image_hw(size: &[usize]) -> [usize; 2] {
    match *size {
        [l] => [1, l],
        [h, w] => [h, w],
        _ => unreachable!("spatial sizes are checked to have 1 or 2 entries"),
    }
}

/// Everything the loops need: planes (n, c), image size, window, and positions.
#[derive(Clone, Copy)]
pub(super) struct Geometry {
    pub planes: usize,
    pub hw: [usize; 2],
    pub out: [usize; 2],
    pub window: Window,
}

impl Geometry {
    /// The `ow` for which the tap at width offset `j` reads inside the image, and the input
    /// column read at the first of them: iw = ow·sw + j·dw − left must lie in [0, W).
    fn width_run(&self, j: usize) -> (usize, usize, usize) {
        let w = &self.window;
        let (sw, left) = (w.stride[1], w.padding[1][0]);
        let offset = j * w.dilation[1];
        let lo = left.saturating_sub(offset).div_ceil(sw);
        let limit = self.hw[1] + left; // iw < W  ⇔  ow·sw + offset < W + left
        let hi = if limit > offset {
            (limit - offset).div_ceil(sw).min(self.out[1])
        } else {
            0
        };
        let lo = lo.min(hi);
        (lo, hi, (lo * sw + offset).saturating_sub(left))
    }

    /// Calls `f(image_row, column_row_offset, lo, hi, iw0)` for every run of one (c) plane:
    /// one per tap (i, j) and output row oh whose input row lies inside the image.
    fn for_each_run(&self, mut f: impl FnMut(usize, usize, usize, usize, usize)) {
        let w = &self.window;
        let positions = self.out[0] * self.out[1];
        let runs: Vec<(usize, usize, usize)> =
            (0..w.kernel[1]).map(|j| self.width_run(j)).collect();
        for i in 0..w.kernel[0] {
            for (j, &(lo, hi, iw0)) in runs.iter().enumerate() {
                let row = (i * w.kernel[1] + j) * positions;
                for oh in 0..self.out[0] {
                    let ih = oh * w.stride[0] + i * w.dilation[0];
                    if ih < w.padding[0][0] || ih - w.padding[0][0] >= self.hw[0] || lo == hi {
                        continue;
                    }
                    f(ih - w.padding[0][0], row + oh * self.out[1], lo, hi, iw0);
                }
            }
        }
    }
}

/// Runs `kernel(input_planes, output_planes)` over all `planes`, split among the threads
/// when there is enough work (`crate::parallel`).
fn split_planes<F: Float>(
    planes: usize,
    input: &[F],
    output: &mut [F],
    kernel: &(impl Fn(&[F], &mut [F]) + Sync),
) {
    let plane = |len: usize| len.checked_div(planes).unwrap_or(0);
    let work = input.len().max(output.len());
    parallel::for_row_blocks(
        (
            RowsOf(input, plane(input.len())),
            RowsMut(output, plane(output.len())),
        ),
        work,
        &|(input, output): (RowsOf<F>, RowsMut<F>)| kernel(input.0, output.0),
    );
}

/// im2col: `x` holds `planes` images of H×W; returns `[planes, kh·kw, OH·OW]` row-major.
fn unfold_kernel<F: Float>(x: &[F], g: &Geometry) -> Vec<F> {
    let (image_plane, cols_plane) = (g.hw[0] * g.hw[1], g.window.taps() * g.out[0] * g.out[1]);
    // zeroed plane by plane on the threads, where the padding's columns are: zeroing it all
    // on this thread first was 4% of a W6 step at one thread, more of the caller at two
    let mut cols = pool::buffer(g.planes * cols_plane);
    let sw = g.window.stride[1];
    let kernel = |image: &[F], cols: &mut [F]| {
        for (plane, dest) in image
            .chunks_exact(image_plane)
            .zip(cols.chunks_exact_mut(cols_plane))
        {
            dest.fill(F::zero());
            g.for_each_run(|ih, at, lo, hi, iw0| {
                let src = &plane[ih * g.hw[1]..(ih + 1) * g.hw[1]];
                let dest = &mut dest[at + lo..at + hi];
                if sw == 1 {
                    dest.copy_from_slice(&src[iw0..iw0 + dest.len()]);
                } else {
                    for (d, s) in dest.iter_mut().zip(src[iw0..].iter().step_by(sw)) {
                        *d = *s;
                    }
                }
            });
        }
    };
    if image_plane > 0 && cols_plane > 0 {
        split_planes(g.planes, x, &mut cols, &kernel);
    } else {
        cols.fill(F::zero());
    }
    cols
}

/// col2im: adds `[planes, kh·kw, OH·OW]` columns back into `planes` images of H×W.
pub(super) fn fold_kernel<F: Float>(cols: &[F], g: &Geometry) -> Vec<F> {
    let (image_plane, cols_plane) = (g.hw[0] * g.hw[1], g.window.taps() * g.out[0] * g.out[1]);
    // zeroed plane by plane on the threads, as in unfold_kernel
    let mut image = pool::buffer(g.planes * image_plane);
    let sw = g.window.stride[1];
    let kernel = |cols: &[F], image: &mut [F]| {
        for (plane, src) in image
            .chunks_exact_mut(image_plane)
            .zip(cols.chunks_exact(cols_plane))
        {
            plane.fill(F::zero());
            g.for_each_run(|ih, at, lo, hi, iw0| {
                let dest = &mut plane[ih * g.hw[1]..(ih + 1) * g.hw[1]];
                let src = &src[at + lo..at + hi];
                if sw == 1 {
                    for (d, s) in dest[iw0..iw0 + src.len()].iter_mut().zip(src) {
                        *d += *s;
                    }
                } else {
                    for (d, s) in dest[iw0..].iter_mut().step_by(sw).zip(src) {
                        *d += *s;
                    }
                }
            });
        }
    };
    if image_plane > 0 && cols_plane > 0 {
        split_planes(g.planes, cols, &mut image, &kernel);
    } else {
        image.fill(F::zero());
    }
    image
}

/// A standard-layout copy's elements (no copy when already contiguous).
pub(super) fn contiguous<F: Float>(x: &ArrayD<F>) -> std::borrow::Cow<'_, [F]> {
    match x.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(materialize(x.view()).into_raw_vec_and_offset().0),
    }
}

impl<F: Float> Tensor<F> {
    /// Sliding windows as columns (im2col): `[N, C, H, W]` or `[N, C, L]` to
    /// `[N, C·kh·kw, OH·OW]` (see the module docs for the formula).
    ///
    /// # Errors
    /// `unfold` when the input is not rank 3 or 4, the kernel, stride or dilation has a zero,
    /// a 1-d input gets a 2-d window, or the window is larger than the padded input.
    #[track_caller]
    pub fn try_unfold(&self, window: &Window) -> Result<Tensor<F>> {
        const OP: &str = "unfold";
        let shape = self.shape();
        if !(3..=4).contains(&shape.len()) {
            return Err(TensorError::InvalidArgument {
                op: OP,
                shape: shape.to_vec(),
                rule: "unfold needs [N, C, L] or [N, C, H, W]".into(),
            });
        }
        let size = &shape[2..];
        let out = window.positions(OP, shape, size)?;
        let g = Geometry {
            planes: shape[0] * shape[1],
            hw: image_hw(size),
            out,
            window: *window,
        };
        let value = self.value();
        let cols = unfold_kernel(&contiguous(&value), &g);
        let cols = ArrayD::from_shape_vec(
            IxDyn(&[shape[0], shape[1] * window.taps(), out[0] * out[1]]),
            cols,
        )
        .expect("one column entry per window tap");
        let op = Op::Unfold {
            window: Box::new(*window),
            size: size.into(),
        };
        record(op, &[self], cols, &[])
    }

    /// Panicking form of [`try_unfold`](Self::try_unfold).
    #[track_caller]
    pub fn unfold(&self, window: &Window) -> Tensor<F> {
        or_panic(self.try_unfold(window))
    }
}

// cols = unfold(x) copies x[n, c, ih, iw] into every column entry whose window tap lands on
// (ih, iw) (padding taps read a constant 0). So ∂L/∂x[n, c, ih, iw] is the sum of ∂L/∂cols
// over exactly those entries: ∂L/∂x = fold(∂L/∂cols), with the same window.
pub(crate) fn backward<F: Float>(ctx: &BackwardCtx<F>, grad_out: &Tensor<F>) -> InputGrads<F> {
    let Op::Unfold { window, size } = ctx.op else {
        unreachable!("unfold rule on {:?}", ctx.op)
    };
    smallvec![Some(grad_out.fold(size, window))]
}

// cols = unfold(x): linear, so ċols = unfold(ẋ), with the same window.
pub(crate) fn jvp<F: Float>(ctx: &JvpCtx<F>, dots: &Dots<F>) -> Option<Tensor<F>> {
    let Op::Unfold { window, .. } = ctx.op else {
        unreachable!("unfold rule on {:?}", ctx.op)
    };
    Some(dots[0].as_ref()?.unfold(window))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::Window;
    use crate::{grad, Tensor};

    /// unfold by the formula in the module doc, one element at a time.
    fn unfold_naive(x: &Tensor<f64>, w: &Window) -> Vec<f64> {
        let s = x.shape().to_vec();
        let (n, c, h, wd) = if s.len() == 3 {
            (s[0], s[1], 1, s[2])
        } else {
            (s[0], s[1], s[2], s[3])
        };
        let xv = x.to_vec();
        let oh = (h + w.padding[0][0] + w.padding[0][1] - w.dilation[0] * (w.kernel[0] - 1) - 1)
            / w.stride[0]
            + 1;
        let ow = (wd + w.padding[1][0] + w.padding[1][1] - w.dilation[1] * (w.kernel[1] - 1) - 1)
            / w.stride[1]
            + 1;
        let mut out = Vec::new();
        for b in 0..n {
            for ch in 0..c {
                for i in 0..w.kernel[0] {
                    for j in 0..w.kernel[1] {
                        for p in 0..oh {
                            for q in 0..ow {
                                let ih = (p * w.stride[0] + i * w.dilation[0]) as isize
                                    - w.padding[0][0] as isize;
                                let iw = (q * w.stride[1] + j * w.dilation[1]) as isize
                                    - w.padding[1][0] as isize;
                                let inside =
                                    ih >= 0 && iw >= 0 && (ih as usize) < h && (iw as usize) < wd;
                                out.push(if inside {
                                    xv[((b * c + ch) * h + ih as usize) * wd + iw as usize]
                                } else {
                                    0.0
                                });
                            }
                        }
                    }
                }
            }
        }
        out
    }

    fn windows() -> Vec<Window> {
        vec![
            Window::new([2, 2]),
            Window::new([3, 2])
                .with_stride([2, 1])
                .with_padding([[1, 1], [0, 1]]),
            Window::new([2, 3])
                .with_dilation([2, 1])
                .with_stride([1, 3])
                .with_padding([[0, 2], [2, 1]]),
            Window::new([3, 3]).with_padding([[1, 1], [1, 1]]),
        ]
    }

    #[test]
    fn unfold_matches_the_formula() {
        // A 1-d case, then 2-d windows with stride, dilation and asymmetric padding on a
        // non-square batch of 2×3 channels.
        let x = Tensor::from_array(uniform(&[2, 3, 5, 7], 1));
        for w in windows() {
            assert_eq!(x.unfold(&w).to_vec(), unfold_naive(&x, &w), "{w:?}");
        }
        let s = Tensor::from_array(uniform(&[2, 2, 9], 2));
        let w = Window::new_1d(3)
            .with_stride([1, 2])
            .with_dilation([1, 2])
            .with_padding([[0, 0], [1, 2]]);
        assert_eq!(s.unfold(&w).to_vec(), unfold_naive(&s, &w));
        // L = 9 padded to 12, the window spans 5, stride 2: ⌊(12 − 5)/2⌋ + 1 = 4 positions.
        assert_eq!(s.unfold(&w).shape(), &[2, 6, 4]);
    }

    #[test]
    fn fold_is_the_adjoint_of_unfold() {
        // ⟨unfold(x), c⟩ = ⟨x, fold(c)⟩ for every x and c: the defining property.
        let x = Tensor::from_array(uniform(&[2, 3, 5, 7], 3));
        for (k, w) in windows().into_iter().enumerate() {
            let cols = x.unfold(&w);
            let c = Tensor::from_array(uniform(cols.shape(), 10 + k as u64));
            let lhs = (&cols * &c).sum().item();
            let rhs = (&x * &c.fold(&[5, 7], &w)).sum().item();
            assert!((lhs - rhs).abs() < 1e-12, "{w:?}: {lhs} vs {rhs}");
        }
    }

    #[test]
    fn gradchecks_both_ways() {
        for (k, w) in windows().into_iter().enumerate() {
            check(
                "unfold",
                |t| t[0].unfold(&w),
                &[uniform(&[2, 2, 4, 5], k as u64)],
            );
            let positions = Tensor::<f64>::zeros(&[1, 1, 4, 5]).unfold(&w).shape()[2];
            check(
                "fold",
                |t| t[0].fold(&[4, 5], &w),
                &[uniform(&[1, 2 * w.taps(), positions], k as u64)],
            );
        }
    }

    #[test]
    fn second_order_through_unfold_and_fold() {
        // f(x) = Σ unfold(x)³: each pixel appears in m(p) columns, so f = Σₚ m(p)·xₚ³ and
        // ∂²f/∂xₚ² = 6·m(p)·xₚ, m = fold(unfold(ones)).
        let w = Window::new([2, 2]).with_padding([[1, 0], [0, 1]]);
        let x = Tensor::from_array(uniform(&[1, 1, 3, 3], 4)).requires_grad();
        let f = x.unfold(&w).powf(3.0).sum();
        let g = grad(&f, &[&x], true).unwrap().remove(0);
        let h = grad(&g.sum(), &[&x], false).unwrap().remove(0);
        let m = Tensor::<f64>::ones(&[1, 1, 3, 3])
            .unfold(&w)
            .fold(&[3, 3], &w);
        let want: Vec<f64> = m
            .to_vec()
            .iter()
            .zip(x.to_vec())
            .map(|(m, x)| 6.0 * m * x)
            .collect();
        for (a, b) in h.to_vec().iter().zip(want) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn errors_name_the_op_and_the_rule() {
        let x = Tensor::<f32>::zeros(&[1, 1, 2, 2]);
        let msg = |r: crate::Result<Tensor<f32>>| r.unwrap_err().to_string();
        assert_eq!(
            msg(x.try_unfold(&Window::new([3, 2]))),
            "unfold: [1, 1, 2, 2]: the kernel spans 3 along the height (kernel 3, dilation 1) but the padded input is only 2"
        );
        assert_eq!(
            msg(x.try_unfold(&Window::new([2, 2]).with_stride([0, 1]))),
            "unfold: [1, 1, 2, 2]: stride [0, 1] has a zero; it must be at least 1"
        );
        assert_eq!(
            msg(Tensor::<f32>::zeros(&[2, 2]).try_unfold(&Window::new([1, 1]))),
            "unfold: [2, 2]: unfold needs [N, C, L] or [N, C, H, W]"
        );
        assert!(
            msg(Tensor::<f32>::zeros(&[1, 1, 4]).try_unfold(&Window::new([2, 2])))
                .contains("a 1-d window needs")
        );
        assert_eq!(
            msg(Tensor::<f32>::zeros(&[1, 5, 4]).try_fold(&[3, 3], &Window::new([2, 2]))),
            "fold: [1, 5, 4]: columns for a 2×2 window over [3, 3] need a multiple of 4 rows and 4 positions"
        );
    }
}
