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


# ---------------------------------------------------------------------------------------
# k classes: labels 0..k-1 and the k x k x k table of (F, L, Y) counts
# ---------------------------------------------------------------------------------------


def _class_triple(rng, n, k):
    """Labels Y uniform on k classes, L right 70% of the time, F a copy of L 50% of the time,
    else of Y 30% of the time, else a uniform class: F, L and Y all dependent."""
    y = rng.integers(0, k, size=n)
    linear = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, size=n))
    u = rng.random(n)
    f = np.where(u < 0.5, linear, np.where(u < 0.8, y, rng.integers(0, k, size=n)))
    return f, linear, y


def _identity_mu(f, linear, y):
    """(I(F; Y), mu from the F; Y side, mu from the F; L side) by the entropy identities."""
    h = _entropy
    information = h(f) + h(y) - h(f, y)
    conditional = h(f, linear) + h(y, linear) - h(f, y, linear) - h(linear)
    f_l = h(f) + h(linear) - h(f, linear)
    f_l_given_y = h(f, y) + h(linear, y) - h(f, linear, y) - h(y)
    return information, information - conditional, f_l - f_l_given_y


@pytest.mark.parametrize("k", [3, 5, 10])
@pytest.mark.parametrize("seed", range(3))
def test_class_estimates_equal_the_entropy_identities(k, seed):
    """I(F; Y) = H(F) + H(Y) - H(F, Y), mu = I(F; Y) - I(F; Y | L) with
    I(F; Y | L) = H(F, L) + H(Y, L) - H(F, Y, L) - H(L), and mu = I(F; L) - I(F; L | Y)."""
    from earlylin.core.information import bootstrap_draws, class_estimates

    rng = np.random.default_rng(100 * k + seed)
    n = 400
    f, linear, y = _class_triple(rng, n, k)
    information, mu, mu_other_side = _identity_mu(f, linear, y)
    assert mu == pytest.approx(mu_other_side, abs=1e-12)  # the identities themselves agree
    estimate = class_estimates(f, linear, y, k, bootstrap_draws(n, rng, 20))
    assert estimate.information == pytest.approx(information, abs=1e-12)
    assert estimate.mu == pytest.approx(mu, abs=1e-12)
    assert estimate.mu == pytest.approx(mu_other_side, abs=1e-12)
    assert information > 0.1 and abs(mu) > 0.01  # not a degenerate case


def test_class_estimates_agree_with_the_generic_estimators():
    """The vectorised k x k x k path equals the np.unique-based plug-in estimators, also with
    classes that never occur (few points for the k^3 cells)."""
    from earlylin.core.information import bootstrap_draws, class_estimates

    rng = np.random.default_rng(12)
    for _ in range(30):
        k = int(rng.integers(2, 9))
        n = int(rng.integers(1, 80))
        f, linear, y = (rng.integers(0, int(rng.integers(1, k + 1)), size=n) for _ in range(3))
        estimate = class_estimates(f, linear, y, k, bootstrap_draws(n, rng, 5))
        assert estimate.information == pytest.approx(mutual_information(f, y), abs=1e-12)
        assert estimate.mu == pytest.approx(performance_correlation(f, linear, y), abs=1e-12)


def test_the_class_bootstrap_equals_a_loop_over_resamples():
    """Each resample's table is the table of the resampled points: the percentile interval
    equals that of the generic estimators applied to every resample in turn."""
    from earlylin.core.information import bootstrap_draws, class_estimates

    rng = np.random.default_rng(13)
    n, k = 150, 4
    f, linear, y = _class_triple(rng, n, k)
    draws = bootstrap_draws(n, rng, 40)
    estimate = class_estimates(f, linear, y, k, draws, level=0.8)
    mus = [performance_correlation(f[d], linear[d], y[d]) for d in draws]
    informations = [mutual_information(f[d], y[d]) for d in draws]
    assert estimate.mu_interval == pytest.approx(tuple(np.percentile(mus, [10, 90])), abs=1e-12)
    assert estimate.information_interval == pytest.approx(tuple(np.percentile(informations, [10, 90])), abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_two_classes_equal_the_binary_estimates(seed):
    """k = 2: class 1 <-> +1 gives the very same table as ``binary_estimates`` (so the same
    numbers); the other numbering, class 0 <-> +1, relabels every variable and leaves mu, the
    information and their bootstrap intervals unchanged."""
    from earlylin.core.information import binary_estimates, bootstrap_draws, class_estimates

    rng = np.random.default_rng(seed)
    n = 300
    f, linear, y = _class_triple(rng, n, 2)
    draws = bootstrap_draws(n, rng, 100)
    classes = class_estimates(f, linear, y, 2, draws)
    same = binary_estimates(*(np.where(v == 1, 1.0, -1.0) for v in (f, linear, y)), draws)
    assert classes == same
    flipped = binary_estimates(*(np.where(v == 0, 1.0, -1.0) for v in (f, linear, y)), draws)
    assert classes.mu == pytest.approx(flipped.mu, abs=1e-12)
    assert classes.information == pytest.approx(flipped.information, abs=1e-12)
    assert classes.mu_interval == pytest.approx(flipped.mu_interval, abs=1e-12)
    assert classes.information_interval == pytest.approx(flipped.information_interval, abs=1e-12)
    assert classes.information > 0.05


@pytest.mark.parametrize("k", [2, 3, 7])
def test_limiting_cases_of_k_classes(k):
    """F = L: mu = I(F; Y). F independent of (L, Y) by construction (every F class paired with
    every (L, Y) pair, with frequencies a_f * m_ly): mu = I(F; Y) = 0. F = Y with k equally
    frequent classes: I(F; Y) = log2(k), and mu = log2(k) with L = Y, mu = 0 with L constant
    (the step-0 prediction of class 0 everywhere)."""
    from earlylin.core.information import bootstrap_draws, class_estimates

    rng = np.random.default_rng(k)
    f, linear, y = _class_triple(rng, 500, k)
    same = class_estimates(linear, linear, y, k, bootstrap_draws(500, rng, 10))
    assert same.mu == pytest.approx(same.information, abs=1e-12)
    assert same.information == pytest.approx(mutual_information(linear, y), abs=1e-12) and same.information > 0.1

    pairs = [(l_, y_) for l_ in range(k) for y_ in range(k) for _ in range(1 + (l_ == y_) + 2 * (l_ == 0))]
    rows = [(f_, l_, y_) for f_ in range(k) for _ in range(f_ + 1) for l_, y_ in pairs]
    f, linear, y = (np.array(column) for column in zip(*rows))
    independent = class_estimates(f, linear, y, k, bootstrap_draws(len(y), rng, 10))
    assert mutual_information(linear, y) > 0.01  # L and Y themselves dependent
    assert independent.mu == pytest.approx(0.0, abs=1e-12)
    assert independent.information == pytest.approx(0.0, abs=1e-12)

    y = np.repeat(np.arange(k), 5)
    draws = bootstrap_draws(len(y), rng, 10)
    assert class_estimates(y, y, y, k, draws).information == pytest.approx(np.log2(k), abs=1e-12)
    assert class_estimates(y, y, y, k, draws).mu == pytest.approx(np.log2(k), abs=1e-12)
    constant = np.zeros_like(y)
    assert class_estimates(y, constant, y, k, draws).mu == pytest.approx(0.0, abs=1e-12)
    assert class_estimates(constant, constant, y, k, draws).information == pytest.approx(0.0, abs=1e-12)


def test_the_class_bootstrap_interval_holds_the_estimate_and_the_identity_draw_reproduces_it():
    from earlylin.core.information import bootstrap_draws, class_estimates

    rng = np.random.default_rng(14)
    n, k = 5000, 4
    f, linear, y = _class_triple(rng, n, k)
    estimate = class_estimates(f, linear, y, k, bootstrap_draws(n, rng, 200))
    assert estimate.mu_interval[0] <= estimate.mu <= estimate.mu_interval[1]
    assert estimate.information_interval[0] <= estimate.information <= estimate.information_interval[1]
    assert estimate.mu_interval[0] < estimate.mu_interval[1]  # a real spread, not a single value
    for draw in (np.arange(n), rng.permutation(n)):  # resamples holding every point once
        exact = class_estimates(f, linear, y, k, draw[None, :])
        assert exact.mu_interval == (estimate.mu, estimate.mu)
        assert exact.information_interval == (estimate.information, estimate.information)


def test_predicted_classes_take_the_first_of_tied_maxima():
    from earlylin.core.information import predicted_classes

    outputs = np.array([[[0.0, 0.0, 0.0], [0.1, 0.5, 0.5], [-1.0, -2.0, 3.0], [2.0, 1.0, 2.0]]])
    np.testing.assert_array_equal(predicted_classes(outputs), [[0, 1, 2, 0]])
    assert predicted_classes(np.zeros((3, 7, 5))).shape == (3, 7)
    assert not predicted_classes(np.zeros((3, 7, 5))).any()


def test_class_metric_rows_hand_computed_case():
    from earlylin.core.information import bootstrap_draws, class_estimates, class_metric_rows

    k = 3
    y = np.array([0, 1, 2, 0, 1, 2])

    def one_hot(classes):
        return np.eye(k)[classes]

    network = np.stack([np.zeros((6, k)), one_hot([0, 1, 2, 0, 2, 1])])
    network[1, 0] = [0.4, 0.4, -1.0]  # a tie between classes 0 and 1: class 0
    linear = np.stack([np.zeros((6, k)), 0.5 * one_hot([0, 1, 1, 0, 1, 0])])
    other = np.stack([np.zeros((6, k)), one_hot([2, 2, 2, 2, 2, 2])])
    outputs = {"network": network, "linear": linear, "other": other}
    table = pd.DataFrame(class_metric_rows(np.array([0, 10]), outputs, y, k, np.random.default_rng(7), resamples=50))

    expected_keys = {
        ("network", "", "accuracy"),
        ("linear", "", "accuracy"),
        ("other", "", "accuracy"),
        ("network", "linear", "class_agreement"),
        ("network", "other", "class_agreement"),
        ("network", "", "information"),
        ("linear", "", "information"),
        ("other", "", "information"),
        ("network", "linear", "performance_correlation"),
    }
    assert len(table) == 2 * len(expected_keys)
    for step in (0, 10):
        at = table[table.step == step]
        assert set(zip(at.model, at.other, at.metric)) == expected_keys

    def row(step, model, metric, other=""):
        match = table[(table.step == step) & (table.model == model) & (table.metric == metric) & (table.other == other)]
        assert len(match) == 1
        return match.iloc[0]

    # step 0: every model predicts class 0: accuracy 2/6, full agreement, no information
    for model in outputs:
        assert row(0, model, "accuracy")["value"] == pytest.approx(2 / 6)
        assert row(0, model, "information")["value"] == pytest.approx(0.0, abs=1e-12)
    assert row(0, "network", "class_agreement", "linear")["value"] == 1.0
    assert row(0, "network", "performance_correlation", "linear")["value"] == pytest.approx(0.0, abs=1e-12)
    # step 10: network 0 1 2 0 2 1, linear 0 1 1 0 1 0, other 2 2 2 2 2 2 against y 0 1 2 0 1 2
    assert row(10, "network", "accuracy")["value"] == pytest.approx(4 / 6)
    assert row(10, "linear", "accuracy")["value"] == pytest.approx(4 / 6)
    assert row(10, "other", "accuracy")["value"] == pytest.approx(2 / 6)
    assert row(10, "network", "class_agreement", "linear")["value"] == pytest.approx(3 / 6)
    assert row(10, "network", "class_agreement", "other")["value"] == pytest.approx(2 / 6)
    assert np.isnan(row(10, "network", "accuracy")["low"])
    # the reference's rows are class_estimates on the same resamples
    draws = bootstrap_draws(6, np.random.default_rng(7), 50)
    direct = class_estimates(np.array([0, 1, 2, 0, 2, 1]), np.array([0, 1, 1, 0, 1, 0]), y, k, draws)
    mu = row(10, "network", "performance_correlation", "linear")
    assert (mu["value"], mu["low"], mu["high"]) == (direct.mu, *direct.mu_interval)
    information = row(10, "network", "information")
    assert (information["value"], information["low"], information["high"]) == (
        direct.information,
        *direct.information_interval,
    )
    assert information["value"] == pytest.approx(mutual_information([0, 1, 2, 0, 2, 1], y), abs=1e-12)
    assert row(10, "other", "information")["value"] == pytest.approx(0.0, abs=1e-12)


def test_class_metric_rows_with_two_classes_equal_the_sign_rows():
    """Outputs (0, o) for two classes predict class 1 exactly where o > 0 (ties: class 0, as
    the sign -1 at o = 0), so with labels [y > 0] every row equals ``sign_metric_rows``."""
    from earlylin.core.information import class_metric_rows, sign_metric_rows

    rng = np.random.default_rng(15)
    n = 200
    y = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    signed = {
        "network": np.stack([np.zeros(n), np.where(rng.random(n) < 0.9, y, -y) * rng.random(n)]),
        "linear": np.stack([np.zeros(n), np.where(rng.random(n) < 0.75, y, -y)]),
    }
    two_class = {name: np.stack([np.zeros_like(values), values], axis=-1) for name, values in signed.items()}
    steps = np.array([0, 5])
    signs = pd.DataFrame(sign_metric_rows(steps, signed, y, np.random.default_rng(3), resamples=80))
    classes = pd.DataFrame(class_metric_rows(steps, two_class, (y > 0).astype(int), 2, np.random.default_rng(3), 80))
    assert list(classes.metric.replace("class_agreement", "sign_agreement")) == list(signs.metric)
    for column in ("step", "model", "other"):
        assert list(classes[column]) == list(signs[column])
    for column in ("value", "low", "high"):
        np.testing.assert_array_equal(classes[column].to_numpy(), signs[column].to_numpy())


@pytest.mark.parametrize(
    ("labels", "k", "message"),
    [
        (([0, 1, 3], [0, 1, 2], [0, 1, 2]), 3, r"f has labels outside 0\.\.2"),
        (([0, 1, 2], [0, -1, 2], [0, 1, 2]), 3, r"linear has labels outside 0\.\.2"),
        (([0, 1, 2], [0, 1, 2], [0, 1, 5]), 3, r"y has labels outside 0\.\.2"),
        (([0, 1, 2], [0, 1], [0, 1, 2]), 3, "of one length"),
        (([[0, 1]], [[0, 1]], [[0, 1]]), 3, "1-D label vectors"),
        (([0, 0.5, 1], [0, 1, 1], [0, 1, 1]), 3, "f must hold integer class labels"),
        (([], [], []), 3, "at least one test point"),
        (([0, 0, 0], [0, 0, 0], [0, 0, 0]), 1, "number of classes k must be an integer >= 2"),
        (([0, 0, 0], [0, 0, 0], [0, 0, 0]), 2.0, "number of classes k must be an integer >= 2"),
    ],
)
def test_bad_class_labels_are_refused(labels, k, message):
    from earlylin.core.information import class_estimates

    draws = np.zeros((1, 3), dtype=int)
    with pytest.raises(ValueError, match=message):
        class_estimates(*(np.array(v) for v in labels), k, draws)


def test_class_metric_rows_refuse_outputs_of_the_wrong_shape():
    from earlylin.core.information import class_metric_rows

    y = np.array([0, 1, 2, 0])
    good = np.zeros((2, 4, 3))
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"outputs\['linear'\] must have shape \(2 steps, 4 points, k = 3\)"):
        class_metric_rows(np.array([0, 1]), {"network": good, "linear": np.zeros((2, 4, 2))}, y, 3, rng)
    with pytest.raises(ValueError, match="y has labels outside"):
        class_metric_rows(np.array([0, 1]), {"network": good, "linear": good}, np.array([0, 1, 3, 0]), 3, rng)
