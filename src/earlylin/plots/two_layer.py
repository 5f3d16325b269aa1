"""Figures of Section 3 (two-layer networks): Figure 1, Figure 2 and the regime x
activation grid, drawn from the workflow's tables."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from ..experiments.two_layer.regimes import REGIMES
from .style import (
    log_log,
    n_seeds,
    plot_mean_band,
    plot_test_outputs,
    positive_steps,
    seeds_note,
    set_style,
    suptitle,
)

MODEL_COLORS = {"network": "#1f77b4", "linear": "#d62728", "naive": "#7f7f7f"}


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

    plot_test_outputs(
        axes[1],
        logits,
        ["network", "linear"],
        {"network": "-", "linear": "--"},
        {"network": "network", "linear": "linear"},
        "(b) outputs of random test points",
        several_seeds=n_seeds(discrepancy) > 1,
    )

    ax = axes[2]
    disc = positive_steps(discrepancy[discrepancy["metric"] == "output_mse"])
    d_values = sorted(disc["d"].unique())
    colours = sns.color_palette("viridis", len(d_values))
    for colour, d in zip(colours, d_values):
        plot_mean_band(ax, disc[disc["d"] == d], "step", "value", color=colour, label=f"d = {int(d)}")
    ax.legend(title=None)
    log_log(ax, "step", "MSE(network, linear) on test", "(c) discrepancy for various d")
    suptitle(fig, title + seeds_note(losses, discrepancy))
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
    log_log(ax, "step", "test loss  (1/2n) Σ (f - y)²", "(a) test losses")

    ax = axes[1]
    mse = positive_steps(discrepancy[discrepancy["metric"] == "output_mse"])
    _plot_models(ax, mse, ("linear", "naive"))
    ax.legend(title="MSE to the network of", fontsize="small")
    log_log(ax, "step", "MSE(network, linear model) on test", "(b) discrepancy to the network")

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
    suptitle(fig, title + seeds_note(losses, discrepancy))
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
        log_log(ax, "step", "E(f − f_lin)² / E f²  on test" if regime == regimes[0] else "", REGIMES[regime].title)
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(Line2D([], [], color="k", ls=":", lw=1))
    labels.append(f"threshold {threshold:g}")
    fig.legend(handles, labels, title="activation", loc="outside lower center", ncol=len(labels), fontsize="small")

    _horizon_heatmap(axes[-1], horizons, activations, regimes, threshold)
    suptitle(fig, title + seeds_note(discrepancy, horizons))
    return fig


def _horizon_heatmap(
    ax: plt.Axes, horizons: pd.DataFrame, activations: list[str], regimes: list[str], threshold: float
) -> None:
    """The agreement horizon of every (activation, regime) as a heatmap, annotated."""
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
