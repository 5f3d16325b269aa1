"""fig_data's clone comparison from output tables (earlylin.experiments.any_data_clone)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from earlylin.core.tables import output_rows
from earlylin.experiments.any_data_clone import clone_discrepancy


def _rows(values: np.ndarray, inputs: str, seed: int, model: str = "network") -> pd.DataFrame:
    return output_rows(model, np.array([0, 1, 10]), values).assign(
        dataset="d", loss="mse", momentum=0.0, inputs=inputs, seed=seed
    )


def test_clone_discrepancy_is_the_relative_mse_of_the_two_runs_per_seed_and_model():
    rng = np.random.default_rng(0)
    real = rng.standard_normal((3, 7))
    clone = real + 0.1 * rng.standard_normal((3, 7))
    other = rng.standard_normal((3, 7))
    table = pd.concat(
        [
            _rows(real, "real", 0),
            _rows(clone, "clone", 0),
            _rows(other, "real", 1),  # seed 1 has no clone run: no rows
            _rows(real, "real", 0, "linear"),
            _rows(real, "clone", 0, "linear"),
        ],
        ignore_index=True,
    )
    result = clone_discrepancy(table)
    network = result[result["model"] == "network"].sort_values("step")
    expected = np.mean((real - clone) ** 2, axis=1) / np.mean(real**2, axis=1)
    assert np.allclose(network["value"], expected)
    assert set(result["seed"]) == {0}
    assert np.allclose(result[result["model"] == "linear"]["value"], 0.0)


def test_clone_and_real_runs_must_log_the_same_steps():
    real = _rows(np.ones((3, 2)), "real", 0)
    clone = output_rows("network", np.array([0, 2, 10]), np.ones((3, 2))).assign(
        dataset="d", loss="mse", momentum=0.0, inputs="clone", seed=0
    )
    with pytest.raises(ValueError, match="logged different steps"):
        clone_discrepancy(pd.concat([real, clone]))
