"""Quantities compared between a network and its linear model."""

from __future__ import annotations

import numpy as np


def half_mse(outputs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The paper's loss (1/2n) sum_i (f(x_i) - y_i)^2, over the last axis."""
    return 0.5 * np.mean((np.asarray(outputs) - np.asarray(y)) ** 2, axis=-1)


def output_mse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean squared difference of two models' outputs, over the last axis (Figure 1c)."""
    return np.mean((np.asarray(a) - np.asarray(b)) ** 2, axis=-1)


def relative_mse(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    """E||f - g||^2 / E||f||^2 over the last axis, f = ``reference`` (Figure 3c's measure);
    NaN where the reference is identically zero (e.g. step 0 from f = 0)."""
    reference = np.asarray(reference, dtype=np.float64)
    size = np.mean(reference**2, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(size > 0, output_mse(reference, other) / np.where(size > 0, size, 1.0), np.nan)


def agreement_horizon(steps: np.ndarray, relative: np.ndarray, threshold: float) -> int | None:
    """The first logged step >= 1 at which ``relative`` exceeds ``threshold``; None when it
    never does (agreement up to the last logged step)."""
    steps = np.asarray(steps)
    relative = np.asarray(relative, dtype=np.float64)
    over = (steps >= 1) & (relative > threshold)
    return int(steps[np.argmax(over)]) if over.any() else None


def horizon_summary(steps: np.ndarray, relative: np.ndarray, threshold: float) -> dict:
    """Where a relative-discrepancy curve (logged ``steps`` >= 1, ascending, and its values)
    first exceeds ``threshold``: ``horizon`` (``agreement_horizon``; NaN when never), the
    logged step before it (``horizon_lower``: the crossing lies in (horizon_lower, horizon];
    the last step when never reached), ``reached``, ``last_step``, the curve at its first
    step, its minimum and last value, and ``floor_limited``: whether it exceeds the threshold
    already at the first step (no agreement at this level from the start). The one horizon
    computation of the regime grid and of the time-scale runs."""
    steps = np.asarray(steps)
    values = np.asarray(relative, dtype=np.float64)
    horizon = agreement_horizon(steps, values, threshold)
    if horizon is None:
        lower = int(steps[-1])
    else:
        i = int(np.searchsorted(steps, horizon))
        lower = int(steps[i - 1]) if i > 0 else 0
    return dict(
        threshold=float(threshold),
        horizon=float("nan") if horizon is None else float(horizon),
        horizon_lower=lower,
        reached=horizon is not None,
        last_step=int(steps[-1]),
        relative_first=float(values[0]),
        relative_min=float(np.nanmin(values)),
        relative_last=float(values[-1]),
        floor_limited=bool(values[0] > threshold),
    )


def logged_steps(max_step: int, per_decade: int) -> np.ndarray:
    """Step 0 plus log-spaced integer steps 1..max_step (``per_decade`` per factor 10)."""
    if max_step < 1 or per_decade < 1:
        raise ValueError(f"max_step and per_decade must be >= 1, got {max_step}, {per_decade}")
    n_points = int(np.ceil(np.log10(max_step) * per_decade)) + 1
    steps = np.unique(np.round(np.logspace(0, np.log10(max_step), n_points)).astype(np.int64))
    return np.concatenate([[0], steps])


def input_span_basis(X: np.ndarray) -> np.ndarray | None:
    """Orthonormal basis (n x r) of V_lin = the column space of X (n x d), r = rank(X).

    From the SVD with numpy's matrix_rank tolerance, so rank-deficient X is handled.
    None when d >= n: then V_lin is (generically) all of R^n and the split of Figure 3a
    is not defined (full-size CIFAR-10 in Figure 4, d = 3072 > 2,000 test points).
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    if d >= n:
        return None
    U, S, _ = np.linalg.svd(X, full_matrices=False)
    tolerance = (S[0] if S.size else 0.0) * max(n, d) * np.finfo(np.float64).eps
    return U[:, S > tolerance]


def vlin_loss_parts(outputs: np.ndarray, y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The test loss split onto V_lin and its complement (Figure 3a), per logged step.

    With r = f_t(X) - y and P the orthogonal projection onto the column space of X:
    ((1/2n) ||P r||^2, (1/2n) ||(I - P) r||^2), which sum to the loss (1/2n) ||r||^2.
    ``outputs`` has shape (T, n); None when d >= n (see ``input_span_basis``).
    """
    basis = input_span_basis(X)
    if basis is None:
        return None
    residual = np.asarray(outputs, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    inside = (residual @ basis) @ basis.T
    n = residual.shape[-1]
    return 0.5 * np.sum(inside**2, axis=-1) / n, 0.5 * np.sum((residual - inside) ** 2, axis=-1) / n
