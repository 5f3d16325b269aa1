"""Tidy parquet tables: one row per observation, config values carried along.

Each table is written atomically (temporary file, then rename), so a failed or killed
job never leaves a half-written output behind; the file gets the mode a plain ``open``
would give it (0o666 less the umask). The config values that produced a table are
stored both as columns (those that vary across files, e.g. d and seed) and as JSON in
the parquet metadata under ``earlylin``.

Inputs are read through ``read_table``, ``read_meta`` and ``read_npz``: a truncated or
damaged file raises ``CorruptInputError`` naming the file and the command that removes
it, so that rerunning snakemake regenerates it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shlex
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .metrics import output_mse, relative_mse

METADATA_KEY = b"earlylin"

LOSS_COLUMNS = ("model", "step", "split", "metric", "value")
OUTPUT_COLUMNS = ("model", "step", "sample", "output")


class CorruptInputError(ValueError):
    """An input file (an intermediate result of the workflow) cannot be read; the message
    names the file, the underlying error and the ``rm`` command that lets snakemake
    regenerate it."""

    def __init__(self, path: str | os.PathLike, kind: str, error: BaseException | str):
        self.path = os.fspath(path)
        self.kind = kind
        reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        self.reason = reason = " ".join(str(reason).split())  # one line
        super().__init__(
            f"cannot read {kind} file {self.path} ({reason}): it is truncated or damaged. "
            f"It is an intermediate result of the workflow: delete it and rerun snakemake, "
            f"which regenerates it:\n  rm {shlex.quote(self.path)}"
        )

    def __reduce__(self):  # picklable (e.g. across processes) despite the custom signature
        return (type(self), (self.path, self.kind, self.reason))


# Errors that are about the file's place, not its content: they pass through unchanged.
_NOT_CORRUPTION = (IsADirectoryError, PermissionError, MemoryError)


@contextlib.contextmanager
def reading(path: str | os.PathLike, kind: str) -> Iterator[None]:
    """Turn any error raised while reading ``path`` (a ``kind`` file, e.g. 'parquet')
    into CorruptInputError, except a missing file, a directory or a permission error."""
    try:
        yield
    except FileNotFoundError as error:
        raise _missing(path, kind) from error
    except (*_NOT_CORRUPTION, CorruptInputError):
        raise
    except Exception as error:
        if not os.path.exists(path):
            raise _missing(path, kind) from error
        raise CorruptInputError(path, kind, error) from error


def _missing(path: str | os.PathLike, kind: str) -> FileNotFoundError:
    return FileNotFoundError(
        errno.ENOENT,
        f"{kind} input not found (snakemake writes it when the rule that makes it runs)",
        os.fspath(path),
    )


def current_umask() -> int:
    """The process umask, read from /proc where possible: os.umask can only read it by
    setting it, which briefly exposes other threads' new files to umask 0."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o077)  # the classic way; 0o077 is the safe value for the moment between
    os.umask(old)
    return old


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    The file gets mode 0o666 & ~umask (0o644 under umask 022, 0o664 under 002), as if
    written by ``open``, not the 0o600 of ``mkstemp``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_table(df: pd.DataFrame, path: str | os.PathLike, meta: Mapping[str, Any] | None = None) -> None:
    """Write ``df`` as parquet with ``meta`` (JSON-serialisable) in the file metadata."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    existing = table.schema.metadata or {}
    table = table.replace_schema_metadata(
        {**existing, METADATA_KEY: json.dumps(dict(meta or {}), sort_keys=True, default=_json_default)}
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_table(path: str | os.PathLike, required: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a parquet table and check that it has the ``required`` columns.

    Raises FileNotFoundError for a missing file, CorruptInputError for a damaged one."""
    with reading(path, "parquet"):
        df = pd.read_parquet(path)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"table {path} lacks columns {missing}; it has {list(df.columns)}")
    return df


def read_tables(paths: Iterable[str | os.PathLike], required: tuple[str, ...] = ()) -> pd.DataFrame:
    """The tables of ``paths`` (``read_table``) one below the other."""
    return pd.concat([read_table(path, required) for path in paths], ignore_index=True)


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The config values stored with a table by ``write_table`` (errors as ``read_table``)."""
    with reading(path, "parquet"):
        raw = (pq.read_schema(path).metadata or {}).get(METADATA_KEY)
        return json.loads(raw) if raw else {}


def read_npz(path: str | os.PathLike, required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """All arrays of an .npz file (no pickle), read eagerly so that every byte is checked.

    Raises FileNotFoundError for a missing file, CorruptInputError for a damaged one or
    one that lacks a ``required`` array."""
    with reading(path, "npz"):
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise CorruptInputError(path, "npz", "it holds a single .npy array, not an .npz archive")
        with loaded as z:
            arrays = {name: z[name] for name in z.files}
    missing = [name for name in required if name not in arrays]
    if missing:
        raise CorruptInputError(path, "npz", f"it lacks the arrays {missing}; it has {sorted(arrays)}")
    return arrays


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot store {type(obj).__name__} in table metadata")


def loss_rows(model: str, steps: np.ndarray, split: str, loss: np.ndarray) -> pd.DataFrame:
    """Rows (model, step, split, metric='loss', value) for one model and split."""
    return pd.DataFrame(
        {
            "model": model,
            "step": np.asarray(steps, dtype=np.int64),
            "split": split,
            "metric": "loss",
            "value": np.asarray(loss, dtype=np.float64),
        }
    )


def output_rows(model: str, steps: np.ndarray, outputs: np.ndarray) -> pd.DataFrame:
    """Rows (model, step, sample, output) from a (steps x samples) array of outputs; rows
    (model, step, sample, output_index, output) from (steps x samples x k), k outputs per input."""
    outputs = np.asarray(outputs, dtype=np.float64)
    n_steps, n_samples = outputs.shape[:2]
    per_sample = int(np.prod(outputs.shape[2:], dtype=np.int64))
    columns = {
        "model": model,
        "step": np.repeat(np.asarray(steps, dtype=np.int64), n_samples * per_sample),
        "sample": np.tile(np.repeat(np.arange(n_samples, dtype=np.int64), per_sample), n_steps),
    }
    if outputs.ndim == 3:
        columns["output_index"] = np.tile(np.arange(per_sample, dtype=np.int64), n_steps * n_samples)
    return pd.DataFrame({**columns, "output": outputs.ravel()})


def outputs_matrix(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of ``output_rows`` for one model: (steps, outputs[steps x samples])."""
    wide = df.pivot(index="step", columns="sample", values="output").sort_index()
    return wide.index.to_numpy(), wide.to_numpy()


def discrepancy_rows(
    linear_model: str, steps: np.ndarray, network_outputs: np.ndarray, linear_outputs: np.ndarray
) -> pd.DataFrame:
    """Rows (model, step, metric, value) comparing a network with a linear model on test
    data: metric 'output_mse' = E(f - f_lin)^2 (Figure 1c) and 'relative_mse' =
    E(f - f_lin)^2 / E f^2 (Figure 3c; NaN where f = 0, e.g. at step 0); ``model`` is the
    linear model's name. Outputs have shape (steps, test points)."""
    steps = np.asarray(steps, dtype=np.int64)
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "model": linear_model,
                    "step": steps,
                    "metric": "output_mse",
                    "value": output_mse(network_outputs, linear_outputs),
                }
            ),
            pd.DataFrame(
                {
                    "model": linear_model,
                    "step": steps,
                    "metric": "relative_mse",
                    "value": relative_mse(network_outputs, linear_outputs),
                }
            ),
        ],
        ignore_index=True,
    )
