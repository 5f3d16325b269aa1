"""Figure fig_models (beyond the paper): for each data set and network, (a) the relative MSE
of the network to the linear model of its fitted NTK and to its linearised network, and of
the linearised network to the linear model (and, for the paper's FC net and CNN, of the network to
its infinite-width kernel model); (b) the test losses; (c) the kernel movement; (d) the
empirical NTK's entries against x.x'/d with the fitted line (Section 4.1's claim)."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..scorecard.any_network import FAR_OVERLAP
from ..scorecard.criteria import DEEP_MAX_RELATIVE, MODELS_MEANINGLESS_RESIDUAL
from . import style

MODEL_COLORS = {"network": "#1f77b4", "linearised": "#ff7f0e", "linear": "#d62728", "exact_kernel": "#7f7f7f"}
MODEL_LABELS = {
    "network": "network",
    "linearised": "linearised network",
    "linear": "linear model (fitted NTK)",
    "exact_kernel": "infinite-width kernel model",
}
MODEL_DASHES = {"network": "-", "linearised": "-.", "linear": "--", "exact_kernel": ":"}
# (reference, other) -> (colour, line style, label) of panel (a)
PAIR_STYLES = {
    ("network", "linear"): ("#d62728", "-", "network vs linear model"),
    ("network", "linearised"): ("#ff7f0e", "-", "network vs linearised"),
    ("linearised", "linear"): ("#9467bd", "--", "linearised vs linear model"),
    ("network", "exact_kernel"): ("#7f7f7f", ":", "network vs infinite-width kernel"),
}


def fit_title(fits: pd.DataFrame) -> str:
    """Panel (d)'s title lines: the fitted coefficients (mean over seeds), the residual, the
    mean |x.x'/d| of the data, the fit's notes, and a warning when the residual is so large
    that the linear model describes little of the kernel."""
    residual = float(fits["residual_frobenius"].max())
    overlap = float(fits["data_overlap"].mean())
    lines = [
        f"fit: {fits['constant'].mean():.3g} + {fits['linear'].mean():.3g} x·x'/d"
        + (f" + {fits['norm'].mean():.3g} (e + e')" if bool(fits["with_norm_term"].any()) else ""),
        f"residual {residual:.3f} (Frobenius, worst seed); mean |x·x'/d| {overlap:.2f}"
        + (" (far from 0)" if overlap > FAR_OVERLAP else ""),
    ]
    notes = sorted({note for text in fits["notes"] for note in str(text).split("; ") if note})
    if any("consistent with 0" in note for note in notes):
        lines.append("fitted constant consistent with 0: the linear model uses 0")
    elif any("constant 0" in note for note in notes):
        lines.append("fitted constant < 0: the linear model uses 0")
    if residual > MODELS_MEANINGLESS_RESIDUAL:
        lines.append(f"residual > {MODELS_MEANINGLESS_RESIDUAL:g}: the linear model describes little of this NTK")
    return "\n".join(lines)


def auto_rate_text(label: str, fits: pd.DataFrame) -> str:
    """A network's label with 'lr auto' replaced by the rates the runs trained with (from the
    kernel_fit table: one value, or the range over seeds)."""
    if "lr auto" not in label or fits.empty or "lr" not in fits:
        return label
    low, high = float(fits["lr"].min()), float(fits["lr"].max())
    rate = f"{low:.3g}" if np.isclose(low, high, rtol=5e-3) else f"{low:.3g}-{high:.3g}"
    return label.replace("lr auto", f"lr auto = {rate}")


# Characters per line of a network's label in a panel title (four panels side by side).
_LABEL_WIDTH = 60


def row_name(dataset_label: str, net: str, network_label: str, fits: pd.DataFrame) -> str:
    """The title lines of a row's panels: the data set, then the network's name and label
    (``auto_rate_text``), wrapped so that neighbouring panels' titles do not overlap."""
    text = f"{net}: {auto_rate_text(network_label, fits)}"
    return dataset_label + "\n" + textwrap.fill(text, _LABEL_WIDTH, break_on_hyphens=False)


def plot_models(
    tables: dict[str, pd.DataFrame],
    *,
    datasets: list[str],
    networks: list[str],
    title: str,
    labels: dict[str, str] | None = None,
    network_labels: dict[str, str] | None = None,
) -> plt.Figure:
    """fig_models, one row per (data set, network); ``tables``: the train_any_network tables
    (losses, discrepancy, kernel_fit, ntk_entries, movement), each with dataset, net, seed."""
    style.set_style()
    labels, network_labels = labels or {}, network_labels or {}
    rows = [(dataset, net) for dataset in datasets for net in networks]
    fig, axes = plt.subplots(len(rows), 4, figsize=(20, 4.6 * len(rows)), squeeze=False, constrained_layout=True)
    for panels, (dataset, net) in zip(axes, rows):
        part = {name: t[(t["dataset"] == dataset) & (t["net"] == net)] for name, t in tables.items()}
        name = row_name(labels.get(dataset, dataset), net, network_labels.get(net, net), part["kernel_fit"])
        _relative_panel(panels[0], style.positive_steps(part["discrepancy"]), name)
        _loss_panel(panels[1], style.positive_steps(part["losses"]), name)
        _movement_panel(panels[2], part["movement"], name)
        _entries_panel(panels[3], part["ntk_entries"], part["kernel_fit"], name)
    style.suptitle(fig, title + style.seeds_note(*tables.values()))
    return fig


def _relative_panel(ax: plt.Axes, discrepancy: pd.DataFrame, name: str) -> None:
    for (reference, other), (color, ls, label) in PAIR_STYLES.items():
        curve = discrepancy[(discrepancy["reference"] == reference) & (discrepancy["other"] == other)]
        if len(curve):
            style.plot_mean_band(ax, curve, "step", "value", color=color, ls=ls, label=label)
    ax.axhline(DEEP_MAX_RELATIVE, color="k", lw=0.8, ls=":", label=f"{DEEP_MAX_RELATIVE:.0%} (scorecard)")
    ax.legend(fontsize="small")
    style.log_log(ax, "step", "E(f_ref − f)² / E f_ref²  on test", f"{name}\n(a) relative MSE")


def _loss_panel(ax: plt.Axes, losses: pd.DataFrame, name: str) -> None:
    test = losses[losses["split"] == "test"]
    for model, color in MODEL_COLORS.items():
        curve = test[test["model"] == model]
        if len(curve):
            style.plot_mean_band(
                ax, curve, "step", "value", color=color, ls=MODEL_DASHES[model], label=MODEL_LABELS[model]
            )
    ax.legend(fontsize="small")
    style.log_log(ax, "step", "test loss ½(f − y)²", f"{name}\n(b) test loss")


def _movement_panel(ax: plt.Axes, movement: pd.DataFrame, name: str) -> None:
    moved = movement[movement["step"] >= 1]
    title = f"{name}\n(c) kernel movement 1 − cos(Θ_0, Θ_t)"
    if moved.empty or not (moved["value"] > 0).any():
        ax.set(title=title, xlabel="step")
        ax.text(0.5, 0.5, "no step >= 1 measured", ha="center", va="center", transform=ax.transAxes)
        return
    style.plot_mean_band(ax, moved, "step", "value", color="#2ca02c", marker="o", label="trained network")
    ax.legend(fontsize="small")
    style.log_log(ax, "step", "1 − ⟨Θ_0, Θ_t⟩ / (‖Θ_0‖ ‖Θ_t‖)", title)


def _entries_panel(ax: plt.Axes, entries: pd.DataFrame, fits: pd.DataFrame, name: str) -> None:
    """The first seed's mean empirical NTK on its kernel subset: off-diagonal entries
    against x.x'/d (dots), the linear model's kernel on them (line; the least-squares line
    dashed where the model differs from it), the diagonal (crosses)."""
    if entries.empty:
        ax.set(title=f"{name}\n(d) NTK entries")
        return
    first = entries[entries["seed"] == entries["seed"].min()]
    off, diagonal = first[~first["diagonal"]], first[first["diagonal"]]
    ax.scatter(off["overlap"], off["entry"], s=4, alpha=0.35, color="#1f77b4", lw=0, label="empirical NTK, i ≠ j")
    ax.scatter(
        diagonal["overlap"], diagonal["entry"], s=14, marker="x", color="#2ca02c", lw=0.8, label="diagonal (‖x‖²/d)"
    )
    order = np.argsort(off["overlap"].to_numpy())
    overlap = off["overlap"].to_numpy()[order]
    ax.plot(overlap, off["fitted"].to_numpy()[order], color="#d62728", lw=1.5, label="the linear model's kernel")
    fit = fits[fits["seed"] == first["seed"].iloc[0]]
    if (
        len(fit)
        and not bool(fit["with_norm_term"].iloc[0])
        and fit["model_constant"].iloc[0] != fit["constant"].iloc[0]
    ):
        # the least-squares line itself, where the linear model could not use it (a negative constant)
        line = fit["constant"].iloc[0] + fit["linear"].iloc[0] * overlap
        ax.plot(overlap, line, color="#d62728", lw=1.0, ls="--", label="least-squares fit")
    ax.legend(fontsize="small", loc="upper left")
    ax.set(xlabel="x·x'/d", ylabel="Θ(x, x')", title=f"{name}\n(d) NTK at init\n{fit_title(fits)}")
