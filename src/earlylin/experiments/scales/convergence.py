"""The linear model's optimum and the step T_lin at which it has converged (Corollary 3.3),
from the closed form of GD (Claim C.1): exact at every integer step, not read off a
logging grid."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..two_layer.surrogates import linear_gd_closed_form


def _eigen(F: np.ndarray, y: np.ndarray, rtol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Eigenpairs of C = F^T F / n, b = F^T y / n, and the mask of non-null directions."""
    n = F.shape[0]
    lam, U = np.linalg.eigh(F.T @ F / n)
    lam = np.clip(lam, 0.0, None)
    keep = lam > rtol * max(lam.max(initial=0.0), np.finfo(float).tiny)
    return lam, U, U.T @ (F.T @ y / n), keep


def linear_optimum(F_train: np.ndarray, y_train: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """The limit t -> infinity of GD from zero on (1/2n) ||F delta - y||^2: the
    minimum-norm least-squares solution pinv(F) y (directions with eigenvalue below
    ``rtol`` times the largest are null: GD never moves there)."""
    F = np.asarray(F_train, dtype=np.float64)
    lam, U, c, keep = _eigen(F, np.asarray(y_train, dtype=np.float64), rtol)
    return U[:, keep] @ (c[keep] / lam[keep])


def _quadratic_loss(F: np.ndarray, y: np.ndarray):
    """delta -> (1/2N) ||F delta - y||^2 for many deltas at once (rows), via p x p moments."""
    F = np.asarray(F, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    N = F.shape[0]
    G = F.T @ F / N
    h = F.T @ y / N
    c = float(y @ y) / N

    def loss(delta: np.ndarray) -> np.ndarray:
        delta = np.atleast_2d(delta)
        return 0.5 * (np.einsum("tp,pq,tq->t", delta, G, delta) - 2.0 * delta @ h + c)

    return loss


def linear_losses(
    F_train: np.ndarray, y_train: np.ndarray, F_eval: np.ndarray, y_eval: np.ndarray, steps: Sequence[int]
) -> np.ndarray:
    """The loss (1/2N) sum (f_lin(x) - y)^2 on (F_eval, y_eval) of the linear model trained
    by GD from zero on (F_train, y_train) with unit lr (the lr is in the features, as in
    ``gd_features``), at every step in ``steps`` (closed form, Claim C.1)."""
    return _quadratic_loss(F_eval, y_eval)(linear_gd_closed_form(F_train, y_train, steps))


def linear_optimum_loss(F_train: np.ndarray, y_train: np.ndarray, F_eval: np.ndarray, y_eval: np.ndarray) -> float:
    """The loss on (F_eval, y_eval) of the limit of GD from zero (``linear_optimum``)."""
    return float(_quadratic_loss(F_eval, y_eval)(linear_optimum(F_train, y_train))[0])


def first_within(steps: np.ndarray, losses: np.ndarray, optimum: float, tol: float) -> int | None:
    """The first of ``steps`` at which ``losses`` <= (1 + tol) * optimum; None if none.

    "Within tol of the optimum" from above: a test loss may dip below its limit on the
    way (early stopping regularises), which counts as within."""
    steps = np.asarray(steps)
    ok = np.asarray(losses, dtype=np.float64) <= (1.0 + tol) * optimum
    return int(steps[np.argmax(ok)]) if ok.any() else None


def convergence_step(
    F_train: np.ndarray,
    y_train: np.ndarray,
    F_eval: np.ndarray,
    y_eval: np.ndarray,
    tol: float = 0.01,
    *,
    max_step: int = 10**7,
    chunk: int = 4096,
) -> int:
    """T_lin: the first integer step t at which the linear model's loss on (F_eval, y_eval)
    is within ``tol`` of its optimum (``first_within`` on every integer step, from the
    closed form; exact, not limited to a logged grid).

    Raises ValueError when the optimum is zero (no relative tolerance) or when the step
    lies beyond ``max_step``.
    """
    optimum = linear_optimum_loss(F_train, y_train, F_eval, y_eval)
    if not optimum > 0:
        raise ValueError(f"the linear model's optimal loss is {optimum}: a relative tolerance is meaningless")
    loss = _quadratic_loss(F_eval, y_eval)
    start, size = 0, chunk
    while start <= max_step:
        steps = np.arange(start, min(start + size, max_step + 1), dtype=np.int64)
        found = first_within(steps, loss(linear_gd_closed_form(F_train, y_train, steps)), optimum, tol)
        if found is not None:
            return found
        start, size = int(steps[-1]) + 1, size * 2
    raise ValueError(f"the linear model's loss is not within {tol:g} of its optimum by step {max_step}")
