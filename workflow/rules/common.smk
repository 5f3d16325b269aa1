# Shared by every stage of the workflow: the config check (before any job), the paper's
# settings each run's size is measured against, the results folder, the wildcards'
# vocabulary, and the resources rules share. Nothing here imports torch or computes: parsing
# the Snakefile stays fast for dry runs and cluster jobs. Each stage's file lists are in
# helpers/<stage>.smk, included by the stage's rules.
#
# Every rule's params are one plain dict, `job`, built by the package (earlylin.experiments):
# the settings that change its outputs and nothing else. Settings that cannot change a
# table (device, threads, chunk sizes, the checkpoint interval, the CPU limits) are read by
# the scripts from the config, so changing them never makes Snakemake rerun a job.

import os

from snakemake.exceptions import WorkflowError

from earlylin.core.config import ConfigError
from earlylin.core.host import end_run_on_signals, training_on_gpu
from earlylin.data.sources import DOWNLOADED_SOURCES
from earlylin.experiments.configuration import check_config, paper_config
from earlylin.experiments.deep import ARCHITECTURES
from earlylin.experiments.run_size import group_sizes, size_line
from earlylin.experiments.two_layer.regimes import REGIMES

# SIGTERM and SIGINT end a run within seconds (again at onstart, after Snakemake's own handler)
end_run_on_signals()

SCHEMA = os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
try:
    check_config(config, SCHEMA)
except ConfigError as err:
    raise WorkflowError(str(err)) from None

# The paper's settings (config/config.yaml): each claim group's size is this run's settings
# against them (figure titles and the scorecard say when they differ).
PAPER_CONFIG = paper_config(os.path.join(workflow.basedir, "config", "config.yaml"), SCHEMA)
RUN_SIZES = group_sizes(config, PAPER_CONFIG)


def title_size(group):
    """A figure title's last line when the run is not at the paper's size (else '')."""
    return size_line(RUN_SIZES, group)


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
# Training jobs start after every other ready job: on a CPU the cheap figures come first.
TRAINING_PRIORITY = -10


wildcard_constraints:
    d=r"\d+",
    seed=r"\d+",
    kernel="|".join(regime.kernel for regime in REGIMES.values()),
    activation=r"[a-z_]+",
    regime="|".join(REGIMES),
    surrogate="linear|naive",
    source="|".join(DOWNLOADED_SOURCES),
    arch="|".join(ARCHITECTURES),
    dataset=r"[A-Za-z0-9_]+",
    lr=r"[0-9.e+-]+",
    width=r"\d+",
