//! `conv_transpose2d` and `conv_transpose1d`: the adjoint (transpose) of `conv2d`/`conv1d`
//! with respect to its input — sometimes called a "deconvolution" — with PyTorch's semantics
//! (`F.conv_transpose2d`): every input pixel scatters its value, times the kernel, into the
//! output, windows `stride` apart.
//!
//! ```text
//! y[n, o, p, q] = b[o] + Σ_{c ∈ group(o)} Σ_{h, w, i, j : p = h·sh − ph + i·dh, q = w·sw − pw + j·dw}
//!                 x[n, c, h, w] · weight[c, o − o₀, i, j]
//! OH = (H − 1)·sh − 2·ph + dh·(kh − 1) + output_padding_h + 1          (OW alike)
//! ```
//!
//! x is `[N, Cin, H, W]`, the weight `[Cin, Cout/groups, kh, kw]` (conv2d's weight read the
//! other way), the bias `[Cout]`. `output_padding` (smaller than the stride or the dilation)
//! adds rows and columns at the bottom and right, so that a strided conv2d's input size,
//! which its output does not determine, can be recovered.
//!
//! A composite: per image and group, `weightᵀ · x[n]` gives columns `[Cout·kh·kw, H·W]`,
//! and [`fold`](Tensor::fold) adds them into the output. So for the same weight,
//! ⟨conv2d(z, w), x⟩ = ⟨z, conv_transpose2d(x, w)⟩, and the tape yields
//! ∂L/∂x = conv2d(∂L/∂y, w) (unfold then a product), ∂L/∂w from the product's rule.
//!
//! ```
//! use tapegrad_tensor::{ConvTranspose2dOptions, Tensor};
//! // One pixel of value 2 and a 2×2 kernel [[1, 2], [3, 4]], stride 2: the kernel times 2.
//! let x = Tensor::<f32>::full(&[1, 1, 1, 1], 2.0);
//! let w = Tensor::<f32>::from_vec(vec![1.0, 2.0, 3.0, 4.0], &[1, 1, 2, 2]);
//! let options = ConvTranspose2dOptions { stride: [2, 2], ..Default::default() };
//! let y = x.conv_transpose2d(&w, None, options);
//! assert_eq!(y.to_vec(), vec![2.0, 4.0, 6.0, 8.0]);
//! ```

use super::conv::{check_bias, check_steps, layout, window_of};
use crate::error::{or_panic, Result, TensorError};
use crate::{Float, Tensor};

/// The settings of [`conv_transpose2d`](Tensor::conv_transpose2d) (D = 2) and
/// [`conv_transpose1d`](Tensor::conv_transpose1d) (D = 1). `Default` gives PyTorch's:
/// stride 1, padding 0, output_padding 0, dilation 1, groups 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvTransposeOptions<const D: usize> {
    /// Step between the windows the input pixels scatter into.
    pub stride: [usize; D],
    /// The padding of the conv2d this op is the transpose of: `padding` rows and columns are
    /// cut from each side of the full output.
    pub padding: [usize; D],
    /// Extra rows/columns at the bottom/right of the output; must be smaller than the stride
    /// or the dilation on each axis.
    pub output_padding: [usize; D],
    /// Spacing between kernel taps.
    pub dilation: [usize; D],
    /// Channel groups, as for conv2d: `Cin` and `Cout` split into `groups` blocks.
    pub groups: usize,
}

impl<const D: usize> Default for ConvTransposeOptions<D> {
    fn default() -> Self {
        ConvTransposeOptions {
            stride: [1; D],
            padding: [0; D],
            output_padding: [0; D],
            dilation: [1; D],
            groups: 1,
        }
    }
}

/// Options of [`conv_transpose2d`](Tensor::conv_transpose2d).
pub type ConvTranspose2dOptions = ConvTransposeOptions<2>;
/// Options of [`conv_transpose1d`](Tensor::conv_transpose1d).
pub type ConvTranspose1dOptions = ConvTransposeOptions<1>;

#[track_caller]
fn conv_transpose<F: Float, const D: usize>(
    op: &'static str,
    x: &Tensor<F>,
    w: &Tensor<F>,
    b: Option<&Tensor<F>>,
    options: &ConvTransposeOptions<D>,
) -> Result<Tensor<F>> {
    let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
    if xs.len() != D + 2 {
        return Err(TensorError::InvalidArgument {
            op,
            shape: xs,
            rule: format!("{op} needs an input {}", layout(D, "input")),
        });
    }
    let mismatch = |rule: String| TensorError::ShapeMismatch {
        op,
        lhs: xs.clone(),
        rhs: ws.clone(),
        rule,
    };
    if ws.len() != D + 2 {
        return Err(mismatch(format!(
            "the weight must be {}",
            if D == 1 {
                "[in, out/groups, k]"
            } else {
                "[in, out/groups, kh, kw]"
            }
        )));
    }
    let ConvTransposeOptions {
        stride,
        padding,
        output_padding,
        dilation,
        groups,
    } = *options;
    check_steps(op, &xs, stride, dilation, groups)?;
    let (n, cin) = (xs[0], xs[1]);
    if ws[0] != cin {
        return Err(mismatch(format!(
            "{cin} input channels but the weight expects {}",
            ws[0]
        )));
    }
    if cin % groups != 0 {
        return Err(mismatch(format!(
            "{cin} input channels do not split into groups={groups}"
        )));
    }
    let cout = ws[1] * groups;
    check_bias(op, &ws, b, cout)?;
    if (0..D).any(|a| output_padding[a] >= stride[a] && output_padding[a] >= dilation[a]) {
        return Err(TensorError::InvalidArgument {
            op,
            shape: xs,
            rule: format!(
                "output_padding {output_padding:?} must be smaller than the stride {stride:?} or the dilation {dilation:?}"
            ),
        });
    }
    let kernel = &ws[2..];
    let mut size = [0; D];
    for a in 0..D {
        let full = (xs[2 + a].max(1) - 1) * stride[a]
            + dilation[a] * (kernel[a].max(1) - 1)
            + output_padding[a]
            + 1;
        if xs[2 + a] == 0 || kernel[a] == 0 || full <= 2 * padding[a] {
            return Err(TensorError::InvalidArgument {
                op,
                shape: xs,
                rule: format!(
                    "with kernel {kernel:?}, stride {stride:?}, padding {padding:?} and dilation {dilation:?} the output would be empty"
                ),
            });
        }
        size[a] = full - 2 * padding[a];
    }
    let window = window_of(kernel, stride, dilation, padding.map(|p| [p, p]));
    let positions = window.positions(op, &xs, &size)?;
    let taps = window.taps();
    let len: usize = xs[2..].iter().product();
    let per_group = cin / groups;
    // Columns [N, Cout·k, len]: weightᵀ · x per image and group.
    let cols = if groups == 1 {
        w.reshape(&[cin, cout * taps])
            .t()
            .matmul(&x.reshape(&[n, cin, len]))
    } else {
        w.reshape(&[groups, per_group, ws[1] * taps])
            .transpose(1, 2)
            .matmul(&x.reshape(&[n, groups, per_group, len]))
            .into_reshape(&[n, cout * taps, len])
    };
    // An output_padding at least the stride (allowed when below the dilation) leaves room for
    // more window positions than input pixels: those columns are zeros.
    let spatial = &xs[2..];
    let cols = if positions[2 - D..] == *spatial {
        cols
    } else {
        let mut image = vec![n, cout * taps];
        image.extend_from_slice(spatial);
        let mut padded = cols.reshape(&image);
        for a in 0..D {
            padded = padded.pad(2 + a, 0, positions[2 - D + a] - spatial[a]);
        }
        padded.reshape(&[n, cout * taps, positions[0] * positions[1]])
    };
    let y = cols.try_fold(&size, &window).map_err(|e| e.in_op(op))?;
    Ok(match b {
        Some(b) => y.add_channel_bias(b),
        None => y,
    })
}

impl<F: Float> Tensor<F> {
    /// The transposed 2-d convolution of `[N, Cin, H, W]` with `weight`
    /// `[Cin, Cout/groups, kh, kw]`, plus `bias` `[Cout]` if given (see the module docs).
    ///
    /// # Errors
    /// `conv_transpose2d` when the input or weight is not rank 4, the weight's first axis is
    /// not the input's channels, the groups do not divide them, the bias is not `[Cout]`, a
    /// stride or dilation is zero, an output_padding is not smaller than the stride or the
    /// dilation, or the output would be empty.
    #[track_caller]
    pub fn try_conv_transpose2d(
        &self,
        weight: &Tensor<F>,
        bias: Option<&Tensor<F>>,
        options: ConvTranspose2dOptions,
    ) -> Result<Tensor<F>> {
        conv_transpose("conv_transpose2d", self, weight, bias, &options)
    }

    /// Panicking form of [`try_conv_transpose2d`](Self::try_conv_transpose2d).
    #[track_caller]
    pub fn conv_transpose2d(
        &self,
        weight: &Tensor<F>,
        bias: Option<&Tensor<F>>,
        options: ConvTranspose2dOptions,
    ) -> Tensor<F> {
        or_panic(self.try_conv_transpose2d(weight, bias, options))
    }

    /// The transposed 1-d convolution of `[N, Cin, L]` with `weight` `[Cin, Cout/groups, k]`.
    ///
    /// # Errors
    /// As for [`try_conv_transpose2d`](Self::try_conv_transpose2d), named
    /// `conv_transpose1d`, for rank-3 shapes.
    #[track_caller]
    pub fn try_conv_transpose1d(
        &self,
        weight: &Tensor<F>,
        bias: Option<&Tensor<F>>,
        options: ConvTranspose1dOptions,
    ) -> Result<Tensor<F>> {
        conv_transpose("conv_transpose1d", self, weight, bias, &options)
    }

    /// Panicking form of [`try_conv_transpose1d`](Self::try_conv_transpose1d).
    #[track_caller]
    pub fn conv_transpose1d(
        &self,
        weight: &Tensor<F>,
        bias: Option<&Tensor<F>>,
        options: ConvTranspose1dOptions,
    ) -> Tensor<F> {
        or_panic(self.try_conv_transpose1d(weight, bias, options))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use crate::{Conv2dOptions, Padding};

    /// conv_transpose2d by its definition: every input pixel scatters into the output.
    fn naive(
        x: &Tensor<f64>,
        w: &Tensor<f64>,
        o: &ConvTranspose2dOptions,
    ) -> (Vec<usize>, Vec<f64>) {
        let (xs, ws) = (x.shape().to_vec(), w.shape().to_vec());
        let (xv, wv) = (x.to_vec(), w.to_vec());
        let (n, cin, h, wd, cog, kh, kw) = (xs[0], xs[1], xs[2], xs[3], ws[1], ws[2], ws[3]);
        let cout = cog * o.groups;
        let size: Vec<usize> = (0..2)
            .map(|a| {
                (xs[2 + a] - 1) * o.stride[a]
                    + o.dilation[a] * (ws[2 + a] - 1)
                    + o.output_padding[a]
                    + 1
                    - 2 * o.padding[a]
            })
            .collect();
        let mut y = vec![0.0; n * cout * size[0] * size[1]];
        for b in 0..n {
            for c in 0..cin {
                let g = c / (cin / o.groups);
                for ih in 0..h {
                    for iw in 0..wd {
                        for ol in 0..cog {
                            for i in 0..kh {
                                for j in 0..kw {
                                    let p = (ih * o.stride[0] + i * o.dilation[0]) as isize
                                        - o.padding[0] as isize;
                                    let q = (iw * o.stride[1] + j * o.dilation[1]) as isize
                                        - o.padding[1] as isize;
                                    if p < 0
                                        || q < 0
                                        || p as usize >= size[0]
                                        || q as usize >= size[1]
                                    {
                                        continue;
                                    }
                                    let oc = g * cog + ol;
                                    y[((b * cout + oc) * size[0] + p as usize) * size[1]
                                        + q as usize] += xv[((b * cin + c) * h + ih) * wd + iw]
                                        * wv[((c * cog + ol) * kh + i) * kw + j];
                                }
                            }
                        }
                    }
                }
            }
        }
        (vec![n, cout, size[0], size[1]], y)
    }

    fn cases() -> Vec<([usize; 4], [usize; 4], ConvTranspose2dOptions)> {
        let d = ConvTranspose2dOptions::default();
        vec![
            ([1, 1, 2, 3], [1, 2, 3, 3], d),
            (
                [2, 2, 3, 2],
                [2, 3, 2, 3],
                ConvTranspose2dOptions {
                    stride: [2, 3],
                    padding: [1, 0],
                    output_padding: [1, 2],
                    ..d
                },
            ),
            (
                [2, 4, 3, 3],
                [4, 1, 3, 2],
                ConvTranspose2dOptions {
                    groups: 2,
                    stride: [2, 1],
                    dilation: [1, 2],
                    padding: [1, 1],
                    ..d
                },
            ),
            // output_padding ≥ stride is allowed when below the dilation.
            (
                [1, 2, 2, 2],
                [2, 2, 2, 2],
                ConvTranspose2dOptions {
                    dilation: [3, 2],
                    output_padding: [2, 1],
                    ..d
                },
            ),
        ]
    }

    #[test]
    fn forward_matches_the_definition() {
        for (k, (xs, ws, o)) in cases().into_iter().enumerate() {
            let x = Tensor::from_array(uniform(&xs, k as u64));
            let w = Tensor::from_array(uniform(&ws, 10 + k as u64));
            let y = x.conv_transpose2d(&w, None, o);
            let (shape, want) = naive(&x, &w, &o);
            assert_eq!(y.shape(), shape.as_slice(), "case {k}");
            for (a, b) in y.to_vec().iter().zip(want) {
                assert!((a - b).abs() < 1e-12, "case {k}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn is_the_adjoint_of_conv2d() {
        // ⟨conv2d(z, w), x⟩ = ⟨z, conv_transpose2d(x, w)⟩ with z of the recovered size.
        let w = Tensor::from_array(uniform(&[6, 2, 3, 2], 1)); // conv: 4 → 6 channels, groups 2
        let conv = Conv2dOptions {
            stride: [2, 2],
            padding: Padding::Symmetric([1, 0]),
            groups: 2,
            ..Default::default()
        };
        let z = Tensor::from_array(uniform(&[2, 4, 6, 5], 2));
        let y = z.conv2d(&w, None, conv);
        let x = Tensor::from_array(uniform(y.shape(), 3));
        let t = ConvTranspose2dOptions {
            stride: [2, 2],
            padding: [1, 0],
            output_padding: [1, 1],
            groups: 2,
            ..Default::default()
        };
        let back = x.conv_transpose2d(&w, None, t);
        assert_eq!(back.shape(), z.shape());
        let (lhs, rhs) = ((&y * &x).sum().item(), (&z * &back).sum().item());
        assert!((lhs - rhs).abs() < 1e-12, "{lhs} vs {rhs}");
    }

    #[test]
    fn gradchecks_and_second_order() {
        for (k, (xs, ws, o)) in cases().into_iter().enumerate() {
            let cout = ws[1] * o.groups;
            check(
                "conv_transpose2d",
                |t| t[0].conv_transpose2d(&t[1], Some(&t[2]), o),
                &[
                    uniform(&xs, k as u64),
                    uniform(&ws, 10 + k as u64),
                    uniform(&[cout], 20 + k as u64),
                ],
            );
        }
        let o = ConvTranspose1dOptions {
            stride: [2],
            padding: [1],
            output_padding: [1],
            ..Default::default()
        };
        check(
            "conv_transpose1d",
            |t| t[0].conv_transpose1d(&t[1], Some(&t[2]), o),
            &[
                uniform(&[2, 2, 4], 1),
                uniform(&[2, 3, 3], 2),
                uniform(&[3], 3),
            ],
        );
        assert_eq!(
            Tensor::<f64>::zeros(&[2, 2, 4])
                .conv_transpose1d(&Tensor::zeros(&[2, 3, 3]), None, o)
                .shape(),
            &[2, 3, 8]
        );
        let (xs, ws, o) = cases()[2];
        check_second_order(
            "conv_transpose2d",
            |t| t[0].conv_transpose2d(&t[1], None, o).powf(2.0),
            &[uniform(&xs, 4), uniform(&ws, 5)],
        );
    }

    #[test]
    fn errors() {
        let msg = |r: Result<Tensor<f32>>| r.unwrap_err().to_string();
        let x = Tensor::<f32>::zeros(&[1, 4, 3, 3]);
        let d = ConvTranspose2dOptions::default();
        assert_eq!(
            msg(x.try_conv_transpose2d(&Tensor::zeros(&[4, 2, 3, 3]), None, ConvTranspose2dOptions { stride: [2, 2], output_padding: [2, 0], ..d })),
            "conv_transpose2d: [1, 4, 3, 3]: output_padding [2, 0] must be smaller than the stride [2, 2] or the dilation [1, 1]"
        );
        assert_eq!(
            msg(x.try_conv_transpose2d(&Tensor::zeros(&[3, 2, 3, 3]), None, d)),
            "conv_transpose2d: [1, 4, 3, 3] and [3, 2, 3, 3]: 4 input channels but the weight expects 3"
        );
        assert_eq!(
            msg(x.try_conv_transpose2d(&Tensor::zeros(&[4, 2, 3, 3]), None, ConvTranspose2dOptions { groups: 3, ..d })),
            "conv_transpose2d: [1, 4, 3, 3] and [4, 2, 3, 3]: 4 input channels do not split into groups=3"
        );
        assert_eq!(
            msg(x.try_conv_transpose2d(&Tensor::zeros(&[4, 2, 3, 3]), Some(&Tensor::zeros(&[3])), ConvTranspose2dOptions { groups: 2, ..d })),
            "conv_transpose2d: [4, 2, 3, 3] and [3]: the bias needs one entry per output channel, shape [4]"
        );
        assert_eq!(
            msg(x.try_conv_transpose2d(&Tensor::zeros(&[4, 2, 1, 1]), None, ConvTranspose2dOptions { padding: [2, 0], ..d })),
            "conv_transpose2d: [1, 4, 3, 3]: with kernel [1, 1], stride [1, 1], padding [2, 0] and dilation [1, 1] the output would be empty"
        );
    }
}
