"""Numbers PyTorch computed once for tests/torch_interop.rs (an MLP, a CNN and an LSTM).

Run from the repository's root with torch and safetensors installed:

    python tests/pytorch/linear_reference.py

It writes tests/data/torch_mlp.safetensors (a torch state_dict) and prints the Rust constants
that tests/torch_interop.rs pins. It also reads tests/data/tapegrad_mlp.safetensors, written by
tapegrad (`cargo test --release --test torch_interop -- --ignored write_tapegrad_fixture`), and
prints torch's outputs for those weights. CI never runs this script.
"""

import torch
from safetensors.torch import load_file, save_file

torch.set_default_dtype(torch.float64)


def mlp():
    return torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)
    )


def inputs():
    # x[i, j] = sin(0.7·i + 0.3·j) − 0.2, easy to rebuild in Rust.
    i = torch.arange(5.0).unsqueeze(1)
    j = torch.arange(3.0).unsqueeze(0)
    return torch.sin(0.7 * i + 0.3 * j) - 0.2


def rust(name, t):
    values = ", ".join(repr(v) for v in t.flatten().tolist())
    print(f"const {name}: [f64; {t.numel()}] = [{values}];")


torch.manual_seed(0)
model = mlp()
save_file(
    {k: v.contiguous() for k, v in model.state_dict().items()},
    "tests/data/torch_mlp.safetensors",
)
rust("TORCH_MLP_OUT", model(inputs()).detach())

theirs = mlp()
theirs.load_state_dict(load_file("tests/data/tapegrad_mlp.safetensors"))
rust("TAPEGRAD_MLP_IN_TORCH_OUT", theirs(inputs()).detach())


cnn = torch.nn.Sequential(
    torch.nn.Conv2d(1, 2, 3, padding=1),
    torch.nn.ReLU(),
    torch.nn.MaxPool2d(2),
    torch.nn.Flatten(),
    torch.nn.Linear(8, 3),
)
cnn.load_state_dict(load_file("tests/data/tapegrad_cnn.safetensors"))
images = torch.cos(0.5 * torch.arange(32.0)).reshape(2, 1, 4, 4)
rust("TAPEGRAD_CNN_IN_TORCH_OUT", cnn(images).detach())

lstm = torch.nn.LSTM(2, 3)
lstm.load_state_dict(load_file("tests/data/tapegrad_lstm.safetensors"))
sequences = torch.sin(0.3 * torch.arange(20.0) + 0.1).reshape(5, 2, 2)
rust("TAPEGRAD_LSTM_IN_TORCH_OUT", lstm(sequences)[0].detach())

torch.manual_seed(1)
torch_cnn = torch.nn.Sequential(
    torch.nn.Conv2d(1, 2, 3, padding=1),
    torch.nn.ReLU(),
    torch.nn.MaxPool2d(2),
    torch.nn.Flatten(),
    torch.nn.Linear(8, 3),
)
save_file(
    {k: v.contiguous() for k, v in torch_cnn.state_dict().items()},
    "tests/data/torch_cnn.safetensors",
)
rust("TORCH_CNN_OUT", torch_cnn(images).detach())
