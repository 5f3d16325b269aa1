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

from .tables import CorruptInputError, atomic_path, read_npz

__all__ = [  # CorruptInputError is re-exported: Dataset.load raises it
    "TARGETS",
    "CorruptInputError",
    "Dataset",
    "erf_teacher_labels",
    "norm_target_dataset",
    "norm_target_labels",
    "rng_stream",
    "synthetic_dataset",
    "teacher_dataset",
]


def rng_stream(seed: int, purpose: str, *keys: int) -> np.random.Generator:
    """Independent numpy generator for (seed, purpose, keys); stable across runs."""
    tag = zlib.crc32(purpose.encode())
    return np.random.default_rng(np.random.SeedSequence([int(seed), tag, *map(int, keys)]))


@dataclass(frozen=True)
class Dataset:
    """Inputs as rows (n x d) and labels; ``image_shape`` (channels, height, width) when
    the rows are flattened images, so that convolutional networks can unflatten them."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int, int] | None = None

    @property
    def input_dim(self) -> int:
        return self.X_train.shape[1]

    def save(self, path: str) -> None:
        """Write as .npz (no pickle); atomically, so a failed job leaves no file, with the
        mode a plain ``open`` gives (0o666 less the umask)."""
        extra = {} if self.image_shape is None else {"image_shape": np.asarray(self.image_shape, dtype=np.int64)}
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh, X_train=self.X_train, y_train=self.y_train, X_test=self.X_test, y_test=self.y_test, **extra
                )

    @classmethod
    def load(cls, path: str) -> Dataset:
        """Read a file written by ``save``. Raises FileNotFoundError for a missing file and
        CorruptInputError (naming the file and the ``rm`` that lets snakemake regenerate
        it) for a truncated or damaged one."""
        z = read_npz(path, required=("X_train", "y_train", "X_test", "y_test"))
        shape = tuple(int(s) for s in z["image_shape"]) if "image_shape" in z else None
        return cls(z["X_train"], z["y_train"], z["X_test"], z["y_test"], shape)


def erf_teacher_labels(X: np.ndarray, W: np.ndarray, v: np.ndarray) -> np.ndarray:
    """y = sign(f*(x)), f*(x) = v^T erf(W x / sqrt(d)) / sqrt(k); sign(0) := +1."""
    d = X.shape[1]
    k = W.shape[0]
    f = erf(X @ W.T / math.sqrt(d)) @ v / math.sqrt(k)
    return np.where(f >= 0.0, 1.0, -1.0)


def teacher_dataset(d: int, n_train: int, n_test: int, teacher_width: int, seed: int) -> Dataset:
    """Figure 1 data: x ~ N(0, I_d), y = sign(f*(x)) with f* a random width-k erf network."""
    _check_positive(d=d, n_train=n_train, n_test=n_test, teacher_width=teacher_width)
    teacher_rng = rng_stream(seed, "teacher", d, teacher_width)
    W = teacher_rng.standard_normal((teacher_width, d))
    v = teacher_rng.standard_normal(teacher_width)
    data_rng = rng_stream(seed, "gaussian-inputs", d)
    X = data_rng.standard_normal((n_train + n_test, d))
    y = erf_teacher_labels(X, W, v)
    return Dataset(X[:n_train], y[:n_train], X[n_train:], y[n_train:])


def norm_target_labels(X: np.ndarray, a: np.ndarray) -> np.ndarray:
    """y = ||x|| / sqrt(d) + ReLU(a^T x): the norm-dependent target of Figure 2."""
    d = X.shape[1]
    return np.linalg.norm(X, axis=1) / math.sqrt(d) + np.maximum(X @ a, 0.0)


def norm_target_dataset(d: int, n_train: int, n_test: int, seed: int) -> Dataset:
    """Figure 2 data (Section 3.4): x ~ N(0, I_d), y = ||x||/sqrt(d) + ReLU(a^T x) with a
    a random unit vector (||a|| = 1 = O(1)), drawn from ``seed``."""
    _check_positive(d=d, n_train=n_train, n_test=n_test)
    a = rng_stream(seed, "norm-target-direction", d).standard_normal(d)
    a /= np.linalg.norm(a)
    X = rng_stream(seed, "gaussian-inputs", d).standard_normal((n_train + n_test, d))
    y = norm_target_labels(X, a)
    return Dataset(X[:n_train], y[:n_train], X[n_train:], y[n_train:])


def _check_positive(**values: int) -> None:
    for key, value in values.items():
        if value <= 0:
            raise ValueError(f"{key} must be positive, got {value}")


TARGETS = ("teacher", "norm")


def synthetic_dataset(target: str, d: int, n_train: int, n_test: int, seed: int, teacher_width: int = 5) -> Dataset:
    """One of the paper's synthetic data sets by name: 'teacher' (Figure 1: sign of a
    random width-``teacher_width`` erf network) or 'norm' (Figure 2: ||x||/sqrt(d) + ReLU(a^T x))."""
    if target == "teacher":
        return teacher_dataset(d, n_train, n_test, teacher_width, seed)
    if target == "norm":
        return norm_target_dataset(d, n_train, n_test, seed)
    raise ValueError(f"target {target!r}; allowed values: {', '.join(TARGETS)}")
