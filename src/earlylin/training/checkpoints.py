"""Checkpoints of the training jobs: resumable state while a job trains, and the finished
run's record after it, so that no compute is lost.

A checkpoint file holds one of two payloads, both ``torch.save`` dictionaries of tensors,
ints and strings only, so that ``torch.load(..., weights_only=True)`` reads them:

* ``in_progress``: everything needed to continue the run bitwise (the engine decides what:
  every model's state, the batch order, what was logged so far, what was computed before
  the first step).
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

from ..core.errors import ExplainedError
from ..core.tables import atomic_path

Tensor = torch.Tensor
log = logging.getLogger(__name__)

FORMAT = 3
IN_PROGRESS = "in_progress"
FINISHED = "finished"


class TrainingInterrupted(ExplainedError, RuntimeError):
    """Training stopped at a step boundary after writing a checkpoint (a signal, or the
    ``stop_after_step`` test hook); rerunning the job resumes from it."""

    def __init__(self, step: int, checkpoint_path: str, reason: str):
        super().__init__(
            f"training stopped after step {step} ({reason}); checkpoint written to "
            f"{checkpoint_path}; rerun to resume from it"
        )
        self.step = step
        self.checkpoint_path = checkpoint_path


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


def source_digest(*sources: Any) -> str:
    """Short SHA-256 digest of source code (what a result depends on): modules, files, or
    folders (every .py file below them, in sorted order)."""
    digest = hashlib.sha256()
    for source in sources:
        path = Path(source.__file__ if hasattr(source, "__file__") else source)
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(path) if path.is_dir() else file.name).encode())
            digest.update(file.read_bytes())
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

    def save(self, step: int, entries: dict[str, Any]) -> None:
        """Write the in-progress checkpoint of ``step`` (``entries``: the run's state);
        TrainingInterrupted afterwards when a stop was asked for."""
        stop = self._stop_reason(step)
        save(self.path, IN_PROGRESS, self.fingerprint, {"step": step, **entries})
        self.last_save = time.monotonic()
        if stop:
            raise TrainingInterrupted(step, self.path, stop)

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
