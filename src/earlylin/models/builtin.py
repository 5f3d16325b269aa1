"""The registry's built-in networks. Every factory takes the input shape (without the batch
dimension), a seeded ``torch.Generator`` and keyword arguments, and returns an ``nn.Module``
with one output per input. Weights are drawn in float64 (the registry casts the module to the
training dtype afterwards), so one seed is one network in any precision.

* ``fc`` and ``cnn``: the paper's networks of Figures 3-4 (NTK parameterisation, no biases,
  ``deep.networks``).
* ``residual_cnn``: a stem convolution, ``blocks`` residual blocks
  h <- (h + conv(phi(h))) / sqrt(2) (the 1/sqrt(2) keeps the variance of h at every depth) and a
  flatten readout of phi(h); every layer in the NTK parameterisation, circular padding.
* ``fc_standard``: the FC net in the standard parameterisation: W ~ N(0, weight_std^2 /
  fan_in) and z = W x with no 1/sqrt(fan_in) in the forward pass. Its function at
  initialisation is the NTK-parameterised net's, but its NTK grows like the width, so its
  learning rate must shrink like 1/width (Jacot et al. 2018; Lee et al. 2019, Section 2).
"""

from __future__ import annotations

import functools
import math

import torch
from torch import nn
from torch.nn import functional as F

from ..activations import as_activation
from ..deep.networks import ActivationLayer, ConvolutionalNTK, FullyConnectedNTK, NTKConv2d, NTKLinear

Tensor = torch.Tensor


def _image_shape(input_shape: tuple[int, ...], name: str) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise ValueError(f"the {name} needs image inputs of shape (C, H, W), got inputs of shape {tuple(input_shape)}")
    return tuple(int(s) for s in input_shape)  # type: ignore[return-value]


def fully_connected(
    input_shape: tuple[int, ...],
    generator: torch.Generator,
    depth: int = 4,
    width: int = 512,
    activation: str = "erf",
) -> nn.Module:
    """The paper's FC net (Figure 3: depth 4, width 512, erf), NTK parameterisation."""
    return FullyConnectedNTK(math.prod(input_shape), depth, width, activation, generator, torch.float64)


def convolutional(
    input_shape: tuple[int, ...],
    generator: torch.Generator,
    depth: int = 4,
    channels: int = 256,
    filter_size: int = 3,
    activation: str = "erf",
) -> nn.Module:
    """The paper's CNN (Figure 3: depth 4, 256 channels, 3 x 3 filters, erf), NTK parameterisation."""
    shape = _image_shape(input_shape, "CNN")
    return ConvolutionalNTK(shape, depth, channels, filter_size, activation, generator, torch.float64)


class ResidualCNN(nn.Module):
    """Stem convolution, residual blocks h <- (h + conv(phi(h))) / sqrt(2), readout of phi(h)."""

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        generator: torch.Generator,
        blocks: int,
        channels: int,
        filter_size: int,
        activation: str,
    ):
        super().__init__()
        if blocks < 1 or channels < 1:
            raise ValueError(f"need blocks, channels >= 1, got {blocks}, {channels}")
        in_channels, height, width = input_shape
        dtype = torch.float64
        self.stem = NTKConv2d(in_channels, channels, filter_size, generator, dtype)
        self.act = ActivationLayer(as_activation(activation))
        self.blocks = nn.ModuleList(NTKConv2d(channels, channels, filter_size, generator, dtype) for _ in range(blocks))
        self.readout = NTKLinear(channels * height * width, 1, generator, dtype)
        self.input_shape = input_shape
        self.activation_elements = channels * height * width

    def forward(self, x: Tensor) -> Tensor:
        h = self.stem(x.reshape(x.shape[0], *self.input_shape))
        for conv in self.blocks:
            h = (h + conv(self.act(h))) * math.sqrt(0.5)
        return self.readout(self.act(h).flatten(1)).squeeze(-1)


def residual_cnn(
    input_shape: tuple[int, ...],
    generator: torch.Generator,
    blocks: int = 2,
    channels: int = 64,
    filter_size: int = 3,
    activation: str = "relu",
) -> nn.Module:
    """A small residual CNN (NTK parameterisation): stem, ``blocks`` residual blocks, readout."""
    return ResidualCNN(_image_shape(input_shape, "residual CNN"), generator, blocks, channels, filter_size, activation)


class StandardLinear(nn.Module):
    """Dense layer z = W x, W ~ N(0, weight_std^2 / fan_in), no bias (standard parameterisation)."""

    def __init__(
        self, in_features: int, out_features: int, generator: torch.Generator, dtype: torch.dtype, weight_std: float
    ):
        super().__init__()
        draw = torch.randn((out_features, in_features), generator=generator, dtype=torch.float64)
        self.weight = nn.Parameter((draw * (weight_std / math.sqrt(in_features))).to(dtype))

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight)


def fully_connected_standard(
    input_shape: tuple[int, ...],
    generator: torch.Generator,
    depth: int = 4,
    width: int = 512,
    activation: str = "erf",
    weight_std: float = 1.0,
) -> nn.Module:
    """The FC net in the standard parameterisation (its learning rate must scale like 1/width)."""
    layer = functools.partial(StandardLinear, weight_std=weight_std)
    return FullyConnectedNTK(math.prod(input_shape), depth, width, activation, generator, torch.float64, layer)


BUILTIN_FACTORIES = {
    "fc": fully_connected,
    "cnn": convolutional,
    "residual_cnn": residual_cnn,
    "fc_standard": fully_connected_standard,
}
