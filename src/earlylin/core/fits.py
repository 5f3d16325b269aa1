"""Power-law fits and how their spread over seeds is written: the one place where a slope
is fitted (Figure 5's norms against d, the horizons against d log d, the width floor against
m, Figure 1c's discrepancy against d) and where "mean ± sd" is formatted."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PowerLawFit:
    """y ≈ exp(intercept) x^slope: the least-squares line of log y on log x, with the
    standard error of its slope (NaN with two points, where the line is exact)."""

    slope: float
    intercept: float
    stderr: float


def power_law_fit(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> PowerLawFit:
    """Least-squares fit of log y on log x (at least two distinct x; y > 0)."""
    log_x = np.log(np.asarray(x, dtype=np.float64))
    log_y = np.log(np.asarray(y, dtype=np.float64))
    if np.unique(log_x).size < 2:
        raise ValueError(f"fitting a power law needs at least two distinct x, got {np.asarray(x).tolist()}")
    slope, intercept = np.polyfit(log_x, log_y, 1)
    residual = log_y - (slope * log_x + intercept)
    spread = float(np.sum((log_x - log_x.mean()) ** 2))
    dof = log_x.size - 2
    stderr = math.sqrt(float(residual @ residual) / dof / spread) if dof > 0 else math.nan
    return PowerLawFit(float(slope), float(intercept), stderr)


def mean_power_law(group: pd.DataFrame, x: str, value: str = "value") -> dict[str, float | int]:
    """The power law of the mean over seeds of ``value`` against ``x`` in ``group`` (columns x,
    value, seed): its slope, intercept and stderr, the sample sd of the per-seed slopes
    (ddof 1; NaN with one seed; a seed with fewer than two x or a value <= 0 is left out), the
    number of seeds fitted, and the x range as ``{x}_min``, ``{x}_max``."""
    mean = group.groupby(x)[value].mean()
    fit = power_law_fit(mean.index.to_numpy(float), mean.to_numpy())
    per_seed = [
        power_law_fit(part[x].to_numpy(float), part[value].to_numpy()).slope
        for _, part in group.groupby("seed")
        if part[x].nunique() >= 2 and (part[value] > 0).all()
    ]
    return {
        "slope": fit.slope,
        "intercept": fit.intercept,
        "stderr": fit.stderr,
        "seed_slope_sd": float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else math.nan,
        "seeds": len(per_seed),
        f"{x}_min": int(mean.index.min()),
        f"{x}_max": int(mean.index.max()),
    }


def seed_spread(per_seed: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per group of ``keys`` of per-seed fits (columns slope, intercept, n_points, x_min,
    x_max): the mean slope and its sample sd over seeds (ddof 1; NaN with one seed), the
    mean intercept, the number of seeds, the fewest points of a fit, the x range, and the
    per-seed slopes as text."""
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


def mean_sd(values: Iterable[float], fmt: str = ".3g") -> str:
    """'mean ± sd over N seeds' (sample sd), or the value alone for one seed."""
    values = np.asarray(list(values), dtype=float)
    if len(values) == 0:
        return "n/a"
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(values.mean(), fmt)} ± {format(values.std(ddof=1), fmt)} over {len(values)} seeds"


def slope_text(slope: float, sd: float = math.nan, n_seeds: int | None = None) -> str:
    """A fitted slope with its sd over seeds: '0.85 ± 0.02' (the value alone when the sd is
    NaN, one seed), followed by '(3 seeds)' when ``n_seeds`` is given."""
    spread = "" if math.isnan(sd) else f" ± {sd:.2f}"
    seeds = "" if n_seeds is None else f" ({n_seeds} seed{'s' if n_seeds > 1 else ''})"
    return f"{slope:.2f}{spread}{seeds}"
