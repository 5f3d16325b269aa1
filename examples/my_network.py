"""An example of a network a user brings to fig_models (docs/your-network.md): a
two-hidden-layer tanh MLP in the NTK parameterisation with a skip connection from the
first hidden layer to the readout. Named in the config as
``network: examples/my_network.py:build``; the workflow calls
``build(input_shape, generator, **kwargs)``."""

import math

import torch
from torch import nn


class SkipMLP(nn.Module):
    def __init__(self, d: int, width: int, generator: torch.Generator):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(width, d, generator=generator))
        self.w2 = nn.Parameter(torch.randn(width, width, generator=generator))
        self.readout = nn.Parameter(torch.randn(width, generator=generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        h1 = torch.tanh(x @ self.w1.T / math.sqrt(self.w1.shape[1]))
        h2 = torch.tanh(h1 @ self.w2.T / math.sqrt(self.w2.shape[1]))
        return (h1 + h2) @ self.readout / math.sqrt(2 * self.readout.shape[0])  # one output per input


def build(input_shape: tuple[int, ...], generator: torch.Generator, width: int = 256) -> nn.Module:
    return SkipMLP(math.prod(input_shape), width, generator)
