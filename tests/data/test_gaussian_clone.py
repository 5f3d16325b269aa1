"""The Gaussian clone keeps the real data's class means and covariances (within the sampling
error of its draws, a tolerance computed from the Gaussian's own moments), labels and test set."""

from __future__ import annotations

import numpy as np
import pytest

from earlylin.data.bundled import digits_images
from earlylin.data.dataset import Dataset
from earlylin.data.gaussian_clone import class_moments, gaussian_clone, gaussian_draws
from earlylin.data.images import preprocess_images

# |estimate - truth| <= Z standard errors on every entry: with ~10^3 entries of (nearly)
# Gaussian estimates, a true clone exceeds 5 standard errors on any one with probability ~6e-4
Z = 5.0


def _real_digits() -> tuple[np.ndarray, np.ndarray]:
    """Real inputs: scikit-learn's 3s and 8s, 2x2 pooled and normalised per image (d = 16)."""
    images, labels = digits_images()
    keep = (labels == 3) | (labels == 8)
    X, _ = preprocess_images(images[keep], 2)
    return X, np.where(labels[keep] == 3, 1.0, -1.0)


def _moment_errors(sample: np.ndarray, mean: np.ndarray, covariance: np.ndarray) -> tuple[float, float]:
    """The largest deviation of the sample mean and covariance from (mean, covariance), in
    standard errors: var(mean_i) = S_ii / n; var(cov_ij) = (S_ii S_jj + S_ij^2) / n for a Gaussian."""
    n = len(sample)
    diag = np.diag(covariance)
    mean_se = np.sqrt(np.maximum(diag, 1e-300) / n)
    cov_se = np.sqrt((np.outer(diag, diag) + covariance**2) / n)
    centred = sample - sample.mean(axis=0)
    estimate = centred.T @ centred / n
    live = diag > 1e-12
    mean_z = np.abs(sample.mean(axis=0) - mean)[live] / mean_se[live]
    cov_z = (np.abs(estimate - covariance) / np.maximum(cov_se, 1e-300))[np.ix_(live, live)]
    return float(mean_z.max()), float(cov_z.max())


def test_draws_have_the_class_mean_and_covariance_within_sampling_error():
    X, y = _real_digits()
    for label, moments in class_moments(X, y).items():
        draws = gaussian_draws(moments, 20000, np.random.default_rng(int(label + 5)))
        mean_z, cov_z = _moment_errors(draws, moments.mean, moments.covariance)
        assert mean_z < Z and cov_z < Z, (label, mean_z, cov_z)


def test_the_tolerance_detects_a_wrong_covariance():
    """The same check refuses draws whose covariance is 10% too large: it can fail."""
    X, y = _real_digits()
    moments = class_moments(X, y)[1.0]
    wrong = type(moments)(moments.mean, 1.1 * moments.covariance, moments.count)
    draws = gaussian_draws(wrong, 20000, np.random.default_rng(0))
    assert _moment_errors(draws, moments.mean, moments.covariance)[1] > Z


def test_class_moments_are_the_real_classes_statistics():
    X, y = _real_digits()
    moments = class_moments(X, y)
    for label in (1.0, -1.0):
        rows = X[y == label]
        assert np.allclose(moments[label].mean, rows.mean(axis=0))
        assert np.allclose(moments[label].covariance, np.cov(rows, rowvar=False, bias=True))
        assert moments[label].count == len(rows)


def test_clone_keeps_labels_test_set_and_shape_and_is_seeded():
    X, y = _real_digits()
    data = Dataset(X[:250], y[:250], X[250:], y[250:], (1, 4, 4))
    clone = gaussian_clone(data, np.random.default_rng(7))
    assert clone.X_train.shape == data.X_train.shape and not np.allclose(clone.X_train, data.X_train)
    assert np.array_equal(clone.y_train, data.y_train)
    assert np.array_equal(clone.X_test, data.X_test) and np.array_equal(clone.y_test, data.y_test)
    assert clone.image_shape == (1, 4, 4)
    assert np.array_equal(gaussian_clone(data, np.random.default_rng(7)).X_train, clone.X_train)
    # each class of the clone has its real class's moments within sampling error
    real = class_moments(data.X_train, data.y_train)
    for label, moments in real.items():
        mean_z, cov_z = _moment_errors(clone.X_train[clone.y_train == label], moments.mean, moments.covariance)
        assert mean_z < Z and cov_z < Z
    # ||x||^2 / d is 1 on average, as for the normalised real inputs
    assert np.mean(np.sum(clone.X_train**2, axis=1) / 16) == pytest.approx(1.0, abs=0.05)


def test_a_class_with_one_input_is_refused():
    with pytest.raises(ValueError, match="class -1 has 1 training input"):
        class_moments(np.ones((3, 2)), np.array([1.0, 1.0, -1.0]))
