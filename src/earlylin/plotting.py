"""Figures, drawn with seaborn from the workflow's tidy tables only."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from .regimes import REGIMES
from .tables import atomic_path

MODEL_COLORS = {"network": "#1f77b4", "linear": "#d62728", "naive": "#7f7f7f"}


def set_style() -> None:
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)


def save_figure(fig: plt.Figure, pdf_path: str | os.PathLike, png_path: str | os.PathLike) -> None:
    """Write the figure as PDF and PNG, each atomically."""
    for path in (pdf_path, png_path):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix.lstrip("."), dpi=200, bbox_inches="tight")
    plt.close(fig)


def positive_steps(df: pd.DataFrame) -> pd.DataFrame:
    """Rows with step >= 1 (step 0 has no place on a log axis; both models are 0 there)."""
    return df[df["step"] >= 1]


BAND = "min–max"  # what the shaded band around a mean over seeds spans


def n_seeds(df: pd.DataFrame) -> int:
    """The number of distinct seeds in a table (1 when it has no seed column)."""
    return int(df["seed"].nunique()) if "seed" in df.columns and len(df) else 1


def seeds_note(*tables: pd.DataFrame) -> str:
    """'' for one seed, else what the lines and bands show, for a title."""
    count = max((n_seeds(t) for t in tables), default=1)
    return "" if count <= 1 else f"  [mean over {count} seeds, band: {BAND} over seeds]"


def mean_band(df: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Per value of ``x``: the mean of ``y`` over seeds, its min and max over seeds, and
    the number of seeds (rows of one seed at one x are averaged first)."""
    per_seed = df.groupby([x, "seed"] if "seed" in df.columns else [x])[y].mean()
    if "seed" in df.columns:
        grouped = per_seed.groupby(level=0)
        out = pd.DataFrame({"mean": grouped.mean(), "lo": grouped.min(), "hi": grouped.max(), "n": grouped.size()})
    else:
        out = pd.DataFrame({"mean": per_seed, "lo": per_seed, "hi": per_seed, "n": 1})
    return out.sort_index()


def plot_mean_band(
    ax: plt.Axes,
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    color,
    ls: str = "-",
    label: str | None = None,
    marker: str | None = None,
    lw: float = 1.5,
    band_alpha: float = 0.2,
) -> pd.DataFrame:
    """Draw the mean over seeds of ``y`` against ``x`` and, with more than one seed, a
    band from the min to the max over seeds. Returns the ``mean_band`` table."""
    stats = mean_band(df, x, y)
    if stats.empty:
        return stats
    ax.plot(
        stats.index,
        stats["mean"],
        color=color,
        ls=ls,
        label=label,
        marker=marker,
        lw=lw,
        markersize=4 if marker else None,
    )
    if stats["n"].max() > 1:
        ax.fill_between(stats.index, stats["lo"], stats["hi"], color=color, alpha=band_alpha, lw=0)
    return stats


def plot_test_outputs(
    ax: plt.Axes,
    logits: pd.DataFrame,
    models: list[str],
    dashes: dict[str, str],
    labels: dict[str, str],
    title: str,
    several_seeds: bool,
) -> None:
    """Outputs of a few test points against steps, of the first seed (the points differ
    by seed): one colour per point, one line style per model."""
    shown = positive_steps(logits)
    if "seed" in shown.columns and len(shown):
        shown = shown[shown["seed"] == shown["seed"].min()]
    shown = shown.drop_duplicates(["model", "step", "sample"])
    palette = sns.color_palette("tab10", max(shown["sample"].nunique(), 1))
    for colour, (_, part) in zip(palette, shown.groupby("sample")):
        for model in models:
            curve = part[part["model"] == model].sort_values("step")
            ax.plot(curve["step"], curve["output"], color=colour, ls=dashes[model])
    ax.legend(
        handles=[Line2D([], [], color="k", ls=dashes[m], label=labels[m]) for m in models],
        title="one colour per test point",
        fontsize="small",
    )
    ax.set(xscale="log", xlabel="step", ylabel="output f(x)", title=title + (" (first seed)" if several_seeds else ""))


def plot_fig1(losses: pd.DataFrame, logits: pd.DataFrame, discrepancy: pd.DataFrame, title: str) -> plt.Figure:
    """Figure 1: (a) losses, (b) test logits, (c) network-vs-linear MSE for several d.

    ``losses``: model, step, split, value (one d; seed when several);
    ``logits``: model, step, sample, output (one d, one seed: test points differ by seed);
    ``discrepancy``: d, seed, step, metric, value.
    Lines are means over seeds, with a min-max band when there are several.
    """
    set_style()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)

    ax = axes[0]
    shown = positive_steps(losses)
    split_styles = {"train": "-", "test": "--"}
    for model in ("network", "linear"):
        for split, ls in split_styles.items():
            part = shown[(shown["model"] == model) & (shown["split"] == split)]
            plot_mean_band(ax, part, "step", "value", color=MODEL_COLORS[model], ls=ls)
    ax.legend(
        handles=[Line2D([], [], color=MODEL_COLORS[m], label=m) for m in ("network", "linear")]
        + [Line2D([], [], color="k", ls=ls, label=split) for split, ls in split_styles.items()],
        fontsize="small",
    )
    ax.set(xscale="log", xlabel="step", ylabel="loss  (1/2n) Σ (f - y)²", title="(a) losses")

    ax = axes[1]
    shown = positive_steps(logits)
    if "seed" in shown.columns:
        shown = shown[shown["seed"] == shown["seed"].min()]
    palette = sns.color_palette("tab10", max(shown["sample"].nunique(), 1))
    for colour, (_, part) in zip(palette, shown.groupby("sample")):
        for model, ls in (("network", "-"), ("linear", "--")):
            rows = part[part["model"] == model].sort_values("step")
            ax.plot(rows["step"], rows["output"], color=colour, ls=ls)
    ax.legend(
        handles=[
            Line2D([], [], color="k", ls="-", label="network"),
            Line2D([], [], color="k", ls="--", label="linear"),
        ],
        title="one colour per test point",
        fontsize="small",
    )
    ax.set(
        xscale="log",
        xlabel="step",
        ylabel="output f(x)",
        title="(b) outputs of random test points" + (" (first seed)" if n_seeds(discrepancy) > 1 else ""),
    )

    ax = axes[2]
    disc = positive_steps(discrepancy[discrepancy["metric"] == "output_mse"])
    d_values = sorted(disc["d"].unique())
    colours = sns.color_palette("viridis", len(d_values))
    for colour, d in zip(colours, d_values):
        plot_mean_band(ax, disc[disc["d"] == d], "step", "value", color=colour, label=f"d = {int(d)}")
    ax.legend(title=None)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="step",
        ylabel="MSE(network, linear) on test",
        title="(c) discrepancy for various d",
    )
    fig.suptitle(title + seeds_note(losses, discrepancy))
    return fig


MODEL_LABELS = {"network": "network", "linear": "f_lin (eq. 11)", "naive": "naive linear (θ1 = θ2 = 0)"}
MODEL_DASHES = {"network": "-", "linear": "--", "naive": ":"}


def _plot_models(ax: plt.Axes, frame: pd.DataFrame, models) -> None:
    """One mean-over-seeds curve with its band per model of Figure 2, in the model's style."""
    for model in models:
        curve = frame[frame["model"] == model]
        plot_mean_band(
            ax, curve, "step", "value", color=MODEL_COLORS[model], ls=MODEL_DASHES[model], label=MODEL_LABELS[model]
        )


def plot_fig2(losses: pd.DataFrame, discrepancy: pd.DataFrame, logits: pd.DataFrame, title: str) -> plt.Figure:
    """Figure 2: (a) losses of the network, f_lin and the naive linear model, (b) output
    MSE of each linear model to the network, (c) outputs of random test points.

    ``losses``: model, step, split, value; ``discrepancy``: model, step, metric, value;
    ``logits``: model, step, sample, output (network rows may repeat, one per comparison).
    """
    set_style()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)
    models = ["network", "linear", "naive"]

    ax = axes[0]
    test = positive_steps(losses[losses["split"] == "test"])
    _plot_models(ax, test, models)
    ax.legend(fontsize="small")
    ax.set(xscale="log", yscale="log", xlabel="step", ylabel="test loss  (1/2n) Σ (f - y)²", title="(a) test losses")

    ax = axes[1]
    mse = positive_steps(discrepancy[discrepancy["metric"] == "output_mse"])
    _plot_models(ax, mse, ("linear", "naive"))
    ax.legend(title="MSE to the network of", fontsize="small")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="step",
        ylabel="MSE(network, linear model) on test",
        title="(b) discrepancy to the network",
    )

    ax = axes[2]
    plot_test_outputs(
        ax,
        logits,
        models,
        MODEL_DASHES,
        MODEL_LABELS,
        "(c) outputs of random test points",
        several_seeds=n_seeds(discrepancy) > 1,
    )
    fig.suptitle(title + seeds_note(losses, discrepancy))
    return fig


def plot_regimes(
    discrepancy: pd.DataFrame,
    horizons: pd.DataFrame,
    *,
    threshold: float,
    title: str,
    activations: list[str] | None = None,
) -> plt.Figure:
    """The regime x activation grid: relative test-output discrepancy of each network to
    its regime's linear model against steps (one panel per regime, one line per
    activation, seeds averaged), and a heatmap of the agreement horizons."""
    set_style()
    regimes = [r for r in REGIMES if r in set(discrepancy["regime"])]
    activations = activations or sorted(set(horizons["activation"]))
    fig, axes = plt.subplots(
        1,
        len(regimes) + 1,
        figsize=(4.6 * (len(regimes) + 1), 4.4),
        constrained_layout=True,
        gridspec_kw=dict(width_ratios=[1] * len(regimes) + [0.9]),
    )
    rel = positive_steps(discrepancy[discrepancy["metric"] == "relative_mse"])
    palette = dict(zip(activations, sns.color_palette("tab10", len(activations))))
    for ax, regime in zip(axes, regimes):
        part = rel[rel["regime"] == regime]
        for activation in activations:
            plot_mean_band(
                ax, part[part["activation"] == activation], "step", "value", color=palette[activation], label=activation
            )
        ax.axhline(threshold, color="k", ls=":", lw=1)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="step",
            title=REGIMES[regime].title,
            ylabel="E(f − f_lin)² / E f²  on test" if regime == regimes[0] else "",
        )
    axes[0].legend(title=f"activation  (dotted: threshold {threshold:g})", fontsize="small")

    ax = axes[-1]
    shown = horizon_cells(horizons)
    grid = shown.pivot(index="activation", columns="regime", values="value").reindex(index=activations, columns=regimes)
    labels = shown.pivot(index="activation", columns="regime", values="label").reindex(
        index=activations, columns=regimes
    )
    sns.heatmap(
        np.log10(grid.astype(float)),
        annot=labels.fillna("").to_numpy(),
        fmt="",
        cmap="viridis",
        ax=ax,
        cbar_kws=dict(label="log10 horizon (steps)"),
        annot_kws=dict(fontsize="small"),
    )
    ax.tick_params(axis="y", rotation=0)
    several = n_seeds(horizons) > 1
    ax.set(
        xlabel="regime",
        ylabel="",
        title=f"agreement horizon: first step with ratio > {threshold:g}"
        + ("\nmean over seeds [min–max]; '>': not reached in a seed" if several else ""),
    )
    fig.suptitle(title + seeds_note(discrepancy, horizons))
    return fig


def horizon_cells(horizons: pd.DataFrame) -> pd.DataFrame:
    """One heatmap cell per (activation, regime): ``value`` (the mean over seeds of the
    horizon, an unreached one counted at its last logged step: a lower bound then) and
    ``label``: the mean, with the min-max over seeds when there are several, '> N' when
    no seed reached the threshold, and '>= min' when only some did."""
    rows = []
    for (activation, regime), group in horizons.groupby(["activation", "regime"], sort=True):
        values = np.where(group["reached"], group["horizon"], group["last_step"]).astype(float)
        if not group["reached"].any():
            label = f"> {int(group['last_step'].max())}"
        elif not group["reached"].all():
            label = f"≥ {group.loc[group['reached'], 'horizon'].min():.0f}\n(some > {int(group['last_step'].max())})"
        elif len(group) > 1:
            label = f"{values.mean():.0f}\n[{values.min():.0f}–{values.max():.0f}]"
        else:
            label = f"{values[0]:.0f}"
        rows.append(dict(activation=activation, regime=regime, value=values.mean(), label=label))
    return pd.DataFrame(rows)
