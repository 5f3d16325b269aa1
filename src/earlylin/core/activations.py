"""Activation registry and the Gaussian moments the linear models are built from.

Every activation is a pair of torch functions, phi and phi', plus the points where
phi' jumps (kinks of piecewise-linear activations). The same pair drives the networks
(forward and hand-written backward) and the quadrature of the moments (Section 3,
eq. 5 and 9 of the paper):

    zeta   = E[phi'(g)]
    nu     = E[g phi'(g)] * sqrt(Tr[Sigma^2] / d)
    theta0 = E[phi(g)]
    theta1 = E[g phi'(g)]                  = h'(1),   h(a) = E[phi(a g)]
    theta2 = E[(g^3 - 2 g) phi'(g)] / 2    = h''(1) / 2   (Stein's lemma)
    gamma  = E[phi'(g)^2]

with g ~ N(0, 1). For piecewise-linear activations phi'(0) := 1 (Assumption 3.2).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import torch

Tensor = torch.Tensor

_SQRT2 = math.sqrt(2.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_LOG2_E = 1.0 / math.log(2.0)


@dataclass(frozen=True)
class Activation:
    """An activation phi with its derivative and the points where phi' is discontinuous.

    ``value_and_derivative`` returns (phi(z), phi'(z)) and may overwrite z (the caller
    passes a temporary). It is the hot path of the network's step (eq. 4): phi' is
    written into z's storage and every intermediate reuses storage, so that each element
    is read and written in as few passes as possible (one pass per torch call).
    """

    name: str
    value: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor], Tensor]
    kinks: tuple[float, ...] = ()
    value_and_derivative: Callable[[Tensor], tuple[Tensor, Tensor]] | None = field(default=None, compare=False)

    def __call__(self, z: Tensor) -> Tensor:
        return self.value(z)

    def both(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """(phi(z), phi'(z)); z may be overwritten (phi' usually takes its storage)."""
        if self.value_and_derivative is not None:
            return self.value_and_derivative(z)
        return self.value(z), self.derivative(z)


def _gaussian(z: Tensor, c: float, k: float, out: Tensor | None = None) -> Tensor:
    """c exp(-k z^2) = 2^(log2 c - k log2(e) z^2) in two passes, ``out`` may be z itself.

    One fused multiply-add forms the exponent (no separate passes for the square, the
    sign and the factor c) and exp2 evaluates it: torch's exp2 is a vectorised
    1-ulp kernel 3.5-4.5x faster on the CPU than its exp (MKL VML, high accuracy).
    Its relative error is ~ eps k z^2 (the exponent's rounding), as for exp(-k z^2).
    """
    log2_c = torch.full((), math.log2(c), dtype=z.dtype, device=z.device)
    return torch.addcmul(log2_c, z, z, value=-k * _LOG2_E, out=out).exp2_()


def _erf_derivative(z: Tensor) -> Tensor:
    return _gaussian(z, _TWO_OVER_SQRT_PI, 1.0)


def _erf_both(z: Tensor) -> tuple[Tensor, Tensor]:
    """erf(z) and erf'(z) = (2 / sqrt(pi)) exp(-z^2): three passes (erf, fma, exp2)."""
    value = torch.special.erf(z)
    deriv = _gaussian(z, _TWO_OVER_SQRT_PI, 1.0, out=z)
    return value, deriv


def _tanh_both(z: Tensor) -> tuple[Tensor, Tensor]:
    """tanh(z) and 1 - tanh(z)^2 (one fused multiply-add pass)."""
    value = torch.tanh(z)
    one = torch.ones((), dtype=z.dtype, device=z.device)
    deriv = torch.addcmul(one, value, value, value=-1.0, out=z)
    return value, deriv


def _sigmoid_both(z: Tensor) -> tuple[Tensor, Tensor]:
    """sigmoid(z) and s - s^2 with s = sigmoid(z) (one fused multiply-add pass)."""
    value = torch.sigmoid(z)
    deriv = torch.addcmul(value, value, value, value=-1.0, out=z)
    return value, deriv


def _softplus(z: Tensor) -> Tensor:
    """softplus(z) = log(1 + e^z) (torch's: z itself for z > 20).

    On the CPU torch's float32 softplus runs a scalar log1p (about 10 ns an element,
    5x the network step's matmuls) while its float64 kernel is vectorised: float32
    input is evaluated in float64 and rounded, 3.7x faster and correctly rounded.
    """
    if z.dtype == torch.float32 and z.device.type == "cpu":
        return torch.nn.functional.softplus(z.double()).to(torch.float32)
    return torch.nn.functional.softplus(z)


def _softplus_both(z: Tensor) -> tuple[Tensor, Tensor]:
    """softplus(z) and its derivative sigmoid(z), the latter in z's storage."""
    return _softplus(z), torch.sigmoid(z, out=z)


def _gelu_value(z: Tensor) -> Tensor:
    return z * 0.5 * (1.0 + torch.special.erf(z / _SQRT2))


def _gelu_derivative(z: Tensor) -> Tensor:
    cdf = 0.5 * (1.0 + torch.special.erf(z / _SQRT2))
    return cdf + z * _gaussian(z, _INV_SQRT_2PI, 0.5)


def _gelu_both(z: Tensor) -> tuple[Tensor, Tensor]:
    """gelu(z) = z Phi(z) and gelu'(z) = Phi(z) + z rho(z), Phi / rho the N(0,1) cdf / pdf."""
    cdf = torch.mul(z, 1.0 / _SQRT2).erf_().mul_(0.5).add_(0.5)
    value = torch.mul(z, cdf)
    pdf = _gaussian(z, _INV_SQRT_2PI, 0.5)
    deriv = torch.addcmul(cdf, z, pdf, out=z)
    return value, deriv


def leaky_relu(slope: float) -> Activation:
    """Leaky ReLU max(z, slope z) with phi'(0) := 1; slope = 0 is ReLU."""
    if not 0.0 <= slope < 1.0:
        raise ValueError(f"leaky_relu slope must lie in [0, 1), got {slope!r}")

    def value(z: Tensor) -> Tensor:
        # torch.where's autograd derivative at z = 0 is 1 = phi'(0), which autograd
        # networks rely on (torch.relu's is 0 there, torch.maximum's (1 + slope) / 2).
        return torch.where(z >= 0, z, slope * z)

    def derivative_in_place(z: Tensor) -> Tensor:
        step = z.ge_(0.0)  # 1 where z >= 0 (phi'(0) := 1), else 0, in z's dtype
        return step if slope == 0.0 else step.mul_(1.0 - slope).add_(slope)

    def derivative(z: Tensor) -> Tensor:
        return derivative_in_place(z.clone())

    def both(z: Tensor) -> tuple[Tensor, Tensor]:
        # Not differentiated: the same values as ``value`` by kernels 5-10x faster than
        # torch.where's (max(z, slope z) = z for z >= 0 and slope z below, as slope < 1).
        phi = torch.relu(z) if slope == 0.0 else torch.maximum(z, slope * z)
        return phi, derivative_in_place(z)

    name = "relu" if slope == 0.0 else "leaky_relu"
    return Activation(name, value, derivative, kinks=(0.0,), value_and_derivative=both)


ACTIVATION_NAMES = ("erf", "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "gelu")


def as_activation(activation: str | Activation) -> Activation:
    """An Activation as is, or the registered one of that name (default leaky_relu slope)."""
    return get_activation(activation) if isinstance(activation, str) else activation


def get_activation(name: str, leaky_relu_slope: float = 0.01) -> Activation:
    """Look up an activation by its config name (one of ``ACTIVATION_NAMES``)."""
    if name == "erf":
        return Activation("erf", torch.special.erf, _erf_derivative, value_and_derivative=_erf_both)
    if name == "relu":
        return leaky_relu(0.0)
    if name == "leaky_relu":
        return leaky_relu(leaky_relu_slope)
    if name == "tanh":
        return Activation("tanh", torch.tanh, lambda z: 1.0 - torch.tanh(z) ** 2, value_and_derivative=_tanh_both)
    if name == "sigmoid":
        return Activation(
            "sigmoid",
            torch.sigmoid,
            lambda z: torch.sigmoid(z) * (1.0 - torch.sigmoid(z)),
            value_and_derivative=_sigmoid_both,
        )
    if name == "softplus":
        return Activation("softplus", _softplus, torch.sigmoid, value_and_derivative=_softplus_both)
    if name == "gelu":
        return Activation("gelu", _gelu_value, _gelu_derivative, value_and_derivative=_gelu_both)
    raise ValueError(f"unknown activation {name!r}; allowed values: {', '.join(ACTIVATION_NAMES)}")


# ---------------------------------------------------------------------------------------
# Gaussian quadrature
# ---------------------------------------------------------------------------------------

_TRUNCATION = 14.0  # N(0,1) mass beyond |g| = 14 is ~1e-44: far below float64 rounding
_PANEL_WIDTH = 1.0
_NODES_PER_PANEL = 32


@cache
def _legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(n)


def gaussian_nodes(breakpoints: tuple[float, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of E[F(g)], g ~ N(0,1), by composite Gauss-Legendre.

    The real line is truncated to [-14, 14] and cut into panels of width <= 1 that also
    break at ``breakpoints``; on each panel the integrand is smooth (kinks sit on panel
    edges), so 32 Legendre nodes per panel reach float64 rounding. Weights include the
    Gaussian density.
    """
    cuts = {-_TRUNCATION, _TRUNCATION}
    cuts.update(b for b in breakpoints if -_TRUNCATION < b < _TRUNCATION)
    edges = sorted(cuts)
    x_ref, w_ref = _legendre(_NODES_PER_PANEL)
    nodes, weights = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        n_panels = max(1, math.ceil((hi - lo) / _PANEL_WIDTH))
        panel_edges = np.linspace(lo, hi, n_panels + 1)
        half = 0.5 * np.diff(panel_edges)
        mid = 0.5 * (panel_edges[:-1] + panel_edges[1:])
        nodes.append((mid[:, None] + half[:, None] * x_ref[None, :]).ravel())
        weights.append((half[:, None] * w_ref[None, :]).ravel())
    g = np.concatenate(nodes)
    w = np.concatenate(weights) * np.exp(-0.5 * g * g) * _INV_SQRT_2PI
    return g, w


def gaussian_expectation(integrand: Callable[[Tensor], Tensor], breakpoints: tuple[float, ...] = ()) -> float:
    """E[integrand(g)] for g ~ N(0, 1), integrand a torch function, in float64."""
    g, w = gaussian_nodes(breakpoints)
    values = integrand(torch.from_numpy(g.copy())).double().numpy()
    return float(np.dot(w, values))


def scaled_mean(activation: Activation, a: float) -> float:
    """h(a) = E[phi(a g)]: the function whose derivatives at 1 give theta1, theta2."""
    if a == 0.0:
        return float(activation(torch.zeros(1, dtype=torch.float64)).item())
    kinks = tuple(k / a for k in activation.kinks)
    return gaussian_expectation(lambda g: activation(a * g), kinks)


@dataclass(frozen=True)
class GaussianMoments:
    """Moments of Section 3 for one activation (isotropic data unless nu is rescaled)."""

    zeta: float
    nu: float
    theta0: float
    theta1: float
    theta2: float
    gamma: float


def gaussian_moments(activation: Activation, trace_ratio: float = 1.0) -> GaussianMoments:
    """The moments zeta, nu, theta0, theta1, theta2, gamma of ``activation``.

    ``trace_ratio`` is Tr[Sigma^2] / d for the data covariance Sigma (1 for isotropic
    data, the setting of every figure); nu = theta1 * sqrt(trace_ratio).
    """
    kinks = activation.kinks
    g, w = gaussian_nodes(kinks)
    phi, dphi = activation.both(torch.from_numpy(g.copy()))
    phi = phi.double().numpy()
    dphi = dphi.double().numpy()
    zeta = float(w @ dphi)
    theta0 = float(w @ phi)
    theta1 = float(w @ (g * dphi))
    theta2 = float(w @ ((g**3 - 2.0 * g) * dphi)) / 2.0
    gamma = float(w @ (dphi * dphi))
    return GaussianMoments(
        zeta=zeta,
        nu=theta1 * math.sqrt(trace_ratio),
        theta0=theta0,
        theta1=theta1,
        theta2=theta2,
        gamma=gamma,
    )
