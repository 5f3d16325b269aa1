"""Scorecard rows of ``fig_classes`` (beyond the paper: k classes): per data set, network and
loss, how long the network of k outputs agrees with the k-head linear model of its fitted NTK
(relative MSE over all outputs), whether that linear model explains its performance
(Nakkiran et al.'s mu for k labels), and whether the network's NTK has the form
Theta (x) I_k the k-head linear model assumes (its cross-output blocks small)."""

from __future__ import annotations

import pandas as pd

from ..core.fits import mean_sd
from .any_data import mu_row
from .any_network import horizon_measured
from .criteria import CLASSES_MAX_CROSS, CRITERIA, DEEP_STEP_LIMIT
from .paper import excess_note
from .rows import is_empty, not_run, row, verdict, worst_seed

FIGURE = "fig_classes"
THEOREMS = "beyond the theorems (two classes, square loss, plain GD)"
NAKKIRAN = "Nakkiran et al. 2019 (cited in Appendix A): early SGD learns a linear classifier"
IDENTITY_FORM = "infinite width: the NTK of k outputs is Θ(x, x') I_k (Jacot et al. 2018)"


def class_rows(discrepancy: pd.DataFrame | None, fits: pd.DataFrame | None, classes: pd.DataFrame | None) -> list[dict]:
    """Rows of fig_classes from its train_any_classes tables (each with dataset, net, loss, seed)."""
    if is_empty(discrepancy) or is_empty(fits) or is_empty(classes):
        return [
            not_run(FIGURE, "k classes: agreement with the k-head linear model", "", CRITERIA["models_horizon"]),
            not_run(FIGURE, "k classes: the linear model explains performance", NAKKIRAN, CRITERIA["data_mu"]),
            not_run(FIGURE, "k classes: the NTK is Θ ⊗ I_k", IDENTITY_FORM, CRITERIA["classes_cross"]),
        ]
    rows = []
    for (dataset, net), fit in fits.groupby(["dataset", "net"], sort=True):
        rows.append(_cross_row(dataset, net, fit.drop_duplicates("seed")))
        for loss in sorted(set(fit["loss"]), key=lambda loss: (loss != "cross_entropy", loss)):
            name = f"{net} on {dataset}, {loss} loss"
            of = {
                key: table[(table["dataset"] == dataset) & (table["net"] == net) & (table["loss"] == loss)]
                for key, table in (("discrepancy", discrepancy), ("classes", classes))
            }
            last = min(int(of["discrepancy"]["step"].max()), DEEP_STEP_LIMIT)
            rows.append(_horizon_row(name, of["discrepancy"], last))
            rows.append(mu_row(FIGURE, of["classes"], last, name, f"{NAKKIRAN}; {THEOREMS}", "class_agreement"))
    return rows


def _horizon_row(name: str, runs: pd.DataFrame, last: int) -> dict:
    pair = runs[(runs["reference"] == "network") & (runs["other"] == "linear")]
    claim = f"{name}: the network of k outputs agrees with the k-head linear model of its fitted NTK early"
    paper = f"agreement for ~10^3 steps (Figures 3/4, two classes); {THEOREMS}"
    if pair.empty:
        return not_run(FIGURE, claim, paper, CRITERIA["models_horizon"])
    measured, crossed, early = horizon_measured(pair, last)
    return row(
        FIGURE, claim, paper, CRITERIA["models_horizon"], measured, verdict(not crossed), excess_note(early, last)
    )


def _cross_row(dataset: str, net: str, fit: pd.DataFrame) -> dict:
    """The NTK's cross-output blocks against its diagonal ones, per seed (one fit per seed)."""
    claim = f"{net} on {dataset}: its NTK of k outputs is Θ ⊗ I_k (what the k-head linear model assumes)"
    if "cross_output" not in fit.columns or fit["cross_output"].isna().all():
        return not_run(FIGURE, claim, IDENTITY_FORM, CRITERIA["classes_cross"], "one output per input")
    cross = {int(s): float(v) for s, v in zip(fit["seed"], fit["cross_output"])}
    spread = fit["output_spread"].values
    measured = (
        f"cross-output blocks {mean_sd(cross.values(), '.3f')} of the diagonal ones"
        + (f" ({worst_seed(cross, '.3f')})" if len(cross) > 1 else "")
        + f"; diagonal blocks' spread about their mean {mean_sd(spread, '.3f')}"
    )
    return row(
        FIGURE,
        claim,
        IDENTITY_FORM,
        CRITERIA["classes_cross"],
        measured,
        verdict(max(cross.values()) <= CLASSES_MAX_CROSS),
    )
