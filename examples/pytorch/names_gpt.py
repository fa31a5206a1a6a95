"""PyTorch reference for examples/names_gpt.rs: the same causal transformer on the same data.

The 2-layer, 4-head, width-64 pre-norm transformer with context 16, trained with AdamW
(lr 3e-3, torch's default weight decay 0.01) on batches of 128 names for 3,000 steps; prints
its test negative log-likelihood in nats per character and its milliseconds per step.

    python examples/pytorch/names_gpt.py [--threads 1] [--steps 3000] [--seed 0]
    python examples/pytorch/names_gpt.py --check target/names_gpt.safetensors

With --check, it loads the checkpoint the example saved (its model tensors are a state_dict
under these names) and prints the nats per character of all 88,799 names, which the
example prints too.

The split is a seeded 80/10/10 one like the example's, drawn with torch's generator (the
example draws its own with ChaCha8), so the figures agree to the spread between splits, not
bit for bit. Names are encoded as in the example: token 0 is the start and end of a name
("."), 1..26 are a..z; a name of n letters gives inputs [., c1 … cn] and targets
[c1 … cn, .], padded to 16 (padding is never a target).
"""

import argparse
import math
import pathlib
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONTEXT, VOCAB, WIDTH, HEADS, LAYERS = 16, 27, 64, 4, 2
PAD = -1


def encode(names):
    x = torch.zeros(len(names), CONTEXT, dtype=torch.long)
    y = torch.full((len(names), CONTEXT), PAD, dtype=torch.long)
    for i, name in enumerate(names):
        ids = [ord(c) - ord("a") + 1 for c in name]
        x[i, 1 : len(ids) + 1] = torch.tensor(ids)
        y[i, : len(ids) + 1] = torch.tensor(ids + [0])
    return x, y


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok_emb = nn.Embedding(VOCAB, WIDTH)
        self.pos_emb = nn.Embedding(CONTEXT, WIDTH)
        layer = nn.TransformerEncoderLayer(
            WIDTH, HEADS, 4 * WIDTH, dropout=0.0, activation="gelu",
            batch_first=True, norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, LAYERS, norm=nn.LayerNorm(WIDTH), enable_nested_tensor=False
        )
        self.head = nn.Linear(WIDTH, VOCAB)
        self.register_buffer(
            "causal", nn.Transformer.generate_square_subsequent_mask(CONTEXT), persistent=False
        )

    def forward(self, x):
        t = x.shape[1]
        h = self.tok_emb(x) + self.pos_emb(torch.arange(t))
        h = self.encoder(h, mask=self.causal[:t, :t], is_causal=True)
        return self.head(h)


def nll_per_char(model, x, y):
    """Mean negative log-likelihood over every target character (end tokens included)."""
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), 1024):
            logits = model(x[i : i + 1024])
            total += F.cross_entropy(
                logits.reshape(-1, VOCAB), y[i : i + 1024].reshape(-1),
                ignore_index=PAD, reduction="sum",
            ).item()
            count += (y[i : i + 1024] != PAD).sum().item()
    model.train()
    return total / count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", metavar="CHECKPOINT")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    path = pathlib.Path(__file__).resolve().parents[2] / "data" / "surnames.txt"
    names = path.read_text().split()
    if args.check:
        from safetensors.torch import load_file

        saved = load_file(args.check)
        state = {k: v for k, v in saved.items() if not k.startswith(("optimizer.", "best."))}
        model = Gpt()
        model.load_state_dict(state, strict=True)
        print(f"{args.check} in PyTorch: all {len(names)} names {nll_per_char(model, *encode(names)):.5f} nats/char")
        return
    order = torch.randperm(len(names)).tolist()
    n_train, n_val = round(0.8 * len(names)), round(0.1 * len(names))
    train = encode([names[i] for i in order[:n_train]])
    test = encode([names[i] for i in order[n_train + n_val :]])

    model = Gpt()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    step, start = 0, time.perf_counter()
    while step < args.steps:
        perm = torch.randperm(len(train[0]))
        for b in range(0, len(perm) - 127, 128):
            if step == args.steps:
                break
            idx = perm[b : b + 128]
            logits = model(train[0][idx])
            loss = F.cross_entropy(
                logits.reshape(-1, VOCAB), train[1][idx].reshape(-1), ignore_index=PAD
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
    ms = 1e3 * (time.perf_counter() - start) / args.steps
    print(
        f"torch {torch.__version__}, {args.threads} thread(s): test {nll_per_char(model, *test):.4f} "
        f"nats/char after {args.steps} steps, {ms:.1f} ms/step "
        f"(uniform: {math.log(VOCAB):.4f})"
    )


if __name__ == "__main__":
    main()
