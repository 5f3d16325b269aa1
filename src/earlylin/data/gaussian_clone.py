"""A Gaussian clone of a two-class data set (Refinetti, Ingrosso and Goldt, ICML 2023,
"Neural networks trained with SGD learn distributions of increasing complexity"): every
training input is replaced by a draw from the Gaussian with the mean and covariance of its
class, measured on the real, pre-processed training inputs (pooled and normalised per image,
``images.preprocess_images``); labels and their order, and the real test set, are kept.

The clone has exactly the real data's first two moments per class and nothing else. The
paper's linear model (Section 4.1) sees inputs only through x.x'/d, ||x||^2/d and a constant,
so trained on the clone it is the one trained on the real data up to sampling error; if the
network's early training is linear, a network trained on the clone tracks the one trained on
the real data, on the same real test images, until it learns more than these statistics.

The clone's inputs are not renormalised per image: that would change the moments it copies
(||x||^2/d is d on average, as for the real inputs, but varies from input to input).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dataset import Dataset


@dataclass(frozen=True)
class ClassMoments:
    """Mean (d,) and covariance (d, d; normalised by the count, ``np.cov(..., bias=True)``)
    of the inputs of one class, and their count."""

    mean: np.ndarray
    covariance: np.ndarray
    count: int


def class_moments(X: np.ndarray, y: np.ndarray) -> dict[float, ClassMoments]:
    """Per label of ``y``, the mean and covariance of the rows of ``X`` with that label."""
    X = np.asarray(X, dtype=np.float64)
    moments = {}
    for label in np.unique(y):
        rows = X[np.asarray(y) == label]
        if len(rows) < 2:
            raise ValueError(f"class {label:g} has {len(rows)} training input(s); a covariance needs at least 2")
        centred = rows - rows.mean(axis=0)
        moments[float(label)] = ClassMoments(rows.mean(axis=0), centred.T @ centred / len(rows), len(rows))
    return moments


def gaussian_draws(moments: ClassMoments, n: int, rng: np.random.Generator) -> np.ndarray:
    """n draws (n, d) from N(mean, covariance): mean + z S^T with S S^T = covariance
    (symmetric square root from the eigendecomposition; the covariance of per-image normalised
    inputs is singular, and rounding may leave eigenvalues of order -1e-16, set to 0)."""
    values, vectors = np.linalg.eigh(moments.covariance)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    return moments.mean + rng.standard_normal((n, len(moments.mean))) @ root.T


def gaussian_clone(data: Dataset, rng: np.random.Generator) -> Dataset:
    """The data set with each training input redrawn from its class's Gaussian (see the
    module docstring); test inputs, labels and the image shape are the real ones."""
    y = np.asarray(data.y_train)
    X = np.empty_like(np.asarray(data.X_train, dtype=np.float64))
    for label, moments in class_moments(data.X_train, y).items():
        rows = np.flatnonzero(y == label)
        X[rows] = gaussian_draws(moments, len(rows), rng)
    return Dataset(X, data.y_train, data.X_test, data.y_test, data.image_shape)
