# Helpers of the deep-network rules (deep.smk): the package module that builds their jobs and
# titles, where a data set's images come from, and the tables each figure reads.

from earlylin.experiments import deep
from earlylin.experiments.image_sets import image_data_job

DEEP = config["deep"]


def image_source_input(wildcards):
    """What a data set is read from: the fetch receipt of a downloaded source, the user's
    .npz file (editing it reruns the data set and everything after it), nothing for the
    bundled sources."""
    entry = DEEP["datasets"][wildcards.dataset]
    if entry["source"] == "npz":
        return [entry["path"]]
    return expand(rules.fetch_images.output[0], source=entry["source"]) if entry["source"] in DOWNLOADED_SOURCES else []


def deep_figure_inputs(datasets):
    """The train_deep tables of a figure's data sets: every architecture on every data set,
    with its seeds."""
    jobs = deep.job_wildcards(DEEP, datasets)
    return {name: [rules.train_deep.output[name].format(**job) for job in jobs] for name in deep.TABLES}
