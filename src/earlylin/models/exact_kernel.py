"""The infinite-width NTK of the paper's FC net on normalised inputs, and function-space SGD
with it: the "exact-kernel model" that separates Section 4.1's Taylor truncation
(exact kernel vs simple kernel) from finite width (network vs exact kernel).

On inputs with ||x||^2/d = 1 the FC net's NTK is a function of t = x.x'/d alone,
h(t) = ``fc_ntk_entry(activation, depth, 1, 1, t)`` off the diagonal and
``fc_ntk_diagonal`` at t = 1 (the same input). A kernel matrix needs h on up to millions of
pairs, each a quadrature; h is smooth on any interval [lo, hi] inside (-1, 1), so it is
interpolated there by a Chebyshev polynomial through exact values, its degree doubled until
the interpolant agrees with exact values between its nodes to 1e-10 relative.

Function-space SGD (the kernel model trained on the same minibatches as the network,
f_0 = 0): with the batch B and r = f(X_B) - y_B, every output moves by
-lr / |B| K(x, X_B) r, so the training and test outputs are updated from the kernel's
columns of the batch, never a parameter vector.
"""

from __future__ import annotations

import numpy as np

from ..deep.ntk_recursion import fc_ntk_diagonal, fc_ntk_entry

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


class KernelModelSGD:
    """Function-space SGD of the kernel model f = K(., X) alpha from f_0 = 0, on the training
    kernel ``K_train`` (n, n) and the test-by-training kernel ``K_test`` (m, n)."""

    def __init__(self, K_train: np.ndarray, K_test: np.ndarray, y_train: np.ndarray):
        self.K_train = np.asarray(K_train, dtype=np.float64)
        self.K_test = np.asarray(K_test, dtype=np.float64)
        self.y_train = np.asarray(y_train, dtype=np.float64)
        self.train_outputs = np.zeros(len(self.y_train))
        self.test_outputs = np.zeros(len(self.K_test))

    def sgd_step(self, batch: np.ndarray, lr: float) -> None:
        """f <- f - lr / |B| K(., X_B) (f(X_B) - y_B), on the training and the test points."""
        residual = (self.train_outputs[batch] - self.y_train[batch]) * (lr / len(batch))
        self.train_outputs -= self.K_train[:, batch] @ residual
        self.test_outputs -= self.K_test[:, batch] @ residual
