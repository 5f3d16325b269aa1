"""Scorecard rows of the theorems' time and width scales (``fig_horizon``, ``fig_width``):
Corollary 3.3, the d log d / eta time scale of Theorem 3.2 / D.1, and the finite-width
floor. The criteria are in ``scorecard.CRITERIA`` with the others."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .scorecard import (
    CRITERIA,
    HORIZON_MIN_SLOPE,
    NOT_RUN,
    WIDTH_REFERENCE,
    WIDTH_SLOPE,
    WIDTH_SLOPE_TOLERANCE,
    is_empty,
    mean_sd,
    not_run,
    row,
    verdict,
)

# ----------------------------------------------------------------------- time scale


def horizon_rows(horizons: pd.DataFrame | None, fits: pd.DataFrame | None) -> list[dict]:
    """Corollary 3.3 (T_agree >= T_lin) and the d log d / eta scale of Theorem 3.2 / D.1,
    one row each per activation (horizons, fits: tables of ``earlylin.scales``)."""
    cor = (
        "Horizon (Cor. 3.3)",
        "the network tracks f_lin until f_lin has converged: T_agree ≥ T_lin",
        "agreement all the way to the linear optimum (well-conditioned data)",
    )
    thm = (
        "Horizon (Thm 3.2/D.1)",
        "agreement lasts ~ d log d / η: η T_agree grows at least like d log d",
        "agreement for t ≤ c d log d / η",
    )
    if is_empty(horizons):
        return [not_run(*cor, CRITERIA["corollary"]), not_run(*thm, CRITERIA["horizon_slope"])]
    rows = []
    for activation, group in horizons.groupby("activation", sort=True):
        testable = group[~group["floor_limited"]]
        floor = int(group["floor_limited"].sum())
        failing = testable[~testable["agree_ge_lin"]]
        ratio = np.where(testable["reached"], testable["horizon"], testable["last_step"]) / testable["t_lin"]
        measured = (
            f"{len(testable) - len(failing)} of {len(testable)} (η, d, seed, split, τ) with T_agree ≥ T_lin"
            + (f" (smallest T_agree / T_lin {ratio.min():.2f})" if len(testable) else "")
            + (f"; {floor} more start above τ at step 1 (finite-width floor)" if floor else "")
            + (
                "; failing: "
                + ", ".join(
                    f"η={r.lr:g} d={r.d} seed {r.seed} {r.split} τ={r.threshold:g}: {r.horizon:.0f} < {r.t_lin}"
                    for r in failing.head(6).itertuples()
                )
                if len(failing)
                else ""
            )
        )
        rows.append(
            row(
                cor[0],
                f"{activation}: {cor[1]}",
                cor[2],
                CRITERIA["corollary"],
                measured if len(testable) else "no run starts below a threshold",
                verdict(failing.empty) if len(testable) else NOT_RUN,
            )
        )

        part = (
            pd.DataFrame()
            if is_empty(fits)
            else fits[(fits["quantity"] == "t_agree") & (fits["activation"] == activation) & (fits["split"] == "train")]
        )
        lin = pd.DataFrame()
        if not is_empty(fits):
            lin = fits[(fits["quantity"] == "t_lin") & (fits["activation"] == activation)]
        if part.empty:
            rows.append(
                not_run(
                    thm[0],
                    f"{activation}: {thm[1]}",
                    thm[2],
                    CRITERIA["horizon_slope"],
                    "too few d with a horizon reached (after starting below the threshold) to fit",
                )
            )
            continue
        slopes = "; ".join(f"η={r.lr:g}, τ={r.threshold:g}: {_slope(r)}" for r in part.itertuples())
        lins = "; ".join(f"η={r.lr:g}: {_slope(r)}" for r in lin.itertuples())
        measured = f"slopes of η T_agree (training points): {slopes}" + (f"; of η T_lin: {lins}" if lins else "")
        rows.append(
            row(
                thm[0],
                f"{activation}: {thm[1]}",
                thm[2],
                CRITERIA["horizon_slope"],
                measured,
                verdict(bool((part["slope"] >= HORIZON_MIN_SLOPE).all())),
            )
        )
    return rows


def _slope(fit) -> str:
    sd = "" if np.isnan(fit.slope_sd) else f" ± {fit.slope_sd:.2f}"
    return f"{fit.slope:.2f}{sd} ({fit.n_seeds} seed{'s' if fit.n_seeds > 1 else ''})"


# ----------------------------------------------------------------------- width scale


def width_rows(table: pd.DataFrame | None, fits: pd.DataFrame | None) -> list[dict]:
    """The finite-width floor (table, fits: tables of ``earlylin.scales``)."""
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
