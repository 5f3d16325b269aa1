"""The one power-law fit and the texts of its spread over seeds, against independent
computations (scipy's linregress, numpy by hand)."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import linregress

from earlylin.core.fits import mean_sd, power_law_fit, seed_spread, slope_text


def test_power_law_fit_recovers_an_exact_power_law():
    x = np.array([10.0, 20.0, 40.0, 80.0, 160.0])
    fit = power_law_fit(x, 3.5 * x**-1.263)
    assert fit.slope == pytest.approx(-1.263, abs=1e-12)
    assert math.exp(fit.intercept) == pytest.approx(3.5, rel=1e-12)
    assert fit.stderr == pytest.approx(0.0, abs=1e-12)


def test_power_law_fit_agrees_with_linregress_on_noisy_data():
    rng = np.random.default_rng(3)
    x = np.geomspace(8, 512, 7)
    y = 2.0 * x**0.9 * np.exp(0.1 * rng.standard_normal(x.size))
    fit, reference = power_law_fit(x, y), linregress(np.log(x), np.log(y))
    assert fit.slope == pytest.approx(reference.slope, rel=1e-12)
    assert fit.intercept == pytest.approx(reference.intercept, rel=1e-12)
    assert fit.stderr == pytest.approx(reference.stderr, rel=1e-10)


def test_power_law_fit_limits():
    assert math.isnan(power_law_fit([1.0, 2.0], [3.0, 5.0]).stderr)  # two points: the line is exact
    with pytest.raises(ValueError, match="at least two distinct x"):
        power_law_fit([4.0, 4.0, 4.0], [1.0, 2.0, 3.0])


def test_seed_spread_is_the_mean_and_sample_sd_of_the_per_seed_slopes():
    per_seed = pd.DataFrame(
        dict(
            group=["a", "a", "a", "b"],
            slope=[1.0, 1.2, 0.8, -0.5],
            intercept=[0.1, 0.2, 0.3, 1.0],
            n_points=[5, 4, 5, 3],
            x_min=[8.0, 16.0, 8.0, 2.0],
            x_max=[128.0, 128.0, 64.0, 4.0],
        )
    )
    summary = seed_spread(per_seed, ["group"]).set_index("group")
    assert summary.loc["a", "slope"] == pytest.approx(1.0)
    assert summary.loc["a", "slope_sd"] == pytest.approx(np.std([1.0, 1.2, 0.8], ddof=1))
    assert (summary.loc["a", "n_seeds"], summary.loc["a", "n_points"]) == (3, 4)
    assert (summary.loc["a", "x_min"], summary.loc["a", "x_max"]) == (8.0, 128.0)
    assert summary.loc["a", "seed_slopes"] == "1.000, 1.200, 0.800"
    assert math.isnan(summary.loc["b", "slope_sd"]) and summary.loc["b", "n_seeds"] == 1


def test_spread_texts():
    assert mean_sd([0.5]) == "0.5" and mean_sd([]) == "n/a"
    assert mean_sd([1.0, 2.0, 3.0], ".1f") == "2.0 ± 1.0 over 3 seeds"
    assert slope_text(0.851, 0.0234) == "0.85 ± 0.02"
    assert slope_text(-0.94, math.nan, 1) == "-0.94 (1 seed)"
    assert slope_text(1.0, 0.1, 3) == "1.00 ± 0.10 (3 seeds)"
