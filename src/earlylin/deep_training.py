"""Minibatch SGD of the deep networks and of their linear model on the same minibatches
(Section 4.2, Figure 3; Appendix A, Figure 4), with interruption-safe checkpoints, and
the measurements of Figure 3.

Training (Appendix A: squared loss, plain SGD, batch size 500, small learning rate)
-----------------------------------------------------------------------------------
* Batch order (``MinibatchSchedule``): a numpy generator ``rng_stream(seed, "sgd-batches",
  n, batch_size)`` draws a fresh permutation of the n training points at the start of
  every epoch; the permutation is cut into n // batch_size consecutive batches and the
  last partial batch (n mod batch_size points) is dropped, so every update averages
  exactly ``batch_size`` examples and has the same scale (the paper's n = 10^4,
  |B| = 500 leaves no remainder). One step = one minibatch update. The stream does not
  depend on the architecture: the FC net, the CNN and their linear models see the same
  batches in the same order for a given seed.
* Network (``CenteredNetwork``, f_0 = 0): theta <- theta - lr grad L_B(theta),
  L_B = (1 / 2|B|) sum_{i in B} (f(x_i) - y_i)^2, computed in the requested dtype on the
  requested device.
* Linear model f_lin(x) = beta . psi(x), psi = ``deep_linear_features`` with the network's
  coefficients (Section 4.1), beta_0 = 0, trained on the same batch with the same lr:
  beta <- beta - lr psi_B^T (psi_B beta - y_B) / |B|. It is kept in float64 numpy on the
  CPU: a (|B| x p) product per step, cheap beside the network's step and free of the
  network's rounding, so it is the reference the network is compared with.
* Logged steps (``metrics.logged_steps``: step 0 plus log-spaced steps): at each, before
  that step's update, the outputs of both models on every test point and both models'
  loss on the FULL training set, (1/2n) ||f(X) - y||^2, are recorded. The full-set loss is
  comparable across steps (a batch loss is noisy) and costs a forward pass over n points
  at each of the ~40 logged steps, a few per cent of 10^4 batch steps; the forward passes
  run in chunks of ``chunk_rows`` rows (default: the batch size, whose forward and
  backward pass already fit in memory).

Checkpoints
-----------
With ``checkpoint_path`` a checkpoint is written every ``checkpoint_seconds`` of wall-clock
time (and, as a test hook, at ``stop_after_step``, after which ``TrainingInterrupted`` is
raised to simulate a kill). It is a ``torch.save`` dictionary of tensors, ints and strings
only, so that ``torch.load(..., weights_only=True)`` reads it:

    format, fingerprint (JSON string), step (updates done), model (state_dict, including the
    frozen initial parameters of ``CenteredNetwork``), beta (float64), batches (numpy
    bit-generator state as a JSON string, current epoch permutation, position in it), and
    the four logged arrays so far (float64; rows of steps not yet logged are NaN).

It is written atomically (``tables.atomic_path``: temporary file + ``os.replace``). On start,
an existing checkpoint is resumed if it can be read and its fingerprint equals the run's:
lr, batch size, batch seed, logged steps, dtype, the architecture (module tree and parameter
shapes), a hash of the initial parameters (hence the init seed), the linear-model
coefficients, n, n_test, input shape and a hash of the data. Otherwise a
``CheckpointWarning`` says why it is ignored and training starts from step 0. After a
successful run the checkpoint is deleted. A resumed run repeats exactly the operations of an
uninterrupted one, so on the CPU its results are bitwise equal.

Measurements (Figure 3)
-----------------------
Test loss (1/2n) ||f_t(X_test) - y||^2 per logged step; its split onto V_lin = column space
of X_test (n_test x d) and the orthogonal complement (Figure 3a; undefined, hence skipped,
when d >= n_test as for full-size CIFAR-10 in Figure 4); the relative MSE
E||f_t - f_lin_t||^2 / E||f_t||^2 (Figure 3c); and tidy tables of these and of the outputs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .data import Dataset, rng_stream
from .deep import (
    CenteredNetwork,
    ConvolutionalNTK,
    DeepLinearCoefficients,
    FullyConnectedNTK,
    cnn_linear_coefficients,
    deep_linear_features,
    fc_linear_coefficients,
)
from .metrics import half_mse, output_mse, relative_mse
from .tables import atomic_path, loss_rows, output_rows
from .training import resolve_device, resolve_dtype

Tensor = torch.Tensor
log = logging.getLogger(__name__)

BATCH_STREAM = "sgd-batches"
CHECKPOINT_FORMAT = 1
ARCHITECTURES = ("fc", "cnn")
LOSS_PART_COLUMNS = ("model", "step", "split", "part", "metric", "value")


class TrainingInterrupted(RuntimeError):
    """Raised at ``stop_after_step`` after the checkpoint was written (simulates a kill)."""

    def __init__(self, step: int, checkpoint_path: str | os.PathLike):
        super().__init__(f"training stopped after step {step}; checkpoint written to {checkpoint_path}")
        self.step = step
        self.checkpoint_path = checkpoint_path


class CheckpointWarning(UserWarning):
    """An existing checkpoint is ignored (unreadable or from a different run)."""


class _CheckpointMismatch(ValueError):
    """Internal: why a loaded checkpoint cannot be resumed."""


# ---------------------------------------------------------------------------------------
# Batch order
# ---------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------
# TF32
# ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def tf32_allowed(allow: bool) -> Iterator[None]:
    """Set TF32 for CUDA matmuls and cuDNN convolutions to ``allow`` inside, restore after.

    TF32 (Ampere and later GPUs) rounds the inputs of float32 matmuls and convolutions to
    10-bit mantissas, relative errors ~1e-3 that would blur the small early gaps between the
    network and its linear model (Figure 3c), so it is off unless asked for.
    Uses the flags ``torch.backends.cuda.matmul.allow_tf32`` and
    ``torch.backends.cudnn.allow_tf32`` (present in every supported torch release).
    """
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = allow
    torch.backends.cudnn.allow_tf32 = allow
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul
        torch.backends.cudnn.allow_tf32 = cudnn


# ---------------------------------------------------------------------------------------
# The training problem and its state
# ---------------------------------------------------------------------------------------


@dataclass
class DeepSGDRecord:
    """What a run logs at each logged step (before that step's update)."""

    steps: np.ndarray                 # (T,)
    network_train_loss: np.ndarray    # (T,)  (1/2n) ||f(X_train) - y||^2, full training set
    linear_train_loss: np.ndarray     # (T,)
    network_test_outputs: np.ndarray  # (T, n_test) float64
    linear_test_outputs: np.ndarray   # (T, n_test) float64
    resumed_from_step: int | None     # the checkpoint's step when the run was resumed


LOGGED_ARRAYS = ("network_train_loss", "linear_train_loss", "network_test_outputs", "linear_test_outputs")


@dataclass
class _Problem:
    """Inputs as the network sees them (device, dtype, image shape) and the linear features."""

    X_train: Tensor
    y_train: Tensor
    X_test: Tensor
    psi_train: np.ndarray
    psi_test: np.ndarray
    y_train_numpy: np.ndarray
    chunk_rows: int


@dataclass
class _RunState:
    """Everything that changes during training besides the network's parameters."""

    step: int
    beta: np.ndarray
    schedule: MinibatchSchedule
    network_train_loss: np.ndarray
    linear_train_loss: np.ndarray
    network_test_outputs: np.ndarray
    linear_test_outputs: np.ndarray

    def logged(self) -> dict[str, np.ndarray]:
        """The logged arrays by name (rows of steps not logged yet are NaN)."""
        return {name: getattr(self, name) for name in LOGGED_ARRAYS}


def _fresh_state(n_logged: int, n_test: int, n_features: int, schedule: MinibatchSchedule) -> _RunState:
    return _RunState(
        step=0,
        beta=np.zeros(n_features),
        schedule=schedule,
        network_train_loss=np.full(n_logged, np.nan),
        linear_train_loss=np.full(n_logged, np.nan),
        network_test_outputs=np.full((n_logged, n_test), np.nan),
        linear_test_outputs=np.full((n_logged, n_test), np.nan),
    )


def _network_inputs(
    X: np.ndarray, image_shape: tuple[int, int, int] | None, dtype: torch.dtype, device: torch.device
) -> Tensor:
    """Rows (n, d) as a tensor, unflattened to (n, C, H, W) when ``image_shape`` is given."""
    X = np.asarray(X)
    if image_shape is None:
        return torch.as_tensor(X, dtype=dtype, device=device)
    if math.prod(image_shape) != X.shape[1]:
        raise ValueError(f"image_shape {tuple(image_shape)} does not match rows of length {X.shape[1]}")
    return torch.as_tensor(X, dtype=dtype, device=device).reshape(len(X), *image_shape)


def _normalised_steps(steps: Sequence[int]) -> np.ndarray:
    steps = np.asarray(sorted(set(int(s) for s in steps)), dtype=np.int64)
    if steps.size == 0 or steps[0] < 0:
        raise ValueError(f"logged steps must be non-empty and >= 0, got {steps.tolist()}")
    return steps


# ---------------------------------------------------------------------------------------
# One step of each model, and the logged quantities
# ---------------------------------------------------------------------------------------


def _network_sgd_step(model: CenteredNetwork, x: Tensor, y: Tensor, lr: float) -> None:
    """theta <- theta - lr grad (1/2|B|) sum_B (f(x) - y)^2."""
    params = [p for p in model.parameters() if p.requires_grad]
    loss = 0.5 * torch.mean((model(x) - y) ** 2)
    grads = torch.autograd.grad(loss, params)
    with torch.no_grad():
        for param, grad in zip(params, grads):
            param.sub_(grad, alpha=lr)


def _linear_sgd_step(beta: np.ndarray, psi_batch: np.ndarray, y_batch: np.ndarray, lr: float) -> np.ndarray:
    """beta <- beta - lr psi_B^T (psi_B beta - y_B) / |B| (the same loss, batch and lr)."""
    return beta - lr * (psi_batch.T @ (psi_batch @ beta - y_batch)) / len(y_batch)


def _chunked_outputs(model: CenteredNetwork, X: Tensor, chunk_rows: int) -> np.ndarray:
    with torch.no_grad():
        chunks = [model(X[start : start + chunk_rows]) for start in range(0, X.shape[0], chunk_rows)]
    return torch.cat(chunks).double().cpu().numpy()


def _log_step(model: CenteredNetwork, problem: _Problem, state: _RunState, index: int, lr: float) -> None:
    """Record both models' full train loss and test outputs; FloatingPointError on divergence."""
    network_train = _chunked_outputs(model, problem.X_train, problem.chunk_rows)
    state.network_train_loss[index] = half_mse(network_train, problem.y_train_numpy)
    state.linear_train_loss[index] = half_mse(problem.psi_train @ state.beta, problem.y_train_numpy)
    state.network_test_outputs[index] = _chunked_outputs(model, problem.X_test, problem.chunk_rows)
    state.linear_test_outputs[index] = problem.psi_test @ state.beta
    checks = (
        ("network", state.network_train_loss[index], state.network_test_outputs[index]),
        ("linear", state.linear_train_loss[index], state.linear_test_outputs[index]),
    )
    for name, loss, outputs in checks:
        if not (np.isfinite(loss) and np.all(np.isfinite(outputs))):
            raise FloatingPointError(
                f"the {name} model's training loss became {loss} at step {state.step}: "
                f"the learning rate {lr:g} is too large; lower it"
            )


# ---------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------


def _sha256(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        contiguous = np.ascontiguousarray(array)
        digest.update(str((contiguous.dtype.str, contiguous.shape)).encode())
        digest.update(contiguous)
    return digest.hexdigest()[:16]


def _run_fingerprint(
    model: CenteredNetwork,
    coefficients: DeepLinearCoefficients,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    *,
    lr: float,
    steps: np.ndarray,
    batch_size: int,
    seed: int,
    dtype: torch.dtype,
    image_shape: tuple[int, int, int] | None,
) -> dict[str, Any]:
    """The settings a checkpoint must share with a run to be resumed (JSON-serialisable).

    The initial parameters (hence the init seed and architecture) and the data enter as
    short SHA-256 digests; the rest as values.
    """
    initial = [t.detach().cpu().numpy() for t in model.initial_parameters().values()]
    return {
        "format": CHECKPOINT_FORMAT,
        "lr": float(lr),
        "batch_size": int(batch_size),
        "seed": int(seed),
        "steps": [int(s) for s in steps],
        "dtype": str(dtype),
        "architecture": repr(model.network),
        "parameter_shapes": {name: list(p.shape) for name, p in model.named_parameters()},
        "initial_parameters": _sha256(*initial),
        "coefficients": coefficients.as_array().tolist(),
        "n_train": int(len(X_train)),
        "n_test": int(len(X_test)),
        "input_dim": int(np.asarray(X_train).shape[1]),
        "image_shape": None if image_shape is None else [int(s) for s in image_shape],
        "data": _sha256(np.asarray(X_train), np.asarray(y_train), np.asarray(X_test)),
    }


def _checkpoint_payload(model: CenteredNetwork, state: _RunState, fingerprint: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "fingerprint": json.dumps(fingerprint, sort_keys=True),
        "step": state.step,
        "model": {name: t.detach().cpu() for name, t in model.state_dict().items()},
        "beta": torch.from_numpy(state.beta.copy()),
        "batches": state.schedule.state_dict(),
        **{name: torch.from_numpy(array.copy()) for name, array in state.logged().items()},
    }


def _save_checkpoint(
    path: str | os.PathLike, model: CenteredNetwork, state: _RunState, fingerprint: dict[str, Any]
) -> None:
    """Write the checkpoint atomically (temporary file beside it, then ``os.replace``)."""
    with atomic_path(path) as tmp:
        torch.save(_checkpoint_payload(model, state, fingerprint), tmp)


def _fingerprint_differences(stored: str, expected: dict[str, Any]) -> str | None:
    try:
        saved = json.loads(stored)
    except (TypeError, ValueError):
        return "its fingerprint is unreadable"
    if not isinstance(saved, dict):
        return "its fingerprint is unreadable"
    keys = sorted(k for k in set(saved) | set(expected) if saved.get(k) != expected.get(k))
    if not keys:
        return None
    shown = "; ".join(f"{k}: checkpoint {_short(saved.get(k))}, run {_short(expected.get(k))}" for k in keys)
    return f"it belongs to a different run ({shown})"


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return _short(lines[0], 200) if lines else "no message"


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _checked_state_dict(saved: Any, model: CenteredNetwork) -> dict[str, Tensor]:
    expected = model.state_dict()
    if not isinstance(saved, dict) or set(saved) != set(expected):
        raise _CheckpointMismatch("its model state has different entries")
    for name, tensor in expected.items():
        value = saved[name]
        if not isinstance(value, Tensor) or value.shape != tensor.shape or value.dtype != tensor.dtype:
            raise _CheckpointMismatch(f"its model entry {name!r} has a different shape or dtype")
    return saved


def _checked_array(payload: dict[str, Any], name: str, shape: tuple[int, ...]) -> np.ndarray:
    value = payload[name]
    if not isinstance(value, Tensor) or value.dtype != torch.float64 or tuple(value.shape) != shape:
        raise _CheckpointMismatch(f"its entry {name!r} is not a float64 array of shape {shape}")
    return value.numpy().copy()


def _restored_state(
    payload: Any,
    fingerprint: dict[str, Any],
    model: CenteredNetwork,
    template: _RunState,
    last_step: int,
) -> tuple[_RunState, dict[str, Tensor]]:
    """Validate a loaded checkpoint against the run; the state to resume and the model's
    state_dict, or _CheckpointMismatch saying why not. Nothing is modified here."""
    required = {"format", "fingerprint", "step", "model", "beta", "batches", *LOGGED_ARRAYS}
    if not isinstance(payload, dict) or not required <= set(payload):
        raise _CheckpointMismatch("it is not a checkpoint of this module (entries missing)")
    if payload["format"] != CHECKPOINT_FORMAT:
        raise _CheckpointMismatch(f"its format {payload['format']!r} is not {CHECKPOINT_FORMAT}")
    difference = _fingerprint_differences(payload["fingerprint"], fingerprint)
    if difference is not None:
        raise _CheckpointMismatch(difference)
    step = payload["step"]
    if not isinstance(step, int) or not 0 <= step <= last_step:
        raise _CheckpointMismatch(f"its step {step!r} is outside 0..{last_step}")
    state_dict = _checked_state_dict(payload["model"], model)
    arrays = {name: _checked_array(payload, name, array.shape) for name, array in template.logged().items()}
    beta = _checked_array(payload, "beta", template.beta.shape)
    schedule = MinibatchSchedule(template.schedule.n, template.schedule.batch_size, fingerprint["seed"])
    try:
        schedule.load_state_dict(payload["batches"])
    except (KeyError, TypeError, ValueError) as error:
        raise _CheckpointMismatch(f"its batch order cannot be restored ({error})") from None
    return _RunState(step=step, beta=beta, schedule=schedule, **arrays), state_dict


def _resume_or_start(
    path: Path, fingerprint: dict[str, Any], model: CenteredNetwork, fresh: _RunState, last_step: int
) -> tuple[_RunState, bool]:
    """The state to train from: the checkpoint's if it fits the run, else ``fresh`` (with a
    CheckpointWarning saying why). Loads the checkpoint's parameters into ``model``."""
    if not path.exists():
        return fresh, False
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch.load raises many types on corrupt files
        reason = f"it cannot be read ({type(error).__name__}: {_first_line(error)})"
    else:
        try:
            state, state_dict = _restored_state(payload, fingerprint, model, fresh, last_step)
        except _CheckpointMismatch as error:
            reason = str(error)
        else:
            model.load_state_dict(state_dict)
            log.info("resuming from checkpoint %s at step %d", path, state.step)
            return state, True
    warnings.warn(f"checkpoint {path} is ignored: {reason}; training starts from step 0", CheckpointWarning)
    return fresh, False


class _Checkpointer:
    """Writes a checkpoint every ``interval`` seconds, and at ``stop_after_step`` (then stops)."""

    def __init__(self, path: Path, interval: float, stop_after_step: int | None, fingerprint: dict[str, Any]):
        self.path = path
        self.interval = interval
        self.stop_after_step = stop_after_step
        self.fingerprint = fingerprint
        self.last_save = time.monotonic()

    def at_step(self, model: CenteredNetwork, state: _RunState) -> None:
        stop = state.step == self.stop_after_step
        if stop or time.monotonic() - self.last_save >= self.interval:
            _save_checkpoint(self.path, model, state, self.fingerprint)
            self.last_save = time.monotonic()
        if stop:
            raise TrainingInterrupted(state.step, self.path)


# ---------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------


def train_deep_sgd(
    model: CenteredNetwork,
    coefficients: DeepLinearCoefficients,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    *,
    lr: float,
    steps: Sequence[int],
    seed: int,
    batch_size: int = 500,
    image_shape: tuple[int, int, int] | None = None,
    device: str | torch.device = "cpu",
    dtype: str | torch.dtype = torch.float32,
    allow_tf32: bool = False,
    chunk_rows: int | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    checkpoint_seconds: float = 300.0,
    stop_after_step: int | None = None,
    progress: bool = True,
) -> DeepSGDRecord:
    """Plain SGD of ``model`` and of its linear model on the same minibatches (Section 4.2).

    ``model`` (f_0 = 0) is moved to ``device``/``dtype`` and trained in place for
    max(steps) updates with learning rate ``lr`` on batches of ``batch_size`` in the order
    of ``MinibatchSchedule(n, batch_size, seed)``; the linear model beta . psi(x), psi =
    ``deep_linear_features(x, coefficients)``, starts at beta = 0 and takes the same steps
    on the same batches. Rows of ``X_train``/``X_test`` are unflattened to ``image_shape``
    (C, H, W) when given (the CNN). ``device`` may be 'auto', 'cpu', 'cuda' or a
    torch.device; TF32 stays off unless ``allow_tf32``. At every logged step (before its
    update) both models' full train loss and test outputs are recorded; a non-finite one
    raises FloatingPointError naming the step. Checkpoints: see the module docstring;
    ``stop_after_step`` (needs ``checkpoint_path``) writes one after that many updates and
    raises ``TrainingInterrupted``.
    """
    if lr <= 0.0:
        raise ValueError(f"the learning rate must be > 0, got {lr}")
    if stop_after_step is not None and checkpoint_path is None:
        raise ValueError("stop_after_step simulates a kill after a checkpoint: give a checkpoint_path")
    steps = _normalised_steps(steps)
    dev = resolve_device(device) if isinstance(device, str) else device
    dt = resolve_dtype(dtype) if isinstance(dtype, str) else dtype
    model.to(device=dev, dtype=dt)
    problem = _Problem(
        X_train=_network_inputs(X_train, image_shape, dt, dev),
        y_train=torch.as_tensor(np.asarray(y_train), dtype=dt, device=dev),
        X_test=_network_inputs(X_test, image_shape, dt, dev),
        psi_train=deep_linear_features(X_train, coefficients),
        psi_test=deep_linear_features(X_test, coefficients),
        y_train_numpy=np.asarray(y_train, dtype=np.float64),
        chunk_rows=int(chunk_rows or batch_size),
    )
    state = _fresh_state(len(steps), len(X_test), problem.psi_train.shape[1],
                         MinibatchSchedule(len(X_train), batch_size, seed))
    checkpointer = None
    resumed = False
    if checkpoint_path is not None:
        fingerprint = _run_fingerprint(
            model, coefficients, X_train, y_train, X_test, lr=lr, steps=steps,
            batch_size=batch_size, seed=seed, dtype=dt, image_shape=image_shape,
        )
        path = Path(checkpoint_path)
        state, resumed = _resume_or_start(path, fingerprint, model, state, int(steps[-1]))
        checkpointer = _Checkpointer(path, checkpoint_seconds, stop_after_step, fingerprint)
    resumed_from_step = state.step if resumed else None
    with tf32_allowed(allow_tf32):
        _sgd_loop(model, problem, state, lr, steps, checkpointer, progress)
    if checkpoint_path is not None:
        Path(checkpoint_path).unlink(missing_ok=True)
    return DeepSGDRecord(steps=steps, resumed_from_step=resumed_from_step, **state.logged())


def _sgd_loop(
    model: CenteredNetwork,
    problem: _Problem,
    state: _RunState,
    lr: float,
    steps: np.ndarray,
    checkpointer: _Checkpointer | None,
    progress: bool,
) -> None:
    wanted = {int(s): i for i, s in enumerate(steps)}
    last = int(steps[-1])
    desc = f"SGD {type(model.network).__name__}"
    with tqdm(total=last, initial=state.step, disable=not progress, mininterval=2.0, unit="step", desc=desc) as bar:
        while True:
            if checkpointer is not None:
                checkpointer.at_step(model, state)
            index = wanted.get(state.step)
            if index is not None:
                _log_step(model, problem, state, index, lr)
            if state.step == last:
                return
            batch = state.schedule.next_batch()
            rows = torch.from_numpy(batch).to(problem.X_train.device)
            _network_sgd_step(model, problem.X_train[rows], problem.y_train[rows], lr)
            state.beta = _linear_sgd_step(state.beta, problem.psi_train[batch], problem.y_train_numpy[batch], lr)
            state.step += 1
            bar.update(1)


# ---------------------------------------------------------------------------------------
# Measurements (Figure 3)
# ---------------------------------------------------------------------------------------


def input_span_basis(X: np.ndarray) -> np.ndarray | None:
    """Orthonormal basis (n x r) of V_lin = the column space of X (n x d), r = rank(X).

    From the SVD with numpy's matrix_rank tolerance, so rank-deficient X is handled.
    None when d >= n: then V_lin is (generically) all of R^n and the split of Figure 3a
    is not defined (full-size CIFAR-10 in Figure 4, d = 3072 > 2,000 test points).
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    if d >= n:
        return None
    U, S, _ = np.linalg.svd(X, full_matrices=False)
    tolerance = (S[0] if S.size else 0.0) * max(n, d) * np.finfo(np.float64).eps
    return U[:, S > tolerance]


def vlin_loss_parts(outputs: np.ndarray, y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The test loss split onto V_lin and its complement (Figure 3a), per logged step.

    With r = f_t(X) - y and P the orthogonal projection onto the column space of X:
    ((1/2n) ||P r||^2, (1/2n) ||(I - P) r||^2), which sum to the loss (1/2n) ||r||^2.
    ``outputs`` has shape (T, n); None when d >= n (see ``input_span_basis``).
    """
    basis = input_span_basis(X)
    if basis is None:
        return None
    residual = np.asarray(outputs, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    inside = (residual @ basis) @ basis.T
    n = residual.shape[-1]
    return 0.5 * np.sum(inside**2, axis=-1) / n, 0.5 * np.sum((residual - inside) ** 2, axis=-1) / n


def _with_part(rows: pd.DataFrame, part: str) -> pd.DataFrame:
    return rows.assign(part=part)[list(LOSS_PART_COLUMNS)]


def loss_part_rows(
    model: str,
    steps: np.ndarray,
    train_loss: np.ndarray,
    test_outputs: np.ndarray,
    y_test: np.ndarray,
    X_test: np.ndarray,
) -> pd.DataFrame:
    """Rows (model, step, split, part, metric='loss', value) of one model (Figure 3a).

    part 'total' for the train loss and the test loss; for the test split also 'v_lin' and
    'complement' (the split of ``vlin_loss_parts``) when d < n_test.
    """
    frames = [
        _with_part(loss_rows(model, steps, "train", train_loss), "total"),
        _with_part(loss_rows(model, steps, "test", half_mse(test_outputs, y_test)), "total"),
    ]
    parts = vlin_loss_parts(test_outputs, y_test, X_test)
    if parts is not None:
        frames += [
            _with_part(loss_rows(model, steps, "test", parts[0]), "v_lin"),
            _with_part(loss_rows(model, steps, "test", parts[1]), "complement"),
        ]
    return pd.concat(frames, ignore_index=True)


def discrepancy_rows(
    linear_model: str, steps: np.ndarray, network_outputs: np.ndarray, linear_outputs: np.ndarray
) -> pd.DataFrame:
    """Rows (model, step, metric, value) with metric 'relative_mse' = E(f - f_lin)^2 / E f^2
    (Figure 3c; NaN at step 0 where f = 0) and 'output_mse' = E(f - f_lin)^2, model being the
    linear model's name (the format of ``experiments.compare_outputs``)."""
    steps = np.asarray(steps, dtype=np.int64)
    return pd.concat(
        [
            pd.DataFrame({"model": linear_model, "step": steps, "metric": "relative_mse",
                          "value": relative_mse(network_outputs, linear_outputs)}),
            pd.DataFrame({"model": linear_model, "step": steps, "metric": "output_mse",
                          "value": output_mse(network_outputs, linear_outputs)}),
        ],
        ignore_index=True,
    )


def deep_sgd_tables(
    record: DeepSGDRecord,
    y_test: np.ndarray,
    X_test: np.ndarray,
    network_model: str,
    linear_model: str,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(losses, outputs, discrepancy) tables of one run, both models (Figure 3a, b, c)."""
    losses = pd.concat(
        [
            loss_part_rows(network_model, record.steps, record.network_train_loss,
                           record.network_test_outputs, y_test, X_test),
            loss_part_rows(linear_model, record.steps, record.linear_train_loss,
                           record.linear_test_outputs, y_test, X_test),
        ],
        ignore_index=True,
    )
    outputs = pd.concat(
        [
            output_rows(network_model, record.steps, record.network_test_outputs),
            output_rows(linear_model, record.steps, record.linear_test_outputs),
        ],
        ignore_index=True,
    )
    discrepancy = discrepancy_rows(linear_model, record.steps, record.network_test_outputs,
                                   record.linear_test_outputs)
    return losses, outputs, discrepancy


# ---------------------------------------------------------------------------------------
# One call for a rule script
# ---------------------------------------------------------------------------------------


def build_deep_network(
    architecture: str,
    input_dim: int,
    image_shape: tuple[int, int, int] | None,
    *,
    depth: int,
    width: int,
    seed: int,
    activation: str = "erf",
    filter_size: int = 3,
    dtype: str | torch.dtype = torch.float32,
) -> tuple[CenteredNetwork, DeepLinearCoefficients]:
    """The centred network of Figure 3 and its linear-model coefficients (Section 4.1).

    'fc': ``FullyConnectedNTK`` of ``depth`` hidden layers of ``width``; 'cnn':
    ``ConvolutionalNTK`` with ``width`` channels and ``filter_size`` filters (needs
    ``image_shape``). Weights are drawn from a torch seed taken from
    ``rng_stream(seed, "deep-init", input_dim)``.
    """
    dt = resolve_dtype(dtype) if isinstance(dtype, str) else dtype
    init_seed = int(rng_stream(seed, "deep-init", input_dim).integers(2**62))
    if architecture == "fc":
        network = FullyConnectedNTK(input_dim, depth, width, activation, init_seed, dt)
        return CenteredNetwork(network), fc_linear_coefficients(activation, depth)
    if architecture == "cnn":
        if image_shape is None:
            raise ValueError("architecture 'cnn' needs image data (a Dataset with image_shape)")
        network = ConvolutionalNTK(tuple(image_shape), depth, width, filter_size, activation, init_seed, dt)
        return CenteredNetwork(network), cnn_linear_coefficients(activation, depth)
    raise ValueError(f"architecture {architecture!r}; allowed values: {', '.join(ARCHITECTURES)}")


def run_deep_sgd(
    data: Dataset,
    *,
    architecture: str,
    depth: int,
    width: int,
    lr: float,
    steps: Sequence[int],
    seed: int,
    batch_size: int = 500,
    activation: str = "erf",
    filter_size: int = 3,
    device: str = "auto",
    dtype: str = "float32",
    allow_tf32: bool = False,
    chunk_rows: int | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    checkpoint_seconds: float = 300.0,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Figure 3 for one architecture: build the network from ``seed``, train it and its linear
    model by SGD on the same batches, and return (losses, outputs, discrepancy) with model
    names ``architecture`` ('fc' / 'cnn') and ``f"{architecture}_linear"``."""
    model, coefficients = build_deep_network(
        architecture, data.input_dim, data.image_shape, depth=depth, width=width, seed=seed,
        activation=activation, filter_size=filter_size, dtype=dtype,
    )
    record = train_deep_sgd(
        model, coefficients, data.X_train, data.y_train, data.X_test,
        lr=lr, steps=steps, seed=seed, batch_size=batch_size, image_shape=data.image_shape,
        device=device, dtype=dtype, allow_tf32=allow_tf32, chunk_rows=chunk_rows,
        checkpoint_path=checkpoint_path, checkpoint_seconds=checkpoint_seconds, progress=progress,
    )
    return deep_sgd_tables(record, data.y_test, data.X_test, architecture, f"{architecture}_linear")
