"""Section 4.1's simple kernel fitted to a network's empirical NTK (earlylin.kernels.fit):
exact recovery, agreement with the recursion within the Monte-Carlo error, and fits that
define no linear model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from earlylin.kernels.empirical import empirical_ntk
from earlylin.kernels.fit import fit_simple_kernel
from earlylin.kernels.recursion import cnn_linear_coefficients, fc_linear_coefficients, fc_ntk_entry
from earlylin.kernels.simple_kernel import KernelCoefficients, simple_kernel
from earlylin.networks.registry import ModelSpec, build_model

pytestmark = pytest.mark.filterwarnings("ignore:There is a performance drop")


def test_fit_recovers_an_exactly_simple_kernel_with_norm_terms():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 20)) * rng.uniform(0.8, 1.2, size=(30, 1))
    truth = KernelCoefficients(constant=0.3, linear=0.7, norm=0.2)
    kernels = [simple_kernel(X, truth) * s + np.diag(np.full(30, 0.5)) for s in (0.9, 1.1)]
    fit = fit_simple_kernel(X, kernels)
    assert fit.with_norm_term
    assert np.allclose([fit.constant, fit.linear, fit.norm], truth.as_array(), rtol=1e-10)
    # sd of (0.9 c, 1.1 c) is 0.1 sqrt(2) c, over sqrt(2): 0.1 c
    assert np.allclose([fit.constant_stderr, fit.linear_stderr, fit.norm_stderr], 0.1 * truth.as_array())
    assert fit.residual_frobenius < 1e-12 and fit.residual_spectral < 1e-12
    assert fit.diagonal_gap == pytest.approx(0.5, rel=1e-10)
    assert fit.problems() == []


def _on_the_sphere(n, d, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X * np.sqrt(d) / np.linalg.norm(X, axis=1, keepdims=True)


def _infinite_width_fc_kernel(X, activation, depth):
    """The exact NTK (``fc_ntk_entry``) on every pair of inputs of norm sqrt(d): a function of
    x.x'/d alone, interpolated by a degree-16 Chebyshev polynomial through 17 exact values
    (interpolation error ~1e-15, checked); diagonal left at 0 (not fitted)."""
    d = X.shape[1]
    rows, cols = np.triu_indices(len(X), k=1)
    overlap = (X @ X.T / d)[rows, cols]
    lo, hi = overlap.min(), overlap.max()
    nodes = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.linspace(0, np.pi, 17))
    values = [fc_ntk_entry(activation, depth, 1.0, 1.0, float(r)) for r in nodes]
    interpolant = np.polynomial.chebyshev.Chebyshev.fit(nodes, values, 16)
    middle = float((lo + hi) / 2 + 0.1 * (hi - lo))
    assert abs(interpolant(middle) - fc_ntk_entry(activation, depth, 1.0, 1.0, middle)) < 1e-12
    kernel = np.zeros((len(X), len(X)))
    kernel[rows, cols] = interpolant(overlap)
    return kernel + kernel.T


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_fitted_fc_coefficients_agree_with_the_recursion_within_their_monte_carlo_error(activation):
    """Width 256, 8 initialisations, 60 inputs on the sphere in d = 64. The same fit applied to
    the exact infinite-width kernel on the same inputs is the value the Monte-Carlo mean
    estimates (finite-width bias O(1/width), well below the error bar); it is within 3% of
    the recursion's Taylor coefficients (the fit absorbs the kernel's higher-order terms in
    x.x'/d ~ 0.1)."""
    X = _on_the_sphere(60, 64)
    spec = ModelSpec("fc", "fc", {"depth": 2, "width": 256, "activation": activation})
    kernels = [empirical_ntk(build_model(spec, (64,), seed, torch.float64), torch.tensor(X)) for seed in range(8)]
    fit = fit_simple_kernel(X, [k.numpy() for k in kernels])
    exact = _infinite_width_fc_kernel(X, activation, 2)
    reference = fit_simple_kernel(X, [exact, exact])
    assert not fit.with_norm_term
    assert abs(fit.linear - reference.linear) < 4 * fit.linear_stderr
    assert abs(fit.constant - reference.constant) < 4 * fit.constant_stderr
    assert 0 < fit.linear_stderr < 0.05 * fit.linear
    taylor = fc_linear_coefficients(activation, 2)
    assert reference.linear == pytest.approx(taylor.linear, rel=0.03)
    assert reference.constant == pytest.approx(taylor.constant, rel=0.03, abs=1e-4)
    assert fit.problems() == []
    if activation == "erf":  # odd: no constant, hence no norm term, in the linear model
        assert fit.coefficients().constant == 0.0


def test_fitted_cnn_coefficients_agree_with_the_recursion_within_their_monte_carlo_error():
    """±1 pixels (every local patch variance is 1, the expansion point of
    ``cnn_linear_coefficients``), 8 input channels on 4 x 4 images: the local overlaps are
    ~1/sqrt(72), and their second-order terms stay below the error bar of 6 initialisations
    of 32 channels."""
    shape = (8, 4, 4)
    X = np.random.default_rng(0).choice([-1.0, 1.0], size=(40, *shape))
    spec = ModelSpec("cnn", "cnn", {"depth": 2, "channels": 32, "activation": "erf"})
    kernels = [empirical_ntk(build_model(spec, shape, seed, torch.float64), torch.tensor(X)) for seed in range(6)]
    fit = fit_simple_kernel(X, [k.numpy() for k in kernels])
    recursion = cnn_linear_coefficients("erf", 2)
    assert abs(fit.linear - recursion.linear) < 4 * fit.linear_stderr
    assert abs(fit.constant - recursion.constant) < 4 * fit.constant_stderr
    assert fit.coefficients().constant == 0.0


def test_a_fit_that_defines_no_linear_model_says_why():
    X = _on_the_sphere(20, 16)
    negative = [simple_kernel(X, KernelCoefficients(constant=-0.5, linear=s, norm=0.0)) for s in (0.9, 1.1)]
    assert any("the constant" in p and "is negative" in p for p in fit_simple_kernel(X, negative).problems())
    flat = [simple_kernel(X, KernelCoefficients(constant=1.0, linear=-s, norm=0.0)) for s in (0.9, 1.1)]
    assert any("the linear coefficient" in p for p in fit_simple_kernel(X, flat).problems())
    with pytest.raises(ValueError, match="at least 2 initialisations"):
        fit_simple_kernel(X, negative[:1])


def _on_the_sphere_12(n, d, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X * np.sqrt(d) / np.linalg.norm(X, axis=1, keepdims=True)


def test_a_negative_fitted_constant_becomes_zero_with_a_note_and_a_non_positive_slope_stops():
    X = _on_the_sphere_12(12, 6, 5)
    gram = X @ X.T / 6
    negative = [-0.2 + 1.5 * gram + 0.01 * k for k in range(3)]
    coefficients, notes = fit_simple_kernel(X, negative).linear_model()
    assert coefficients.constant == 0.0 and coefficients.linear == pytest.approx(1.5)
    assert notes and "< 0 (no feature map): the linear model uses constant 0" in notes[0]
    flat = [0.5 - 0.3 * gram + 0.01 * k for k in range(3)]
    with pytest.raises(ValueError, match="the linear coefficient .* is not positive"):
        fit_simple_kernel(X, flat).linear_model()


def test_the_linear_model_uses_the_fitted_constant_on_normalised_inputs_significant_or_not():
    """A constant of about 1.5 standard errors is the least-squares line's, and the linear
    model keeps it on normalised inputs; with a norm term the same constant is 0 (its feature
    map would divide by it)."""
    X = _on_the_sphere_12(12, 6, 5)
    gram = X @ X.T / 6
    noisy = [0.1 + 0.3 * (-1) ** k + 1.5 * gram for k in range(4)]  # constant 0.1 ± 0.15
    fit = fit_simple_kernel(X, noisy)
    assert abs(fit.constant) < 3 * fit.constant_stderr and fit.coefficients().constant == 0.0
    coefficients, notes = fit.linear_model()
    assert coefficients.constant == pytest.approx(0.1) and notes == []
    scaled = X * np.sqrt(np.linspace(0.8, 1.2, 12))[:, None]  # ||x||^2/d differ: a norm column
    e = np.sum(scaled**2, axis=1) / 6 - 1
    with_norm = [k + 0.2 * (e[:, None] + e[None]) + 1.5 * scaled @ scaled.T / 6 for k in np.array(noisy) - 1.5 * gram]
    coefficients, _ = fit_simple_kernel(scaled, with_norm).linear_model()
    assert coefficients.constant == 0.0 and coefficients.norm == 0.0


def test_a_negative_constant_within_two_standard_errors_is_reported_as_consistent_with_0():
    """The issue's case: a constant 0.45 standard errors below zero is information, not a
    missing feature map; 0 is still what the linear model uses."""
    X = _on_the_sphere_12(12, 6, 5)
    gram = X @ X.T / 6
    noisy = [-0.05 + 0.3 * (-1) ** k + 1.5 * gram for k in range(4)]  # constant -0.05 ± 0.15
    fit = fit_simple_kernel(X, noisy)
    assert fit.constant == pytest.approx(-0.05) and abs(fit.constant) <= 2 * fit.constant_stderr
    coefficients, notes = fit.linear_model()
    assert coefficients.constant == 0.0 and len(notes) == 1
    assert ", consistent with 0 (within 2 standard errors): the linear model uses constant 0" in notes[0]
    assert "no feature map" not in notes[0]
