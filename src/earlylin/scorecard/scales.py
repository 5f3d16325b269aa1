"""Scorecard rows of the theorems' time and width scales (``fig_horizon``, ``fig_width``):
Corollary 3.3, the d log d / eta time scale of Theorem 3.2 / D.1, and the finite-width
floor. The criteria are in ``criteria.CRITERIA`` with the others."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.fits import mean_sd, slope_text
from .criteria import CRITERIA, HORIZON_MIN_SLOPE, NOT_RUN, WIDTH_REFERENCE, WIDTH_SLOPE, WIDTH_SLOPE_TOLERANCE
from .rows import is_empty, not_run, row, verdict

# ----------------------------------------------------------------------- time scale


COROLLARY = (
    "Horizon (Cor. 3.3)",
    "the network tracks f_lin until f_lin has converged: T_agree ≥ T_lin",
    "agreement all the way to the linear optimum (well-conditioned data)",
)
TIME_SCALE = (
    "Horizon (Thm 3.2/D.1)",
    "agreement lasts ~ d log d / η: η T_agree grows at least like d log d",
    "agreement for t ≤ c d log d / η",
)


def horizon_rows(horizons: pd.DataFrame | None, fits: pd.DataFrame | None) -> list[dict]:
    """Corollary 3.3 (T_agree >= T_lin) and the d log d / eta scale of Theorem 3.2 / D.1,
    one row each per activation (horizons, fits: the horizon_summary tables)."""
    if is_empty(horizons):
        return [not_run(*COROLLARY, CRITERIA["corollary"]), not_run(*TIME_SCALE, CRITERIA["horizon_slope"])]
    rows = []
    for activation, group in horizons.groupby("activation", sort=True):
        rows.append(_corollary_row(activation, group))
        rows.append(_time_scale_row(activation, pd.DataFrame() if is_empty(fits) else fits))
    return rows


def _corollary_row(activation: str, horizons: pd.DataFrame) -> dict:
    """T_agree >= T_lin over every run of one activation that starts below its threshold."""
    testable = horizons[~horizons["floor_limited"]]
    floor = int(horizons["floor_limited"].sum())
    failing = testable[~testable["agree_ge_lin"]]
    ratio = np.where(testable["reached"], testable["horizon"], testable["last_step"]) / testable["t_lin"]
    failures = ", ".join(
        f"η={r.lr:g} d={r.d} seed {r.seed} {r.split} τ={r.threshold:g}: {r.horizon:.0f} < {r.t_lin}"
        for r in failing.head(6).itertuples()
    )
    measured = (
        f"{len(testable) - len(failing)} of {len(testable)} (η, d, seed, split, τ) with T_agree ≥ T_lin"
        + (f" (smallest T_agree / T_lin {ratio.min():.2f})" if len(testable) else "")
        + (f"; {floor} more start above τ at step 1 (finite-width floor)" if floor else "")
        + (f"; failing: {failures}" if len(failing) else "")
    )
    return row(
        COROLLARY[0],
        f"{activation}: {COROLLARY[1]}",
        COROLLARY[2],
        CRITERIA["corollary"],
        measured if len(testable) else "no run starts below a threshold",
        verdict(failing.empty) if len(testable) else NOT_RUN,
    )


def _time_scale_row(activation: str, fits: pd.DataFrame) -> dict:
    """The slopes of eta T_agree (training points) on d log d of one activation."""
    claim = (TIME_SCALE[0], f"{activation}: {TIME_SCALE[1]}", TIME_SCALE[2], CRITERIA["horizon_slope"])
    mine = fits[fits["activation"] == activation] if len(fits) else fits
    part = mine[(mine["quantity"] == "t_agree") & (mine["split"] == "train")] if len(mine) else mine
    if part.empty:
        return not_run(*claim, "too few d with a horizon reached (after starting below the threshold) to fit")
    lin = mine[mine["quantity"] == "t_lin"]
    slopes = "; ".join(f"η={r.lr:g}, τ={r.threshold:g}: {_slope(r)}" for r in part.itertuples())
    lins = "; ".join(f"η={r.lr:g}: {_slope(r)}" for r in lin.itertuples())
    measured = f"slopes of η T_agree (training points): {slopes}" + (f"; of η T_lin: {lins}" if lins else "")
    return row(*claim, measured, verdict(bool((part["slope"] >= HORIZON_MIN_SLOPE).all())))


def _slope(fit) -> str:
    return slope_text(fit.slope, fit.slope_sd, fit.n_seeds)


# ----------------------------------------------------------------------- width scale


def width_rows(table: pd.DataFrame | None, fits: pd.DataFrame | None) -> list[dict]:
    """The finite-width floor (table, fits: the width_summary tables)."""
    slope_claim = (
        "Width",
        "finite-width NTK fluctuation: relative MSE at early steps ~ 1/m",
        "m >~ d^(1+α) suffices (Thm 3.2); fluctuation ~ 1/sqrt(m)",
    )
    d_claim = (
        "Width",
        "at fixed width the relative MSE rises with d (Figure 1c's observation at m = 256)",
        "(beyond the paper)",
    )
    if is_empty(table):
        return [not_run(*slope_claim, CRITERIA["width_slope"]), not_run(*d_claim, CRITERIA["width_d"])]
    rel = table[table["metric"] == "relative_mse"]
    first = int(rel["step"].min())
    rows = []
    d_max = int(rel["d"].max())
    fit = pd.DataFrame() if is_empty(fits) else fits[(fits["d"] == d_max) & (fits["step"] == first)]
    if fit.empty:
        rows.append(not_run(*slope_claim, CRITERIA["width_slope"], f"no fit at d = {d_max} (too few widths ≥ d^(1+α))"))
    else:
        fit = fit.iloc[0]
        others = fits[fits["step"] == first].sort_values("d")
        measured = (
            f"step {first}, d = {d_max}: slope {_slope(fit)} over m = {fit['x_min']:.0f}..{fit['x_max']:.0f}; "
            "other d: " + ", ".join(f"d={r.d}: {_slope(r)}" for r in others.itertuples() if r.d != d_max)
        )
        rows.append(
            row(
                *slope_claim,
                CRITERIA["width_slope"],
                measured,
                verdict(abs(fit["slope"] - WIDTH_SLOPE) <= WIDTH_SLOPE_TOLERANCE),
            )
        )
    widths = np.unique(rel["width"])
    width = int(widths[np.argmin(np.abs(np.log(widths) - np.log(WIDTH_REFERENCE)))])
    at = rel[(rel["width"] == width) & (rel["step"] == first)]
    if at["d"].nunique() < 2:
        rows.append(not_run(*d_claim, CRITERIA["width_d"], "fewer than two values of d in this run"))
    else:
        per_seed = at.groupby(["d", "seed"])["value"].mean()
        means = per_seed.groupby(level=0).mean().sort_index()
        measured = f"m = {width}, step {first}: " + ", ".join(
            f"d={d}: {mean_sd(per_seed.loc[d], '.3g')}" for d in means.index
        )
        rows.append(row(*d_claim, CRITERIA["width_d"], measured, verdict(bool(np.all(np.diff(means.to_numpy()) > 0)))))
    return rows


# ----------------------------------------------------------------------------- output
