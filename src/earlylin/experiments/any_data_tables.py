"""A job of ``fig_data`` run by the engine, and its tidy tables: those of ``network_tables``
(losses, outputs, discrepancy, kernel_fit) and, from the test predictions at every logged
step, Nakkiran et al.'s measures (``core.information.sign_metric_rows``: each model's
accuracy, the sign agreement of network and linear model, I(F; Y) and mu with bootstrap
intervals)."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from ..core.information import sign_metric_rows
from ..core.seeds import rng_stream
from ..data.dataset import Dataset
from ..data.gaussian_clone import gaussian_clone
from ..training.job import TrainingJob
from ..training.run import Run, RunOptions
from ..training.run import run as train
from .any_data import TABLES
from .network_tables import run_tables

log = logging.getLogger(__name__)


def run_job(job: dict[str, Any], data: Dataset, options: RunOptions) -> tuple[Run, dict[str, pd.DataFrame]]:
    """A train_any_data job (``any_data.job``): on the real training inputs or their Gaussian
    clone (the clone's draw from the job's seed), the run and its tables."""
    seed = job["train"]["seed"]
    if job["inputs"] == "clone":
        data = gaussian_clone(data, rng_stream(seed, "gaussian-clone"))
        log.info(
            "training inputs: the Gaussian clone of the %d real ones (class means and covariances)", len(data.y_train)
        )
    run = train(TrainingJob.from_dict(job["train"]), data, options)
    tables = {name: table for name, table in run_tables(run, data).items() if name in TABLES}
    rng = rng_stream(seed, "bootstrap")
    tables["signs"] = pd.DataFrame(
        sign_metric_rows(run.steps, run.logged.test_outputs, data.y_test, rng, job["resamples"])
    )
    return run, tables
