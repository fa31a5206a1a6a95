//! Forward values, gradients and Hessian-vector products pinned from PyTorch (float64, CPU),
//! for the attention ops: where_cond and masked_fill with broadcasting, tril/triu with
//! offsets, topk (largest and smallest), and scaled_dot_product_attention with no mask, a
//! boolean mask, a float mask with −∞ entries (itself differentiated), is_causal with L < S and
//! L > S, a fully masked row, its own scale and broadcasting batch axes.
//!
//! The numbers come from `tests/pytorch/attention_reference.py`, run once; its output is
//! `tests/pytorch/attention_pinned.rs`. Inputs are `pattern(seed, shape)`, rebuilt here bit for
//! bit; each case checks y and the gradients of L = Σ r ⊙ y, r = pattern(99, y's shape), and
//! the `_HV` cases the gradient of Σₖ ⟨∂L/∂xₖ, uₖ⟩, uₖ = pattern(98 − k, ·): second order
//! through the whole composite.

use ndarray::ArrayD;
use tapegrad_tensor::{grad, AttnMask, SdpaOptions, Tensor};

mod support;

#[rustfmt::skip]
#[allow(clippy::all, dead_code)]
#[path = "pytorch/attention_pinned.rs"]
mod pinned;

use pinned::*;
use support::{assert_close, pattern};

/// Runs `f` on leaves made from `(seed, shape)` and checks y, each input's gradient and,
/// when given, each input's Hessian-vector product.
#[track_caller]
fn case(
    name: &str,
    inputs: &[(usize, &[usize])],
    f: impl Fn(&[Tensor<f64>]) -> Tensor<f64>,
    y_want: (&[f64], &[usize]),
    grads_want: &[&[f64]],
    hv_want: Option<&[&[f64]]>,
) {
    let leaves: Vec<Tensor<f64>> = inputs
        .iter()
        .map(|&(seed, shape)| pattern(seed, shape).requires_grad())
        .collect();
    let refs: Vec<&Tensor<f64>> = leaves.iter().collect();
    let y = f(&leaves);
    assert_eq!(y.shape(), y_want.1, "{name}: output shape");
    assert_close(&format!("{name} y"), &y.to_vec(), y_want.0);
    let loss = (&y * &pattern(99, y.shape())).sum();
    let grads = grad(&loss, &refs, hv_want.is_some()).unwrap();
    for (k, (g, want)) in grads.iter().zip(grads_want).enumerate() {
        assert_close(&format!("{name} grad {k}"), &g.to_vec(), want);
    }
    if let Some(hv_want) = hv_want {
        let s = grads
            .iter()
            .enumerate()
            .map(|(k, g)| (g * &pattern(98 - k, g.shape())).sum())
            .reduce(|a, b| a + b)
            .unwrap();
        let hv = grad(&s, &refs, false).unwrap();
        for (k, (h, want)) in hv.iter().zip(hv_want).enumerate() {
            assert_close(&format!("{name} H·u {k}"), &h.to_vec(), want);
        }
    }
}

fn mask(rows: &[&[bool]]) -> ArrayD<bool> {
    let cols = rows[0].len();
    let flat: Vec<bool> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    ArrayD::from_shape_vec(vec![rows.len(), cols], flat).unwrap()
}

#[test]
fn where_cond_and_masked_fill_broadcast_like_torch() {
    let cond = pattern(5, &[2, 1, 3]).gt_scalar(0.0);
    case(
        "where_cond",
        &[(1, &[4, 3]), (2, &[2, 1, 1])],
        |t| Tensor::where_cond(&cond, &t[0], &t[1]),
        (WHERE_Y, WHERE_Y_SHAPE),
        &[WHERE_G0, WHERE_G1],
        None,
    );
    let fill = pattern(6, &[4]).gt_scalar(0.0);
    case(
        "masked_fill",
        &[(3, &[3, 4])],
        |t| t[0].masked_fill(&fill, -1.5),
        (MASKED_FILL_Y, MASKED_FILL_Y_SHAPE),
        &[MASKED_FILL_G0],
        None,
    );
}

#[test]
fn tril_and_triu_with_offsets() {
    case(
        "tril(-1)",
        &[(4, &[2, 3, 4])],
        |t| t[0].tril(-1),
        (TRIL_Y, TRIL_Y_SHAPE),
        &[TRIL_G0],
        None,
    );
    case(
        "triu(1)",
        &[(5, &[2, 3, 4])],
        |t| t[0].triu(1),
        (TRIU_Y, TRIU_Y_SHAPE),
        &[TRIU_G0],
        None,
    );
}

#[test]
fn topk_values_indices_and_gradients() {
    for (seed, shape, k, axis, largest, (y, i, g)) in [
        (6, [3, 6], 3, 1, true, (TOPK_Y, TOPK_I, TOPK_G0)),
        (
            7,
            [5, 4],
            2,
            0,
            false,
            (TOPK_SMALLEST_Y, TOPK_SMALLEST_I, TOPK_SMALLEST_G0),
        ),
    ] {
        let x = pattern(seed, &shape).requires_grad();
        let (values, indices) = x.topk(k, axis, largest, true);
        assert_close("topk values", &values.to_vec(), y);
        assert_eq!(indices.iter().copied().collect::<Vec<_>>(), i);
        (&values * &pattern(99, values.shape())).sum().backward();
        assert_close("topk grad", &x.grad().unwrap().to_vec(), g);
    }
}

fn plain<'a>() -> SdpaOptions<'a, f64> {
    SdpaOptions::default()
}

#[test]
fn sdpa_without_a_mask_second_order_too() {
    case(
        "sdpa",
        &[(10, &[2, 3, 4]), (11, &[2, 5, 4]), (12, &[2, 5, 3])],
        |t| t[0].scaled_dot_product_attention(&t[1], &t[2], plain()),
        (SDPA_Y, SDPA_Y_SHAPE),
        &[SDPA_G0, SDPA_G1, SDPA_G2],
        Some(&[SDPA_HV0, SDPA_HV1, SDPA_HV2]),
    );
}

#[test]
fn sdpa_with_a_boolean_mask_true_may_attend() {
    let allowed = mask(&[
        &[true, false, true, true, false],
        &[true, false, false, true, false],
        &[false, true, true, true, true],
    ]);
    let options = SdpaOptions {
        attn_mask: Some(AttnMask::Bool(&allowed)),
        ..plain()
    };
    case(
        "sdpa bool mask",
        &[(13, &[2, 3, 4]), (14, &[2, 5, 4]), (15, &[2, 5, 3])],
        |t| t[0].scaled_dot_product_attention(&t[1], &t[2], options),
        (SDPA_BOOL_Y, SDPA_BOOL_Y_SHAPE),
        &[SDPA_BOOL_G0, SDPA_BOOL_G1, SDPA_BOOL_G2],
        Some(&[SDPA_BOOL_HV0, SDPA_BOOL_HV1, SDPA_BOOL_HV2]),
    );
}

#[test]
fn sdpa_with_a_float_mask_holding_minus_infinity_and_its_gradient() {
    let inf = f64::NEG_INFINITY;
    let bias = Tensor::from_vec(
        vec![
            0.0, inf, 0.5, -1.0, inf, inf, 0.25, 0.0, inf, 1.0, -0.5, 0.0, inf, 0.0, 0.0,
        ],
        &[3, 5],
    );
    case(
        "sdpa float mask",
        &[
            (16, &[2, 2, 3, 4]),
            (17, &[2, 2, 5, 4]),
            (18, &[2, 2, 5, 3]),
            (19, &[3, 5]),
        ],
        |t| {
            let m = t[3].mul_scalar(0.5) + &bias;
            let options = SdpaOptions {
                attn_mask: Some(AttnMask::Float(&m)),
                ..plain()
            };
            t[0].scaled_dot_product_attention(&t[1], &t[2], options)
        },
        (SDPA_FLOAT_Y, SDPA_FLOAT_Y_SHAPE),
        &[SDPA_FLOAT_G0, SDPA_FLOAT_G1, SDPA_FLOAT_G2, SDPA_FLOAT_G3],
        None,
    );
}

#[test]
fn sdpa_is_causal_top_left_when_lengths_differ() {
    let causal = SdpaOptions {
        is_causal: true,
        ..plain()
    };
    case(
        "sdpa causal L < S",
        &[(20, &[2, 3, 4]), (21, &[2, 5, 4]), (22, &[2, 5, 3])],
        |t| t[0].scaled_dot_product_attention(&t[1], &t[2], causal),
        (SDPA_CAUSAL_SHORT_Y, SDPA_CAUSAL_SHORT_Y_SHAPE),
        &[
            SDPA_CAUSAL_SHORT_G0,
            SDPA_CAUSAL_SHORT_G1,
            SDPA_CAUSAL_SHORT_G2,
        ],
        Some(&[
            SDPA_CAUSAL_SHORT_HV0,
            SDPA_CAUSAL_SHORT_HV1,
            SDPA_CAUSAL_SHORT_HV2,
        ]),
    );
    case(
        "sdpa causal L > S",
        &[(23, &[5, 4]), (24, &[2, 4]), (25, &[2, 3])],
        |t| t[0].scaled_dot_product_attention(&t[1], &t[2], causal),
        (SDPA_CAUSAL_LONG_Y, SDPA_CAUSAL_LONG_Y_SHAPE),
        &[
            SDPA_CAUSAL_LONG_G0,
            SDPA_CAUSAL_LONG_G1,
            SDPA_CAUSAL_LONG_G2,
        ],
        None,
    );
}

#[test]
fn sdpa_fully_masked_row_is_zero_as_in_torch() {
    let allowed = mask(&[
        &[true, true, false, true, false],
        &[false, false, false, false, false],
        &[false, true, true, true, true],
    ]);
    let options = SdpaOptions {
        attn_mask: Some(AttnMask::Bool(&allowed)),
        ..plain()
    };
    case(
        "sdpa dead row",
        &[(26, &[2, 3, 4]), (27, &[2, 5, 4]), (28, &[2, 5, 3])],
        |t| t[0].scaled_dot_product_attention(&t[1], &t[2], options),
        (SDPA_DEAD_ROW_Y, SDPA_DEAD_ROW_Y_SHAPE),
        &[SDPA_DEAD_ROW_G0, SDPA_DEAD_ROW_G1, SDPA_DEAD_ROW_G2],
        None,
    );
    assert_eq!(SDPA_DEAD_ROW_Y[3..6], [0.0; 3], "torch: zeros, not NaN");
}

#[test]
fn sdpa_own_scale_and_broadcast_batches() {
    let scaled = SdpaOptions {
        scale: Some(0.3),
        ..plain()
    };
    case(
        "sdpa scale, broadcast",
        &[(29, &[2, 3, 4]), (30, &[1, 5, 4]), (31, &[1, 5, 3])],
        |t| t[0].scaled_dot_product_attention(&t[1], &t[2], scaled),
        (SDPA_SCALE_BROADCAST_Y, SDPA_SCALE_BROADCAST_Y_SHAPE),
        &[
            SDPA_SCALE_BROADCAST_G0,
            SDPA_SCALE_BROADCAST_G1,
            SDPA_SCALE_BROADCAST_G2,
        ],
        None,
    );
}
