"""How a run's size compares with the paper's: the run's settings against the paper's
(config/config.yaml), per claim group and per deep data set. A figure title and a scorecard
row measured at a reduced size say so, so that a verdict of the preview is not read as a
verdict on the paper. Light (no numpy): the Snakefile computes the sizes while it parses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .deep import FIGURES, job_seeds, network_settings
from .image_sets import dataset_entry

# The settings that set the size of each claim group's experiments (dotted config keys).
SIZE_KEYS: dict[str, tuple[str, ...]] = {
    "fig1": ("fig1.width", "fig1.d", "fig1.d_sweep", "fig1.n_train", "fig1.n_test", "fig1.max_step", "fig1.seeds"),
    "fig2": ("fig2.width", "fig2.d", "fig2.n_train", "fig2.n_test", "fig2.max_step", "fig2.seeds"),
    "regimes": (
        "regimes.width",
        "regimes.d",
        "regimes.n_train",
        "regimes.n_test",
        "regimes.max_step",
        "regimes.activations",
        "regimes.seeds",
    ),
    "deep": ("deep.batch_size", "deep.max_step", "deep.seeds"),
    "any_network": (
        "models.datasets",
        "models.train",
        "models.batch_size",
        "models.max_step",
        "models.seeds",
        "models.kernel_points",
        "models.kernel_initialisations",
    ),
    "widths": (
        "models.widths.networks",
        "models.widths.datasets",
        "models.widths.steps",
        "models.widths.seeds",
        "models.batch_size",
        "models.kernel_points",
        "models.kernel_initialisations",
    ),
    "fig5_models": (
        "fig5_models.networks",
        "fig5_models.sides",
        "fig5_models.points",
        "fig5_models.kernel_points",
        "fig5_models.seeds",
    ),
    "any_data": (
        "fig_data.datasets",
        "fig_data.network",
        "fig_data.batch_size",
        "fig_data.max_step",
        "fig_data.seeds",
        "models.kernel_points",
        "models.kernel_initialisations",
    ),
    "any_classes": (
        "fig_classes.datasets",
        "fig_classes.networks",
        "fig_classes.losses",
        "fig_classes.batch_size",
        "fig_classes.max_step",
        "fig_classes.seeds",
        "fig_classes.kernel_points",
        "fig_classes.kernel_initialisations",
    ),
    "fig5": ("fig5.n", "fig5.width", "fig5.d_values", "fig5.seeds"),
    "horizon": (
        "scales.C",
        "scales.n_test",
        "scales.horizon.d_values",
        "scales.horizon.lrs",
        "scales.horizon.window",
        "scales.horizon.seeds",
    ),
    "width": ("scales.C", "scales.n_test", "scales.width.d_values", "scales.width.widths", "scales.width.seeds"),
}
PAPER = "paper"


def _get(config: Mapping[str, Any], key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(_text, value)) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_text(v)}" for k, v in value.items()) + "}"
    return format(value, "g") if isinstance(value, float) else str(value)


def _smaller(run: Any, paper: Any) -> bool:
    """Whether a size setting is smaller than the paper's: a number, or a list of numbers
    with fewer entries or a smaller largest one (d sweeps, seeds)."""
    numbers = (int, float)
    if isinstance(run, bool) or isinstance(paper, bool):
        return False
    if isinstance(run, numbers) and isinstance(paper, numbers):
        return run < paper
    if isinstance(run, list) and isinstance(paper, list) and run and paper:
        if all(isinstance(v, numbers) for v in run + paper):
            return len(run) < len(paper) or max(run) < max(paper)
    return False


def describe(differences: Iterable[tuple[str, Any, Any]]) -> str:
    """'paper' when nothing differs, else 'reduced: key run (paper value); ...' when some
    size is smaller than the paper's, 'changed: ...' otherwise."""
    differences = list(differences)
    if not differences:
        return PAPER
    smaller = any(_smaller(run, paper) for _, run, paper in differences)
    listed = "; ".join(f"{key} {_text(run)} (paper {_text(paper)})" for key, run, paper in differences)
    return f"{'reduced' if smaller else 'changed'}: {listed}"


def group_sizes(config: Mapping[str, Any], paper: Mapping[str, Any]) -> dict[str, str]:
    """Per claim group, the run's settings that differ from the paper's (``describe``)."""
    return {
        group: describe(
            (key, _get(config, key), _get(paper, key)) for key in keys if _get(config, key) != _get(paper, key)
        )
        for group, keys in SIZE_KEYS.items()
    }


def dataset_sizes(deep: Mapping[str, Any], paper_deep: Mapping[str, Any]) -> dict[str, str]:
    """Per data set of the run's deep figures, how it differs from the data set the paper's
    config draws in the same place (same figure, same position): source, classes, pooling,
    image counts, networks and seeds."""

    def settings(section: Mapping[str, Any], name: str) -> dict[str, Any]:
        entry = dataset_entry(section, name)
        values = {key: entry[key] for key in ("source", "classes", "pool", "n_train", "n_test")}
        for arch in ("fc", "cnn"):
            net = network_settings(section, name, arch)
            values[f"{arch}.depth"], values[f"{arch}.width"] = net["depth"], net["width"]
            values[f"{arch}.seeds"] = job_seeds(section, name, arch)
        return values

    sizes: dict[str, str] = {}
    for figure in FIGURES:
        for position, name in enumerate(deep.get(figure) or []):
            if name in sizes:
                continue
            counterpart = (paper_deep.get(figure) or [None] * (position + 1))[position : position + 1]
            if not counterpart or counterpart[0] not in paper_deep.get("datasets", {}):
                sizes[name] = "changed: a data set of this run only"
                continue
            run, paper = settings(deep, name), settings(paper_deep, counterpart[0])
            sizes[name] = describe((key, run[key], paper[key]) for key in run if run[key] != paper[key])
    return sizes


def size_line(sizes: Mapping[str, str], group: str) -> str:
    """A figure title's last line when the run is not at the paper's size (else '')."""
    size = sizes[group]
    if size == PAPER:
        return ""
    kind, differences = size.split(": ", 1)
    return f"\n{kind} scale, not the paper's: {differences}"
