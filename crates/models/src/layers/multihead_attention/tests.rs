use ndarray::ArrayD;
use tapegrad_tensor::{tril_mask, AttnMask, Tensor};

use super::*;
use crate::module::check_parameters;

fn names(m: &dyn Module<f64>) -> Vec<String> {
    m.named_parameters().into_iter().map(|(n, _)| n).collect()
}

#[track_caller]
fn close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol, "[{i}]: {x} vs {y}");
    }
}

/// A layer with every parameter random (biases too, which start at 0), so that every path
/// carries numbers.
fn randomised(config: MultiheadAttentionConfig, seed: u64) -> MultiheadAttention<f64> {
    let mha = MultiheadAttention::with_config(6, 2, config, seed);
    for (k, (_, p)) in mha.named_parameters().into_iter().enumerate() {
        let values = Tensor::<f64>::rand_uniform(p.shape(), -0.6, 0.6, 50 + seed + k as u64);
        p.set_value(values.to_array()).unwrap();
    }
    mha
}

fn options<'a>() -> MultiheadAttentionOptions<'a, f64> {
    MultiheadAttentionOptions::default()
}

#[test]
fn parameters_have_torch_names_shapes_and_initial_ranges() {
    let mha = MultiheadAttention::<f64>::new(8, 2, 3);
    assert_eq!(
        names(&mha),
        [
            "in_proj_weight",
            "in_proj_bias",
            "out_proj.weight",
            "out_proj.bias"
        ]
    );
    let shapes: Vec<Vec<usize>> = mha
        .parameters()
        .iter()
        .map(|p| p.shape().to_vec())
        .collect();
    assert_eq!(shapes, [vec![24, 8], vec![24], vec![8, 8], vec![8]]);
    // Xavier bound √(6/(8 + 24)) = 0.433; Linear's bound 1/√8 = 0.354; biases 0.
    let (a, b) = ((6.0f64 / 32.0).sqrt(), 1.0 / 8f64.sqrt());
    let w = mha.in_proj_weight().value();
    assert!(w.iter().all(|x| x.abs() < a) && w.iter().any(|x| x.abs() > 0.9 * a));
    let o = mha.out_proj_weight().value();
    assert!(o.iter().all(|x| x.abs() < b) && o.iter().any(|x| x.abs() > 0.9 * b));
    assert!(mha
        .in_proj_bias()
        .unwrap()
        .value()
        .iter()
        .all(|&x| x == 0.0));
    assert!(mha
        .out_proj_bias()
        .unwrap()
        .value()
        .iter()
        .all(|&x| x == 0.0));
    let plain = MultiheadAttention::<f64>::with_config(
        8,
        4,
        MultiheadAttentionConfig {
            bias: false,
            ..Default::default()
        },
        3,
    );
    assert_eq!(names(&plain), ["in_proj_weight", "out_proj.weight"]);
    assert_ne!(
        MultiheadAttention::<f64>::new(8, 2, 4)
            .in_proj_weight()
            .value(),
        w,
        "seeds differ"
    );
}

#[test]
fn layouts_agree_batch_first_sequence_first_and_unbatched() {
    let seq_first = randomised(MultiheadAttentionConfig::default(), 1);
    let batch_first = MultiheadAttention::with_config(
        6,
        2,
        MultiheadAttentionConfig {
            batch_first: true,
            ..Default::default()
        },
        9,
    );
    for ((_, p), (_, q)) in seq_first
        .named_parameters()
        .iter()
        .zip(batch_first.named_parameters())
    {
        q.set_value((*p.value()).clone()).unwrap();
    }
    let q = Tensor::<f64>::randn(&[3, 2, 6], 0.0, 1.0, 1); // [L, N, E]
    let kv = Tensor::<f64>::randn(&[4, 2, 6], 0.0, 1.0, 2); // [S, N, E]
    let (y, w) = seq_first.forward_qkv(&q, &kv, &kv, options());
    let (yb, wb) = batch_first.forward_qkv(
        &q.transpose(0, 1),
        &kv.transpose(0, 1),
        &kv.transpose(0, 1),
        options(),
    );
    assert_eq!(y.shape(), &[3, 2, 6]);
    close(&y.transpose(0, 1).to_vec(), &yb.to_vec(), 1e-14);
    close(&w.unwrap().to_vec(), &wb.unwrap().to_vec(), 1e-14);
    // Unbatched [L, E] is batch element 0 on its own.
    let q0 = q.narrow(1, 0, 1).reshape(&[3, 6]);
    let kv0 = kv.narrow(1, 0, 1).reshape(&[4, 6]);
    let (y0, w0) = seq_first.forward_qkv(&q0, &kv0, &kv0, options());
    assert_eq!(
        (y0.shape(), w0.as_ref().unwrap().shape()),
        (&[3, 6][..], &[3, 4][..])
    );
    close(&y0.to_vec(), &y.narrow(1, 0, 1).to_vec(), 1e-14);
}

#[test]
fn self_attention_projects_once_and_matches_three_projections() {
    let mha = randomised(MultiheadAttentionConfig::default(), 2);
    let x = Tensor::<f64>::randn(&[4, 3, 6], 0.0, 1.0, 3);
    let copy = Tensor::from_array(x.to_array()); // same numbers, another tensor
    let fused = mha.forward_qkv(&x, &x, &x, options());
    let split = mha.forward_qkv(&x, &copy, &x, options());
    close(&fused.0.to_vec(), &split.0.to_vec(), 1e-13);
    assert_eq!(mha.forward(&x).to_vec(), fused.0.to_vec());
    // The fused path is one product on the tape, not three (on a fresh thread, so the tape
    // holds this pass alone).
    let printed = std::thread::spawn(move || {
        let leaf = x.requires_grad();
        mha.forward(&leaf).tape().unwrap().to_string()
    })
    .join()
    .unwrap();
    // in-projection, Q·Kᵀ, weights·V, out-projection; three separate projections would be six.
    assert_eq!(printed.matches("= matmul(").count(), 4, "{printed}");
    assert_eq!(printed.matches("= narrow(").count(), 3, "{printed}");
}

#[test]
fn boolean_masks_are_true_where_attention_is_forbidden() {
    let mha = randomised(MultiheadAttentionConfig::default(), 3);
    let (l, n, s) = (3, 2, 4);
    let q = Tensor::<f64>::randn(&[l, n, 6], 0.0, 1.0, 4);
    let kv = Tensor::<f64>::randn(&[s, n, 6], 0.0, 1.0, 5);
    // Key 1 padded in sequence 0, keys 2 and 3 in sequence 1; query 0 may not see key 0.
    let mut padding = ArrayD::from_elem(vec![n, s], false);
    for (i, j) in [(0, 1), (1, 2), (1, 3)] {
        padding[[i, j]] = true;
    }
    let mut forbidden = ArrayD::from_elem(vec![l, s], false);
    forbidden[[0, 0]] = true;
    let with_bool = MultiheadAttentionOptions {
        key_padding_mask: Some(AttnMask::Bool(&padding)),
        attn_mask: Some(AttnMask::Bool(&forbidden)),
        ..options()
    };
    let (y, w) = mha.forward_qkv(&q, &kv, &kv, with_bool);
    let w = w.unwrap().to_array(); // [N, L, S]
    for (ix, &v) in w.indexed_iter() {
        let (b, i, j) = (ix[0], ix[1], ix[2]);
        let masked = padding[[b, j]] || forbidden[[i, j]];
        assert_eq!(v == 0.0, masked, "weight [{b}, {i}, {j}]");
    }
    for row in w.lanes(ndarray::Axis(2)) {
        assert!((row.sum() - 1.0).abs() < 1e-14);
    }
    // The same masks as −∞ floats, and mixed, give the same numbers.
    let minus =
        |m: &ArrayD<bool>| Tensor::from_array(m.mapv(|x| if x { f64::NEG_INFINITY } else { 0.0 }));
    let (pf, ff) = (minus(&padding), minus(&forbidden));
    for (kpm, attn) in [
        (AttnMask::Float(&pf), AttnMask::Float(&ff)),
        (AttnMask::Bool(&padding), AttnMask::Float(&ff)),
        (AttnMask::Float(&pf), AttnMask::Bool(&forbidden)),
    ] {
        let o = MultiheadAttentionOptions {
            key_padding_mask: Some(kpm),
            attn_mask: Some(attn),
            ..options()
        };
        close(
            &mha.forward_qkv(&q, &kv, &kv, o).0.to_vec(),
            &y.to_vec(),
            1e-14,
        );
    }
    // A 3-D mask [N·H, L, S], batch-major: forbidding key 3 for head 1 of sequence 0 only
    // changes sequence 0; per-head weights show it.
    let mut per_head = ArrayD::from_elem(vec![n * 2, l, s], false);
    for i in 0..l {
        per_head[[1, i, 3]] = true;
    }
    let o = MultiheadAttentionOptions {
        attn_mask: Some(AttnMask::Bool(&per_head)),
        average_attn_weights: false,
        ..options()
    };
    let (y3, w3) = mha.forward_qkv(&q, &kv, &kv, o);
    let w3 = w3.unwrap().to_array(); // [N, H, L, S]
    assert_eq!(w3.shape(), &[2, 2, 3, 4]);
    assert!((0..l).all(|i| w3[[0, 1, i, 3]] == 0.0 && w3[[0, 0, i, 3]] > 0.0));
    let (plain, averaged) = mha.forward_qkv(&q, &kv, &kv, options());
    close(
        &y3.narrow(1, 1, 1).to_vec(),
        &plain.narrow(1, 1, 1).to_vec(),
        1e-14,
    );
    assert_ne!(y3.narrow(1, 0, 1).to_vec(), plain.narrow(1, 0, 1).to_vec());
    // average_attn_weights is the mean over heads.
    let (_, separate) = mha.forward_qkv(
        &q,
        &kv,
        &kv,
        MultiheadAttentionOptions {
            average_attn_weights: false,
            ..options()
        },
    );
    close(
        &separate.unwrap().mean_axes(&[1], false).to_vec(),
        &averaged.unwrap().to_vec(),
        1e-15,
    );
}

#[test]
fn is_causal_alone_builds_the_causal_mask() {
    let mha = randomised(MultiheadAttentionConfig::default(), 4);
    let x = Tensor::<f64>::randn(&[5, 2, 6], 0.0, 1.0, 6);
    let causal = MultiheadAttentionOptions {
        is_causal: true,
        ..options()
    };
    let future = !&tril_mask(5, 5, 0); // true = masked out: MHA's convention
    let explicit = MultiheadAttentionOptions {
        attn_mask: Some(AttnMask::Bool(&future)),
        ..options()
    };
    let (y, w) = mha.forward_qkv(&x, &x, &x, causal);
    close(
        &y.to_vec(),
        &mha.forward_qkv(&x, &x, &x, explicit).0.to_vec(),
        0.0,
    );
    let w = w.unwrap().to_array();
    assert!(w
        .indexed_iter()
        .all(|(ix, &v)| (ix[2] > ix[1]) == (v == 0.0)));
    // The first output depends on the first position only: changing the last leaves it.
    let mut later = x.to_array();
    later[[4, 0, 0]] += 1.0;
    let y2 = mha
        .forward_qkv(
            &Tensor::from_array(later.clone()),
            &Tensor::from_array(later.clone()),
            &Tensor::from_array(later),
            causal,
        )
        .0;
    close(
        &y2.narrow(0, 0, 4).to_vec(),
        &y.narrow(0, 0, 4).to_vec(),
        1e-14,
    );
}

#[test]
fn a_fully_padded_sequence_gives_the_output_bias_and_finite_gradients() {
    let mha = randomised(MultiheadAttentionConfig::default(), 5);
    let x = Tensor::<f64>::randn(&[3, 2, 6], 0.0, 1.0, 7).requires_grad();
    let mut padding = ArrayD::from_elem(vec![2, 3], false);
    for j in 0..3 {
        padding[[1, j]] = true; // sequence 1 is all padding
    }
    let o = MultiheadAttentionOptions {
        key_padding_mask: Some(AttnMask::Bool(&padding)),
        ..options()
    };
    let (y, w) = mha.forward_qkv(&x, &x, &x, o);
    let bias = mha.out_proj_bias().unwrap().value();
    for i in 0..3 {
        let row = y.narrow(0, i, 1).narrow(1, 1, 1).to_vec();
        close(&row, &bias.iter().copied().collect::<Vec<_>>(), 0.0);
    }
    assert!(w
        .unwrap()
        .narrow(0, 1, 1)
        .to_vec()
        .iter()
        .all(|&v| v == 0.0));
    (&y * &Tensor::randn(&[3, 2, 6], 0.0, 1.0, 8))
        .sum()
        .backward();
    assert!(x.grad().unwrap().to_vec().iter().all(|g| g.is_finite()));
    for (name, p) in mha.named_parameters() {
        assert!(p.grad().unwrap().iter().all(|g| g.is_finite()), "{name}");
    }
}

#[test]
fn dropout_acts_in_training_only() {
    let config = MultiheadAttentionConfig {
        dropout: 0.5,
        ..Default::default()
    };
    let mut mha = randomised(config, 6);
    let x = Tensor::<f64>::randn(&[4, 2, 6], 0.0, 1.0, 9);
    let (a, b) = (mha.forward(&x).to_vec(), mha.forward(&x).to_vec());
    assert_ne!(a, b, "each training pass draws a mask");
    let (_, w) = mha.forward_qkv(&x, &x, &x, options());
    let w = w.unwrap().to_vec();
    assert!(w.contains(&0.0), "some weights dropped");
    Module::<f64>::set_training(&mut mha, false);
    let eval = mha.forward(&x).to_vec();
    assert_eq!(eval, mha.forward(&x).to_vec());
    let no_dropout = randomised(MultiheadAttentionConfig::default(), 6);
    close(&eval, &no_dropout.forward(&x).to_vec(), 0.0);
}

#[test]
fn gradients_pass_finite_differences_and_the_key_bias_gets_none() {
    let mha = randomised(MultiheadAttentionConfig::default(), 7);
    let q = Tensor::<f64>::randn(&[3, 2, 6], 0.0, 1.0, 10);
    let kv = Tensor::<f64>::randn(&[4, 2, 6], 0.0, 1.0, 11);
    let r = Tensor::<f64>::rand_uniform(&[3, 2, 6], -1.0, 1.0, 12);
    let mut padding = ArrayD::from_elem(vec![2, 4], false);
    padding[[0, 3]] = true;
    let o = MultiheadAttentionOptions {
        key_padding_mask: Some(AttnMask::Bool(&padding)),
        ..options()
    };
    let grads = check_parameters(&mha, || (mha.forward_qkv(&q, &kv, &kv, o).0 * &r).sum());
    // softmax(q·(k + b_k)) = softmax(q·k + q·b_k): q·b_k is the same for every key of a row,
    // so b_k cancels and its gradient is 0 — up to rounding, hence an absolute floor.
    let (_, in_bias) = &grads[1];
    let key_slice = &in_bias.as_slice().unwrap()[6..12];
    assert!(key_slice.iter().all(|g| g.abs() < 1e-14), "{key_slice:?}");
    assert!(in_bias.as_slice().unwrap()[..6]
        .iter()
        .any(|g| g.abs() > 1e-3));
    // And the inputs, by gradcheck.
    tapegrad_tensor::gradcheck::gradcheck(
        "multihead_attention",
        |t| mha.forward_qkv(&t[0], &t[1], &t[2], o).0,
        &[
            q.to_array(),
            kv.to_array(),
            Tensor::<f64>::randn(&[4, 2, 6], 0.0, 1.0, 13).to_array(),
        ],
    )
    .unwrap();
    // Second order runs (a Hessian-vector product is the gradient of ⟨∇L, v⟩).
    let x = q.clone().requires_grad();
    let loss = (mha.forward(&x) * &r).sum();
    let g = tapegrad_tensor::grad(&loss, &[&x], true).unwrap().remove(0);
    let hv = tapegrad_tensor::grad(&(&g * &r).sum(), &[&x], false)
        .unwrap()
        .remove(0);
    assert!(
        hv.to_vec().iter().all(|v| v.is_finite()) && hv.to_vec().iter().any(|v| v.abs() > 1e-6)
    );
}

#[test]
#[should_panic(expected = "MultiheadAttention: embed_dim 10 is not divisible by num_heads 3")]
fn heads_must_divide_the_width() {
    MultiheadAttention::<f64>::new(10, 3, 0);
}

#[test]
#[should_panic(
    expected = "MultiheadAttention: attn_mask of shape [3, 3]; expected [L, S] = [3, 4] or [N·num_heads, L, S] = [4, 3, 4]"
)]
fn a_mask_of_the_wrong_shape_is_named() {
    let mha = MultiheadAttention::<f64>::new(6, 2, 0);
    let q = Tensor::<f64>::zeros(&[3, 2, 6]);
    let kv = Tensor::<f64>::zeros(&[4, 2, 6]);
    let wrong = ArrayD::from_elem(vec![3, 3], false);
    let o = MultiheadAttentionOptions {
        attn_mask: Some(AttnMask::Bool(&wrong)),
        ..options()
    };
    mha.forward_qkv(&q, &kv, &kv, o);
}
