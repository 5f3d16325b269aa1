"""Section 4.1's simple kernel and the linear model it defines.

For inputs with ||x||^2/d close to 1 and x.x'/d close to 0, a network's NTK is close to

    K(x, x') = constant + linear x.x'/d + norm (e(x) + e(x')),   e(x) = ||x||^2/d - 1,

whose coefficients come from the infinite-width recursion (``recursion``) or from a fit to
the network's own empirical NTK (``fit``). The linear model is the one with this kernel:
f_lin(x) = beta . psi(x) with the features ``linear_features``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Inputs whose ||x||^2/d all lie within this of each other carry no norm term (the column
# would be constant, a copy of the intercept).
_NORMALISED = 1e-9


@dataclass(frozen=True)
class KernelCoefficients:
    """First-order Taylor coefficients of the NTK h around (cov1, cov2, nngp) = (1, 1, 0) (Section 4.1).

    constant = h(1, 1, 0); linear = dh/dnngp (dh/d(x.x'/d));
    norm = dh/dcov1 = dh/dcov2 (dh/d(||x||^2/d)). Zero constant and norm for odd phi (erf).
    """

    constant: float
    linear: float
    norm: float

    def as_array(self) -> np.ndarray:
        return np.array([self.constant, self.linear, self.norm])


# Coefficients below this fraction of the linear one are quadrature rounding of an exact zero (odd phi).
_NEGLIGIBLE = 1e-12


def linear_features(X: np.ndarray, coefficients: KernelCoefficients) -> np.ndarray:
    """Features psi(x) of the linear model (Section 4.1), one row per input (float64).

    psi(x) = sqrt(linear) x / sqrt(d) when the constant term vanishes (erf: f_lin = beta^T psi);
    otherwise one more column q(x) = sqrt(constant) + (norm / sqrt(constant)) (||x||^2/d - 1),
    so that

        psi(x) . psi(x') = constant + linear x.x'/d + norm (||x||^2/d - 1) + norm (||x'||^2/d - 1)
                           + (norm^2 / constant) (||x||^2/d - 1)(||x'||^2/d - 1),

    the first-order Taylor model plus one second-order product, like q(x) q(x') in eq. 9.
    (A vanishing constant forces a vanishing norm term: h(cov1, cov1, 0) >= 0 has its minimum
    at cov1 = 1 then.) Inputs of shape (n, d) or (n, *shape) are flattened.
    """
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    d = X.shape[1]
    if coefficients.linear < 0.0:
        raise ValueError(f"the linear coefficient must be >= 0, got {coefficients.linear}")
    linear_part = math.sqrt(coefficients.linear) * X / math.sqrt(d)
    if coefficients.constant <= _NEGLIGIBLE * coefficients.linear:
        if abs(coefficients.norm) > _NEGLIGIBLE * coefficients.linear:
            raise ValueError(f"a norm term {coefficients.norm} without a constant term has no feature map")
        return linear_part
    root = math.sqrt(coefficients.constant)
    excess = np.sum(X * X, axis=1) / d - 1.0
    return np.hstack([linear_part, (root + coefficients.norm / root * excess)[:, None]])


def overlap_features(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """Design matrix of the pairs i < j (columns 1, x_i.x_j/d and, unless the inputs are
    normalised, e_i + e_j), the pairs' overlaps x_i.x_j/d, and whether the norm column is used."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    d = X.shape[1]
    gram = X @ X.T / d
    excess = np.diag(gram) - 1.0
    rows, cols = np.triu_indices(len(X), k=1)
    overlap = gram[rows, cols]
    with_norm = bool(np.ptp(excess) > _NORMALISED)
    columns = [np.ones_like(overlap), overlap]
    if with_norm:
        columns.append(excess[rows] + excess[cols])
    return np.stack(columns, axis=1), overlap, with_norm


def simple_kernel(X: np.ndarray, coefficients: KernelCoefficients) -> np.ndarray:
    """K(x_i, x_j) = constant + linear x_i.x_j/d + norm (e_i + e_j) on every pair, diagonal included."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    gram = X @ X.T / X.shape[1]
    excess = np.diag(gram) - 1.0
    return coefficients.constant + coefficients.linear * gram + coefficients.norm * (excess[:, None] + excess[None, :])


def mean_abs_overlap(X: np.ndarray) -> float:
    """Mean |x.x'/d| over the pairs i < j of the rows of ``X``: how far the inputs are from
    Section 4.1's premise x.x'/d ~ 0."""
    _, overlap, _ = overlap_features(X)
    return float(np.mean(np.abs(overlap)))
