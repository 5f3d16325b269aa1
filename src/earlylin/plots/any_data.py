"""Figure fig_data (beyond the paper: any data, loss and optimiser), one row per data set:

(a) relative MSE of the network to the linear model of its fitted NTK (solid) and to its
    linearised network (dotted) on the test images, per loss and heavy-ball momentum;
(b) sign agreement of the network with the linear model (solid) and the network's test
    accuracy (dashed);
(c) Nakkiran et al.'s performance correlation mu_Y(F; L) (dashed) against I(F; Y) (solid):
    mu close to I(F; Y) means the linear model explains the network's performance;
(d) the network (and its linear model) trained on the Gaussian clone of the training images
    against the one trained on the real images, on the real test images, with the step at
    which they part (relative MSE above the scorecard's 5%) and, for comparison, the real
    network's relative MSE to its linear model;
(e) the outputs of a few real test images of the real-trained (solid) and clone-trained
    (dashed) networks.
Lines are means over seeds, bands min-max over seeds."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from ..experiments.any_data_clone import clone_discrepancy
from ..scorecard.any_network import first_step_above
from ..scorecard.criteria import DEEP_MAX_RELATIVE
from . import style

THEOREMS = "the theorems cover the square loss with plain GD only"
CLONE_STYLES = {  # model -> (line style, label) of panel (d)
    "network": ("-", "network"),
    "linearised": (":", "linearised network"),
    "linear": ("--", "linear model"),
}


def variant_label(loss: str, momentum: float) -> str:
    return f"{loss}, momentum {momentum:g}"


def _variants(table: pd.DataFrame) -> list[tuple[str, float]]:
    real = table[table["inputs"] == "real"]
    pairs = {(str(loss), float(momentum)) for loss, momentum in zip(real["loss"], real["momentum"])}
    return sorted(pairs, key=lambda v: (v[0] != "mse", v))


def variant_colors(variants: list[tuple[str, float]]) -> dict[tuple[str, float], tuple]:
    """mse in blues, logistic in reds; darker for larger momentum."""
    colors = {}
    for loss, palette in (("mse", "Blues"), ("logistic", "Reds")):
        mine = sorted(m for name, m in variants if name == loss)
        shades = sns.color_palette(palette, len(mine) + 1)[1:]
        colors.update({(loss, m): shade for m, shade in zip(mine, shades)})
    return colors


def plot_data(
    tables: dict[str, pd.DataFrame],
    *,
    datasets: list[str],
    title: str,
    labels: dict[str, str] | None = None,
    network: str = "",
    n_logit_samples: int = 3,
) -> plt.Figure:
    """fig_data from the train_any_data tables (outputs, discrepancy, signs), each with the
    columns dataset, loss, momentum, inputs, seed."""
    style.set_style()
    labels = labels or {}
    fig, axes = plt.subplots(
        len(datasets), 5, figsize=(26, 4.8 * len(datasets)), squeeze=False, constrained_layout=True
    )
    for panels, dataset in zip(axes, datasets):
        part = {name: t[t["dataset"] == dataset] for name, t in tables.items()}
        variants = _variants(part["discrepancy"])
        colors = variant_colors(variants)
        name = f"{labels.get(dataset, dataset)}\n{network}"
        real = {key: t[t["inputs"] == "real"] for key, t in part.items()}
        _relative_panel(panels[0], style.positive_steps(real["discrepancy"]), variants, colors, name)
        _sign_panel(panels[1], style.positive_steps(real["signs"]), variants, colors, name)
        _information_panel(panels[2], style.positive_steps(real["signs"]), variants, colors, name)
        clone = clone_discrepancy(part["outputs"])
        _clone_panel(panels[3], style.positive_steps(clone), style.positive_steps(real["discrepancy"]), name)
        _clone_outputs_panel(panels[4], part["outputs"], clone, n_logit_samples, name)
    style.suptitle(fig, title + style.seeds_note(*tables.values()))
    return fig


def _of(table: pd.DataFrame, variant: tuple[str, float]) -> pd.DataFrame:
    return table[(table["loss"] == variant[0]) & (table["momentum"] == variant[1])]


def _variant_legend(ax: plt.Axes, colors: dict, extra: list[Line2D]) -> None:
    handles = [Line2D([], [], color=c, lw=2, label=variant_label(*v)) for v, c in colors.items()]
    ax.legend(handles=handles + extra, fontsize="small")


def _relative_panel(ax, discrepancy, variants, colors, name) -> None:
    for variant in variants:
        rows = _of(discrepancy, variant)
        for other, ls in (("linear", "-"), ("linearised", ":")):
            curve = rows[(rows["reference"] == "network") & (rows["other"] == other)]
            if len(curve):
                style.plot_mean_band(ax, curve, "step", "value", color=colors[variant], ls=ls)
    ax.axhline(DEEP_MAX_RELATIVE, color="k", lw=0.8, ls=":")
    _variant_legend(
        ax,
        colors,
        [
            Line2D([], [], color="k", ls="-", label="network vs linear model"),
            Line2D([], [], color="k", ls=":", label="network vs linearised"),
        ],
    )
    style.log_log(
        ax, "step", "E(f − f_other)² / E f²  on test", f"{name}\n(a) relative MSE per loss and momentum\n({THEOREMS})"
    )


def _sign_panel(ax, signs, variants, colors, name) -> None:
    _pair_panel(
        ax,
        signs,
        variants,
        colors,
        (
            lambda rows: (rows["metric"] == "sign_agreement") & (rows["other"] == "linear"),
            "sign agreement network / linear model",
        ),
        (lambda rows: (rows["metric"] == "accuracy") & (rows["model"] == "network"), "network's test accuracy"),
    )
    ax.set(ylabel="fraction of test images", title=f"{name}\n(b) predicted signs")


def _information_panel(ax, signs, variants, colors, name) -> None:
    _pair_panel(
        ax,
        signs,
        variants,
        colors,
        (
            lambda rows: (rows["metric"] == "information") & (rows["model"] == "network"),
            "I(F; Y): network's information on the label",
        ),
        (lambda rows: rows["metric"] == "performance_correlation", "μ = I(F; Y) − I(F; Y | L), L: linear model"),
    )
    ax.set(ylabel="bits", title=f"{name}\n(c) performance correlation (Nakkiran et al. 2019)")


def _pair_panel(ax, signs, variants, colors, solid, dashed) -> None:
    """Two measures of the signs table per loss and momentum against steps: ``solid`` and
    ``dashed`` are (row selector, legend label)."""
    for variant in variants:
        rows = _of(signs, variant)
        for (select, _), ls in ((solid, "-"), (dashed, "--")):
            style.plot_mean_band(ax, rows[select(rows)], "step", "value", color=colors[variant], ls=ls)
    _variant_legend(
        ax, colors, [Line2D([], [], color="k", ls=ls, label=label) for (_, label), ls in ((solid, "-"), (dashed, "--"))]
    )
    ax.set(xscale="log", xlabel="step")
    style.plain_log_ticks(ax.xaxis)


def _clone_panel(ax, clone: pd.DataFrame, discrepancy: pd.DataFrame, name: str) -> None:
    if clone.empty:
        ax.text(0.5, 0.5, "no clone run (fig_data.clone: false)", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    loss, momentum = str(clone["loss"].iloc[0]), float(clone["momentum"].iloc[0])
    for model, (ls, label) in CLONE_STYLES.items():
        curve = clone[clone["model"] == model]
        if len(curve):
            style.plot_mean_band(ax, curve, "step", "value", color="#2ca02c", ls=ls, label=f"{label}: clone vs real")
    reference = _of(discrepancy, (loss, momentum))
    reference = reference[(reference["reference"] == "network") & (reference["other"] == "linear")]
    style.plot_mean_band(
        ax, reference, "step", "value", color="#7f7f7f", ls="-", lw=1.0, label="real: network vs linear"
    )
    ax.axhline(DEEP_MAX_RELATIVE, color="k", lw=0.8, ls=":", label=f"{DEEP_MAX_RELATIVE:.0%}")
    network = clone[clone["model"] == "network"]
    parts = {int(s): first_step_above(p, DEEP_MAX_RELATIVE, int(p["step"].max())) for s, p in network.groupby("seed")}
    text = ", ".join(f"seed {s}: {'step ' + format(h, ',') if h else 'never'}" for s, h in sorted(parts.items()))
    for h in {h for h in parts.values() if h}:
        ax.axvline(h, color="#2ca02c", lw=0.8, ls="-.")
    ax.legend(fontsize="small")
    style.log_log(
        ax,
        "step",
        "E(f_real − f_clone)² / E f_real²  on real test",
        f"{name}\n(d) trained on the Gaussian clone vs on the real images ({variant_label(loss, momentum)})\n"
        f"networks part (> {DEEP_MAX_RELATIVE:.0%}): {text}",
    )


def _clone_outputs_panel(ax, outputs: pd.DataFrame, clone: pd.DataFrame, n_samples: int, name: str) -> None:
    if clone.empty:
        ax.set_axis_off()
        return
    loss, momentum = str(clone["loss"].iloc[0]), float(clone["momentum"].iloc[0])
    rows = _of(outputs, (loss, momentum))
    rows = rows[(rows["model"] == "network") & (rows["sample"] < n_samples)]
    logits = rows.assign(model=rows["inputs"])
    style.plot_test_outputs(
        ax,
        logits,
        ["real", "clone"],
        {"real": "-", "clone": "--"},
        {"real": "trained on the real images", "clone": "trained on the Gaussian clone"},
        f"{name}\n(e) network outputs on real test images",
        style.n_seeds(rows) > 1,
    )
