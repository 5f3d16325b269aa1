"""The state of an SGD run of a deep network and its linear model (Section 4.2, Appendix A):
its settings, the seeded batch order, what changes while it trains, and what it records.

* Batch order (``MinibatchSchedule``): a numpy generator ``rng_stream(seed, "sgd-batches",
  n, batch_size)`` draws a fresh permutation of the n training points at the start of
  every epoch; the permutation is cut into n // batch_size consecutive batches and the
  last partial batch is dropped, so every update averages exactly ``batch_size`` examples
  (the paper's n = 10^4, |B| = 500 leaves no remainder). The stream does not depend on
  the architecture: the FC net, the CNN and their linear models see the same batches.
* ``DeviceBatches``: each epoch's order on the training device; on CUDA it is uploaded
  once per epoch from pinned memory, asynchronously, so the host never waits for the GPU.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..data import rng_stream

Tensor = torch.Tensor

BATCH_STREAM = "sgd-batches"
LOGGED_ARRAYS = ("network_train_loss", "linear_train_loss", "network_test_outputs", "linear_test_outputs")


class TrainingInterrupted(RuntimeError):
    """Training stopped at a step boundary after writing a checkpoint (a signal, or the
    ``stop_after_step`` test hook); rerunning the job resumes from it."""

    def __init__(self, step: int, checkpoint_path: str, reason: str):
        super().__init__(
            f"training stopped after step {step} ({reason}); checkpoint written to "
            f"{checkpoint_path}; rerun to resume from it"
        )
        self.step = step
        self.checkpoint_path = checkpoint_path


@dataclass(frozen=True)
class DeepSGDSettings:
    """How a network and its linear model are trained (Section 4.2, Appendix A).

    The result depends on ``lr``, ``logged_steps``, ``seed`` (batch order), ``batch_size``,
    ``dtype`` and ``allow_tf32``. The rest only says how it runs: ``device`` ('auto',
    'cpu', 'cuda'), ``eval_rows`` (rows per evaluation chunk; None picks one from the
    network's size), checkpoints, and the progress bar.
    """

    lr: float
    logged_steps: tuple[int, ...]
    seed: int
    batch_size: int = 500
    dtype: str = "float32"
    allow_tf32: bool = False
    device: str = "cpu"
    eval_rows: int | None = None
    checkpoint_path: str | None = None
    checkpoint_seconds: float = 300.0
    stop_after_step: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        steps = tuple(sorted({int(s) for s in self.logged_steps}))
        if not steps or steps[0] < 0:
            raise ValueError(f"logged steps must be non-empty and >= 0, got {list(self.logged_steps)}")
        object.__setattr__(self, "logged_steps", steps)
        if not self.lr > 0.0:
            raise ValueError(f"the learning rate must be > 0, got {self.lr}")
        if self.stop_after_step is not None and self.checkpoint_path is None:
            raise ValueError("stop_after_step simulates a kill after a checkpoint: give a checkpoint_path")

    @property
    def max_step(self) -> int:
        return self.logged_steps[-1]


class MinibatchSchedule:
    """The seeded SGD batch order (Appendix A: batch size 500, seeded).

    A fresh permutation of range(n) per epoch from ``rng_stream(seed, "sgd-batches", n,
    batch_size)``, cut into n // batch_size consecutive batches; the last partial batch is
    dropped. The first permutation is drawn at construction, each next one when the
    previous epoch is used up.
    """

    def __init__(self, n: int, batch_size: int, seed: int):
        if not 1 <= batch_size <= n:
            raise ValueError(f"batch_size must be between 1 and n = {n}, got {batch_size}")
        self.n = n
        self.batch_size = batch_size
        self.rng = rng_stream(seed, BATCH_STREAM, n, batch_size)
        self.permutation = self.rng.permutation(n)
        self.position = 0

    @property
    def batches_per_epoch(self) -> int:
        return self.n // self.batch_size

    def next_batch(self) -> np.ndarray:
        """Indices of the next minibatch (int64, length ``batch_size``)."""
        if self.position == self.batches_per_epoch:
            self.permutation = self.rng.permutation(self.n)
            self.position = 0
        start = self.position * self.batch_size
        self.position += 1
        return self.permutation[start : start + self.batch_size]

    def state_dict(self) -> dict[str, Any]:
        """Generator state as a JSON string, the epoch's permutation and the position in it."""
        return {
            "rng_state": json.dumps(self.rng.bit_generator.state),
            "permutation": torch.from_numpy(self.permutation.copy()),
            "position": self.position,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict``; ValueError if it does not fit this schedule."""
        permutation = state["permutation"]
        if not isinstance(permutation, Tensor) or permutation.dtype != torch.int64:
            raise ValueError("the stored permutation is not an int64 tensor")
        permutation = permutation.numpy().copy()
        if not np.array_equal(np.sort(permutation), np.arange(self.n)):
            raise ValueError(f"the stored permutation is not a permutation of {self.n} points")
        position = state["position"]
        if not isinstance(position, int) or not 0 <= position <= self.batches_per_epoch:
            raise ValueError(f"the stored batch position {position!r} is out of range")
        self.rng.bit_generator.state = json.loads(state["rng_state"])
        self.permutation = permutation
        self.position = position


class DeviceBatches:
    """Each epoch's batch order on the training device: on the CPU the numpy indices
    themselves; on CUDA the permutation is uploaded once per epoch, asynchronously from
    pinned memory, and sliced there, so the host never waits for the GPU."""

    def __init__(self, device: torch.device):
        self.device = device
        self._permutation: np.ndarray | None = None
        self._on_device: Tensor | None = None

    def rows(self, schedule: MinibatchSchedule, batch: np.ndarray) -> Tensor:
        if self.device.type == "cpu":
            return torch.from_numpy(batch)
        if schedule.permutation is not self._permutation:
            self._permutation = schedule.permutation
            pinned = torch.from_numpy(schedule.permutation).pin_memory()
            self._on_device = pinned.to(self.device, non_blocking=True)
        start = (schedule.position - 1) * schedule.batch_size
        return self._on_device[start : start + schedule.batch_size]


@dataclass
class DeepSGDRecord:
    """What a run logs at each logged step (before that step's update), and its timings."""

    steps: np.ndarray  # (T,)
    network_train_loss: np.ndarray  # (T,)  (1/2n) ||f(X_train) - y||^2, full training set
    linear_train_loss: np.ndarray  # (T,)
    network_test_outputs: np.ndarray  # (T, n_test) float64
    linear_test_outputs: np.ndarray  # (T, n_test) float64
    resumed_from_step: int | None = None  # the checkpoint's step when the run was resumed
    reused_finished: bool = False  # the record of a finished run was reused
    seconds: dict[str, float] = field(default_factory=dict)  # per phase: sgd, logging, initial_outputs, checkpoint
    counts: dict[str, int] = field(default_factory=dict)  # entries per phase (sgd: steps, logging: logged steps)

    @property
    def seconds_per_step(self) -> float:
        """Wall time of one SGD update of both models (logging and checkpoints excluded)."""
        return self.seconds.get("sgd", math.nan) / max(self.counts.get("sgd", 0), 1)

    @property
    def seconds_per_log(self) -> float:
        """Wall time of one logged step's evaluation of both models."""
        return self.seconds.get("logging", math.nan) / max(self.counts.get("logging", 0), 1)


@dataclass
class RunState:
    step: int
    beta: np.ndarray
    schedule: MinibatchSchedule
    network_train_loss: np.ndarray
    linear_train_loss: np.ndarray
    network_test_outputs: np.ndarray
    linear_test_outputs: np.ndarray

    def logged(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in LOGGED_ARRAYS}


def fresh_state(settings: DeepSGDSettings, n: int, n_test: int, n_features: int) -> RunState:
    n_logged = len(settings.logged_steps)
    return RunState(
        step=0,
        beta=np.zeros(n_features),
        schedule=MinibatchSchedule(n, settings.batch_size, settings.seed),
        network_train_loss=np.full(n_logged, np.nan),
        linear_train_loss=np.full(n_logged, np.nan),
        network_test_outputs=np.full((n_logged, n_test), np.nan),
        linear_test_outputs=np.full((n_logged, n_test), np.nan),
    )
