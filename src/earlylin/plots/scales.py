"""Figures of the theorems' time and width scales (``fig_horizon``, ``fig_width``), drawn
from the tables of the horizon and width sweeps."""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from ..core.fits import slope_text
from .style import (
    BAND,
    log_log,
    mean_band,
    n_seeds,
    plot_mean_band,
    seeds_note,
    set_style,
    suptitle,
)

THRESHOLD_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"]
LR_MARKERS = ["o", "s", "D", "^"]
SPLIT_STYLES = {"train": "-", "test": "--"}


def _lr_styles(lrs) -> dict[float, str]:
    return {lr: LR_MARKERS[i % len(LR_MARKERS)] for i, lr in enumerate(sorted(lrs))}


def _threshold_colors(thresholds) -> dict[float, str]:
    return {t: THRESHOLD_COLORS[i % len(THRESHOLD_COLORS)] for i, t in enumerate(sorted(thresholds))}


def _slope_text(row: pd.Series) -> str:
    return "slope " + slope_text(row["slope"], row["slope_sd"])


def _fit_line(ax: plt.Axes, fit: pd.Series, *, color, ls: str, label: str) -> None:
    x = np.geomspace(fit["x_min"], fit["x_max"], 30)
    ax.plot(x, np.exp(fit["intercept"]) * x ** fit["slope"], color=color, ls=ls, lw=1.2, label=label)


def horizon_points(horizons: pd.DataFrame) -> pd.DataFrame:
    """Per (activation, lr, split, threshold, d): eta T_agree over the seeds that reached
    the threshold after starting below it (mean, min, max, count), the number of seeds
    that never reached it (``censored``; their eta x last step is ``censored_at``) and of
    seeds already above it at step 1 (``floor_limited``)."""
    rows = []
    keys = ["activation", "lr", "split", "threshold", "d"]
    for key, group in horizons.groupby(keys, sort=True):
        ok = group[group["reached"] & ~group["floor_limited"]]
        scaled = (ok["lr"] * ok["horizon"]).to_numpy(float)
        rows.append(
            dict(
                zip(keys, key),
                x=key[-1] * np.log(key[-1]),
                mean=scaled.mean() if len(scaled) else np.nan,
                lo=scaled.min() if len(scaled) else np.nan,
                hi=scaled.max() if len(scaled) else np.nan,
                n=len(scaled),
                censored=int((~group["reached"]).sum()),
                censored_at=float((group["lr"] * group["last_step"]).max()),
                floor_limited=int(group["floor_limited"].sum()),
            )
        )
    return pd.DataFrame(rows)


def plot_horizon(
    horizons: pd.DataFrame,
    curves: pd.DataFrame,
    fits: pd.DataFrame,
    *,
    activations: list[str],
    thresholds: list[float],
    title: str,
) -> plt.Figure:
    """Top row: relative discrepancy E(f - f_lin)^2 / E f^2 on the training (solid) and
    test (dashed) points against eta t / (d log d), one line per d, at the smallest lr.
    Bottom row: eta T_agree (per threshold; filled: training data, hollow: test data;
    triangles: not reached within the window, at its end) and eta T_lin (black) against
    d log d on log-log axes, with the per-seed least-squares fits (mean +- sd of the
    slopes over seeds)."""
    set_style()
    cols = len(activations)
    fig, axes = plt.subplots(2, cols, figsize=(7.2 * cols, 12.5), squeeze=False, constrained_layout=True)
    style = _HorizonStyle.of(horizons, thresholds)
    for j, activation in enumerate(activations):
        _discrepancy_panel(axes[0][j], curves[curves["activation"] == activation], activation, style)
        _horizon_panel(axes[1][j], horizons, fits, activation, style)
    suptitle(fig, title + seeds_note(horizons).replace("band", "error bars"))
    return fig


@dataclass(frozen=True)
class _HorizonStyle:
    """How the horizon figure tells its series apart: markers per lr, colours per threshold
    and per d, and whether seeds are averaged."""

    lrs: list[float]
    thresholds: list[float]
    d_values: list[int]
    markers: dict[float, str]
    colours: dict[float, str]
    d_colours: dict[int, tuple]
    several_seeds: bool

    def dodge(self, lr: float, threshold: float) -> float:
        """A factor on d ln d that sets the markers of each (lr, threshold) a little apart,
        so that none hides another at the same d."""
        combos = [(a, t) for a in self.lrs for t in self.thresholds]
        index = combos.index((lr, threshold))
        return 1.0 + 0.04 * (index - (len(combos) - 1) / 2)

    @classmethod
    def of(cls, horizons: pd.DataFrame, thresholds: list[float]) -> _HorizonStyle:
        lrs = sorted(horizons["lr"].unique())
        d_values = sorted(horizons["d"].unique())
        return cls(
            lrs=lrs,
            thresholds=list(thresholds),
            d_values=d_values,
            markers=_lr_styles(lrs),
            colours=_threshold_colors(thresholds),
            d_colours=dict(zip(d_values, sns.color_palette("viridis", len(d_values)))),
            several_seeds=n_seeds(horizons) > 1,
        )


def _discrepancy_panel(ax: plt.Axes, curves: pd.DataFrame, activation: str, style: _HorizonStyle) -> None:
    """One activation's relative discrepancy against eta t / (d log d) at the smallest lr."""
    lr = style.lrs[0]
    rel = curves[(curves["metric"] == "relative_mse") & (curves["lr"] == lr) & (curves["step"] >= 1)]
    rel = rel.assign(scaled=rel["lr"] * rel["step"] / (rel["d"] * np.log(rel["d"])))
    for d in style.d_values:
        for split, ls in SPLIT_STYLES.items():
            part = rel[(rel["d"] == d) & (rel["split"] == split)]
            label = f"d = {d}" if split == "train" else None
            plot_mean_band(ax, part, "scaled", "value", color=style.d_colours[d], ls=ls, lw=1.2, label=label)
    for threshold in style.thresholds:
        ax.axhline(threshold, color=style.colours[threshold], ls=":", lw=1)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color="k", ls=ls, label=f"{split} points") for split, ls in SPLIT_STYLES.items()]
    handles += [Line2D([], [], color=style.colours[t], ls=":", label=f"threshold {t:g}") for t in style.thresholds]
    ax.legend(handles=handles, fontsize="small", ncol=2, loc="best")
    log_log(
        ax,
        "η t / (d ln d)",
        "E(f − f_lin)² / E f²",
        f"{activation}: relative discrepancy, η = {lr:g}"
        + (f"\n(mean over {n_seeds(rel)} seeds, band {BAND})" if style.several_seeds else ""),
    )


def _horizon_panel(
    ax: plt.Axes, horizons: pd.DataFrame, fits: pd.DataFrame, activation: str, style: _HorizonStyle
) -> None:
    """One activation's eta T_lin and eta T_agree against d log d, with their fits."""
    mine = horizons[horizons["activation"] == activation]
    points = horizon_points(mine)
    handles = []
    for lr in style.lrs:
        handles += _t_lin_series(ax, mine[mine["lr"] == lr], _fits_of(fits, "t_lin", activation, lr), lr, style)
        for threshold in style.thresholds:
            for split in ("train", "test"):
                pts = points[(points["lr"] == lr) & (points["threshold"] == threshold) & (points["split"] == split)]
                fit = _fits_of(fits, "t_agree", activation, lr, split, threshold)
                handles += _t_agree_series(ax, pts, fit, lr, threshold, split, style)
    x_all = points["x"].to_numpy(float)
    if len(x_all):
        x = np.geomspace(x_all.min(), x_all.max(), 10)
        ax.plot(x, x, color="0.5", ls=":", lw=1)
    ax.legend(
        handles=handles + _horizon_key(style),
        fontsize="small",
        loc="upper center",
        bbox_to_anchor=(0.5, -0.16),
        ncol=2,
        frameon=False,
    )
    log_log(
        ax,
        "d ln d  (tick labels: d ln d and d)",
        "η × steps",
        f"{activation}: agreement horizon and T_lin\n" + _corollary_note(horizons, activation),
    )
    ticks = [d * np.log(d) for d in style.d_values]
    ax.set_xticks(ticks, [f"{x:.0f}\nd={d}" for x, d in zip(ticks, style.d_values)])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def _fits_of(fits: pd.DataFrame, quantity: str, activation: str, lr: float, split=None, threshold=None) -> pd.DataFrame:
    sel = (fits["quantity"] == quantity) & (fits["activation"] == activation) & (fits["lr"] == lr)
    if split is not None:
        sel &= (fits["split"] == split) & (fits["threshold"] == threshold)
    return fits[sel]


def _t_lin_series(ax: plt.Axes, horizons: pd.DataFrame, fit: pd.DataFrame, lr: float, style: _HorizonStyle) -> list:
    """eta T_lin per d (mean and min-max over seeds) and its fit, in black; its legend entry."""
    lin = horizons.drop_duplicates(["d", "seed"]).assign(
        x=lambda df: df["d"] * np.log(df["d"]), y=lambda df: df["lr"] * df["t_lin"]
    )
    stats = mean_band(lin, "x", "y")
    yerr = [stats["mean"] - stats["lo"], stats["hi"] - stats["mean"]]
    ax.errorbar(stats.index, stats["mean"], yerr=yerr, fmt=style.markers[lr], color="k", ms=5, capsize=2, lw=1)
    if not len(fit):
        return []
    _fit_line(ax, fit.iloc[0], color="k", ls="-", label=None)
    label = f"η T_lin, η {lr:g}: " + _slope_text(fit.iloc[0])
    return [Line2D([], [], color="k", marker=style.markers[lr], label=label)]


def _t_agree_series(
    ax: plt.Axes, pts: pd.DataFrame, fit: pd.DataFrame, lr: float, threshold: float, split: str, style: _HorizonStyle
) -> list:
    """eta T_agree of one (lr, threshold, split): reached horizons with their spread over
    seeds, unreached ones at the window's end (triangles), the fit; its legend entry."""
    colour = style.colours[threshold]
    face = colour if split == "train" else "none"
    pts = pts.assign(x=pts["x"] * style.dodge(lr, threshold))
    got = pts[pts["n"] > 0]
    yerr = [got["mean"] - got["lo"], got["hi"] - got["mean"]]
    marker = style.markers[lr]
    ax.errorbar(got["x"], got["mean"], yerr=yerr, fmt=marker, color=colour, mfc=face, mec=colour, ms=6, capsize=2, lw=1)
    cens = pts[pts["censored"] > 0]
    ax.scatter(cens["x"], cens["censored_at"], marker="^", s=36, facecolors=face, edgecolors=colour, alpha=0.6)
    if not len(fit):
        return []
    _fit_line(ax, fit.iloc[0], color=colour, ls=SPLIT_STYLES[split], label=None)
    label = f"η T_agree {split}, τ {threshold:g}, η {lr:g}: " + _slope_text(fit.iloc[0])
    return [Line2D([], [], color=colour, ls=SPLIT_STYLES[split], marker=marker, mfc=face, label=label)]


def _horizon_key(style: _HorizonStyle) -> list:
    """The legend entries that explain colours, fills, the slope-1 line and the triangles."""
    return [
        *(
            Line2D([], [], color=style.colours[t], marker="o", ls="", label=f"η T_agree at τ = {t:g}")
            for t in style.thresholds
        ),
        Line2D(
            [], [], color="0.4", marker="o", ls="", mfc="none", label="filled: training points, hollow: test points"
        ),
        Line2D([], [], color="0.5", ls=":", label="η T = d ln d (slope 1)"),
        Line2D([], [], color="0.4", marker="^", ls="", mfc="none", label="not reached: at the window's end"),
    ]


def _corollary_note(horizons: pd.DataFrame, activation: str) -> str:
    """'T_agree >= T_lin in k of N (run, split, threshold); f start above the threshold'."""
    part = horizons[horizons["activation"] == activation]
    testable = part[~part["floor_limited"]]
    held = int(testable["agree_ge_lin"].sum())
    floor = int(part["floor_limited"].sum())
    return f"T_agree ≥ T_lin in {held} of {len(testable)} (run, split, τ)" + (
        f"; {floor} start above τ" if floor else ""
    )


def plot_width(
    table: pd.DataFrame, fits: pd.DataFrame, *, alpha: float, title: str, reference_width: int | None = 256
) -> plt.Figure:
    """One panel per early step: the relative discrepancy E(f - f_lin)^2 / E f^2 on test
    data against the width m (log-log), one line per d (mean over seeds, min-max band),
    the least-squares fit over m >= d^(1+alpha) (dashed; slope mean +- sd over seeds),
    and m = d^(1+alpha) marked (dotted). ``reference_width``: Figure 1's width, marked."""
    set_style()
    rel = table[table["metric"] == "relative_mse"]
    steps = sorted(rel["step"].unique())
    fig, axes = plt.subplots(
        1, len(steps), figsize=(5.2 * len(steps), 4.6), squeeze=False, constrained_layout=True, sharey=True
    )
    d_values = sorted(rel["d"].unique())
    colours = dict(zip(d_values, sns.color_palette("viridis", len(d_values))))
    widths = sorted(rel["width"].unique())
    for ax, step in zip(axes[0], steps):
        for d in d_values:
            part = rel[(rel["step"] == step) & (rel["d"] == d)]
            fit = fits[(fits["step"] == step) & (fits["d"] == d)]
            label = f"d = {d}" + (f": {_slope_text(fit.iloc[0])}" if len(fit) else "")
            plot_mean_band(ax, part, "width", "value", color=colours[d], marker="o", label=label)
            if len(fit):
                _fit_line(ax, fit.iloc[0], color=colours[d], ls="--", label=None)
            ax.axvline(d ** (1 + alpha), color=colours[d], ls=":", lw=1)
        if reference_width and widths[0] <= reference_width <= widths[-1]:
            ax.axvline(reference_width, color="0.6", ls="-", lw=3, alpha=0.25)
        m = np.geomspace(widths[0], widths[-1], 10)
        anchor = rel[rel["step"] == step]["value"].median()
        ax.plot(m, anchor * np.sqrt(widths[0] * widths[-1]) / m, color="0.5", ls=":", lw=1)
        handles, _ = ax.get_legend_handles_labels()
        handles += [
            Line2D([], [], color="0.3", ls=":", lw=1, label=f"m = d^{1 + alpha:g} (colour of d)"),
            Line2D([], [], color="0.5", ls=":", lw=1, label="∝ 1/m"),
            Line2D([], [], color="0.3", ls="--", lw=1, label=f"fit over m ≥ d^{1 + alpha:g}"),
        ]
        if reference_width and widths[0] <= reference_width <= widths[-1]:
            handles.append(Line2D([], [], color="0.6", lw=3, alpha=0.4, label=f"m = {reference_width} (Figure 1)"))
        ax.legend(handles=handles, fontsize="small", loc="lower left")
        log_log(ax, "width m", "E(f − f_lin)² / E f²  on test" if step == steps[0] else "", f"step {step}")
        ax.set_xticks(widths, [str(w) for w in widths], rotation=45)
        ax.minorticks_off()
    suptitle(fig, title + seeds_note(table))
    return fig
