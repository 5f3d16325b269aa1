"""The theorems' time and width scales: horizons, T_lin, the linear optimum and the fits,
each against an independent computation or a hand-made curve."""

import math

import numpy as np
import pandas as pd
import pytest
from scale_tables import hand_made_horizons

from earlylin.core.activations import gaussian_moments, get_activation
from earlylin.core.metrics import logged_steps, relative_mse
from earlylin.core.tables import outputs_matrix
from earlylin.data.synthetic import teacher_dataset
from earlylin.experiments.scales import convergence, runs, sizes, slopes
from earlylin.experiments.two_layer.experiments import fit_linear_model, train_network
from earlylin.experiments.two_layer.surrogates import gd_features, linear_gd_iterate


def test_scaled_size_and_window():
    assert sizes.scaled_size(32, 4, 0.2) == 2 * round(4 * 32**1.2 / 2) == 256
    assert sizes.scaled_size(1, 0.1, 0.2) == 2  # at least one symmetric pair
    assert all(sizes.scaled_size(d, 3.3, 0.17) % 2 == 0 for d in range(1, 200))
    assert sizes.theorem_time(50, 0.5) == pytest.approx(50 * math.log(50) / 0.5)
    assert sizes.horizon_max_step(50, 0.5, 16) == math.ceil(16 * 50 * math.log(50) / 0.5)
    with pytest.raises(ValueError):
        sizes.scaled_size(0, 4, 0.2)


def _curves(steps, train, test):
    frames = [
        pd.DataFrame({"step": steps, "split": split, "metric": "relative_mse", "value": values})
        for split, values in (("train", train), ("test", test))
    ]
    return pd.concat(frames, ignore_index=True)


def test_threshold_horizons_on_hand_made_curves():
    steps = np.array([0, 1, 2, 5, 10, 20, 50, 100])
    train = np.array([np.nan, 0.05, 0.04, 0.03, 0.08, 0.12, 0.25, 0.3])
    test = np.array([np.nan, 0.15, 0.05, 0.04, 0.04, 0.05, 0.06, 0.07])
    rows = runs.threshold_horizons(_curves(steps, train, test), [0.1, 0.2]).set_index(["split", "threshold"])
    # train: first logged step above 0.1 is 20 (previous logged step 10); above 0.2 is 50.
    assert rows.loc[("train", 0.1), ["horizon", "horizon_lower"]].tolist() == [20, 10]
    assert rows.loc[("train", 0.2), ["horizon", "horizon_lower"]].tolist() == [50, 20]
    assert not rows.loc[("train", 0.1), "floor_limited"]
    # test: above 0.1 at step 1 already (the finite-width floor), never above 0.2.
    assert rows.loc[("test", 0.1), "horizon"] == 1 and rows.loc[("test", 0.1), "floor_limited"]
    assert np.isnan(rows.loc[("test", 0.2), "horizon"]) and not rows.loc[("test", 0.2), "reached"]
    assert rows.loc[("test", 0.2), "horizon_lower"] == rows.loc[("test", 0.2), "last_step"] == 100
    assert rows.loc[("test", 0.2), "relative_first"] == 0.15 and rows.loc[("test", 0.2), "relative_min"] == 0.04


def test_first_within_on_a_hand_made_loss_curve():
    steps = np.array([0, 1, 2, 4, 8, 16, 32])
    loss = np.array([1.0, 0.6, 0.3, 0.2025, 0.199, 0.2002, 0.2])
    assert convergence.first_within(steps, loss, 0.2, 0.01) == 8  # 0.2025 > 0.202, 0.199 <= 0.202
    assert convergence.first_within(steps, loss, 0.2, 0.02) == 4
    assert convergence.first_within(steps, loss, 0.1, 0.01) is None


@pytest.fixture(scope="module")
def linear_problem():
    """A small well-posed problem: relu features of a teacher data set (psi, eq. 11)."""
    data = teacher_dataset(d=12, n_train=150, n_test=400, teacher_width=3, seed=4)
    moments = gaussian_moments(get_activation("relu"))
    lr = 1.5
    return (
        gd_features(data.X_train, moments, lr, lr),
        data.y_train,
        gd_features(data.X_test, moments, lr, lr),
        data.y_test,
    )


def test_linear_optimum_is_min_norm_least_squares(linear_problem):
    F, y, F_test, y_test = linear_problem
    delta = convergence.linear_optimum(F, y)
    reference, *_ = np.linalg.lstsq(F, y, rcond=None)
    np.testing.assert_allclose(F_test @ delta, F_test @ reference, rtol=1e-8, atol=1e-10)
    assert convergence.linear_optimum_loss(F, y, F_test, y_test) == pytest.approx(
        0.5 * np.mean((F_test @ reference - y_test) ** 2), rel=1e-10
    )


def test_linear_optimum_rank_deficient_erf_features():
    """erf: nu = theta0..2 = 0, so two feature columns vanish; pinv ignores them."""
    data = teacher_dataset(d=8, n_train=60, n_test=50, teacher_width=3, seed=1)
    F = gd_features(data.X_train, gaussian_moments(get_activation("erf")), 1.0, 1.0)
    assert np.linalg.matrix_rank(F) == 8 < F.shape[1]
    np.testing.assert_allclose(
        convergence.linear_optimum(F, data.y_train), np.linalg.pinv(F) @ data.y_train, rtol=1e-8, atol=1e-12
    )


def test_linear_losses_match_gd_iteration(linear_problem):
    F, y, F_test, y_test = linear_problem
    steps = [0, 1, 7, 50]
    direct = 0.5 * np.mean((linear_gd_iterate(F, y, steps) @ F_test.T - y_test) ** 2, axis=1)
    np.testing.assert_allclose(convergence.linear_losses(F, y, F_test, y_test, steps), direct, rtol=1e-10)


@pytest.mark.parametrize("tol", [0.01, 0.05])
def test_convergence_step_equals_brute_force_gd(linear_problem, tol):
    """T_lin from the closed form = the first step of plain GD on the linear model whose
    test loss is within tol of the lstsq optimum (every integer step checked)."""
    F, y, F_test, y_test = linear_problem
    reference, *_ = np.linalg.lstsq(F, y, rcond=None)
    optimum = 0.5 * np.mean((F_test @ reference - y_test) ** 2)
    t_lin = convergence.convergence_step(F, y, F_test, y_test, tol, chunk=16)  # several chunks
    steps = np.arange(0, 2 * t_lin + 10)
    losses = 0.5 * np.mean((linear_gd_iterate(F, y, steps) @ F_test.T - y_test) ** 2, axis=1)
    brute = int(steps[np.argmax(losses <= (1 + tol) * optimum)])
    assert t_lin == brute > 1
    assert losses[t_lin - 1] > (1 + tol) * optimum


def test_convergence_step_limits():
    F = np.eye(3)
    with pytest.raises(ValueError, match="optimal loss"):  # n = p: the optimum interpolates
        convergence.convergence_step(F, np.ones(3), F, np.ones(3))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2)) * np.array([1.0, 1e-3])  # a direction GD barely moves in
    y = X @ np.array([1.0, 500.0]) + 0.1 * rng.standard_normal(40)
    with pytest.raises(ValueError, match="by step 100"):
        convergence.convergence_step(X, y, X, y, 0.01, max_step=100)


def test_horizon_slopes_recover_hand_made_scalings():
    horizons = hand_made_horizons([1.1, 0.9, 1.0])
    per_seed, summary = slopes.horizon_slopes(horizons)
    agree = summary[summary["quantity"] == "t_agree"].set_index("lr")
    assert set(agree["split"]) == {"train"}  # the test horizons were never reached: no fit
    np.testing.assert_allclose(agree["slope"], 1.0, atol=1e-12)
    np.testing.assert_allclose(agree["slope_sd"], np.std([1.1, 0.9, 1.0], ddof=1), rtol=1e-9)
    np.testing.assert_allclose(agree["intercept"], math.log(3), atol=1e-9)
    assert (agree["n_seeds"] == 3).all() and (agree["n_points"] == 5).all()
    lin = summary[summary["quantity"] == "t_lin"]
    np.testing.assert_allclose(lin["slope"], 1.0, atol=1e-12)
    np.testing.assert_allclose(lin["slope_sd"], 0.0, atol=1e-12)
    assert len(per_seed) == 2 * 3 * 2  # (t_agree, t_lin) x seeds x lrs


def test_horizon_slopes_skip_floor_limited_and_censored_points():
    horizons = hand_made_horizons([1.0])
    train = horizons["split"] == "train"
    horizons.loc[train & (horizons["d"] == 8), ["horizon", "floor_limited"]] = [1.0, True]
    horizons.loc[train & (horizons["d"] == 128), ["horizon", "reached"]] = [np.nan, False]
    _, summary = slopes.horizon_slopes(horizons)
    agree = summary[summary["quantity"] == "t_agree"]
    assert (agree["n_points"] == 3).all() and agree["slope"].tolist() == pytest.approx([1.0, 1.0])
    assert np.isnan(agree["slope_sd"]).all()  # one seed: no sd
    horizons.loc[train & (horizons["d"] == 64), ["horizon", "reached"]] = [np.nan, False]
    _, summary = slopes.horizon_slopes(horizons)  # two points left: fewer than min_points
    assert set(summary["quantity"]) == {"t_lin"}


def test_width_slopes_on_hand_made_table():
    rows = []
    for seed, power in enumerate((-1.0, -0.9)):
        for d in (16, 64):
            for m in (16, 32, 64, 128, 256, 512, 1024):
                for step in (1, 10):
                    # below m = d^1.2 the curve saturates: those widths must be left out
                    value = 0.9 if m < d**1.2 else 5.0 * m**power
                    rows.append(
                        dict(activation="erf", d=d, width=m, seed=seed, step=step, metric="relative_mse", value=value)
                    )
                    rows.append(
                        dict(activation="erf", d=d, width=m, seed=seed, step=step, metric="output_mse", value=1.0)
                    )
    per_seed, summary = slopes.width_slopes(pd.DataFrame(rows), alpha=0.2)
    np.testing.assert_allclose(per_seed.sort_values(["seed"])["slope"].to_numpy()[[0, -1]], [-1.0, -0.9])
    np.testing.assert_allclose(summary["slope"], -0.95)
    np.testing.assert_allclose(summary["slope_sd"], np.std([-1.0, -0.9], ddof=1))
    points = summary[summary["step"] == 1].set_index("d")["n_points"]
    assert points.loc[16] == 6 and points.loc[64] == 3  # widths >= 16^1.2 = 27.9, >= 64^1.2 = 147


@pytest.fixture(scope="module")
def small_horizon():
    data = teacher_dataset(d=10, n_train=80, n_test=60, teacher_width=3, seed=0)
    curves, horizons = runs.horizon_run(
        data,
        activation="relu",
        width=80,
        lr=1.0,
        max_step=300,
        steps_per_decade=25,
        thresholds=[0.05, 0.2],
        converged_tol=0.01,
        seed=0,
        dtype="float64",
        device="cpu",
        progress=False,
    )
    return data, curves, horizons


def test_horizon_run_tables(small_horizon):
    data, curves, horizons = small_horizon
    assert set(curves["metric"]) == {"relative_mse", "output_mse", "network_loss", "linear_loss"}
    assert set(curves["split"]) == {"train", "test"}
    steps = np.sort(curves["step"].unique())
    np.testing.assert_array_equal(steps, logged_steps(300, 25))
    # The crossing lies in (previous logged step, horizon]: located within 10%.
    assert (steps[2:] / (steps[1:-1] + 1)).max() < 1.1
    assert len(horizons) == 2 * 2
    assert (horizons["t_lin_grid"] >= horizons["t_lin"]).all()
    # both models start at f = 0: the loss at step 0 is (1/2) E y^2 = 1/2 on each split
    start = curves[(curves["step"] == 0) & curves["metric"].str.endswith("loss")]
    np.testing.assert_allclose(start["value"], 0.5)


def test_horizon_run_t_lin_and_verdict_columns(small_horizon):
    data, curves, horizons = small_horizon
    moments = gaussian_moments(get_activation("relu"))
    F = gd_features(data.X_train, moments, 1.0, 1.0)
    F_test = gd_features(data.X_test, moments, 1.0, 1.0)
    assert (horizons["t_lin"] == convergence.convergence_step(F, data.y_train, F_test, data.y_test, 0.01)).all()
    test_lin = curves.query("split == 'test' and metric == 'linear_loss'").set_index("step")["value"]
    np.testing.assert_allclose(
        test_lin.to_numpy(), convergence.linear_losses(F, data.y_train, F_test, data.y_test, test_lin.index), rtol=1e-9
    )
    beyond = horizons["horizon"].fillna(horizons["last_step"] + 1)
    assert (horizons["agree_ge_lin"] == (beyond >= horizons["t_lin"])).all()
    assert horizons["theorem_time"].iloc[0] == pytest.approx(10 * math.log(10))


def test_width_run_matches_direct_relative_mse():
    data = teacher_dataset(d=6, n_train=50, n_test=40, teacher_width=3, seed=3)
    table = runs.width_run(
        data, activation="erf", width=24, lr=1.0, steps=[1, 10], seed=2, dtype="float64", device="cpu", progress=False
    )
    assert sorted(table["step"].unique()) == [1, 10]
    common = dict(activation="erf", lr_first=1.0, lr_second=1.0, steps=[0, 1, 10])
    _, net = train_network(data, width=24, seed=2, dtype="float64", device="cpu", progress=False, **common)
    _, lin = fit_linear_model(data, **common)
    expected = relative_mse(outputs_matrix(net)[1], outputs_matrix(lin)[1])[1:]
    np.testing.assert_allclose(table.query("metric == 'relative_mse'")["value"], expected, rtol=1e-12)
