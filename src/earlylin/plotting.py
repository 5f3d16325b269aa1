"""Figures, drawn with seaborn from the workflow's tidy tables only."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .tables import atomic_path  # noqa: E402

MODEL_COLORS = {"network": "#1f77b4", "linear": "#d62728", "naive": "#7f7f7f"}


def set_style() -> None:
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)


def save_figure(fig: plt.Figure, pdf_path: str | os.PathLike, png_path: str | os.PathLike) -> None:
    """Write the figure as PDF and PNG, each atomically."""
    for path in (pdf_path, png_path):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix.lstrip("."), dpi=200, bbox_inches="tight")
    plt.close(fig)


def _positive_steps(df: pd.DataFrame) -> pd.DataFrame:
    """Rows with step >= 1 (step 0 has no place on a log axis; both models are 0 there)."""
    return df[df["step"] >= 1]


def plot_fig1(losses: pd.DataFrame, logits: pd.DataFrame, discrepancy: pd.DataFrame, title: str) -> plt.Figure:
    """Figure 1: (a) losses, (b) test logits, (c) network-vs-linear MSE for several d.

    ``losses``: model, step, split, value (one d, seeds averaged by seaborn);
    ``logits``: model, step, sample, output (one d, one seed);
    ``discrepancy``: d, seed, step, value.
    """
    set_style()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)

    ax = axes[0]
    sns.lineplot(
        data=_positive_steps(losses), x="step", y="value", hue="model", style="split",
        style_order=["train", "test"], palette=MODEL_COLORS, ax=ax, errorbar=None,
    )
    ax.set(xscale="log", xlabel="step", ylabel="loss  (1/2n) Σ (f - y)²", title="(a) losses")

    ax = axes[1]
    shown = _positive_steps(logits).assign(sample=lambda df: "test point " + df["sample"].astype(str))
    sns.lineplot(
        data=shown, x="step", y="output", hue="sample", style="model",
        style_order=["network", "linear"], ax=ax, errorbar=None, palette="tab10",
    )
    ax.set(xscale="log", xlabel="step", ylabel="output f(x)", title="(b) logits of random test points")
    ax.legend(fontsize="small", ncols=2)

    ax = axes[2]
    disc = _positive_steps(discrepancy).copy()
    disc["d"] = disc["d"].astype(int)
    sns.lineplot(
        data=disc, x="step", y="value", hue="d", palette="viridis", ax=ax,
        errorbar=None, legend="full", hue_norm=matplotlib.colors.LogNorm(),
    )
    ax.set(xscale="log", yscale="log", xlabel="step", ylabel="MSE(network, linear) on test",
           title="(c) discrepancy for various d")
    fig.suptitle(title)
    return fig
