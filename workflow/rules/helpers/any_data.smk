# Helpers of the any-data rules (any_data.smk): the package module that builds their jobs,
# the figure's inputs.

from earlylin.core.losses import LOSSES
from earlylin.experiments import any_data

FIG_DATA = config["fig_data"]


def any_data_figure_inputs():
    """Every train_any_data table of fig_data, by table name."""
    jobs = any_data.job_wildcards(config)
    return {name: [rules.train_any_data.output[name].format(**job) for job in jobs] for name in any_data.TABLES}
