"""The built-in networks of the registry (``catalogue.BUILTIN_NETWORKS`` names each factory).
Every factory takes the input shape (without the batch dimension), a seeded
``torch.Generator`` and keyword arguments, and returns an ``nn.Module`` with one output per
input, or ``outputs`` = k per input (k classes: the readout has k rows, drawn after every
hidden layer, so the hidden weights of a seed do not depend on k). Weights are drawn in
float64 (the registry casts the module to the training dtype afterwards), so one seed is one
network in any precision.

* ``fc`` and ``cnn``: the paper's networks of Figures 3-4 (NTK parameterisation, no biases):
  ``FullyConnectedNTK``, x in R^d -> L hidden layers of width n -> scalar readout,
  z^1 = W^1 x / sqrt(d), z^{l+1} = W^{l+1} phi(z^l) / sqrt(n), f = w . phi(z^L) / sqrt(n);
  ``ConvolutionalNTK``, x in R^{C0 x H x W} -> L hidden q x q convolutions with C channels
  and circular padding (spatial size kept), fan_in = C_in q^2 -> flatten -> scalar readout
  with fan_in = C H W (no pooling).
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
from collections.abc import Callable

import torch
from torch import nn

from ..core.activations import Activation, as_activation
from .layers import ActivationLayer, NTKConv2d, NTKLinear, StandardLinear, circular_padding, make_generator

Tensor = torch.Tensor


class FullyConnectedNTK(nn.Module):
    """L-hidden-layer FC network of Figure 3 (width 512, depth 4, erf by default).

    Inputs of shape (batch, d) or (batch, *shape) are flattened; output has shape (batch,).
    Weights are drawn layer by layer, in forward order, from ``seed``. ``layer`` builds each
    dense layer from (fan_in, fan_out, generator, dtype): ``NTKLinear``, or the standard
    parameterisation's ``StandardLinear``.
    """

    def __init__(
        self,
        input_dim: int,
        depth: int = 4,
        width: int = 512,
        activation: str | Activation = "erf",
        seed: int | torch.Generator = 0,
        dtype: torch.dtype = torch.float32,
        layer: Callable[[int, int, torch.Generator, torch.dtype], nn.Module] = NTKLinear,
        outputs: int = 1,
    ):
        if depth < 1 or width < 1 or input_dim < 1 or outputs < 1:
            raise ValueError(
                f"need depth, width, input_dim, outputs >= 1, got {depth}, {width}, {input_dim}, {outputs}"
            )
        super().__init__()
        generator = make_generator(seed)
        act = as_activation(activation)
        layers: list[nn.Module] = []
        fan_in = input_dim
        for _ in range(depth):
            layers += [layer(fan_in, width, generator, dtype), ActivationLayer(act)]
            fan_in = width
        self.hidden = nn.Sequential(*layers)
        self.readout = layer(width, outputs, generator, dtype)
        self.input_dim = input_dim
        self.activation_elements = width  # per example, of the largest hidden activation

    def forward(self, x: Tensor) -> Tensor:
        return _per_input(self.readout(self.hidden(x.reshape(x.shape[0], self.input_dim))))


class ConvolutionalNTK(nn.Module):
    """L-hidden-layer CNN of Figure 3 (256 channels, 3 x 3 filters, depth 4, erf by default).

    Circular padding keeps every hidden layer at the input's H x W; the last hidden layer
    is flattened into a linear readout of fan_in C H W (no pooling). Inputs of shape
    (batch, C0, H, W) or flattened (batch, C0 H W); output has shape (batch,).
    """

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        depth: int = 4,
        channels: int = 256,
        filter_size: int = 3,
        activation: str | Activation = "erf",
        seed: int | torch.Generator = 0,
        dtype: torch.dtype = torch.float32,
        outputs: int = 1,
    ):
        super().__init__()
        in_channels, height, width = input_shape
        if depth < 1 or channels < 1 or outputs < 1:
            raise ValueError(f"need depth, channels, outputs >= 1, got {depth}, {channels}, {outputs}")
        if max(circular_padding(filter_size)) > min(height, width):
            raise ValueError(f"filter size {filter_size} too large for a {height} x {width} image")
        generator = make_generator(seed)
        act = as_activation(activation)
        layers: list[nn.Module] = []
        for layer in range(depth):
            fan_in_channels = in_channels if layer == 0 else channels
            conv = NTKConv2d(fan_in_channels, channels, filter_size, generator, dtype)
            layers += [conv, ActivationLayer(act)]
        self.hidden = nn.Sequential(*layers)
        self.readout = NTKLinear(channels * height * width, outputs, generator, dtype)
        self.input_shape = (in_channels, height, width)
        self.activation_elements = channels * height * width  # per example, largest hidden activation

    def forward(self, x: Tensor) -> Tensor:
        features = self.hidden(x.reshape(x.shape[0], *self.input_shape))
        return _per_input(self.readout(features.flatten(1)))


def _per_input(readout: Tensor) -> Tensor:
    """A readout's outputs: (batch,) for one output per input, (batch, k) for k."""
    return readout.squeeze(-1) if readout.shape[-1] == 1 else readout


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
    outputs: int = 1,
) -> nn.Module:
    """The paper's FC net (Figure 3: depth 4, width 512, erf), NTK parameterisation."""
    return FullyConnectedNTK(
        math.prod(input_shape), depth, width, activation, generator, torch.float64, outputs=outputs
    )


def convolutional(
    input_shape: tuple[int, ...],
    generator: torch.Generator,
    depth: int = 4,
    channels: int = 256,
    filter_size: int = 3,
    activation: str = "erf",
    outputs: int = 1,
) -> nn.Module:
    """The paper's CNN (Figure 3: depth 4, 256 channels, 3 x 3 filters, erf), NTK parameterisation."""
    shape = _image_shape(input_shape, "CNN")
    return ConvolutionalNTK(shape, depth, channels, filter_size, activation, generator, torch.float64, outputs)


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
        outputs: int = 1,
    ):
        super().__init__()
        if blocks < 1 or channels < 1 or outputs < 1:
            raise ValueError(f"need blocks, channels, outputs >= 1, got {blocks}, {channels}, {outputs}")
        in_channels, height, width = input_shape
        dtype = torch.float64
        self.stem = NTKConv2d(in_channels, channels, filter_size, generator, dtype)
        self.act = ActivationLayer(as_activation(activation))
        self.blocks = nn.ModuleList(NTKConv2d(channels, channels, filter_size, generator, dtype) for _ in range(blocks))
        self.readout = NTKLinear(channels * height * width, outputs, generator, dtype)
        self.input_shape = input_shape
        self.activation_elements = channels * height * width

    def forward(self, x: Tensor) -> Tensor:
        h = self.stem(x.reshape(x.shape[0], *self.input_shape))
        for conv in self.blocks:
            h = (h + conv(self.act(h))) * math.sqrt(0.5)
        return _per_input(self.readout(self.act(h).flatten(1)))


def residual_cnn(
    input_shape: tuple[int, ...],
    generator: torch.Generator,
    blocks: int = 2,
    channels: int = 64,
    filter_size: int = 3,
    activation: str = "relu",
    outputs: int = 1,
) -> nn.Module:
    """A small residual CNN (NTK parameterisation): stem, ``blocks`` residual blocks, readout."""
    shape = _image_shape(input_shape, "residual CNN")
    return ResidualCNN(shape, generator, blocks, channels, filter_size, activation, outputs)


def fully_connected_standard(
    input_shape: tuple[int, ...],
    generator: torch.Generator,
    depth: int = 4,
    width: int = 512,
    activation: str = "erf",
    weight_std: float = 1.0,
    outputs: int = 1,
) -> nn.Module:
    """The FC net in the standard parameterisation (its learning rate must scale like 1/width)."""
    layer = functools.partial(StandardLinear, weight_std=weight_std)
    return FullyConnectedNTK(math.prod(input_shape), depth, width, activation, generator, torch.float64, layer, outputs)
