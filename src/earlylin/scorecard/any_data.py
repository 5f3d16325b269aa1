"""Scorecard rows of ``fig_data`` (beyond the paper): per data set, loss and momentum, how long
the network agrees with the linear model of its fitted NTK and whether that linear model
explains its performance (Nakkiran et al.'s mu); per data set, whether the network trained on
the Gaussian clone of the images tracks the one trained on the real images as long as the
real one agrees with its linear model."""

from __future__ import annotations

import pandas as pd

from ..core.fits import mean_sd
from ..experiments.any_data_clone import clone_discrepancy
from .any_network import first_step_above
from .criteria import CRITERIA, DATA_MIN_INFORMATION, DATA_MU_SHARE, DEEP_MAX_RELATIVE, DEEP_STEP_LIMIT
from .paper import excess_note
from .rows import is_empty, not_run, row, verdict

FIGURE = "fig_data"
LATER_STEP = 10  # the notes of the mu rows also state the ratio from this step on
THEOREMS = "beyond the theorems (square loss, plain GD)"


def _paper(loss: str, momentum: float, claim: str) -> str:
    return claim if loss == "mse" and momentum == 0 else f"{claim}; {THEOREMS}"


def _horizons(pair: pd.DataFrame, last: int) -> dict[int, int | None]:
    return {int(s): first_step_above(part, DEEP_MAX_RELATIVE, last) for s, part in pair.groupby("seed")}


def _horizon_text(horizons: dict[int, int | None], last: int) -> str:
    crossed = {s: h for s, h in horizons.items() if h is not None}
    if not crossed:
        return f"beyond step {last:,} in every seed"
    return "; ".join(f"seed {s}: step {h:,}" for s, h in sorted(crossed.items())) + (
        f"; beyond {last:,} in the others" if len(crossed) < len(horizons) else ""
    )


def data_rows(discrepancy: pd.DataFrame | None, signs: pd.DataFrame | None, outputs: pd.DataFrame | None) -> list[dict]:
    """Rows of fig_data from its train_any_data tables (each with dataset, loss, momentum, inputs, seed)."""
    if is_empty(discrepancy) or is_empty(signs) or is_empty(outputs):
        return [
            not_run(
                FIGURE, "any data, loss, optimiser: agreement with the linear model", "", CRITERIA["models_horizon"]
            ),
            not_run(
                FIGURE, "any data, loss, optimiser: the linear model explains performance", "", CRITERIA["data_mu"]
            ),
            not_run(FIGURE, "Gaussian clone: tracks the real-trained network", "", CRITERIA["data_clone"]),
        ]
    rows = []
    real_discrepancy = discrepancy[discrepancy["inputs"] == "real"]
    real_signs = signs[signs["inputs"] == "real"]
    for (dataset, loss, momentum), runs in real_discrepancy.groupby(["dataset", "loss", "momentum"], sort=True):
        last = min(int(runs["step"].max()), DEEP_STEP_LIMIT)
        name = f"{dataset}, {loss} loss, momentum {momentum:g}"
        pair = runs[(runs["reference"] == "network") & (runs["other"] == "linear")]
        horizons = _horizons(pair, last)
        early = pair[(pair["step"] >= 1) & (pair["step"] <= last)]
        peak = early.groupby("seed")["value"].max()
        rows.append(
            row(
                FIGURE,
                f"{name}: the network agrees with the linear model of its fitted NTK early",
                _paper(loss, momentum, "agreement for ~10^3 steps (Figures 3/4)"),
                CRITERIA["models_horizon"],
                _horizon_text(horizons, last)
                + f"; max relative MSE over steps 1..{last:,}: {mean_sd(peak.values, '.2%')}",
                verdict(all(h is None for h in horizons.values())),
                excess_note(early, last),
            )
        )
        rows.append(_mu_row(real_signs, dataset, loss, momentum, last, name))
    if "clone" in set(outputs["inputs"]):
        rows += _clone_rows(clone_discrepancy(outputs), real_discrepancy)
    else:
        rows.append(not_run(FIGURE, "Gaussian clone: tracks the real-trained network", "", CRITERIA["data_clone"]))
    return rows


def _mu_row(signs: pd.DataFrame, dataset: str, loss: str, momentum: float, last: int, name: str) -> dict:
    part = signs[(signs["dataset"] == dataset) & (signs["loss"] == loss) & (signs["momentum"] == momentum)]
    paper = _paper(loss, momentum, "Nakkiran et al. 2019 (cited in Appendix A): early SGD learns a linear classifier")
    return mu_row(FIGURE, part, last, name, paper, "sign_agreement")


def mu_row(figure: str, part: pd.DataFrame, last: int, name: str, paper: str, agreement: str) -> dict:
    """The row 'the linear model explains the network's performance' of one run's measures
    (``part``: rows of one setting, every seed, with metrics information, performance_correlation
    and ``agreement``, the network's agreement with the linear model's predictions)."""
    part = part[(part["step"] >= 1) & (part["step"] <= last)]
    information = part[(part["metric"] == "information") & (part["model"] == "network")].set_index(["seed", "step"])
    mu = part[part["metric"] == "performance_correlation"].set_index(["seed", "step"])
    joined = pd.DataFrame({"information": information["value"], "mu": mu["value"]}).dropna()
    informative = joined[joined["information"] >= DATA_MIN_INFORMATION]
    claim = f"{name}: the linear model explains the network's performance (μ ≈ I(F; Y))"
    if informative.empty:
        return not_run(figure, claim, paper, CRITERIA["data_mu"], f"I(F; Y) < {DATA_MIN_INFORMATION:g} bit throughout")
    share = informative["mu"] / informative["information"]
    worst = share.groupby(level="seed").min()
    worst_step = int(share.idxmin()[1])
    final = int(joined.index.get_level_values("step").max())
    at_last = joined.xs(final, level="step")
    measured = (
        f"min μ / I(F; Y) over informative steps {mean_sd(worst.values, '.3f')} (lowest at step {worst_step:,}); "
        f"at step {final:,}: I(F; Y) {mean_sd(at_last['information'], '.3f')} bit, "
        f"μ {mean_sd(at_last['mu'], '.3f')} bit"
    )
    holds = bool((worst >= DATA_MU_SHARE).all())
    note = ""
    if not holds:
        seed, step = share.idxmin()
        indexed = part.set_index(["seed", "step"])
        agreed = indexed[(indexed["metric"] == agreement) & (indexed["other"] == "linear")]["value"]
        accuracy = indexed[(indexed["metric"] == "accuracy") & (indexed["model"] == "network")]["value"]
        later = share[share.index.get_level_values("step") >= LATER_STEP]
        note = (
            f"lowest at seed {seed}, step {step:,}, where the network and its linear model disagree on "
            f"{1 - agreed[(seed, step)]:.1%} of the test images (network's accuracy {accuracy[(seed, step)]:.1%})"
            + (f"; from step {LATER_STEP} on, min μ / I(F; Y) {later.min():.2f}" if len(later) else "")
        )
    return row(figure, claim, paper, CRITERIA["data_mu"], measured, verdict(holds), note)


def _clone_rows(clone: pd.DataFrame, real: pd.DataFrame) -> list[dict]:
    rows = []
    for (dataset, loss, momentum), part in clone.groupby(["dataset", "loss", "momentum"], sort=True):
        last = min(int(part["step"].max()), DEEP_STEP_LIMIT)
        network = part[part["model"] == "network"]
        linear = part[part["model"] == "linear"]
        reference = real[
            (real["dataset"] == dataset)
            & (real["loss"] == loss)
            & (real["momentum"] == momentum)
            & (real["reference"] == "network")
            & (real["other"] == "linear")
        ]
        parting = _horizons(network, last)
        agreement = _horizons(reference, last)
        beyond = last + 1  # a horizon not reached counts as beyond the run
        ok = all((parting[s] or beyond) >= (agreement.get(s) or beyond) for s in parting)
        linear_at_last = linear[linear["step"] == linear["step"][linear["step"] <= last].max()]["value"]
        measured = (
            f"networks part: {_horizon_text(parting, last)}; the real-trained network leaves its linear model: "
            f"{_horizon_text(agreement, last)}; clone vs real linear models at step {last:,}: "
            f"{mean_sd(linear_at_last.values, '.2%')}"
        )
        rows.append(
            row(
                FIGURE,
                f"{dataset}: the network trained on the Gaussian clone tracks the one trained on the real images",
                _paper(loss, momentum, "Refinetti et al. 2023; implied by early linearity (Section 4.1)"),
                CRITERIA["data_clone"],
                measured,
                verdict(ok),
            )
        )
    return rows
