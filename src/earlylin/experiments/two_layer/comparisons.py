"""What the workflow computes from the two-layer runs' tables, without torch: the
discrepancy of a network to a linear model and the outputs of a few test points (Figure 1b,
c; Figure 2), the agreement horizons of the regime grid, and Figure 5's power-law fits of
the kernel norms against d."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ...core.fits import power_law_fit
from ...core.metrics import horizon_summary
from ...core.seeds import rng_stream
from ...core.tables import OUTPUT_COLUMNS, discrepancy_rows, outputs_matrix, read_meta, read_table
from .regimes import REGIMES


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


def grid_discrepancy(network_paths: Sequence[str], linear_paths: Sequence[str]) -> pd.DataFrame:
    """The discrepancy of every grid network (its output table) to its linear model, in one
    table with each job's activation, regime and seed (read from the tables' metadata)."""
    tables = []
    for network_path, linear_path in zip(network_paths, linear_paths):
        job = {k: read_meta(network_path)[k] for k in ("activation", "regime", "seed")}
        network, linear = read_table(network_path, OUTPUT_COLUMNS), read_table(linear_path, OUTPUT_COLUMNS)
        discrepancy, _ = compare_outputs(network, linear, n_samples=1, seed=job["seed"])
        tables.append(discrepancy.assign(**job))
    return pd.concat(tables, ignore_index=True)
