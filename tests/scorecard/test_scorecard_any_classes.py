"""fig_classes' scorecard rows (earlylin.scorecard.any_classes) on hand-built tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from earlylin.scorecard.any_classes import class_rows
from earlylin.scorecard.criteria import FAILS, HOLDS, NOT_RUN

STEPS = np.array([1, 10, 100, 1000])
JOB = dict(dataset="d10", net="fc")


def _discrepancy(values, loss="cross_entropy", seeds=(0, 1)):
    return pd.DataFrame(
        [
            dict(JOB, loss=loss, seed=seed, reference="network", other="linear", step=int(step), value=value)
            for seed in seeds
            for step, value in zip(STEPS, values)
        ]
    )


def _fits(cross, loss="cross_entropy"):
    return pd.DataFrame(
        [dict(JOB, loss=loss, seed=seed, cross_output=c, output_spread=0.05) for seed, c in enumerate(cross)]
    )


def _classes(information, mu, loss="cross_entropy", seeds=(0, 1)):
    rows = []
    for seed in seeds:
        for step, i, m in zip(STEPS, information, mu):
            base = dict(JOB, loss=loss, seed=seed, step=int(step))
            rows += [
                {**base, "model": "network", "other": "", "metric": "information", "value": i},
                {**base, "model": "network", "other": "linear", "metric": "performance_correlation", "value": m},
                {**base, "model": "network", "other": "linear", "metric": "class_agreement", "value": 0.8},
                {**base, "model": "network", "other": "", "metric": "accuracy", "value": 0.7},
            ]
    return pd.DataFrame(rows)


def _row(rows, words):
    return next(r for r in rows if words in r["claim"])


@pytest.mark.parametrize(
    ("relative", "expected"), [([0.01, 0.02, 0.03, 0.04], HOLDS), ([0.01, 0.02, 0.3, 0.04], FAILS)]
)
def test_the_horizon_row_reads_the_relative_mse_over_all_outputs(relative, expected):
    rows = class_rows(_discrepancy(relative), _fits([0.05, 0.06]), _classes([1.0] * 4, [1.0] * 4))
    row = _row(rows, "agrees with the k-head linear model")
    assert row["verdict"] == expected
    assert row["claim"].startswith("fc on d10, cross_entropy loss")
    assert "beyond the theorems (two classes, square loss, plain GD)" in row["paper"]
    if expected == FAILS:
        assert row["measured"].startswith("seed 0: step 100; seed 1: step 100")


@pytest.mark.parametrize(
    ("cross", "expected"),
    [([0.05, 0.08], HOLDS), ([0.05, 0.15], FAILS)],
)
def test_the_cross_output_row_holds_when_every_seed_s_blocks_are_small(cross, expected):
    rows = class_rows(_discrepancy([0.01] * 4), _fits(cross), _classes([1.0] * 4, [1.0] * 4))
    row = _row(rows, "is Θ ⊗ I_k")
    assert row["verdict"] == expected
    assert row["measured"].startswith(f"cross-output blocks {np.mean(cross):.3f}")


def test_the_mu_row_compares_mu_with_information_and_names_the_class_agreement():
    rows = class_rows(
        _discrepancy([0.01] * 4), _fits([0.05, 0.05]), _classes([0.05, 2.0, 3.0, 3.2], [0, 1.5, 2.9, 3.1])
    )
    row = _row(rows, "explains the network's performance")
    assert row["verdict"] == FAILS  # 0.75 of I(F; Y) at step 10
    assert "disagree on 20.0% of the test images (network's accuracy 70.0%)" in row["note"]
    rows = class_rows(
        _discrepancy([0.01] * 4), _fits([0.05, 0.05]), _classes([0.05, 2.0, 3.0, 3.2], [0, 1.9, 2.9, 3.1])
    )
    assert _row(rows, "explains the network's performance")["verdict"] == HOLDS


def test_one_row_set_per_loss_and_one_kernel_row_per_network():
    discrepancy = pd.concat([_discrepancy([0.01] * 4), _discrepancy([0.01] * 4, "mse")])
    fits = pd.concat([_fits([0.05, 0.05]), _fits([0.05, 0.05], "mse")])
    classes = pd.concat([_classes([1.0] * 4, [1.0] * 4), _classes([1.0] * 4, [1.0] * 4, "mse")])
    rows = class_rows(discrepancy, fits, classes)
    assert len(rows) == 1 + 2 * 2
    assert [r["claim"].split(":")[0] for r in rows[1:]] == [
        "fc on d10, cross_entropy loss",
        "fc on d10, cross_entropy loss",
        "fc on d10, mse loss",
        "fc on d10, mse loss",
    ]


def test_not_run_without_tables():
    assert {r["verdict"] for r in class_rows(None, None, None)} == {NOT_RUN}
