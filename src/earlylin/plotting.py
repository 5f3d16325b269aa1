"""Figures, drawn with seaborn from the workflow's tidy tables only."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
import numpy as np  # noqa: E402
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
        hue_order=["network", "linear"],
        style_order=["train", "test"], palette=MODEL_COLORS, ax=ax, errorbar=None,
    )
    ax.set(xscale="log", xlabel="step", ylabel="loss  (1/2n) Σ (f - y)²", title="(a) losses")

    ax = axes[1]
    shown = _positive_steps(logits).assign(sample=lambda df: df["sample"].astype(str))
    sns.lineplot(
        data=shown, x="step", y="output", hue="sample", style="model",
        style_order=["network", "linear"], ax=ax, errorbar=None, palette="tab10", legend=False,
    )
    ax.legend(
        handles=[Line2D([], [], color="k", ls="-", label="network"),
                 Line2D([], [], color="k", ls="--", label="linear")],
        title="one colour per test point", fontsize="small",
    )
    ax.set(xscale="log", xlabel="step", ylabel="output f(x)", title="(b) outputs of random test points")

    ax = axes[2]
    disc = _positive_steps(discrepancy[discrepancy["metric"] == "output_mse"]).copy()
    disc["d"] = "d = " + disc["d"].astype(int).astype(str)
    order = sorted(disc["d"].unique(), key=lambda s: int(s.split("=")[1]))
    sns.lineplot(
        data=disc, x="step", y="value", hue="d", hue_order=order, palette="viridis", ax=ax,
        errorbar=None,
    )
    ax.legend(title=None)
    ax.set(xscale="log", yscale="log", xlabel="step", ylabel="MSE(network, linear) on test",
           title="(c) discrepancy for various d")
    fig.suptitle(title)
    return fig


MODEL_LABELS = {"network": "network", "linear": "f_lin (eq. 11)", "naive": "naive linear (θ1 = θ2 = 0)"}
MODEL_DASHES = {"network": "-", "linear": "--", "naive": ":"}


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
    test = _positive_steps(losses[losses["split"] == "test"])
    for model in models:
        part = test[test["model"] == model].groupby("step")["value"].mean()
        ax.plot(part.index, part.to_numpy(), color=MODEL_COLORS[model], ls=MODEL_DASHES[model],
                label=MODEL_LABELS[model])
    ax.legend(fontsize="small")
    ax.set(xscale="log", yscale="log", xlabel="step", ylabel="test loss  (1/2n) Σ (f - y)²",
           title="(a) test losses")

    ax = axes[1]
    mse = _positive_steps(discrepancy[discrepancy["metric"] == "output_mse"])
    for model in ("linear", "naive"):
        part = mse[mse["model"] == model].groupby("step")["value"].mean()
        ax.plot(part.index, part.to_numpy(), color=MODEL_COLORS[model], ls=MODEL_DASHES[model],
                label=MODEL_LABELS[model])
    ax.legend(title="MSE to the network of", fontsize="small")
    ax.set(xscale="log", yscale="log", xlabel="step", ylabel="MSE(network, linear model) on test",
           title="(b) discrepancy to the network")

    ax = axes[2]
    shown = _positive_steps(logits).drop_duplicates(["model", "step", "sample"])
    palette = sns.color_palette("tab10", shown["sample"].nunique())
    for colour, (sample, part) in zip(palette, shown.groupby("sample")):
        for model in models:
            rows = part[part["model"] == model].sort_values("step")
            ax.plot(rows["step"], rows["output"], color=colour, ls=MODEL_DASHES[model])
    ax.legend(
        handles=[Line2D([], [], color="k", ls=MODEL_DASHES[m], label=MODEL_LABELS[m]) for m in models],
        title="one colour per test point", fontsize="small",
    )
    ax.set(xscale="log", xlabel="step", ylabel="output f(x)", title="(c) outputs of random test points")
    fig.suptitle(title)
    return fig


REGIME_TITLES = {
    "first": "first layer only: ψ1 (Thm 3.2)",
    "second": "second layer only: ψ2 (Thm 3.5)",
    "both": "both layers: ψ (Thm D.1)",
}


def plot_regimes(discrepancy: pd.DataFrame, horizons: pd.DataFrame, *, threshold: float, title: str,
                 activations: list[str] | None = None) -> plt.Figure:
    """The regime x activation grid: relative test-output discrepancy of each network to
    its regime's linear model against steps (one panel per regime, one line per
    activation, seeds averaged), and a heatmap of the agreement horizons."""
    set_style()
    regimes = [r for r in REGIME_TITLES if r in set(discrepancy["regime"])]
    activations = activations or sorted(set(horizons["activation"]))
    fig, axes = plt.subplots(
        1, len(regimes) + 1, figsize=(4.6 * (len(regimes) + 1), 4.4), constrained_layout=True,
        gridspec_kw=dict(width_ratios=[1] * len(regimes) + [0.9]),
    )
    rel = _positive_steps(discrepancy[discrepancy["metric"] == "relative_mse"])
    palette = dict(zip(activations, sns.color_palette("tab10", len(activations))))
    for ax, regime in zip(axes, regimes):
        sns.lineplot(
            data=rel[rel["regime"] == regime], x="step", y="value", hue="activation",
            hue_order=activations, palette=palette, ax=ax, errorbar=None, legend=regime == regimes[0],
        )
        ax.axhline(threshold, color="k", ls=":", lw=1)
        ax.set(xscale="log", yscale="log", xlabel="step", title=REGIME_TITLES[regime],
               ylabel="E(f − f_lin)² / E f²  on test" if regime == regimes[0] else "")
    axes[0].legend(title=f"activation  (dotted: threshold {threshold:g})", fontsize="small")

    ax = axes[-1]
    table = horizons.groupby(["activation", "regime"]).agg(
        horizon=("horizon", "min"), reached=("reached", "all"), last_step=("last_step", "max")
    ).reset_index()
    shown = table.assign(value=np.where(table["reached"], table["horizon"], table["last_step"]))
    grid = shown.pivot(index="activation", columns="regime", values="value").reindex(index=activations, columns=regimes)
    labels = shown.assign(
        label=lambda df: np.where(df["reached"], df["horizon"].map(lambda h: f"{h:.0f}" if h == h else ""),
                                  "> " + df["last_step"].astype(str))
    ).pivot(index="activation", columns="regime", values="label").reindex(index=activations, columns=regimes)
    sns.heatmap(np.log10(grid.astype(float)), annot=labels.to_numpy(), fmt="", cmap="viridis", ax=ax,
                cbar_kws=dict(label="log10 horizon (steps)"))
    ax.tick_params(axis="y", rotation=0)
    ax.set(xlabel="regime", ylabel="", title=f"agreement horizon: first step with ratio > {threshold:g}")
    fig.suptitle(title)
    return fig


DEEP_COLORS = {"fc": "#1f77b4", "cnn": "#2ca02c", "linear": "#d62728"}
DEEP_LABELS = {"fc": "FC net", "cnn": "CNN", "linear": "linear model"}
DEEP_DASHES = {"fc": "-", "cnn": "-.", "linear": "--"}
PART_STYLES = {"total": "-", "v_lin": "-", "complement": ":"}


def plot_deep(losses: pd.DataFrame, relative: pd.DataFrame, logits: pd.DataFrame, *, datasets: list[str],
              title: str, labels: dict[str, str] | None = None) -> plt.Figure:
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
    fig, axes = plt.subplots(len(datasets), 3, figsize=(15, 4.2 * len(datasets)), squeeze=False,
                             constrained_layout=True)
    models = ["fc", "cnn", "linear"]
    for row, dataset in zip(axes, datasets):
        name = labels.get(dataset, dataset)
        ax = row[0]
        part_rows = _positive_steps(losses[losses["dataset"] == dataset])
        split = {"v_lin", "complement"} <= set(part_rows["part"])
        parts = ["v_lin", "complement"] if split else ["total"]
        for model in models:
            for part in parts:
                curve = part_rows[(part_rows["model"] == model) & (part_rows["part"] == part)].groupby("step")["value"].mean()
                if len(curve):
                    ax.plot(curve.index, curve.to_numpy(), color=DEEP_COLORS[model], ls=PART_STYLES[part],
                            label=f"{DEEP_LABELS[model]}" + (f", {part.replace('_', ' ')}" if split else ""))
        ax.legend(fontsize="small")
        ax.set(xscale="log", yscale="log", xlabel="step", ylabel="test loss part" if split else "test loss",
               title=f"{name}\n(a) test loss" + (" on V_lin (solid) / complement (dotted)" if split else ""))

        ax = row[1]
        shown = _positive_steps(logits[logits["dataset"] == dataset]).drop_duplicates(["model", "step", "sample"])
        palette = sns.color_palette("tab10", max(shown["sample"].nunique(), 1))
        for colour, (_, part) in zip(palette, shown.groupby("sample")):
            for model in models:
                curve = part[part["model"] == model].sort_values("step")
                ax.plot(curve["step"], curve["output"], color=colour, ls=DEEP_DASHES[model])
        ax.legend(handles=[Line2D([], [], color="k", ls=DEEP_DASHES[m], label=DEEP_LABELS[m]) for m in models],
                  title="one colour per test point", fontsize="small")
        ax.set(xscale="log", xlabel="step", ylabel="output f(x)", title=f"{name}\n(b) random test outputs")

        ax = row[2]
        rel = _positive_steps(relative[relative["dataset"] == dataset])
        for arch in ("fc", "cnn"):
            curve = rel[rel["arch"] == arch].groupby("step")["value"].mean()
            if len(curve):
                ax.plot(curve.index, curve.to_numpy(), color=DEEP_COLORS[arch], label=DEEP_LABELS[arch])
        ax.legend(fontsize="small")
        ax.set(xscale="log", yscale="log", xlabel="step", ylabel="E(f − f_lin)² / E f²  on test",
               title=f"{name}\n(c) relative MSE to the linear model")
    fig.suptitle(title)
    return fig


KERNEL_LABELS = {
    "theta1": "Θ1(W(0)) − Θlin1",
    "theta2": "Θ2(W(0)) − Θlin2",
    "theta": "Θ(W(0)) − Θlin",
}
NORM_COLORS = {"spectral": "#1f77b4", "frobenius": "#ff7f0e"}


def plot_kernel_norms(
    norms: pd.DataFrame,
    fits: pd.DataFrame,
    *,
    kernels: list[str],
    activations: list[str],
    title: str,
    identity_term: bool,
) -> plt.Figure:
    """Figure 5 style: norms of kernel differences against d on log-log axes, with the
    least-squares lines and their slopes in the legend; one panel per (activation, kernel).

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
            for with_identity in variants:
                part = sel[sel["identity_term"] == with_identity]
                means = part.groupby("d")[["spectral", "frobenius"]].mean().reset_index()
                for norm in ("spectral", "frobenius"):
                    fit = fits[
                        (fits["activation"] == activation) & (fits["kernel"] == kernel)
                        & (fits["identity_term"] == with_identity) & (fits["norm"] == norm)
                    ].iloc[0]
                    suffix = " (+cI)" if with_identity else ""
                    sns.scatterplot(
                        data=means, x="d", y=norm, ax=ax, color=NORM_COLORS[norm], s=40,
                        marker="o", facecolor="none" if with_identity else NORM_COLORS[norm],
                        edgecolor=NORM_COLORS[norm], legend=False,
                    )
                    d_grid = np.geomspace(means["d"].min(), means["d"].max(), 50)
                    ax.plot(
                        d_grid, np.exp(fit["intercept"]) * d_grid ** fit["slope"],
                        color=NORM_COLORS[norm], ls="--" if with_identity else "-",
                        label=f"{norm}{suffix}: slope {fit['slope']:.3f} ± {fit['stderr']:.3f}",
                    )
            ax.set(xscale="log", yscale="log", xlabel="input dimension d", ylabel="norm",
                   title=f"{activation}: {KERNEL_LABELS[kernel]}  (fit over d = {fit['d_min']}..{fit['d_max']})")
            d_values = sorted(sel["d"].unique())
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_xticks(d_values, [str(d) for d in d_values])  # one label per measured d
            ax.legend(fontsize="small")
    fig.suptitle(title)
    return fig
