"""fig_data's scorecard rows (earlylin.scorecard.data) on hand-built tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from earlylin.core.tables import output_rows
from earlylin.scorecard.any_data import data_rows
from earlylin.scorecard.criteria import FAILS, HOLDS, NOT_RUN

STEPS = np.array([0, 1, 10, 100, 1000])


def _discrepancy(values, loss="mse", momentum=0.0, seeds=(0, 1)):
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "reference": "network",
                    "other": "linear",
                    "step": STEPS,
                    "metric": "relative_mse",
                    "value": [np.nan, *values],
                    "dataset": "d",
                    "loss": loss,
                    "momentum": momentum,
                    "inputs": "real",
                    "seed": seed,
                }
            )
            for seed in seeds
        ],
        ignore_index=True,
    )


def _signs(information, mu, loss="mse", momentum=0.0, seeds=(0, 1)):
    rows = []
    for seed in seeds:
        for step, i, m in zip(STEPS, [0.0, *information], [0.0, *mu]):
            base = dict(dataset="d", loss=loss, momentum=momentum, inputs="real", seed=seed, step=int(step))
            rows.append({**base, "model": "network", "other": "", "metric": "information", "value": i})
            rows.append(
                {**base, "model": "network", "other": "linear", "metric": "performance_correlation", "value": m}
            )
            rows.append({**base, "model": "network", "other": "linear", "metric": "sign_agreement", "value": 0.96})
            rows.append({**base, "model": "network", "other": "", "metric": "accuracy", "value": 0.9})
    return pd.DataFrame(rows)


def _outputs(clone_shift, seeds=(0, 1)):
    """Real-trained outputs and clone-trained ones that differ by ``clone_shift`` per step."""
    real = np.outer(STEPS + 1.0, np.ones(4))
    parts = []
    for seed in seeds:
        for inputs, values in (("real", real), ("clone", real * (1 + np.asarray(clone_shift)[:, None]))):
            for model in ("network", "linear"):
                parts.append(
                    output_rows(model, STEPS, values).assign(
                        dataset="d", loss="mse", momentum=0.0, inputs=inputs, seed=seed
                    )
                )
    return pd.concat(parts, ignore_index=True)


@pytest.mark.parametrize(
    ("relative", "expected"),
    [([0.01, 0.02, 0.03, 0.04], HOLDS), ([0.01, 0.02, 0.03, 0.08], FAILS)],
)
def test_agreement_row_uses_the_five_percent_horizon(relative, expected):
    rows = data_rows(_discrepancy(relative), _signs([0.5] * 4, [0.5] * 4), _outputs([0.0] * 5))
    agreement = next(r for r in rows if "agrees with the linear model" in r["claim"])
    assert agreement["verdict"] == expected
    assert (
        agreement["paper"].startswith("agreement for ~10^3 steps") and "beyond the theorems" not in agreement["paper"]
    )


def test_rows_beyond_the_theorems_say_so():
    rows = data_rows(
        _discrepancy([0.01] * 4, "logistic", 0.9), _signs([0.5] * 4, [0.5] * 4, "logistic", 0.9), _outputs([0.0] * 5)
    )
    assert all("beyond the theorems" in r["paper"] for r in rows if "logistic" in r["claim"])


@pytest.mark.parametrize(
    ("information", "mu", "expected"),
    [
        ([0.05, 0.5, 0.8, 0.9], [0.0, 0.48, 0.75, 0.85], HOLDS),  # step 1 below 0.1 bit: not counted
        ([0.05, 0.5, 0.8, 0.9], [0.0, 0.48, 0.60, 0.85], FAILS),  # 0.75 of I(F; Y) at step 100
        ([0.01, 0.02, 0.03, 0.05], [0.0, 0.0, 0.0, 0.0], NOT_RUN),
    ],
)
def test_mu_row_compares_mu_with_information_where_the_network_is_informative(information, mu, expected):
    rows = data_rows(_discrepancy([0.01] * 4), _signs(information, mu), _outputs([0.0] * 5))
    mu_row = next(r for r in rows if "explains the network's performance" in r["claim"])
    assert mu_row["verdict"] == expected
    if expected == FAILS:
        assert mu_row["note"] == (
            "lowest at seed 0, step 100, where the network and its linear model disagree on 4.0% of the test images "
            "(network's accuracy 90.0%); from step 10 on, min μ / I(F; Y) 0.75"
        )


@pytest.mark.parametrize(
    ("relative", "shift", "expected"),
    [
        # the real network stays with its linear model; the clone-trained one parts at step 1000
        ([0.01, 0.02, 0.03, 0.04], [0, 0.01, 0.02, 0.1, 0.3], FAILS),
        # the real network leaves its linear model at step 100; the clone parts at 1000: holds
        ([0.01, 0.02, 0.3, 0.4], [0, 0.01, 0.02, 0.1, 0.3], HOLDS),
        # never part
        ([0.01, 0.02, 0.03, 0.04], [0, 0.01, 0.02, 0.05, 0.1], HOLDS),
    ],
)
def test_clone_row_compares_the_parting_step_with_the_agreement_horizon(relative, shift, expected):
    rows = data_rows(_discrepancy(relative), _signs([0.5] * 4, [0.5] * 4), _outputs(shift))
    clone = next(r for r in rows if "Gaussian clone" in r["claim"])
    assert clone["verdict"] == expected, clone["measured"]


def test_not_run_without_tables():
    assert {r["verdict"] for r in data_rows(None, None, None)} == {NOT_RUN}
