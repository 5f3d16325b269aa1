"""The layers of the paper's networks in the NTK parameterisation (no biases): every weight
is drawn from N(0, 1) and every layer divides its pre-activation by sqrt(fan_in) (Jacot et al.
2018; the parameterisation of eq. 1 and 12 of the paper, and the default of the Neural
Tangents library its figures were made with); the activation layer that differentiates with
the activation registry's own phi'; and the standard parameterisation's dense layer."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..core.activations import Activation

Tensor = torch.Tensor


def make_generator(seed: int | torch.Generator) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    return generator


def standard_normal(shape: tuple[int, ...], generator: torch.Generator, dtype: torch.dtype) -> nn.Parameter:
    """N(0, 1) weights drawn on the CPU in float64 and rounded to ``dtype``: the draw depends
    on neither the device nor the dtype, so one seed is one network in any precision (a
    float32 network's weights are its float64 twin's, rounded)."""
    return nn.Parameter(torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype))


class NTKLinear(nn.Module):
    """Dense layer z = W x / sqrt(fan_in), W ~ N(0, 1) of shape (out, in), no bias."""

    def __init__(self, in_features: int, out_features: int, generator: torch.Generator, dtype: torch.dtype):
        super().__init__()
        self.weight = standard_normal((out_features, in_features), generator, dtype)
        self.scale = 1.0 / math.sqrt(in_features)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight) * self.scale


def circular_padding(filter_size: int) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) circular padding that keeps the spatial size for a q x q filter."""
    before = (filter_size - 1) // 2
    after = filter_size - 1 - before
    return (before, after, before, after)


class NTKConv2d(nn.Module):
    """q x q convolution with circular padding, z = (W * x) / sqrt(C_in q^2), W ~ N(0, 1), no bias.

    Output has the input's spatial size: position p sees the q x q patch around p, wrapped
    around the image edges (the circular padding of Xiao et al. 2018 used in Section 4).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        filter_size: int,
        generator: torch.Generator,
        dtype: torch.dtype,
    ):
        super().__init__()
        if filter_size < 1:
            raise ValueError(f"filter_size must be >= 1, got {filter_size}")
        shape = (out_channels, in_channels, filter_size, filter_size)
        self.weight = standard_normal(shape, generator, dtype)
        self.padding = circular_padding(filter_size)
        self.scale = 1.0 / math.sqrt(in_channels * filter_size * filter_size)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(F.pad(x, self.padding, mode="circular"), self.weight) * self.scale


class _Phi(torch.autograd.Function):
    """phi(z), differentiated with the registry's own phi' (phi'(0) := 1 at kinks): for erf
    a vectorised exp2 kernel, several times faster on the CPU than the exp in torch's own
    derivative of erf, which made the activations a large part of a CNN's backward pass.
    Written in the form that ``torch.func`` transforms accept (``setup_context``, a vmap rule
    and forward mode), so the empirical NTK (``kernels.empirical``) and the linearised network
    differentiate the same phi'."""

    generate_vmap_rule = True

    @staticmethod
    def forward(z: Tensor, activation: Activation) -> Tensor:
        return activation.value(z)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor, Activation], output: Tensor) -> None:
        z, activation = inputs
        ctx.save_for_backward(z)
        ctx.save_for_forward(z)
        ctx.activation = activation

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (z,) = ctx.saved_tensors
        # Out of place: under torch.func's jacrev the incoming gradient is batched and z is not.
        return grad * ctx.activation.derivative(z), None

    @staticmethod
    def jvp(ctx: Any, z_tangent: Tensor, _activation_tangent: Any) -> Tensor:
        (z,) = ctx.saved_tensors
        return ctx.activation.derivative(z).mul_(z_tangent)


class ActivationLayer(nn.Module):
    """Applies a registered activation's phi; its derivative is the registry's phi'."""

    def __init__(self, activation: Activation):
        super().__init__()
        self.activation = activation

    def forward(self, z: Tensor) -> Tensor:
        return _Phi.apply(z, self.activation)

    def extra_repr(self) -> str:
        return self.activation.name


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
