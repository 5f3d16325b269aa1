"""A job of ``fig_classes`` run by the engine, and its tidy tables: those of ``network_tables``
(losses, outputs with one row per output, discrepancy over all outputs, kernel_fit with the
NTK's cross-output blocks) and, from the test predictions (argmax over the k outputs) at every
logged step, Nakkiran et al.'s measures for k labels (``core.information.class_metric_rows``:
each model's accuracy, the class agreement of the network with each other model, I(F; Y) and
mu with bootstrap intervals)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..core.information import class_metric_rows
from ..core.losses import class_indices
from ..core.seeds import rng_stream
from ..data.dataset import Dataset
from ..training.job import TrainingJob
from ..training.run import Run, RunOptions
from ..training.run import run as train
from .any_classes import TABLES
from .network_tables import run_tables


def class_outputs(run: Run) -> dict[str, np.ndarray]:
    """Each model's test outputs as (steps, points, k) scores; one output per input (two
    classes, the square loss) as the scores (f, -f) of class indices 0 (label +1) and 1
    (label -1)."""
    if run.job.outputs > 1:
        return run.logged.test_outputs
    return {name: np.stack([f, -f], axis=-1) for name, f in run.logged.test_outputs.items()}


def run_job(job: dict[str, Any], data: Dataset, options: RunOptions) -> tuple[Run, dict[str, pd.DataFrame]]:
    """A train_any_classes job (``any_classes.job``): the run and its tables."""
    training = TrainingJob.from_dict(job["train"])
    run = train(training, data, options)
    tables = {name: table for name, table in run_tables(run, data).items() if name in TABLES}
    labels = class_indices(data.y_test, training.classes)
    rng = rng_stream(training.seed, "bootstrap")
    rows = class_metric_rows(run.steps, class_outputs(run), labels, training.classes, rng, job["resamples"])
    tables["classes"] = pd.DataFrame(rows)
    return run, tables
