"""The one SGD loop: a network and the models beside it (``predictors``), one step each per
minibatch, on the seeded batches of ``batches.MinibatchSchedule``.

* Logged steps (``core.metrics.logged_steps``: step 0 and log-spaced steps, shared by every
  model): before that step's update, every model's outputs on every test point and its loss
  on the full training set, (1/n) sum_i l(f(x_i), y_i). A non-finite value stops the run with
  a ``DivergenceError`` naming the model, the step and the learning rate's config key.
* Kernel movement (Fort et al. 2020) of the network at its movement steps:
  1 - <Theta_0, Theta_t>_F / (||Theta_0||_F ||Theta_t||_F) on a fixed set of inputs.
* Checkpoints (``checkpoints.Checkpointer``): the state is saved every interval, on SIGINT /
  SIGTERM (then ``TrainingInterrupted`` is raised at the next step boundary) and, as a test
  hook, at ``stop_after_step``. A resumed run repeats exactly the operations of an
  uninterrupted one (bitwise equal results on the CPU).
* Time per phase (``Stopwatch``): each model's steps, logging, movement, checkpoints. On the
  CPU each model's steps are timed apart; on CUDA the clock is read (after a synchronisation)
  only when the phase changes, so the models' steps are timed together ('sgd') and nothing
  waits for the GPU between logged steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from ..core.errors import ExplainedError
from ..core.losses import mean_loss
from ..kernels.empirical import empirical_ntk, kernel_distance
from .batches import DeviceBatches, MinibatchSchedule
from .checkpoints import Checkpointer
from .predictors import Predictor

Tensor = torch.Tensor


class DivergenceError(ExplainedError, FloatingPointError):
    """A model's logged loss or outputs became non-finite."""


@dataclass
class Logged:
    """What a run records at its logged steps, per model (train loss (T,), test outputs
    (T, n_test), or (T, n_test, k) with k outputs per input), and the network's kernel movement
    per movement step."""

    steps: tuple[int, ...]
    train_loss: dict[str, np.ndarray]
    test_outputs: dict[str, np.ndarray]
    movement: dict[int, float] = field(default_factory=dict)

    @classmethod
    def empty(cls, steps: tuple[int, ...], names: list[str], n_test: int, outputs: int = 1) -> Logged:
        per_input = () if outputs == 1 else (outputs,)
        return cls(
            steps=steps,
            train_loss={name: np.full(len(steps), np.nan) for name in names},
            test_outputs={name: np.full((len(steps), n_test, *per_input), np.nan) for name in names},
        )

    def state(self) -> dict[str, Any]:
        return {
            "train_loss": {name: torch.from_numpy(values.copy()) for name, values in self.train_loss.items()},
            "test_outputs": {name: torch.from_numpy(values.copy()) for name, values in self.test_outputs.items()},
            "movement": {str(step): float(value) for step, value in self.movement.items()},
        }

    def load_state(self, state: dict[str, Any]) -> None:
        for kind in ("train_loss", "test_outputs"):
            mine, saved = getattr(self, kind), state[kind]
            if set(saved) != set(mine):
                raise ValueError(f"it logged other models ({', '.join(sorted(saved))})")
            for name, values in mine.items():
                if tuple(saved[name].shape) != values.shape or saved[name].dtype != torch.float64:
                    raise ValueError(f"its logged {kind} of {name} has another shape")
            setattr(self, kind, {name: saved[name].numpy().copy() for name in mine})
        self.movement = {int(step): float(value) for step, value in state["movement"].items()}


class Stopwatch:
    """Wall time and entries per phase. The clock is read only when the phase changes; on CUDA
    it then synchronises first, so queued GPU work is charged to the phase that queued it."""

    def __init__(self, device: torch.device):
        self.device = device
        self.per_model = device.type != "cuda"
        self.seconds: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self._phase: str | None = None
        self._start = 0.0

    def enter(self, phase: str | None) -> None:
        if phase is not None:
            self.counts[phase] = self.counts.get(phase, 0) + 1
        if phase == self._phase:
            return
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        now = time.perf_counter()
        if self._phase is not None:
            self.seconds[self._phase] = self.seconds.get(self._phase, 0.0) + now - self._start
        self._phase, self._start = phase, now

    def step_phase(self, model: str) -> str:
        return f"step_{model}" if self.per_model else "sgd"


class KernelMovement:
    """The network's empirical NTK on ``inputs`` at its movement steps, against the NTK at
    initialisation (``reference``, computed once before the first update)."""

    def __init__(self, network: nn.Module, inputs: Tensor, steps: tuple[int, ...], outputs: int = 1):
        self.network, self.inputs, self.steps, self.outputs = network, inputs, set(steps), outputs
        self.reference = self._kernel() if steps else None

    def _kernel(self) -> Tensor:
        """The NTK on the inputs; with k outputs the whole (n, k, n, k) kernel."""
        return empirical_ntk(self.network, self.inputs, outputs=self.outputs)

    def due(self, step: int) -> bool:
        return step in self.steps

    def measure(self, step: int) -> float:
        # at step 0 the kernel is the reference itself: distance 0, no second NTK
        return 0.0 if step == 0 else kernel_distance(self.reference, self._kernel())


@dataclass
class Loop:
    """Everything the loop needs besides the models."""

    schedule: MinibatchSchedule
    lr: float
    loss: str
    y_train: np.ndarray
    lr_key: str
    progress: bool = True
    description: str = "SGD"


def log_step(predictors: list[Predictor], logged: Logged, index: int, step: int, loop: Loop) -> None:
    """Record every model's full training loss and test outputs at logged step ``index``."""
    for predictor in predictors:
        train, test = predictor.outputs()
        loss = float(mean_loss(train, loop.y_train, loop.loss))
        logged.train_loss[predictor.name][index] = loss
        logged.test_outputs[predictor.name][index] = test
        if not (np.isfinite(loss) and np.all(np.isfinite(test))):
            raise DivergenceError(
                f"the {predictor.name} model's training loss became {loss} at step {step}: the learning rate "
                f"{loop.lr:g} is too large; lower it (config key {loop.lr_key})"
            )


def train(
    predictors: list[Predictor],
    loop: Loop,
    logged: Logged,
    start: int,
    clock: Stopwatch,
    checkpoint: tuple[Checkpointer, Any] | None = None,
    movement: KernelMovement | None = None,
) -> None:
    """Train every model from step ``start`` to the last logged step, recording into ``logged``.
    ``checkpoint``: the checkpointer and a function of the step that returns the run's state."""
    wanted = {step: i for i, step in enumerate(logged.steps)}
    last = logged.steps[-1]
    batches = DeviceBatches(_device_of(predictors))
    step = start
    with tqdm(
        total=last, initial=start, disable=not loop.progress, mininterval=2.0, unit="step", desc=loop.description
    ) as bar:
        while True:
            if checkpoint is not None and checkpoint[0].due(step):
                clock.enter("checkpoint")
                checkpoint[0].save(step, checkpoint[1](step))
            if step in wanted:
                clock.enter("logging")
                log_step(predictors, logged, wanted[step], step, loop)
            if movement is not None and movement.due(step) and step not in logged.movement:
                clock.enter("movement")
                logged.movement[step] = movement.measure(step)
            if step == last:
                clock.enter(None)
                return
            batch = loop.schedule.next_batch()
            rows = batches.rows(loop.schedule, batch)
            for predictor in predictors:
                clock.enter(clock.step_phase(predictor.name))
                predictor.step(batch, rows, loop.lr)
            step += 1
            bar.update(1)


def _device_of(predictors: list[Predictor]) -> torch.device:
    for predictor in predictors:
        X = getattr(predictor, "X_train", None)
        if X is not None:
            return X.device
    return torch.device("cpu")
