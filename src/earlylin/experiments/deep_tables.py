"""A deep-network job of Figures 3 and 4 run by the engine, and its tidy tables: its losses
(with the test loss split onto V_lin, Figure 3a), outputs (Figure 3b) and discrepancy
(Figure 3c)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ..core.metrics import half_mse, input_span_basis, vlin_loss_parts
from ..core.tables import discrepancy_rows, loss_rows, output_rows
from ..data.dataset import Dataset
from ..training.job import TrainingJob
from ..training.run import Run, RunOptions
from ..training.run import run as train
from .deep import model_label

LOSS_PART_COLUMNS = ("model", "step", "split", "part", "metric", "value")


def loss_part_rows(
    model: str,
    steps: np.ndarray,
    train_loss: np.ndarray,
    test_outputs: np.ndarray,
    y_test: np.ndarray,
    X_test: np.ndarray,
) -> pd.DataFrame:
    """Rows (model, step, split, part, metric='loss', value) of one model (Figure 3a): part
    'total' for the train and the test loss; for the test split also 'v_lin' and
    'complement' (``metrics.vlin_loss_parts``) when d < n_test, with ``vlin_rank``, the
    dimension of V_lin as measured (the rank of the test inputs)."""

    def with_part(rows: pd.DataFrame, part: str) -> pd.DataFrame:
        return rows.assign(part=part)[list(LOSS_PART_COLUMNS)]

    frames = [
        with_part(loss_rows(model, steps, "train", train_loss), "total"),
        with_part(loss_rows(model, steps, "test", half_mse(test_outputs, y_test)), "total"),
    ]
    parts = vlin_loss_parts(test_outputs, y_test, X_test)
    if parts is not None:
        rank = input_span_basis(X_test).shape[1]  # dim V_lin: below d where pixels are constant or tied
        frames += [
            with_part(loss_rows(model, steps, "test", parts[0]), "v_lin").assign(vlin_rank=rank),
            with_part(loss_rows(model, steps, "test", parts[1]), "complement").assign(vlin_rank=rank),
        ]
    return pd.concat(frames, ignore_index=True)


def deep_tables(run: Run, data: Dataset) -> dict[str, pd.DataFrame]:
    """(losses, outputs, discrepancy) tables of one run, every model (Figure 3a, b, c): the
    network is named by its architecture, the other models '<arch>_<model>' (``model_label``);
    the discrepancy compares the network with each of them."""
    arch = run.job.network.name
    logged = run.logged
    steps = np.asarray(logged.steps)
    names = {model: model_label(arch, model) for model in logged.test_outputs}
    losses = pd.concat(
        [
            loss_part_rows(label, steps, logged.train_loss[model], logged.test_outputs[model], data.y_test, data.X_test)
            for model, label in names.items()
        ],
        ignore_index=True,
    )
    outputs = pd.concat(
        [output_rows(label, steps, logged.test_outputs[model]) for model, label in names.items()], ignore_index=True
    )
    network = logged.test_outputs["network"]
    discrepancy = pd.concat(
        [
            discrepancy_rows(label, steps, network, logged.test_outputs[model])
            for model, label in names.items()
            if model != "network"
        ],
        ignore_index=True,
    )
    return {"losses": losses, "outputs": outputs, "discrepancy": discrepancy}


def run_job(job: dict[str, Any], data: Dataset, options: RunOptions) -> tuple[Run, dict[str, pd.DataFrame]]:
    """A train_deep job (``deep.training_job``): the run and its tables."""
    run = train(TrainingJob.from_dict(job), data, options)
    return run, deep_tables(run, data)


def log_run(log: logging.Logger, run: Run, discrepancy: pd.DataFrame, checkpoint: str | None) -> None:
    """A finished run's timings and the network's relative MSE to its linear model at the end."""
    if run.reused_finished:
        log.info("tables rebuilt from the finished run in %s", checkpoint)
    else:
        phases = ", ".join(f"{name} {seconds:.3g} s" for name, seconds in run.seconds.items())
        log.info("time per phase: %s; steps %d, logged steps %d", phases, run.job.max_step, len(run.logged.steps))
    final = discrepancy.query("metric == 'relative_mse' and model.str.endswith('_linear')")["value"].iloc[-1]
    log.info("relative MSE network vs linear model at step %d: %.4g", run.job.max_step, final)
    log.info("the finished run stays recorded in %s (a rerun rebuilds the tables from it)", checkpoint)
