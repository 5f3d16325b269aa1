# Helpers of the any-network rules (any_network.smk): the package module that builds their
# jobs, a user's model file as an input, the figure's inputs.

from earlylin.experiments import any_network, width_sweep
from earlylin.experiments.image_sets import dataset_label

MODELS = config["models"]
DATASET_LABELS = {name: dataset_label(DEEP, name) for name in DEEP["datasets"]}


def network_file_input(network):
    """The user's model file when the network is given as path/to/file.py:factory: editing
    it reruns that network's jobs and nothing else."""
    path = any_network.network_file(network)
    return [path] if path else []


def any_network_figure_inputs():
    """Every train_any_network table of fig_models, by table name."""
    jobs = any_network.job_wildcards(config)
    return {name: [rules.train_any_network.output[name].format(**job) for job in jobs] for name in any_network.TABLES}


def width_sweep_inputs(table):
    """One table of every train_width_sweep job of fig_widths."""
    if not MODELS.get("widths"):
        return []
    return [rules.train_width_sweep.output[table].format(**job) for job in width_sweep.job_wildcards(config)]
