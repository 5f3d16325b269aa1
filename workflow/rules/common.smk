# Shared by every stage of the workflow: the package on the search path, the config check
# (before any job), the results folder, the wildcards' vocabulary, the params record, and
# the defaults that rules share. Nothing here imports torch or computes: parsing the
# Snakefile stays fast for dry runs and cluster jobs. Each stage's own helpers are in
# helpers/<stage>.smk, included by the stage's rules.
#
# Settings that cannot change a table (device, threads, chunk sizes, the checkpoint
# interval, deep.max_cpu_hours) are not params of the rules; the scripts read them from the
# config, so changing them never makes Snakemake rerun a job.

import inspect
import os
import sys

from snakemake.exceptions import WorkflowError

# The package lives in this checkout's src/: first on this process's search path, and
# first on every job's (PYTHONPATH, which local jobs inherit and sbatch exports), so that
# the jobs run this checkout's code even where another copy of the package is installed.
SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, SRC)

import yaml

from earlylin.config import ConfigError, validate_config
from earlylin.deep.jobs import ARCHITECTURES
from earlylin.deep.sources import DOWNLOADED_SOURCES
from earlylin.host import end_run_on_signals, export_source_path, training_on_gpu
from earlylin.scorecard.scale import PAPER, group_scales
from earlylin.two_layer.regimes import REGIMES

export_source_path(SRC)
# SIGTERM and SIGINT end a run within seconds (again at onstart, after Snakemake's own handler)
end_run_on_signals()

SCHEMA = os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
try:
    validate_config(config, SCHEMA)
except ConfigError as err:
    raise WorkflowError(str(err)) from None

# The paper's settings (config/config.yaml, defaults filled in): each claim group's scale is
# this run's settings against them (figure titles and the scorecard say when they differ).
with open(os.path.join(workflow.basedir, "config", "config.yaml"), encoding="utf-8") as fh:
    PAPER_CONFIG = yaml.safe_load(fh)
validate_config(PAPER_CONFIG, SCHEMA)
SCALES_OF_RUN = group_scales(config, PAPER_CONFIG)


def scale_line(group):
    """A figure title's last lines when the run is not at the paper's scale (else '')."""
    scale = SCALES_OF_RUN[group]
    if scale == PAPER:
        return ""
    kind, differences = scale.split(": ", 1)
    return f"\n{kind} scale, not the paper's: {differences}"


RESULTS = config["results_dir"]
# Every rule runs its script in this environment under `--sdm conda` (path relative to
# the rule files).
ENV = "../../envs/earlylin.yaml"
# What a light job (a data draw, a comparison, a summary, a figure) asks for: one thread
# (Snakemake's default), 2 GB and 10 minutes. Light rules are localrules (Snakefile).
LIGHT = dict(mem_mb=2000, runtime=10)
# Training and kernel rules ask a cluster for one GPU each when the device is CUDA, for
# none otherwise (`training_on_gpu` decides without importing torch).
GPU_JOBS = 1 if training_on_gpu(config["device"]) else 0


wildcard_constraints:
    d=r"\d+",
    seed=r"\d+",
    kernel="|".join(regime.kernel for regime in REGIMES.values()),
    activation=r"[a-z_]+",
    regime="|".join(REGIMES),
    model="linear|naive",
    source="|".join(DOWNLOADED_SOURCES),
    arch="|".join(ARCHITECTURES),
    dataset=r"[A-Za-z0-9_]+",
    lr=r"[0-9.e+-]+",
    width=r"\d+",


def _takes_only_wildcards(function):
    return len(inspect.signature(function).parameters) == 1


def named_params(**params):
    """A rule's params plus ``named``: all of them with their names. Snakemake compares a
    job's params as a set of values, so a change that moves a value between two params
    (deep.fc.depth 4 -> 3 for a CNN whose depth is 4 and filter size 3) would leave a stale
    table; the named record makes every change of a param rerun its jobs. Params derived
    from a job's input or output files are left out of it, as Snakemake leaves them out."""
    from_wildcards = {key for key, value in params.items() if callable(value) and _takes_only_wildcards(value)}
    constants = {key: value for key, value in params.items() if not callable(value)}

    def named(wildcards):
        return repr({**constants, **{key: params[key](wildcards) for key in sorted(from_wildcards)}})

    return {**params, "named": named}


def leaky_slope(activation):
    """The leaky_relu slope as a param where the activation (a name, or a function of the
    wildcards) is leaky_relu, None elsewhere: changing the slope reruns only those jobs."""

    def slope(wildcards):
        name = activation(wildcards) if callable(activation) else activation
        return config["leaky_relu_slope"] if name == "leaky_relu" else None

    return slope
