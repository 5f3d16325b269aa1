"""The infinite-width NTK of the paper's FC net on normalised inputs and of its CNN: the kernel of
the "exact-kernel model" (``training.predictors``) that separates Section 4.1's Taylor
truncation (exact kernel vs simple kernel) from finite width (network vs exact kernel).

On inputs with ||x||^2/d = 1 the FC net's NTK is a function of t = x.x'/d alone,
h(t) = ``fc_ntk_entry(activation, depth, 1, 1, t)`` off the diagonal and
``fc_ntk_diagonal`` at t = 1 (the same input). A kernel matrix needs h on up to millions of
pairs, each a quadrature; h is smooth on any interval [lo, hi] inside (-1, 1), so it is
interpolated there by a Chebyshev polynomial through exact values, its degree doubled until
the interpolant agrees with exact values between its nodes to 1e-10 relative.

The CNN (``networks.builtin.ConvolutionalNTK``: L circular q x q convolutions, no biases, a
flatten readout) has the position-resolved recursion of Xiao et al. 2018 and Arora et al.
2019 (see ``recursion.cnn_linear_coefficients``): with P(p) = sum_c x_c(p) x'_c(p)
/ C0 the pixel-wise overlap and A the circular q x q average over positions,
A[m](p) = q^-2 sum_delta m(p + delta), the first convolution's pre-activation covariance and
NTK are both A[P]; every further convolution applies the FC step position-wise (the
variances of x and x' at p playing cov1 and cov2) and then A; the readout applies the FC
step once more and averages over positions. Without pooling only position pairs (p, p)
reach the readout, and A maps pairs (p, p) to pairs (p, p), so the state of one input pair
is an H x W map, not an HW x HW matrix. The bivariate Gaussian expectations are the closed
forms of erf (Williams 1997) and relu (Cho and Saul 2009): local variances differ by
position, so the FC net's one-variable interpolant does not apply.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..networks.catalogue import CNN_KERNEL_ACTIVATIONS
from ..networks.layers import circular_padding
from .recursion import fc_ntk_diagonal, fc_ntk_entry

Tensor = torch.Tensor

# Inputs whose ||x||^2/d differ from 1 by more than this are not normalised.
_NORMALISED = 1e-9
# Overlaps this close to 1 are the same input (its diagonal value).
_SAME_INPUT = 1e-9
_TOLERANCE = 1e-10
_MAX_DEGREE = 128


def _check_normalised(X: np.ndarray, name: str) -> None:
    excess = np.abs(np.sum(X * X, axis=1) / X.shape[1] - 1.0)
    if excess.size and excess.max() > _NORMALISED:
        raise ValueError(
            f"the exact FC kernel is computed for inputs with ||x||^2/d = 1; {name} has rows with "
            f"||x||^2/d - 1 up to {excess.max():.3g} (normalise each input, as the image data sets do)"
        )


def overlap_interpolant(activation: str, depth: int, lo: float, hi: float) -> np.polynomial.Chebyshev:
    """h(t) on [lo, hi] (inside (-1, 1)) as a Chebyshev interpolant, checked between its nodes."""
    if not -1.0 < lo <= hi < 1.0:
        raise ValueError(f"need -1 < lo <= hi < 1, got [{lo}, {hi}]")
    if hi - lo < 1e-12:
        value = fc_ntk_entry(activation, depth, 1.0, 1.0, lo)
        return np.polynomial.Chebyshev([value], domain=[lo - 1e-12, hi + 1e-12])
    degree = 16
    while True:
        nodes = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (np.arange(degree + 1) + 0.5) / (degree + 1))
        values = [fc_ntk_entry(activation, depth, 1.0, 1.0, float(t)) for t in nodes]
        interpolant = np.polynomial.Chebyshev.fit(nodes, values, degree, domain=[lo, hi])
        probes = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * np.arange(1, 4) / 4.3)
        exact = np.array([fc_ntk_entry(activation, depth, 1.0, 1.0, float(t)) for t in probes])
        error = np.max(np.abs(interpolant(probes) - exact)) / max(np.max(np.abs(values)), 1e-300)
        if error < _TOLERANCE:
            return interpolant
        if degree >= _MAX_DEGREE:
            raise ArithmeticError(
                f"h(t) of the {activation} FC net (depth {depth}) on [{lo:.4g}, {hi:.4g}] is not interpolated "
                f"to {_TOLERANCE:g} by degree {degree} (error {error:.2g})"
            )
        degree *= 2


def fc_exact_kernel(X: np.ndarray, Z: np.ndarray, activation: str, depth: int) -> np.ndarray:
    """K(x_i, z_j) of the infinite-width FC net (NTK parameterisation, no biases) for
    normalised rows of ``X`` (n, d) and ``Z`` (m, d): an (n, m) float64 matrix."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    Z = np.asarray(Z, dtype=np.float64).reshape(len(Z), -1)
    _check_normalised(X, "X")
    _check_normalised(Z, "Z")
    overlap = np.clip(X @ Z.T / X.shape[1], -1.0, 1.0)
    same = overlap > 1.0 - _SAME_INPUT
    kernel = np.full(overlap.shape, fc_ntk_diagonal(activation, depth))
    distinct = overlap[~same]
    if distinct.size:
        interpolant = overlap_interpolant(activation, depth, float(distinct.min()), float(distinct.max()))
        kernel[~same] = interpolant(distinct)
    return kernel


def _pair_expectations(activation: str, var1: Tensor, var2: Tensor, cov: Tensor) -> tuple[Tensor, Tensor]:
    """(E[phi(u) phi(u')], E[phi'(u) phi'(u')]) for (u, u') ~ N(0, [[var1, cov], [cov, var2]])."""
    if activation == "erf":
        a = (1.0 + 2.0 * var1) * (1.0 + 2.0 * var2)
        both = (2.0 / math.pi) * torch.asin((2.0 * cov / torch.sqrt(a)).clamp(-1.0, 1.0))
        return both, (4.0 / math.pi) / torch.sqrt(a - 4.0 * cov * cov)
    scale = torch.sqrt(var1 * var2)
    cosine = torch.where(scale > 0, cov / torch.where(scale > 0, scale, 1.0), 0.0).clamp(-1.0, 1.0)
    angle = torch.acos(cosine)
    both = scale / (2.0 * math.pi) * (torch.sqrt(1.0 - cosine * cosine) + (math.pi - angle) * cosine)
    return both, (math.pi - angle) / (2.0 * math.pi)


def _variance_expectation(activation: str, var: Tensor) -> Tensor:
    """E[phi(u)^2] for u ~ N(0, var)."""
    if activation == "erf":
        return (2.0 / math.pi) * torch.asin(2.0 * var / (1.0 + 2.0 * var))
    return var / 2.0


def _patch_mean(field: Tensor, filter_size: int) -> Tensor:
    """A[m](p) = q^-2 sum_delta m(p + delta) over the q x q patch a circular convolution at p
    reads (``networks.layers.circular_padding``), on the last two (H, W) dimensions."""
    before = circular_padding(filter_size)[0]
    offsets = range(-before, filter_size - before)
    total = sum(torch.roll(field, shifts=(-a, -b), dims=(-2, -1)) for a in offsets for b in offsets)
    return total / filter_size**2


def cnn_exact_kernel(
    X: np.ndarray, Z: np.ndarray, activation: str, depth: int, filter_size: int, chunk_elements: int = 2**22
) -> np.ndarray:
    """K(x_i, z_j) of the infinite-width CNN (``ConvolutionalNTK``: depth circular
    convolutions with q = filter_size, no biases, flatten readout) for images ``X`` (n, C, H, W)
    and ``Z`` (m, C, H, W): an (n, m) float64 matrix, computed a block of rows of X at a time
    (each per-pair map of the block holds at most ``chunk_elements`` numbers)."""
    if activation not in CNN_KERNEL_ACTIVATIONS:
        raise ValueError(
            f"the exact CNN kernel is computed for {', '.join(CNN_KERNEL_ACTIVATIONS)} (closed-form Gaussian "
            f"expectations), not {activation!r}"
        )
    X = torch.as_tensor(np.asarray(X, dtype=np.float64))
    Z = torch.as_tensor(np.asarray(Z, dtype=np.float64))
    if X.ndim != 4 or Z.ndim != 4 or X.shape[1:] != Z.shape[1:]:
        raise ValueError(f"need images (n, C, H, W) of one shape, got {tuple(X.shape)} and {tuple(Z.shape)}")
    channels = X.shape[1]

    def variances(images: Tensor) -> list[Tensor]:
        """The pre-activation variance of each layer at every position, per image."""
        layers = [_patch_mean((images * images).sum(1) / channels, filter_size)]
        for _ in range(depth - 1):
            layers.append(_patch_mean(_variance_expectation(activation, layers[-1]), filter_size))
        return layers

    var_x, var_z = variances(X), variances(Z)
    kernel = torch.empty(len(X), len(Z), dtype=torch.float64)
    chunk_rows = max(1, chunk_elements // max(1, len(Z) * X.shape[2] * X.shape[3]))
    for start in range(0, len(X), chunk_rows):
        rows = slice(start, start + chunk_rows)
        nngp = _patch_mean(torch.einsum("ichw,jchw->ijhw", X[rows], Z) / channels, filter_size)
        ntk = nngp
        for layer in range(depth):
            both, derivative = _pair_expectations(activation, var_x[layer][rows, None], var_z[layer][None], nngp)
            ntk = both + ntk * derivative
            if layer < depth - 1:  # a further convolution; after the last layer, the readout
                nngp, ntk = _patch_mean(both, filter_size), _patch_mean(ntk, filter_size)
        kernel[rows] = ntk.mean(dim=(-2, -1))
    return kernel.numpy()


def exact_kernel_matrix(kernel: dict, X: np.ndarray, Z: np.ndarray, image_shape) -> np.ndarray:
    """K(X, Z) of a built-in's infinite-width NTK (``networks.catalogue.exact_kernel_of`` gives
    ``kernel``); the rows of X and Z are flattened inputs, reshaped to ``image_shape`` for the CNN."""
    if kernel["kind"] == "cnn":
        X, Z = (np.asarray(A).reshape(len(A), *image_shape) for A in (X, Z))
        return cnn_exact_kernel(X, Z, kernel["activation"], kernel["depth"], kernel["filter_size"])
    return fc_exact_kernel(X, Z, kernel["activation"], kernel["depth"])
