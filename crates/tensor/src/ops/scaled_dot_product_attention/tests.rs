use super::super::test_util::*;
use super::{AttnMask, SdpaOptions};
use crate::{grad, tril_mask, Tensor};
use ndarray::{arr2, ArrayD};

fn options<'a>(mask: Option<AttnMask<'a, f64>>) -> SdpaOptions<'a, f64> {
    SdpaOptions {
        attn_mask: mask,
        ..Default::default()
    }
}

/// softmax(q·kᵀ/√E + bias)·v, written out with no masking machinery.
fn by_hand(q: &Tensor<f64>, k: &Tensor<f64>, v: &Tensor<f64>, bias: &Tensor<f64>) -> Tensor<f64> {
    let e = q.shape()[q.ndim() - 1] as f64;
    let kt = k.transpose(k.ndim() - 2, k.ndim() - 1);
    let scores = q.matmul(&kt) * (1.0 / e.sqrt()) + bias;
    scores.softmax(scores.ndim() - 1).matmul(v)
}

#[test]
fn values_worked_by_hand() {
    // One query q = [1, 0] against keys [1, 0] and [0, 1] with values 10 and 20, scale 1:
    // scores [1, 0], weights [e, 1]/(e + 1), output (10e + 20)/(e + 1).
    let q = Tensor::<f64>::from_vec(vec![1.0, 0.0], &[1, 2]);
    let k = Tensor::<f64>::from_vec(vec![1.0, 0.0, 0.0, 1.0], &[2, 2]);
    let v = Tensor::<f64>::from_vec(vec![10.0, 20.0], &[2, 1]);
    let unit = SdpaOptions {
        scale: Some(1.0),
        ..Default::default()
    };
    let e = std::f64::consts::E;
    let y = q.scaled_dot_product_attention(&k, &v, unit).item();
    assert!((y - (10.0 * e + 20.0) / (e + 1.0)).abs() < 1e-12);
    // Masking the first key (bool false = may not attend) leaves only 20.
    let only_second = arr2(&[[false, true]]).into_dyn();
    let masked = SdpaOptions {
        attn_mask: Some(AttnMask::Bool(&only_second)),
        ..unit
    };
    assert_eq!(q.scaled_dot_product_attention(&k, &v, masked).item(), 20.0);
}

#[test]
fn analytic_gradient_by_hand() {
    // q = [1, 0], keys [1, 0] and [0, 1], values 10 and 20, scale 1: scores s = [1, 0],
    // weights a = [e, 1]/(e + 1), y = Σ aⱼvⱼ. For L = y:
    //   ∂L/∂vⱼ = aⱼ,   ∂L/∂sⱼ = aⱼ(vⱼ − y),   ∂L/∂q = Σⱼ ∂L/∂sⱼ·kⱼ,   ∂L/∂kⱼ = ∂L/∂sⱼ·q.
    let q = Tensor::<f64>::from_vec(vec![1.0, 0.0], &[1, 2]).requires_grad();
    let k = Tensor::<f64>::from_vec(vec![1.0, 0.0, 0.0, 1.0], &[2, 2]).requires_grad();
    let v = Tensor::<f64>::from_vec(vec![10.0, 20.0], &[2, 1]).requires_grad();
    let unit = SdpaOptions {
        scale: Some(1.0),
        ..Default::default()
    };
    q.scaled_dot_product_attention(&k, &v, unit)
        .sum()
        .backward();
    let e = std::f64::consts::E;
    let a = [e / (e + 1.0), 1.0 / (e + 1.0)];
    let y = a[0] * 10.0 + a[1] * 20.0;
    let ds = [a[0] * (10.0 - y), a[1] * (20.0 - y)];
    let close = |got: Vec<f64>, want: &[f64]| {
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-14, "{got:?} vs {want:?}");
        }
    };
    close(v.grad().unwrap().to_vec(), &a);
    close(q.grad().unwrap().to_vec(), &ds);
    close(k.grad().unwrap().to_vec(), &[ds[0], 0.0, ds[1], 0.0]);
}

#[test]
fn masks_bool_float_and_causal_agree_with_the_formula() {
    let q = Tensor::<f64>::randn(&[2, 3, 4], 0.0, 1.0, 1);
    let k = Tensor::<f64>::randn(&[2, 5, 4], 0.0, 1.0, 2);
    let v = Tensor::<f64>::randn(&[2, 5, 3], 0.0, 1.0, 3);
    let close = |a: &Tensor<f64>, b: &Tensor<f64>| {
        assert_eq!(a.shape(), b.shape());
        for (x, y) in a.to_vec().iter().zip(b.to_vec()) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
    };
    let none = Tensor::<f64>::zeros(&[1]);
    close(
        &q.scaled_dot_product_attention(&k, &v, options(None)),
        &by_hand(&q, &k, &v, &none),
    );
    // Causal with L = 3 < S = 5: query i sees keys 0..=i (top-left), i.e. bias −∞ above
    // the diagonal; the bool mask is the same thing.
    let bias = Tensor::where_cond(
        &tril_mask(3, 5, 0),
        &Tensor::scalar(0.0),
        &Tensor::scalar(f64::NEG_INFINITY),
    );
    let causal = SdpaOptions {
        is_causal: true,
        ..Default::default()
    };
    let want = by_hand(&q, &k, &v, &bias);
    close(&q.scaled_dot_product_attention(&k, &v, causal), &want);
    let allowed = tril_mask(3, 5, 0);
    close(
        &q.scaled_dot_product_attention(&k, &v, options(Some(AttnMask::Bool(&allowed)))),
        &want,
    );
    close(
        &q.scaled_dot_product_attention(&k, &v, options(Some(AttnMask::Float(&bias)))),
        &want,
    );
    // Causal with L = 5 > S = 2: the last queries see every key.
    let q5 = Tensor::<f64>::randn(&[5, 4], 0.0, 1.0, 4);
    let (k2, v2) = (k.narrow(1, 0, 2), v.narrow(1, 0, 2));
    let w = q5.reshape(&[1, 5, 4]).attention_weights(&k2, causal);
    assert_eq!(w.shape(), &[2, 5, 2]);
    assert_eq!(w.to_vec()[..2], [1.0, 0.0], "query 0 sees key 0 only");
    let y = q5
        .reshape(&[1, 5, 4])
        .scaled_dot_product_attention(&k2, &v2, causal);
    assert_eq!(y.shape(), &[2, 5, 3]);
    // A float mask of finite biases shifts the scores.
    let shift = Tensor::<f64>::randn(&[3, 5], 0.0, 1.0, 5);
    close(
        &q.scaled_dot_product_attention(&k, &v, options(Some(AttnMask::Float(&shift)))),
        &by_hand(&q, &k, &v, &shift),
    );
}

#[test]
fn a_fully_masked_row_gives_zeros_and_exactly_zero_gradients() {
    // Query 1 may attend to nothing. torch 2.15 returns 0 for that row, and 0 gradients.
    let allowed = arr2(&[[true, true], [false, false], [true, false]]).into_dyn();
    let mut minus = ArrayD::zeros(vec![3, 2]);
    for (i, j) in [(1, 0), (1, 1), (2, 1)] {
        minus[[i, j]] = f64::NEG_INFINITY;
    }
    let bias = Tensor::from_array(minus);
    for mask in [AttnMask::Bool(&allowed), AttnMask::Float(&bias)] {
        let q = Tensor::<f64>::randn(&[1, 3, 4], 0.0, 1.0, 1).requires_grad();
        let k = Tensor::<f64>::randn(&[1, 2, 4], 0.0, 1.0, 2).requires_grad();
        let v = Tensor::<f64>::randn(&[1, 2, 5], 0.0, 1.0, 3).requires_grad();
        let y = q.scaled_dot_product_attention(&k, &v, options(Some(mask)));
        assert_eq!(y.to_vec()[5..10], [0.0; 5]);
        assert!(y.to_vec().iter().all(|x| x.is_finite()));
        let loss = (&y * &Tensor::randn(&[1, 3, 5], 0.0, 1.0, 4)).sum();
        let g = grad(&loss, &[&q, &k, &v], true).unwrap();
        // Row 1 of ∂L/∂q is exactly 0; row 2 sees a single key, so its softmax is
        // constant and its gradient is 0 too.
        assert_eq!(g[0].to_vec()[4..], [0.0; 8]);
        for gi in &g {
            assert!(gi.to_vec().iter().all(|x| x.is_finite()), "{gi:?}");
        }
        // Second order: no NaN either.
        let s = (&g[0] * &g[0]).sum() + (&g[1] * &g[2].sum_axes(&[2], true)).sum();
        let h = grad(&s, &[&q, &k, &v], false).unwrap();
        for hi in &h {
            assert!(hi.to_vec().iter().all(|x| x.is_finite()), "{hi:?}");
        }
    }
    // Plain softmax of an all −∞ row is NaN (as torch.softmax): the safe softmax is
    // attention's own choice.
    let row = Tensor::<f64>::full(&[3], f64::NEG_INFINITY).softmax(0);
    assert!(row.to_vec().iter().all(|x| x.is_nan()));
}

#[test]
fn dropout_is_seeded_inverted_and_off_at_zero() {
    let q = Tensor::<f64>::randn(&[4, 8, 4], 0.0, 1.0, 1);
    let k = Tensor::<f64>::randn(&[4, 8, 4], 0.0, 1.0, 2);
    let plain = q.attention_weights(&k, options(None));
    let drop = |p, seed| {
        q.attention_weights(
            &k,
            SdpaOptions {
                dropout_p: p,
                dropout_seed: seed,
                ..Default::default()
            },
        )
    };
    assert_eq!(drop(0.0, 5).to_vec(), plain.to_vec());
    let (a, b) = (drop(0.25, 5).to_vec(), drop(0.25, 5).to_vec());
    assert_eq!(a, b, "one seed, one mask");
    assert_ne!(a, drop(0.25, 6).to_vec());
    let zeros = a.iter().filter(|&&x| x == 0.0).count() as f64 / a.len() as f64;
    assert!((zeros - 0.25).abs() < 0.08, "dropped {zeros}");
    for (x, p) in a.iter().zip(plain.to_vec()) {
        assert!(*x == 0.0 || (x - p / 0.75).abs() < 1e-15);
    }
}

#[test]
fn errors_name_the_shapes() {
    let q = Tensor::<f64>::zeros(&[2, 3, 4]);
    let v = Tensor::<f64>::zeros(&[2, 5, 4]);
    let msg = |r: crate::Result<Tensor<f64>>| r.unwrap_err().to_string();
    assert_eq!(
        msg(q.try_scaled_dot_product_attention(&Tensor::zeros(&[2, 5, 3]), &v, options(None))),
        "scaled_dot_product_attention: [2, 3, 4] and [2, 5, 3]: queries and keys need one embedding size, got 4 and 3"
    );
    assert_eq!(
        msg(q.try_scaled_dot_product_attention(&v, &Tensor::zeros(&[2, 6, 4]), options(None))),
        "scaled_dot_product_attention: [2, 5, 4] and [2, 6, 4]: the key has 5 positions and the value 6"
    );
    assert!(
        msg(q.try_scaled_dot_product_attention(&Tensor::zeros(&[4]), &v, options(None)))
            .contains("at least two axes")
    );
    let causal_and_mask = tril_mask(3, 5, 0);
    let both = SdpaOptions {
        attn_mask: Some(AttnMask::Bool(&causal_and_mask)),
        is_causal: true,
        ..Default::default()
    };
    assert!(msg(q.try_scaled_dot_product_attention(&v, &v, both))
        .contains("cannot be combined with is_causal"));
    let wrong = tril_mask(4, 5, 0);
    assert!(
        msg(q.try_scaled_dot_product_attention(&v, &v, options(Some(AttnMask::Bool(&wrong)))))
            .starts_with("scaled_dot_product_attention: cannot broadcast")
    );
    let one = SdpaOptions {
        dropout_p: 1.0,
        ..Default::default()
    };
    assert!(msg(q.try_scaled_dot_product_attention(&v, &v, one)).contains("dropout_p = 1"));
}

#[test]
fn gradcheck_with_masks_and_broadcast_batches() {
    let allowed = uniform(&[3, 4], 9).mapv(|x| x > -0.5);
    check(
        "sdpa",
        |t| t[0].scaled_dot_product_attention(&t[1], &t[2], options(None)),
        &[
            uniform(&[2, 3, 5], 1),
            uniform(&[2, 4, 5], 2),
            uniform(&[2, 4, 2], 3),
        ],
    );
    check(
        "sdpa bool mask, broadcast batch",
        |t| {
            t[0].scaled_dot_product_attention(&t[1], &t[2], options(Some(AttnMask::Bool(&allowed))))
        },
        &[
            uniform(&[2, 2, 3, 5], 4),
            uniform(&[2, 1, 4, 5], 5),
            uniform(&[4, 2], 6),
        ],
    );
    // A tracked float mask gets a gradient; −∞ entries stay constant.
    let causal = SdpaOptions {
        is_causal: true,
        scale: Some(0.7),
        ..Default::default()
    };
    check(
        "sdpa causal",
        |t| t[0].scaled_dot_product_attention(&t[1], &t[2], causal),
        &[
            uniform(&[4, 3], 7),
            uniform(&[2, 3], 8),
            uniform(&[2, 3], 10),
        ],
    );
    check(
        "sdpa float mask",
        |t| t[0].scaled_dot_product_attention(&t[1], &t[2], options(Some(AttnMask::Float(&t[3])))),
        &[
            uniform(&[3, 2], 11),
            uniform(&[4, 2], 12),
            uniform(&[4, 3], 13),
            uniform(&[3, 4], 14),
        ],
    );
    check_second_order(
        "sdpa",
        |t| {
            t[0].scaled_dot_product_attention(&t[1], &t[2], options(Some(AttnMask::Bool(&allowed))))
        },
        &[
            uniform(&[3, 5], 15),
            uniform(&[4, 5], 16),
            uniform(&[4, 2], 17),
        ],
    );
    check_second_order(
        "sdpa causal",
        |t| t[0].scaled_dot_product_attention(&t[1], &t[2], causal),
        &[
            uniform(&[2, 4, 3], 18),
            uniform(&[2, 2, 3], 19),
            uniform(&[2, 2, 3], 20),
        ],
    );
}
