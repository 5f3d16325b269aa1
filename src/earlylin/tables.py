"""Tidy parquet tables: one row per observation, config values carried along.

Each table is written atomically (temporary file, then rename), so a failed or killed
job never leaves a half-written output behind. The config values that produced a
table are stored both as columns (those that vary across files, e.g. d and seed) and
as JSON in the parquet metadata under ``earlylin``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

METADATA_KEY = b"earlylin"

LOSS_COLUMNS = ("model", "step", "split", "metric", "value")
OUTPUT_COLUMNS = ("model", "step", "sample", "output")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        yield tmp
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
    """Read a parquet table and check that it has the ``required`` columns."""
    df = pd.read_parquet(path)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ValueError(f"table {path} lacks columns {missing}; it has {list(df.columns)}")
    return df


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The config values stored with a table by ``write_table``."""
    raw = (pq.read_schema(path).metadata or {}).get(METADATA_KEY)
    return json.loads(raw) if raw else {}


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
    """Rows (model, step, sample, output) from a (steps x samples) array of outputs."""
    outputs = np.asarray(outputs, dtype=np.float64)
    n_steps, n_samples = outputs.shape
    return pd.DataFrame(
        {
            "model": model,
            "step": np.repeat(np.asarray(steps, dtype=np.int64), n_samples),
            "sample": np.tile(np.arange(n_samples, dtype=np.int64), n_steps),
            "output": outputs.ravel(),
        }
    )


def outputs_matrix(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of ``output_rows`` for one model: (steps, outputs[steps x samples])."""
    wide = df.pivot(index="step", columns="sample", values="output").sort_index()
    return wide.index.to_numpy(), wide.to_numpy()
