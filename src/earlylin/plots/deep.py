"""Figures 3 and 4 (and the offline Figure 3), drawn from the train_deep tables."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ..core.seeds import rng_stream
from ..scorecard.criteria import DEEP_STEP_LIMIT
from ..scorecard.paper import excess_note
from . import style

DEEP_COLORS = {"fc": "#1f77b4", "cnn": "#2ca02c", "linear": "#d62728"}
DEEP_LABELS = {"fc": "FC net", "cnn": "CNN", "linear": "linear model"}
DEEP_DASHES = {"fc": "-", "cnn": "-.", "linear": "--"}
PART_STYLES = {"total": "-", "v_lin": "-", "complement": ":"}
DEEP_MODELS = ["fc", "cnn", "linear"]
# The models a job may train beside its network and linear model (deep.linearise,
# deep.exact_kernel): drawn in panel (c) as the network's relative MSE to them.
OTHER_MODELS = {
    "linearised": ("its linearised network", ":"),
    "exact_kernel": ("its infinite-width kernel model", (0, (6, 2, 1, 2))),
}


def deep_figure_tables(
    losses: pd.DataFrame, outputs: pd.DataFrame, discrepancy: pd.DataFrame, *, n_samples: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Shape the train_deep tables of several (dataset, arch, seed) jobs for Figures 3/4.

    The linear model shown is the FC job's (the CNN's lr is scaled so that its linear
    model is the same one). Returns (test-loss parts: dataset, model in fc/cnn/linear,
    seed, step, part, value; relative MSE of each network to each model beside it: dataset,
    arch, seed, step, to (linear, linearised, exact_kernel), value; outputs of ``n_samples``
    test points drawn per (dataset, seed): dataset, model, step, sample, output).
    """
    rename = {"fc": "fc", "cnn": "cnn", "fc_linear": "linear"}
    test = losses[(losses["split"] == "test") & losses["model"].isin(rename)]
    columns = ["dataset", "model", "seed", "step", "part", "value"] + (["vlin_rank"] if "vlin_rank" in test else [])
    parts = test.assign(model=test["model"].map(rename))[columns]
    rel = discrepancy[discrepancy["metric"] == "relative_mse"]
    rel = rel.assign(to=rel["model"].str.split("_", n=1).str[1])[["dataset", "arch", "seed", "step", "to", "value"]]
    shown = outputs[outputs["model"].isin(rename)]
    picks = []
    for (_, seed), group in shown.groupby(["dataset", "seed"], sort=True):
        n_test = int(group["sample"].max()) + 1
        chosen = rng_stream(int(seed), "logit-samples", n_test).choice(
            n_test, size=min(n_samples, n_test), replace=False
        )
        picks.append(group[group["sample"].isin(chosen)])
    logits = pd.concat(picks, ignore_index=True)
    logits = logits.assign(model=logits["model"].map(rename))[["dataset", "model", "seed", "step", "sample", "output"]]
    return parts.reset_index(drop=True), rel.reset_index(drop=True), logits


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
    style.set_style()
    labels = labels or {}
    fig, axes = plt.subplots(
        len(datasets), 3, figsize=(15, 4.2 * len(datasets)), squeeze=False, constrained_layout=True
    )
    for row, dataset in zip(axes, datasets):
        name = labels.get(dataset, dataset)
        _loss_parts_panel(row[0], style.positive_steps(losses[losses["dataset"] == dataset]), name)
        style.plot_test_outputs(
            row[1],
            logits[logits["dataset"] == dataset],
            DEEP_MODELS,
            DEEP_DASHES,
            DEEP_LABELS,
            f"{name}\n(b) random test outputs",
            several_seeds=style.n_seeds(relative) > 1,
        )
        _relative_panel(row[2], style.positive_steps(relative[relative["dataset"] == dataset]), name)
    style.suptitle(fig, title + style.seeds_note(losses, relative) + far_from_linear_note(relative))
    return fig


def _loss_parts_panel(ax: plt.Axes, losses: pd.DataFrame, name: str) -> None:
    """(a) each model's test loss, on V_lin and its complement where the split exists."""
    split = {"v_lin", "complement"} <= set(losses["part"])
    parts = ["v_lin", "complement"] if split else ["total"]
    ranks = sorted({int(r) for r in losses["vlin_rank"].dropna()}) if split and "vlin_rank" in losses else []
    rank = f"\ndim V_lin = {', '.join(map(str, ranks))} (the rank of the test inputs)" if ranks else ""
    for model in DEEP_MODELS:
        for part in parts:
            curve = losses[(losses["model"] == model) & (losses["part"] == part)]
            label = f"{DEEP_LABELS[model]}" + (f", {part.replace('_', ' ')}" if split else "")
            style.plot_mean_band(
                ax, curve, "step", "value", color=DEEP_COLORS[model], ls=PART_STYLES[part], label=label
            )
    ax.legend(fontsize="small")
    style.log_log(
        ax,
        "step",
        "test loss part" if split else "test loss",
        f"{name}\n(a) test loss" + (f" on V_lin (solid) / complement (dotted){rank}" if split else ""),
    )


def _relative_panel(ax: plt.Axes, relative: pd.DataFrame, name: str) -> None:
    """(c) each network's relative MSE to its linear model (solid) and, where they were
    trained, to its linearised network and its infinite-width kernel model."""
    for arch in ("fc", "cnn"):
        curve = relative[(relative["arch"] == arch) & (relative["to"] == "linear")]
        style.plot_mean_band(ax, curve, "step", "value", color=DEEP_COLORS[arch], label=DEEP_LABELS[arch])
        for model, (text, dashes) in OTHER_MODELS.items():
            curve = relative[(relative["arch"] == arch) & (relative["to"] == model)]
            if len(curve):
                label = f"{DEEP_LABELS[arch]} vs {text}"
                style.plot_mean_band(ax, curve, "step", "value", color=DEEP_COLORS[arch], ls=dashes, label=label)
    ax.legend(fontsize="small")
    shown = set(relative["to"])
    others = ""
    if shown - {"linear"}:
        kinds = [
            f"{'dotted' if m == 'linearised' else 'dash-dot'}: {OTHER_MODELS[m][0]}" for m in OTHER_MODELS if m in shown
        ]
        others = f"\n(solid; {'; '.join(kinds)})"
    style.log_log(ax, "step", "E(f − g)² / E f²  on test", f"{name}\n(c) relative MSE to the linear model{others}")


def far_from_linear_note(relative: pd.DataFrame) -> str:
    """A title line per architecture whose relative MSE exceeds the scorecard's criterion at
    some logged step 1..1,000 (any data set or seed), saying where (``excess_note``): in the
    first steps only, or later."""
    early = relative[(relative["step"] >= 1) & (relative["step"] <= DEEP_STEP_LIMIT) & (relative["to"] == "linear")]
    if early.empty:
        return ""
    last = int(early["step"].max())
    lines = [
        f"{DEEP_LABELS[arch]}: {note}"
        for arch, part in early.groupby("arch", sort=True)
        if (note := excess_note(part, last))
    ]
    return "".join(f"\n{line}" for line in lines)
