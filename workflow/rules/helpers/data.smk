# Helpers of the any-data rules (data.smk): each job's params from its ModelJob, the
# figure's inputs.

from earlylin.models.data_study import INPUTS, data_study_job, data_study_jobs
from earlylin.models.jobs import LOSSES

FIG_DATA = config["fig_data"]
# the tables of one train_data job (scripts/train_data.py)
DATA_TABLES = ("losses", "outputs", "discrepancy", "kernel_fit", "signs")


def data_job_param(name):
    """A param of a train_data job: the named setting of its ModelJob (``models.data_study``)."""
    return lambda wc: data_study_job(config, wc.dataset, wc.loss, wc.momentum).params()[name]


def data_model_file_input(wildcards):
    """The user's model file when fig_data's network is given as path/to/file.py:factory."""
    path = network_file(MODELS["networks"][FIG_DATA["network"]]["network"])
    return [path] if path else []


def data_figure_inputs():
    """Every train_data table of fig_data, by table name."""
    return {
        name: [rules.train_data.output[name].format(**job) for job in data_study_jobs(config)] for name in DATA_TABLES
    }
