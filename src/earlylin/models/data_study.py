"""The jobs of ``fig_data`` (beyond the paper: any data, loss and optimiser) as the config
section ``fig_data`` defines them. Light (no torch), so the workflow can use it when it parses
the Snakefile.

One job trains the network ``fig_data.network`` (an entry of ``models.networks``: its
factory, kwargs and learning rate) beside its linearised network and the linear model of its
fitted NTK (``training.run_model_sgd``) on one data set of ``deep.datasets``, with one loss and
one heavy-ball momentum of ``fig_data.losses`` x ``fig_data.momenta``, on the real training
inputs or (``fig_data.clone``: with the first loss and momentum only) on their Gaussian clone
(``deep.gaussian_clone``), for one seed. The seed fixes the initialisation and the batches, so
the real-data and clone jobs of a seed differ only in the training inputs. Test inputs are
always the real ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .jobs import ModelJob, dataset_problems, model_job

INPUTS = ("real", "clone")


def momentum_text(momentum: float) -> str:
    """The momentum as it appears in file names and wildcards: '0', '0.9'."""
    return f"{float(momentum):g}"


def data_study_jobs(config: Mapping[str, Any]) -> list[dict[str, Any]]:
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


def data_study_job(config: Mapping[str, Any], dataset: str, loss: str, momentum: str | float) -> ModelJob:
    """The ModelJob of one fig_data job: the network of ``fig_data.network`` with fig_data's
    loss, momentum and SGD settings; the kernel fit's settings are those of ``models``; no
    kernel movement and no infinite-width kernel model (fig_models draws those)."""
    section = config["fig_data"]
    job = model_job(config, dataset, section["network"])
    return replace(
        job,
        batch_size=int(section["batch_size"]),
        max_step=int(section["max_step"]),
        steps_per_decade=int(section["steps_per_decade"]),
        movement_steps=(),
        movement_points=0,  # no movement: models.movement_points must not rerun these jobs
        exact_kernel=None,
        loss=loss,
        momentum=float(momentum),
    )


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """Checks of the fig_data section that span keys: its data sets exist in deep.datasets and
    hold the batch and the kernel subset; its network is defined in models.networks (the
    schema makes the lists of losses and momenta name each value once)."""
    section = config["fig_data"]
    limits = {"fig_data.batch_size": section["batch_size"], "models.kernel_points": config["models"]["kernel_points"]}
    problems = dataset_problems(config["deep"], "fig_data.datasets", section["datasets"], limits)
    networks = config["models"]["networks"]
    if section["network"] not in networks:
        problems.append(
            f"config key 'fig_data.network' = {section['network']!r} is not a network of 'models.networks'; "
            f"defined: {', '.join(sorted(networks))}"
        )
    return problems
