"""The jobs of ``fig_models`` as the config section ``models`` defines them: one job = one
(data set, network, seed). Light (no torch), so the workflow can use it when it parses the
Snakefile.

``models.networks`` (a catalogue; ``models.train`` lists the names trained) maps a name (a
label in file names and figures) to an entry with ``network`` (a built-in,
``package.module:factory`` or ``path/to/file.py:factory``, see ``registry``), the factory's
``kwargs``, the SGD learning rate ``lr`` and optionally ``linearise`` (train the linearised
network too; default ``models.linearise``). The data sets are entries of ``deep.datasets``
(the same two-class images, pooling, normalisation and seeded split).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..deep.jobs import dataset_entry, pooled_shape

BUILTIN_NETWORKS = ("fc", "cnn", "residual_cnn", "fc_standard")
# The losses every model of a run can train on (``earlylin.losses``).
LOSSES = ("mse", "logistic")
# The built-ins whose infinite-width NTK the workflow computes (the exact-kernel model): the
# paper's FC net and CNN, with their factories' defaults (``builtin``).
EXACT_KERNEL_DEFAULTS = {
    "fc": {"depth": 4, "activation": "erf"},
    "cnn": {"depth": 4, "activation": "erf", "filter_size": 3},
}
# The CNN's kernel needs closed-form Gaussian expectations (``exact_kernel.cnn_exact_kernel``).
CNN_KERNEL_ACTIVATIONS = ("erf", "relu")
# The params of a train_model job, in the order the rule lists them (``ModelJob.params``).
JOB_PARAMS = (
    "network",
    "kwargs",
    "lr",
    "batch_size",
    "max_step",
    "steps_per_decade",
    "dtype",
    "kernel_points",
    "kernel_initialisations",
    "movement_steps",
    "movement_points",
    "linearise",
    "exact_kernel",
    "loss",
    "momentum",
)
_MODULE_PATH = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_]\w*$")


@dataclass(frozen=True)
class ModelJob:
    """One train_model job, resolved from the config once (the rule's params and the job's
    script both build it)."""

    dataset: str
    name: str
    network: str
    kwargs: Mapping[str, Any]
    input_shape: tuple[int, ...]
    n_train: int
    lr: float
    batch_size: int
    max_step: int
    steps_per_decade: int
    dtype: str
    kernel_points: int
    kernel_initialisations: int
    movement_steps: tuple[int, ...]
    movement_points: int
    linearise: bool
    # the infinite-width NTK: (activation, depth) of the FC net, (activation, depth, filter size) of the CNN
    exact_kernel: tuple[str, int] | tuple[str, int, int] | None
    # the objective and optimiser of every model of the run (``earlylin.losses``): fig_models
    # trains on the paper's half square loss with plain SGD, fig_data varies both
    loss: str = "mse"
    momentum: float = 0.0

    @property
    def key(self) -> str:
        return f"models.networks.{self.name}"

    def params(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in JOB_PARAMS}
        values["kwargs"] = dict(self.kwargs)
        values["movement_steps"] = list(self.movement_steps)
        values["exact_kernel"] = list(self.exact_kernel) if self.exact_kernel else None
        return values


def network_file(network: str) -> str | None:
    """The Python file of a ``path/to/file.py:factory`` network (None for the other forms)."""
    path, _, _ = network.rpartition(":")
    return path if path.endswith(".py") else None


def exact_kernel_of(network: str, kwargs: Mapping[str, Any]) -> tuple[str, int] | tuple[str, int, int] | None:
    """What defines the infinite-width NTK the workflow computes for ``network``: (activation,
    depth) of the FC net, (activation, depth, filter size) of the CNN; None for other networks
    and for a CNN whose activation has no closed-form kernel."""
    if network not in EXACT_KERNEL_DEFAULTS:
        return None
    merged = {**EXACT_KERNEL_DEFAULTS[network], **kwargs}
    if network == "fc":
        return str(merged["activation"]), int(merged["depth"])
    if merged["activation"] not in CNN_KERNEL_ACTIVATIONS:
        return None
    return str(merged["activation"]), int(merged["depth"]), int(merged["filter_size"])


def model_job(config: Mapping[str, Any], dataset: str, name: str) -> ModelJob:
    """The job training network ``name`` of ``models.networks`` on ``dataset``."""
    section, deep = config["models"], config["deep"]
    entry = section["networks"][name]
    data = dataset_entry(deep, dataset)
    channels, height, width = pooled_shape(data)
    kwargs = dict(entry.get("kwargs") or {})
    return ModelJob(
        dataset=dataset,
        name=name,
        network=entry["network"],
        kwargs=kwargs,
        input_shape=(channels, height, width),
        n_train=int(data["n_train"]),
        lr=float(entry["lr"]),
        batch_size=int(section["batch_size"]),
        max_step=int(section["max_step"]),
        steps_per_decade=int(section["steps_per_decade"]),
        dtype=section["dtype"],
        kernel_points=int(section["kernel_points"]),
        kernel_initialisations=int(section["kernel_initialisations"]),
        movement_steps=tuple(sorted({int(s) for s in section["movement_steps"]})),
        movement_points=int(section["movement_points"]),
        linearise=bool(entry.get("linearise", section["linearise"])),
        exact_kernel=exact_kernel_of(entry["network"], kwargs),
    )


def model_jobs(config: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """Every (data set, network, seed) of ``fig_models``."""
    section = config["models"]
    return [
        (dataset, name, int(seed))
        for dataset in section["datasets"]
        for name in section["train"]
        for seed in section["seeds"]
    ]


def network_text(entry: Mapping[str, Any]) -> str:
    """'residual_cnn(blocks=2, channels=32), lr 1': a network of the config in one line."""
    kwargs = ", ".join(f"{k}={v}" for k, v in (entry.get("kwargs") or {}).items())
    return f"{entry['network']}({kwargs}), lr {float(entry['lr']):g}"


def dataset_problems(deep: Mapping[str, Any], key: str, names: list[str], limits: Mapping[str, int]) -> list[str]:
    """The data sets a section names (config key ``key``) exist in deep.datasets and hold at
    least each of ``limits`` (config key -> value: a batch, a kernel subset) training images."""
    datasets = deep.get("datasets") or {}
    problems = []
    for name in names:
        if name not in datasets:
            problems.append(
                f"config key '{key}' names data set {name!r}, which 'deep.datasets' does not define; "
                f"defined: {', '.join(sorted(datasets))}"
            )
            continue
        n_train = int(dataset_entry(deep, name)["n_train"])
        problems += [
            f"config key '{limit}' = {value} exceeds the {n_train} training images of data set {name!r} "
            f"(named by '{key}'); lower it to at most {n_train}"
            for limit, value in limits.items()
            if value > n_train
        ]
    return problems


def config_problems(config: Mapping[str, Any], workdir: str | os.PathLike = ".") -> list[str]:
    """Checks of the models section that span keys or need the file system (the schema cannot
    express them): its data sets exist in deep.datasets; each network is a built-in, an
    import path or an existing file; the batch, the kernel subset and the movement subset fit
    in the training set; the kernel-movement steps are trained."""
    section = config["models"]
    limits = {f"models.{key}": section[key] for key in ("batch_size", "kernel_points")}
    problems = dataset_problems(config["deep"], "models.datasets", section["datasets"], limits)
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
            problems += _network_problems(f"models.networks.{name}", networks[name]["network"], workdir)
    return problems


def _network_problems(key: str, network: str, workdir: str | os.PathLike) -> list[str]:
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
