# Helpers of the any-network rules (models.smk): each job's params from its ModelJob, its
# inputs (the data set and, for a network given by file, that file), the figure's inputs.

from earlylin.models.jobs import JOB_PARAMS as MODEL_JOB_PARAMS
from earlylin.models.jobs import model_job, model_jobs, network_file, network_text

MODELS = config["models"]
# the tables of one train_model job (the script's run_tables)
MODEL_TABLES = ("losses", "outputs", "discrepancy", "kernel_fit", "ntk_entries", "movement")


def model_job_param(name):
    """A param of a train_model job: the named setting of its ModelJob (``models.jobs``)."""
    return lambda wc: model_job(config, wc.dataset, wc.net).params()[name]


def model_file_input(wildcards):
    """The user's model file when the network is given as path/to/file.py:factory: editing
    it reruns that network's jobs and nothing else."""
    path = network_file(MODELS["networks"][wildcards.net]["network"])
    return [path] if path else []


def model_figure_inputs():
    """Every train_model table of fig_models, by table name."""
    return {
        name: [
            rules.train_model.output[name].format(dataset=dataset, net=net, seed=seed)
            for dataset, net, seed in model_jobs(config)
        ]
        for name in MODEL_TABLES
    }


def models_text():
    """The report caption's list of networks: 'fc: fc(depth=4, width=512), lr 1; ...'."""
    return "; ".join(f"{name}: {network_text(MODELS['networks'][name])}" for name in MODELS["train"])
