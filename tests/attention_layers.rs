//! tapegrad's attention layers against PyTorch: `MultiheadAttention` (sequence-first with a
//! key padding mask and a boolean attention mask, batch-first with a per-head float mask
//! holding −∞, unbatched causal), `TransformerEncoderLayer` (post-norm ReLU with masks,
//! pre-norm GELU batch-first with its own ε), a two-layer causal `TransformerEncoder` with a
//! final norm, and a tiny decoder-only language model whose output head is tied to its token
//! embedding; plus the sinusoidal position table.
//!
//! Every layer's weights are torch's, saved by `tests/pytorch/attention_layers.py` with
//! `safetensors.torch.save_file(model.state_dict())` under `tests/data/`, and loaded here with
//! `io::load` into a tapegrad layer built with another seed — so the names, layouts and the
//! mask conventions are part of the check. The outputs, the attention weights and every
//! gradient were computed by torch once (float64, evaluation mode, dropout 0) and pinned in
//! `tests/pytorch/attention_expected.rs`; inputs are rebuilt here by the same formula (value
//! k is sin(0.37·k + phase)·scale, losses weight outputs by cos(0.23·k)).

use std::path::PathBuf;

use ndarray::ArrayD;
use tapegrad::models::io;
use tapegrad::models::module::{
    sinusoidal_positions, Activation, Embedding, LayerNorm, Module, MultiheadAttention,
    MultiheadAttentionConfig, MultiheadAttentionOptions, TiedLinear, TransformerEncoder,
    TransformerEncoderLayer, TransformerEncoderLayerConfig,
};
use tapegrad::tensor::{tril_mask, AttnMask, Param};
use tapegrad::Tensor;

#[rustfmt::skip]
#[allow(dead_code)]
#[path = "pytorch/attention_expected.rs"]
mod expected;

use expected::*;

mod torch_support;
use torch_support::{assert_close, cosw, grad_of, wave};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Checks the gradient of each of `module`'s parameters against torch's constant of the same
/// name (`PREFIX_GRAD_` + the name in capitals, dots as underscores).
#[track_caller]
fn assert_param_grads(module: &dyn Module<f64>, want: &[(&str, &[f64])]) {
    let named = module.named_parameters();
    assert_eq!(named.len(), want.len(), "one pinned gradient per parameter");
    for ((name, p), (want_name, want)) in named.iter().zip(want) {
        assert_eq!(name, want_name);
        let g: Vec<f64> = p.grad().expect("a gradient").iter().copied().collect();
        assert_close(name, &g, want);
    }
}

fn bool_mask(shape: &[usize], masked: &[&[usize]]) -> ArrayD<bool> {
    let mut m = ArrayD::from_elem(shape.to_vec(), false);
    for ix in masked {
        m[*ix] = true;
    }
    m
}

fn eval_mha(batch_first: bool) -> MultiheadAttention<f64> {
    let config = MultiheadAttentionConfig {
        batch_first,
        ..Default::default()
    };
    let mut mha = MultiheadAttention::with_config(4, 2, config, 99);
    Module::<f64>::set_training(&mut mha, false);
    mha
}

#[test]
fn multihead_attention_with_padding_and_a_boolean_mask_matches_torch() {
    let mha = eval_mha(false);
    io::load(&mha, fixture("torch_mha.safetensors")).unwrap();
    let query = wave(&[3, 2, 4], 0.0, 1.0).requires_grad();
    let key = wave(&[5, 2, 4], 1.0, 1.0).requires_grad();
    let value = wave(&[5, 2, 4], 2.0, 0.5).requires_grad();
    // torch's convention: true = masked out.
    let padding = bool_mask(&[2, 5], &[&[0, 3], &[0, 4]]);
    let forbidden = bool_mask(&[3, 5], &[&[0, 1], &[2, 0]]);
    let options = MultiheadAttentionOptions {
        key_padding_mask: Some(AttnMask::Bool(&padding)),
        attn_mask: Some(AttnMask::Bool(&forbidden)),
        ..Default::default()
    };
    let (out, weights) = mha.forward_qkv(&query, &key, &value, options);
    let weights = weights.unwrap();
    assert_close("output", &out.to_vec(), MHA_OUT);
    assert_close("weights", &weights.to_vec(), MHA_WEIGHTS);
    ((&out * &cosw(out.shape())).sum() + (&weights * &cosw(weights.shape())).sum()).backward();
    assert_close("∂L/∂query", &grad_of(&query), MHA_GRAD_QUERY);
    assert_close("∂L/∂key", &grad_of(&key), MHA_GRAD_KEY);
    assert_close("∂L/∂value", &grad_of(&value), MHA_GRAD_VALUE);
    assert_param_grads(
        &mha,
        &[
            ("in_proj_weight", MHA_GRAD_IN_PROJ_WEIGHT),
            ("in_proj_bias", MHA_GRAD_IN_PROJ_BIAS),
            ("out_proj.weight", MHA_GRAD_OUT_PROJ_WEIGHT),
            ("out_proj.bias", MHA_GRAD_OUT_PROJ_BIAS),
        ],
    );
    // The key slice of in_proj_bias shifts every score of a row by the same q·b_k, which the
    // softmax cancels: its gradient is 0, and both sides hold only rounding noise (torch's is
    // ~1e-17). A relative comparison of two noises would be meaningless: an absolute floor.
    let g = mha.in_proj_bias().unwrap().grad().unwrap();
    let key_slice = &g.as_slice().unwrap()[4..8];
    assert!(key_slice.iter().all(|v| v.abs() < 1e-12), "{key_slice:?}");
    assert!(MHA_GRAD_IN_PROJ_BIAS[4..8].iter().all(|v| v.abs() < 1e-12));
    assert!(
        g.as_slice().unwrap()[8..].iter().all(|v| v.abs() > 1e-3),
        "the value slice is not 0"
    );
}

#[test]
fn unbatched_causal_attention_needs_only_the_hint() {
    // torch: attn_mask = the causal mask and is_causal = true; tapegrad builds the mask.
    let mha = eval_mha(false);
    io::load(&mha, fixture("torch_mha.safetensors")).unwrap();
    let x = wave(&[4, 4], 0.3, 1.0).requires_grad();
    let options = MultiheadAttentionOptions {
        is_causal: true,
        need_weights: false,
        ..Default::default()
    };
    let (out, weights) = mha.forward_qkv(&x, &x, &x, options);
    assert!(weights.is_none());
    assert_close("output", &out.to_vec(), MHA_CAUSAL_OUT);
    (&out * &cosw(out.shape())).sum().backward();
    assert_close("∂L/∂x", &grad_of(&x), MHA_CAUSAL_GRAD_X);
    let g: Vec<f64> = mha
        .in_proj_weight()
        .grad()
        .unwrap()
        .iter()
        .copied()
        .collect();
    assert_close("∂L/∂in_proj_weight", &g, MHA_CAUSAL_GRAD_IN_PROJ_WEIGHT);
}

#[test]
fn multihead_attention_batch_first_with_a_per_head_float_mask_matches_torch() {
    let mha = eval_mha(true);
    io::load(&mha, fixture("torch_mha_batch_first.safetensors")).unwrap();
    let x = wave(&[2, 4, 4], 0.7, 1.0).requires_grad();
    let mut bias = wave(&[4, 4, 4], 2.5, 0.5).to_array(); // [N·H, L, S], batch-major
    bias[[0, 1, 2]] = f64::NEG_INFINITY;
    bias[[3, 0, 1]] = f64::NEG_INFINITY;
    for s in 0..3 {
        bias[[1, 2, s]] = f64::NEG_INFINITY;
    }
    let bias = Tensor::from_array(bias);
    let options = MultiheadAttentionOptions {
        attn_mask: Some(AttnMask::Float(&bias)),
        average_attn_weights: false,
        ..Default::default()
    };
    let (out, weights) = mha.forward_qkv(&x, &x, &x, options);
    let weights = weights.unwrap();
    assert_eq!(weights.shape(), &[2, 2, 4, 4], "[N, H, L, S]");
    assert_close("output", &out.to_vec(), MHA_BF_OUT);
    assert_close("weights", &weights.to_vec(), MHA_BF_WEIGHTS);
    ((&out * &cosw(out.shape())).sum() + (&weights * &cosw(weights.shape())).sum()).backward();
    assert_close("∂L/∂x", &grad_of(&x), MHA_BF_GRAD_X);
    assert_param_grads(
        &mha,
        &[
            ("in_proj_weight", MHA_BF_GRAD_IN_PROJ_WEIGHT),
            ("in_proj_bias", MHA_BF_GRAD_IN_PROJ_BIAS),
            ("out_proj.weight", MHA_BF_GRAD_OUT_PROJ_WEIGHT),
            ("out_proj.bias", MHA_BF_GRAD_OUT_PROJ_BIAS),
        ],
    );
}

fn eval_layer(
    config: TransformerEncoderLayerConfig,
    fixture_name: &str,
) -> TransformerEncoderLayer<f64> {
    let mut layer = TransformerEncoderLayer::new(4, 2, config, 99);
    layer.set_training(false);
    io::load(&layer, fixture(fixture_name)).unwrap();
    layer
}

fn small(config: TransformerEncoderLayerConfig) -> TransformerEncoderLayerConfig {
    TransformerEncoderLayerConfig {
        dim_feedforward: 8,
        dropout: 0.0,
        ..config
    }
}

#[test]
fn post_norm_relu_encoder_layer_with_masks_matches_torch() {
    let layer = eval_layer(
        small(TransformerEncoderLayerConfig::default()),
        "torch_encoder_post_relu.safetensors",
    );
    let src = wave(&[4, 2, 4], 0.1, 1.0).requires_grad();
    let future = !&tril_mask(4, 4, 0); // true = masked out
    let padding = bool_mask(&[2, 4], &[&[1, 3]]);
    let out = layer.forward_masked(
        &src,
        Some(AttnMask::Bool(&future)),
        Some(AttnMask::Bool(&padding)),
        false,
    );
    assert_close("output", &out.to_vec(), POST_RELU_OUT);
    (&out * &cosw(out.shape())).sum().backward();
    assert_close("∂L/∂src", &grad_of(&src), POST_RELU_GRAD_SRC);
    assert_param_grads(
        &layer,
        &[
            (
                "self_attn.in_proj_weight",
                POST_RELU_GRAD_SELF_ATTN_IN_PROJ_WEIGHT,
            ),
            (
                "self_attn.in_proj_bias",
                POST_RELU_GRAD_SELF_ATTN_IN_PROJ_BIAS,
            ),
            (
                "self_attn.out_proj.weight",
                POST_RELU_GRAD_SELF_ATTN_OUT_PROJ_WEIGHT,
            ),
            (
                "self_attn.out_proj.bias",
                POST_RELU_GRAD_SELF_ATTN_OUT_PROJ_BIAS,
            ),
            ("linear1.weight", POST_RELU_GRAD_LINEAR1_WEIGHT),
            ("linear1.bias", POST_RELU_GRAD_LINEAR1_BIAS),
            ("linear2.weight", POST_RELU_GRAD_LINEAR2_WEIGHT),
            ("linear2.bias", POST_RELU_GRAD_LINEAR2_BIAS),
            ("norm1.weight", POST_RELU_GRAD_NORM1_WEIGHT),
            ("norm1.bias", POST_RELU_GRAD_NORM1_BIAS),
            ("norm2.weight", POST_RELU_GRAD_NORM2_WEIGHT),
            ("norm2.bias", POST_RELU_GRAD_NORM2_BIAS),
        ],
    );
}

#[test]
fn pre_norm_gelu_batch_first_encoder_layer_matches_torch() {
    let config = small(TransformerEncoderLayerConfig {
        activation: Activation::Gelu,
        layer_norm_eps: 1e-6,
        batch_first: true,
        norm_first: true,
        ..Default::default()
    });
    let layer = eval_layer(config, "torch_encoder_pre_gelu.safetensors");
    let src = wave(&[2, 3, 4], 0.9, 1.0).requires_grad();
    let out = layer.forward(&src);
    assert_close("output", &out.to_vec(), PRE_GELU_OUT);
    (&out * &cosw(out.shape())).sum().backward();
    assert_close("∂L/∂src", &grad_of(&src), PRE_GELU_GRAD_SRC);
    assert_param_grads(
        &layer,
        &[
            (
                "self_attn.in_proj_weight",
                PRE_GELU_GRAD_SELF_ATTN_IN_PROJ_WEIGHT,
            ),
            (
                "self_attn.in_proj_bias",
                PRE_GELU_GRAD_SELF_ATTN_IN_PROJ_BIAS,
            ),
            (
                "self_attn.out_proj.weight",
                PRE_GELU_GRAD_SELF_ATTN_OUT_PROJ_WEIGHT,
            ),
            (
                "self_attn.out_proj.bias",
                PRE_GELU_GRAD_SELF_ATTN_OUT_PROJ_BIAS,
            ),
            ("linear1.weight", PRE_GELU_GRAD_LINEAR1_WEIGHT),
            ("linear1.bias", PRE_GELU_GRAD_LINEAR1_BIAS),
            ("linear2.weight", PRE_GELU_GRAD_LINEAR2_WEIGHT),
            ("linear2.bias", PRE_GELU_GRAD_LINEAR2_BIAS),
            ("norm1.weight", PRE_GELU_GRAD_NORM1_WEIGHT),
            ("norm1.bias", PRE_GELU_GRAD_NORM1_BIAS),
            ("norm2.weight", PRE_GELU_GRAD_NORM2_WEIGHT),
            ("norm2.bias", PRE_GELU_GRAD_NORM2_BIAS),
        ],
    );
}

#[test]
fn a_causal_encoder_stack_with_a_final_norm_matches_torch() {
    let config = small(TransformerEncoderLayerConfig {
        norm_first: true,
        ..Default::default()
    });
    let mut stack = TransformerEncoder::<f64>::new(4, 2, config, 2, true, 99).with_causal(true);
    stack.set_training(false);
    io::load(&stack, fixture("torch_encoder_stack.safetensors")).unwrap();
    let src = wave(&[5, 2, 4], 1.3, 1.0).requires_grad();
    let out = stack.forward(&src);
    assert_close("output", &out.to_vec(), STACK_OUT);
    (&out * &cosw(out.shape())).sum().backward();
    assert_close("∂L/∂src", &grad_of(&src), STACK_GRAD_SRC);
    let named = stack.named_parameters();
    let grad = |name: &str| -> Vec<f64> {
        let (_, p) = named.iter().find(|(n, _)| n == name).expect(name);
        p.grad().unwrap().iter().copied().collect()
    };
    assert_close(
        "layers.1.linear1.weight",
        &grad("layers.1.linear1.weight"),
        STACK_GRAD_LAYERS_1_LINEAR1_WEIGHT,
    );
    assert_close("norm.weight", &grad("norm.weight"), STACK_GRAD_NORM_WEIGHT);
}

/// The script's `TinyLm`: token and learned position embeddings, one pre-norm GELU causal
/// block, a final norm, and a head tied to the token embedding.
struct TinyLm {
    tok_emb: Embedding<f64>,
    pos_emb: Embedding<f64>,
    block: TransformerEncoderLayer<f64>,
    ln_f: LayerNorm<f64>,
    lm_head: TiedLinear<f64>,
}

impl TinyLm {
    fn new(seed: u64) -> Self {
        let tok_emb = Embedding::new(7, 4, seed);
        let config = small(TransformerEncoderLayerConfig {
            activation: Activation::Gelu,
            batch_first: true,
            norm_first: true,
            ..Default::default()
        });
        let mut block = TransformerEncoderLayer::new(4, 2, config, seed + 1).with_causal(true);
        block.set_training(false);
        TinyLm {
            lm_head: TiedLinear::new(tok_emb.weight(), false),
            tok_emb,
            pos_emb: Embedding::new(6, 4, seed + 2),
            block,
            ln_f: LayerNorm::new(4),
        }
    }
}

impl Module<f64> for TinyLm {
    /// Token ids `[N, T]` (as whole numbers) → logits `[N, T, vocab]`.
    fn forward(&self, ids: &Tensor<f64>) -> Tensor<f64> {
        let positions: Vec<usize> = (0..ids.shape()[1]).collect();
        let h = self.tok_emb.forward(ids) + self.pos_emb.lookup(&positions);
        self.lm_head
            .forward(&self.ln_f.forward(&self.block.forward(&h)))
    }

    /// The tied weight once, under the embedding's name: no `lm_head.weight`.
    fn named_parameters(&self) -> Vec<(String, Param<f64>)> {
        let parts: [(&str, &dyn Module<f64>); 5] = [
            ("tok_emb", &self.tok_emb),
            ("pos_emb", &self.pos_emb),
            ("block", &self.block),
            ("ln_f", &self.ln_f),
            ("lm_head", &self.lm_head),
        ];
        parts
            .into_iter()
            .flat_map(|(prefix, part)| {
                part.named_parameters()
                    .into_iter()
                    .map(move |(name, p)| (format!("{prefix}.{name}"), p))
            })
            .collect()
    }
}

#[test]
fn a_tied_language_model_loads_a_torch_state_dict_and_saves_the_weight_once() {
    // torch's state dict names the tied table twice (tok_emb.weight, lm_head.weight); the
    // fixture holds both. tapegrad reads tok_emb.weight and ignores the duplicate.
    let lm = TinyLm::new(99);
    io::load(&lm, fixture("torch_tied_lm.safetensors")).unwrap();
    let names: Vec<String> = lm.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names.iter().filter(|n| n.ends_with("emb.weight")).count(),
        2
    );
    assert!(!names.iter().any(|n| n.starts_with("lm_head")), "{names:?}");
    let ids = Tensor::from_vec(
        vec![1.0, 4.0, 6.0, 0.0, 2.0, 3.0, 3.0, 5.0, 1.0, 6.0],
        &[2, 5],
    );
    let logits = lm.forward(&ids);
    assert_eq!(logits.shape(), &[2, 5, 7]);
    assert_close("logits", &logits.to_vec(), LM_LOGITS);
    (&logits * &cosw(logits.shape())).sum().backward();
    // One table, two uses (the lookup and the head): torch's gradient is their sum, and so
    // is tapegrad's.
    let g = |p: &Param<f64>| -> Vec<f64> { p.grad().unwrap().iter().copied().collect() };
    assert_close("∂L/∂tok_emb", &g(lm.tok_emb.weight()), LM_GRAD_TOK_EMB);
    assert_close("∂L/∂pos_emb", &g(lm.pos_emb.weight()), LM_GRAD_POS_EMB);
    // Saved once: the file has tok_emb.weight and no lm_head.weight.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lm.safetensors");
    io::save(&lm, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
    assert!(
        header.contains("\"tok_emb.weight\"") && !header.contains("lm_head"),
        "{header}"
    );
    let again = TinyLm::new(7);
    io::load(&again, &path).unwrap();
    assert_eq!(again.forward(&ids).to_vec(), logits.to_vec());
}

#[test]
fn sinusoidal_positions_match_the_torch_tutorial() {
    assert_close(
        "PE",
        &sinusoidal_positions::<f64>(6, 8).to_vec(),
        SINUSOIDAL_6_8,
    );
}
