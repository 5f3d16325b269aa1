"""Figures 3 and 4 (and the offline Figure 3), drawn from the deep-network tables."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from .plotting import n_seeds, plot_mean_band, plot_test_outputs, positive_steps, seeds_note, set_style
from .scorecard import DEEP_MAX_RELATIVE, DEEP_STEP_LIMIT

DEEP_COLORS = {"fc": "#1f77b4", "cnn": "#2ca02c", "linear": "#d62728"}
DEEP_LABELS = {"fc": "FC net", "cnn": "CNN", "linear": "linear model"}
DEEP_DASHES = {"fc": "-", "cnn": "-.", "linear": "--"}
PART_STYLES = {"total": "-", "v_lin": "-", "complement": ":"}


def plot_deep(
    losses: pd.DataFrame,
    relative: pd.DataFrame,
    logits: pd.DataFrame,
    *,
    datasets: list[str],
    title: str,
    labels: dict[str, str] | None = None,
) -> plt.Figure:
    """Figures 3 and 4, one row per data set: (a) test loss of the FC net, the CNN and the
    linear model, split onto V_lin = span of the test inputs (solid) and its complement
    (dotted) where d < n_test, else the total; (b) outputs of random test points; (c)
    relative MSE E(f - f_lin)^2 / E f^2 of each network to its linear model.

    ``losses``: dataset, model (fc, cnn, linear), step, part (total, v_lin, complement),
    value; ``relative``: dataset, arch, step, value; ``logits``: dataset, model, step,
    sample, output. Seeds are averaged. ``labels``: how each data set is named in titles.
    """
    set_style()
    labels = labels or {}
    fig, axes = plt.subplots(
        len(datasets), 3, figsize=(15, 4.2 * len(datasets)), squeeze=False, constrained_layout=True
    )
    models = ["fc", "cnn", "linear"]
    for row, dataset in zip(axes, datasets):
        name = labels.get(dataset, dataset)
        ax = row[0]
        part_rows = positive_steps(losses[losses["dataset"] == dataset])
        split = {"v_lin", "complement"} <= set(part_rows["part"])
        parts = ["v_lin", "complement"] if split else ["total"]
        for model in models:
            for part in parts:
                curve = part_rows[(part_rows["model"] == model) & (part_rows["part"] == part)]
                plot_mean_band(
                    ax,
                    curve,
                    "step",
                    "value",
                    color=DEEP_COLORS[model],
                    ls=PART_STYLES[part],
                    label=f"{DEEP_LABELS[model]}" + (f", {part.replace('_', ' ')}" if split else ""),
                )
        ax.legend(fontsize="small")
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="step",
            ylabel="test loss part" if split else "test loss",
            title=f"{name}\n(a) test loss" + (" on V_lin (solid) / complement (dotted)" if split else ""),
        )

        ax = row[1]
        plot_test_outputs(
            ax,
            logits[logits["dataset"] == dataset],
            models,
            DEEP_DASHES,
            DEEP_LABELS,
            f"{name}\n(b) random test outputs",
            several_seeds=n_seeds(relative) > 1,
        )

        ax = row[2]
        rel = positive_steps(relative[relative["dataset"] == dataset])
        for arch in ("fc", "cnn"):
            plot_mean_band(
                ax, rel[rel["arch"] == arch], "step", "value", color=DEEP_COLORS[arch], label=DEEP_LABELS[arch]
            )
        ax.legend(fontsize="small")
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="step",
            ylabel="E(f − f_lin)² / E f²  on test",
            title=f"{name}\n(c) relative MSE to the linear model",
        )
    fig.suptitle(title + seeds_note(losses, relative) + far_from_linear_note(relative))
    return fig


def far_from_linear_note(relative: pd.DataFrame) -> str:
    """A title line for each architecture whose relative MSE exceeds the scorecard's
    criterion at some logged step 1..1,000 (any data set or seed): the figure then does not
    show the paper's claim, because the network is too narrow for its infinite-width limit."""
    early = relative[(relative["step"] >= 1) & (relative["step"] <= DEEP_STEP_LIMIT)]
    worst = early.groupby("arch")["value"].max()
    over = [f"{DEEP_LABELS[arch]} up to {value:.0%}" for arch, value in worst.items() if value > DEEP_MAX_RELATIVE]
    if not over:
        return ""
    return (
        f"\nNot the paper's picture here: relative MSE {', '.join(over)} (criterion {DEEP_MAX_RELATIVE:.0%} "
        f"at every step up to {DEEP_STEP_LIMIT:,}): too few channels or units for the infinite-width limit"
    )
