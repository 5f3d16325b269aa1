import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from earlylin.core.activations import (
    ACTIVATION_NAMES,
    gaussian_expectation,
    gaussian_moments,
    get_activation,
    scaled_mean,
)

SQRT_2PI = math.sqrt(2 * math.pi)


def test_erf_moments_closed_form():
    m = gaussian_moments(get_activation("erf"))
    assert m.zeta == pytest.approx(2 / math.sqrt(3 * math.pi), abs=1e-12)
    # E[phi'(g)^2] = (4/pi) E[exp(-2 g^2)] = (4/pi) / sqrt(5)
    assert m.gamma == pytest.approx(4 / math.pi / math.sqrt(5), abs=1e-12)
    for value in (m.nu, m.theta0, m.theta1, m.theta2):
        assert abs(value) < 1e-10


def test_relu_moments_closed_form():
    m = gaussian_moments(get_activation("relu"))
    assert m.zeta == pytest.approx(0.5, abs=1e-12)
    assert m.gamma == pytest.approx(0.5, abs=1e-12)
    for value in (m.nu, m.theta0, m.theta1):
        assert value == pytest.approx(1 / SQRT_2PI, abs=1e-12)
    assert abs(m.theta2) < 1e-10


@pytest.mark.parametrize("slope", [0.01, 0.1, 0.5])
def test_leaky_relu_moments_closed_form(slope):
    m = gaussian_moments(get_activation("leaky_relu", slope))
    assert m.zeta == pytest.approx((1 + slope) / 2, abs=1e-12)
    assert m.gamma == pytest.approx((1 + slope**2) / 2, abs=1e-12)
    assert m.theta0 == pytest.approx((1 - slope) / SQRT_2PI, abs=1e-12)
    assert m.theta1 == pytest.approx((1 - slope) / SQRT_2PI, abs=1e-12)
    assert abs(m.theta2) < 1e-10


def test_symmetry_closed_forms():
    tanh = gaussian_moments(get_activation("tanh"))
    assert max(abs(tanh.theta0), abs(tanh.theta1), abs(tanh.theta2)) < 1e-10
    sig = gaussian_moments(get_activation("sigmoid"))
    assert sig.theta0 == pytest.approx(0.5, abs=1e-12)
    assert max(abs(sig.theta1), abs(sig.theta2)) < 1e-10
    # softplus' = sigmoid and gelu' = Phi + g rho: both have mean 1/2 by symmetry;
    # E[gelu(g)] = E[g Phi(g)] = E[rho(g)] = 1 / (2 sqrt(pi)) by Stein's lemma.
    assert gaussian_moments(get_activation("softplus")).zeta == pytest.approx(0.5, abs=1e-12)
    gelu = gaussian_moments(get_activation("gelu"))
    assert gelu.zeta == pytest.approx(0.5, abs=1e-12)
    assert gelu.theta0 == pytest.approx(1 / (2 * math.sqrt(math.pi)), abs=1e-12)


def _scipy_expectation(f, kinks=()):
    """Independent reference: adaptive quadrature over the real line split at the kinks."""
    edges = [-np.inf, *kinks, np.inf]
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        total += integrate.quad(lambda g: f(g) * stats.norm.pdf(g), lo, hi, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
    return total


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_moments_match_adaptive_quadrature(name):
    act = get_activation(name, 0.2)
    m = gaussian_moments(act)

    def phi(g):
        return float(act(torch.tensor([g], dtype=torch.float64)))

    def dphi(g):
        return float(act.derivative(torch.tensor([g], dtype=torch.float64)))

    assert m.zeta == pytest.approx(_scipy_expectation(dphi, act.kinks), abs=1e-10)
    assert m.theta0 == pytest.approx(_scipy_expectation(phi, act.kinks), abs=1e-10)
    assert m.gamma == pytest.approx(_scipy_expectation(lambda g: dphi(g) ** 2, act.kinks), abs=1e-10)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_theta1_theta2_are_derivatives_of_scaled_mean(name):
    """theta1 = h'(1), theta2 = h''(1)/2 with h(a) = E[phi(a g)], by central differences."""
    act = get_activation(name, 0.2)
    m = gaussian_moments(act)
    eps = 1e-3
    h_plus, h0, h_minus = scaled_mean(act, 1 + eps), scaled_mean(act, 1.0), scaled_mean(act, 1 - eps)
    # truncation O(eps^2) ~ 1e-6 times h''' (bounded here); rounding ~ 1e-16 / eps^2 = 1e-10
    assert m.theta1 == pytest.approx((h_plus - h_minus) / (2 * eps), abs=2e-6)
    assert m.theta2 == pytest.approx((h_plus - 2 * h0 + h_minus) / (2 * eps**2), abs=2e-6)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_derivative_matches_autograd_and_fused_pair(name):
    act = get_activation(name, 0.3)
    z = torch.linspace(-4, 4, 801, dtype=torch.float64).add_(1e-3)  # avoid the kink itself
    zg = z.clone().requires_grad_()
    (grad,) = torch.autograd.grad(act(zg).sum(), zg)
    torch.testing.assert_close(act.derivative(z), grad, rtol=1e-12, atol=1e-12)
    value, deriv = act.both(z.clone())
    torch.testing.assert_close(value, act(z), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(deriv, grad, rtol=1e-12, atol=1e-12)
    assert value.data_ptr() != deriv.data_ptr()


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fused_pair_on_a_matrix_equals_separate_evaluation(name, dtype):
    """both() on an n x m block (the network's use: z is a temporary it may overwrite)
    equals phi and phi' evaluated separately, to rounding, in the input's dtype."""
    act = get_activation(name, 0.1)
    z = 3.0 * torch.randn(64, 33, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    z = z.to(dtype)
    value, deriv = act.both(z.clone())
    assert value.dtype == deriv.dtype == dtype and value.shape == deriv.shape == z.shape
    tol = {"rtol": 1e-12, "atol": 1e-14} if dtype == torch.float64 else {"rtol": 1e-5, "atol": 1e-6}
    torch.testing.assert_close(value, act(z), **tol)
    torch.testing.assert_close(deriv, act.derivative(z), **tol)


def test_piecewise_linear_derivative_at_zero_is_one():
    for name in ("relu", "leaky_relu"):
        act = get_activation(name, 0.1)
        assert float(act.derivative(torch.zeros(1, dtype=torch.float64))) == 1.0
        assert float(act.both(torch.zeros(1, dtype=torch.float64))[1]) == 1.0
        z = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        (grad,) = torch.autograd.grad(act(z).sum(), z)  # what autograd networks see
        assert float(grad) == 1.0


def test_gaussian_expectation_polynomials():
    assert gaussian_expectation(lambda g: g**4) == pytest.approx(3.0, abs=1e-12)
    assert gaussian_expectation(lambda g: torch.abs(g), (0.0,)) == pytest.approx(math.sqrt(2 / math.pi), abs=1e-12)


def test_unknown_activation_names_allowed_values():
    with pytest.raises(ValueError, match="allowed values: erf, relu"):
        get_activation("swish")


def test_nu_scales_with_trace_ratio():
    act = get_activation("relu")
    assert gaussian_moments(act, trace_ratio=4.0).nu == pytest.approx(2 / SQRT_2PI, abs=1e-12)
