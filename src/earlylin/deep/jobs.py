"""The deep-network training jobs of Figures 3 and 4 as the config defines them.

One job = one (data set, architecture, seed). The config section ``deep`` gives the
defaults; an entry of ``deep.datasets`` may override the number of images (``n_train``,
``n_test``) and the networks trained on it (``fc: {depth, width}``,
``cnn: {depth, channels, filter_size}``), e.g. fewer CNN channels on a data set that is
only meant to run on a CPU. This module is light (no torch), so the workflow can use it
when it parses the Snakefile. A data set of the user's own images (``source: npz``) is
known from its file's headers and labels (``npz_source.npz_summary``, numpy only).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .sources import CLASS_COUNTS, SOURCE_SHAPES

ARCHITECTURES = ("fc", "cnn")
FIGURES = ("fig3", "fig4", "fig3_offline")
# The params of a train_deep job, in the order the rule lists them (``DeepJob.params``).
JOB_PARAMS = (
    "activation",
    "depth",
    "width",
    "filter_size",
    "lr",
    "fc_depth",
    "cnn_depth",
    "batch_size",
    "max_step",
    "steps_per_decade",
    "dtype",
    "allow_tf32",
)


@dataclass(frozen=True)
class DeepNetworkSpec:
    """A network of Figures 3/4: ``architecture`` 'fc' (``depth`` hidden layers of ``width``
    units) or 'cnn' (``depth`` q x q convolutions of ``width`` channels, q = ``filter_size``),
    with ``activation`` (Section 4.2: erf, depth 4, width 512 / 256 channels, q = 3)."""

    architecture: str
    depth: int
    width: int
    activation: str = "erf"
    filter_size: int = 3

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture {self.architecture!r}; allowed values: {', '.join(ARCHITECTURES)}")


@dataclass(frozen=True)
class DeepJob:
    """One train_deep job, resolved from the config once: the data set (its source, image
    shape after pooling and sizes), the network, and how it is trained. The Snakefile takes
    the rule's params from it (``params``) and the job's script builds the same object."""

    dataset: str
    source: str
    image_shape: tuple[int, int, int]  # after pooling
    n_train: int
    n_test: int
    network: DeepNetworkSpec
    lr: float  # the FC net's; a CNN's is matched to it (Section 4.2, ``ntk_recursion.matched_learning_rate``)
    fc_depth: int  # the FC net's depth on this data set (the CNN's learning rate depends on it)
    cnn_depth: int | None  # the CNN's depth on this data set; None for an FC job
    batch_size: int
    max_step: int
    steps_per_decade: int
    dtype: str
    allow_tf32: bool  # TF32 exists only on NVIDIA GPUs: False on a CPU, where it cannot change a table

    @property
    def arch(self) -> str:
        return self.network.architecture

    @property
    def depth(self) -> int:
        return self.network.depth

    @property
    def width(self) -> int:
        """FC units or CNN channels."""
        return self.network.width

    @property
    def filter_size(self) -> int | None:
        """The CNN's q (None for the FC net)."""
        return self.network.filter_size if self.arch == "cnn" else None

    @property
    def input_dim(self) -> int:
        return math.prod(self.image_shape)

    def params(self) -> dict[str, Any]:
        """The settings that change the job's tables, as the rule's params (``JOB_PARAMS``)."""
        values = dict(
            activation=self.network.activation,
            depth=self.depth,
            width=self.width,
            filter_size=self.filter_size,
            lr=self.lr,
            fc_depth=self.fc_depth,
            cnn_depth=self.cnn_depth,
            batch_size=self.batch_size,
            max_step=self.max_step,
            steps_per_decade=self.steps_per_decade,
            dtype=self.dtype,
            allow_tf32=self.allow_tf32,
        )
        return {name: values[name] for name in JOB_PARAMS}


def dataset_entry(deep: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    """The entry of ``deep.datasets`` with the section's n_train / n_test filled in."""
    entry = dict(deep["datasets"][dataset])
    entry.setdefault("n_train", deep["n_train"])
    entry.setdefault("n_test", deep["n_test"])
    return entry


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


def source_shape(entry: Mapping[str, Any]) -> tuple[int, int, int]:
    """(C, H, W) of the images of a data set's source, before pooling."""
    if entry["source"] == "npz":
        from .npz_source import npz_summary

        return npz_summary(entry["path"]).image_shape
    return SOURCE_SHAPES[entry["source"]]


def class_counts(entry: Mapping[str, Any]) -> dict[str, dict[int, int]]:
    """Images per class label of a data set's source: split ("pooled" for a source without a
    test split, else "train" and "test") -> label -> count."""
    if entry["source"] == "npz":
        from .npz_source import npz_summary

        return npz_summary(entry["path"]).counts
    return {split: dict(enumerate(counts)) for split, counts in CLASS_COUNTS[entry["source"]].items()}


def pooled_shape(entry: Mapping[str, Any]) -> tuple[int, int, int]:
    """(C, H, W) of a data set's images after its pooling."""
    channels, height, width = source_shape(entry)
    return channels, height // entry["pool"], width // entry["pool"]


def deep_job(deep: Mapping[str, Any], dataset: str, arch: str, gpu: bool = False) -> DeepJob:
    """The job training ``arch`` on ``dataset`` from the config section ``deep``; ``gpu``:
    whether it trains on CUDA (only there can ``deep.allow_tf32`` change a table)."""
    entry = dataset_entry(deep, dataset)
    settings = network_settings(deep, dataset, arch)
    network = DeepNetworkSpec(
        arch,
        settings["depth"],
        settings["width"],
        deep["activation"],
        **({"filter_size": settings["filter_size"]} if arch == "cnn" else {}),
    )
    return DeepJob(
        dataset=dataset,
        source=entry["source"],
        image_shape=pooled_shape(entry),
        n_train=int(entry["n_train"]),
        n_test=int(entry["n_test"]),
        network=network,
        lr=deep["lr"],
        fc_depth=network_settings(deep, dataset, "fc")["depth"],
        cnn_depth=settings["depth"] if arch == "cnn" else None,
        batch_size=deep["batch_size"],
        max_step=deep["max_step"],
        steps_per_decade=deep["steps_per_decade"],
        dtype=deep["dtype"],
        allow_tf32=deep["allow_tf32"] if gpu else False,
    )


def dataset_label(deep: Mapping[str, Any], name: str) -> str:
    """A data set's row title, from its own settings: name, source, classes, the image size
    after pooling and the image counts, e.g. 'mnist01_7x7 (mnist_subset 0 vs 1, 7x7, n = 400 / 200)'."""
    entry = dataset_entry(deep, name)
    channels, height, width = pooled_shape(entry)
    size = f"{height}x{width}" + (f"x{channels}" if channels > 1 else "")
    first, second = entry["classes"]
    return f"{name} ({entry['source']} {first} vs {second}, {size}, n = {entry['n_train']} / {entry['n_test']})"


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


def figure_title(deep: Mapping[str, Any], figure: str, heading: str) -> str:
    """A deep figure's title: ``heading``, its networks (``networks_text``), the activation
    and the SGD settings."""
    return (
        f"{heading}: {networks_text(deep, deep[figure])}, {deep['activation']}, "
        f"batch {deep['batch_size']}, lr {deep['lr']:g}"
    )


def figure_datasets(deep: Mapping[str, Any], figures: Iterable[str] = FIGURES) -> list[str]:
    """The data sets drawn by ``figures`` (sorted, each once)."""
    return sorted({name for figure in figures for name in deep.get(figure) or []})


def config_problems(deep: Mapping[str, Any]) -> list[str]:
    """Checks of the deep section that span keys (the schema cannot express them): every
    figure names defined data sets; every data set's two classes hold the images it asks for
    (``class_counts``, for every source); pooling divides the image size; the batch fits in
    the training set of every data set a deep figure trains on (other sections have their
    own batch sizes); a data set of the user's own images has a readable file
    (``npz_source``), and only such a data set names a file."""
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
        entry = dataset_entry(deep, name)
        key = f"deep.datasets.{name}"
        file_problems = _file_problems(entry, key)
        if file_problems:
            problems += file_problems
            continue
        problems += _size_problems(deep, name, entry, key)
        _, height, width = source_shape(entry)
        if height % entry["pool"] or width % entry["pool"]:
            divisors = [k for k in range(1, height + 1) if height % k == 0 and width % k == 0]
            problems.append(
                f"config key '{key}.pool' = {entry['pool']} does not divide the {height} x {width} "
                f"images of {entry['source']}; allowed: {', '.join(map(str, divisors))}"
            )
        if name in trained and deep["batch_size"] > entry["n_train"]:
            problems.append(
                f"config key 'deep.batch_size' = {deep['batch_size']} exceeds the {entry['n_train']} "
                f"training images of data set {name!r} ('{key}'); lower it or use more images"
            )
    return problems


def _file_problems(entry: Mapping[str, Any], key: str) -> list[str]:
    """A data set of source npz names a readable file (``npz_source.npz_summary``); no other names one."""
    if entry["source"] != "npz":
        if "path" in entry:
            return [f"config key '{key}.path' is set, but source {entry['source']} reads no file; remove it"]
        return []
    if "path" not in entry:
        return [f"config key '{key}.path' is missing: source npz reads the .npz file it names"]
    from .npz_source import NpzSourceError, npz_summary

    try:
        npz_summary(entry["path"])
    except NpzSourceError as err:
        return [f"config key '{key}.path' = '{entry['path']}': {err}"]
    return []


def label_ranges(labels: Iterable[int]) -> str:
    """Sorted labels, runs of three or more written as ranges: '0..99' (CIFAR-100), '0, 2, 5..7'."""
    runs: list[list[int]] = []
    for label in sorted(set(labels)):
        if runs and label == runs[-1][-1] + 1:
            runs[-1].append(label)
        else:
            runs.append([label])
    return ", ".join(f"{run[0]}..{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)) for run in runs)


def _size_problems(deep: Mapping[str, Any], name: str, entry: Mapping[str, Any], key: str) -> list[str]:
    """Whether both classes occur in the source, and whether they hold n_train + n_test
    images (a source without a test split) or n_train training and n_test test images (one with)."""
    counts = class_counts(entry)
    first, second = entry["classes"]
    absent = [c for c in (first, second) if any(c not in split for split in counts.values())]
    if absent:
        present = sorted(set().union(*counts.values()))
        return [
            f"config key '{key}.classes' = {list(entry['classes'])}: class {absent[0]} does not occur in source "
            f"{entry['source']}"
            + (" (in one of its splits)" if absent[0] in present else "")
            + f"; its labels: {label_ranges(present)}"
        ]
    origin = {
        part: f"'{key}.{part}'" if part in deep["datasets"][name] else f"'deep.{part}'"
        for part in ("n_train", "n_test")
    }
    if "pooled" in counts:
        held = counts["pooled"][first] + counts["pooled"][second]
        asked = entry["n_train"] + entry["n_test"]
        if asked <= held:
            return []
        return [
            f"config key '{key}': source {entry['source']} has {held} images of classes {first} and {second} "
            f"({counts['pooled'][first]} + {counts['pooled'][second]}) for train and test together, but n_train + "
            f"n_test = {entry['n_train']} + {entry['n_test']} = {asked}; lower n_train / n_test (now from "
            f"{origin['n_train']} and {origin['n_test']}) so that they sum to at most {held}"
        ]
    problems = []
    for part, split in (("n_train", "train"), ("n_test", "test")):
        held = counts[split][first] + counts[split][second]
        if entry[part] > held:
            problems.append(
                f"config key '{key}': the {split} split of {entry['source']} has {held} images of classes {first} "
                f"and {second}, but {part} = {entry[part]} (from {origin[part]}); lower it to at most {held}"
            )
    return problems
