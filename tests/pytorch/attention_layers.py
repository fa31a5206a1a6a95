"""Numbers PyTorch computes for tests/attention_layers.rs, pinned because CI has no Python.

Run from the workspace root with torch (2.x) and safetensors:

    python tests/pytorch/attention_layers.py

It rewrites `tests/pytorch/attention_expected.rs` (constants) and the state-dict fixtures
`tests/data/torch_{mha,mha_batch_first,encoder_post_relu,encoder_pre_gelu,encoder_stack,tied_lm}
.safetensors` (a few KB each). Everything is float64, in evaluation mode with dropout 0 (so
torch's random dropout masks never enter). Inputs are made by formula on both sides, value k
of a tensor being sin(0.37·k + phase)·scale, and losses weight outputs by cos(0.23·k), as in
reference.py. The weights are torch's own seeded initialisation (biases, which torch starts at
0, set from the same formula so that they matter), exported in the fixtures, which the Rust
test loads as a user would load a torch model.
"""

import math
import pathlib

import torch
from safetensors.torch import save_file

torch.set_default_dtype(torch.float64)
HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parent / "data"
OUT = {}
INF = float("-inf")


def wave(shape, phase, scale=1.0):
    n = math.prod(shape)
    return torch.tensor([math.sin(0.37 * k + phase) * scale for k in range(n)]).reshape(shape)


def cosw(shape):
    n = math.prod(shape)
    return torch.tensor([math.cos(0.23 * k) for k in range(n)]).reshape(shape)


def emit(name, t):
    OUT[name] = [float(v) for v in t.detach().reshape(-1).tolist()]


def leaf(t):
    return t.clone().requires_grad_(True)


def set_biases(module, phase):
    """torch starts attention biases at 0; give every bias a value so that it matters."""
    with torch.no_grad():
        for k, (name, p) in enumerate(module.named_parameters()):
            if name.endswith("bias"):
                p.copy_(wave(p.shape, phase + k, 0.3))


def export(module, name):
    save_file({k: v.detach().clone().contiguous() for k, v in module.state_dict().items()},
              str(DATA / name))


def emit_param_grads(prefix, module):
    for name, p in module.named_parameters():
        emit(prefix + "_GRAD_" + name.upper().replace(".", "_"), p.grad)


# ------------------------------------------------------------- MultiheadAttention, seq-first

torch.manual_seed(0)
mha = torch.nn.MultiheadAttention(4, 2).eval()
set_biases(mha, 0.5)
export(mha, "torch_mha.safetensors")
query, key, value = leaf(wave([3, 2, 4], 0.0)), leaf(wave([5, 2, 4], 1.0)), leaf(wave([5, 2, 4], 2.0, 0.5))
padding = torch.tensor([[False, False, False, True, True], [False, False, False, False, False]])
forbidden = torch.zeros(3, 5, dtype=torch.bool)
forbidden[0, 1] = True
forbidden[2, 0] = True
out, weights = mha(query, key, value, key_padding_mask=padding, attn_mask=forbidden)
loss = (out * cosw(out.shape)).sum() + (weights * cosw(weights.shape)).sum()
loss.backward()
emit("MHA_OUT", out)
emit("MHA_WEIGHTS", weights)
emit("MHA_GRAD_QUERY", query.grad)
emit("MHA_GRAD_KEY", key.grad)
emit("MHA_GRAD_VALUE", value.grad)
emit_param_grads("MHA", mha)

# is_causal, unbatched [L, E]: torch needs the mask as well as the hint; tapegrad only the hint.
mha.zero_grad()
x = leaf(wave([4, 4], 0.3))
causal = torch.ones(4, 4, dtype=torch.bool).triu(1)  # true = masked out
out, _ = mha(x, x, x, attn_mask=causal, is_causal=True, need_weights=False)
(out * cosw(out.shape)).sum().backward()
emit("MHA_CAUSAL_OUT", out)
emit("MHA_CAUSAL_GRAD_X", x.grad)
emit("MHA_CAUSAL_GRAD_IN_PROJ_WEIGHT", mha.in_proj_weight.grad)

# ------------------------------------------------------------ MultiheadAttention, batch_first

torch.manual_seed(1)
mha_bf = torch.nn.MultiheadAttention(4, 2, batch_first=True).eval()
set_biases(mha_bf, 1.5)
export(mha_bf, "torch_mha_batch_first.safetensors")
x = leaf(wave([2, 4, 4], 0.7))  # [N, L, E], self-attention
bias = wave([4, 4, 4], 2.5, 0.5)  # [N·H, L, S]
bias[0, 1, 2] = INF
bias[3, 0, 1] = INF
bias[1, 2, :3] = INF
out, weights = mha_bf(x, x, x, attn_mask=bias, average_attn_weights=False)
loss = (out * cosw(out.shape)).sum() + (weights * cosw(weights.shape)).sum()
loss.backward()
emit("MHA_BF_OUT", out)
emit("MHA_BF_WEIGHTS", weights)
emit("MHA_BF_GRAD_X", x.grad)
emit_param_grads("MHA_BF", mha_bf)

# ------------------------------------------------------------------ TransformerEncoderLayer


def encoder_case(prefix, fixture, layer, src, **kwargs):
    set_biases(layer, 3.0)
    export(layer, fixture)
    out = layer(src, **kwargs)
    (out * cosw(out.shape)).sum().backward()
    emit(prefix + "_OUT", out)
    emit(prefix + "_GRAD_SRC", src.grad)
    emit_param_grads(prefix, layer)


torch.manual_seed(2)
post = torch.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0).eval()
src = leaf(wave([4, 2, 4], 0.1))  # [L, N, d]
src_mask = torch.ones(4, 4, dtype=torch.bool).triu(1)
src_padding = torch.tensor([[False, False, False, False], [False, False, False, True]])
encoder_case("POST_RELU", "torch_encoder_post_relu.safetensors", post, src,
             src_mask=src_mask, src_key_padding_mask=src_padding)

torch.manual_seed(3)
pre = torch.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0, activation="gelu",
                                       layer_norm_eps=1e-6, batch_first=True, norm_first=True).eval()
encoder_case("PRE_GELU", "torch_encoder_pre_gelu.safetensors", pre, leaf(wave([2, 3, 4], 0.9)))

# A stack of two pre-norm layers and a final norm, causal. torch copies one layer twice, so
# layer 1 is moved away from layer 0 before export (else a mix-up could not show).
torch.manual_seed(4)
block = torch.nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0, norm_first=True)
stack = torch.nn.TransformerEncoder(block, 2, norm=torch.nn.LayerNorm(4),
                                    enable_nested_tensor=False).eval()
with torch.no_grad():
    for k, p in enumerate(stack.layers[1].parameters()):
        p.add_(wave(p.shape, 4.0 + k, 0.2))
set_biases(stack, 5.0)
export(stack, "torch_encoder_stack.safetensors")
src = leaf(wave([5, 2, 4], 1.3))
mask = torch.nn.Transformer.generate_square_subsequent_mask(5)
out = stack(src, mask=mask, is_causal=True)
(out * cosw(out.shape)).sum().backward()
emit("STACK_OUT", out)
emit("STACK_GRAD_SRC", src.grad)
emit("STACK_GRAD_LAYERS_1_LINEAR1_WEIGHT", stack.layers[1].linear1.weight.grad)
emit("STACK_GRAD_NORM_WEIGHT", stack.norm.weight.grad)

# ------------------------------------------------- a tiny decoder-only LM with a tied head


class TinyLm(torch.nn.Module):
    def __init__(self, vocab, d, length):
        super().__init__()
        self.tok_emb = torch.nn.Embedding(vocab, d)
        self.pos_emb = torch.nn.Embedding(length, d)
        self.block = torch.nn.TransformerEncoderLayer(d, 2, dim_feedforward=8, dropout=0.0,
                                                      activation="gelu", batch_first=True,
                                                      norm_first=True)
        self.ln_f = torch.nn.LayerNorm(d)
        self.lm_head = torch.nn.Linear(d, vocab, bias=False)
        self.lm_head.weight = self.tok_emb.weight  # tied: one tensor, two names

    def forward(self, ids):
        t = ids.shape[1]
        h = self.tok_emb(ids) + self.pos_emb(torch.arange(t))
        causal = torch.nn.Transformer.generate_square_subsequent_mask(t)
        h = self.block(h, src_mask=causal, is_causal=True)
        return self.lm_head(self.ln_f(h))


torch.manual_seed(5)
lm = TinyLm(7, 4, 6).eval()
set_biases(lm, 6.0)
assert set(lm.state_dict()) >= {"tok_emb.weight", "lm_head.weight"}
export(lm, "torch_tied_lm.safetensors")  # both names, cloned (save_file refuses shared memory)
ids = torch.tensor([[1, 4, 6, 0, 2], [3, 3, 5, 1, 6]])
logits = lm(ids)
(logits * cosw(logits.shape)).sum().backward()
emit("LM_LOGITS", logits)
emit("LM_GRAD_TOK_EMB", lm.tok_emb.weight.grad)  # both uses: the lookup and the head
emit("LM_GRAD_POS_EMB", lm.pos_emb.weight.grad)

# --------------------------------------------------------- sinusoidal positions (tutorial)

length, d = 6, 8
position = torch.arange(length).unsqueeze(1)
div_term = torch.exp(torch.arange(0, d, 2) * (-math.log(10000.0) / d))
pe = torch.zeros(length, d)
pe[:, 0::2] = torch.sin(position * div_term)
pe[:, 1::2] = torch.cos(position * div_term)
emit("SINUSOIDAL_6_8", pe)

lines = [
    "// Generated by tests/pytorch/attention_layers.py with torch " + torch.__version__ + "; do not edit.",
    "// Values in row-major order, float64.",
    "",
]
for name, values in OUT.items():
    body = ", ".join(repr(v) for v in values)
    lines.append(f"pub const {name}: &[f64] = &[{body}];")
(HERE / "attention_expected.rs").write_text("\n".join(lines) + "\n")
print(f"wrote {len(OUT)} constants to {HERE / 'attention_expected.rs'}")
