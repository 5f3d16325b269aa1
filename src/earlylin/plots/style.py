"""What every figure shares: the theme, atomic saving, the mean over seeds with its band,
and the panel of a few test outputs against steps."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from ..core.tables import atomic_path


def set_style() -> None:
    sns.set_theme(context="paper", style="whitegrid", font_scale=1.1)


def save_figure(fig: plt.Figure, pdf_path: str | os.PathLike, png_path: str | os.PathLike) -> None:
    """Write the figure as PDF and PNG, each atomically."""
    for path in (pdf_path, png_path):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=Path(path).suffix.lstrip("."), dpi=200, bbox_inches="tight")
    plt.close(fig)


def suptitle(fig: plt.Figure, text: str) -> None:
    """The figure's title, every line wrapped to the figure's width (about 12 characters an
    inch), so that a long note does not widen the figure."""
    width = max(40, int(12 * fig.get_figwidth()))
    fig.suptitle("\n".join(part for line in text.split("\n") for part in (textwrap.wrap(line, width) or [""])))


def log_log(ax: plt.Axes, xlabel: str, ylabel: str, title: str) -> None:
    """Log-scaled x and y axes with their labels and the panel's title; y ticks as plain
    numbers (call it after the panel is drawn)."""
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel, title=title)
    plain_log_ticks(ax.yaxis)


def plain_log_ticks(axis) -> None:
    """Tick labels of a log axis as plain numbers (30, 0.5), not as 3×10¹. Where fewer than
    two powers of ten fall in view, the axis also labels 2 and 5 times them (and only those,
    so that labels do not crowd)."""
    plain = matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}")
    axis.set_major_formatter(plain)
    low, high = sorted(axis.get_view_interval())
    majors = np.floor(np.log10(high)) - np.ceil(np.log10(low)) + 1 if low > 0 else 2
    if majors < 2:
        axis.set_minor_locator(matplotlib.ticker.LogLocator(base=10, subs=(2.0, 5.0)))
        axis.set_minor_formatter(plain)
    else:
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


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


def mean_errorbars(ax: plt.Axes, df: pd.DataFrame, x: str, y: str, *, color, hollow: bool = False, ms: float = 6):
    """The mean over seeds of ``y`` per ``x`` as markers with min-max error bars; the
    ``mean_band`` table."""
    stats = mean_band(df, x, y)
    ax.errorbar(
        stats.index,
        stats["mean"],
        yerr=[stats["mean"] - stats["lo"], stats["hi"] - stats["mean"]],
        fmt="o",
        ms=ms,
        color=color,
        mfc="none" if hollow else color,
        mec=color,
        capsize=2,
        lw=1,
    )
    return stats


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
