"""Scorecard rows of ``fig_models`` (beyond the paper): per data set and network, how well
Section 4.1's simple kernel fits the network's empirical NTK, and how long the network
agrees with the linear model of that kernel and with its own linearisation."""

from __future__ import annotations

import pandas as pd

from ..core.fits import mean_sd
from .criteria import CRITERIA, DEEP_MAX_RELATIVE, DEEP_STEP_LIMIT, MODELS_MAX_RESIDUAL
from .paper import excess_note
from .rows import is_empty, not_run, row, verdict, worst_seed

FIGURE = "fig_models"
# a mean |x.x'/d| above this is far from Section 4.1's premise x.x'/d ~ 0 (said in notes and titles)
FAR_OVERLAP = 0.2
SECTION_41 = "Section 4.1: off-diagonal NTK ≈ a + b x·x'/d (for x·x'/d ≈ 0)"
# (other model, claim, what the paper says) of the horizon rows
HORIZON_PAIRS = (
    ("linear", "agrees with the linear model of its fitted NTK early", "agreement for ~10^3 steps (Figures 3/4)"),
    ("linearised", "agrees with its linearised network early", "the lazy regime at large width (Lee et al. 2019)"),
)


def first_step_above(part: pd.DataFrame, threshold: float, last: int) -> int | None:
    """The first logged step in 1..last whose relative MSE exceeds ``threshold`` (None: none)."""
    over = part[(part["step"] >= 1) & (part["step"] <= last) & (part["value"] > threshold)]
    return int(over["step"].min()) if len(over) else None


def horizon_measured(pair: pd.DataFrame, last: int) -> tuple[str, dict[int, int], pd.DataFrame]:
    """A pair's agreement horizon per seed (first logged step in 1..last above 5% relative MSE)
    as the scorecard states it, the seeds that crossed (seed -> step), and the pair's rows in
    steps 1..last."""
    horizons = {int(s): first_step_above(part, DEEP_MAX_RELATIVE, last) for s, part in pair.groupby("seed")}
    crossed = {s: h for s, h in horizons.items() if h is not None}
    measured = (
        f"beyond step {last:,} in every seed"
        if not crossed
        else "; ".join(f"seed {s}: step {h:,}" for s, h in sorted(crossed.items()))
        + (f"; beyond {last:,} in the others" if len(crossed) < len(horizons) else "")
    )
    early = pair[(pair["step"] >= 1) & (pair["step"] <= last)]
    peak = early.groupby("seed")["value"].max()
    return measured + f"; max relative MSE over steps 1..{last:,}: {mean_sd(peak.values, '.2%')}", crossed, early


def model_rows(fits: pd.DataFrame | None, discrepancy: pd.DataFrame | None) -> list[dict]:
    """Rows of fig_models from its kernel_fit (dataset, net, seed, residual_frobenius,
    data_overlap, ...) and discrepancy (dataset, net, seed, reference, other, step, value)
    tables: the fit residual and the two agreement horizons per (data set, network)."""
    if is_empty(fits) or is_empty(discrepancy):
        return [
            not_run(FIGURE, "any network: NTK fitted by Section 4.1's kernel", SECTION_41, CRITERIA["models_fit"]),
            not_run(
                FIGURE, "any network: agreement with its linear model", HORIZON_PAIRS[0][2], CRITERIA["models_horizon"]
            ),
        ]
    rows = []
    for (dataset, net), fit in fits.groupby(["dataset", "net"], sort=True):
        overlap = float(fit["data_overlap"].mean())
        rows.append(_fit_row(dataset, net, fit, overlap))
        runs = discrepancy[(discrepancy["dataset"] == dataset) & (discrepancy["net"] == net)]
        rows += _horizon_rows(dataset, net, runs, overlap)
    return rows


def _fit_row(dataset: str, net: str, fit: pd.DataFrame, overlap: float) -> dict:
    """Whether the network's NTK is Section 4.1's simple kernel: the fit's residual per seed."""
    residuals = {int(s): float(v) for s, v in zip(fit["seed"], fit["residual_frobenius"])}
    return row(
        FIGURE,
        f"{net} on {dataset}: its NTK is Section 4.1's simple kernel",
        SECTION_41,
        CRITERIA["models_fit"],
        f"residual {mean_sd(residuals.values(), '.3f')}"
        + (f" ({worst_seed(residuals, '.3f')})" if len(residuals) > 1 else "")
        + f"; mean |x·x'/d| of the data {overlap:.2f}",
        verdict(max(residuals.values()) <= MODELS_MAX_RESIDUAL),
        "; ".join(sorted({n for n in fit["notes"] if n})),
    )


def _horizon_rows(dataset: str, net: str, runs: pd.DataFrame, overlap: float) -> list[dict]:
    """The network's agreement with each model beside it (``HORIZON_PAIRS``), in their order;
    the linear model's note says where the gap lies when the network agrees with its
    linearisation."""
    last = min(int(runs["step"].max()), DEEP_STEP_LIMIT)
    lazy = None  # whether the network agrees with its linearisation (for the linear row's note)
    pair_rows = []
    for other, claim, paper in reversed(HORIZON_PAIRS):
        pair = runs[(runs["reference"] == "network") & (runs["other"] == other)]
        if pair.empty:
            pair_rows.append(not_run(FIGURE, f"{net} on {dataset}: {claim}", paper, CRITERIA["models_horizon"]))
            continue
        measured, crossed, early = horizon_measured(pair, last)
        if other == "linearised":
            lazy = not crossed
        notes = [excess_note(early, last)]
        if crossed and other == "linear" and lazy:
            notes.append(
                "the network agrees with its linearised network throughout, so the gap lies between its own NTK "
                "at initialisation and the fitted kernel: the kernel's terms beyond constant + b x·x'/d (mean "
                f"|x·x'/d| of the data {overlap:.2f}"
                + (", far from Section 4.1's x·x'/d ≈ 0" if overlap > FAR_OVERLAP else "")
                + ") and this initialisation's departure from the mean over initialisations that was fitted"
            )
        note = "; ".join(n for n in notes if n)
        pair_rows.append(
            row(
                FIGURE,
                f"{net} on {dataset}: {claim}",
                paper,
                CRITERIA["models_horizon"],
                measured,
                verdict(not crossed),
                note,
            )
        )
    return list(reversed(pair_rows))
