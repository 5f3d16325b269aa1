"""Small networks as users write them, each a factory ``name(input_shape, generator, **kwargs)``
of the registry: the ones the engine trains (``ACCEPTED``) and the ones its front door refuses
(``REFUSED``, with the words their message must hold). The unit tests build them by name; the
workflow tests copy this file next to a config that names ``user_modules.py:<factory>``."""

from __future__ import annotations

import math

import torch
from torch import nn


def _width(input_shape) -> int:
    return math.prod(input_shape)


class _Flat(nn.Module):
    """Flatten the inputs, apply ``body``, read one output per input."""

    def __init__(self, body: nn.Module, features: int, readout_shape: str = "scalar"):
        super().__init__()
        self.body = body
        self.readout = nn.Linear(features, 1)
        self.readout_shape = readout_shape

    def forward(self, x):
        out = self.readout(self.body(x.flatten(1)))  # (batch, 1)
        return out if self.readout_shape == "column" else out[:, 0]


def readout_column(input_shape, generator, width=16):
    """A readout nn.Linear(width, 1): outputs of shape (batch, 1)."""
    return _Flat(nn.Sequential(nn.Linear(_width(input_shape), width), nn.Tanh()), width, "column")


def readout_vector(input_shape, generator, width=16):
    """The same network with outputs of shape (batch,)."""
    return _Flat(nn.Sequential(nn.Linear(_width(input_shape), width), nn.Tanh()), width)


def readout_classes(input_shape, generator, width=16, classes=1):
    """k classes (fig_classes): a readout nn.Linear(width, classes), outputs (batch, classes);
    ``classes`` is the factory argument a config names as the network's outputs_argument."""
    body = nn.Sequential(nn.Flatten(), nn.Linear(_width(input_shape), width), nn.Tanh(), nn.Linear(width, classes))
    return body


class WeightSharing(nn.Module):
    def __init__(self, d, width):
        super().__init__()
        self.inp = nn.Linear(d, width)
        self.shared = nn.Linear(width, width)  # applied twice
        self.out = nn.Linear(width, 1)

    def forward(self, x):
        h = torch.tanh(self.inp(x.flatten(1)))
        h = torch.tanh(self.shared(h))
        h = torch.tanh(self.shared(h))
        return self.out(h)[:, 0]


def weight_sharing(input_shape, generator, width=16):
    return WeightSharing(_width(input_shape), width)


def frozen_layer(input_shape, generator, width=16):
    """A first layer left at its initial weights (requires_grad False)."""
    first = nn.Linear(_width(input_shape), width)
    first.requires_grad_(False)
    return _Flat(nn.Sequential(first, nn.Tanh(), nn.Linear(width, width), nn.Tanh()), width)


class WithBuffer(nn.Module):
    def __init__(self, d, width):
        super().__init__()
        self.register_buffer("centre", torch.linspace(-0.5, 0.5, d))
        self.net = nn.Sequential(nn.Linear(d, width), nn.Tanh(), nn.Linear(width, 1))

    def forward(self, x):
        return self.net(x.flatten(1) - self.centre)[:, 0]


def with_buffer(input_shape, generator, width=16):
    return WithBuffer(_width(input_shape), width)


class TransformerBlock(nn.Module):
    """Rows of the image as tokens, a learned position embedding, one pre-norm block of
    single-head attention written out (softmax(q k^T / sqrt(dim)) v) and an MLP, mean over
    tokens, a linear readout."""

    def __init__(self, input_shape, model=8):
        super().__init__()
        channels, height, width = input_shape
        self.tokens = nn.Linear(channels * width, model)
        self.position = nn.Embedding(height, model)
        self.norm1, self.norm2 = nn.LayerNorm(model), nn.LayerNorm(model)
        self.qkv = nn.Linear(model, 3 * model)
        self.mlp = nn.Sequential(nn.Linear(model, 2 * model), nn.GELU(), nn.Linear(2 * model, model))
        self.out = nn.Linear(model, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        tokens = self.tokens(x.permute(0, 2, 1, 3).reshape(b, h, c * w))
        tokens = tokens + self.position(torch.arange(h, device=x.device))
        q, k, v = self.qkv(self.norm1(tokens)).chunk(3, dim=-1)
        attention = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(q.shape[-1]), dim=-1)
        tokens = tokens + attention @ v
        tokens = tokens + self.mlp(self.norm2(tokens))
        return self.out(tokens.mean(1))[:, 0]


def transformer_block(input_shape, generator, model=8):
    return TransformerBlock(input_shape, model)


class TorchTransformerLayer(nn.Module):
    """The same tokens through PyTorch's own nn.TransformerEncoderLayer (no dropout): its fused
    attention has no forward-mode derivatives on the CPU, so it trains without a linearised
    network."""

    def __init__(self, input_shape, model=8):
        super().__init__()
        channels, height, width = input_shape
        self.tokens = nn.Linear(channels * width, model)
        self.block = nn.TransformerEncoderLayer(model, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True)
        self.out = nn.Linear(model, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        return self.out(self.block(self.tokens(x.permute(0, 2, 1, 3).reshape(b, h, c * w))).mean(1))[:, 0]


def torch_transformer_layer(input_shape, generator, model=8):
    return TorchTransformerLayer(input_shape, model)


def inplace_relu(input_shape, generator, width=16):
    body = nn.Sequential(nn.Linear(_width(input_shape), width), nn.ReLU(inplace=True), nn.Linear(width, width))
    return _Flat(nn.Sequential(body, nn.ReLU(inplace=True)), width)


class Embedded(nn.Module):
    """Hidden features of the pixels beside a learned embedding (an nn.Embedding looked up at a
    fixed index, as a class token is), read out together."""

    def __init__(self, d, width=16, dim=4):
        super().__init__()
        self.hidden = nn.Linear(d, width)
        self.token = nn.Embedding(1, dim)
        self.out = nn.Linear(width + dim, 1)

    def forward(self, x):
        token = self.token(torch.zeros(x.shape[0], dtype=torch.long, device=x.device))
        return self.out(torch.cat([torch.tanh(self.hidden(x.flatten(1))), token], dim=1))[:, 0]


def embedding(input_shape, generator):
    return Embedded(_width(input_shape))


# The learning rate every accepted module trains at: stable on the preview's MNIST 0 vs 1 (7x7,
# batch 100) for 100 steps, where 0.5 makes the attention block and the embedding diverge.
LR = 0.1

ACCEPTED = (
    "readout_column",
    "readout_vector",
    "weight_sharing",
    "frozen_layer",
    "with_buffer",
    "transformer_block",
    "inplace_relu",
    "embedding",
)

# ---------------------------------------------------------------------------------------
# Refused, each for its own reason
# ---------------------------------------------------------------------------------------


def batchnorm(input_shape, generator, width=16):
    d = _width(input_shape)
    return _Flat(nn.Sequential(nn.Linear(d, width), nn.BatchNorm1d(width), nn.Tanh()), width)


def dropout(input_shape, generator, width=16):
    d = _width(input_shape)
    return _Flat(nn.Sequential(nn.Linear(d, width), nn.Tanh(), nn.Dropout(0.5)), width)


class TwoHeads(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.a, self.b = nn.Linear(d, 1), nn.Linear(d, 1)

    def forward(self, x):
        x = x.flatten(1)
        return self.a(x)[:, 0], self.b(x)[:, 0]


def tuple_output(input_shape, generator):
    return TwoHeads(_width(input_shape))


def two_outputs(input_shape, generator):
    return nn.Sequential(nn.Flatten(), nn.Linear(_width(input_shape), 2))


def scripted(input_shape, generator):
    return torch.jit.script(nn.Sequential(nn.Flatten(), nn.Linear(_width(input_shape), 1), nn.Flatten(0)))


class _Square(torch.autograd.Function):
    """An autograd.Function in the old style: forward takes ctx, no setup_context."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x * grad


class OldFunction(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.inp, self.out = nn.Linear(d, 8), nn.Linear(8, 1)

    def forward(self, x):
        return self.out(_Square.apply(self.inp(x.flatten(1))))[:, 0]


def old_function(input_shape, generator):
    return OldFunction(_width(input_shape))


class Item(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.lin = nn.Linear(d, 1)

    def forward(self, x):
        scale = float(self.lin.weight.abs().max().item())
        return self.lin(x.flatten(1))[:, 0] / scale + 0 * x.flatten(1)[:, 0].sum().item()


def item_call(input_shape, generator):
    return Item(_width(input_shape))


class Branches(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.lin = nn.Linear(d, 1)

    def forward(self, x):
        out = self.lin(x.flatten(1))[:, 0]
        if x.abs().max() > 1e6:  # never taken, but a Python branch on the inputs' values
            out = out * 0
        return out


def control_flow(input_shape, generator):
    return Branches(_width(input_shape))


def not_finite(input_shape, generator):
    net = nn.Sequential(nn.Flatten(), nn.Linear(_width(input_shape), 1), nn.Flatten(0))
    with torch.no_grad():
        net[1].bias.fill_(float("inf"))
    return net


# factory -> words its refusal must hold (the cause and the fix)
REFUSED = {
    "batchnorm": (
        "1 BatchNorm layer (body.1) whose outputs depend on the rest of the batch",
        ".batch_norm: frozen (the statistics of the initial network on the training inputs",
        "or group (each BatchNorm replaced by a GroupNorm)",
    ),
    "dropout": ("its outputs are random", "Dropout in training mode", "eval mode"),
    "tuple_output": ("returns a tuple of 2 entries, not one tensor", "Return one tensor"),
    "two_outputs": (
        "returns outputs of shape (16, 2) for a batch of 16 inputs, not one output per input",
        "nn.Linear(features, 1)",
    ),
    "scripted": ("TorchScript module", "do not script or trace it"),
    "old_function": ("torch.autograd.Function without a setup_context", "setup_context staticmethod"),
    "item_call": (".item()", "Keep values as tensors", "user_modules.py, line", ".item())"),
    "control_flow": (
        "an if/while on a tensor's value",
        "torch.where",
        "user_modules.py, line",
        "if x.abs().max() > 1e6",
    ),
    "not_finite": ("outputs at initialisation are not all finite",),
    # with its linearised network trained (the default)
    "torch_transformer_layer": ("needs forward-mode derivatives (torch.func.jvp)", "linearise: false"),
}
# refused only because its linearised network is trained: accepted without it
WITHOUT_LINEARISED = ("torch_transformer_layer",)
