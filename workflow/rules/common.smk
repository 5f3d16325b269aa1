# Shared set-up: config validation (before any job), paths, helpers.

import os
import sys

sys.path.insert(0, os.path.join(workflow.basedir, "src"))
# Scripts run in their own processes (and, on a cluster, on other machines that
# re-read this file): they import the package from this checkout as well.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (os.path.join(workflow.basedir, "src"), os.environ.get("PYTHONPATH")) if p
)

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


def fig1_sweep_files(pattern):
    """One path per (d in d_sweep, seed) of Figure 1c."""
    return expand(pattern, d=FIG1["d_sweep"], seed=FIG1["seeds"])


def fig1_main_files(pattern):
    """One path per seed at the main d of Figure 1a/b."""
    return expand(pattern, d=FIG1["d"], seed=FIG1["seeds"])
