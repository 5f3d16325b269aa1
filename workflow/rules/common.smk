# Shared set-up: config validation (before any job), paths, helpers.

import os
import sys

from snakemake.logging import logger

# The package lives in this checkout's src/. Scripts inherit this search path (Snakemake
# passes the parent's sys.path to them), and cluster jobs re-read this file.
sys.path.insert(0, os.path.join(workflow.basedir, "src"))

from snakemake.exceptions import WorkflowError
from earlylin.config import ConfigError, validate_config
from earlylin.experiments import REGIMES

try:
    validate_config(
        config, os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
    )
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
    kernel="theta1|theta2|theta",
    activation=r"[a-z_]+",
    regime="|".join(REGIMES),
    model="linear|naive",
    source="cifar10|mnist",
    arch="fc|cnn",
    dataset=r"[A-Za-z0-9_]+",


def network_params(section, lr_first, lr_second, activation=None):
    """Params of a two-layer training job from a config section (Figure 1, 2 or the grid).
    Values may be functions of the wildcards, as everywhere in params."""
    return dict(
        activation=activation or section["activation"],
        leaky_relu_slope=config["leaky_relu_slope"],
        width=section["width"],
        lr_first=lr_first,
        lr_second=lr_second,
        max_step=section["max_step"],
        steps_per_decade=section["steps_per_decade"],
        dtype=section["dtype"],
        device=config["device"],
        chunk_rows=section.get("chunk_rows"),
    )


def linear_params(section, lr_first, lr_second, activation=None, model="linear", naive=False):
    """Params of a linear-model job; ``naive`` drops theta1, theta2 from q (Figure 2).
    Values may be functions of the wildcards, as everywhere in params."""
    return dict(
        activation=activation or section["activation"],
        leaky_relu_slope=config["leaky_relu_slope"],
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


def regime_files(name):
    """One path per (activation, regime, seed) job of the regime x activation grid."""
    return expand(
        f"{RESULTS}/regimes/{{activation}}/{{regime}}/seed{{seed}}/{name}",
        activation=GRID["activations"],
        regime=GRID["regimes"],
        seed=GRID["seeds"],
    )


def _deep_learning_rates():
    """FC lr from the config; the CNN's scaled so that both linear models coincide (Sec. 4.2)."""
    from earlylin.deep import cnn_linear_coefficients, cnn_to_fc_learning_rate_ratio, fc_linear_coefficients

    fc = fc_linear_coefficients(DEEP["activation"], DEEP["fc"]["depth"])
    cnn = cnn_linear_coefficients(DEEP["activation"], DEEP["cnn"]["depth"])
    return {"fc": DEEP["lr"], "cnn": DEEP["lr"] * cnn_to_fc_learning_rate_ratio(fc, cnn)}


DEEP_LR = _deep_learning_rates()


def deep_lr(arch):
    return DEEP_LR[arch]


def _training_on_gpu():
    if config["device"] == "cpu":
        return False
    import torch

    return torch.cuda.is_available() or config["device"] == "cuda"


# Training rules ask a cluster for one GPU each when the device is CUDA, for none otherwise.
GPU_JOBS = 1 if _training_on_gpu() else 0


def _warn_about_cpu_cost():
    """Say so at start when paper-scale deep training would run on a CPU (it still runs)."""
    from earlylin.cost import cpu_cost_warning, deep_run_flops
    from earlylin.metrics import logged_steps

    n_logged = len(logged_steps(DEEP["max_step"], DEEP["steps_per_decade"]))
    shapes = {"cifar10": (3, 32, 32), "mnist": (1, 28, 28), "digits": (1, 8, 8)}
    jobs = {}
    for name in sorted(set(DEEP["fig3"]) | set(DEEP["fig4"])):
        spec = DEEP["datasets"][name]
        c, h, w = shapes[spec["source"]]
        shape = (c, h // spec["pool"], w // spec["pool"])
        for arch in ("fc", "cnn"):
            jobs[f"{arch} on {name}"] = len(DEEP["seeds"]) * deep_run_flops(arch, shape, DEEP, n_logged)
    message = cpu_cost_warning(jobs)
    if message:
        logger.warning(message)


if not GPU_JOBS:
    _warn_about_cpu_cost()


def deep_figure_inputs(datasets):
    """The train_deep tables (losses, outputs, discrepancy) of Figure 3 or 4's data sets."""
    return {
        name: expand(f"{RESULTS}/deep/{{dataset}}/{{arch}}_seed{{seed}}_{name}.parquet",
                     dataset=datasets, arch=["fc", "cnn"], seed=DEEP["seeds"])
        for name in ("losses", "outputs", "discrepancy")
    }


def image_source_receipt(wildcards):
    """The fetch receipt a data set needs (none for the bundled digits)."""
    source = DEEP["datasets"][wildcards.dataset]["source"]
    return [] if source == "digits" else [f"{DEEP['data_root']}/{source}.verified.json"]


def fig5_norm_files(kernels, activations):
    """One norms table per (kernel, activation, d, seed) of the Figure 5 sweep."""
    return expand(
        f"{RESULTS}/fig5/norms_{{kernel}}_{{activation}}_d{{d}}_seed{{seed}}.parquet",
        kernel=kernels,
        activation=activations,
        d=FIG5["d_values"],
        seed=FIG5["seeds"],
    )
