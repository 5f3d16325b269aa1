# Helpers of the k-class rules (any_classes.smk): the package module that builds their jobs,
# the figure's inputs.

from earlylin.experiments import any_classes

FIG_CLASSES = config["fig_classes"]


def any_classes_figure_inputs():
    """Every train_any_classes table of fig_classes, by table name."""
    jobs = any_classes.job_wildcards(config)
    return {name: [rules.train_any_classes.output[name].format(**job) for job in jobs] for name in any_classes.TABLES}
