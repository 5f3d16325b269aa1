"""The seeded minibatches every model of a run trains on (Section 4.2, Appendix A).

* Batch order (``MinibatchSchedule``): a numpy generator ``rng_stream(seed, "sgd-batches",
  n, batch_size)`` draws a fresh permutation of the n training points at the start of
  every epoch; the permutation is cut into n // batch_size consecutive batches and the
  last partial batch is dropped, so every update averages exactly ``batch_size`` examples
  (the paper's n = 10^4, |B| = 500 leaves no remainder). The stream does not depend on
  the architecture: the network and every model beside it see the same batches.
* ``DeviceBatches``: each epoch's order on the training device; on CUDA it is uploaded
  once per epoch from pinned memory, asynchronously, so the host never waits for the GPU.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import torch

from ..core.seeds import rng_stream

Tensor = torch.Tensor

BATCH_STREAM = "sgd-batches"


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
