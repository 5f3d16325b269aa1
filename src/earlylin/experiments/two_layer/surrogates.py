"""The linear models of Section 3 and their gradient-descent dynamics in closed form.

Feature maps (n x p arrays, one row per input; all float64 numpy):

* psi1(x) = [zeta x ; nu] / sqrt(d)                                  (eq. 5, Thm 3.2)
* psi2(x) = [zeta x / sqrt(d) ; q(x)]                                (eq. 9, Thm 3.5)
* psi(x)  = [sqrt(2) zeta x / sqrt(d) ; nu / sqrt(d) ; q(x)]         (eq. 11, Thm D.1)
  q(x) = theta0 + theta1 (||x||/sqrt(d) - 1) + theta2 (||x||/sqrt(d) - 1)^2

The "naive" linear model of Figure 2 sets theta1 = theta2 = 0 in q.

A linear model f(x) = delta^T Phi(x) trained from delta = 0 by full-batch GD on the loss
(1/2n) sum (f(x_i) - y_i)^2 follows delta(t+1) = delta(t) - lr (C delta(t) - b) with
C = Phi^T Phi / n and b = Phi^T y / n, so (Claim C.1, in parameter space)

    delta(t) = U diag( lr * sum_{s<t} (1 - lr lambda_k)^s ) U^T b,   C = U diag(lambda) U^T,

which gives every logged step from one (p x p) eigendecomposition.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ...core.activations import GaussianMoments


def _norm_feature(X: np.ndarray, moments: GaussianMoments, naive: bool) -> np.ndarray:
    d = X.shape[1]
    s = np.linalg.norm(X, axis=1) / math.sqrt(d) - 1.0
    if naive:
        return np.full(X.shape[0], moments.theta0)
    return moments.theta0 + moments.theta1 * s + moments.theta2 * s * s


def norm_feature(X: np.ndarray, moments: GaussianMoments, naive: bool = False) -> np.ndarray:
    """q(x) of eq. 9, for each row of X (theta1 = theta2 = 0 when ``naive``)."""
    return _norm_feature(np.asarray(X, dtype=np.float64), moments, naive)


def psi1(X: np.ndarray, moments: GaussianMoments) -> np.ndarray:
    """First-layer features psi1 (eq. 5): [zeta x ; nu] / sqrt(d)."""
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    return np.hstack([moments.zeta * X, np.full((n, 1), moments.nu)]) / math.sqrt(d)


def psi2(X: np.ndarray, moments: GaussianMoments, naive: bool = False) -> np.ndarray:
    """Second-layer features psi2 (eq. 9): [zeta x / sqrt(d) ; q(x)]."""
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[1]
    q = _norm_feature(X, moments, naive)
    return np.hstack([moments.zeta * X / math.sqrt(d), q[:, None]])


def psi(X: np.ndarray, moments: GaussianMoments, naive: bool = False) -> np.ndarray:
    """Both-layer features psi (eq. 11): [sqrt(2) zeta x / sqrt(d) ; nu / sqrt(d) ; q(x)]."""
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    q = _norm_feature(X, moments, naive)
    return np.hstack(
        [
            math.sqrt(2.0) * moments.zeta * X / math.sqrt(d),
            np.full((n, 1), moments.nu / math.sqrt(d)),
            q[:, None],
        ]
    )


def gd_features(
    X: np.ndarray,
    moments: GaussianMoments,
    lr_first: float,
    lr_second: float,
    naive: bool = False,
) -> np.ndarray:
    """Features whose unit-lr GD is the linear model of a network trained with (eta1, eta2).

    The network's function-space step is -(eta1 Theta1 + eta2 Theta2)(u - y)/n, so its
    linear model has kernel eta1 Theta_lin1 + eta2 Theta_lin2 (Section 3.3). The returned
    Phi (n x (d+2)) satisfies Phi Phi^T = eta1 Theta_lin1 + eta2 Theta_lin2; with
    eta1 = eta2 = eta it equals sqrt(eta) psi, with eta2 = 0 it is sqrt(eta1) psi1 and
    with eta1 = 0 sqrt(eta2) psi2 (each padded by one zero column).
    """
    if lr_first < 0 or lr_second < 0:
        raise ValueError(f"learning rates must be >= 0, got {lr_first}, {lr_second}")
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    q = _norm_feature(X, moments, naive)
    return np.hstack(
        [
            math.sqrt(lr_first + lr_second) * moments.zeta * X / math.sqrt(d),
            np.full((n, 1), math.sqrt(lr_first) * moments.nu / math.sqrt(d)),
            math.sqrt(lr_second) * q[:, None],
        ]
    )


def _geometric_sums(mu: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """S[t, k] = sum_{s < steps[t]} (1 - mu[k])^s, accurate for tiny mu (expm1/log1p)."""
    t = steps[:, None].astype(np.float64)
    mu = mu[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        small = -np.expm1(t * np.log1p(-np.minimum(mu, 0.5))) / mu
        large = (1.0 - np.power(1.0 - mu, t)) / mu
    out = np.where(mu < 0.5, small, large)
    return np.where(mu == 0.0, t, out)


class LinearGDDivergenceError(ValueError):
    """GD on a linear model diverges: ``lr`` times the top eigenvalue of the feature
    covariance Phi^T Phi / n reaches 2. ``max_lr_factor`` (< 1) is the factor by which the
    learning rate must shrink at least for GD to converge."""

    def __init__(self, lr: float, top_eigenvalue: float, message: str | None = None):
        self.lr = lr
        self.top_eigenvalue = top_eigenvalue
        self.mu = lr * top_eigenvalue
        self.max_lr_factor = 2.0 / self.mu
        super().__init__(
            message
            or f"learning rate {lr:g} times the top eigenvalue {top_eigenvalue:.4g} of the feature "
            f"covariance is {self.mu:.4g} >= 2: gradient descent diverges; lower the lr below "
            f"{lr * self.max_lr_factor:.4g}"
        )

    def __reduce__(self):
        return (type(self), (self.lr, self.top_eigenvalue, str(self)))


def linear_gd_closed_form(features: np.ndarray, y: np.ndarray, steps: Sequence[int], lr: float = 1.0) -> np.ndarray:
    """Parameters delta(t) of GD on a linear model, at every step in ``steps`` at once.

    Returns an array of shape (len(steps), p). Raises LinearGDDivergenceError (a
    ValueError) when lr times the top eigenvalue of Phi^T Phi / n reaches 2, where GD
    diverges.
    """
    F = np.asarray(features, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    steps = np.asarray(steps, dtype=np.int64)
    if np.any(steps < 0):
        raise ValueError("steps must be non-negative")
    n = F.shape[0]
    cov = F.T @ F / n
    b = F.T @ y / n
    lam, U = np.linalg.eigh(cov)
    lam = np.clip(lam, 0.0, None)
    mu = lr * lam
    if mu.max(initial=0.0) >= 2.0:
        raise LinearGDDivergenceError(lr, float(lam.max()))
    coef = lr * _geometric_sums(mu, steps)  # (T, p)
    return (coef * (U.T @ b)[None, :]) @ U.T


def linear_gd_iterate(features: np.ndarray, y: np.ndarray, steps: Sequence[int], lr: float = 1.0) -> np.ndarray:
    """The same parameters as ``linear_gd_closed_form`` by plain GD on the data (reference):
    delta <- delta - lr Phi^T (Phi delta - y) / n, one step at a time."""
    F = np.asarray(features, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    steps = np.asarray(steps, dtype=np.int64)
    n, p = F.shape
    delta = np.zeros(p)
    out = np.empty((len(steps), p))
    wanted = {int(s): i for i, s in enumerate(steps)}
    for t in range(int(steps.max(initial=0)) + 1):
        if t in wanted:
            out[wanted[t]] = delta
        delta = delta - (lr / n) * (F.T @ (F @ delta - y))
    return out
