"""``fig_widths`` (beyond the paper): width as a knob. For each network of ``models.widths``
the workflow trains it at every value of one argument of its factory (its width), beside its
linearised network and the linear model of its fitted NTK, as ``fig_models`` does (the same
engine, data sets, batches and learning rate), for the first ``max(steps)`` steps. The figure
draws each pair's relative MSE at the chosen steps against the width, with fitted slopes: a gap
that falls with the width is finite width (the network's NTK fluctuates about its
infinite-width limit as 1/sqrt(width)); one that does not is the kernel's higher-order terms
(the simple kernel constant + b x.x'/d leaves them out at any width). Light (no torch): the
Snakefile builds the jobs while it parses.

``models.widths``: ``networks`` (a name of models.networks -> ``argument``, the factory's
keyword argument to sweep, default the built-in's width argument, and its ``values``),
``datasets`` (keys of deep.datasets), ``steps`` and ``seeds``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..networks.catalogue import BUILTIN_NETWORKS
from .any_network import TABLES, input_problems, training_job
from .image_sets import named_dataset_problems

TITLE = (
    "Width as a knob: relative MSE of each pair at fixed steps against the width; a gap that falls with the "
    "width is finite width, one that does not is the kernel's higher-order terms (Section 4.1)"
)
__all__ = ["TABLES", "argument_of", "width_job", "job_wildcards", "config_problems", "gather", "fit_slopes"]


def argument_of(config: Mapping[str, Any], name: str) -> str:
    """The factory argument swept for network ``name`` (the entry's ``argument``, else the
    built-in's width argument)."""
    sweep = config["models"]["widths"]["networks"][name]
    if sweep.get("argument"):
        return str(sweep["argument"])
    return BUILTIN_NETWORKS[config["models"]["networks"][name]["network"]].width_argument


def width_job(config: Mapping[str, Any], dataset: str, name: str, width: int, seed: int) -> dict[str, Any]:
    """The job of network ``name`` with its width argument set to ``width``: fig_models' job
    (``any_network.training_job``) trained for max(models.widths.steps) steps with its
    linearised network, without the kernel movement."""
    section = config["models"]["widths"]
    job = training_job(config, dataset, name, seed)
    argument = argument_of(config, name)
    job["network"]["kwargs"] = {**job["network"]["kwargs"], argument: int(width)}
    job["max_step"] = max(int(s) for s in section["steps"])
    job["linearise"] = True
    job["movement"] = None
    job["sweep"] = {"argument": argument, "value": int(width)}
    job["keys"] = {
        **job["keys"],
        "max_step": "models.widths.steps",
        "width": f"models.widths.networks.{name}.values",
        "width_argument": f"models.widths.networks.{name}.argument",
    }
    return job


def job_wildcards(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every (dataset, net, width, seed) of fig_widths."""
    section = config["models"]["widths"]
    return [
        {"dataset": dataset, "net": name, "width": int(width), "seed": int(seed)}
        for dataset in section["datasets"]
        for name, sweep in section["networks"].items()
        for width in sweep["values"]
        for seed in section["seeds"]
    ]


def figure_params(config: Mapping[str, Any], labels: Mapping[str, str], size_line: str = "") -> dict[str, Any]:
    """What fig_widths' rule passes to its script."""
    section = config["models"]["widths"]
    networks = config["models"]["networks"]
    return {
        "datasets": list(section["datasets"]),
        "networks": list(section["networks"]),
        "labels": {name: labels[name] for name in section["datasets"]},
        "network_labels": {
            name: _swept_text(networks[name], argument_of(config, name)) for name in section["networks"]
        },
        "steps": sorted(int(s) for s in section["steps"]),
        "title": TITLE + size_line,
    }


def _swept_text(entry: Mapping[str, Any], argument: str) -> str:
    """'fc(depth=2), lr 1, width swept': the network's line without the swept argument."""
    from .any_network import network_text

    kwargs = {k: v for k, v in (entry.get("kwargs") or {}).items() if k != argument}
    return f"{network_text({**entry, 'kwargs': kwargs})}, {argument} swept"


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """Checks of models.widths across keys: its networks exist in models.networks and name the
    argument to sweep (a network of the user's own must), its data sets exist and hold a batch,
    its steps fit the logged steps."""
    section = config["models"].get("widths")
    if not section:
        return []
    networks = config["models"]["networks"]
    problems = named_dataset_problems(
        config["deep"],
        "models.widths.datasets",
        section["datasets"],
        {"models.batch_size": config["models"]["batch_size"]},
    )
    for name, sweep in section["networks"].items():
        key = f"models.widths.networks.{name}"
        if name not in networks:
            problems.append(
                f"config key '{key}' names network {name!r}, which 'models.networks' does not define; "
                f"defined: {', '.join(sorted(networks))}"
            )
            continue
        problems += input_problems(config, name, list(section["datasets"]))
        builtin = BUILTIN_NETWORKS.get(networks[name]["network"])
        if not sweep.get("argument") and (builtin is None or not builtin.width_argument):
            problems.append(
                f"config key '{key}.argument' is missing: {networks[name]['network']!r} is not a built-in network, so "
                "the workflow cannot know which argument of its factory is the width; name it (e.g. argument: width)"
            )
        if builtin is not None and sweep.get("argument") and sweep["argument"] not in builtin.arguments:
            problems.append(
                f"config key '{key}.argument' = {sweep['argument']!r} is not an argument of the built-in "
                f"{networks[name]['network']!r}; its arguments: {', '.join(builtin.arguments)}"
            )
    return problems


def gather(relative: pd.DataFrame, steps: list[int]) -> pd.DataFrame:
    """The discrepancy tables of every job, one below the other (columns dataset, net, width,
    seed, reference, other, step, value), at the chosen ``steps`` only."""
    return relative[relative["step"].isin(steps)].reset_index(drop=True)


def fit_slopes(relative: pd.DataFrame) -> pd.DataFrame:
    """Least squares of log(mean over seeds) on log width per (data set, network, pair, step),
    with the slope's standard error and its spread over seeds (``core.fits.mean_power_law``);
    a curve with a relative MSE of 0 (no log) or fewer than two widths has no slope."""
    from ..core.fits import mean_power_law

    keys = ["dataset", "net", "reference", "other", "step"]
    rows = [
        {**dict(zip(keys, key)), **mean_power_law(group, "width")}
        for key, group in relative.groupby(keys, sort=True)
        if group["width"].nunique() >= 2 and (group.groupby("width")["value"].mean() > 0).all()
    ]
    return pd.DataFrame(rows)
