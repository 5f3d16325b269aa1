"""Figure fig_classes (beyond the paper: k classes), one row per (data set, network):

(a) relative MSE over all test points and all k outputs, E||f - g||^2 / E||f||^2, of the
    network to its linearised network, to the k-head linear model of its fitted NTK and (FC
    net, CNN) to Theta_inf (x) I_k, and of the linearised network to the linear model;
(b) test accuracy of every model (the predicted class: arg max of the k outputs);
(c) class agreement of the network with every other model;
(d) Nakkiran et al.'s performance correlation mu_Y(F; L) (dashed) against I(F; Y) (solid) of
    the network, L the linear model; log2 k bits is a perfect classifier.
One line style per loss; lines are means over seeds, bands min-max over seeds. The row title
gives the NTK's cross-output blocks against its diagonal ones (the linear model's
kernel (x) I_k assumes them small) and the fitted kernel's residual."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.lines import Line2D

from ..core.fits import mean_sd
from ..scorecard.criteria import CLASSES_MAX_CROSS, DEEP_MAX_RELATIVE, MODELS_MEANINGLESS_RESIDUAL
from . import style
from .any_network import MODEL_COLORS, auto_rate_text

MODEL_LABELS = {
    "network": "network",
    "linearised": "linearised network",
    "linear": "linear model (k heads)",
    "exact_kernel": "Θ_inf ⊗ I_k model",
}
# (reference, other) -> colour and label of panel (a)
PAIRS = {
    ("network", "linear"): (MODEL_COLORS["linear"], "network vs linear model"),
    ("network", "linearised"): (MODEL_COLORS["linearised"], "network vs linearised"),
    ("linearised", "linear"): ("#9467bd", "linearised vs linear model"),
    ("network", "exact_kernel"): (MODEL_COLORS["exact_kernel"], "network vs Θ_inf ⊗ I_k"),
}
LOSS_STYLES = {"cross_entropy": "-", "mse": "--"}


def _loss_style(loss: str) -> str:
    return LOSS_STYLES.get(loss, "-.")


def plot_classes(
    tables: dict[str, pd.DataFrame],
    *,
    datasets: list[str],
    networks: list[str],
    title: str,
    labels: dict[str, str] | None = None,
    network_labels: dict[str, str] | None = None,
    momentum: float = 0.0,
) -> plt.Figure:
    """fig_classes from the train_any_classes tables (discrepancy, kernel_fit, classes), each
    with the columns dataset, net, loss, seed."""
    style.set_style()
    labels, network_labels = labels or {}, network_labels or {}
    rows = [(dataset, net) for dataset in datasets for net in networks]
    fig, axes = plt.subplots(len(rows), 4, figsize=(24, 5.0 * len(rows)), squeeze=False, constrained_layout=True)
    for panels, (dataset, net) in zip(axes, rows):
        part = {name: t[(t["dataset"] == dataset) & (t["net"] == net)] for name, t in tables.items()}
        losses = sorted(set(part["classes"]["loss"]), key=lambda loss: (loss != "cross_entropy", loss))
        name = (
            f"{labels.get(dataset, dataset)}\n"
            f"{auto_rate_text(network_labels.get(net, net), part['kernel_fit'])}, momentum {momentum:g}\n"
            f"{_kernel_text(part['kernel_fit'])}"
        )
        short = f"{net} on {dataset}"
        _relative_panel(panels[0], style.positive_steps(part["discrepancy"]), losses, name)
        classes = style.positive_steps(part["classes"])
        _model_panel(
            panels[1],
            classes[classes["metric"] == "accuracy"],
            losses,
            "model",
            "test accuracy",
            f"{short}\n(b) test accuracy",
        )
        agreement = classes[classes["metric"] == "class_agreement"]
        _model_panel(
            panels[2],
            agreement,
            losses,
            "other",
            "fraction of test images",
            f"{short}\n(c) class agreement of the network with each model",
        )
        _information_panel(panels[3], classes, losses, short, _class_count(part["kernel_fit"]))
    style.suptitle(fig, title + style.seeds_note(*tables.values()))
    return fig


def _class_count(kernel_fit: pd.DataFrame) -> int | None:
    if "outputs" not in kernel_fit.columns or kernel_fit.empty:
        return None
    return int(kernel_fit["outputs"].max())


def _kernel_text(kernel_fit: pd.DataFrame) -> str:
    """The NTK's cross-output blocks and the fit's residual, mean ± sd over seeds (the fit of a
    seed is the same for every loss), and what they mean where the k-head linear model cannot
    describe this NTK: cross-output blocks above the scorecard's 0.1 (not Θ ⊗ I_k), a residual
    above 0.5 (fig_models' threshold)."""
    if kernel_fit.empty:
        return ""
    kernel_fit = kernel_fit.drop_duplicates("seed") if "seed" in kernel_fit.columns else kernel_fit
    parts, warnings = [], []
    if "cross_output" in kernel_fit.columns:
        parts.append(f"NTK cross-output blocks {mean_sd(kernel_fit['cross_output'].values, '.2g')} of the diagonal")
        if float(kernel_fit["cross_output"].max()) > CLASSES_MAX_CROSS:
            warnings.append(f"blocks > {CLASSES_MAX_CROSS:g}: not Θ ⊗ I_k")
    parts.append(f"fit residual {mean_sd(kernel_fit['residual_frobenius'].values, '.2f')}")
    if float(kernel_fit["residual_frobenius"].max()) > MODELS_MEANINGLESS_RESIDUAL:
        warnings.append(f"residual > {MODELS_MEANINGLESS_RESIDUAL:g}: the linear model describes little of this NTK")
    return "; ".join(parts) + ("\n" + "; ".join(warnings) if warnings else "")


def _loss_legend(losses: list[str]) -> list[Line2D]:
    return [Line2D([], [], color="k", ls=_loss_style(loss), label=loss) for loss in losses] if len(losses) > 1 else []


def _relative_panel(ax: plt.Axes, discrepancy: pd.DataFrame, losses: list[str], name: str) -> None:
    handles = []
    for (reference, other), (color, label) in PAIRS.items():
        pair = discrepancy[(discrepancy["reference"] == reference) & (discrepancy["other"] == other)]
        if pair.empty:
            continue
        for loss in losses:
            style.plot_mean_band(ax, pair[pair["loss"] == loss], "step", "value", color=color, ls=_loss_style(loss))
        handles.append(Line2D([], [], color=color, lw=2, label=label))
    ax.axhline(DEEP_MAX_RELATIVE, color="k", lw=0.8, ls=":")
    handles.append(Line2D([], [], color="k", lw=0.8, ls=":", label=f"{DEEP_MAX_RELATIVE:.0%}"))
    ax.legend(handles=handles + _loss_legend(losses), fontsize="small")
    style.log_log(
        ax, "step", "E‖f − g‖² / E‖f‖²  over test points and outputs", f"{name}\n(a) relative MSE over all k outputs"
    )


def _model_panel(ax: plt.Axes, rows: pd.DataFrame, losses: list[str], column: str, ylabel: str, title: str) -> None:
    handles = []
    for model, color in MODEL_COLORS.items():
        curve = rows[rows[column] == model]
        if curve.empty:
            continue
        for loss in losses:
            style.plot_mean_band(ax, curve[curve["loss"] == loss], "step", "value", color=color, ls=_loss_style(loss))
        handles.append(Line2D([], [], color=color, lw=2, label=MODEL_LABELS[model]))
    ax.legend(handles=handles + _loss_legend(losses), fontsize="small")
    ax.set(xscale="log", xlabel="step", ylabel=ylabel, title=title)
    style.plain_log_ticks(ax.xaxis)


def _information_panel(ax: plt.Axes, classes: pd.DataFrame, losses: list[str], name: str, k: int | None) -> None:
    information = classes[(classes["metric"] == "information") & (classes["model"] == "network")]
    mu = classes[classes["metric"] == "performance_correlation"]
    for loss in losses:
        style.plot_mean_band(ax, information[information["loss"] == loss], "step", "value", color="#1f77b4")
        style.plot_mean_band(ax, mu[mu["loss"] == loss], "step", "value", color="#d62728", ls="--")
    handles = [
        Line2D([], [], color="#1f77b4", lw=2, label="I(F; Y): network's information on the class"),
        Line2D([], [], color="#d62728", lw=2, ls="--", label="μ = I(F; Y) − I(F; Y | L), L: linear model"),
    ]
    if k:
        ax.axhline(math.log2(k), color="k", lw=0.8, ls=":")
        handles.append(Line2D([], [], color="k", lw=0.8, ls=":", label=f"log2 {k}: every class right"))
    ax.legend(handles=handles, fontsize="small")
    ax.set(
        xscale="log",
        xlabel="step",
        ylabel="bits",
        title=f"{name}\n(d) performance correlation (Nakkiran et al. 2019)"
        + ("" if len(losses) == 1 else ", per loss (line style)"),
    )
    style.plain_log_ticks(ax.xaxis)
