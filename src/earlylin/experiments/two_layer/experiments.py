"""The steps of the two-layer experiments, each returning tidy tables.

The workflow's scripts call these; tests call them directly at small sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from ...core.activations import gaussian_moments, get_activation
from ...core.devices import resolve_device, resolve_dtype
from ...core.metrics import half_mse, logged_steps
from ...core.seeds import rng_stream
from ...core.tables import loss_rows, output_rows
from ...data.dataset import Dataset
from .gradient_descent import train_two_layer_gd
from .kernels import (
    diagonal_gap,
    extreme_eigenvalues,
    frobenius_norm,
    frobenius_parts,
    kernel_difference,
    spectral_norm,
)
from .networks import make_params, symmetric_init
from .surrogates import LinearGDDivergenceError, gd_features, linear_gd_closed_form


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


def two_layer_tables(data: Dataset, job: dict[str, Any], seed: int, options: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """A two-layer training job (``jobs.training_job``): the network's (losses, outputs) and
    each linear model's, named as the rule's outputs ('losses', 'outputs', 'linear_losses',
    'linear_outputs', 'naive_losses', ...). ``options``: the device and rows per GD chunk."""
    common = dict(
        activation=job["activation"],
        lr_first=job["lr_first"],
        lr_second=job["lr_second"],
        steps=logged_steps(job["max_step"], job["steps_per_decade"]),
        leaky_relu_slope=job["leaky_relu_slope"],
    )
    losses, outputs = train_network(data, width=job["width"], seed=seed, dtype=job["dtype"], **common, **options)
    tables = {"losses": losses, "outputs": outputs}
    for model in job["linear_models"]:  # f_lin (eq. 5, 9 or 11 by the learning rates); naive: theta1 = theta2 = 0
        tables[f"{model}_losses"], tables[f"{model}_outputs"] = fit_linear_model(
            data, naive=model == "naive", model=model, **common
        )
    return tables


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
