"""How much of a network's performance a linear model explains: the performance correlation
of Nakkiran et al. 2019 ("SGD on neural networks learns functions of increasing complexity",
Section 3), the measure whose learning-rate choice Appendix A of the paper follows.

For a classifier F (the network's predicted signs), a simpler classifier L (the linear
model's) and the labels Y, all +-1 on the same test points,

    mu_Y(F; L) = I(F; Y) - I(F; Y | L),

the part of the information F carries about Y that L already carries: mu = I(F; Y) when F's
performance is explained by L (F = L, say), and mu = 0 when F is independent of (L, Y). It is
the interaction information, so also mu = I(F; L) - I(F; L | Y), which may be negative (F
independent of L but not given Y). The information is estimated by the plug-in estimator on the empirical joint
distribution of (F, L, Y) over the test points, in bits, with a bootstrap interval that
resamples test points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _plug_in_information(a: np.ndarray, b: np.ndarray) -> float:
    """I(A; B) in bits of two label vectors, from their empirical joint distribution."""
    _, a_codes = np.unique(a, return_inverse=True)
    _, b_codes = np.unique(b, return_inverse=True)
    joint = np.zeros((a_codes.max() + 1, b_codes.max() + 1))
    np.add.at(joint, (a_codes, b_codes), 1.0)
    joint /= joint.sum()
    outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    seen = joint > 0
    return float(np.sum(joint[seen] * np.log2(joint[seen] / outer[seen])))


def conditional_information(a: np.ndarray, b: np.ndarray, given: np.ndarray) -> float:
    """I(A; B | C) in bits: the mean over the values c of C, weighted by their frequency, of
    I(A; B) among the points with C = c."""
    total = 0.0
    for value in np.unique(given):
        rows = given == value
        total += rows.mean() * _plug_in_information(a[rows], b[rows])
    return total


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """I(A; B) in bits, plug-in estimate over the points."""
    return _plug_in_information(np.asarray(a), np.asarray(b))


def performance_correlation(f: np.ndarray, linear: np.ndarray, y: np.ndarray) -> float:
    """mu_Y(F; L) = I(F; Y) - I(F; Y | L) in bits (see the module docstring)."""
    f, linear, y = (np.asarray(v) for v in (f, linear, y))
    if not (f.shape == linear.shape == y.shape) or f.ndim != 1:
        raise ValueError(f"need three label vectors of one length, got shapes {f.shape}, {linear.shape}, {y.shape}")
    return mutual_information(f, y) - conditional_information(f, y, linear)


@dataclass(frozen=True)
class InformationEstimate:
    """mu_Y(F; L) and I(F; Y) on the test points, each with a bootstrap interval."""

    mu: float
    information: float
    mu_interval: tuple[float, float]
    information_interval: tuple[float, float]


def performance_correlation_with_interval(
    f: np.ndarray,
    linear: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    resamples: int = 200,
    level: float = 0.95,
) -> InformationEstimate:
    """mu_Y(F; L) and I(F; Y) with percentile bootstrap intervals at ``level`` over
    ``resamples`` resamplings of the test points (drawn from ``rng``)."""
    f, linear, y = (np.asarray(v) for v in (f, linear, y))
    mu = performance_correlation(f, linear, y)
    information = mutual_information(f, y)
    draws = rng.integers(0, len(y), size=(resamples, len(y)))
    mus = np.array([performance_correlation(f[rows], linear[rows], y[rows]) for rows in draws])
    informations = np.array([mutual_information(f[rows], y[rows]) for rows in draws])
    tail = 100 * (1 - level) / 2

    def interval(values: np.ndarray) -> tuple[float, float]:
        low, high = np.percentile(values, [tail, 100 - tail])
        return float(low), float(high)

    return InformationEstimate(mu, information, interval(mus), interval(informations))
