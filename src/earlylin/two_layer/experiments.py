"""The steps of the two-layer experiments, each returning tidy tables.

The workflow's scripts call these; tests call them directly at small sizes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from ..activations import gaussian_moments, get_activation
from ..data import Dataset, rng_stream
from ..devices import resolve_device, resolve_dtype
from ..fits import power_law_fit
from ..metrics import half_mse, horizon_summary
from ..tables import discrepancy_rows, loss_rows, output_rows, outputs_matrix
from .kernels import (
    diagonal_gap,
    extreme_eigenvalues,
    frobenius_norm,
    frobenius_parts,
    kernel_difference,
    spectral_norm,
)
from .networks import make_params, symmetric_init
from .regimes import REGIMES
from .surrogates import LinearGDDivergenceError, gd_features, linear_gd_closed_form
from .training import train_two_layer_gd


def train_network(
    data: Dataset,
    *,
    activation: str,
    width: int,
    lr_first: float,
    lr_second: float,
    steps: Sequence[int],
    seed: int,
    dtype: str = "float32",
    device: str = "auto",
    leaky_relu_slope: float = 0.01,
    chunk_rows: int | None = None,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train the two-layer network by GD from the symmetric init (eq. 3-4).

    Returns (losses, outputs): train/test loss at each logged step, and the output on
    every test point at each logged step; model = 'network'.
    """
    act = get_activation(activation, leaky_relu_slope)
    dev = resolve_device(device)
    dt = resolve_dtype(dtype)
    W, v = symmetric_init(width, data.input_dim, rng_stream(seed, "symmetric-init", data.input_dim, width))
    params = make_params(W, v, dt, dev)
    record = train_two_layer_gd(
        params,
        torch.as_tensor(data.X_train, dtype=dt, device=dev),
        torch.as_tensor(data.y_train, dtype=dt, device=dev),
        torch.as_tensor(data.X_test, dtype=dt, device=dev),
        act,
        lr_first,
        lr_second,
        steps,
        chunk_rows=chunk_rows,
        progress=progress,
    )
    losses = pd.concat(
        [
            loss_rows("network", record.steps, "train", record.train_loss),
            loss_rows("network", record.steps, "test", half_mse(record.test_outputs, data.y_test)),
        ],
        ignore_index=True,
    )
    return losses, output_rows("network", record.steps, record.test_outputs)


def fit_linear_model(
    data: Dataset,
    *,
    activation: str,
    lr_first: float,
    lr_second: float,
    steps: Sequence[int],
    naive: bool = False,
    leaky_relu_slope: float = 0.01,
    model: str = "linear",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The network's linear model (eq. 5, 9 or 11 by the lrs) trained by GD, in closed form."""
    moments = gaussian_moments(get_activation(activation, leaky_relu_slope))
    F_train = gd_features(data.X_train, moments, lr_first, lr_second, naive=naive)
    F_test = gd_features(data.X_test, moments, lr_first, lr_second, naive=naive)
    steps = np.asarray(steps, dtype=np.int64)
    try:
        # the features carry the learning rates (gd_features), so GD runs at unit lr
        delta = linear_gd_closed_form(F_train, data.y_train, steps)  # (T, p)
    except LinearGDDivergenceError as err:
        raise _linear_divergence(err, lr_first, lr_second, model) from None
    train_outputs = delta @ F_train.T
    test_outputs = delta @ F_test.T
    losses = pd.concat(
        [
            loss_rows(model, steps, "train", half_mse(train_outputs, data.y_train)),
            loss_rows(model, steps, "test", half_mse(test_outputs, data.y_test)),
        ],
        ignore_index=True,
    )
    return losses, output_rows(model, steps, test_outputs)


def _linear_divergence(
    err: LinearGDDivergenceError, lr_first: float, lr_second: float, model: str
) -> LinearGDDivergenceError:
    """The unit-lr divergence of ``linear_gd_closed_form`` restated in the configured
    learning rates (eta1, eta2): both must shrink by ``err.max_lr_factor``."""
    factor = err.max_lr_factor
    layers = (("eta1 (first layer)", lr_first), ("eta2 (second layer)", lr_second))
    trained = [(name, lr) for name, lr in layers if lr > 0]
    below = ", ".join(f"{name} < {lr * factor:.4g}" for name, lr in trained)
    message = (
        f"the {model} model diverges under gradient descent with learning rates "
        f"eta1 = {lr_first:g}, eta2 = {lr_second:g}: the top eigenvalue of its kernel "
        f"(eta1 Theta_lin1 + eta2 Theta_lin2) / n is {err.mu:.4g} >= 2 (the network trained "
        f"with these rates most likely diverges too). Lower the learning rate in the config (fig1.lr, "
        f"fig2.lr or regimes.lr.<regime>, whichever this job uses) by more than a factor "
        f"{1 / factor:.3g}: {below}"
    )
    return LinearGDDivergenceError(err.lr, err.top_eigenvalue, message)


def compare_outputs(
    network_outputs: pd.DataFrame,
    linear_outputs: pd.DataFrame,
    *,
    n_samples: int,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Discrepancy between the network and a linear model on test data, and the outputs
    of ``n_samples`` test points drawn at random with ``seed`` (Figure 1b, c).

    Returns (discrepancy rows: model (the linear model's name), step, metric, value with
    metric 'output_mse' = E(f - f_lin)^2 (Figure 1c) and 'relative_mse' =
    E(f - f_lin)^2 / E f^2 (Figure 3c); logits rows: model, step, sample, output).
    """
    steps_net, f_net = outputs_matrix(network_outputs)
    steps_lin, f_lin = outputs_matrix(linear_outputs)
    if not np.array_equal(steps_net, steps_lin) or f_net.shape != f_lin.shape:
        raise ValueError(
            "network and linear outputs are not logged at the same steps/samples; "
            "rerun both with the same max_step and steps_per_decade"
        )
    discrepancy = discrepancy_rows(_single_model(linear_outputs), steps_net, f_net, f_lin)
    n_test = f_net.shape[1]
    picked = np.sort(
        rng_stream(seed, "logit-samples", n_test).choice(n_test, size=min(n_samples, n_test), replace=False)
    )
    both = pd.concat([network_outputs, linear_outputs], ignore_index=True)
    logits = both[both["sample"].isin(picked)].reset_index(drop=True)
    return discrepancy, logits


def _single_model(outputs: pd.DataFrame) -> str:
    models = outputs["model"].unique()
    if len(models) != 1:
        raise ValueError(f"expected the outputs of one model, got {list(models)}")
    return str(models[0])


def regime_summary(discrepancy: pd.DataFrame, threshold: float, lrs: dict[str, float]) -> pd.DataFrame:
    """Agreement horizons of the regime x activation grid, one row per (activation,
    regime, seed), with each regime's learning rates, theorem and linear model."""
    table = agreement_horizons(discrepancy, threshold, ["activation", "regime", "seed"])
    regimes = table["regime"].map(REGIMES)
    lr_pairs = [regime.learning_rates(lrs[name]) for name, regime in zip(table["regime"], regimes)]
    return table.assign(
        lr_first=[a for a, _ in lr_pairs],
        lr_second=[b for _, b in lr_pairs],
        theorem=[r.theorem for r in regimes],
        linear_model=[r.features for r in regimes],
    )


def agreement_horizons(discrepancy: pd.DataFrame, threshold: float, keys: Sequence[str]) -> pd.DataFrame:
    """Per group of ``keys``: the first logged step at which the relative test-output
    discrepancy exceeds ``threshold`` (``horizon``; NaN with ``reached`` False when it never
    does up to ``last_step``), and the relative discrepancy at the first and last logged
    steps >= 1 (``metrics.horizon_summary``)."""
    rel = discrepancy[(discrepancy["metric"] == "relative_mse") & (discrepancy["step"] >= 1)]
    rows = []
    for key, group in rel.groupby(list(keys), sort=True):
        group = group.sort_values("step")
        summary = horizon_summary(group["step"].to_numpy(), group["value"].to_numpy(), threshold)
        rows.append(
            dict(
                zip(keys, key if isinstance(key, tuple) else (key,)),
                **{name: summary[name] for name in ("threshold", "horizon", "reached", "last_step")},
                relative_mse_first=summary["relative_first"],
                relative_mse_last=summary["relative_last"],
            )
        )
    return pd.DataFrame(rows)


def ntk_gap_norms(
    *,
    kernel: str,
    activation: str,
    n: int,
    width: int,
    d: int,
    seed: int,
    dtype: str = "float64",
    compute_dtype: str | None = None,
    device: str = "auto",
    chunk_units: int = 2048,
    leaky_relu_slope: float = 0.01,
) -> pd.DataFrame:
    """Spectral and Frobenius norms of Theta_k(W(0)) - Theta_lin_k (Figure 5, Prop. 3.4).

    x ~ N(0, I_d) (n points) and W(0) from the symmetric init are drawn from ``seed``.
    Two rows: the linear kernel as the paper defines it (identity_term = False) and with
    the diagonal gap c I added (identity_term = True, c from ``diagonal_gap``).
    """
    act = get_activation(activation, leaky_relu_slope)
    moments = gaussian_moments(act)
    dev = resolve_device(device)
    dt = resolve_dtype(dtype)
    X = rng_stream(seed, "kernel-inputs", d, n).standard_normal((n, d))
    W, v = symmetric_init(width, d, rng_stream(seed, "symmetric-init", d, width))
    diff = kernel_difference(
        kernel,
        torch.as_tensor(X, dtype=dt, device=dev),
        torch.as_tensor(W, dtype=dt, device=dev),
        torch.as_tensor(v, dtype=dt, device=dev),
        act,
        moments,
        dtype=dt,
        compute_dtype=resolve_dtype(compute_dtype) if compute_dtype else None,
        chunk_units=chunk_units,
    )
    gap = diagonal_gap(kernel, act, moments)
    extremes = extreme_eigenvalues(diff)  # one Lanczos run serves both shifts
    parts = frobenius_parts(diff)
    rows = [
        dict(
            identity_term=identity_term,
            spectral=spectral_norm(diff, shift, extremes=extremes),
            frobenius=frobenius_norm(diff, shift, parts=parts),
        )
        for identity_term, shift in ((False, 0.0), (True, gap))
    ]
    df = pd.DataFrame(rows)
    meta = dict(
        n=n,
        m=width,
        d=d,
        seed=seed,
        activation=activation,
        kernel=kernel,
        dtype=dtype,
        compute_dtype=compute_dtype or dtype,
    )
    return pd.concat([pd.DataFrame([meta] * len(df)), df], axis=1)


NORM_FIT_KEYS = ["activation", "kernel", "identity_term", "norm"]


def fit_power_laws(norms: pd.DataFrame) -> pd.DataFrame:
    """Least-squares fit of log(mean norm over seeds) on log d, per (activation, kernel,
    identity_term, norm): slope, intercept, stderr of the slope, and the d range
    (``fits.power_law_fit``)."""
    long = norms.melt(
        id_vars=["activation", "kernel", "identity_term", "d", "seed"],
        value_vars=["spectral", "frobenius"],
        var_name="norm",
        value_name="value",
    )
    rows = []
    for key, group in long.groupby(NORM_FIT_KEYS, sort=True):
        mean = group.groupby("d")["value"].mean()
        if len(mean) < 2:
            raise ValueError(f"fitting a power law needs at least two values of d, got {list(mean.index)}")
        fit = power_law_fit(mean.index.to_numpy(dtype=float), mean.to_numpy())
        rows.append(
            dict(
                zip(NORM_FIT_KEYS, key),
                slope=fit.slope,
                intercept=fit.intercept,
                stderr=fit.stderr,
                d_min=int(mean.index.min()),
                d_max=int(mean.index.max()),
                n_d=len(mean),
            )
        )
    return pd.DataFrame(rows)


def fit_power_laws_per_seed(norms: pd.DataFrame) -> pd.DataFrame:
    """``fit_power_laws`` of each seed's norms on their own, with a ``seed`` column: the
    per-seed slopes whose spread Figure 5 and the scorecard report."""
    return pd.concat(
        [fit_power_laws(group).assign(seed=seed) for seed, group in norms.groupby("seed", sort=True)],
        ignore_index=True,
    )
