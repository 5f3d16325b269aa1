"""The infinite-width NNGP/NTK recursion and the deep linear surrogate's coefficients (Section 4.1)."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np
import pytest
import torch

from earlylin.core.activations import ACTIVATION_NAMES, gaussian_moments, get_activation
from earlylin.experiments.two_layer.surrogates import psi
from earlylin.kernels.empirical import empirical_ntk
from earlylin.kernels.recursion import (
    bivariate_gaussian_expectation_and_gradient,
    cnn_linear_coefficients,
    cnn_to_fc_learning_rate_ratio,
    fc_linear_coefficients,
    fc_ntk_entry,
)
from earlylin.kernels.simple_kernel import KernelCoefficients, linear_features
from earlylin.networks.builtin import ConvolutionalNTK, FullyConnectedNTK


@cache
def _coefficients(name: str, depth: int) -> KernelCoefficients:
    return fc_linear_coefficients(name, depth)


# ---------------------------------------------------------------------------------------
# Bivariate Gaussian expectations
# ---------------------------------------------------------------------------------------

COVARIANCES = [(0.7, 1.3, 0.4), (2.0, 0.5, -0.6)]


@pytest.mark.parametrize("cov1, cov2, cov12", COVARIANCES)
def test_erf_expectations_match_arcsine_closed_forms(cov1, cov2, cov12):
    erf = get_activation("erf")
    p = (1 + 2 * cov1) * (1 + 2 * cov2)
    z = 2 * cov12 / math.sqrt(p)
    value, grad = bivariate_gaussian_expectation_and_gradient(erf.value, erf.value, cov1, cov2, cov12)
    assert value == pytest.approx(2 / math.pi * math.asin(z), abs=1e-12)
    dasin = 2 / math.pi / math.sqrt(1 - z * z)
    price = 4 / math.pi / math.sqrt(p - 4 * cov12 * cov12)
    expected_grad = [-dasin * z / (1 + 2 * cov1), -dasin * z / (1 + 2 * cov2), price]
    np.testing.assert_allclose(grad, expected_grad, rtol=0, atol=1e-12)
    dvalue = bivariate_gaussian_expectation_and_gradient(erf.derivative, erf.derivative, cov1, cov2, cov12)[0]
    assert dvalue == pytest.approx(price, abs=1e-12)


@pytest.mark.parametrize("cov1, cov2, cov12", COVARIANCES)
def test_relu_expectations_match_arccosine_kernels(cov1, cov2, cov12):
    """Cho & Saul (2009): E[relu u relu u'] = sqrt(cov1 cov2) (sin t + (pi - t) cos t) / (2 pi),
    E[step u step u'] = (pi - t) / (2 pi), t = arccos(cov12 / sqrt(cov1 cov2)). The covariance
    gradient must satisfy Price (d/dcov12 of the first is the second) and Euler's identity
    for functions homogeneous in S (degree 1 and 0)."""
    relu = get_activation("relu")
    t = math.acos(cov12 / math.sqrt(cov1 * cov2))
    arccos_1 = math.sqrt(cov1 * cov2) * (math.sin(t) + (math.pi - t) * math.cos(t)) / (2 * math.pi)
    value, grad = bivariate_gaussian_expectation_and_gradient(relu.value, relu.value, cov1, cov2, cov12, (0.0,), (0.0,))
    assert value == pytest.approx(arccos_1, abs=1e-12)
    assert grad[2] == pytest.approx((math.pi - t) / (2 * math.pi), abs=1e-12)
    assert cov1 * grad[0] + cov2 * grad[1] + cov12 * grad[2] == pytest.approx(value, abs=1e-12)
    step, step_grad = bivariate_gaussian_expectation_and_gradient(
        relu.derivative, relu.derivative, cov1, cov2, cov12, (0.0,), (0.0,)
    )
    assert step == pytest.approx((math.pi - t) / (2 * math.pi), abs=1e-12)
    assert cov1 * step_grad[0] + cov2 * step_grad[1] + cov12 * step_grad[2] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_covariance_gradient_is_price_theorem(name):
    """dE[phi(u) phi(u')]/dcov12 (integration by parts, no phi'') equals E[phi'(u) phi'(u')]."""
    act = get_activation(name, 0.1)
    cov1, cov2, cov12 = 0.8, 1.1, 0.3
    _, grad = bivariate_gaussian_expectation_and_gradient(act.value, act.value, cov1, cov2, cov12, act.kinks, act.kinks)
    price = bivariate_gaussian_expectation_and_gradient(
        act.derivative, act.derivative, cov1, cov2, cov12, act.kinks, act.kinks
    )[0]
    assert grad[2] == pytest.approx(price, rel=1e-10)


def test_degenerate_covariances_are_rejected():
    erf = get_activation("erf")
    with pytest.raises(ValueError, match="non-degenerate"):
        bivariate_gaussian_expectation_and_gradient(erf.value, erf.value, 1.0, 1.0, 1.0)[0]
    with pytest.raises(ValueError, match="positive"):
        bivariate_gaussian_expectation_and_gradient(erf.value, erf.value, 0.0, 1.0, 0.0)[0]


# ---------------------------------------------------------------------------------------
# The recursion and its coefficients
# ---------------------------------------------------------------------------------------


def test_one_hidden_layer_erf_is_the_two_layer_surrogate(rng):
    """Depth 1 with both layers trained: linear = 2 zeta^2, zeta = E[erf'(g)] = 2 / sqrt(3 pi),
    so the deep features sqrt(linear) x / sqrt(d) are the sqrt(2) zeta x / sqrt(d) block of
    surrogates.psi (eq. 11) with no factor between the conventions; nu = q = 0 for erf."""
    coeffs = _coefficients("erf", 1)
    moments = gaussian_moments(get_activation("erf"))
    assert moments.zeta == pytest.approx(2 / math.sqrt(3 * math.pi), rel=1e-14)
    assert coeffs.linear == pytest.approx(2 * moments.zeta**2, rel=1e-13)
    assert abs(coeffs.constant) < 1e-15 and abs(coeffs.norm) < 1e-15
    X = rng.standard_normal((30, 12))
    features = linear_features(X, coeffs)
    reference = psi(X, moments)
    np.testing.assert_allclose(features, reference[:, :12], rtol=1e-13)
    np.testing.assert_allclose(features @ features.T, reference @ reference.T, rtol=0, atol=1e-12)


def test_one_hidden_layer_relu_matches_the_two_layer_moments():
    """Depth 1 ReLU: h(1,1,0) = theta0^2, dh/dnngp = 2 zeta^2, dh/dcov1 = theta0 theta1 / 2 (the
    first-order part of q(x) q(x') in eq. 9-11, since ||x||/sqrt(d) - 1 ~ (||x||^2/d - 1)/2).
    The nu^2 / d column of eq. 11 is a second-order (nngp^2 ~ 1/d) term, outside this model."""
    coeffs = _coefficients("relu", 1)
    m = gaussian_moments(get_activation("relu"))
    assert coeffs.constant == pytest.approx(m.theta0**2, rel=1e-13)
    assert coeffs.linear == pytest.approx(2 * m.zeta**2, rel=1e-13)
    assert coeffs.norm == pytest.approx(m.theta0 * m.theta1 / 2, rel=1e-12)


def _erf_ntk_closed_form(depth: int, cov1: float, cov2: float, nngp: float) -> float:
    """The erf recursion with the arcsine kernels in closed form (Williams 1997)."""
    ntk = nngp
    for _ in range(depth):
        p = (1 + 2 * cov1) * (1 + 2 * cov2)
        next_nngp = 2 / math.pi * math.asin(2 * nngp / math.sqrt(p))
        dot_sigma = 4 / math.pi / math.sqrt(p - 4 * nngp * nngp)
        ntk = next_nngp + ntk * dot_sigma
        cov1 = 2 / math.pi * math.asin(2 * cov1 / (1 + 2 * cov1))
        cov2 = 2 / math.pi * math.asin(2 * cov2 / (1 + 2 * cov2))
        nngp = next_nngp
    return ntk


def test_erf_recursion_matches_the_arcsine_closed_form():
    """h(cov1, cov2, nngp) at depth 4, and linear_L = (L + 1) prod_l (4/pi) / (1 + 2 A_{l-1}) with
    A_0 = 1, A_l = (2/pi) asin(2 A_{l-1} / (1 + 2 A_{l-1})): at nngp = 0 every cross covariance of
    an odd activation vanishes, so dTheta^{l+1} = (dTheta^l + dSigma^l) Sigma-dot^{l+1}."""
    closed_form = _erf_ntk_closed_form(4, 0.9, 1.2, 0.3)
    assert fc_ntk_entry("erf", 4, 0.9, 1.2, 0.3) == pytest.approx(closed_form, rel=1e-12)
    variance, product = 1.0, 1.0
    for depth in range(1, 5):
        product *= 4 / math.pi / (1 + 2 * variance)
        variance = 2 / math.pi * math.asin(2 * variance / (1 + 2 * variance))
        assert _coefficients("erf", depth).linear == pytest.approx((depth + 1) * product, rel=1e-12)


@pytest.mark.parametrize("name", ["gelu", "relu"])
def test_coefficients_match_finite_differences_of_the_recursion(name):
    """Forward-mode derivatives vs central differences (step 1e-4: truncation ~1e-9)."""
    depth, step = 2, 1e-4
    coeffs = _coefficients(name, depth)

    def central(point: Callable[[float], tuple[float, float, float]]) -> float:
        forward, backward = fc_ntk_entry(name, depth, *point(step)), fc_ntk_entry(name, depth, *point(-step))
        return (forward - backward) / (2 * step)

    assert coeffs.linear == pytest.approx(central(lambda e: (1.0, 1.0, e)), rel=1e-7)
    assert coeffs.norm == pytest.approx(central(lambda e: (1.0 + e, 1.0, 0.0)), rel=1e-7)


def test_relu_norm_term_is_half_the_constant():
    """ReLU is positively homogeneous, so h(cov1, cov2, 0) = sqrt(cov1 cov2) h(1, 1, 0) at any depth."""
    coeffs = _coefficients("relu", 4)
    assert coeffs.constant > 0.05
    assert coeffs.norm == pytest.approx(coeffs.constant / 2, rel=1e-10)


def test_relu_features_reproduce_the_first_order_kernel(rng):
    coeffs = _coefficients("relu", 4)
    X = rng.standard_normal((25, 16))
    F = linear_features(X, coeffs)
    assert F.shape == (25, 17)
    excess = np.sum(X * X, axis=1) / 16 - 1
    expected = (
        coeffs.constant
        + coeffs.linear * X @ X.T / 16
        + coeffs.norm * (excess[:, None] + excess[None, :])
        + coeffs.norm**2 / coeffs.constant * np.outer(excess, excess)
    )
    np.testing.assert_allclose(F @ F.T, expected, rtol=1e-12, atol=1e-14)


def test_features_need_a_constant_for_a_norm_term():
    with pytest.raises(ValueError, match="norm term"):
        linear_features(np.ones((2, 3)), KernelCoefficients(constant=0.0, linear=1.0, norm=0.1))


def test_cnn_learning_rate_ratio():
    """Same depth and activation: identical linear models, ratio 1. Different depths (erf):
    ratio linear_FC / linear_CNN. ReLU at different depths: the triples are not proportional."""
    erf4, erf2 = _coefficients("erf", 4), _coefficients("erf", 2)
    assert cnn_linear_coefficients("erf", 4) == erf4
    assert cnn_to_fc_learning_rate_ratio(erf4, cnn_linear_coefficients("erf", 4)) == 1.0
    assert cnn_to_fc_learning_rate_ratio(erf4, erf2) == pytest.approx(erf4.linear / erf2.linear, rel=1e-15)
    with pytest.raises(ValueError, match="not proportional"):
        cnn_to_fc_learning_rate_ratio(_coefficients("relu", 4), _coefficients("relu", 2))


# ---------------------------------------------------------------------------------------
# Coefficients vs the empirical NTK of wide random networks
# ---------------------------------------------------------------------------------------


IMAGE_SHAPE = (3, 4, 4)
N_POINTS = 20


def _hypercube_images() -> np.ndarray:
    """x in {+-1}^{3 x 4 x 4}: ||x||^2/d = 1 and every local patch norm is 1, so the norm
    terms do not enter and the CNN statement of ``cnn_linear_coefficients`` is exact to first order."""
    return np.random.default_rng(7).choice([-1.0, 1.0], size=(N_POINTS, *IMAGE_SHAPE))


def _regress_off_diagonal(ntk: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Least-squares (intercept, slope) of Theta_ij on nngp_ij = x_i.x_j/d over the pairs i < j."""
    flat = X.reshape(len(X), -1)
    nngp = flat @ flat.T / flat.shape[1]
    upper = np.triu_indices(len(X), 1)
    design = np.stack([np.ones(upper[0].size), nngp[upper]], axis=1)
    return np.linalg.lstsq(design, ntk[upper], rcond=None)[0]


def _network(kind: str, activation: str, depth: int, seed: int) -> torch.nn.Module:
    if kind == "fc":
        return FullyConnectedNTK(math.prod(IMAGE_SHAPE), depth, 512, activation, seed, dtype=torch.float64)
    return ConvolutionalNTK(IMAGE_SHAPE, depth, 256, 3, activation, seed)


# kind, activation, depth, seeds, tolerance on the intercept (absolute), on the slope (relative)
EMPIRICAL_CASES = [
    ("fc", "erf", 4, 12, 0.005, 0.12),
    ("cnn", "erf", 4, 4, 0.005, 0.08),
    ("fc", "relu", 2, 16, 0.02, 0.12),
    ("cnn", "relu", 2, 8, 0.02, 0.12),
]


@pytest.mark.slow
@pytest.mark.parametrize("kind, activation, depth, seeds, intercept_tol, slope_rtol", EMPIRICAL_CASES)
def test_coefficients_match_the_empirical_ntk(kind, activation, depth, seeds, intercept_tol, slope_rtol):
    """FC width 512 / CNN 256 channels (3 x 3 filters), 20 hypercube images 3 x 4 x 4 (d = 48):
    the empirical NTK (autograd Jacobian Gram) of each seed is regressed on [1, x_i.x_j/d]
    over the 190 pairs i < j; the mean fit gives intercept ~ constant = h(1,1,0) and slope ~ linear.
    erf at depth 4 (Figure 3's nets: linear = 0.9168, constant = 0); ReLU at depth 2 (constant = 0.1714,
    linear = 0.2395), where its finite-width noise is small enough for a sharp check.

    Error budget, measured on these inputs (|nngp_ij| <= 0.375, rms 0.14):
    * Taylor remainder: regressing the exact infinite-width FC kernel h(1, 1, nngp_ij) on the
      same pairs gives slope 0.9296 (erf, +1.4%: odd O(nngp^3) remainder, intercept 2e-5) and
      intercept 0.1745 / slope 0.2445 (ReLU, +1.8% / +2.1%: O(nngp^2) remainder).
    * Finite width, std ~ 1/sqrt(width): per-seed standard deviations of the slope are
      8.6% (FC erf), 2.8% (CNN erf), 8.8% (FC ReLU), 4.9% (CNN ReLU), of the intercept
      0.003, 0.0015, 0.012, 0.011; the means over 12 / 4 / 16 / 8 seeds have standard errors
      2.5%, 1.4%, 2.2%, 1.7% (slope) and 0.001, 0.001, 0.003, 0.004 (intercept).
    Tolerances are the remainder plus about 4 standard errors. Measured with these seeds
    (FC erf, CNN erf, FC ReLU, CNN ReLU): slope -3.8%, +1.9%, -5.7%, +1.3%; intercept
    0.0007, 0.0002, -0.0020, -0.0049. The tolerances still separate ReLU's depths
    (linear = 0.50 / 0.24 / 0.11 at depth 1 / 2 / 3) and any factor-2 convention error.
    """
    X = _hypercube_images()
    inputs = torch.tensor(X, dtype=torch.float64 if kind == "fc" else torch.float32)
    fits = [
        _regress_off_diagonal(empirical_ntk(_network(kind, activation, depth, seed), inputs).numpy(), X)
        for seed in range(seeds)
    ]
    intercept, slope = np.mean(fits, axis=0)
    coeffs = _coefficients(activation, depth)
    assert intercept == pytest.approx(coeffs.constant, abs=intercept_tol)
    assert slope == pytest.approx(coeffs.linear, rel=slope_rtol)
