"""Data sets of the paper's synthetic experiments (Section 3.4).

Every random draw comes from ``rng_stream(seed, purpose, *keys)``: one seed from the
config, a named purpose and the values that vary (e.g. d), so changing one setting
never changes the draws of another.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np
from scipy.special import erf

from .tables import atomic_path


def rng_stream(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    """Independent numpy generator for (seed, purpose, keys); stable across runs."""
    tag = zlib.crc32(purpose.encode())
    return np.random.default_rng(np.random.SeedSequence([int(seed), tag, *map(int, keys)]))


@dataclass(frozen=True)
class Dataset:
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def input_dim(self) -> int:
        return self.X_train.shape[1]

    def save(self, path: str) -> None:
        """Write as .npz (no pickle); atomically, so a failed job leaves no file."""
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, X_train=self.X_train, y_train=self.y_train,
                         X_test=self.X_test, y_test=self.y_test)

    @classmethod
    def load(cls, path: str) -> "Dataset":
        with np.load(path, allow_pickle=False) as z:
            return cls(z["X_train"], z["y_train"], z["X_test"], z["y_test"])


def erf_teacher_labels(X: np.ndarray, W: np.ndarray, v: np.ndarray) -> np.ndarray:
    """y = sign(f*(x)), f*(x) = v^T erf(W x / sqrt(d)) / sqrt(k); sign(0) := +1."""
    d = X.shape[1]
    k = W.shape[0]
    f = erf(X @ W.T / math.sqrt(d)) @ v / math.sqrt(k)
    return np.where(f >= 0.0, 1.0, -1.0)


def teacher_dataset(
    d: int, n_train: int, n_test: int, teacher_width: int, seed: int
) -> Dataset:
    """Figure 1 data: x ~ N(0, I_d), y = sign(f*(x)) with f* a random width-k erf network."""
    for key, value in dict(d=d, n_train=n_train, n_test=n_test, teacher_width=teacher_width).items():
        if value <= 0:
            raise ValueError(f"{key} must be positive, got {value}")
    teacher_rng = rng_stream(seed, "teacher", d, teacher_width)
    W = teacher_rng.standard_normal((teacher_width, d))
    v = teacher_rng.standard_normal(teacher_width)
    data_rng = rng_stream(seed, "gaussian-inputs", d)
    X = data_rng.standard_normal((n_train + n_test, d))
    y = erf_teacher_labels(X, W, v)
    return Dataset(X[:n_train], y[:n_train], X[n_train:], y[n_train:])
