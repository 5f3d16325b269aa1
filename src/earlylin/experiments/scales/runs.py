"""One run of the theorems' time and width scales: a two-layer network (both layers trained,
eta1 = eta2) against its linear model f_lin (psi, eq. 11 / Theorem D.1).

* A horizon run (``fig_horizon``) trains for a window of d log d / eta steps and logs the
  relative discrepancy E(f - f_lin)^2 / E f^2 on the training data (the measure of eq. 7)
  and on test data (eq. 8); its agreement horizon T_agree per threshold is the first logged
  step above it (``metrics.horizon_summary``), and f_lin's convergence step T_lin is exact
  (``convergence``).
* A width run (``fig_width``) measures the relative discrepancy at fixed early steps.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ...core.activations import gaussian_moments, get_activation
from ...core.metrics import half_mse, horizon_summary, logged_steps, output_mse, relative_mse
from ...core.tables import outputs_matrix
from ...data.dataset import Dataset
from ..two_layer.experiments import fit_linear_model, train_network
from ..two_layer.surrogates import gd_features
from .convergence import convergence_step, first_within, linear_optimum_loss
from .sizes import theorem_time

SPLITS = ("train", "test")


def evaluation_set(data: Dataset) -> Dataset:
    """The same training data, evaluated on the training points followed by the test
    points (so that one run logs the outputs on both)."""
    return Dataset(
        data.X_train, data.y_train, np.vstack([data.X_train, data.X_test]), np.concatenate([data.y_train, data.y_test])
    )


def discrepancy_curves(
    steps: np.ndarray, f_net: np.ndarray, f_lin: np.ndarray, y: np.ndarray, n_train: int
) -> pd.DataFrame:
    """Rows (step, split, metric, value) on the training points (the first ``n_train``
    columns) and the test points: relative_mse = E(f - f_lin)^2 / E f^2, output_mse, and
    each model's loss (network_loss, linear_loss)."""
    frames = []
    for split, cols in (("train", slice(0, n_train)), ("test", slice(n_train, None))):
        a, b, target = f_net[:, cols], f_lin[:, cols], y[cols]
        for metric, value in (
            ("relative_mse", relative_mse(a, b)),
            ("output_mse", output_mse(a, b)),
            ("network_loss", half_mse(a, target)),
            ("linear_loss", half_mse(b, target)),
        ):
            frames.append(pd.DataFrame({"step": steps, "split": split, "metric": metric, "value": value}))
    return pd.concat(frames, ignore_index=True)


def threshold_horizons(curves: pd.DataFrame, thresholds: Sequence[float]) -> pd.DataFrame:
    """Per split and threshold: T_agree and what surrounds it (``metrics.horizon_summary``:
    ``horizon``, NaN when never reached; ``horizon_lower``, the logged step before it;
    ``reached``; the relative discrepancy at step 1, its minimum and last value; and
    ``floor_limited``: already above the threshold at step 1)."""
    rows = []
    rel = curves[(curves["metric"] == "relative_mse") & (curves["step"] >= 1)]
    for split in SPLITS:
        part = rel[rel["split"] == split].sort_values("step")
        steps, values = part["step"].to_numpy(), part["value"].to_numpy()
        rows += [dict(split=split, **horizon_summary(steps, values, threshold)) for threshold in thresholds]
    return pd.DataFrame(rows)


def horizon_run(
    data: Dataset,
    *,
    activation: str,
    lr: float,
    max_step: int,
    steps_per_decade: int,
    thresholds: Sequence[float],
    converged_tol: float,
    leaky_relu_slope: float = 0.01,
    **network,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One network (both layers trained, eta1 = eta2 = ``lr``; ``network``: its width, seed,
    dtype, device, chunk_rows, progress, as ``train_network`` takes them) and its linear
    model psi (eq. 11 / Thm D.1) on ``data``: returns (curves, horizons).

    curves: step, split, metric, value (``discrepancy_curves``). horizons: one row per
    (split, threshold) (``threshold_horizons``) with T_lin (``t_lin``: first step with f_lin's
    test loss within ``converged_tol`` of its optimum, exact from the closed form),
    ``t_lin_grid`` (the same read off the logged steps), the optimal test loss, the
    theorem's time d log d / eta, and ``agree_ge_lin``: T_agree >= T_lin, where an
    unreached horizon counts as beyond the last logged step.
    """
    evaluation = evaluation_set(data)
    steps, f_net, f_lin = network_and_linear_outputs(
        evaluation, activation, lr, logged_steps(max_step, steps_per_decade), leaky_relu_slope, **network
    )
    curves = discrepancy_curves(steps, f_net, f_lin, evaluation.y_test, len(data.y_train))
    optimum, t_lin = linear_convergence(data, activation, lr, leaky_relu_slope, converged_tol)
    test_lin = curves[(curves["split"] == "test") & (curves["metric"] == "linear_loss")].sort_values("step")
    t_lin_grid = first_within(test_lin["step"].to_numpy(), test_lin["value"].to_numpy(), optimum, converged_tol)

    horizons = threshold_horizons(curves, thresholds)
    beyond = horizons["horizon"].fillna(horizons["last_step"] + 1)
    horizons = horizons.assign(
        t_lin=t_lin,
        t_lin_grid=float("nan") if t_lin_grid is None else float(t_lin_grid),
        linear_optimum_test_loss=optimum,
        converged_tol=converged_tol,
        theorem_time=theorem_time(data.input_dim, lr),
        agree_ge_lin=(beyond >= t_lin).to_numpy(),
    )
    return curves, horizons


def network_and_linear_outputs(
    data: Dataset, activation: str, lr: float, steps: Sequence[int], leaky_relu_slope: float, **network
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The network (both layers at ``lr``; ``network``: width, seed, dtype, device,
    chunk_rows, progress) and f_lin on the same GD: (logged steps, network outputs,
    f_lin outputs), both (steps x test points)."""
    common = dict(activation=activation, lr_first=lr, lr_second=lr, steps=steps, leaky_relu_slope=leaky_relu_slope)
    _, net = train_network(data, **network, **common)
    _, lin = fit_linear_model(data, **common)
    steps_net, f_net = outputs_matrix(net)
    _, f_lin = outputs_matrix(lin)
    return steps_net, f_net, f_lin


def linear_convergence(
    data: Dataset, activation: str, lr: float, leaky_relu_slope: float, tol: float
) -> tuple[float, int]:
    """f_lin's optimal test loss and T_lin, the first step with its test loss within ``tol``
    of it (exact, from the closed form)."""
    moments = gaussian_moments(get_activation(activation, leaky_relu_slope))
    F_train = gd_features(data.X_train, moments, lr, lr)
    F_test = gd_features(data.X_test, moments, lr, lr)
    optimum = linear_optimum_loss(F_train, data.y_train, F_test, data.y_test)
    return optimum, convergence_step(F_train, data.y_train, F_test, data.y_test, tol)


def width_run(
    data: Dataset, *, activation: str, lr: float, steps: Sequence[int], leaky_relu_slope: float = 0.01, **network
) -> pd.DataFrame:
    """One network (``network``: width, seed, dtype, device, chunk_rows, progress) against
    f_lin (eq. 11) at the early ``steps``: rows
    (step, metric, value) with relative_mse = E(f - f_lin)^2 / E f^2 and output_mse on the
    test data."""
    s, f_net, f_lin = network_and_linear_outputs(
        data, activation, lr, sorted({0, *map(int, steps)}), leaky_relu_slope, **network
    )
    keep = s >= 1
    return pd.concat(
        [
            pd.DataFrame({"step": s[keep], "metric": "relative_mse", "value": relative_mse(f_net, f_lin)[keep]}),
            pd.DataFrame({"step": s[keep], "metric": "output_mse", "value": output_mse(f_net, f_lin)[keep]}),
        ],
        ignore_index=True,
    )
