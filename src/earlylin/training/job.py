"""A training job as the engine reads it: the plain dict an experiment writes into a rule's
params (``TrainingJob.from_dict``), holding every setting that changes a table and nothing
that does not (the device, threads, checkpoint interval and CPU limit are run options,
``run.RunOptions``).

* ``network``: which network (a name of the registry, with its factory's kwargs), the config
  key that holds it (named in messages) and how its initial weights are seeded: ``init``
  'seed' draws them from the job's seed, 'deep' from Figures 3-4's own stream
  (``rng_stream(seed, "deep-init", d)``, which their tables have always used).
* SGD: ``lr`` (Figure 3's CNN matches its lr to the FC net's with ``lr_match``, Section 4.2;
  None with ``lr_fraction``: that fraction of the linear model's largest stable rate, ``lr: auto``),
  ``batch_size``, ``max_step``, ``steps_per_decade`` (the logged steps), ``dtype``,
  ``allow_tf32``, ``loss`` and heavy-ball ``momentum`` (``core.losses``).
* The models beside the network: ``linear``, the linear model of Section 4.1 with coefficients
  from the infinite-width ``recursion`` of an FC net or CNN, or ``fit`` to the network's own
  empirical NTK on ``points`` seeded training inputs over ``initialisations`` draws;
  ``linearise``, the linearised network; ``exact_kernel``, the infinite-width kernel model
  (``networks.catalogue.exact_kernel_of``); ``movement``, the kernel movement at ``steps`` on
  the first ``points`` inputs of the fit's subset.
* ``outputs``: outputs per input (``core.losses.output_count``): 1 for two classes and a loss
  of +-1 labels, else k, one per class of the data set (``classes``, k; 2 when absent).
* ``keys``: the config keys a message names (``lr``, ``max_step``, ``max_cpu_hours``; a width
  sweep's ``width`` and ``width_argument``).
* ``sweep``: a width sweep's job, {argument, value}: the factory argument set to value (in
  ``network.kwargs``), checked against the factory's parameters before anything else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ..core.metrics import logged_steps
from ..core.seeds import rng_stream
from ..networks.registry import ModelSpec

INITS = ("seed", "deep")
COEFFICIENTS = ("recursion", "fit")


@dataclass(frozen=True)
class NetworkEntry:
    name: str
    network: str
    kwargs: Mapping[str, Any]
    key: str
    init: str = "seed"
    batch_norm: str = ""
    input: Mapping[str, Any] | None = None

    def spec(self) -> ModelSpec:
        return ModelSpec(self.name, self.network, dict(self.kwargs), self.key, self.batch_norm, self.input)

    def init_seed(self, seed: int, input_shape: tuple[int, ...]) -> int:
        """The seed of the trained network's initial weights."""
        if self.init == "deep":
            return int(rng_stream(seed, "deep-init", math.prod(input_shape)).integers(2**62))
        return int(seed)


@dataclass(frozen=True)
class TrainingJob:
    dataset: str
    seed: int
    network: NetworkEntry
    lr: float | None
    batch_size: int
    max_step: int
    steps_per_decade: int
    dtype: str
    linear: Mapping[str, Any]
    allow_tf32: bool = False
    loss: str = "mse"
    momentum: float = 0.0
    lr_match: Mapping[str, Any] | None = None
    linearise: bool = False
    exact_kernel: Mapping[str, Any] | None = None
    movement: Mapping[str, Any] | None = None
    keys: Mapping[str, str] = field(default_factory=dict)
    lr_fraction: float | None = None
    sweep: Mapping[str, Any] | None = None
    classes: int = 2
    outputs: int = 1

    def __post_init__(self) -> None:
        if self.classes < 2 or self.outputs not in (1, self.classes) or (self.outputs == 1 and self.classes != 2):
            raise ValueError(
                f"{self.classes} classes and {self.outputs} outputs: need 1 output for 2 classes or k for k"
            )
        if self.lr_fraction is not None:
            if self.lr is not None or not 0.0 < self.lr_fraction < 1.0:
                raise ValueError(f"lr: auto needs lr None and a fraction in (0, 1), got {self.lr}, {self.lr_fraction}")
        elif self.lr is None or not self.lr > 0.0:
            raise ValueError(f"the learning rate must be > 0, got {self.lr}")
        if self.batch_size < 1 or self.max_step < 1 or self.steps_per_decade < 1:
            raise ValueError(
                f"batch_size, max_step and steps_per_decade must be >= 1, got {self.batch_size}, "
                f"{self.max_step}, {self.steps_per_decade}"
            )
        if self.network.init not in INITS:
            raise ValueError(f"network init {self.network.init!r}; allowed: {', '.join(INITS)}")
        if self.linear.get("coefficients") not in COEFFICIENTS:
            raise ValueError(f"linear model coefficients {self.linear!r}; allowed: {', '.join(COEFFICIENTS)}")

    @classmethod
    def from_dict(cls, job: Mapping[str, Any]) -> TrainingJob:
        values = dict(job)
        values["network"] = NetworkEntry(**values["network"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def logged_steps(self) -> tuple[int, ...]:
        return tuple(int(s) for s in logged_steps(self.max_step, self.steps_per_decade))

    @property
    def movement_steps(self) -> tuple[int, ...]:
        return tuple(sorted(int(s) for s in self.movement["steps"])) if self.movement else ()

    @property
    def fits_kernel(self) -> bool:
        return self.linear["coefficients"] == "fit"

    def key(self, name: str) -> str:
        """The config key of a setting, for messages ('lr' -> 'models.networks.fc.lr')."""
        return self.keys.get(name, name)
