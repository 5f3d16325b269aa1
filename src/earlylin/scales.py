"""The theorems' time and width scales (beyond the paper's figures).

Theorem 3.2 / D.1: a two-layer network and its linear model agree for t <= T =
c d log d / eta when n, m >~ d^(1+alpha); Corollary 3.3: for well-conditioned data the
linear model has essentially converged by then. Two experiments measure these scales:

* the agreement horizon (``fig_horizon``): for n = m = C d^(1+alpha), the first logged
  step T_agree at which the relative discrepancy E(f - f_lin)^2 / E f^2 exceeds a
  threshold, on the training data (the measure of eq. 7) and on test data (eq. 8), and
  the step T_lin at which f_lin's test loss comes within a tolerance of its optimum,
  located exactly from the closed form;
* the finite-width floor (``fig_width``): the relative discrepancy at fixed early steps
  against the width m.

Every function returns plain numbers or tidy tables; the workflow's scripts call them.
The sizes and step counts of the sweeps are in ``scale_sizes`` (which the workflow uses
while it parses the Snakefile); the modules that import torch (activations, surrogates,
experiments) are imported inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .metrics import agreement_horizon, half_mse, logged_steps, output_mse, relative_mse
from .scale_sizes import theorem_time

if TYPE_CHECKING:
    from .data import Dataset

SPLITS = ("train", "test")


# ------------------------------------------------------------- the linear model's optimum


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


def _closed_form(F_train: np.ndarray, y_train: np.ndarray, steps) -> np.ndarray:
    from .surrogates import linear_gd_closed_form

    return linear_gd_closed_form(F_train, y_train, steps)


def linear_losses(
    F_train: np.ndarray, y_train: np.ndarray, F_eval: np.ndarray, y_eval: np.ndarray, steps: Sequence[int]
) -> np.ndarray:
    """The loss (1/2N) sum (f_lin(x) - y)^2 on (F_eval, y_eval) of the linear model trained
    by GD from zero on (F_train, y_train) with unit lr (the lr is in the features, as in
    ``gd_features``), at every step in ``steps`` (closed form, Claim C.1)."""
    return _quadratic_loss(F_eval, y_eval)(_closed_form(F_train, y_train, steps))


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
        found = first_within(steps, loss(_closed_form(F_train, y_train, steps)), optimum, tol)
        if found is not None:
            return found
        start, size = int(steps[-1]) + 1, size * 2
    raise ValueError(f"the linear model's loss is not within {tol:g} of its optimum by step {max_step}")


# ------------------------------------------------------------------------- horizon runs


def evaluation_set(data: Dataset) -> Dataset:
    """The same training data, evaluated on the training points followed by the test
    points (so that one run logs the outputs on both)."""
    from .data import Dataset

    return Dataset(
        data.X_train, data.y_train, np.vstack([data.X_train, data.X_test]), np.concatenate([data.y_train, data.y_test])
    )


def discrepancy_curves(
    steps: np.ndarray, f_net: np.ndarray, f_lin: np.ndarray, y: np.ndarray, n_train: int
) -> pd.DataFrame:
    """Rows (step, split, metric, value) on the training points (the first ``n_train``
    columns) and the test points: relative_mse = E(f - f_lin)^2 / E f^2, output_mse, and
    each model's loss (network_loss, linear_loss)."""
    frames = []
    for split, cols in (("train", slice(0, n_train)), ("test", slice(n_train, None))):
        a, b, target = f_net[:, cols], f_lin[:, cols], y[cols]
        for metric, value in (
            ("relative_mse", relative_mse(a, b)),
            ("output_mse", output_mse(a, b)),
            ("network_loss", half_mse(a, target)),
            ("linear_loss", half_mse(b, target)),
        ):
            frames.append(pd.DataFrame({"step": steps, "split": split, "metric": metric, "value": value}))
    return pd.concat(frames, ignore_index=True)


def horizon_rows(curves: pd.DataFrame, thresholds: Sequence[float]) -> pd.DataFrame:
    """Per split and threshold: T_agree (``horizon``: the first logged step >= 1 with
    relative discrepancy above the threshold, NaN when never), the logged step before it
    (``horizon_lower``: the crossing lies in (horizon_lower, horizon]), whether it was
    reached, the relative discrepancy at step 1 and whether it already exceeds the
    threshold there (``floor_limited``: no agreement at this level from the start)."""
    rows = []
    rel = curves[(curves["metric"] == "relative_mse") & (curves["step"] >= 1)]
    for split in SPLITS:
        part = rel[rel["split"] == split].sort_values("step")
        steps, values = part["step"].to_numpy(), part["value"].to_numpy()
        for threshold in thresholds:
            horizon = agreement_horizon(steps, values, threshold)
            if horizon is None:
                lower = int(steps[-1])
            else:
                i = int(np.searchsorted(steps, horizon))
                lower = int(steps[i - 1]) if i > 0 else 0
            rows.append(
                dict(
                    split=split,
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
            )
    return pd.DataFrame(rows)


def horizon_run(
    data: Dataset,
    *,
    activation: str,
    width: int,
    lr: float,
    max_step: int,
    steps_per_decade: int,
    thresholds: Sequence[float],
    converged_tol: float,
    seed: int,
    dtype: str = "float32",
    device: str = "auto",
    leaky_relu_slope: float = 0.01,
    chunk_rows: int | None = None,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One network (both layers trained, eta1 = eta2 = ``lr``) and its linear model psi
    (eq. 11 / Thm D.1) on ``data``: returns (curves, horizons).

    curves: step, split, metric, value (``discrepancy_curves``). horizons: one row per
    (split, threshold) (``horizon_rows``) with T_lin (``t_lin``: first step with f_lin's
    test loss within ``converged_tol`` of its optimum, exact from the closed form),
    ``t_lin_grid`` (the same read off the logged steps), the optimal test loss, the
    theorem's time d log d / eta, and ``agree_ge_lin``: T_agree >= T_lin, where an
    unreached horizon counts as beyond the last logged step.
    """
    from .activations import gaussian_moments, get_activation
    from .experiments import fit_linear_model, train_network
    from .surrogates import gd_features
    from .tables import outputs_matrix

    steps = logged_steps(max_step, steps_per_decade)
    evaluation = evaluation_set(data)
    common = dict(activation=activation, lr_first=lr, lr_second=lr, steps=steps, leaky_relu_slope=leaky_relu_slope)
    _, net = train_network(
        evaluation,
        width=width,
        seed=seed,
        dtype=dtype,
        device=device,
        chunk_rows=chunk_rows,
        progress=progress,
        **common,
    )
    _, lin = fit_linear_model(evaluation, **common)
    steps_net, f_net = outputs_matrix(net)
    _, f_lin = outputs_matrix(lin)
    n_train = len(data.y_train)
    curves = discrepancy_curves(steps_net, f_net, f_lin, evaluation.y_test, n_train)

    moments = gaussian_moments(get_activation(activation, leaky_relu_slope))
    F_train = gd_features(data.X_train, moments, lr, lr)
    F_test = gd_features(data.X_test, moments, lr, lr)
    optimum = linear_optimum_loss(F_train, data.y_train, F_test, data.y_test)
    t_lin = convergence_step(F_train, data.y_train, F_test, data.y_test, converged_tol)
    test_lin = curves[(curves["split"] == "test") & (curves["metric"] == "linear_loss")].sort_values("step")
    t_lin_grid = first_within(test_lin["step"].to_numpy(), test_lin["value"].to_numpy(), optimum, converged_tol)

    horizons = horizon_rows(curves, thresholds)
    beyond = horizons["horizon"].fillna(horizons["last_step"] + 1)
    horizons = horizons.assign(
        t_lin=t_lin,
        t_lin_grid=float("nan") if t_lin_grid is None else float(t_lin_grid),
        linear_optimum_test_loss=optimum,
        converged_tol=converged_tol,
        theorem_time=theorem_time(data.input_dim, lr),
        agree_ge_lin=(beyond >= t_lin).to_numpy(),
    )
    return curves, horizons


# ----------------------------------------------------------------------------- fits


def _fit_slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and intercept of log y on log x."""
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    return float(slope), float(intercept)


def _summarise(per_seed: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean and sample sd (ddof 1; NaN with one seed) of per-seed slopes per group."""
    rows = []
    for key, group in per_seed.groupby(keys, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        rows.append(
            dict(
                zip(keys, key),
                slope=float(group["slope"].mean()),
                slope_sd=float(group["slope"].std(ddof=1)) if len(group) > 1 else float("nan"),
                intercept=float(group["intercept"].mean()),
                n_seeds=int(len(group)),
                n_points=int(group["n_points"].min()),
                x_min=float(group["x_min"].min()),
                x_max=float(group["x_max"].max()),
                seed_slopes=", ".join(f"{s:.3f}" for s in group["slope"]),
            )
        )
    return pd.DataFrame(rows)


def horizon_slopes(horizons: pd.DataFrame, min_points: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fits of log(eta T) on log(d log d), per seed, then mean +- sd over seeds.

    quantity 't_agree': per (activation, lr, split, threshold, seed) over the d whose
    horizon was reached and not floor-limited (at least ``min_points`` of them, else no
    fit); quantity 't_lin': per (activation, lr, seed) over every d. Returns (per-seed
    fits, summary: slope, slope_sd, intercept (mean), n_seeds, n_points, x range).
    """
    rows = []
    for key, group in horizons.groupby(["activation", "lr", "split", "threshold", "seed"], sort=True):
        ok = group[group["reached"] & ~group["floor_limited"]]
        if ok["d"].nunique() < min_points:
            continue
        x = (ok["d"] * np.log(ok["d"])).to_numpy(float)
        slope, intercept = _fit_slope(x, (ok["lr"] * ok["horizon"]).to_numpy(float))
        rows.append(
            dict(
                zip(["activation", "lr", "split", "threshold", "seed"], key),
                quantity="t_agree",
                slope=slope,
                intercept=intercept,
                n_points=len(ok),
                x_min=x.min(),
                x_max=x.max(),
            )
        )
    lin = horizons.drop_duplicates(["activation", "lr", "d", "seed"])
    for key, group in lin.groupby(["activation", "lr", "seed"], sort=True):
        if group["d"].nunique() < 2:
            continue
        x = (group["d"] * np.log(group["d"])).to_numpy(float)
        slope, intercept = _fit_slope(x, (group["lr"] * group["t_lin"]).to_numpy(float))
        rows.append(
            dict(
                zip(["activation", "lr", "seed"], key),
                split="test",
                threshold=float("nan"),
                quantity="t_lin",
                slope=slope,
                intercept=intercept,
                n_points=len(group),
                x_min=x.min(),
                x_max=x.max(),
            )
        )
    columns = [
        "quantity",
        "activation",
        "lr",
        "split",
        "threshold",
        "seed",
        "slope",
        "intercept",
        "n_points",
        "x_min",
        "x_max",
    ]
    per_seed = pd.DataFrame(rows, columns=columns)
    summary = _summarise(per_seed, ["quantity", "activation", "lr", "split", "threshold"])
    return per_seed, summary


# ---------------------------------------------------------------------- width runs


def width_run(
    data: Dataset,
    *,
    activation: str,
    width: int,
    lr: float,
    steps: Sequence[int],
    seed: int,
    dtype: str = "float32",
    device: str = "auto",
    leaky_relu_slope: float = 0.01,
    chunk_rows: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """One network of width ``width`` against f_lin (eq. 11) at the early ``steps``: rows
    (step, metric, value) with relative_mse = E(f - f_lin)^2 / E f^2 and output_mse on the
    test data."""
    from .experiments import fit_linear_model, train_network
    from .tables import outputs_matrix

    steps = sorted({0, *map(int, steps)})
    common = dict(activation=activation, lr_first=lr, lr_second=lr, steps=steps, leaky_relu_slope=leaky_relu_slope)
    _, net = train_network(
        data, width=width, seed=seed, dtype=dtype, device=device, chunk_rows=chunk_rows, progress=progress, **common
    )
    _, lin = fit_linear_model(data, **common)
    s, f_net = outputs_matrix(net)
    _, f_lin = outputs_matrix(lin)
    keep = s >= 1
    return pd.concat(
        [
            pd.DataFrame({"step": s[keep], "metric": "relative_mse", "value": relative_mse(f_net, f_lin)[keep]}),
            pd.DataFrame({"step": s[keep], "metric": "output_mse", "value": output_mse(f_net, f_lin)[keep]}),
        ],
        ignore_index=True,
    )


def width_slopes(table: pd.DataFrame, alpha: float, min_points: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fits of log(relative discrepancy) on log m per (activation, d, step, seed), over
    the widths m >= d^(1+alpha) (the theorems' requirement; at least ``min_points``),
    then mean +- sd over seeds. ``table``: activation, d, width, seed, step, metric, value.
    Returns (per-seed fits, summary) as ``horizon_slopes`` does, x being the width."""
    rel = table[table["metric"] == "relative_mse"]
    rows = []
    for key, group in rel.groupby(["activation", "d", "step", "seed"], sort=True):
        ok = group[group["width"] >= group["d"] ** (1.0 + alpha)]
        if ok["width"].nunique() < min_points:
            continue
        slope, intercept = _fit_slope(ok["width"].to_numpy(float), ok["value"].to_numpy(float))
        rows.append(
            dict(
                zip(["activation", "d", "step", "seed"], key),
                slope=slope,
                intercept=intercept,
                n_points=len(ok),
                x_min=float(ok["width"].min()),
                x_max=float(ok["width"].max()),
            )
        )
    per_seed = pd.DataFrame(
        rows, columns=["activation", "d", "step", "seed", "slope", "intercept", "n_points", "x_min", "x_max"]
    )
    return per_seed, _summarise(per_seed, ["activation", "d", "step"])
