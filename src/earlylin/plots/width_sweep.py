"""Width as a knob (``fig_widths``): each pair's relative MSE at fixed steps against the width
of the network, with fitted slopes, so that a reader sees whether a gap is finite width (it
falls with the width; the NTK's fluctuation about its limit gives slope -1 for the relative
MSE) or the kernel's higher-order terms (it does not fall)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from .any_network import row_name
from .style import log_log, mean_errorbars, plain_log_ticks, seeds_note, set_style, suptitle

PAIRS = (
    ("network", "linearised", "network vs its linearised network"),
    ("network", "linear", "network vs the linear model of its fitted NTK"),
    ("linearised", "linear", "linearised network vs the linear model"),
    # the paper's FC net and CNN on inputs on the sphere: finite width alone, then the Taylor
    # truncation of Section 4.1 alone (no width in it)
    ("network", "exact_kernel", "network vs its infinite-width kernel model"),
    ("exact_kernel", "linear", "infinite-width kernel model vs the linear model"),
)
STEP_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
# A slope above this (with its error) is read as "does not fall with the width".
FLAT_SLOPE = -0.2


def _slope_label(step: int, fit: pd.Series | None) -> str:
    if fit is None:
        return f"step {step:,}"
    spread = f" ± {fit['stderr']:.2f}" if np.isfinite(fit["stderr"]) else ""
    return f"step {step:,}: slope {fit['slope']:.2f}{spread}"


def _flat_pairs(fits: pd.DataFrame, dataset: str, net: str) -> list[str]:
    """The pairs whose gap does not fall with the width at the last step (slope > FLAT_SLOPE)."""
    part = fits[(fits["dataset"] == dataset) & (fits["net"] == net)]
    if part.empty:
        return []
    last = part[part["step"] == part["step"].max()]
    return [f"{r.reference} vs {r.other}" for r in last.itertuples() if r.slope > FLAT_SLOPE]


def plot_width_sweep(
    relative: pd.DataFrame,
    fits: pd.DataFrame,
    kernel_fit: pd.DataFrame,
    *,
    datasets: list[str],
    networks: list[str],
    steps: list[int],
    title: str,
    labels: dict[str, str] | None = None,
    network_labels: dict[str, str] | None = None,
) -> plt.Figure:
    """One row per (data set, network), one column per pair of ``PAIRS`` that some job trained
    (the infinite-width kernel model's for the paper's FC net and CNN on inputs on the sphere):
    relative MSE at each
    of ``steps`` against the width (mean over seeds, min-max bars) and its least-squares line."""
    set_style()
    labels, network_labels = labels or {}, network_labels or {}
    rows = [(dataset, net) for dataset in datasets for net in networks]
    drawn = set(zip(relative["reference"], relative["other"]))
    pairs = [pair for pair in PAIRS if pair[:2] in drawn]
    fig, axes = plt.subplots(
        len(rows), len(pairs), figsize=(5.3 * len(pairs), 4.3 * len(rows)), squeeze=False, constrained_layout=True
    )
    for panels, (dataset, net) in zip(axes, rows):
        sel = relative[(relative["dataset"] == dataset) & (relative["net"] == net)]
        panel_fits = fits[(fits["dataset"] == dataset) & (fits["net"] == net)] if not fits.empty else fits
        fits_of = kernel_fit[(kernel_fit["dataset"] == dataset) & (kernel_fit["net"] == net)]
        name = row_name(labels.get(dataset, dataset), net, network_labels.get(net, net), fits_of)
        flat = _flat_pairs(fits, dataset, net) if not fits.empty else []
        for ax, (reference, other, what) in zip(panels, pairs):
            pair = sel[(sel["reference"] == reference) & (sel["other"] == other)]
            if pair.empty:  # e.g. no infinite-width kernel model for this network or these inputs
                ax.set_axis_off()
                ax.set_title(f"{name}\n{what}", fontsize="small")
                ax.text(0.5, 0.5, "not trained for this row\n(no infinite-width kernel model)", ha="center",
                        va="center", transform=ax.transAxes, color="0.4")  # fmt: skip
                continue
            for step, colour in zip(steps, STEP_COLORS):
                points = pair[pair["step"] == step]
                if points.empty:
                    continue
                stats = mean_errorbars(ax, points, "width", "value", color=colour, ms=5)
                chosen = (
                    panel_fits[
                        (panel_fits["reference"] == reference)
                        & (panel_fits["other"] == other)
                        & (panel_fits["step"] == step)
                    ]
                    if not panel_fits.empty
                    else panel_fits
                )
                fit = chosen.iloc[0] if len(chosen) else None
                if fit is not None:
                    grid = np.geomspace(stats.index.min(), stats.index.max(), 40)
                    ax.plot(grid, np.exp(fit["intercept"]) * grid ** fit["slope"], color=colour, lw=1.2)
                ax.plot([], [], color=colour, marker="o", lw=1.2, label=_slope_label(step, fit))
            log_log(ax, "width", "relative MSE  E(f − g)² / E f²  (test)", f"{name}\n{what}")
            ax.title.set_fontsize("small")
            widths = sorted(pair["width"].unique())
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_xticks(widths, [str(w) for w in widths])
            plain_log_ticks(ax.yaxis)
            ax.legend(fontsize="small", frameon=False)
        if flat:
            panels[0].annotate(
                f"does not fall with the width at step {max(steps):,}: {'; '.join(flat)}",
                (0.0, -0.22),
                xycoords="axes fraction",
                fontsize="small",
                color="#b22222",
            )
    suptitle(fig, title + seeds_note(relative))
    return fig
