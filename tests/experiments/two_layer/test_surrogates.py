import math

import numpy as np
import pytest

from earlylin.core.activations import ACTIVATION_NAMES, gaussian_moments, get_activation
from earlylin.data.synthetic import teacher_dataset
from earlylin.experiments.two_layer.experiments import fit_linear_model
from earlylin.experiments.two_layer.kernels import linear_kernels
from earlylin.experiments.two_layer.regimes import REGIMES
from earlylin.experiments.two_layer.surrogates import (
    LinearGDDivergenceError,
    _geometric_sums,
    gd_features,
    linear_gd_closed_form,
    linear_gd_iterate,
    norm_feature,
    psi,
    psi1,
    psi2,
)


def _data(rng, n=60, d=7):
    X = rng.standard_normal((n, d))
    y = np.sign(rng.standard_normal(n))
    return X, y


@pytest.mark.parametrize("name", ["erf", "relu", "softplus", "gelu"])
def test_linear_kernels_match_eq20(rng, name):
    """Psi Psi^T equals the kernels written out in eq. 20."""
    m = gaussian_moments(get_activation(name))
    X, _ = _data(rng)
    n, d = X.shape
    s = np.linalg.norm(X, axis=1) / math.sqrt(d) - 1
    q = m.theta0 + m.theta1 * s + m.theta2 * s**2
    XX = X @ X.T / d
    ones = np.ones((n, n))
    expected = {
        "theta1": m.zeta**2 * XX + m.nu**2 * ones / d,
        "theta2": m.zeta**2 * XX + np.outer(q, q),
        "theta": 2 * m.zeta**2 * XX + m.nu**2 * ones / d + np.outer(q, q),
    }
    got = linear_kernels(X, m)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("lrs", [(0.7, 0.7), (0.3, 0.0), (0.0, 1.2), (0.2, 0.9)])
def test_gd_features_kernel_is_lr_weighted_sum(rng, lrs):
    m = gaussian_moments(get_activation("softplus"))
    X, _ = _data(rng)
    F = gd_features(X, m, *lrs)
    lin = linear_kernels(X, m)
    np.testing.assert_allclose(F @ F.T, lrs[0] * lin["theta1"] + lrs[1] * lin["theta2"], rtol=1e-12, atol=1e-12)


def test_gd_features_reduce_to_paper_maps(rng):
    m = gaussian_moments(get_activation("relu"))
    X, _ = _data(rng)
    eta = 0.4
    np.testing.assert_allclose(gd_features(X, m, eta, eta), math.sqrt(eta) * psi(X, m), atol=1e-14)
    np.testing.assert_allclose(gd_features(X, m, eta, 0)[:, :-1], math.sqrt(eta) * psi1(X, m), atol=1e-14)
    F2 = gd_features(X, m, 0, eta)
    np.testing.assert_allclose(F2[:, [*range(X.shape[1]), -1]], math.sqrt(eta) * psi2(X, m), atol=1e-14)


def test_naive_model_drops_norm_terms(rng):
    m = gaussian_moments(get_activation("relu"))
    X, _ = _data(rng)
    np.testing.assert_allclose(norm_feature(X, m, naive=True), m.theta0)
    assert not np.allclose(norm_feature(X, m), m.theta0)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@pytest.mark.parametrize("fraction", [0.05, 0.9, 1.5])
def test_closed_form_equals_iteration(rng, name, fraction):
    """Claim C.1: closed-form GD equals step-by-step GD to 1e-10 in float64."""
    m = gaussian_moments(get_activation(name, 0.1))
    X, y = _data(rng)
    F1 = gd_features(X, m, 1.0, 1.0)
    lr = fraction / np.linalg.eigvalsh(F1.T @ F1 / len(y)).max()  # lr * lambda_max = fraction
    F = gd_features(X, m, lr, lr)
    steps = [0, 1, 2, 3, 7, 20, 55, 150, 400, 1000]
    closed = linear_gd_closed_form(F, y, steps)
    iterated = linear_gd_iterate(F, y, steps)
    np.testing.assert_allclose(closed, iterated, rtol=0, atol=1e-10)
    np.testing.assert_allclose(closed[0], 0.0)


def test_closed_form_with_explicit_lr_equals_iteration(rng):
    X, y = _data(rng)
    F = psi(X, gaussian_moments(get_activation("erf")))
    steps = np.arange(0, 300, 13)
    np.testing.assert_allclose(
        linear_gd_closed_form(F, y, steps, lr=2.5), linear_gd_iterate(F, y, steps, lr=2.5), atol=1e-10
    )


def test_closed_form_oscillating_regime_equals_iteration(rng):
    """lr * lambda in (1, 2): (1 - mu)^t alternates in sign; still exact."""
    X, y = _data(rng)
    F = psi(X, gaussian_moments(get_activation("relu")))
    lam_max = np.linalg.eigvalsh(F.T @ F / len(y)).max()
    lr = 1.8 / lam_max
    steps = [0, 1, 2, 5, 33, 200]
    np.testing.assert_allclose(
        linear_gd_closed_form(F, y, steps, lr=lr), linear_gd_iterate(F, y, steps, lr=lr), atol=1e-10
    )


def test_closed_form_rejects_divergent_lr(rng):
    X, y = _data(rng)
    F = psi(X, gaussian_moments(get_activation("relu")))
    lam_max = np.linalg.eigvalsh(F.T @ F / len(y)).max()
    lr = 2.01 / lam_max
    with pytest.raises(
        LinearGDDivergenceError, match=f"learning rate {lr:g} times .* diverges; lower the lr below"
    ) as info:
        linear_gd_closed_form(F, y, [0, 10], lr=lr)
    assert isinstance(info.value, ValueError)
    assert info.value.lr == lr and info.value.mu == pytest.approx(2.01)
    assert lr * info.value.max_lr_factor == pytest.approx(2 / lam_max)


def _top_kernel_eigenvalue(data, activation, lr_first, lr_second):
    F = gd_features(data.X_train, gaussian_moments(get_activation(activation)), lr_first, lr_second)
    return np.linalg.eigvalsh(F.T @ F / len(data.y_train)).max()


@pytest.mark.parametrize("regime", ["first", "second", "both"])
def test_linear_model_divergence_names_the_configured_learning_rates(regime):
    """fit_linear_model folds (eta1, eta2) into the features and runs GD at unit lr; its
    divergence message must give the configured rates, not 'learning rate 1'."""
    data = teacher_dataset(d=5, n_train=60, n_test=10, teacher_width=2, seed=0)
    unit = _top_kernel_eigenvalue(data, "erf", *REGIMES[regime].learning_rates(1.0))
    lr = 3.0 / unit  # mu = 3 >= 2
    eta1, eta2 = REGIMES[regime].learning_rates(lr)
    with pytest.raises(LinearGDDivergenceError) as info:
        fit_linear_model(data, activation="erf", lr_first=eta1, lr_second=eta2, steps=[0, 1, 10], model="naive")
    message = str(info.value)
    assert (
        f"the naive model diverges under gradient descent with learning rates eta1 = {eta1:g}, eta2 = {eta2:g}"
        in message
    )
    assert "learning rate 1.0" not in message and "learning rate 1 " not in message
    assert "Lower the learning rate in the config (fig1.lr, fig2.lr or regimes.lr.<regime>" in message
    assert "by more than a factor 1.5" in message
    safe = lr * 2.0 / 3.0
    if eta1:
        assert f"eta1 (first layer) < {safe:.4g}" in message
    if eta2:
        assert f"eta2 (second layer) < {safe:.4g}" in message
    # just below the bound the linear model trains
    ok1, ok2 = REGIMES[regime].learning_rates(0.99 * safe)
    fit_linear_model(data, activation="erf", lr_first=ok1, lr_second=ok2, steps=[0, 1, 10])


def test_geometric_sums_tiny_and_zero_rates():
    steps = np.array([0, 1, 10, 10**6])
    mu = np.array([0.0, 1e-15, 1e-9, 0.3, 1.5])
    got = _geometric_sums(mu, steps)
    for j, m in enumerate(mu):
        for i, t in enumerate(steps):
            if m == 0:
                want = t
            else:
                # exact sum of (1 - m)^s for s < t, in extended precision via log1p
                want = -math.expm1(t * math.log1p(-m)) / m if m < 1 else (1 - (1 - m) ** t) / m
            assert got[i, j] == pytest.approx(want, rel=1e-12, abs=1e-12)
