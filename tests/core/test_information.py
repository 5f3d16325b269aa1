"""Nakkiran et al.'s performance correlation against entropy identities computed by a
brute-force loop, and its limiting cases."""

import itertools

import numpy as np
import pandas as pd
import pytest

from earlylin.core.information import (
    conditional_information,
    mutual_information,
    performance_correlation,
    performance_correlation_with_interval,
)


def _entropy(*columns):
    """H of the joint empirical distribution of the columns, in bits, by counting tuples."""
    counts = {}
    for key in zip(*columns):
        counts[key] = counts.get(key, 0) + 1
    p = np.array(list(counts.values()), dtype=float) / len(columns[0])
    return float(-np.sum(p * np.log2(p)))


def _signs(rng, n):
    return rng.choice([-1, 1], size=n)


@pytest.mark.parametrize("seed", range(4))
def test_information_equals_the_entropy_identities(seed):
    """I(F; Y) = H(F) + H(Y) - H(F, Y); I(F; Y | L) = H(F, L) + H(Y, L) - H(F, Y, L) - H(L)."""
    rng = np.random.default_rng(seed)
    y = _signs(rng, 60)
    linear = np.where(rng.random(60) < 0.8, y, -y)
    f = np.where(rng.random(60) < 0.7, linear, _signs(rng, 60))
    assert mutual_information(f, y) == pytest.approx(_entropy(f) + _entropy(y) - _entropy(f, y), abs=1e-12)
    expected = _entropy(f, linear) + _entropy(y, linear) - _entropy(f, y, linear) - _entropy(linear)
    assert conditional_information(f, y, linear) == pytest.approx(expected, abs=1e-12)


def test_a_hand_computed_case():
    """Y = (+,+,-,-), F = Y: I(F; Y) = H(Y) = 1 bit. L = (+,-,+,-) is independent of Y, so
    given L, F still determines Y: I(F; Y | L) = 1 bit and mu = 0. With L = Y instead, mu = 1."""
    y = np.array([1, 1, -1, -1])
    assert mutual_information(y, y) == pytest.approx(1.0)
    assert performance_correlation(y, np.array([1, -1, 1, -1]), y) == pytest.approx(0.0, abs=1e-12)
    assert performance_correlation(y, y, y) == pytest.approx(1.0)


def test_a_classifier_explained_by_the_linear_model():
    """mu_Y(L; L) = I(L; Y): the linear model explains all of its own performance."""
    rng = np.random.default_rng(1)
    y = _signs(rng, 500)
    linear = np.where(rng.random(500) < 0.85, y, -y)
    assert performance_correlation(linear, linear, y) == pytest.approx(mutual_information(linear, y), abs=1e-12)


def test_a_classifier_independent_of_the_linear_model_and_the_labels_has_mu_near_zero():
    """F independent of (L, Y): mu is close to 0 and its bootstrap interval holds 0."""
    rng = np.random.default_rng(2)
    n = 4000
    y = _signs(rng, n)
    linear = np.where(rng.random(n) < 0.85, y, -y)
    estimate = performance_correlation_with_interval(_signs(rng, n), linear, y, np.random.default_rng(0))
    assert estimate.mu_interval[0] <= 0.0 <= estimate.mu_interval[1] and abs(estimate.mu) < 0.005


def test_mu_is_the_interaction_information_from_either_side():
    """mu = I(F; Y) - I(F; Y | L) = I(F; L) - I(F; L | Y): for F and L right 85% of the time
    independently given Y, I(F; L | Y) = 0 and mu = I(F; L) > 0 (L explains part of F's
    performance through Y), while F independent of L gives mu = -I(F; L | Y) <= 0."""
    rng = np.random.default_rng(4)
    n = 4000
    y = _signs(rng, n)
    f = np.where(rng.random(n) < 0.85, y, -y)
    linear = np.where(rng.random(n) < 0.85, y, -y)
    mu = performance_correlation(f, linear, y)
    assert mu == pytest.approx(mutual_information(f, linear) - conditional_information(f, linear, y), abs=1e-12)
    assert conditional_information(f, linear, y) < 0.002 and mu == pytest.approx(
        mutual_information(f, linear), abs=0.002
    )
    assert mu > 0.1


def test_the_bootstrap_interval_holds_the_estimate_and_is_seeded():
    rng = np.random.default_rng(3)
    y = _signs(rng, 300)
    linear = np.where(rng.random(300) < 0.8, y, -y)
    f = np.where(rng.random(300) < 0.9, linear, -linear)
    first = performance_correlation_with_interval(f, linear, y, np.random.default_rng(5))
    second = performance_correlation_with_interval(f, linear, y, np.random.default_rng(5))
    assert first == second
    assert first.mu_interval[0] <= first.mu <= first.mu_interval[1]
    assert first.information_interval[0] <= first.information <= first.information_interval[1]


def test_every_binary_table_of_three_points_agrees_with_the_identities():
    """All 2^9 assignments of (F, L, Y) on 3 points: the brute force over tables."""
    for bits in itertools.product([-1, 1], repeat=9):
        f, linear, y = np.array(bits[:3]), np.array(bits[3:6]), np.array(bits[6:])
        expected = (_entropy(f) + _entropy(y) - _entropy(f, y)) - (
            _entropy(f, linear) + _entropy(y, linear) - _entropy(f, y, linear) - _entropy(linear)
        )
        assert performance_correlation(f, linear, y) == pytest.approx(expected, abs=1e-12)


def test_label_vectors_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="three label vectors of one length"):
        performance_correlation(np.ones(3), np.ones(4), np.ones(3))


def test_binary_tables_agree_with_the_generic_estimators():
    """The vectorised 2 x 2 x 2 path equals the plug-in estimators on every point set."""
    from earlylin.core.information import _codes, binary_information

    rng = np.random.default_rng(11)
    for _ in range(20):
        n = int(rng.integers(5, 60))
        f, linear, y = (np.where(rng.random(n) < rng.random(), 1.0, -1.0) for _ in range(3))
        counts = np.bincount(_codes(f, linear, y), minlength=8).reshape(2, 2, 2)
        information, mu = binary_information(counts)
        assert information == pytest.approx(mutual_information(f, y), abs=1e-12)
        assert mu == pytest.approx(performance_correlation(f, linear, y), abs=1e-12)


def test_sign_metric_rows_hand_computed_cases():
    from earlylin.core.information import sign_metric_rows

    rng = np.random.default_rng(2)
    y = np.where(rng.random(400) < 0.5, 1.0, -1.0)
    linear = np.where(rng.random(400) < 0.8, y, -y) * 0.3  # 80% accurate outputs
    independent = np.where(rng.random(400) < 0.5, 1.0, -1.0)
    outputs = {
        "network": np.stack([np.zeros(400), linear, independent]),
        "linear": np.stack([np.zeros(400), linear, linear]),
    }
    rows = pd.DataFrame(sign_metric_rows(np.array([0, 1, 2]), outputs, y, np.random.default_rng(0), resamples=300))

    def value(step, metric, model="network"):
        return rows[(rows.step == step) & (rows.metric == metric) & (rows.model == model)].iloc[0]

    # step 0: outputs 0, one predicted class: no information, accuracy = share of -1 labels
    assert value(0, "information")["value"] == pytest.approx(0.0)
    assert value(0, "accuracy")["value"] == pytest.approx(np.mean(y < 0))
    # step 1: F = L, so mu = I(F; Y) = I(L; Y), sign agreement 1
    step1 = value(1, "performance_correlation")
    assert step1["value"] == pytest.approx(value(1, "information")["value"])
    assert step1["value"] == pytest.approx(mutual_information(np.sign(linear), y))
    assert value(1, "sign_agreement")["value"] == 1.0
    assert step1["low"] <= step1["value"] <= step1["high"]
    # step 2: F independent of (L, Y): mu near 0, its interval holds 0
    step2 = value(2, "performance_correlation")
    assert abs(step2["value"]) < 0.02 and step2["low"] <= 0.0 <= step2["high"]
    assert value(2, "sign_agreement")["value"] == pytest.approx(0.5, abs=0.08)
