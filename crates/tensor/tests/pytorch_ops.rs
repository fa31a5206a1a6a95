//! Forward values and gradients pinned from PyTorch (float64, CPU), for conv1d, conv2d
//! (stride, padding, dilation, groups, `same`, depthwise), conv_transpose2d, max_pool2d
//! (with a tie), avg_pool2d, adaptive_avg_pool2d, erf and both GELUs.
//!
//! The numbers come from `tests/pytorch/reference.py`, run once; its output is
//! `tests/pytorch/pinned.rs`. Inputs are `pattern(seed, shape)`, rebuilt here bit for bit, and
//! each case checks y and the gradients of L = Σ r ⊙ y, r = pattern(99, y's shape).

use tapegrad_tensor::{
    AvgPool2dOptions, Conv1dOptions, Conv2dOptions, ConvTranspose2dOptions, MaxPool2dOptions,
    Padding, Tensor,
};

mod support;

#[rustfmt::skip]
#[allow(clippy::all, dead_code)]
#[path = "pytorch/pinned.rs"]
mod pinned;

use pinned::*;
use support::{assert_close, pattern};

/// Runs `f` on leaves made from `(seed, shape)` and checks y and each input's gradient.
#[track_caller]
fn case(
    name: &str,
    inputs: &[(usize, &[usize])],
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    y_want: &[f64],
    shape_want: &[usize],
    grads_want: &[&[f64]],
) {
    let leaves: Vec<Tensor<f64>> = inputs
        .iter()
        .map(|&(seed, shape)| pattern(seed, shape).requires_grad())
        .collect();
    let y = f(&leaves);
    assert_eq!(y.shape(), shape_want, "{name}: output shape");
    assert_close(&format!("{name} y"), &y.to_vec(), y_want);
    (&y * &pattern(99, y.shape())).sum().backward();
    for (k, (leaf, want)) in leaves.iter().zip(grads_want).enumerate() {
        assert_close(
            &format!("{name} grad {k}"),
            &leaf.grad().unwrap().to_vec(),
            want,
        );
    }
}

#[test]
fn conv1d_stride_padding_dilation() {
    let o = Conv1dOptions {
        stride: [2],
        padding: Padding::Symmetric([1]),
        dilation: [2],
        groups: 1,
    };
    case(
        "conv1d",
        &[(1, &[2, 3, 9]), (2, &[4, 3, 3]), (3, &[4])],
        |t| t[0].conv1d(&t[1], Some(&t[2]), o),
        CONV1D_Y,
        CONV1D_Y_SHAPE,
        &[CONV1D_G0, CONV1D_G1, CONV1D_G2],
    );
}

#[test]
fn conv2d_stride_padding_dilation_groups() {
    let o = Conv2dOptions {
        stride: [2, 1],
        padding: Padding::Symmetric([1, 2]),
        dilation: [1, 2],
        groups: 2,
    };
    case(
        "conv2d",
        &[(4, &[2, 4, 6, 5]), (5, &[6, 2, 3, 2]), (6, &[6])],
        |t| t[0].conv2d(&t[1], Some(&t[2]), o),
        CONV2D_Y,
        CONV2D_Y_SHAPE,
        &[CONV2D_G0, CONV2D_G1, CONV2D_G2],
    );
}

#[test]
fn conv2d_same_padding_with_an_even_kernel() {
    // Kernel 2 along the height: one zero of padding in all, which goes at the bottom.
    let o = Conv2dOptions {
        padding: Padding::Same,
        dilation: [1, 2],
        ..Default::default()
    };
    case(
        "conv2d same",
        &[(7, &[1, 2, 5, 6]), (8, &[3, 2, 2, 4]), (9, &[3])],
        |t| t[0].conv2d(&t[1], Some(&t[2]), o),
        CONV2D_SAME_Y,
        CONV2D_SAME_Y_SHAPE,
        &[CONV2D_SAME_G0, CONV2D_SAME_G1, CONV2D_SAME_G2],
    );
}

#[test]
fn conv2d_depthwise() {
    let o = Conv2dOptions {
        padding: Padding::Symmetric([1, 1]),
        groups: 3,
        ..Default::default()
    };
    case(
        "conv2d depthwise",
        &[(10, &[2, 3, 5, 5]), (11, &[3, 1, 3, 3]), (12, &[3])],
        |t| t[0].conv2d(&t[1], Some(&t[2]), o),
        CONV2D_DEPTHWISE_Y,
        CONV2D_DEPTHWISE_Y_SHAPE,
        &[
            CONV2D_DEPTHWISE_G0,
            CONV2D_DEPTHWISE_G1,
            CONV2D_DEPTHWISE_G2,
        ],
    );
}

#[test]
fn conv_transpose2d_output_padding_groups() {
    let o = ConvTranspose2dOptions {
        stride: [2, 2],
        padding: [1, 0],
        output_padding: [1, 1],
        groups: 2,
        ..Default::default()
    };
    case(
        "conv_transpose2d",
        &[(13, &[2, 4, 3, 3]), (14, &[4, 3, 3, 2]), (15, &[6])],
        |t| t[0].conv_transpose2d(&t[1], Some(&t[2]), o),
        CONV_T2D_Y,
        CONV_T2D_Y_SHAPE,
        &[CONV_T2D_G0, CONV_T2D_G1, CONV_T2D_G2],
    );
}

#[test]
fn max_pool2d_with_a_tie() {
    // Window (0, 0) of plane (0, 0) holds its maximum 3 at (0, 0) and (0, 1); PyTorch and
    // tapegrad both send the gradient to the first.
    let mut data = pattern(16, &[2, 2, 5, 6]).to_vec();
    data[0] = 3.0;
    data[1] = 3.0;
    let x = Tensor::from_vec(data, &[2, 2, 5, 6]).requires_grad();
    let y = x.max_pool2d(MaxPool2dOptions::new([2, 2]));
    assert_close("max_pool2d tie y", &y.to_vec(), MAX_POOL_TIE_Y);
    (&y * &pattern(99, y.shape())).sum().backward();
    let g = x.grad().unwrap().to_vec();
    assert_close("max_pool2d tie grad", &g, MAX_POOL_TIE_G0);
    assert_eq!(g[1], 0.0, "the second of the tied maxima gets nothing");
    let o = MaxPool2dOptions {
        kernel: [3, 3],
        stride: Some([2, 2]),
        padding: [1, 1],
    };
    case(
        "max_pool2d padded",
        &[(17, &[2, 2, 5, 6])],
        |t| t[0].max_pool2d(o),
        MAX_POOL_PAD_Y,
        MAX_POOL_PAD_Y_SHAPE,
        &[MAX_POOL_PAD_G0],
    );
}

#[test]
fn avg_pool2d_with_and_without_counting_padding() {
    let o = AvgPool2dOptions {
        stride: Some([2, 2]),
        padding: [1, 1],
        ..AvgPool2dOptions::new([3, 3])
    };
    case(
        "avg_pool2d",
        &[(18, &[2, 2, 5, 6])],
        |t| t[0].avg_pool2d(o),
        AVG_POOL_Y,
        AVG_POOL_Y_SHAPE,
        &[AVG_POOL_G0],
    );
    let o = AvgPool2dOptions {
        count_include_pad: false,
        ..o
    };
    case(
        "avg_pool2d count_include_pad=false",
        &[(18, &[2, 2, 5, 6])],
        |t| t[0].avg_pool2d(o),
        AVG_POOL_NO_PAD_COUNT_Y,
        AVG_POOL_NO_PAD_COUNT_Y_SHAPE,
        &[AVG_POOL_NO_PAD_COUNT_G0],
    );
}

#[test]
fn adaptive_avg_pool2d_overlapping_bins() {
    case(
        "adaptive_avg_pool2d",
        &[(19, &[2, 2, 5, 7])],
        |t| t[0].adaptive_avg_pool2d([3, 4]),
        ADAPTIVE_Y,
        ADAPTIVE_Y_SHAPE,
        &[ADAPTIVE_G0],
    );
}

#[test]
fn erf_and_both_gelus_on_41_points() {
    // x = 0.3·i − 6 for i < 41; the gradient of Σ y is the elementwise derivative.
    let points: Vec<f64> = (0..41).map(|i| i as f64 * 0.3 - 6.0).collect();
    type Unary = fn(&Tensor<f64>) -> Tensor<f64>;
    let cases: [(&str, Unary, &[f64], &[f64]); 3] = [
        ("erf", Tensor::erf, ERF_Y, ERF_G0),
        ("gelu", Tensor::gelu, GELU_Y, GELU_G0),
        ("gelu_tanh", Tensor::gelu_tanh, GELU_TANH_Y, GELU_TANH_G0),
    ];
    for (name, f, y_want, g_want) in cases {
        let x = Tensor::from_vec(points.clone(), &[41]).requires_grad();
        let y = f(&x);
        assert_close(name, &y.to_vec(), y_want);
        y.sum().backward();
        assert_close(&format!("{name}′"), &x.grad().unwrap().to_vec(), g_want);
    }
    // erf against torch.erf, as stated in ops/erf.rs: measured identical at all 41 points;
    // allow 1 ulp near 1 in case a libm release changes the last bit.
    let x = Tensor::from_vec(points, &[41]);
    let worst = x
        .erf()
        .to_vec()
        .iter()
        .zip(ERF_Y)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 2.3e-16, "erf differs from torch.erf by {worst:e}");
}
