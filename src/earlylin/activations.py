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
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np
import torch

Tensor = torch.Tensor

_SQRT2 = math.sqrt(2.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Activation:
    """An activation phi with its derivative and the points where phi' is discontinuous.

    ``value_and_derivative`` returns (phi(z), phi'(z)) and may overwrite z (the caller
    passes a temporary); it reuses intermediate results and storage so that the
    network's step touches each element few times.
    """

    name: str
    value: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor], Tensor]
    kinks: tuple[float, ...] = ()
    value_and_derivative: Callable[[Tensor], tuple[Tensor, Tensor]] | None = field(
        default=None, compare=False
    )

    def __call__(self, z: Tensor) -> Tensor:
        return self.value(z)

    def both(self, z: Tensor) -> tuple[Tensor, Tensor]:
        if self.value_and_derivative is not None:
            return self.value_and_derivative(z)
        return self.value(z), self.derivative(z)


def _erf_both(z: Tensor) -> tuple[Tensor, Tensor]:
    value = torch.special.erf(z)
    deriv = z.square_().neg_().exp_().mul_(_TWO_OVER_SQRT_PI)
    return value, deriv


def _tanh_both(z: Tensor) -> tuple[Tensor, Tensor]:
    value = torch.tanh(z)
    deriv = torch.mul(value, value, out=z).neg_().add_(1.0)
    return value, deriv


def _sigmoid_both(z: Tensor) -> tuple[Tensor, Tensor]:
    value = torch.sigmoid(z)
    deriv = torch.mul(value, value, out=z).neg_().add_(value)
    return value, deriv


def _gelu_derivative(z: Tensor) -> Tensor:
    cdf = 0.5 * (1.0 + torch.special.erf(z / _SQRT2))
    pdf = torch.exp(-0.5 * z * z) * _INV_SQRT_2PI
    return cdf + z * pdf


def _gelu_both(z: Tensor) -> tuple[Tensor, Tensor]:
    cdf = torch.special.erf(z / _SQRT2).add_(1.0).mul_(0.5)
    pdf = torch.square(z).mul_(-0.5).exp_().mul_(_INV_SQRT_2PI)
    value = z * cdf
    deriv = pdf.mul_(z).add_(cdf)
    return value, deriv


def leaky_relu(slope: float) -> Activation:
    """Leaky ReLU max(z, slope z) with phi'(0) := 1; slope = 0 is ReLU."""
    if not 0.0 <= slope < 1.0:
        raise ValueError(f"leaky_relu slope must lie in [0, 1), got {slope!r}")

    def value(z: Tensor) -> Tensor:
        return torch.where(z >= 0, z, slope * z)

    def derivative(z: Tensor) -> Tensor:
        return (z >= 0).to(z.dtype).mul_(1.0 - slope).add_(slope)

    name = "relu" if slope == 0.0 else "leaky_relu"
    return Activation(name, value, derivative, kinks=(0.0,))


ACTIVATION_NAMES = ("erf", "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "gelu")


def get_activation(name: str, leaky_relu_slope: float = 0.01) -> Activation:
    """Look up an activation by its config name (one of ``ACTIVATION_NAMES``)."""
    if name == "erf":
        return Activation(
            "erf",
            torch.special.erf,
            lambda z: torch.exp(-z * z) * _TWO_OVER_SQRT_PI,
            value_and_derivative=_erf_both,
        )
    if name == "relu":
        return leaky_relu(0.0)
    if name == "leaky_relu":
        return leaky_relu(leaky_relu_slope)
    if name == "tanh":
        return Activation(
            "tanh", torch.tanh, lambda z: 1.0 - torch.tanh(z) ** 2, value_and_derivative=_tanh_both
        )
    if name == "sigmoid":
        return Activation(
            "sigmoid",
            torch.sigmoid,
            lambda z: torch.sigmoid(z) * (1.0 - torch.sigmoid(z)),
            value_and_derivative=_sigmoid_both,
        )
    if name == "softplus":
        return Activation("softplus", torch.nn.functional.softplus, torch.sigmoid)
    if name == "gelu":
        return Activation(
            "gelu",
            lambda z: z * 0.5 * (1.0 + torch.special.erf(z / _SQRT2)),
            _gelu_derivative,
            value_and_derivative=_gelu_both,
        )
    raise ValueError(
        f"unknown activation {name!r}; allowed values: {', '.join(ACTIVATION_NAMES)}"
    )


# ---------------------------------------------------------------------------------------
# Gaussian quadrature
# ---------------------------------------------------------------------------------------

_TRUNCATION = 14.0  # N(0,1) mass beyond |g| = 14 is ~1e-44: far below float64 rounding
_PANEL_WIDTH = 1.0
_NODES_PER_PANEL = 32


@lru_cache(maxsize=None)
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


def gaussian_expectation(
    integrand: Callable[[Tensor], Tensor], breakpoints: tuple[float, ...] = ()
) -> float:
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
