# Shared set-up: config validation (before any job), paths, helpers.

import os
import sys

# The package lives in this checkout's src/. Scripts inherit this search path (Snakemake
# passes the parent's sys.path to them), and cluster jobs re-read this file.
sys.path.insert(0, os.path.join(workflow.basedir, "src"))

from snakemake.exceptions import WorkflowError
from earlylin.config import ConfigError, validate_config

try:
    validate_config(
        config, os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
    )
except ConfigError as err:
    raise WorkflowError(str(err)) from None

RESULTS = config["results_dir"]
FIG1 = config["fig1"]

wildcard_constraints:
    d=r"\d+",
    seed=r"\d+",
    kernel="theta1|theta2|theta",
    activation=r"[a-z_]+",


def fig1_sweep_files(pattern):
    """One path per (d in d_sweep, seed) of Figure 1c."""
    return expand(pattern, d=FIG1["d_sweep"], seed=FIG1["seeds"])


def fig1_main_files(pattern):
    """One path per seed at the main d of Figure 1a/b."""
    return expand(pattern, d=FIG1["d"], seed=FIG1["seeds"])


FIG5 = config["fig5"]
FIG5_EXTRA = config["fig5_extra"]


def fig5_norm_files(kernels, activations):
    """One norms table per (kernel, activation, d, seed) of the Figure 5 sweep."""
    return expand(
        f"{RESULTS}/fig5/norms_{{kernel}}_{{activation}}_d{{d}}_seed{{seed}}.parquet",
        kernel=kernels,
        activation=activations,
        d=FIG5["d_values"],
        seed=FIG5["seeds"],
    )
