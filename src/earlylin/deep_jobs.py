"""The deep-network training jobs of Figures 3 and 4 as the config defines them.

One job = one (data set, architecture, seed). The config section ``deep`` gives the
defaults; an entry of ``deep.datasets`` may override the number of images (``n_train``,
``n_test``) and the networks trained on it (``fc: {depth, width}``,
``cnn: {depth, channels, filter_size}``), e.g. fewer CNN channels on a data set that is
only meant to run on a CPU. This module is light (no torch), so the workflow can use it
when it parses the Snakefile.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .images import BUNDLED_CLASS_SIZES, SOURCE_SHAPES

ARCHITECTURES = ("fc", "cnn")
FIGURES = ("fig3", "fig4", "fig3_offline")


@dataclass(frozen=True)
class DeepJob:
    """What one train_deep job trains, resolved from the config."""

    dataset: str
    arch: str
    source: str
    image_shape: tuple[int, int, int]  # after pooling
    n_train: int
    n_test: int
    depth: int
    width: int  # FC units or CNN channels
    filter_size: int | None  # CNN only
    batch_size: int
    max_step: int
    steps_per_decade: int

    @property
    def input_dim(self) -> int:
        return math.prod(self.image_shape)


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


def pooled_shape(source: str, pool: int) -> tuple[int, int, int]:
    channels, height, width = SOURCE_SHAPES[source]
    return channels, height // pool, width // pool


def deep_job(deep: Mapping[str, Any], dataset: str, arch: str) -> DeepJob:
    entry = dataset_entry(deep, dataset)
    return DeepJob(
        dataset=dataset,
        arch=arch,
        source=entry["source"],
        image_shape=pooled_shape(entry["source"], entry["pool"]),
        n_train=int(entry["n_train"]),
        n_test=int(entry["n_test"]),
        **network_settings(deep, dataset, arch),
        batch_size=int(deep["batch_size"]),
        max_step=int(deep["max_step"]),
        steps_per_decade=int(deep["steps_per_decade"]),
    )


def figure_datasets(deep: Mapping[str, Any], figures: Iterable[str] = FIGURES) -> list[str]:
    """The data sets drawn by ``figures`` (sorted, each once)."""
    return sorted({name for figure in figures for name in deep.get(figure) or []})


def config_problems(deep: Mapping[str, Any]) -> list[str]:
    """Checks of the deep section that span keys (the schema cannot express them): every
    figure names defined data sets; a bundled source holds the images asked for; pooling
    divides the image size; the batch fits in the training set."""
    datasets = deep.get("datasets") or {}
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
        per_class = BUNDLED_CLASS_SIZES.get(entry["source"])
        if per_class is not None and entry["n_train"] + entry["n_test"] > 2 * per_class:
            where = "n_train" if "n_train" in deep["datasets"][name] else "deep.n_train"
            problems.append(
                f"config key '{key}': source {entry['source']} has {per_class} images per class, so two "
                f"classes hold {2 * per_class} images for train and test together, but n_train + n_test = "
                f"{entry['n_train']} + {entry['n_test']} = {entry['n_train'] + entry['n_test']}; lower "
                f"'{key}.n_train' / '{key}.n_test' (now from {where}) so that they sum to at most {2 * per_class}"
            )
        _, height, width = SOURCE_SHAPES[entry["source"]]
        if height % entry["pool"] or width % entry["pool"]:
            divisors = [k for k in range(1, height + 1) if height % k == 0 and width % k == 0]
            problems.append(
                f"config key '{key}.pool' = {entry['pool']} does not divide the {height} x {width} "
                f"images of {entry['source']}; allowed: {', '.join(map(str, divisors))}"
            )
        if deep["batch_size"] > entry["n_train"]:
            problems.append(
                f"config key 'deep.batch_size' = {deep['batch_size']} exceeds the {entry['n_train']} "
                f"training images of data set {name!r} ('{key}'); lower it or use more images"
            )
    return problems
