import math

import numpy as np
import pytest
import torch

from earlylin.core.activations import gaussian_moments, get_activation
from earlylin.core.seeds import rng_stream
from earlylin.experiments.two_layer.kernels import empirical_ntk_blocks, linear_kernels
from earlylin.experiments.two_layer.networks import symmetric_init


@pytest.mark.parametrize("name", ["erf", "relu", "gelu"])
def test_ntk_blocks_equal_jacobian_grams(rng, name):
    """Theta1 = J_W J_W^T and Theta2 = J_v J_v^T, Jacobians by autograd."""
    act = get_activation(name)
    n, d, m = 9, 4, 10
    X = torch.as_tensor(rng.standard_normal((n, d)))
    W = torch.as_tensor(rng.standard_normal((m, d)))
    v = torch.as_tensor(rng.standard_normal(m))  # general v: Theta1 carries v_r^2

    def f(W_, v_):
        return act(X @ W_.T / math.sqrt(d)) @ v_ / math.sqrt(m)

    JW, Jv = torch.autograd.functional.jacobian(f, (W, v))
    JW = JW.reshape(n, -1)
    theta1, theta2 = empirical_ntk_blocks(X, W, v, act, chunk_units=3)
    torch.testing.assert_close(theta1, JW @ JW.T, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(theta2, Jv @ Jv.T, rtol=1e-12, atol=1e-13)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["erf", "relu"])
def test_ntk_at_init_approaches_linear_kernel_as_width_grows(name):
    """||Theta(W(0)) - Theta_lin|| / ||Theta_lin|| falls with m: the finite-width part
    decays like 1/sqrt(m) down to the infinite-width gap, which is small when n >> d
    (the diagonal (gamma - zeta^2) I and O(d^{-alpha}) terms of Prop. 3.4/D.4)."""
    act = get_activation(name)
    n, d = 300, 30
    X = rng_stream(0, "ntk-test-inputs").standard_normal((n, d))
    K = linear_kernels(X, gaussian_moments(act))["theta"]
    widths = [16, 128, 1024, 8192]
    errors = []
    for m in widths:
        per_seed = []
        for seed in range(3):
            W, v = symmetric_init(m, d, rng_stream(seed, "ntk-test-init", m))
            t1, t2 = empirical_ntk_blocks(torch.as_tensor(X), torch.as_tensor(W), torch.as_tensor(v), act)
            per_seed.append(np.linalg.norm((t1 + t2).numpy() - K, 2) / np.linalg.norm(K, 2))
        errors.append(np.mean(per_seed))
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    # Measured: erf 1.79 -> 0.114, relu 0.60 -> 0.040 (16 -> 8192 units).
    assert errors[-1] < 0.25 * errors[0]
    assert errors[-1] < 0.15


# --- Figure 5 stage: chunked kernels, differences and norms -----------------------------

from earlylin.experiments.two_layer.kernels import (  # noqa: E402
    KERNELS,
    diagonal_gap,
    frobenius_norm,
    hidden_unit_grams,
    kernel_difference,
    spectral_norm,
)


def _net(rng, n=37, d=6, m=40):
    X = torch.as_tensor(rng.standard_normal((n, d)))
    W, v = symmetric_init(m, d, rng)
    return X, torch.as_tensor(W), torch.as_tensor(v)


@pytest.mark.parametrize("name", ["erf", "relu"])
def test_chunked_grams_equal_unchunked(rng, name):
    act = get_activation(name)
    X, W, v = _net(rng)
    whole = hidden_unit_grams(X, W, v, act, chunk_units=W.shape[0], row_block=X.shape[0])
    chunked = hidden_unit_grams(X, W, v, act, chunk_units=7, row_block=5)
    Z = X @ W.T / math.sqrt(X.shape[1])
    brute_second = act(Z) @ act(Z).T
    brute_first = (act.derivative(Z) * v.abs()) @ (act.derivative(Z) * v.abs()).T
    for a, b, ref in zip(whole, chunked, (brute_first, brute_second)):
        torch.testing.assert_close(a, ref, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(b, ref, rtol=1e-12, atol=1e-12)


def test_float32_accumulation_close_to_float64(rng):
    act = get_activation("erf")
    X, W, v = _net(rng, n=50, m=200)
    g64 = hidden_unit_grams(X, W, v, act, dtype=torch.float64)
    g32 = hidden_unit_grams(X.float(), W.float(), v.float(), act, dtype=torch.float32)
    mixed = hidden_unit_grams(X, W, v, act, dtype=torch.float64, compute_dtype=torch.float32, row_block=16)
    for a, b, c in zip(g64, g32, mixed):
        assert b.dtype == torch.float32 and c.dtype == torch.float64
        torch.testing.assert_close(b.double(), a, rtol=1e-5, atol=1e-4)
        torch.testing.assert_close(c, a, rtol=1e-5, atol=1e-4)
        torch.testing.assert_close(c, c.T, rtol=0, atol=0)


@pytest.mark.parametrize("kernel", KERNELS)
def test_kernel_difference_equals_blocks_minus_linear_kernel(rng, kernel):
    act = get_activation("softplus")
    moments = gaussian_moments(act)
    X, W, v = _net(rng)
    t1, t2 = empirical_ntk_blocks(X, W, v, act)
    emp = {"theta1": t1, "theta2": t2, "theta": t1 + t2}[kernel]
    lin = linear_kernels(X.numpy(), moments)[kernel]
    got = kernel_difference(kernel, X, W, v, act, moments, chunk_units=9, row_block=8)
    torch.testing.assert_close(got, emp - torch.as_tensor(lin), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shift", [0.0, 0.37, -2.0])
def test_spectral_and_frobenius_norms_match_dense(rng, shift):
    B = rng.standard_normal((120, 120))
    A = torch.as_tensor(B + B.T)
    dense = A.numpy() - shift * np.eye(120)
    assert spectral_norm(A, shift) == pytest.approx(np.abs(np.linalg.eigvalsh(dense)).max(), rel=1e-8)
    assert frobenius_norm(A, shift) == pytest.approx(np.linalg.norm(dense), rel=1e-12)
    assert spectral_norm(A.float(), shift) == pytest.approx(np.abs(np.linalg.eigvalsh(dense)).max(), rel=1e-5)


def _infinite_width_theta1(X, name):
    """E_w[Theta1] in closed form: Gaussian (u, u') with covariance from X X^T / d."""
    d = X.shape[1]
    S = X @ X.T / d
    a = np.diag(S)
    if name == "erf":  # E[phi'(u) phi'(u')] = (4/pi) / sqrt(det(I + 2 Sigma))
        expected = 4 / np.pi / np.sqrt((1 + 2 * a[:, None]) * (1 + 2 * a[None, :]) - 4 * S**2)
    else:  # relu: P(u > 0, u' > 0) = (pi - arccos(rho)) / (2 pi)
        rho = np.clip(S / np.sqrt(a[:, None] * a[None, :]), -1, 1)
        expected = (np.pi - np.arccos(rho)) / (2 * np.pi)
    return expected * S


@pytest.mark.slow
@pytest.mark.parametrize("name", ["erf", "relu"])
def test_theta1_converges_to_infinite_width_expectation(name):
    act = get_activation(name)
    n, d = 60, 10
    X = rng_stream(1, "expectation-inputs").standard_normal((n, d))
    limit = _infinite_width_theta1(X, name)
    errors = []
    for m in (64, 1024, 16384):
        W, v = symmetric_init(m, d, rng_stream(0, "expectation-init", m))
        t1, _ = empirical_ntk_blocks(torch.as_tensor(X), torch.as_tensor(W), torch.as_tensor(v), act)
        errors.append(np.abs(t1.numpy() - limit).max())
    # Monte-Carlo error of a mean over m/2 independent units: ~ 1/sqrt(m), i.e. a factor
    # 4 per 16x more units; allow 2.5 to leave room for one seed's fluctuation.
    assert errors[0] / errors[1] > 2.5 and errors[1] / errors[2] > 2.5, errors
    # largest of n^2 entries, each with sd ~ 1/sqrt(m/2) ~ 0.011 at m = 16384: ~4 sd
    assert errors[-1] < 0.05


def test_diagonal_gap_erf_closed_form():
    act = get_activation("erf")
    moments = gaussian_moments(act)
    assert diagonal_gap("theta1", act, moments) == pytest.approx(4 / np.pi / np.sqrt(5) - 4 / (3 * np.pi), abs=1e-12)
    # E[erf(g)^2] = (2/pi) arcsin(2/3)
    assert diagonal_gap("theta2", act, moments) == pytest.approx(
        2 / np.pi * np.arcsin(2 / 3) - 4 / (3 * np.pi), abs=1e-12
    )
