# Helpers of the deep-network rules (deep.smk): each job's params from its DeepJob, the
# inputs of a figure, row titles and figure titles, and the start-of-run CPU cost report.

from snakemake.logging import logger

from earlylin.deep.jobs import (
    FIGURES,
    JOB_PARAMS,
    dataset_entry,
    dataset_label,
    deep_job,
    figure_title,
    job_seeds,
    networks_text,
)

DEEP = config["deep"]
# Deep training jobs start after every other ready job: on a CPU the cheap figures come first.
DEEP_PRIORITY = -10


def deep_job_param(name):
    """A param of a train_deep job: the named setting of its DeepJob (``deep.jobs``), the
    object its script builds from the same config."""
    return lambda wc: deep_job(DEEP, wc.dataset, wc.arch, gpu=bool(GPU_JOBS)).params()[name]


def image_source_input(wildcards):
    """What a data set is read from: the fetch receipt of a downloaded source, the user's
    .npz file (editing it reruns the data set and everything after it), nothing for the
    bundled sources."""
    entry = DEEP["datasets"][wildcards.dataset]
    if entry["source"] == "npz":
        return [entry["path"]]
    return expand(rules.fetch_images.output[0], source=entry["source"]) if entry["source"] in DOWNLOADED_SOURCES else []


def image_source_root(wildcards):
    """Where the source's files are: deep.data_root for a downloaded source, the file of an npz
    source, None for the bundled sources (no rerun when data_root changes)."""
    entry = DEEP["datasets"][wildcards.dataset]
    if entry["source"] == "npz":
        return entry["path"]
    return DEEP["data_root"] if entry["source"] in DOWNLOADED_SOURCES else None


def deep_figure_inputs(datasets):
    """The train_deep tables (losses, outputs, discrepancy) of a figure's data sets: every
    architecture on every data set, with its seeds (``job_seeds``)."""
    return {
        name: [
            path
            for dataset in datasets
            for arch in ARCHITECTURES
            for path in expand(
                rules.train_deep.output[name], dataset=dataset, arch=arch, seed=job_seeds(DEEP, dataset, arch)
            )
        ]
        for name in ("losses", "outputs", "discrepancy")
    }


# Figures 3 and 4 and the offline Figure 3: config key -> (report category, title).
DEEP_FIGURES = {
    "fig3": ("Figure 3", "Figure 3 (Section 4.2)"),
    "fig4": ("Figure 4", "Figure 4 (Appendix A)"),
    "fig3_offline": ("Figure 3 (beyond the paper)", "Figure 3's experiment on bundled MNIST (no download)"),
}
assert set(DEEP_FIGURES) == set(FIGURES)


def report_deep_cpu_cost():
    """At the start of a real run (not a dry run, not inside a cluster job): when deep
    networks will train on this machine's CPU, print each scheduled job's estimated hours
    from a probe of this CPU and which ones deep.max_cpu_hours will stop. (torch is
    imported here, at the start of a run, never while the Snakefile parses.)"""
    if GPU_JOBS:
        return
    try:
        jobs = [job for job in workflow.dag.needrun_jobs() if job.rule.name == "train_deep"]
    except AttributeError:  # the DAG's interface changed: say nothing rather than guess
        return
    if not jobs:
        return
    import torch

    from earlylin.deep.cost import cpu_cost_report, job_cost, measure_flop_rate
    from earlylin.metrics import logged_steps

    torch.set_num_threads(config["train_threads"])
    n_logged = len(logged_steps(DEEP["max_step"], DEEP["steps_per_decade"]))
    estimates = {}
    for dataset, arch in sorted({(job.wildcards.dataset, job.wildcards.arch) for job in jobs}):
        spec = deep_job(DEEP, dataset, arch)
        rate = measure_flop_rate(spec)
        count = sum(1 for job in jobs if (job.wildcards.dataset, job.wildcards.arch) == (dataset, arch))
        estimates[f"{arch} on {dataset}"] = (job_cost(spec, n_logged).hours(rate), rate, count)
    logger.warning(cpu_cost_report(estimates, DEEP["max_cpu_hours"]))
