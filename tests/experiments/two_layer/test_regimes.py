"""The three regimes of the theory (Theorems 3.2, 3.5, D.1): each regime's linear model,
its kernel against the expected NTK block, and the grid's agreement horizons."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from earlylin.core.activations import gaussian_moments, get_activation
from earlylin.core.metrics import agreement_horizon, logged_steps, relative_mse
from earlylin.core.seeds import rng_stream
from earlylin.data.synthetic import norm_target_dataset, synthetic_dataset
from earlylin.experiments.two_layer.comparisons import agreement_horizons, regime_summary
from earlylin.experiments.two_layer.experiments import fit_linear_model, train_network
from earlylin.experiments.two_layer.kernels import LINEAR_FEATURES, diagonal_gap, empirical_ntk_blocks
from earlylin.experiments.two_layer.networks import symmetric_init
from earlylin.experiments.two_layer.regimes import REGIMES
from earlylin.experiments.two_layer.surrogates import gd_features, linear_gd_closed_form, psi, psi1, psi2

# The block of the NTK that each regime's GD follows, and the surrogate its theorem names.


def expected_ntk_blocks(name: str, X: np.ndarray) -> dict[str, np.ndarray]:
    """E_W[Theta1(W)], E_W[Theta2(W)] over w ~ N(0, I_d), in closed form.

    With u = w.x/sqrt(d), u' = w.x'/sqrt(d): Var u = a = ||x||^2/d, Var u' = b, Cov = c =
    x.x'/d. erf (Williams 1997): E[erf u erf u'] = (2/pi) asin(2c / sqrt((1+2a)(1+2b))),
    E[erf' u erf' u'] = (4/pi) / sqrt((1+2a)(1+2b) - 4c^2). ReLU (arc-cosine kernels, Cho &
    Saul 2009), t = arccos(c / sqrt(ab)): E[1{u>0} 1{u'>0}] = (pi - t) / (2 pi),
    E[relu u relu u'] = sqrt(ab) (sin t + (pi - t) cos t) / (2 pi).
    """
    d = X.shape[1]
    c = X @ X.T / d
    a = np.diag(c)[:, None]
    b = np.diag(c)[None, :]
    if name == "erf":
        first = (4 / math.pi) / np.sqrt((1 + 2 * a) * (1 + 2 * b) - 4 * c**2)
        second = (2 / math.pi) * np.arcsin(2 * c / np.sqrt((1 + 2 * a) * (1 + 2 * b)))
    elif name == "relu":
        cos = np.clip(c / np.sqrt(a * b), -1.0, 1.0)
        t = np.arccos(cos)
        first = (math.pi - t) / (2 * math.pi)
        second = np.sqrt(a * b) * (np.sin(t) + (math.pi - t) * cos) / (2 * math.pi)
    else:
        raise ValueError(name)
    theta1 = first * c  # v_r^2 = 1 under the symmetric init
    return {"theta1": theta1, "theta2": second, "theta": theta1 + second}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["erf", "relu"])
def test_monte_carlo_mean_of_empirical_ntk_is_its_expectation(name):
    """Average of Theta1(W(0)), Theta2(W(0)) over independent symmetric inits = the closed
    form. Tolerance: 5 standard errors of the mean, estimated per entry from the spread
    over inits (78 entries per block: a false alarm has probability ~1e-4)."""
    act = get_activation(name)
    n, d, m, inits = 12, 30, 64, 400
    X = rng_stream(0, "mc-inputs").standard_normal((n, d))
    Xt = torch.as_tensor(X)
    samples = {"theta1": [], "theta2": []}
    for k in range(inits):
        W, v = symmetric_init(m, d, rng_stream(k, "mc-init"))
        t1, t2 = empirical_ntk_blocks(Xt, torch.as_tensor(W), torch.as_tensor(v), act)
        samples["theta1"].append(t1.numpy())
        samples["theta2"].append(t2.numpy())
    exact = expected_ntk_blocks(name, X)
    upper = np.triu_indices(n)
    for block, draws in samples.items():
        draws = np.stack(draws)
        mean, se = draws.mean(0), draws.std(0, ddof=1) / math.sqrt(inits)
        z = ((mean - exact[block]) / se)[upper]
        assert np.abs(z).max() < 5, (block, np.abs(z).max())
        # The check has power: one init's error is ~sqrt(inits) = 20 standard errors.
        assert np.abs(draws[0] - exact[block])[upper].max() > 5 * se[upper].max()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["erf", "relu"])
@pytest.mark.parametrize("regime", list(REGIMES))
def test_regime_surrogate_kernel_is_expected_ntk_block_to_leading_order(name, regime):
    """Each theorem's linear kernel (psi1: Thm 3.2, psi2: Thm 3.5, psi: Thm D.1) plus the
    diagonal gap c I equals the expected NTK block up to a relative spectral error that
    vanishes as d grows at fixed n (the neglected terms are O(d^-1/2) relative).

    Measured (n = 40): erf 0.061 / 0.098 / 0.079 at d = 100 -> 0.008 / 0.021 / 0.014 at
    d = 6400 (theta1 / theta2 / theta); relu 0.18 / 0.007 / 0.024 -> 0.037 / 0.0006 / 0.002.
    The bound asks for a fall by 3 over a 64-fold d (d^-1/2 gives 8; relu's theta1 falls
    like d^-0.4 here) and for under 5% at d = 6400."""
    act = get_activation(name)
    moments = gaussian_moments(act)
    kernel = REGIMES[regime].kernel
    errors = []
    for d in (100, 6400):
        X = rng_stream(1, "surrogate-inputs", d).standard_normal((40, d))
        surrogate = LINEAR_FEATURES[kernel](X, moments)
        K_lin = surrogate @ surrogate.T + diagonal_gap(kernel, act, moments) * np.eye(40)
        exact = expected_ntk_blocks(name, X)[kernel]
        errors.append(np.linalg.norm(exact - K_lin, 2) / np.linalg.norm(exact, 2))
    assert errors[1] < errors[0] / 3, errors
    assert errors[1] < 0.05, errors


def test_norm_terms_of_the_surrogate_are_needed_for_relu():
    """Dropping theta1 (the naive model of Figure 2) leaves an error in the second-layer
    kernel that does not vanish with d: here 10x or more the full surrogate's."""
    act = get_activation("relu")
    moments = gaussian_moments(act)
    X = rng_stream(1, "surrogate-inputs", 6400).standard_normal((40, 6400))
    exact = expected_ntk_blocks("relu", X)["theta2"] - diagonal_gap("theta2", act, moments) * np.eye(40)
    full, naive = psi2(X, moments), psi2(X, moments, naive=True)
    err_full = np.linalg.norm(exact - full @ full.T, 2)
    err_naive = np.linalg.norm(exact - naive @ naive.T, 2)
    assert err_naive > 10 * err_full


@pytest.mark.parametrize("regime", list(REGIMES))
def test_each_regime_trains_the_linear_model_its_theorem_names(rng, regime):
    """gd_features under a regime's learning rates has Gram lr * Theta_lin of that regime's
    surrogate: psi1 (eta2 = 0), psi2 (eta1 = 0), psi (eta1 = eta2)."""
    moments = gaussian_moments(get_activation("softplus"))
    X = rng.standard_normal((30, 8))
    lr = 0.3
    features = gd_features(X, moments, *REGIMES[regime].learning_rates(lr))
    named = {"first": psi1, "second": psi2, "both": psi}[regime](X, moments)
    np.testing.assert_allclose(features @ features.T, lr * named @ named.T, rtol=1e-12, atol=1e-14)
    assert LINEAR_FEATURES[REGIMES[regime].kernel] is {"first": psi1, "second": psi2, "both": psi}[regime]


def test_second_layer_only_network_is_gd_on_its_random_features():
    """With eta1 = 0 the network is linear in v: its outputs equal closed-form GD on the
    random features phi(X W^T / sqrt(d)) / sqrt(m) started at the symmetric init's v."""
    data = norm_target_dataset(d=6, n_train=80, n_test=15, seed=3)
    steps = [0, 1, 5, 40]
    width, lr = 16, 0.7
    _, outputs = train_network(
        data,
        activation="tanh",
        width=width,
        lr_first=0.0,
        lr_second=lr,
        steps=steps,
        seed=4,
        dtype="float64",
        device="cpu",
        progress=False,
    )
    W, v0 = symmetric_init(width, 6, rng_stream(4, "symmetric-init", 6, width))
    act = get_activation("tanh")
    feats = lambda X: act(torch.as_tensor(X @ W.T / math.sqrt(6))).numpy() / math.sqrt(width)  # noqa: E731
    # f(x) = v^T F(x) with f_0 = 0 for every input: GD on (v - v0) from zero.
    delta = linear_gd_closed_form(feats(data.X_train), data.y_train, steps, lr)
    expected = (delta + v0) @ feats(data.X_test).T
    got = outputs.pivot(index="step", columns="sample", values="output").to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_relative_mse_and_agreement_horizon():
    f = np.array([[0.0, 0.0], [1.0, -1.0], [2.0, 2.0], [3.0, -3.0]])
    g = np.array([[0.0, 0.0], [1.1, -1.0], [2.0, 1.0], [3.0, -3.0]])
    rel = relative_mse(f, g)
    assert np.isnan(rel[0])  # f = 0: undefined, never counted
    np.testing.assert_allclose(rel[1:], [0.005, 0.125, 0.0])
    steps = np.array([0, 1, 3, 10])
    assert agreement_horizon(steps, rel, 0.1) == 3
    assert agreement_horizon(steps, rel, 0.001) == 1
    assert agreement_horizon(steps, rel, 0.2) is None


def test_regime_summary_table():
    rows = []
    for activation, regime, values in (("erf", "first", [0.01, 0.02, 0.3]), ("relu", "second", [0.01, 0.02, 0.03])):
        for step, value in zip([1, 10, 100], values):
            for metric, metric_value in (("relative_mse", value), ("output_mse", 99.0)):
                rows.append(
                    dict(
                        activation=activation,
                        regime=regime,
                        seed=0,
                        model="linear",
                        step=step,
                        metric=metric,
                        value=metric_value,
                    )
                )
    table = regime_summary(pd.DataFrame(rows), 0.1, {"first": 0.5, "second": 0.25, "both": 1.0})
    first = table.query("regime == 'first'").iloc[0]
    second = table.query("regime == 'second'").iloc[0]
    assert first["horizon"] == 100 and first["reached"]
    assert np.isnan(second["horizon"]) and not second["reached"] and second["last_step"] == 100
    assert (first["lr_first"], first["lr_second"]) == (0.5, 0.0)
    assert (second["lr_first"], second["lr_second"]) == (0.0, 0.25)
    assert first["theorem"] == "Theorem 3.2" and second["theorem"] == "Theorem 3.5"
    assert second["relative_mse_first"] == 0.01 and second["relative_mse_last"] == 0.03
    with pytest.raises(KeyError):
        agreement_horizons(pd.DataFrame(rows), 0.1, ["no_such_column"])


def test_norm_target_dataset():
    data = norm_target_dataset(d=9, n_train=50, n_test=10, seed=1)
    a = rng_stream(1, "norm-target-direction", 9).standard_normal(9)
    a /= np.linalg.norm(a)
    X = np.vstack([data.X_train, data.X_test])
    y = np.concatenate([data.y_train, data.y_test])
    brute = [math.sqrt(sum(v * v for v in x)) / 3.0 + max(float(np.dot(a, x)), 0.0) for x in X]
    np.testing.assert_allclose(y, brute, rtol=1e-13)
    again = synthetic_dataset("norm", 9, 50, 10, seed=1)
    np.testing.assert_array_equal(again.y_train, data.y_train)
    with pytest.raises(ValueError, match="allowed values: teacher, norm"):
        synthetic_dataset("sphere", 9, 50, 10, seed=1)


@pytest.mark.slow
def test_fig2_naive_model_misses_the_norm_and_tracks_the_network_worse():
    """Figure 2's claim at small size: on the norm-dependent target, f_lin stays closer to
    a ReLU network than the naive linear model does. Measured: the naive model's relative
    discrepancy is 6.5x f_lin's at step 1, rising to 15x by step 200; asked: > 3x."""
    data = norm_target_dataset(d=20, n_train=800, n_test=300, seed=0)
    steps = logged_steps(200, 4)
    common = dict(activation="relu", lr_first=0.5, lr_second=0.5, steps=steps)
    _, net = train_network(data, width=1024, seed=0, dtype="float32", device="cpu", progress=False, **common)
    _, lin = fit_linear_model(data, **common)
    _, naive = fit_linear_model(data, naive=True, model="naive", **common)
    f_net, f_lin, f_naive = (
        o.pivot(index="step", columns="sample", values="output").to_numpy()[1:] for o in (net, lin, naive)
    )
    ratio = relative_mse(f_net, f_naive) / relative_mse(f_net, f_lin)
    assert (ratio > 3).all(), ratio
