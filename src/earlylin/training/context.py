"""One run's fixed ingredients: how it runs (``RunOptions``), the network admitted through the
front door with its device and dtype (``RunContext``), and its inputs as tensors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..core.devices import resolve_device, resolve_dtype
from ..core.losses import targets
from ..data.dataset import Dataset
from ..networks.front_door import admit
from ..networks.normalisation import FROZEN_POINTS
from ..networks.registry import ModelSpec, build_model, check_argument
from .job import TrainingJob

Tensor = torch.Tensor

# Elements of one hidden activation in an evaluation chunk (float32: 128 MB).
_EVAL_CHUNK_ELEMENTS = 1 << 25
# Inputs of the front door's checks.
_CHECK_ROWS = 16


@dataclass(frozen=True)
class RunOptions:
    """How a job runs, which no table depends on: the device, checkpoints, the CPU limit
    (None: no guard), the rule's name in messages, progress, rows per evaluation chunk
    (None: from the network's size) and a test hook that stops after a step."""

    device: str = "cpu"
    checkpoint_path: str | None = None
    checkpoint_seconds: float = 300.0
    max_cpu_hours: float | None = None
    rule: str = "train"
    progress: bool = True
    eval_rows: int | None = None
    stop_after_step: int | None = None

    def __post_init__(self) -> None:
        if self.stop_after_step is not None and self.checkpoint_path is None:
            raise ValueError("stop_after_step simulates a kill after a checkpoint: give a checkpoint_path")


def default_eval_rows(network: torch.nn.Module, n: int) -> int:
    """Rows per evaluation chunk: as many as keep the largest hidden activation of one chunk
    under 2^25 elements (128 MB in float32), at most ``n``."""
    per_row = max(getattr(network, "activation_elements", 1), 1)
    return int(max(1, min(n, _EVAL_CHUNK_ELEMENTS // per_row)))


def as_inputs(X: np.ndarray, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> Tensor:
    """Rows (n, d) as a tensor of inputs (n, *shape)."""
    return torch.as_tensor(np.asarray(X), dtype=dtype, device=device).reshape(len(X), *shape)


@dataclass
class RunContext:
    """One run's fixed ingredients."""

    job: TrainingJob
    data: Dataset
    options: RunOptions
    spec: ModelSpec
    shape: tuple[int, ...]
    device: torch.device
    dtype: torch.dtype
    init: int
    flat: bool

    @property
    def where(self) -> str:
        return f"on {self.device.type}, {str(self.dtype).removeprefix('torch.')}"

    def targets(self) -> np.ndarray:
        """The training labels as the loss reads them (``core.losses.targets``)."""
        return targets(self.data.y_train, self.job.classes, self.job.outputs)

    def build(self, seed: int, dtype: torch.dtype) -> torch.nn.Module:
        statistics = statistics_inputs(self.spec, self.data, self.shape)
        return build_model(self.spec, self.shape, seed, dtype, self.flat, statistics)


def statistics_inputs(spec: ModelSpec, data: Dataset, shape: tuple[int, ...]) -> Tensor | None:
    """The training inputs whose batch statistics a frozen BatchNorm keeps (float64, CPU);
    None for a network without ``batch_norm: frozen``, which reads none."""
    if spec.batch_norm != "frozen":
        return None
    return as_inputs(data.X_train[:FROZEN_POINTS], shape, torch.float64, torch.device("cpu"))


def admitted(job: TrainingJob, data: Dataset, options: RunOptions) -> RunContext:
    """Step 1 of ``run.run``: build the trained network in float64 and let it through the front
    door before anything else touches it."""
    spec, shape = job.network.spec(), data.input_shape
    if job.sweep:
        check_argument(spec, job.sweep["argument"], job.key("width_argument"))
    init = job.network.init_seed(job.seed, shape)
    candidate = build_model(spec, shape, init, torch.float64, statistics=statistics_inputs(spec, data, shape))
    rows = as_inputs(data.X_train[:_CHECK_ROWS], shape, torch.float64, torch.device("cpu"))
    why = ""
    if job.outputs > 1:
        why = f"data set {job.dataset!r} has {job.classes} classes and loss {job.loss} trains one output per class"
    elif job.classes == 2:
        why = f"data set {job.dataset!r} has two classes (labels +-1) and loss {job.loss} trains one output"
    flat = admit(spec, candidate, rows, job.key("linearise") if job.linearise else None, job.outputs, why)
    device, dtype = resolve_device(options.device), resolve_dtype(job.dtype)
    return RunContext(job, data, options, spec, shape, device, dtype, init, flat)
