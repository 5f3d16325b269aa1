"""Figure 5 and its extension: norms of the kernel differences against d, with fits."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from ..scorecard.criteria import FIG5_PAPER
from .style import log_log, mean_errorbars, plain_log_ticks, seeds_note, set_style, suptitle

KERNEL_LABELS = {
    "theta1": "Θ1(W(0)) − Θlin1",
    "theta2": "Θ2(W(0)) − Θlin2",
    "theta": "Θ(W(0)) − Θlin",
}
NORM_COLORS = {"spectral": "#1f77b4", "frobenius": "#ff7f0e"}


def plot_kernel_norms(
    norms: pd.DataFrame,
    fits: pd.DataFrame,
    seed_fits: pd.DataFrame,
    *,
    kernels: list[str],
    activations: list[str],
    title: str,
    identity_term: bool,
) -> plt.Figure:
    """Figure 5 style: norms of kernel differences against d on log-log axes, with the
    least-squares lines and their slopes in the legend; one panel per (activation, kernel).
    ``seed_fits``: the same fits per seed (the workflow's fig5/seed_fits table), whose sd
    over seeds the legend gives when there are several.

    With ``identity_term`` the norms with the diagonal gap c I added to the linear kernel
    are drawn too (hollow markers, dashed lines).
    """
    set_style()
    rows, cols = len(activations), len(kernels)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False, constrained_layout=True)
    variants = [False, True] if identity_term else [False]
    for i, activation in enumerate(activations):
        for j, kernel in enumerate(kernels):
            ax = axes[i][j]
            sel = norms[(norms["activation"] == activation) & (norms["kernel"] == kernel)]
            panel = fits[(fits["activation"] == activation) & (fits["kernel"] == kernel)]
            for with_identity in variants:
                spread = seed_slope_spread(seed_fits, activation, kernel, with_identity)
                for norm in ("spectral", "frobenius"):
                    fit = panel[(panel["identity_term"] == with_identity) & (panel["norm"] == norm)].iloc[0]
                    _norm_series(ax, sel[sel["identity_term"] == with_identity], fit, norm, with_identity, spread)
            log_log(
                ax,
                "input dimension d",
                "norm",
                f"{activation}: {KERNEL_LABELS[kernel]}  (fit over d = {fit['d_min']}..{fit['d_max']})",
            )
            if kernel == "theta1" and activation == "erf":  # Figure 5's own: the paper's slopes to compare
                for norm, slope in FIG5_PAPER.items():
                    _paper_slope(ax, panel[~panel["identity_term"] & (panel["norm"] == norm)].iloc[0], norm, slope)
            d_values = sorted(sel["d"].unique())
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_xticks(d_values, [str(d) for d in d_values])  # one label per measured d
            plain_log_ticks(ax.yaxis)
            ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, frameon=False)
    note = seeds_note(norms).replace("band", "error bars")
    if identity_term:
        note += "\nhollow markers, dashed lines: the linear kernel plus the diagonal gap c·I (for Θ1, c = γ − ζ²)"
    suptitle(fig, title + note)
    return fig


def _paper_slope(ax: plt.Axes, fit: pd.Series, norm: str, slope: float) -> None:
    """The paper's fitted slope (Figure 5) as a dotted line through the middle of this
    run's fitted line, for comparison."""
    d_grid = np.geomspace(fit["d_min"], fit["d_max"], 20)
    middle = np.sqrt(fit["d_min"] * fit["d_max"])
    at_middle = np.exp(fit["intercept"]) * middle ** fit["slope"]
    ax.plot(
        d_grid,
        at_middle * (d_grid / middle) ** slope,
        color=NORM_COLORS[norm],
        ls=":",
        lw=1.5,
        label=f"{norm}: the paper's slope {slope}",
    )


def _norm_series(
    ax: plt.Axes, norms: pd.DataFrame, fit: pd.Series, norm: str, with_identity: bool, spread: dict[str, float]
) -> None:
    """One norm's mean over seeds per d (error bars: min-max) and its fitted line; hollow
    markers and a dashed line for the kernel with the diagonal gap c I added."""
    colour = NORM_COLORS[norm]
    stats = mean_errorbars(ax, norms, "d", norm, color=colour, hollow=with_identity)
    d_grid = np.geomspace(stats.index.min(), stats.index.max(), 50)
    seeds_sd = f"; sd over seeds {spread[norm]:.3f}" if norm in spread else ""
    suffix = " with + c·I" if with_identity else ""
    ax.plot(
        d_grid,
        np.exp(fit["intercept"]) * d_grid ** fit["slope"],
        color=colour,
        ls="--" if with_identity else "-",
        label=f"{norm}{suffix}: slope {fit['slope']:.3f} ± {fit['stderr']:.3f}{seeds_sd}",
    )


def seed_slope_spread(seed_fits: pd.DataFrame, activation: str, kernel: str, identity_term: bool) -> dict[str, float]:
    """Sample sd over seeds of the per-seed log-log slopes of one panel, per norm ({} with
    one seed)."""
    part = seed_fits[
        (seed_fits["activation"] == activation)
        & (seed_fits["kernel"] == kernel)
        & (seed_fits["identity_term"] == identity_term)
    ]
    if part["seed"].nunique() < 2:
        return {}
    return part.groupby("norm")["slope"].std(ddof=1).to_dict()
