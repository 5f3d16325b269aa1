"""``fig_classes`` (beyond the paper): the paper's test for the task researchers train, k
classes and softmax cross-entropy, as the config section ``fig_classes`` defines it. One job
trains a network of ``models.networks`` (its factory, kwargs and learning rate) with k outputs
per input on a data set of k classes of ``deep.datasets``, with one loss of
``fig_classes.losses`` (``core.losses``: cross_entropy, or mse on one-hot targets) and
heavy-ball ``fig_classes.momentum``, beside its linearised network, the linear model with k
heads on the features of the kernel fitted to its NTK averaged over the outputs (the
cross-output blocks measured), and for the paper's FC net and CNN the exact-kernel model
Theta_inf (x) I_k, all centred (f_0 = 0) on the same minibatches, for one seed. Light (no
torch): the Snakefile builds the jobs while it parses.

The number of outputs reaches the network through its factory's argument: ``outputs`` for the
built-ins, ``models.networks.<name>.outputs_argument`` for a factory by name (torchvision's
``num_classes``); a network without one must return (batch, k) itself, which the front door
checks before anything else runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.losses import output_count
from .any_network import keys, network_entry, network_text, outputs_argument
from .any_network import training_job as network_job
from .image_sets import n_classes, named_dataset_problems

# The tables of one job (``any_classes_tables.run_job``).
TABLES = ("losses", "outputs", "discrepancy", "kernel_fit", "classes")
TITLE = (
    "k classes: early SGD of k outputs against the linearised network and the k-head linear model of the "
    "network's fitted NTK (Section 4.1)"
)


def job_wildcards(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every (dataset, net, loss, seed) of fig_classes."""
    section = config["fig_classes"]
    return [
        dict(dataset=dataset, net=name, loss=loss, seed=int(seed))
        for dataset in section["datasets"]
        for name in section["networks"]
        for loss in section["losses"]
        for seed in section["seeds"]
    ]


def job(config: Mapping[str, Any], dataset: str, name: str, loss: str, seed: int) -> dict[str, Any]:
    """The job (a plain dict, the rule's params) of one fig_classes run: network ``name`` as
    fig_models builds it, with k outputs (its outputs argument set to k), fig_classes' loss,
    momentum, SGD settings and kernel fit, no kernel movement, and the bootstrap resamples."""
    section = config["fig_classes"]
    classes = n_classes(config["deep"], dataset)
    outputs = output_count(loss, classes)
    network = network_entry(config, name, outputs)
    train = network_job(config, dataset, name, seed)
    train.update(
        network=network,
        batch_size=int(section["batch_size"]),
        max_step=int(section["max_step"]),
        steps_per_decade=int(section["steps_per_decade"]),
        linear={
            "coefficients": "fit",
            "points": int(section["kernel_points"]),
            "initialisations": int(section["kernel_initialisations"]),
        },
        exact_kernel=train["exact_kernel"] if section["exact_kernel"] else None,
        movement=None,
        loss=loss,
        momentum=float(section["momentum"]),
        classes=classes,
        outputs=outputs,
        keys=keys(name, "fig_classes"),
    )
    return {"train": train, "resamples": int(section["resamples"])}


def figure_params(config: Mapping[str, Any], labels: Mapping[str, str], size_line: str = "") -> dict[str, Any]:
    """What fig_classes' rule passes to its script: data sets and their row titles, networks
    and their one-line texts, losses, momentum, the title."""
    section = config["fig_classes"]
    networks = config["models"]["networks"]
    return {
        "datasets": list(section["datasets"]),
        "networks": list(section["networks"]),
        "losses": list(section["losses"]),
        "momentum": float(section["momentum"]),
        "labels": {name: labels[name] for name in section["datasets"]},
        "network_labels": {name: network_text(networks[name]) for name in section["networks"]},
        "title": TITLE + size_line,
    }


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """Checks of the fig_classes section that span keys, before any job: its data sets exist in
    deep.datasets and hold the batch and the kernel subset; every loss fits every data set's
    number of classes (logistic needs two); its networks are defined in models.networks, and a
    network's outputs argument is not also fixed by hand in its kwargs."""
    section = config["fig_classes"]
    limits = {f"fig_classes.{key}": section[key] for key in ("batch_size", "kernel_points")}
    problems = named_dataset_problems(config["deep"], "fig_classes.datasets", section["datasets"], limits, False)
    known = config["deep"].get("datasets") or {}
    for dataset in section["datasets"]:
        if dataset not in known:
            continue
        for loss in section["losses"]:
            try:
                output_count(loss, n_classes(config["deep"], dataset))
            except ValueError as error:
                problems.append(
                    f"config key 'fig_classes.losses' = {list(section['losses'])}: data set {dataset!r} (named by "
                    f"'fig_classes.datasets'): {error}"
                )
    networks = config["models"]["networks"]
    for name in section["networks"]:
        if name not in networks:
            problems.append(
                f"config key 'fig_classes.networks' names network {name!r}, which 'models.networks' does not define; "
                f"defined: {', '.join(sorted(networks))}"
            )
            continue
        argument = outputs_argument(networks[name])
        if argument is not None and argument in (networks[name].get("kwargs") or {}):
            problems.append(
                f"config key 'models.networks.{name}.kwargs.{argument}' = {networks[name]['kwargs'][argument]!r} "
                f"fixes the outputs per input, which fig_classes sets to each data set's number of classes "
                f"(through the factory's argument {argument!r}); remove it from kwargs"
            )
    return problems
