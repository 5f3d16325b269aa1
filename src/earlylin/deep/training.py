"""Minibatch SGD of a deep network and of its linear model on the same minibatches
(Section 4.2, Figure 3; Appendix A, Figure 4).

* Batches: the seeded order of ``sgd_state.MinibatchSchedule`` (batch size 500 in the
  paper), the same for the FC net, the CNN and their linear models.
* Network, f_0 = 0 (Appendix A: "we subtract the function output at initialization for
  each datapoint"): f(x) = g(x; theta) - g(x; theta_0). g(x; theta_0) is computed once for
  every training and test point, before the first update, by the same chunked evaluation
  that logs the outputs, and kept on the device; a step then costs one forward and one
  backward pass of the batch (about three forward passes). At step 0 the logged outputs
  are exactly 0. Update: theta <- theta - lr grad L_B(theta),
  L_B = (1 / 2|B|) sum_{i in B} (f(x_i) - y_i)^2, in the requested dtype and device.
* Linear model f_lin(x) = beta . psi(x), psi = ``ntk_recursion.deep_linear_features`` with the
  network's coefficients (Section 4.1), beta_0 = 0, the same batch and lr:
  beta <- beta - lr psi_B^T (psi_B beta - y_B) / |B|, in float64 numpy on the CPU (a
  |B| x p product, free of the network's rounding: the reference the network is compared with).
* Logged steps (``metrics.logged_steps``): before that step's update, both models' outputs
  on every test point and their loss on the full training set, (1/2n) ||f(X) - y||^2.
  The network is evaluated in chunks of ``eval_rows`` rows (by default as many as keep one
  hidden activation under 128 MB). The time spent in SGD steps and in logging is measured
  separately (``DeepSGDRecord.seconds_per_step`` / ``seconds_per_log``).
* On CUDA the data, g(x; theta_0) and each epoch's batch order live on the device
  (``sgd_state.DeviceBatches``), so nothing waits for the GPU between logged steps; TF32
  stays off unless ``allow_tf32`` and cuDNN picks its algorithms once
  (``runtime.cuda_numerics``).
* Checkpoints (``earlylin.checkpoints``): with ``checkpoint_path``, the state is saved
  every ``checkpoint_seconds``, on SIGINT / SIGTERM (then ``TrainingInterrupted`` is raised
  at the next step boundary) and, as a test hook, at ``stop_after_step``. A run resumes
  from a checkpoint of the same run and then repeats exactly the operations of an
  uninterrupted one (bitwise equal results on the CPU). At the end the checkpoint is
  replaced by the finished record, which a rerun of the same job reuses.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .. import activations, devices, metrics
from .. import data as data_module
from ..data import Dataset
from ..devices import cuda_numerics, resolve_device, resolve_dtype
from ..metrics import half_mse, logged_steps
from . import checkpoints, networks, ntk_recursion, sgd_state
from .jobs import DeepJob, DeepNetworkSpec
from .networks import CenteredNetwork, build_deep_network
from .ntk_recursion import DeepLinearCoefficients, deep_linear_features, matched_learning_rate
from .sgd_state import DeepSGDRecord, DeepSGDSettings, DeviceBatches, RunState, fresh_state
from .tables import deep_sgd_tables

Tensor = torch.Tensor
log = logging.getLogger(__name__)

# Elements of one hidden activation in an evaluation chunk (float32: 128 MB).
_EVAL_CHUNK_ELEMENTS = 1 << 25


@dataclass
class _Problem:
    X_train: Tensor
    y_train: Tensor
    X_test: Tensor
    psi_train: np.ndarray
    psi_test: np.ndarray
    y_train_numpy: np.ndarray
    eval_rows: int
    initial_train: Tensor | None = None  # g(x; theta_0) on every training point
    initial_test: Tensor | None = None


def _network_inputs(
    X: np.ndarray, image_shape: tuple[int, int, int] | None, dtype: torch.dtype, device: torch.device
) -> Tensor:
    """Rows (n, d) as a tensor, unflattened to (n, C, H, W) when ``image_shape`` is given."""
    X = np.asarray(X)
    tensor = torch.as_tensor(X, dtype=dtype, device=device)
    if image_shape is None:
        return tensor
    if math.prod(image_shape) != X.shape[1]:
        raise ValueError(f"image_shape {tuple(image_shape)} does not match rows of length {X.shape[1]}")
    return tensor.reshape(len(X), *image_shape)


def default_eval_rows(network: torch.nn.Module, n: int) -> int:
    """Rows per evaluation chunk: as many as keep the largest hidden activation of one
    chunk under 2^25 elements (128 MB in float32), at most ``n``."""
    per_row = max(getattr(network, "activation_elements", 1), 1)
    return int(max(1, min(n, _EVAL_CHUNK_ELEMENTS // per_row)))


def _problem(
    data: Dataset,
    coefficients: DeepLinearCoefficients,
    network: torch.nn.Module,
    settings: DeepSGDSettings,
    dtype: torch.dtype,
    device: torch.device,
) -> _Problem:
    n = len(data.X_train)
    return _Problem(
        X_train=_network_inputs(data.X_train, data.image_shape, dtype, device),
        y_train=torch.as_tensor(np.asarray(data.y_train), dtype=dtype, device=device),
        X_test=_network_inputs(data.X_test, data.image_shape, dtype, device),
        psi_train=deep_linear_features(data.X_train, coefficients),
        psi_test=deep_linear_features(data.X_test, coefficients),
        y_train_numpy=np.asarray(data.y_train, dtype=np.float64),
        eval_rows=int(settings.eval_rows or default_eval_rows(network, max(n, len(data.X_test)))),
    )


def network_outputs(network: torch.nn.Module, X: Tensor, rows: int) -> Tensor:
    """g(X; theta) in chunks of ``rows`` rows, without autograd (on X's device and dtype)."""
    with torch.no_grad():
        return torch.cat([network(X[start : start + rows]) for start in range(0, X.shape[0], rows)])


def network_sgd_step(
    network: torch.nn.Module, params: list[Tensor], x: Tensor, initial: Tensor, y: Tensor, lr: float
) -> None:
    """theta <- theta - lr grad (1/2|B|) sum_B (f(x) - y)^2 with f(x) = g(x; theta) - g(x; theta_0),
    g(x; theta_0) given (``initial``): it carries no gradient."""
    loss = 0.5 * torch.mean(((network(x) - initial) - y) ** 2)
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for param, grad in zip(params, grads):
            param.sub_(grad, alpha=lr)


def linear_sgd_step(beta: np.ndarray, psi_batch: np.ndarray, y_batch: np.ndarray, lr: float) -> np.ndarray:
    """beta <- beta - lr psi_B^T (psi_B beta - y_B) / |B| (the same loss, batch and lr)."""
    return beta - lr * (psi_batch.T @ (psi_batch @ beta - y_batch)) / len(y_batch)


def _log_step(network: torch.nn.Module, problem: _Problem, state: RunState, index: int, lr: float) -> None:
    """Record both models' full train loss and test outputs; FloatingPointError on divergence."""
    train = network_outputs(network, problem.X_train, problem.eval_rows) - problem.initial_train
    test = network_outputs(network, problem.X_test, problem.eval_rows) - problem.initial_test
    state.network_train_loss[index] = half_mse(train.double().cpu().numpy(), problem.y_train_numpy)
    state.network_test_outputs[index] = test.double().cpu().numpy()
    state.linear_train_loss[index] = half_mse(problem.psi_train @ state.beta, problem.y_train_numpy)
    state.linear_test_outputs[index] = problem.psi_test @ state.beta
    for name in ("network", "linear"):
        loss, outputs = state.logged()[f"{name}_train_loss"][index], state.logged()[f"{name}_test_outputs"][index]
        if not (np.isfinite(loss) and np.all(np.isfinite(outputs))):
            raise FloatingPointError(
                f"the {name} model's training loss became {loss} at step {state.step}: "
                f"the learning rate {lr:g} is too large; lower it (config key deep.lr)"
            )


class _Stopwatch:
    """Accumulates wall time per phase ('initial_outputs', 'sgd', 'logging', 'checkpoint')
    and counts entries. The clock is read only when the phase changes; on CUDA it then
    synchronises first, so queued GPU work is charged to the phase that queued it, and no
    synchronisation happens while the phase stays the same (between logged steps)."""

    def __init__(self, device: torch.device):
        self.device = device
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


def train_deep_sgd(
    model: CenteredNetwork, coefficients: DeepLinearCoefficients, data: Dataset, settings: DeepSGDSettings
) -> DeepSGDRecord:
    """Plain SGD of ``model`` and of its linear model on the same minibatches (Section 4.2).

    ``model`` (f_0 = 0) is moved to the device and dtype and trained in place for
    ``settings.max_step`` updates on batches in the order of ``MinibatchSchedule``; the
    linear model beta . psi(x), psi = ``deep_linear_features(x, coefficients)``, starts at
    beta = 0 and takes the same steps. Rows of ``data`` are unflattened to its
    ``image_shape`` when it has one (the CNN). A non-finite logged value raises
    FloatingPointError naming the step. Checkpoints: see the module docstring. When a
    finished record of this run exists, it is returned without training (and ``model``
    keeps its initial parameters).
    """
    device, dtype = resolve_device(settings.device), resolve_dtype(settings.dtype)
    model.to(device=device, dtype=dtype)
    network = model.network
    problem = _problem(data, coefficients, network, settings, dtype, device)
    state = fresh_state(settings, len(data.X_train), len(data.X_test), problem.psi_train.shape[1])
    checkpointer, resumed_from = None, None
    if settings.checkpoint_path is not None:
        fingerprint = checkpoints.run_fingerprint(model, coefficients, data, settings, _TRAINING_CODE)
        payload = checkpoints.load(settings.checkpoint_path, fingerprint)
        try:
            if payload is not None and payload["kind"] == checkpoints.FINISHED:
                record = checkpoints.finished_record(payload, settings, state)
                log.info("reusing the finished run recorded in %s (delete it to train again)", settings.checkpoint_path)
                return record
            if payload is not None:
                state, *initial = checkpoints.restore_run(
                    payload, network, state, settings, (len(data.X_train), len(data.X_test)), dtype
                )
                problem.initial_train, problem.initial_test = (t.to(device) for t in initial)
                resumed_from = state.step
                log.info("resuming from checkpoint %s at step %d", settings.checkpoint_path, state.step)
        except checkpoints.CheckpointMismatch as error:
            checkpoints.warn(settings.checkpoint_path, str(error))
        checkpointer = checkpoints.Checkpointer(
            settings.checkpoint_path, settings.checkpoint_seconds, settings.stop_after_step, fingerprint
        )
    clock = _Stopwatch(device)
    with cuda_numerics(settings.allow_tf32):
        if problem.initial_train is None:
            clock.enter("initial_outputs")
            problem.initial_train = network_outputs(network, problem.X_train, problem.eval_rows)
            problem.initial_test = network_outputs(network, problem.X_test, problem.eval_rows)
        guard = checkpointer.on_signals() if checkpointer is not None else contextlib.nullcontext()
        with guard:
            _sgd_loop(network, problem, state, settings, checkpointer, clock)
    record = DeepSGDRecord(
        steps=np.asarray(settings.logged_steps),
        resumed_from_step=resumed_from,
        seconds=clock.seconds,
        counts=clock.counts,
        **state.logged(),
    )
    if checkpointer is not None:
        checkpoints.save_finished(settings.checkpoint_path, checkpointer.fingerprint, record)
    return record


def _sgd_loop(
    network: torch.nn.Module,
    problem: _Problem,
    state: RunState,
    settings: DeepSGDSettings,
    checkpointer: checkpoints.Checkpointer | None,
    clock: _Stopwatch,
) -> None:
    wanted = {step: i for i, step in enumerate(settings.logged_steps)}
    last, lr = settings.max_step, settings.lr
    params = [p for p in network.parameters() if p.requires_grad]
    batches = DeviceBatches(problem.X_train.device)
    desc = f"SGD {type(network).__name__}"
    with tqdm(
        total=last, initial=state.step, disable=not settings.progress, mininterval=2.0, unit="step", desc=desc
    ) as bar:
        while True:
            if checkpointer is not None and checkpointer.due(state.step):
                clock.enter("checkpoint")
                checkpointer.save(network, (problem.initial_train, problem.initial_test), state)
            index = wanted.get(state.step)
            if index is not None:
                clock.enter("logging")
                _log_step(network, problem, state, index, lr)
            if state.step == last:
                clock.enter(None)
                return
            clock.enter("sgd")
            batch = state.schedule.next_batch()
            rows = batches.rows(state.schedule, batch)
            network_sgd_step(
                network, params, problem.X_train[rows], problem.initial_train[rows], problem.y_train[rows], lr
            )
            state.beta = linear_sgd_step(state.beta, problem.psi_train[batch], problem.y_train_numpy[batch], lr)
            state.step += 1
            bar.update(1)


def job_settings(
    job: DeepJob,
    seed: int,
    *,
    device: str = "cpu",
    checkpoint_path: str | None = None,
    checkpoint_seconds: float = 300.0,
) -> DeepSGDSettings:
    """How ``job`` trains with batch-order seed ``seed``: its learning rate (a CNN's matched
    to the FC net's so that their linear models coincide, Section 4.2), its logged steps,
    batch size, dtype and TF32 switch, plus where it runs and checkpoints."""
    return DeepSGDSettings(
        lr=matched_learning_rate(job.lr, job.arch, job.network.activation, job.fc_depth, job.cnn_depth),
        logged_steps=tuple(logged_steps(job.max_step, job.steps_per_decade)),
        seed=seed,
        batch_size=job.batch_size,
        dtype=job.dtype,
        allow_tf32=job.allow_tf32,
        device=device,
        checkpoint_path=checkpoint_path,
        checkpoint_seconds=checkpoint_seconds,
    )


def run_deep_sgd(
    data: Dataset,
    network: DeepNetworkSpec,
    settings: DeepSGDSettings,
) -> tuple[DeepSGDRecord, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """Figure 3 for one architecture: build the network of ``network`` (its init drawn from
    ``settings.seed``), train it and its linear model on the same batches, and return the
    record and its (losses, outputs, discrepancy) tables, with model names the architecture
    ('fc' / 'cnn') and ``f"{architecture}_linear"``."""
    model, coefficients = build_deep_network(network, data.input_dim, data.image_shape, settings.seed, settings.dtype)
    record = train_deep_sgd(model, coefficients, data, settings)
    name = network.architecture
    return record, deep_sgd_tables(record, data.y_test, data.X_test, name, f"{name}_linear")


# The modules whose code determines a run's numbers (a finished record is reused only
# when they are unchanged).
_TRAINING_CODE = (
    activations,
    data_module,
    devices,
    networks,
    ntk_recursion,
    metrics,
    checkpoints,
    sgd_state,
    sys.modules[__name__],
)
