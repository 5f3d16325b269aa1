"""Deep FC and convolutional networks of finite width and their empirical NTK (Section 4, Figures 3-4).

Networks (NTK parameterisation, no biases)
------------------------------------------
Every weight is drawn from N(0, 1) and every layer divides its pre-activation by
sqrt(fan_in) (Jacot et al. 2018; the parameterisation of eq. 1 and 12 of the paper, and
the default of the Neural Tangents library its figures were made with):

* ``FullyConnectedNTK``: x in R^d -> L hidden layers of width n -> scalar readout,
  z^1 = W^1 x / sqrt(d), z^{l+1} = W^{l+1} phi(z^l) / sqrt(n), f = w . phi(z^L) / sqrt(n).
* ``ConvolutionalNTK``: x in R^{C0 x H x W} -> L hidden q x q convolutions with C channels
  and circular padding (spatial size kept), fan_in = C_in q^2 -> flatten -> scalar readout
  with fan_in = C H W (no pooling).
* ``CenteredNetwork``: f(x; theta) - f(x; theta_0) with theta_0 a frozen copy of the initial
  parameters (stored as buffers), so f_0(x) = 0 exactly for every x (Appendix A: "we subtract
  the function output at initialization for each datapoint").

``build_deep_network`` pairs a network with the coefficients of its linear surrogate
(Section 4.1), computed by the infinite-width recursion of ``ntk_recursion``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..activations import Activation, as_activation
from ..data import rng_stream
from ..devices import resolve_dtype
from .jobs import DeepNetworkSpec
from .ntk_recursion import (
    DeepLinearCoefficients,
    cnn_linear_coefficients,
    fc_linear_coefficients,
)

Tensor = torch.Tensor


def _make_generator(seed: int | torch.Generator) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    generator = torch.Generator()
    generator.manual_seed(int(seed))
    return generator


def _standard_normal(shape: tuple[int, ...], generator: torch.Generator, dtype: torch.dtype) -> nn.Parameter:
    """N(0, 1) weights drawn on the CPU in float64 and rounded to ``dtype``: the draw depends
    on neither the device nor the dtype, so one seed is one network in any precision (a
    float32 network's weights are its float64 twin's, rounded)."""
    return nn.Parameter(torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype))


class NTKLinear(nn.Module):
    """Dense layer z = W x / sqrt(fan_in), W ~ N(0, 1) of shape (out, in), no bias."""

    def __init__(self, in_features: int, out_features: int, generator: torch.Generator, dtype: torch.dtype):
        super().__init__()
        self.weight = _standard_normal((out_features, in_features), generator, dtype)
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
        self.weight = _standard_normal(shape, generator, dtype)
        self.padding = circular_padding(filter_size)
        self.scale = 1.0 / math.sqrt(in_channels * filter_size * filter_size)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(F.pad(x, self.padding, mode="circular"), self.weight) * self.scale


class _Phi(torch.autograd.Function):
    """phi(z), differentiated with the registry's own phi' (phi'(0) := 1 at kinks): for erf
    a vectorised exp2 kernel, several times faster on the CPU than the exp in torch's own
    derivative of erf, which made the activations a large part of a CNN's backward pass.
    Written in the form that ``torch.func`` transforms accept (``setup_context``, a vmap rule
    and forward mode), so the empirical NTK and the linearised network of ``earlylin.models``
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
        return ctx.activation.derivative(z).mul_(grad), None  # the derivative is a new tensor

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


class FullyConnectedNTK(nn.Module):
    """L-hidden-layer FC network of Figure 3 (width 512, depth 4, erf by default).

    Inputs of shape (batch, d) or (batch, *shape) are flattened; output has shape (batch,).
    Weights are drawn layer by layer, in forward order, from ``seed``. ``layer`` builds each
    dense layer from (fan_in, fan_out, generator, dtype): ``NTKLinear`` here, the standard
    parameterisation's layer in ``models.builtin``.
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
    ):
        if depth < 1 or width < 1 or input_dim < 1:
            raise ValueError(f"need depth, width, input_dim >= 1, got {depth}, {width}, {input_dim}")
        super().__init__()
        generator = _make_generator(seed)
        act = as_activation(activation)
        layers: list[nn.Module] = []
        fan_in = input_dim
        for _ in range(depth):
            layers += [layer(fan_in, width, generator, dtype), ActivationLayer(act)]
            fan_in = width
        self.hidden = nn.Sequential(*layers)
        self.readout = layer(width, 1, generator, dtype)
        self.input_dim = input_dim
        self.activation_elements = width  # per example, of the largest hidden activation

    def forward(self, x: Tensor) -> Tensor:
        return self.readout(self.hidden(x.reshape(x.shape[0], self.input_dim))).squeeze(-1)


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
    ):
        super().__init__()
        in_channels, height, width = input_shape
        if depth < 1 or channels < 1:
            raise ValueError(f"need depth, channels >= 1, got {depth}, {channels}")
        if max(circular_padding(filter_size)) > min(height, width):
            raise ValueError(f"filter size {filter_size} too large for a {height} x {width} image")
        generator = _make_generator(seed)
        act = as_activation(activation)
        layers: list[nn.Module] = []
        for layer in range(depth):
            fan_in_channels = in_channels if layer == 0 else channels
            conv = NTKConv2d(fan_in_channels, channels, filter_size, generator, dtype)
            layers += [conv, ActivationLayer(act)]
        self.hidden = nn.Sequential(*layers)
        self.readout = NTKLinear(channels * height * width, 1, generator, dtype)
        self.input_shape = (in_channels, height, width)
        self.activation_elements = channels * height * width  # per example, largest hidden activation

    def forward(self, x: Tensor) -> Tensor:
        features = self.hidden(x.reshape(x.shape[0], *self.input_shape))
        return self.readout(features.flatten(1)).squeeze(-1)


class CenteredNetwork(nn.Module):
    """f(x) = g(x; theta) - g(x; theta_0): the network with its output at initialisation subtracted.

    theta_0 is a copy of the wrapped network's parameters taken at construction and kept
    as buffers (they follow ``.to(device)`` and ``state_dict`` but are not parameters, so an
    optimiser over ``parameters()`` trains theta only). g(x; theta_0) is recomputed by
    ``torch.func.functional_call`` with the same operations as g(x; theta), so while
    theta = theta_0 the two evaluations are bitwise identical and f_0(x) = 0 exactly
    (deterministic kernels assumed, as on the CPU). The subtracted term carries no
    gradient, so the NTK and the training dynamics are those of g.
    """

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network
        self._buffer_names: dict[str, str] = {}
        for name, param in network.named_parameters():
            buffer_name = "initial_" + name.replace(".", "_")
            self.register_buffer(buffer_name, param.detach().clone())
            self._buffer_names[name] = buffer_name

    def initial_parameters(self) -> dict[str, Tensor]:
        return {name: getattr(self, buffer) for name, buffer in self._buffer_names.items()}

    def initial_output(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            return torch.func.functional_call(self.network, self.initial_parameters(), (x,))

    def forward(self, x: Tensor) -> Tensor:
        return self.network(x) - self.initial_output(x)


def build_deep_network(
    spec: DeepNetworkSpec,
    input_dim: int,
    image_shape: tuple[int, int, int] | None,
    seed: int,
    dtype: str | torch.dtype = torch.float32,
) -> tuple[CenteredNetwork, DeepLinearCoefficients]:
    """The centred network of ``spec`` and its linear-model coefficients (Section 4.1).

    The CNN needs ``image_shape`` (C, H, W). Weights are drawn from a torch seed taken from
    ``rng_stream(seed, "deep-init", input_dim)``.
    """
    dt = resolve_dtype(dtype)
    init_seed = int(rng_stream(seed, "deep-init", input_dim).integers(2**62))
    if spec.architecture == "fc":
        network = FullyConnectedNTK(input_dim, spec.depth, spec.width, spec.activation, init_seed, dt)
        return CenteredNetwork(network), fc_linear_coefficients(spec.activation, spec.depth)
    if image_shape is None:
        raise ValueError("architecture 'cnn' needs image data (a Dataset with image_shape)")
    network = ConvolutionalNTK(
        tuple(image_shape), spec.depth, spec.width, spec.filter_size, spec.activation, init_seed, dt
    )
    return CenteredNetwork(network), cnn_linear_coefficients(spec.activation, spec.depth)


def empirical_ntk(model: nn.Module, X: Tensor) -> Tensor:
    """Finite-width NTK Theta_ij = <df(x_i)/dtheta, df(x_j)/dtheta> over trainable parameters.

    Per-example gradients by autograd (one forward/backward per input); the Jacobian Gram is
    accumulated per parameter tensor in float64. Returns an (n, n) float64 tensor.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    per_example = [torch.autograd.grad(model(X[i : i + 1]).sum(), params) for i in range(X.shape[0])]
    gram = torch.zeros(X.shape[0], X.shape[0], dtype=torch.float64)
    for k in range(len(params)):
        jacobian = torch.stack([grads[k].reshape(-1) for grads in per_example]).to(torch.float64)
        gram += jacobian @ jacobian.T
    return gram
