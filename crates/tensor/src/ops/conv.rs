//! `conv1d` and `conv2d`: cross-correlation of a batch of signals or images with a bank of
//! filters, with PyTorch's semantics (`F.conv1d`, `F.conv2d`): stride, zero padding (per
//! side, or `Same`/`Valid`), dilation and groups (depthwise included).
//!
//! ```text
//! y[n, o, p, q] = b[o] + Σ_{c ∈ group(o)} Σ_{i,j} w[o, c − c₀, i, j] · x̃[n, c, p·sh + i·dh, q·sw + j·dw]
//! ```
//!
//! where x̃ is x with its zero padding, x is `[N, C, H, W]`, the weight `[O, C/groups, kh, kw]`
//! and the bias `[O]`; the output is `[N, O, OH, OW]` with OH = ⌊(H + top + bottom −
//! dh·(kh − 1) − 1)/sh⌋ + 1. Group g reads input channels g·C/groups … and writes output
//! channels g·O/groups …; `conv1d` is the same on `[N, C, L]` with a `[O, C/groups, k]` weight.
//!
//! A composite: [`unfold`](Tensor::unfold) lays the windows out as columns
//! `[N, C·kh·kw, OH·OW]`, then one matrix product per image and group,
//! `w.reshape([O, C·kh·kw]) · cols[n]`, gives the output, and the bias is broadcast over it.
//! So the op needs no rule of its own: the tape yields
//!
//! ```text
//! ∂L/∂w = Σₙ ∂L/∂y[n] · cols[n]ᵀ,   ∂L/∂x = fold(wᵀ · ∂L/∂y[n]),   ∂L/∂b[o] = Σ_{n,p,q} ∂L/∂y[n, o, p, q]
//! ```
//!
//! ```
//! use tapegrad_tensor::{Conv2dOptions, Padding, Tensor};
//! // A 3×3 image of ones and a 2×2 filter of ones, padding 1: each output counts the pixels
//! // under its window.
//! let x = Tensor::<f32>::ones(&[1, 1, 3, 3]);
//! let w = Tensor::<f32>::ones(&[1, 1, 2, 2]);
//! let options = Conv2dOptions { padding: Padding::Symmetric([1, 1]), ..Default::default() };
//! let y = x.conv2d(&w, None, options);
//! assert_eq!(y.shape(), &[1, 1, 4, 4]);
//! assert_eq!(y.to_vec()[..4], [1.0, 2.0, 2.0, 1.0]);
//! ```

use crate::error::{or_panic, Result, TensorError};
use crate::{Float, Tensor, Window};

/// Zero padding of a convolution, per spatial axis (PyTorch's `padding` argument).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Padding<const D: usize> {
    /// `p[a]` zeros on both sides of spatial axis `a` (PyTorch's `padding=(ph, pw)`).
    Symmetric([usize; D]),
    /// `[before, after]` zeros per spatial axis, which may differ.
    Explicit([[usize; 2]; D]),
    /// As many zeros as keep the output the size of the input (PyTorch's `padding='same'`,
    /// stride 1 only): d·(k − 1) in all, half before; when that is odd the extra zero goes
    /// after (right, bottom), as in PyTorch.
    Same,
    /// No padding (PyTorch's `padding='valid'`).
    Valid,
}

impl<const D: usize> Default for Padding<D> {
    /// No padding, PyTorch's default `padding=0`.
    fn default() -> Self {
        Padding::Symmetric([0; D])
    }
}

/// The settings of [`conv1d`](Tensor::conv1d) (D = 1) and [`conv2d`](Tensor::conv2d)
/// (D = 2); `Default` gives PyTorch's: stride 1, padding 0, dilation 1, groups 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvOptions<const D: usize> {
    /// Step between output positions, per spatial axis.
    pub stride: [usize; D],
    /// Zero padding (see [`Padding`]).
    pub padding: Padding<D>,
    /// Spacing between kernel taps, per spatial axis.
    pub dilation: [usize; D],
    /// Channel groups: input and output channels are split into `groups` blocks, and block
    /// g of the output sees only block g of the input. `groups` = C is a depthwise conv.
    pub groups: usize,
}

impl<const D: usize> Default for ConvOptions<D> {
    fn default() -> Self {
        ConvOptions {
            stride: [1; D],
            padding: Padding::default(),
            dilation: [1; D],
            groups: 1,
        }
    }
}

/// Options of [`conv1d`](Tensor::conv1d).
pub type Conv1dOptions = ConvOptions<1>;
/// Options of [`conv2d`](Tensor::conv2d).
pub type Conv2dOptions = ConvOptions<2>;

/// Turns per-axis settings of a D-d op into the 2-d [`Window`] that `unfold` takes (a 1-d
/// signal is an image of height 1).
#[track_caller]
pub(crate) fn window_of<const D: usize>(
    kernel: &[usize],
    stride: [usize; D],
    dilation: [usize; D],
    padding: [[usize; 2]; D],
) -> Window {
    match D {
        1 => Window::new([1, kernel[0]])
            .with_stride([1, stride[0]])
            .with_dilation([1, dilation[0]])
            .with_padding([[0, 0], padding[0]]),
        _ => Window::new([kernel[0], kernel[1]])
            .with_stride([stride[0], stride[1]])
            .with_dilation([dilation[0], dilation[1]])
            .with_padding([padding[0], padding[1]]),
    }
}

/// What the layouts are called in messages.
#[track_caller]
pub(crate) fn layout(d: usize, image: &str) -> &'static str {
    match (d, image) {
        (1, "input") => "[N, C, L]",
        (1, _) => "[out, in/groups, k]",
        (_, "input") => "[N, C, H, W]",
        (_, _) => "[out, in/groups, kh, kw]",
    }
}

/// Checks that stride and dilation have no zero and that there are groups at all.
#[track_caller]
pub(crate) fn check_steps<const D: usize>(
    op: &'static str,
    shape: &[usize],
    stride: [usize; D],
    dilation: [usize; D],
    groups: usize,
) -> Result<()> {
    let invalid = |rule: String| TensorError::InvalidArgument {
        op,
        shape: shape.to_vec(),
        rule,
    };
    if stride.contains(&0) {
        return Err(invalid(format!(
            "stride {stride:?} has a zero; it must be at least 1"
        )));
    }
    if dilation.contains(&0) {
        return Err(invalid(format!(
            "dilation {dilation:?} has a zero; it must be at least 1"
        )));
    }
    if groups == 0 {
        return Err(invalid("groups must be at least 1".into()));
    }
    Ok(())
}

/// Checks a bias against the number of output channels.
#[track_caller]
pub(crate) fn check_bias<F: Float>(
    op: &'static str,
    weight: &[usize],
    bias: Option<&Tensor<F>>,
    out_channels: usize,
) -> Result<()> {
    match bias {
        Some(b) if b.shape() != [out_channels] => Err(TensorError::ShapeMismatch {
            op,
            lhs: weight.to_vec(),
            rhs: b.shape().to_vec(),
            rule: format!("the bias needs one entry per output channel, shape [{out_channels}]"),
        }),
        _ => Ok(()),
    }
}

/// conv1d and conv2d: the checks, then unfold · matmul (+ bias).
#[track_caller]
fn conv<F: Float, const D: usize>(
    op: &'static str,
    x: &Tensor<F>,
    w: &Tensor<F>,
    b: Option<&Tensor<F>>,
    options: &ConvOptions<D>,
) -> Result<Tensor<F>> {
    let (xs, ws) = (x.shape(), w.shape());
    if xs.len() != D + 2 {
        return Err(TensorError::InvalidArgument {
            op,
            shape: xs.to_vec(),
            rule: format!("{op} needs an input {}", layout(D, "input")),
        });
    }
    let mismatch = |rule: String| TensorError::ShapeMismatch {
        op,
        lhs: xs.to_vec(),
        rhs: ws.to_vec(),
        rule,
    };
    if ws.len() != D + 2 {
        return Err(mismatch(format!(
            "the weight must be {}",
            layout(D, "weight")
        )));
    }
    let ConvOptions {
        stride,
        padding,
        dilation,
        groups,
    } = *options;
    check_steps(op, xs, stride, dilation, groups)?;
    let (n, c, o, per_group) = (xs[0], xs[1], ws[0], ws[1]);
    if c % groups != 0 {
        return Err(mismatch(format!(
            "{c} input channels do not split into groups={groups}"
        )));
    }
    if o % groups != 0 {
        return Err(mismatch(format!(
            "the weight's {o} output channels do not split into groups={groups}"
        )));
    }
    if c / groups != per_group {
        return Err(mismatch(if groups == 1 {
            format!("{c} input channels but the weight expects {per_group}")
        } else {
            format!(
                "{c} input channels in groups={groups} give {} per group but the weight expects {per_group}",
                c / groups
            )
        }));
    }
    check_bias(op, ws, b, o)?;
    let kernel = &ws[2..];
    let padding = match padding {
        Padding::Symmetric(p) => p.map(|p| [p, p]),
        Padding::Explicit(p) => p,
        Padding::Valid => [[0, 0]; D],
        Padding::Same => {
            if stride.iter().any(|&s| s != 1) {
                return Err(TensorError::InvalidArgument {
                    op,
                    shape: xs.to_vec(),
                    rule: format!("padding Same needs stride 1, got stride {stride:?}"),
                });
            }
            let mut p = [[0, 0]; D];
            for a in 0..D {
                let total = dilation[a] * kernel[a].saturating_sub(1);
                p[a] = [total / 2, total - total / 2];
            }
            p
        }
    };
    let window = window_of(kernel, stride, dilation, padding);
    let positions = window.positions(op, xs, &xs[2..])?;
    let cols = x.try_unfold(&window).map_err(|e| e.in_op(op))?; // [N, C·k, L]
    let taps = window.taps();
    let len = cols.shape()[2];
    let y = if groups == 1 {
        w.reshape(&[o, c * taps]).matmul(&cols) // [N, O, L]
    } else {
        let cols = cols.into_reshape(&[n, groups, per_group * taps, len]);
        w.reshape(&[groups, o / groups, per_group * taps])
            .matmul(&cols) // [N, groups, O/groups, L]
            .into_reshape(&[n, o, len])
    };
    let y = match b {
        Some(b) => y.add_channel_bias(b),
        None => y,
    };
    let mut out = vec![n, o];
    out.extend_from_slice(&positions[2 - D..]);
    Ok(y.into_reshape(&out))
}

impl<F: Float> Tensor<F> {
    /// 2-d cross-correlation of `[N, C, H, W]` with `weight` `[O, C/groups, kh, kw]`, plus
    /// `bias` `[O]` if given (see the module docs).
    ///
    /// # Errors
    /// `conv2d` when the input is not rank 4, the weight not rank 4, its channels do not
    /// match the input's (`conv2d: [8, 3, 5, 5] and [16, 4, 3, 3]: 3 input channels but the
    /// weight expects 4`), the groups do not divide the channels, the bias is not `[O]`, a
    /// stride or dilation is zero, `Same` padding has a stride above 1, or the kernel is
    /// larger than the padded input.
    #[track_caller]
    pub fn try_conv2d(
        &self,
        weight: &Tensor<F>,
        bias: Option<&Tensor<F>>,
        options: Conv2dOptions,
    ) -> Result<Tensor<F>> {
        conv("conv2d", self, weight, bias, &options)
    }

    /// Panicking form of [`try_conv2d`](Self::try_conv2d).
    #[track_caller]
    pub fn conv2d(
        &self,
        weight: &Tensor<F>,
        bias: Option<&Tensor<F>>,
        options: Conv2dOptions,
    ) -> Tensor<F> {
        or_panic(self.try_conv2d(weight, bias, options))
    }

    /// 1-d cross-correlation of `[N, C, L]` with `weight` `[O, C/groups, k]`, plus `bias`
    /// `[O]` if given: `conv2d` on signals of height 1.
    ///
    /// ```
    /// use tapegrad_tensor::{Conv1dOptions, Tensor};
    /// // A difference filter [−1, 1] over [1, 4, 9, 16]: [3, 5, 7].
    /// let x = Tensor::<f32>::from_vec(vec![1.0, 4.0, 9.0, 16.0], &[1, 1, 4]);
    /// let w = Tensor::<f32>::from_vec(vec![-1.0, 1.0], &[1, 1, 2]);
    /// assert_eq!(x.conv1d(&w, None, Conv1dOptions::default()).to_vec(), vec![3.0, 5.0, 7.0]);
    /// ```
    ///
    /// # Errors
    /// As for [`try_conv2d`](Self::try_conv2d), named `conv1d`, for rank-3 shapes.
    #[track_caller]
    pub fn try_conv1d(
        &self,
        weight: &Tensor<F>,
        bias: Option<&Tensor<F>>,
        options: Conv1dOptions,
    ) -> Result<Tensor<F>> {
        conv("conv1d", self, weight, bias, &options)
    }

    /// Panicking form of [`try_conv1d`](Self::try_conv1d).
    #[track_caller]
    pub fn conv1d(
        &self,
        weight: &Tensor<F>,
        bias: Option<&Tensor<F>>,
        options: Conv1dOptions,
    ) -> Tensor<F> {
        or_panic(self.try_conv1d(weight, bias, options))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;

    /// conv2d by its definition, one output element at a time; padding [[top, bottom],
    /// [left, right]].
    fn conv2d_naive(
        x: &Tensor<f64>,
        w: &Tensor<f64>,
        b: Option<&Tensor<f64>>,
        stride: [usize; 2],
        pad: [[usize; 2]; 2],
        dil: [usize; 2],
        groups: usize,
    ) -> (Vec<usize>, Vec<f64>) {
        let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
        let (xv, wv) = (x.to_vec(), w.to_vec());
        let (n, c, h, wd, o, cg, kh, kw) = (xs[0], xs[1], xs[2], xs[3], ws[0], ws[1], ws[2], ws[3]);
        let oh = (h + pad[0][0] + pad[0][1] - dil[0] * (kh - 1) - 1) / stride[0] + 1;
        let ow = (wd + pad[1][0] + pad[1][1] - dil[1] * (kw - 1) - 1) / stride[1] + 1;
        let mut out = Vec::new();
        for bn in 0..n {
            for oc in 0..o {
                let g = oc / (o / groups);
                for p in 0..oh {
                    for q in 0..ow {
                        let mut s = b.map_or(0.0, |b| b.to_vec()[oc]);
                        for ci in 0..cg {
                            let ch = g * cg + ci;
                            for i in 0..kh {
                                for j in 0..kw {
                                    let ih =
                                        (p * stride[0] + i * dil[0]) as isize - pad[0][0] as isize;
                                    let iw =
                                        (q * stride[1] + j * dil[1]) as isize - pad[1][0] as isize;
                                    if ih >= 0 && iw >= 0 && (ih as usize) < h && (iw as usize) < wd
                                    {
                                        s += wv[((oc * cg + ci) * kh + i) * kw + j]
                                            * xv[((bn * c + ch) * h + ih as usize) * wd
                                                + iw as usize];
                                    }
                                }
                            }
                        }
                        out.push(s);
                    }
                }
            }
        }
        (vec![n, o, oh, ow], out)
    }

    /// (input shape, weight shape, options): batch 1 and > 1, non-square images, stride,
    /// symmetric, asymmetric and same padding, dilation, groups, depthwise.
    fn cases() -> Vec<([usize; 4], [usize; 4], Conv2dOptions)> {
        let d = Conv2dOptions::default();
        vec![
            ([1, 1, 4, 5], [2, 1, 3, 3], d),
            (
                [2, 3, 5, 4],
                [4, 3, 2, 3],
                Conv2dOptions {
                    stride: [2, 1],
                    padding: Padding::Symmetric([1, 2]),
                    ..d
                },
            ),
            (
                [2, 2, 6, 5],
                [3, 2, 2, 2],
                Conv2dOptions {
                    padding: Padding::Explicit([[0, 1], [2, 0]]),
                    dilation: [2, 1],
                    ..d
                },
            ),
            (
                [1, 2, 5, 6],
                [2, 2, 2, 3],
                Conv2dOptions {
                    padding: Padding::Same,
                    ..d
                },
            ),
            (
                [2, 4, 4, 4],
                [6, 2, 3, 1],
                Conv2dOptions {
                    groups: 2,
                    stride: [1, 2],
                    padding: Padding::Symmetric([1, 0]),
                    ..d
                },
            ),
            (
                [2, 3, 5, 5],
                [3, 1, 3, 3],
                Conv2dOptions {
                    groups: 3,
                    dilation: [1, 2],
                    padding: Padding::Same,
                    ..d
                },
            ),
        ]
    }

    fn resolved_padding(o: &Conv2dOptions, k: [usize; 2]) -> [[usize; 2]; 2] {
        match o.padding {
            Padding::Symmetric(p) => p.map(|p| [p, p]),
            Padding::Explicit(p) => p,
            Padding::Valid => [[0, 0]; 2],
            Padding::Same => [0, 1].map(|a| {
                let t = o.dilation[a] * (k[a] - 1);
                [t / 2, t - t / 2]
            }),
        }
    }

    #[test]
    fn hand_worked_values() {
        // x = [[1, 2, 3], [4, 5, 6], [7, 8, 9]], w = [[1, 0], [0, −1]], b = 10:
        // y[p][q] = 10 + x[p][q] − x[p+1][q+1] = 10 − 4 = 6 everywhere ([2, 2]).
        let x = Tensor::<f64>::arange(1.0, 10.0, 1.0).reshape(&[1, 1, 3, 3]);
        let w = Tensor::<f64>::from_vec(vec![1.0, 0.0, 0.0, -1.0], &[1, 1, 2, 2]);
        let b = Tensor::<f64>::from_vec(vec![10.0], &[1]);
        let y = x.conv2d(&w, Some(&b), Conv2dOptions::default());
        assert_eq!((y.shape(), y.to_vec()), (&[1, 1, 2, 2][..], vec![6.0; 4]));
        // Stride 2 with padding 1 on the same image: the windows' top-left taps sit at (−1, −1),
        // (−1, 1), (1, −1), (1, 1); only the last reads a pixel there, so y = 10 − x[0][0],
        // 10 − x[0][2], 10 − x[2][0], 10 + x[1][1] − x[2][2] = [9, 7, 3, 6].
        let options = Conv2dOptions {
            stride: [2, 2],
            padding: Padding::Symmetric([1, 1]),
            ..Default::default()
        };
        assert_eq!(
            x.conv2d(&w, Some(&b), options).to_vec(),
            vec![9.0, 7.0, 3.0, 6.0]
        );
    }

    #[test]
    fn forward_matches_the_definition() {
        for (k, (xs, ws, o)) in cases().into_iter().enumerate() {
            let x = Tensor::from_array(uniform(&xs, k as u64));
            let w = Tensor::from_array(uniform(&ws, 10 + k as u64));
            let b = Tensor::from_array(uniform(&[ws[0]], 20 + k as u64));
            let y = x.conv2d(&w, Some(&b), o);
            let pad = resolved_padding(&o, [ws[2], ws[3]]);
            let (shape, want) = conv2d_naive(&x, &w, Some(&b), o.stride, pad, o.dilation, o.groups);
            assert_eq!(y.shape(), shape.as_slice(), "case {k}");
            for (a, b) in y.to_vec().iter().zip(want) {
                assert!((a - b).abs() < 1e-12, "case {k}: {a} vs {b}");
            }
            if o.padding == Padding::Same {
                assert_eq!(&y.shape()[2..], &xs[2..], "same padding keeps the size");
            }
        }
    }

    #[test]
    fn gradchecks_over_options() {
        for (k, (xs, ws, o)) in cases().into_iter().enumerate() {
            let inputs = [
                uniform(&xs, k as u64),
                uniform(&ws, 10 + k as u64),
                uniform(&[ws[0]], 20 + k as u64),
            ];
            check("conv2d", |t| t[0].conv2d(&t[1], Some(&t[2]), o), &inputs);
        }
        check(
            "conv2d",
            |t| t[0].conv2d(&t[1], None, Conv2dOptions::default()),
            &[uniform(&[1, 1, 3, 3], 1), uniform(&[1, 1, 3, 3], 2)],
        );
    }

    #[test]
    fn conv1d_is_conv2d_of_height_one() {
        let x = uniform(&[2, 4, 9], 1);
        let w = uniform(&[6, 2, 3], 2);
        let b = uniform(&[6], 3);
        let o1 = Conv1dOptions {
            stride: [2],
            padding: Padding::Explicit([[2, 1]]),
            dilation: [2],
            groups: 2,
        };
        let o2 = Conv2dOptions {
            stride: [1, 2],
            padding: Padding::Explicit([[0, 0], [2, 1]]),
            dilation: [1, 2],
            groups: 2,
        };
        let (xt, wt, bt) = (
            Tensor::from_array(x.clone()),
            Tensor::from_array(w.clone()),
            Tensor::from_array(b.clone()),
        );
        let y1 = xt.conv1d(&wt, Some(&bt), o1);
        let y2 = xt.unsqueeze(2).conv2d(&wt.unsqueeze(2), Some(&bt), o2);
        // L = 9 padded to 12, the window spans 5, stride 2: 4 positions.
        assert_eq!(y1.shape(), &[2, 6, 4]);
        assert_eq!(y1.to_vec(), y2.to_vec());
        check(
            "conv1d",
            |t| t[0].conv1d(&t[1], Some(&t[2]), o1),
            &[x, w, b],
        );
        let same = Conv1dOptions {
            padding: Padding::Same,
            ..Default::default()
        };
        check(
            "conv1d",
            |t| t[0].conv1d(&t[1], None, same),
            &[uniform(&[1, 2, 5], 4), uniform(&[3, 2, 4], 5)],
        );
        assert_eq!(
            Tensor::<f64>::zeros(&[1, 2, 5])
                .conv1d(&Tensor::zeros(&[3, 2, 4]), None, same)
                .shape(),
            &[1, 3, 5]
        );
    }

    #[test]
    fn second_order_through_conv() {
        // x ↦ Σ r ⊙ conv2d(x, w)² has a Hessian in both x and w; HVPs must match differences.
        let o = Conv2dOptions {
            stride: [2, 1],
            padding: Padding::Symmetric([1, 1]),
            groups: 2,
            ..Default::default()
        };
        check_second_order(
            "conv2d",
            |t| t[0].conv2d(&t[1], Some(&t[2]), o).powf(2.0),
            &[
                uniform(&[2, 4, 4, 3], 1),
                uniform(&[2, 2, 2, 2], 2),
                uniform(&[2], 3),
            ],
        );
    }

    #[test]
    fn errors_name_the_op_shapes_and_rule() {
        let msg = |r: Result<Tensor<f32>>| r.unwrap_err().to_string();
        let x = Tensor::<f32>::zeros(&[8, 3, 5, 5]);
        let d = Conv2dOptions::default();
        assert_eq!(
            msg(x.try_conv2d(&Tensor::zeros(&[16, 4, 3, 3]), None, d)),
            "conv2d: [8, 3, 5, 5] and [16, 4, 3, 3]: 3 input channels but the weight expects 4"
        );
        assert_eq!(
            msg(Tensor::zeros(&[1, 6, 5, 5]).try_conv2d(&Tensor::zeros(&[4, 2, 3, 3]), None, Conv2dOptions { groups: 2, ..d })),
            "conv2d: [1, 6, 5, 5] and [4, 2, 3, 3]: 6 input channels in groups=2 give 3 per group but the weight expects 2"
        );
        assert_eq!(
            msg(x.try_conv2d(
                &Tensor::zeros(&[4, 1, 3, 3]),
                None,
                Conv2dOptions { groups: 2, ..d }
            )),
            "conv2d: [8, 3, 5, 5] and [4, 1, 3, 3]: 3 input channels do not split into groups=2"
        );
        assert_eq!(
            msg(Tensor::zeros(&[1, 4, 5, 5]).try_conv2d(&Tensor::zeros(&[3, 2, 3, 3]), None, Conv2dOptions { groups: 2, ..d })),
            "conv2d: [1, 4, 5, 5] and [3, 2, 3, 3]: the weight's 3 output channels do not split into groups=2"
        );
        assert_eq!(
            msg(x.try_conv2d(&Tensor::zeros(&[16, 3, 3, 3]), Some(&Tensor::zeros(&[8])), d)),
            "conv2d: [16, 3, 3, 3] and [8]: the bias needs one entry per output channel, shape [16]"
        );
        assert_eq!(
            msg(x.try_conv2d(&Tensor::zeros(&[2, 3, 7, 3]), None, d)),
            "conv2d: [8, 3, 5, 5]: the kernel spans 7 along the height (kernel 7, dilation 1) but the padded input is only 5"
        );
        assert_eq!(
            msg(x.try_conv2d(
                &Tensor::zeros(&[2, 3, 3, 3]),
                None,
                Conv2dOptions {
                    stride: [1, 0],
                    ..d
                }
            )),
            "conv2d: [8, 3, 5, 5]: stride [1, 0] has a zero; it must be at least 1"
        );
        assert_eq!(
            msg(x.try_conv2d(
                &Tensor::zeros(&[2, 3, 3, 3]),
                None,
                Conv2dOptions {
                    dilation: [0, 1],
                    ..d
                }
            )),
            "conv2d: [8, 3, 5, 5]: dilation [0, 1] has a zero; it must be at least 1"
        );
        assert_eq!(
            msg(x.try_conv2d(
                &Tensor::zeros(&[2, 3, 3, 3]),
                None,
                Conv2dOptions { groups: 0, ..d }
            )),
            "conv2d: [8, 3, 5, 5]: groups must be at least 1"
        );
        assert_eq!(
            msg(x.try_conv2d(
                &Tensor::zeros(&[2, 3, 3, 3]),
                None,
                Conv2dOptions {
                    stride: [2, 2],
                    padding: Padding::Same,
                    ..d
                }
            )),
            "conv2d: [8, 3, 5, 5]: padding Same needs stride 1, got stride [2, 2]"
        );
        assert_eq!(
            msg(Tensor::zeros(&[3, 5, 5]).try_conv2d(&Tensor::zeros(&[2, 3, 3, 3]), None, d)),
            "conv2d: [3, 5, 5]: conv2d needs an input [N, C, H, W]"
        );
        assert_eq!(
            msg(x.try_conv2d(&Tensor::zeros(&[2, 3, 3]), None, d)),
            "conv2d: [8, 3, 5, 5] and [2, 3, 3]: the weight must be [out, in/groups, kh, kw]"
        );
        assert_eq!(
            msg(Tensor::zeros(&[1, 2, 5]).try_conv1d(
                &Tensor::zeros(&[1, 3, 2]),
                None,
                Conv1dOptions::default()
            )),
            "conv1d: [1, 2, 5] and [1, 3, 2]: 2 input channels but the weight expects 3"
        );
    }
}
