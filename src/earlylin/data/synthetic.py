"""The synthetic data sets of Section 3.4: Gaussian inputs x ~ N(0, I_d) labelled by a random
erf teacher (Figure 1) or by the norm-dependent target of Figure 2. Every draw comes from
``core.seeds.rng_stream``."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

from ..core.seeds import rng_stream
from .dataset import Dataset


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
