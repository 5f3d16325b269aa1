"""Figures 3 and 4 (Section 4.2, Appendix A) and Figure 3's experiment on the bundled MNIST
subset, as the config section ``deep`` defines them: one training job per (data set,
architecture, seed), a configuration of the one engine (``training``): the network (the
paper's FC net or CNN, NTK parameterisation, its initial weights from Figures 3-4's own seed
stream), beside its linear model with the coefficients of the infinite-width recursion
(Section 4.1) and, when ``deep.linearise`` / ``deep.exact_kernel`` ask for them, its
linearised network and its infinite-width kernel model, on the same minibatches. The CNN's
learning rate is the FC net's scaled so that their linear models coincide (Section 4.2).

The section gives the defaults; an entry of ``deep.datasets`` may override the number of
images, the seeds and the networks trained on it (``fc: {depth, width, seeds}``,
``cnn: {depth, channels, filter_size, seeds}``). Light (no torch): the Snakefile builds the
jobs and the figure titles while it parses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..core.host import training_on_gpu
from ..networks.catalogue import exact_kernel_of
from .image_sets import dataset_entry, dataset_label, dataset_problems

ARCHITECTURES = ("fc", "cnn")
# The tables of one job (``deep_tables.deep_tables``).
TABLES = ("losses", "outputs", "discrepancy")
# The deep figures: config key (and target) -> (report category, title heading).
FIGURES = {
    "fig3": ("Figure 3", "Figure 3 (Section 4.2)"),
    "fig4": ("Figure 4", "Figure 4 (Appendix A)"),
    "fig3_offline": ("Figure 3 (beyond the paper)", "Figure 3's experiment on bundled MNIST (no download)"),
}
# The keys of the deep section a message names.
KEYS = {
    "lr": "deep.lr",
    "max_step": "deep.max_step",
    "max_cpu_hours": "deep.max_cpu_hours",
    "linearise": "deep.linearise",
}


def network_settings(deep: Mapping[str, Any], dataset: str, arch: str) -> dict[str, int | None]:
    """depth, width (FC units or CNN channels) and filter_size (CNN only) of ``arch`` on ``dataset``:
    the section's ``fc`` / ``cnn`` with the data set's overrides."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"architecture {arch!r}; allowed values: {', '.join(ARCHITECTURES)}")
    merged = {**deep[arch], **deep["datasets"][dataset].get(arch, {})}
    return dict(
        depth=int(merged["depth"]),
        width=int(merged["width"] if arch == "fc" else merged["channels"]),
        filter_size=int(merged["filter_size"]) if arch == "cnn" else None,
    )


def job_seeds(deep: Mapping[str, Any], dataset: str, arch: str) -> list[int]:
    """The seeds ``arch`` trains with on ``dataset``: the network's own (``deep.datasets.<name>.fc.seeds``),
    else the data set's (``deep.datasets.<name>.seeds``), else ``deep.seeds``. Each seed draws
    the data set's train/test split, the initialisation and the batch order."""
    entry = deep["datasets"][dataset]
    return [int(s) for s in entry.get(arch, {}).get("seeds", entry.get("seeds", deep["seeds"]))]


def _network(deep: Mapping[str, Any], dataset: str, arch: str) -> dict[str, Any]:
    settings = network_settings(deep, dataset, arch)
    kwargs: dict[str, Any] = {"depth": settings["depth"], "activation": deep["activation"]}
    if arch == "fc":
        kwargs["width"] = settings["width"]
    else:
        kwargs.update(channels=settings["width"], filter_size=settings["filter_size"])
    key = f"deep.datasets.{dataset}.{arch}" if arch in deep["datasets"][dataset] else f"deep.{arch}"
    return {"name": arch, "network": arch, "kwargs": kwargs, "key": key, "init": "deep"}


def training_job(config: Mapping[str, Any], dataset: str, arch: str, seed: int) -> dict[str, Any]:
    """The job (a plain dict, the rule's params) training ``arch`` on ``dataset`` with ``seed``;
    TF32 only where the job trains on CUDA (the only place it can change a table)."""
    deep = config["deep"]
    network = _network(deep, dataset, arch)
    depth, activation = network["kwargs"]["depth"], deep["activation"]
    fc_depth = network_settings(deep, dataset, "fc")["depth"]
    return {
        "dataset": dataset,
        "seed": int(seed),
        "network": network,
        "lr": float(deep["lr"]),
        "lr_match": {"activation": activation, "fc_depth": fc_depth, "cnn_depth": depth} if arch == "cnn" else None,
        "batch_size": int(deep["batch_size"]),
        "max_step": int(deep["max_step"]),
        "steps_per_decade": int(deep["steps_per_decade"]),
        "dtype": deep["dtype"],
        "allow_tf32": bool(deep["allow_tf32"]) if training_on_gpu(config["device"]) else False,
        "linear": {"coefficients": "recursion", "architecture": arch, "activation": activation, "depth": depth},
        "linearise": bool(deep["linearise"]),
        "exact_kernel": exact_kernel_of(arch, network["kwargs"]) if deep["exact_kernel"] else None,
        "keys": KEYS,
    }


def job_wildcards(deep: Mapping[str, Any], datasets: Iterable[str]) -> list[dict[str, Any]]:
    """Every (dataset, arch, seed) a figure of ``datasets`` trains."""
    return [
        {"dataset": dataset, "arch": arch, "seed": seed}
        for dataset in datasets
        for arch in ARCHITECTURES
        for seed in job_seeds(deep, dataset, arch)
    ]


def model_label(arch: str, model: str) -> str:
    """A model's name in the deep tables: the architecture for the network ('fc'), else
    '<arch>_<model>' ('fc_linear', 'cnn_linearised', 'fc_exact_kernel')."""
    return arch if model == "network" else f"{arch}_{model}"


def _network_text(arch: str, settings: Mapping[str, int | None]) -> str:
    if arch == "fc":
        return f"FC {settings['depth']} x {settings['width']}"
    q = settings["filter_size"]
    return f"CNN {settings['depth']} x {settings['width']} channels ({q}x{q})"


def networks_text(deep: Mapping[str, Any], datasets: Iterable[str]) -> str:
    """The networks a figure trains, from each data set's own settings (depth x width, the
    CNN's channels and filter), naming the data sets where they differ:
    'FC 4 x 512 and CNN 4 x 16 channels (3x3) on a; 4 x 32 channels (3x3) on b'."""
    datasets = list(datasets)
    parts = []
    for arch in ARCHITECTURES:
        by_text: dict[str, list[str]] = {}
        for name in datasets:
            by_text.setdefault(_network_text(arch, network_settings(deep, name, arch)), []).append(name)
        if len(by_text) == 1:
            parts.append(next(iter(by_text)))
            continue
        head = arch.upper() + " "
        parts.append(
            head + "; ".join(f"{text.removeprefix(head)} on {', '.join(names)}" for text, names in by_text.items())
        )
    return " and ".join(parts)


def figure_title(deep: Mapping[str, Any], figure: str, size_line: str = "") -> str:
    """A deep figure's title: its heading, its networks (``networks_text``), the activation,
    the SGD settings and the run's size against the paper's (``run_size.size_line``)."""
    return (
        f"{FIGURES[figure][1]}: {networks_text(deep, deep[figure])}, {deep['activation']}, "
        f"batch {deep['batch_size']}, lr {deep['lr']:g}{size_line}"
    )


def figure_params(deep: Mapping[str, Any], figure: str, size_line: str = "") -> dict[str, Any]:
    """What a deep figure's rule passes to its script: its data sets, their row titles, the
    number of test outputs drawn, the title, and the texts of the report's caption."""
    datasets = list(deep[figure])
    return {
        "datasets": datasets,
        "labels": {name: dataset_label(deep, name) for name in datasets},
        "n_samples": deep["n_logit_samples"],
        "title": figure_title(deep, figure, size_line),
        "networks": networks_text(deep, datasets),
        "datasets_text": "; ".join(dataset_label(deep, name) for name in datasets),
    }


def figure_datasets(deep: Mapping[str, Any], figures: Iterable[str] = FIGURES) -> list[str]:
    """The data sets drawn by ``figures`` (sorted, each once)."""
    return sorted({name for figure in figures for name in deep.get(figure) or []})


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """Checks of the deep section that span keys (the schema cannot express them): every
    figure names defined data sets; every data set is usable (``image_sets.dataset_problems``:
    its file, classes, sizes, pooling); the batch fits in the training set of every data set
    a deep figure trains on (other sections have their own batch sizes)."""
    deep = config["deep"]
    datasets = deep.get("datasets") or {}
    trained = set(figure_datasets(deep))
    problems = [
        f"config key 'deep.{figure}' names data set {name!r}, which 'deep.datasets' does not define; "
        f"defined: {', '.join(sorted(datasets))}"
        for figure in FIGURES
        for name in deep.get(figure) or []
        if name not in datasets
    ]
    for name in sorted(datasets):
        problems += dataset_problems(deep, name)
        entry = dataset_entry(deep, name)
        if name in trained and deep["batch_size"] > entry["n_train"]:
            problems.append(
                f"config key 'deep.batch_size' = {deep['batch_size']} exceeds the {entry['n_train']} "
                f"training images of data set {name!r} ('deep.datasets.{name}'); lower it or use more images"
            )
    return problems
