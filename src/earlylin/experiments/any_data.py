"""``fig_data`` (beyond the paper: any data, loss and optimiser), as the config section
``fig_data`` defines it. One job trains the network ``fig_data.network`` (an entry of
``models.networks``: its factory, kwargs and learning rate) beside its linearised network and
the linear model of its fitted NTK (a configuration of the one engine, ``training``) on one
data set of ``deep.datasets``, with one loss and one heavy-ball momentum of
``fig_data.losses`` x ``fig_data.momenta``, on the real training inputs or (``fig_data.clone``:
with the first loss and momentum only) on their Gaussian clone (``data.gaussian_clone``), for
one seed. The seed fixes the initialisation and the batches, so the real-data and clone jobs
of a seed differ only in the training inputs. Test inputs are always the real ones. Light
(no torch): the Snakefile builds the jobs while it parses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .any_network import keys, network_entry, network_text
from .any_network import training_job as network_job
from .image_sets import named_dataset_problems

INPUTS = ("real", "clone")
# The tables of one job (``any_data_tables.run_job``).
TABLES = ("losses", "outputs", "discrepancy", "kernel_fit", "signs")
TITLE = "Any data, loss and optimiser: early SGD against the linear model of the network's fitted NTK (Section 4.1)"


def momentum_text(momentum: float) -> str:
    """The momentum as it appears in file names and wildcards: '0', '0.9'."""
    return f"{float(momentum):g}"


def job_wildcards(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every job of fig_data as wildcards (dataset, loss, momentum, inputs, seed)."""
    section = config["fig_data"]
    variants = [(loss, momentum_text(m), "real") for loss in section["losses"] for m in section["momenta"]]
    if section["clone"]:
        variants.append((section["losses"][0], momentum_text(section["momenta"][0]), "clone"))
    return [
        dict(dataset=dataset, loss=loss, momentum=momentum, inputs=inputs, seed=int(seed))
        for dataset in section["datasets"]
        for loss, momentum, inputs in variants
        for seed in section["seeds"]
    ]


def job(config: Mapping[str, Any], dataset: str, loss: str, momentum: str | float, inputs: str, seed: int) -> dict:
    """The job (a plain dict, the rule's params) of one fig_data run: the training job of
    fig_data's network with fig_data's loss, momentum and SGD settings (the kernel fit's
    settings are those of ``models``; no kernel movement and no infinite-width kernel model:
    fig_models draws those), the training inputs (real or clone) and the bootstrap resamples."""
    section = config["fig_data"]
    name = section["network"]
    train = network_job(config, dataset, name, seed)
    train.update(
        network=network_entry(config, name),
        batch_size=int(section["batch_size"]),
        max_step=int(section["max_step"]),
        steps_per_decade=int(section["steps_per_decade"]),
        movement=None,
        exact_kernel=None,
        loss=loss,
        momentum=float(momentum),
        keys=keys(name, "fig_data"),
    )
    return {"train": train, "inputs": inputs, "resamples": int(section["resamples"])}


def figure_params(config: Mapping[str, Any], labels: Mapping[str, str], size_line: str = "") -> dict[str, Any]:
    """What fig_data's rule passes to its script."""
    section = config["fig_data"]
    return {
        "datasets": list(section["datasets"]),
        "labels": {name: labels[name] for name in section["datasets"]},
        "network": network_text(config["models"]["networks"][section["network"]]),
        "n_logit_samples": section["n_logit_samples"],
        "title": TITLE + size_line,
    }


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """Checks of the fig_data section that span keys: its data sets exist in deep.datasets and
    hold the batch and the kernel subset; its network is defined in models.networks (the
    schema makes the lists of losses and momenta name each value once)."""
    section = config["fig_data"]
    limits = {"fig_data.batch_size": section["batch_size"], "models.kernel_points": config["models"]["kernel_points"]}
    problems = named_dataset_problems(config["deep"], "fig_data.datasets", section["datasets"], limits)
    networks = config["models"]["networks"]
    if section["network"] not in networks:
        problems.append(
            f"config key 'fig_data.network' = {section['network']!r} is not a network of 'models.networks'; "
            f"defined: {', '.join(sorted(networks))}"
        )
    return problems
