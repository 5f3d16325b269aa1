"""``fig_models`` (beyond the paper, Section 4.1): does early training look linear for any
network? The config section ``models`` defines its jobs, one per (data set, network, seed), a
configuration of the one engine (``training``): the network beside its linearised network,
the linear model of the kernel constant + b x.x'/d (+ norm terms) fitted to its own empirical
NTK at initialisation, and (the paper's FC net and CNN) its infinite-width kernel model, on
the same minibatches, with the kernel movement. Light (no torch): the Snakefile builds the jobs
while it parses.

``models.networks`` (a catalogue; ``models.train`` lists the names trained) maps a name (a
label in file names and figures) to an entry with ``network`` (a built-in,
``package.module:factory`` or ``path/to/file.py:factory``, see ``networks.registry``), the
factory's ``kwargs``, the SGD learning rate ``lr`` and optionally ``linearise`` (train the
linearised network too; default ``models.linearise``). The data sets are entries of
``deep.datasets`` (the same two-class images, pooling, normalisation and seeded split).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from ..networks.catalogue import BUILTIN_NETWORKS, adaptation_problems, exact_kernel_of
from .image_sets import dataset_input_shape, named_dataset_problems, normalised

# The tables of one job (``network_tables.run_tables``).
TABLES = ("losses", "outputs", "discrepancy", "kernel_fit", "ntk_entries", "movement")
_MODULE_PATH = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_]\w*$")
TITLE = "Any network: early SGD against its linearised network and the linear model of its fitted NTK (Section 4.1)"


def network_file(network: str) -> str | None:
    """The Python file of a ``path/to/file.py:factory`` network (None for the other forms)."""
    path, _, _ = network.rpartition(":")
    return path if path.endswith(".py") else None


def network_entry(config: Mapping[str, Any], name: str, outputs: int = 1) -> dict[str, Any]:
    """The network ``name`` of models.networks as a job names it, built with ``outputs`` outputs
    per input: the factory argument ``outputs_argument`` of its entry set to that number, or a
    built-in's ``outputs`` when it is more than one."""
    entry = config["models"]["networks"][name]
    kwargs = dict(entry.get("kwargs") or {})
    argument = outputs_argument(entry)
    if argument is not None and (outputs > 1 or entry.get("outputs_argument")):
        kwargs[argument] = int(outputs)
    network = {
        "name": name,
        "network": entry["network"],
        "kwargs": kwargs,
        "key": f"models.networks.{name}",
        "init": "seed",
    }
    # only when set: a job of a network without them keeps its params (and reruns nothing)
    network.update({key: entry[key] for key in ("batch_norm", "input") if entry.get(key)})
    return network


def outputs_argument(entry: Mapping[str, Any]) -> str | None:
    """The factory argument that sets a network's outputs per input: ``outputs`` for the
    built-ins, the entry's ``outputs_argument`` for another factory (torchvision's
    ``num_classes``), None when it has none (the module's own outputs are checked)."""
    if entry.get("outputs_argument"):
        return str(entry["outputs_argument"])
    return "outputs" if entry["network"] in BUILTIN_NETWORKS else None


def keys(name: str, section: str) -> dict[str, str]:
    """The config keys a message of network ``name``'s jobs names (its steps: ``section``'s)."""
    return {
        "lr": f"models.networks.{name}.lr",
        "max_step": f"{section}.max_step",
        "max_cpu_hours": "models.max_cpu_hours",
        "linearise": f"models.networks.{name}.linearise",
    }


def training_job(config: Mapping[str, Any], dataset: str, name: str, seed: int) -> dict[str, Any]:
    """The job (a plain dict, the rule's params) of network ``name`` of models.networks on
    ``dataset`` with ``seed``, as fig_models trains it: the paper's loss and plain SGD."""
    section = config["models"]
    entry = section["networks"][name]
    network = network_entry(config, name)
    return {
        "dataset": dataset,
        "seed": int(seed),
        "network": network,
        **learning_rate(section, entry),
        "batch_size": int(section["batch_size"]),
        "max_step": int(section["max_step"]),
        "steps_per_decade": int(section["steps_per_decade"]),
        "dtype": section["dtype"],
        "linear": {
            "coefficients": "fit",
            "points": int(section["kernel_points"]),
            "initialisations": int(section["kernel_initialisations"]),
        },
        "linearise": bool(entry.get("linearise", section["linearise"])),
        # the exact kernels are computed for inputs with ||x||^2/d = 1 (the normalised images)
        "exact_kernel": exact_kernel_of(entry["network"], network["kwargs"]) if normalised(config, dataset) else None,
        "movement": {
            "steps": sorted({int(s) for s in section["movement_steps"]}),
            "points": int(section["movement_points"]),
        },
        "keys": keys(name, "models"),
    }


def learning_rate(section: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """A job's learning-rate keys: {"lr": value}, or for ``lr: auto`` {"lr": None,
    "lr_fraction": models.lr_fraction} (the engine takes that fraction of the linear model's
    largest stable rate, ``training.setup.auto_learning_rate``)."""
    if entry["lr"] == "auto":
        return {"lr": None, "lr_fraction": float(section["lr_fraction"])}
    return {"lr": float(entry["lr"])}


def job_wildcards(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every (dataset, net, seed) of fig_models."""
    section = config["models"]
    return [
        {"dataset": dataset, "net": name, "seed": int(seed)}
        for dataset in section["datasets"]
        for name in section["train"]
        for seed in section["seeds"]
    ]


def network_text(entry: Mapping[str, Any]) -> str:
    """'residual_cnn(blocks=2, channels=32), lr 1': a network of the config in one line."""
    kwargs = ", ".join(f"{k}={v}" for k, v in (entry.get("kwargs") or {}).items())
    extras = "".join(f", {key} {entry[key]}" for key in ("batch_norm",) if entry.get(key))
    lr = "auto" if entry["lr"] == "auto" else f"{float(entry['lr']):g}"
    return f"{entry['network']}({kwargs}){extras}, lr {lr}"


def figure_params(config: Mapping[str, Any], labels: Mapping[str, str], size_line: str = "") -> dict[str, Any]:
    """What fig_models' rule passes to its script: data sets and their row titles, the
    networks and their one-line texts, the title, and the report caption's list."""
    section = config["models"]
    networks = section["networks"]
    return {
        "datasets": list(section["datasets"]),
        "networks": list(section["train"]),
        "labels": {name: labels[name] for name in section["datasets"]},
        "network_labels": {name: network_text(networks[name]) for name in section["train"]},
        "title": TITLE + size_line,
        "networks_text": "; ".join(f"{name}: {network_text(networks[name])}" for name in section["train"]),
    }


def config_problems(config: Mapping[str, Any], workdir: str | os.PathLike = ".") -> list[str]:
    """Checks of the models section that span keys or need the file system (the schema cannot
    express them): its data sets exist in deep.datasets; each network is a built-in, an
    import path or an existing file; the batch, the kernel subset and the movement subset fit
    in the training set; the kernel-movement steps are trained."""
    section = config["models"]
    limits = {f"models.{key}": section[key] for key in ("batch_size", "kernel_points")}
    problems = named_dataset_problems(config["deep"], "models.datasets", section["datasets"], limits)
    if section["movement_points"] > section["kernel_points"]:
        problems.append(
            f"config key 'models.movement_points' = {section['movement_points']} exceeds models.kernel_points = "
            f"{section['kernel_points']} (the movement is measured on the first points of the kernel subset); "
            "lower it"
        )
    late = [s for s in section["movement_steps"] if s > section["max_step"]]
    if late:
        problems.append(
            f"config key 'models.movement_steps' has steps {late} beyond models.max_step = {section['max_step']}; "
            "remove them or train longer"
        )
    networks = section["networks"]
    unknown = [name for name in section["train"] if name not in networks]
    if unknown:
        problems.append(
            f"config key 'models.train' names networks {unknown} that 'models.networks' does not define; "
            f"defined: {', '.join(sorted(networks))}"
        )
    for name in section["train"]:
        if name in networks:
            problems += network_problems(f"models.networks.{name}", networks[name]["network"], workdir)
            problems += input_problems(config, name, section["datasets"])
    return problems


def input_problems(config: Mapping[str, Any], name: str, datasets: list[str]) -> list[str]:
    """Whether network ``name``'s input adaptation (``models.networks.<name>.input``) fits the
    images of each of ``datasets`` (``catalogue.adaptation_problems``)."""
    adaptation = config["models"]["networks"][name].get("input")
    known = config["deep"].get("datasets") or {}
    if not adaptation:
        return []
    problems = []
    for dataset in datasets:
        if dataset in known:
            shape = dataset_input_shape(config["deep"], dataset)
            problems += adaptation_problems(f"models.networks.{name}.input", adaptation, shape, dataset)
    return problems


def network_problems(key: str, network: str, workdir: str | os.PathLike = ".") -> list[str]:
    """Whether ``network`` names a built-in, an import path or an existing file."""
    if network in BUILTIN_NETWORKS:
        return []
    file = network_file(network)
    if file is not None:
        if not os.path.isfile(os.path.join(workdir, file)):
            return [
                f"config key '{key}.network' = {network!r}: the file {file!r} does not exist (paths are relative "
                f"to the directory the workflow runs in, {os.path.abspath(workdir)}); give the path of your "
                "model's .py file, then ':' and its factory"
            ]
        return []
    if not _MODULE_PATH.match(network):
        return [
            f"config key '{key}.network' = {network!r} is neither a built-in ({', '.join(BUILTIN_NETWORKS)}), "
            "an import path 'package.module:factory' nor a file 'path/to/file.py:factory'; use one of these forms"
        ]
    return []
