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

With k classes, F, L and Y are class labels 0..k-1 (``predicted_classes``: the arg max of a
model's k outputs) and the same quantities come from the k x k x k table of (F, L, Y) counts
(``class_estimates``, ``class_metric_rows``); the binary functions are the case k = 2 with
the labels [x > 0]. The information does not depend on how the classes are numbered, and
I(F; Y) <= log2(k), reached by F = Y with k equally frequent classes. The plug-in estimates on
n points are biased upwards, for independent variables by about (k - 1)^2 / (2 n ln 2) bits
for I(F; Y) and k times that for I(F; Y | L), so mu by about -(k - 1)^3 / (2 n ln 2): keep n
well above k^3 when comparing mu across k.
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


# ---------------------------------------------------------------------------------------
# Binary predictions and k classes: every quantity from the 2 x 2 x 2 (k x k x k) table of
# (F, L, Y) counts, so that a bootstrap of many resamples is one np.bincount and array
# arithmetic.
# ---------------------------------------------------------------------------------------


def _bits(joint: np.ndarray) -> np.ndarray:
    """I(A; B) in bits of joint count tables (..., a, b) (each normalised here)."""
    p = joint / np.maximum(joint.sum(axis=(-2, -1), keepdims=True), 1e-300)
    outer = p.sum(axis=-1, keepdims=True) * p.sum(axis=-2, keepdims=True)
    ratio = np.where(p > 0, p / np.where(outer > 0, outer, 1.0), 1.0)
    return np.sum(np.where(p > 0, p * np.log2(ratio), 0.0), axis=(-2, -1))


def table_information(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(I(F; Y), mu_Y(F; L)) in bits from count tables (..., F, L, Y) of any numbers of
    classes (2 x 2 x 2 for binary predictions, k x k x k for k classes):
    I(F; Y | L) = sum_l p(l) I(F; Y | L = l)."""
    counts = np.asarray(counts, dtype=np.float64)
    information = _bits(counts.sum(axis=-2))
    per_l = np.moveaxis(counts, -2, -3)  # (..., L, F, Y)
    weights = per_l.sum(axis=(-2, -1)) / np.maximum(counts.sum(axis=(-3, -2, -1))[..., None], 1e-300)
    conditional = np.sum(weights * _bits(per_l), axis=-1)
    return information, information - conditional


binary_information = table_information  # the name under which the binary tables came first


def _codes(f: np.ndarray, linear: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cell index 4 [F > 0] + 2 [L > 0] + [Y > 0] of each point."""
    return 4 * (np.asarray(f) > 0) + 2 * (np.asarray(linear) > 0) + (np.asarray(y) > 0)


def predicted_signs(outputs: np.ndarray) -> np.ndarray:
    """A model's predicted labels: +1 where its output is positive, else -1 (the centred
    models output exactly 0 at step 0 and predict -1 everywhere: no information)."""
    return np.where(np.asarray(outputs) > 0, 1.0, -1.0)


def bootstrap_draws(n: int, rng: np.random.Generator, resamples: int = 200) -> np.ndarray:
    """``resamples`` resamplings (with replacement) of ``n`` test points, as index rows."""
    return rng.integers(0, n, size=(resamples, n))


def _table_estimates(codes: np.ndarray, k: int, draws: np.ndarray, level: float) -> InformationEstimate:
    """``InformationEstimate`` from each point's cell index codes in the k x k x k table of
    (F, L, Y): the point estimate from the table of all points, the percentile intervals at
    ``level`` from one table per resample (row of ``draws``), all counted by one bincount."""
    cells = k**3
    information, mu = table_information(np.bincount(codes, minlength=cells).reshape(k, k, k))
    draws = np.asarray(draws)
    resampled = codes[draws] + cells * np.arange(len(draws))[:, None]  # cell index per (resample, point)
    counts = np.bincount(resampled.ravel(), minlength=len(draws) * cells)
    boot_information, boot_mu = table_information(counts.reshape(len(draws), k, k, k))
    tail = 100 * (1 - level) / 2

    def interval(values: np.ndarray) -> tuple[float, float]:
        low, high = np.percentile(values, [tail, 100 - tail])
        return float(low), float(high)

    return InformationEstimate(float(mu), float(information), interval(boot_mu), interval(boot_information))


def binary_estimates(
    f: np.ndarray, linear: np.ndarray, y: np.ndarray, draws: np.ndarray, level: float = 0.95
) -> InformationEstimate:
    """mu_Y(F; L) and I(F; Y) of binary predictions (+1 where positive) with percentile
    bootstrap intervals at ``level`` over the resamplings ``draws`` (``bootstrap_draws``):
    one count table per resample, all at once."""
    return _table_estimates(_codes(f, linear, y), 2, draws, level)


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """A model's predicted classes from its outputs (..., points, k): the arg max over the last
    axis, ties going to the first (lowest) class as in ``np.argmax``. The centred models output
    exactly 0 at step 0 and so predict class 0 everywhere: no information about the labels."""
    return np.argmax(np.asarray(outputs), axis=-1)


def _class_labels(f: np.ndarray, linear: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """The three label vectors as integer arrays, checked: one length, 1-D, classes 0..k-1."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise ValueError(f"the number of classes k must be an integer >= 2, got {k!r}")
    vectors = tuple(np.asarray(v) for v in (f, linear, y))
    shapes = tuple(v.shape for v in vectors)
    if len(set(shapes)) != 1 or len(shapes[0]) != 1:
        raise ValueError(f"need three 1-D label vectors (f, linear, y) of one length, got shapes {shapes}")
    if shapes[0][0] == 0:
        raise ValueError("need at least one test point, got empty label vectors")
    labels = []
    for name, v in zip(("f", "linear", "y"), vectors):
        if not (np.issubdtype(v.dtype, np.integer) or np.issubdtype(v.dtype, np.floating)) or np.any(v != np.round(v)):
            raise ValueError(f"{name} must hold integer class labels, got dtype {v.dtype}")
        if v.min() < 0 or v.max() >= k:
            raise ValueError(f"{name} has labels outside 0..{k - 1} (k = {k}): min {v.min()}, max {v.max()}")
        labels.append(v.astype(np.int64))
    return tuple(labels)


def class_estimates(
    f: np.ndarray, linear: np.ndarray, y: np.ndarray, k: int, draws: np.ndarray, level: float = 0.95
) -> InformationEstimate:
    """mu_Y(F; L) and I(F; Y) of k-class predictions (``f``: the network's predicted classes,
    ``linear``: the linear model's, ``y``: the true classes, all integers 0..k-1 on the same
    test points) with percentile bootstrap intervals at ``level`` over the resamplings
    ``draws`` (``bootstrap_draws``): one k x k x k count table per resample, all at once."""
    f, linear, y = _class_labels(f, linear, y, k)
    return _table_estimates(f * k * k + linear * k + y, k, draws, level)


def performance_correlation_with_interval(
    f: np.ndarray,
    linear: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    resamples: int = 200,
    level: float = 0.95,
) -> InformationEstimate:
    """mu_Y(F; L) and I(F; Y) of binary predictions with percentile bootstrap intervals at
    ``level`` over ``resamples`` resamplings of the test points (drawn from ``rng``)."""
    return binary_estimates(f, linear, y, bootstrap_draws(len(y), rng, resamples), level)


def sign_metric_rows(
    steps: np.ndarray,
    outputs: dict[str, np.ndarray],
    y: np.ndarray,
    rng: np.random.Generator,
    resamples: int = 200,
    level: float = 0.95,
    reference: str = "network",
    simple: str = "linear",
) -> list[dict]:
    """Nakkiran et al.'s measures at every logged step from the test outputs (steps x points)
    of each model: rows (step, model, other, metric, value, low, high) with metric
    'accuracy' (each model), 'sign_agreement' (``reference`` with each other model),
    'information' I(M; Y) (each model) and 'performance_correlation' mu_Y(reference; simple),
    the last two with percentile bootstrap intervals at ``level`` over ``resamples``
    resamplings of the test points (the same resamples at every step)."""
    y = np.asarray(y, dtype=np.float64)
    draws = bootstrap_draws(len(y), rng, resamples)
    signs = {name: predicted_signs(values) for name, values in outputs.items()}
    return _metric_rows(steps, signs, y, "sign_agreement", binary_estimates, draws, level, reference, simple)


def class_metric_rows(
    steps: np.ndarray,
    outputs: dict[str, np.ndarray],
    y: np.ndarray,
    k: int,
    rng: np.random.Generator,
    resamples: int = 200,
    level: float = 0.95,
    reference: str = "network",
    simple: str = "linear",
) -> list[dict]:
    """``sign_metric_rows`` for k classes: from the test outputs (steps x points x k) of each
    model and the true classes ``y`` (integers 0..k-1, one per point), rows (step, model,
    other, metric, value, low, high) with metric 'accuracy' (each model), 'class_agreement'
    (``reference`` with each other model: the share of test points where their predicted
    classes agree), 'information' I(M; Y) (each model) and 'performance_correlation'
    mu_Y(reference; simple), the last two with percentile bootstrap intervals at ``level`` over
    ``resamples`` resamplings of the test points (the same resamples at every step). The
    predicted class is the arg max of the outputs (``predicted_classes``)."""
    y = np.asarray(y)
    for name, values in outputs.items():
        shape = np.shape(values)
        if shape != (len(steps), len(y), k):
            raise ValueError(
                f"outputs[{name!r}] must have shape ({len(steps)} steps, {len(y)} points, k = {k}), got {shape}"
            )
    draws = bootstrap_draws(len(y), rng, resamples)
    classes = {name: predicted_classes(values) for name, values in outputs.items()}

    def estimates(f, linear, labels, draws, level):
        return class_estimates(f, linear, labels, k, draws, level)

    return _metric_rows(steps, classes, y, "class_agreement", estimates, draws, level, reference, simple)


def _metric_rows(
    steps: np.ndarray,
    predicted: dict[str, np.ndarray],
    y: np.ndarray,
    agreement: str,
    estimates,
    draws: np.ndarray,
    level: float,
    reference: str,
    simple: str,
) -> list[dict]:
    """The rows of ``sign_metric_rows`` / ``class_metric_rows`` from each model's predicted
    labels (steps x points); ``agreement`` names the agreement metric and
    ``estimates(f, linear, y, draws, level)`` gives an ``InformationEstimate``."""
    rows: list[dict] = []

    def add(step, model, other, metric, value, interval=(np.nan, np.nan)):
        rows.append(
            dict(
                step=int(step), model=model, other=other, metric=metric, value=value, low=interval[0], high=interval[1]
            )
        )

    for i, step in enumerate(steps):
        for name, labels in predicted.items():
            add(step, name, "", "accuracy", float(np.mean(labels[i] == y)))
            if name != reference:
                add(step, reference, name, agreement, float(np.mean(labels[i] == predicted[reference][i])))
            estimate = estimates(labels[i], predicted[simple][i], y, draws, level)
            add(step, name, "", "information", estimate.information, estimate.information_interval)
            if name == reference:
                add(step, reference, simple, "performance_correlation", estimate.mu, estimate.mu_interval)
    return rows
