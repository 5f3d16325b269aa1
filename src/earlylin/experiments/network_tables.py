"""A network's job of ``fig_models`` or ``fig_data`` run by the engine, and its tidy tables:
the losses and test outputs of every model (the network, its linearised network, the linear
model of its fitted NTK, its exact-kernel model), the relative MSE of each pair of models, the
kernel fit, a sample of the NTK's entries against x.x'/d, and the kernel movement."""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd

from ..core.losses import mean_loss, targets
from ..core.metrics import relative_mse
from ..core.seeds import rng_stream
from ..core.tables import loss_rows, output_rows
from ..data.dataset import Dataset
from ..kernels.simple_kernel import KernelCoefficients, mean_abs_overlap, overlap_features, simple_kernel
from ..training.job import TrainingJob
from ..training.run import Run, RunOptions
from ..training.run import run as train

# (reference, other) pairs whose relative MSE E(f_ref - f_other)^2 / E f_ref^2 is tabled.
PAIRS = (
    ("network", "linear"),
    ("network", "linearised"),
    ("linearised", "linear"),
    ("network", "exact_kernel"),
    ("exact_kernel", "linear"),
)
# Pairs of the kernel subset drawn for the figure's scatter of NTK entries against x.x'/d.
_SCATTER_PAIRS = 3000


def run_tables(run: Run, data: Dataset) -> dict[str, pd.DataFrame]:
    """The tidy tables of a run: losses (model, step, split, metric, value), outputs (model,
    step, sample, output), discrepancy (reference, other, step, metric='relative_mse', value),
    kernel_fit (one row), ntk_entries (overlap, entry, fitted, diagonal: a seeded sample of
    the subset's pairs and its diagonal), movement (step, value)."""
    loss, outputs_of = run.job.loss, run.logged.test_outputs
    y_test = targets(data.y_test, run.job.classes, run.job.outputs)
    train_loss, steps = run.logged.train_loss, run.steps
    losses = pd.concat(
        [loss_rows(m, steps, "train", train_loss[m]) for m in outputs_of]
        + [loss_rows(m, steps, "test", mean_loss(o, y_test, loss)) for m, o in outputs_of.items()],
        ignore_index=True,
    )
    setup = run.setup
    return dict(
        losses=losses,
        outputs=pd.concat([output_rows(m, steps, o) for m, o in outputs_of.items()], ignore_index=True),
        discrepancy=pair_discrepancy_rows(outputs_of, steps),
        kernel_fit=kernel_fit_row(run, data),
        ntk_entries=ntk_entry_rows(data.X_train[setup.subset], setup.mean_kernel, setup.coefficients, run.job.seed),
        movement=pd.DataFrame(
            {
                "step": np.array(list(run.logged.movement), dtype=np.int64),
                "value": np.array(list(run.logged.movement.values()), dtype=np.float64),
            }
        ),
    )


def pair_discrepancy_rows(outputs_of: dict[str, np.ndarray], steps: np.ndarray) -> pd.DataFrame:
    """The relative MSE of each pair of ``PAIRS`` that the run trained, per logged step, over all
    test points and (with k outputs per input) all outputs; no row where the reference's outputs
    are all 0 (step 0: every model starts from f_0 = 0, and 0/0 has no meaning)."""
    outputs_of = {name: values.reshape(values.shape[0], -1) for name, values in outputs_of.items()}
    table = pd.concat(
        [
            pd.DataFrame(
                {
                    "reference": a,
                    "other": b,
                    "step": steps.astype(np.int64),
                    "metric": "relative_mse",
                    "value": relative_mse(outputs_of[a], outputs_of[b]),
                }
            )
            for a, b in PAIRS
            if a in outputs_of and b in outputs_of
        ],
        ignore_index=True,
    )
    return table[table["value"].notna()].reset_index(drop=True)


def kernel_fit_row(run: Run, data: Dataset) -> pd.DataFrame:
    """One row: the kernel fitted to the network's empirical NTK (coefficients, their standard
    errors, residuals, the overlaps of the inputs), the linear model it defines, and timings."""
    fit, setup = run.setup.fit, run.setup
    return pd.DataFrame(
        [
            dict(
                constant=fit.constant,
                linear=fit.linear,
                norm=fit.norm,
                constant_stderr=fit.constant_stderr,
                linear_stderr=fit.linear_stderr,
                norm_stderr=fit.norm_stderr,
                residual_frobenius=fit.residual_frobenius,
                residual_spectral=fit.residual_spectral,
                diagonal_gap=fit.diagonal_gap,
                subset_overlap=fit.mean_abs_overlap,
                data_overlap=mean_abs_overlap(data.X_train),
                model_constant=setup.coefficients.constant,
                model_linear=setup.coefficients.linear,
                model_norm=setup.coefficients.norm,
                lr=setup.lr,
                lambda_max=setup.lambda_max if setup.lambda_max is not None else math.nan,
                notes="; ".join(setup.notes),
                n_points=fit.n_points,
                n_initialisations=fit.n_initialisations,
                with_norm_term=fit.with_norm_term,
                **output_block_columns(run),
                **timing_columns(run),
            )
        ]
    )


def output_block_columns(run: Run) -> dict[str, float]:
    """With k outputs per input: the NTK's cross-output blocks against its diagonal ones and the
    diagonal blocks' spread about their mean (what the linear model's kernel (x) I_k assumes
    small; ``kernels.empirical.output_blocks``); no columns with one output."""
    if run.job.outputs == 1:
        return {}
    return {
        "outputs": run.job.outputs,
        "cross_output": run.setup.cross_output,
        "output_spread": run.setup.output_spread,
    }


def ntk_entry_rows(X: np.ndarray, kernel: np.ndarray, coefficients: KernelCoefficients, seed: int) -> pd.DataFrame:
    """Rows (overlap, entry, fitted, diagonal) of the mean empirical NTK on the kernel subset:
    up to 3,000 off-diagonal pairs (a seeded sample) and every diagonal entry, with the fitted
    linear model's kernel (Section 4.1's claim, drawn as a scatter about the fitted line)."""
    _, overlap, _ = overlap_features(X)
    rows, cols = np.triu_indices(len(X), k=1)
    chosen = np.sort(rng_stream(seed, "ntk-scatter", len(rows)).permutation(len(rows))[:_SCATTER_PAIRS])
    fitted = simple_kernel(X, coefficients)
    flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    norms = np.sum(flat * flat, axis=1) / flat.shape[1]
    off = pd.DataFrame(
        {
            "overlap": overlap[chosen],
            "entry": kernel[rows[chosen], cols[chosen]],
            "fitted": fitted[rows[chosen], cols[chosen]],
            "diagonal": False,
        }
    )
    diagonal = pd.DataFrame({"overlap": norms, "entry": np.diag(kernel), "fitted": np.diag(fitted), "diagonal": True})
    return pd.concat([off, diagonal], ignore_index=True)


def relative_at(discrepancy: pd.DataFrame, reference: str, other: str, step: int) -> float:
    """The relative MSE of a pair at a logged step (NaN when not logged)."""
    rows = discrepancy[(discrepancy["reference"] == reference) & (discrepancy["other"] == other)]
    rows = rows[rows["step"] == step]
    return float(rows["value"].iloc[0]) if len(rows) else math.nan


def timing_columns(run: Run) -> dict[str, float]:
    """The run's timings in the kernel_fit table (seconds): the kernel fit, building the
    exact-kernel model, logging (with the kernel movement), and one step of the network and
    of the linearised network (NaN where the steps were timed together, on CUDA)."""
    seconds = run.seconds
    return {
        "seconds_kernel_fit": seconds.get("kernel_fit", 0.0),
        "seconds_exact_kernel": seconds.get("exact_kernel", 0.0),
        "seconds_logging": seconds.get("logging", 0.0) + seconds.get("movement", 0.0),
        "seconds_network_per_step": run.per_step("step_network"),
        "seconds_linearised_per_step": run.per_step("step_linearised") if run.job.linearise else 0.0,
    }


def run_options(config: dict[str, Any], job: dict[str, Any], checkpoint: str, rule: str) -> RunOptions:
    """How a training job runs, from the config rather than from its job (changing these
    reruns nothing): the device, the checkpoint interval and the CPU limit of the job's section
    (deep for Figures 3-4, models for fig_models and fig_data)."""
    section = config[job["keys"]["max_cpu_hours"].split(".")[0]]
    return RunOptions(
        device=config["device"],
        checkpoint_path=checkpoint,
        checkpoint_seconds=60.0 * section["checkpoint_minutes"],
        max_cpu_hours=section["max_cpu_hours"],
        rule=rule,
    )


def run_job(job: dict[str, Any], data: Dataset, options: RunOptions) -> tuple[Run, dict[str, pd.DataFrame]]:
    """A train_any_network job (``any_network.training_job``): the run and its tables."""
    run = train(TrainingJob.from_dict(job), data, options)
    return run, run_tables(run, data)


def log_run(log: logging.Logger, run: Run, discrepancy: pd.DataFrame) -> None:
    """A finished run's timings and its models' relative MSE at its last step."""
    if run.reused_finished:
        log.info("tables rebuilt from the finished run recorded beside them")
    step = run.job.max_step
    timing = timing_columns(run)
    log.info(
        "network step %.4g s, linearised step %.4g s; kernel fit %.3g s",
        timing["seconds_network_per_step"],
        timing["seconds_linearised_per_step"],
        timing["seconds_kernel_fit"],
    )
    for reference, other in (("network", "linear"), ("network", "linearised"), ("linearised", "linear")):
        log.info(
            "relative MSE %s vs %s at step %d: %.4g",
            reference,
            other,
            step,
            relative_at(discrepancy, reference, other, step),
        )
