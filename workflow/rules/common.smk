# Shared set-up: config validation (before any job), paths, helpers. Nothing here imports
# torch or computes: parsing the Snakefile stays fast for dry runs and cluster jobs.
#
# Settings that cannot change a table (device, threads, chunk sizes, the checkpoint
# interval, deep.max_cpu_hours) are not params of the rules; the scripts read them from the
# config, so changing them never makes Snakemake rerun a job.

import inspect
import os
import sys

from snakemake.logging import logger

# The package lives in this checkout's src/: first on this process's search path, and
# first on every job's (PYTHONPATH, which local jobs inherit and sbatch exports), so that
# the jobs run this checkout's code even where another copy of the package is installed.
SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, SRC)

from snakemake.exceptions import WorkflowError
from earlylin.config import ConfigError, validate_config
from earlylin.deep_jobs import ARCHITECTURES, dataset_entry, figure_datasets, network_settings
from earlylin.images import DOWNLOADED_SOURCES
from earlylin.regimes import REGIMES
from earlylin.runtime import export_source_path, gpu_visible

export_source_path(SRC)

try:
    validate_config(config, os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml"))
except ConfigError as err:
    raise WorkflowError(str(err)) from None

RESULTS = config["results_dir"]
FIG1 = config["fig1"]
FIG2 = config["fig2"]
GRID = config["regimes"]
DEEP = config["deep"]
FIG5 = config["fig5"]
FIG5_EXTRA = config["fig5_extra"]


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


def _section_name(section):
    """The config key of a section given by name or as the config's own dict."""
    if isinstance(section, str):
        return section
    return next(name for name, value in config.items() if value is section)


def leaky_slope(activation):
    """The leaky_relu slope as a param where the activation (a name, or a function of the
    wildcards) is leaky_relu, None elsewhere: changing the slope reruns only those jobs."""

    def slope(wildcards):
        name = activation(wildcards) if callable(activation) else activation
        return config["leaky_relu_slope"] if name == "leaky_relu" else None

    return slope


def network_params(section, lr_first, lr_second, activation=None):
    """Params of a two-layer training job from a config section (Figure 1, 2 or the grid),
    given by name or as the dict. Values may be functions of the wildcards, as everywhere
    in params. The script reads the section's chunk_rows and the device from the config."""
    name = _section_name(section)
    section = config[name]
    activation = activation or section["activation"]
    return dict(
        activation=activation,
        leaky_relu_slope=leaky_slope(activation),
        width=section["width"],
        lr_first=lr_first,
        lr_second=lr_second,
        max_step=section["max_step"],
        steps_per_decade=section["steps_per_decade"],
        dtype=section["dtype"],
        section=name,
    )


def linear_params(section, lr_first, lr_second, activation=None, model="linear", naive=False):
    """Params of a linear-model job; ``naive`` drops theta1, theta2 from q (Figure 2).
    Values may be functions of the wildcards, as everywhere in params."""
    section = config[_section_name(section)]
    activation = activation or section["activation"]
    return dict(
        activation=activation,
        leaky_relu_slope=leaky_slope(activation),
        lr_first=lr_first,
        lr_second=lr_second,
        naive=naive,
        model=model,
        max_step=section["max_step"],
        steps_per_decade=section["steps_per_decade"],
    )


def regime_lr(regime, layer):
    """eta1 (layer 0) or eta2 (layer 1) of a grid job: the regime's lr on trained layers."""
    return REGIMES[regime].learning_rates(GRID["lr"][regime])[layer]


def fig1_sweep_files(pattern):
    """One path per (d in d_sweep, seed) of Figure 1c."""
    return expand(pattern, d=FIG1["d_sweep"], seed=FIG1["seeds"])


def fig1_main_files(pattern):
    """One path per seed at the main d of Figure 1a/b."""
    return expand(pattern, d=FIG1["d"], seed=FIG1["seeds"])


def fig2_files(pattern, models=("linear", "naive")):
    """One path per (linear model, seed) of Figure 2."""
    return expand(pattern, model=models, seed=FIG2["seeds"])


def regime_files(pattern):
    """One path of ``pattern`` (a rule's output) per (activation, regime, seed) job of the
    regime x activation grid."""
    return expand(pattern, activation=GRID["activations"], regime=GRID["regimes"], seed=GRID["seeds"])


def training_on_gpu():
    """Whether training jobs run on CUDA (device: cuda, or auto with a GPU visible),
    decided without importing torch."""
    return config["device"] == "cuda" or (config["device"] == "auto" and gpu_visible())


# Training rules ask a cluster for one GPU each when the device is CUDA, for none otherwise.
GPU_JOBS = 1 if training_on_gpu() else 0
# Deep training jobs start after every other ready job: on a CPU the cheap figures come first.
DEEP_PRIORITY = -10


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


def deep_param(name):
    """A param of a train_deep job from its data set's entry and architecture."""
    return lambda wc: network_settings(DEEP, wc.dataset, wc.arch)[name]


def deep_figure_inputs(datasets):
    """The train_deep tables (losses, outputs, discrepancy) of a figure's data sets."""
    return {
        name: expand(rules.train_deep.output[name], dataset=datasets, arch=ARCHITECTURES, seed=DEEP["seeds"])
        for name in ("losses", "outputs", "discrepancy")
    }


def image_source_receipt(wildcards):
    """The fetch receipt a data set needs (none for the bundled sources)."""
    source = DEEP["datasets"][wildcards.dataset]["source"]
    return expand(rules.fetch_images.output[0], source=source) if source in DOWNLOADED_SOURCES else []


def fig5_norm_files(pattern, kernels, activations):
    """One path of ``pattern`` (the ntk_norms output) per (kernel, activation, d, seed) of
    the Figure 5 sweep."""
    return expand(pattern, kernel=kernels, activation=activations, d=FIG5["d_values"], seed=FIG5["seeds"])


def report_deep_cpu_cost():
    """At the start of a real run (not a dry run, not inside a cluster job): when deep
    networks will train on this machine's CPU, print each scheduled job's estimated hours
    from a probe of this CPU and which ones deep.max_cpu_hours will stop."""
    if training_on_gpu():
        return
    try:
        jobs = [job for job in workflow.dag.needrun_jobs() if job.rule.name == "train_deep"]
    except AttributeError:  # the DAG's interface changed: say nothing rather than guess
        return
    if not jobs:
        return
    import torch

    from earlylin.cost import cpu_cost_report, job_cost, measure_flop_rate
    from earlylin.deep_jobs import deep_job
    from earlylin.metrics import logged_steps

    torch.set_num_threads(config["train_threads"])
    n_logged = len(logged_steps(DEEP["max_step"], DEEP["steps_per_decade"]))
    estimates = {}
    for dataset, arch in sorted({(job.wildcards.dataset, job.wildcards.arch) for job in jobs}):
        spec = deep_job(DEEP, dataset, arch)
        rate = measure_flop_rate(spec, DEEP["dtype"])
        count = sum(1 for job in jobs if (job.wildcards.dataset, job.wildcards.arch) == (dataset, arch))
        estimates[f"{arch} on {dataset}"] = (job_cost(spec, n_logged).hours(rate), rate, count)
    logger.warning(cpu_cost_report(estimates, DEEP["max_cpu_hours"]))


def scorecard_inputs():
    """The tables of every claim group of the scorecard, less those in scorecard.skip
    (their claims read "not run" and their tables are not built for the scorecard)."""
    groups = {
        "fig1": dict(
            fig1_network=fig1_main_files(rules.train_two_layer.output.losses),
            fig1_linear=fig1_main_files(rules.linear_model.output.losses),
            fig1_discrepancy=fig1_sweep_files(rules.compare_fig1.output.discrepancy),
        ),
        "fig2": dict(fig2_discrepancy=fig2_files(rules.compare_fig2.output.discrepancy)),
        "regimes": dict(horizons=rules.regime_horizons.output.horizons),
        "deep": dict(deep_discrepancy=deep_figure_inputs(figure_datasets(DEEP))["discrepancy"]),
        "fig5": dict(fits=rules.fit_ntk_slopes.output.fits, norms=rules.fit_ntk_slopes.output.norms),
        "horizon": dict(
            scale_horizons=rules.horizon_summary.output.horizons,
            scale_horizon_fits=rules.horizon_summary.output.fits,
        ),
        "width": dict(scale_width=rules.width_summary.output.table, scale_width_fits=rules.width_summary.output.fits),
    }
    skip = set(config["scorecard"]["skip"])
    return {name: files for group, inputs in groups.items() if group not in skip for name, files in inputs.items()}


# Figures 3 and 4 and the offline Figure 3: config key -> (report category, title).
DEEP_FIGURES = {
    "fig3": ("Figure 3", "Figure 3 (Section 4.2)"),
    "fig4": ("Figure 4", "Figure 4 (Appendix A)"),
    "fig3_offline": ("Figure 3 (beyond the paper)", "Figure 3's experiment on bundled MNIST (no download)"),
}


def deep_dataset_label(name):
    """A data set's row title: name, source, classes, pooling and image counts."""
    entry = dataset_entry(DEEP, name)
    return (
        f"{name} ({entry['source']} {entry['classes'][0]} vs {entry['classes'][1]}, pool {entry['pool']}, "
        f"n = {entry['n_train']} / {entry['n_test']})"
    )


def deep_figure_title(figure):
    """A deep figure's title: its networks (widths per data set) and training settings."""
    datasets = DEEP[figure]
    fc = {network_settings(DEEP, name, "fc")["width"] for name in datasets}
    cnn = {network_settings(DEEP, name, "cnn")["width"] for name in datasets}
    widths, channels = (", ".join(map(str, sorted(values))) for values in (fc, cnn))
    return (
        f"{DEEP_FIGURES[figure][1]}: {DEEP['fc']['depth']}-hidden-layer FC (width {widths}) and CNN "
        f"({channels} channels) with {DEEP['activation']}, batch {DEEP['batch_size']}, lr {DEEP['lr']}"
    )


# The theorems' time and width scales (rules in scales.smk).
from earlylin.scale_sizes import horizon_max_step, scaled_size

SCALES = config["scales"]
HORIZON = SCALES["horizon"]
WIDTH = SCALES["width"]


def lr_label(lr):
    """How a learning rate appears in paths (the `lr` wildcard): 1.0 -> '1', 0.5 -> '0.5'."""
    return format(float(lr), "g")


def scales_n(wildcards):
    """n = m = C d^(1+alpha) for the job's d (even, for the symmetric init)."""
    return scaled_size(int(wildcards.d), SCALES["C"], SCALES["alpha"])


def horizon_files(pattern):
    """One path of ``pattern`` (a horizon_run output) per (activation, d, lr, seed)."""
    return expand(
        pattern,
        activation=HORIZON["activations"],
        d=HORIZON["d_values"],
        lr=[lr_label(lr) for lr in HORIZON["lrs"]],
        seed=HORIZON["seeds"],
    )


def width_files(pattern):
    """One path of ``pattern`` (the width_run output) per (d, width, seed) of the width sweep."""
    return expand(
        pattern,
        d=WIDTH["d_values"],
        width=WIDTH["widths"],
        seed=WIDTH["seeds"],
    )


def scales_network_params(lr, activation, width):
    """Params of a horizon or width job; values may be functions of the wildcards. The
    device and scales.chunk_rows cannot change a table: the scripts read them from the
    config (no reruns when they change)."""
    return dict(
        activation=activation,
        leaky_relu_slope=leaky_slope(activation),
        width=width,
        lr=lr,
        dtype=SCALES["dtype"],
    )
