"""Checkpoints of the deep-network training jobs (Figures 3 and 4): resumable state while a
job trains, and the finished run's record after it, so that no compute is lost.

A checkpoint file holds one of two payloads, both ``torch.save`` dictionaries of tensors,
ints and strings only, so that ``torch.load(..., weights_only=True)`` reads them:

* ``in_progress``: everything needed to continue the run bitwise (the training module
  decides what: parameters, optimiser-free SGD state, batch order, logged arrays so far).
* ``finished``: the logged arrays of a completed run and its timings, without parameters
  (small). It is written, replacing the in-progress state, before the job writes its
  tables, and stays afterwards: if Snakemake itself is killed while the job runs, the job
  may finish as an orphan but Snakemake counts its outputs as incomplete and deletes them
  on the next run; the rerun job then rebuilds its tables from the finished record in
  seconds instead of training again.

Each payload carries the run's fingerprint (the settings and data it belongs to, as JSON).
A checkpoint is used only if its fingerprint equals the run's; otherwise, or when it
cannot be read, a ``CheckpointWarning`` says why and it is ignored (and later replaced).
A finished record is reused only when, in addition, the code that trains is the same
(``code`` entry of its fingerprint): after a change of the package a forced rerun trains
again, while an in-progress state resumes across code changes (its parameters are a valid
point to continue from). Files are written atomically (``tables.atomic_path``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data import Dataset
from ..tables import atomic_path
from .networks import CenteredNetwork
from .ntk_recursion import DeepLinearCoefficients
from .sgd_state import DeepSGDRecord, DeepSGDSettings, MinibatchSchedule, RunState, TrainingInterrupted

Tensor = torch.Tensor
log = logging.getLogger(__name__)

FORMAT = 2
IN_PROGRESS = "in_progress"
FINISHED = "finished"


class CheckpointWarning(UserWarning):
    """An existing checkpoint is ignored (unreadable, or from a different run)."""


class CheckpointMismatch(ValueError):
    """Why a readable checkpoint cannot be used for this run."""


def array_digest(*arrays: np.ndarray) -> str:
    """Short SHA-256 digest of arrays (their dtype, shape and bytes)."""
    digest = hashlib.sha256()
    for array in arrays:
        contiguous = np.ascontiguousarray(array)
        digest.update(str((contiguous.dtype.str, contiguous.shape)).encode())
        digest.update(contiguous)
    return digest.hexdigest()[:16]


def source_digest(*modules: Any) -> str:
    """Short SHA-256 digest of the source files of ``modules`` (the code a result depends on)."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def save(path: str | os.PathLike, kind: str, fingerprint: dict[str, Any], entries: dict[str, Any]) -> None:
    """Write a checkpoint of ``kind`` (IN_PROGRESS or FINISHED) atomically."""
    payload = {"format": FORMAT, "kind": kind, "fingerprint": json.dumps(fingerprint, sort_keys=True), **entries}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load(path: str | os.PathLike, fingerprint: dict[str, Any]) -> dict[str, Any] | None:
    """The payload of the checkpoint at ``path`` if it belongs to this run, else None.

    A missing file gives None silently. An unreadable file, another format, or a
    fingerprint that differs (for a finished record, also in its ``code``) gives None and
    a CheckpointWarning naming the file and the reason.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        _check_payload(payload, fingerprint)
    except CheckpointMismatch as error:
        reason = str(error)
    except Exception as error:  # torch.load raises many types on corrupt files
        reason = f"it cannot be read ({type(error).__name__}: {_first_line(error)})"
    else:
        return payload
    warn(path, reason)
    return None


def warn(path: str | os.PathLike, reason: str) -> None:
    """Report an ignored checkpoint: a CheckpointWarning (which goes to the rule's log) and
    the same line on the process's own stderr, which Snakemake shows on the console."""
    message = f"checkpoint {path} is ignored: {reason}; training starts from step 0"
    warnings.warn(message, CheckpointWarning, stacklevel=3)
    if sys.stderr is not sys.__stderr__ and sys.__stderr__ is not None:
        print(f"WARNING: {message}", file=sys.__stderr__, flush=True)


def _check_payload(payload: Any, fingerprint: dict[str, Any]) -> None:
    if not isinstance(payload, dict) or not {"format", "kind", "fingerprint"} <= set(payload):
        raise CheckpointMismatch("it is not a checkpoint of this workflow (entries missing)")
    if payload["format"] != FORMAT:
        raise CheckpointMismatch(f"its format {payload['format']!r} is not {FORMAT}")
    if payload["kind"] not in (IN_PROGRESS, FINISHED):
        raise CheckpointMismatch(f"its kind {payload['kind']!r} is unknown")
    ignored = () if payload["kind"] == FINISHED else ("code",)
    difference = fingerprint_difference(payload["fingerprint"], fingerprint, ignored)
    if difference is not None:
        raise CheckpointMismatch(difference)


def fingerprint_difference(stored: Any, expected: dict[str, Any], ignored: tuple[str, ...] = ()) -> str | None:
    """None when the stored fingerprint (a JSON string) equals ``expected`` outside the
    ``ignored`` keys; else a sentence naming the keys that differ and both values."""
    try:
        saved = json.loads(stored)
    except (TypeError, ValueError):
        return "its fingerprint is unreadable"
    if not isinstance(saved, dict):
        return "its fingerprint is unreadable"
    keys = sorted(k for k in set(saved) | set(expected) if k not in ignored and saved.get(k) != expected.get(k))
    if not keys:
        return None
    shown = "; ".join(f"{k}: checkpoint {_short(saved.get(k))}, run {_short(expected.get(k))}" for k in keys)
    return f"it belongs to a different run ({shown})"


def checked_tensor(payload: dict[str, Any], name: str, shape: tuple[int, ...], dtype: torch.dtype) -> Tensor:
    """``payload[name]`` if it is a tensor of ``shape`` and ``dtype``, else CheckpointMismatch."""
    value = payload.get(name)
    if not isinstance(value, Tensor) or value.dtype != dtype or tuple(value.shape) != tuple(shape):
        raise CheckpointMismatch(f"its entry {name!r} is not a {dtype} tensor of shape {tuple(shape)}")
    return value


def checked_state_dict(saved: Any, expected: dict[str, Tensor]) -> dict[str, Tensor]:
    """A module state_dict from a checkpoint, checked entry by entry against ``expected``."""
    if not isinstance(saved, dict) or set(saved) != set(expected):
        raise CheckpointMismatch("its model state has different entries")
    for name, tensor in expected.items():
        checked_tensor(saved, name, tuple(tensor.shape), tensor.dtype)
    return saved


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return _short(lines[0], 200) if lines else "no message"


def _short(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------
# The checkpoints of a deep SGD run (deep_training)
# ---------------------------------------------------------------------------------------


def run_fingerprint(
    model: CenteredNetwork,
    coefficients: DeepLinearCoefficients,
    data: Dataset,
    settings: DeepSGDSettings,
    code: tuple[Any, ...],
) -> dict[str, Any]:
    """What a checkpoint must share with a run to be used (JSON-serialisable): the settings
    the result depends on, the architecture, digests of the initial parameters (hence the
    init seed) and of the data, and a digest of the modules ``code`` that train."""
    initial = [t.detach().cpu().numpy() for t in model.initial_parameters().values()]
    return {
        "lr": float(settings.lr),
        "batch_size": int(settings.batch_size),
        "seed": int(settings.seed),
        "steps": list(settings.logged_steps),
        "dtype": settings.dtype,
        "allow_tf32": bool(settings.allow_tf32),
        "architecture": repr(model.network),
        "parameter_shapes": {name: list(p.shape) for name, p in model.network.named_parameters()},
        "initial_parameters": array_digest(*initial),
        "coefficients": coefficients.as_array().tolist(),
        "n_train": int(len(data.X_train)),
        "n_test": int(len(data.X_test)),
        "image_shape": None if data.image_shape is None else [int(s) for s in data.image_shape],
        "data": array_digest(np.asarray(data.X_train), np.asarray(data.y_train), np.asarray(data.X_test)),
        "code": source_digest(*code),
    }


def restore_run(
    payload: dict[str, Any],
    network: torch.nn.Module,
    template: RunState,
    settings: DeepSGDSettings,
    initial_shapes: tuple[int, int],
    dtype: torch.dtype,
) -> tuple[RunState, Tensor, Tensor]:
    """An in-progress payload validated and loaded into ``network``: the state to continue
    from and the outputs at initialisation (train, test). CheckpointMismatch, with nothing
    modified, when it does not fit the run."""
    step = payload.get("step")
    if not isinstance(step, int) or not 0 <= step <= settings.max_step:
        raise CheckpointMismatch(f"its step {step!r} is outside 0..{settings.max_step}")
    state_dict = checked_state_dict(payload.get("network"), network.state_dict())
    initial_train = checked_tensor(payload, "initial_train", (initial_shapes[0],), dtype)
    initial_test = checked_tensor(payload, "initial_test", (initial_shapes[1],), dtype)
    arrays = {
        name: checked_tensor(payload, name, array.shape, torch.float64).numpy().copy()
        for name, array in template.logged().items()
    }
    beta = checked_tensor(payload, "beta", template.beta.shape, torch.float64).numpy().copy()
    schedule = MinibatchSchedule(template.schedule.n, template.schedule.batch_size, settings.seed)
    try:
        schedule.load_state_dict(payload["batches"])
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointMismatch(f"its batch order cannot be restored ({error})") from None
    network.load_state_dict(state_dict)
    return RunState(step=step, beta=beta, schedule=schedule, **arrays), initial_train, initial_test


def finished_record(payload: dict[str, Any], settings: DeepSGDSettings, template: RunState) -> DeepSGDRecord:
    """The record of a finished run from its payload (CheckpointMismatch if it does not fit)."""
    arrays = {
        name: checked_tensor(payload, name, array.shape, torch.float64).numpy().copy()
        for name, array in template.logged().items()
    }
    return DeepSGDRecord(
        steps=np.asarray(settings.logged_steps),
        reused_finished=True,
        seconds=json.loads(payload.get("seconds", "{}")),
        counts=json.loads(payload.get("counts", "{}")),
        **arrays,
    )


def save_finished(path: str | os.PathLike, fingerprint: dict[str, Any], record: DeepSGDRecord) -> None:
    """Replace the run's checkpoint by its finished record (logged arrays and timings)."""
    arrays = {
        name: torch.from_numpy(np.array(getattr(record, name)))
        for name in ("network_train_loss", "linear_train_loss", "network_test_outputs", "linear_test_outputs")
    }
    save(
        path,
        FINISHED,
        fingerprint,
        {**arrays, "seconds": json.dumps(record.seconds), "counts": json.dumps(record.counts)},
    )


class Checkpointer:
    """Saves a run every ``interval`` seconds, when a SIGINT/SIGTERM arrived (then stops
    with TrainingInterrupted), and at ``stop_after_step`` (a test hook; then stops)."""

    def __init__(self, path: str, interval: float, stop_after_step: int | None, fingerprint: dict[str, Any]):
        self.path = path
        self.interval = interval
        self.stop_after_step = stop_after_step
        self.fingerprint = fingerprint
        self.last_save = time.monotonic()
        self.signal_name: str | None = None

    def _stop_reason(self, step: int) -> str | None:
        return self.signal_name or ("stop_after_step" if step == self.stop_after_step else None)

    def due(self, step: int) -> bool:
        return self._stop_reason(step) is not None or time.monotonic() - self.last_save >= self.interval

    def save(self, network: torch.nn.Module, initial_outputs: tuple[Tensor, Tensor], state: RunState) -> None:
        """Write the in-progress checkpoint; TrainingInterrupted afterwards when a stop was asked for."""
        stop = self._stop_reason(state.step)
        save(
            self.path,
            IN_PROGRESS,
            self.fingerprint,
            {
                "step": state.step,
                "network": {name: t.detach().cpu() for name, t in network.state_dict().items()},
                "initial_train": initial_outputs[0].detach().cpu(),
                "initial_test": initial_outputs[1].detach().cpu(),
                "beta": torch.from_numpy(state.beta.copy()),
                "batches": state.schedule.state_dict(),
                **{name: torch.from_numpy(array.copy()) for name, array in state.logged().items()},
            },
        )
        self.last_save = time.monotonic()
        if stop:
            raise TrainingInterrupted(state.step, self.path, stop)

    @contextlib.contextmanager
    def on_signals(self) -> Iterator[None]:
        """While inside, SIGINT and SIGTERM ask for a checkpoint and a stop at the next step
        boundary instead of killing the process mid-step (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def request_stop(signum: int, _frame: Any) -> None:
            self.signal_name = signal.Signals(signum).name

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
