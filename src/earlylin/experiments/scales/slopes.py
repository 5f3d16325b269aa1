"""The scaling fits of the horizon and width sweeps: per seed, log(eta T) on log(d log d)
and log(relative discrepancy) on log m (``fits.power_law_fit``), then their mean and sd
over seeds (``fits.seed_spread``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.fits import power_law_fit, seed_spread


def _fit_row(x: np.ndarray, y: np.ndarray, **labels) -> dict:
    """One per-seed fit of log y on log x as a table row: the ``labels``, slope, intercept,
    the number of points and the x range."""
    fit = power_law_fit(x, y)
    return dict(labels, slope=fit.slope, intercept=fit.intercept, n_points=len(x), x_min=x.min(), x_max=x.max())


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
        labels = dict(zip(["activation", "lr", "split", "threshold", "seed"], key), quantity="t_agree")
        rows.append(_fit_row(x, (ok["lr"] * ok["horizon"]).to_numpy(float), **labels))
    lin = horizons.drop_duplicates(["activation", "lr", "d", "seed"])
    for key, group in lin.groupby(["activation", "lr", "seed"], sort=True):
        if group["d"].nunique() < 2:
            continue
        x = (group["d"] * np.log(group["d"])).to_numpy(float)
        labels = dict(zip(["activation", "lr", "seed"], key), split="test", threshold=float("nan"), quantity="t_lin")
        rows.append(_fit_row(x, (group["lr"] * group["t_lin"]).to_numpy(float), **labels))
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
    summary = seed_spread(per_seed, ["quantity", "activation", "lr", "split", "threshold"])
    return per_seed, summary


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
        labels = dict(zip(["activation", "d", "step", "seed"], key))
        rows.append(_fit_row(ok["width"].to_numpy(float), ok["value"].to_numpy(float), **labels))
    per_seed = pd.DataFrame(
        rows, columns=["activation", "d", "step", "seed", "slope", "intercept", "n_points", "x_min", "x_max"]
    )
    return per_seed, seed_spread(per_seed, ["activation", "d", "step"])


def horizon_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """The rows of the horizon runs' curves that the figure draws: the relative discrepancy
    and the linear model's loss."""
    return curves[curves["metric"].isin(["relative_mse", "linear_loss"])].reset_index(drop=True)
