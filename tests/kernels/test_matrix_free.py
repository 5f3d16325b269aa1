"""The matrix-free NTK (earlylin.kernels.matrix_free) against the dense matrices: Theta v, the
exact diagonal, the simple kernel's product, the Lanczos spectral norm and the Hutchinson
Frobenius norm within its stated error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import user_modules
from small_networks import SMALL, small_inputs, small_model

from earlylin.kernels.empirical import jacobian_ntk
from earlylin.kernels.fit import fit_simple_kernel
from earlylin.kernels.matrix_free import (
    NTKOperator,
    dense_residual_norms,
    frobenius_norm,
    residual_norms,
    simple_kernel_operator,
    spectral_norm,
)
from earlylin.kernels.simple_kernel import KernelCoefficients, simple_kernel
from earlylin.kernels.streaming import ntk_diagonal

pytestmark = pytest.mark.filterwarnings("ignore:There is a performance drop")


@pytest.mark.parametrize("network", sorted(SMALL))
def test_theta_times_a_vector_and_the_diagonal(network):
    model, shape = small_model(network)
    X = small_inputs(shape, n=11)
    dense = jacobian_ntk(model, X)
    v = torch.randn(11, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    operator = NTKOperator(model, X, rows=4)  # three chunks
    assert torch.allclose(operator(v), dense @ v, rtol=1e-11, atol=1e-11)
    assert torch.allclose(ntk_diagonal(model, X), torch.diagonal(dense), rtol=1e-12)


def test_the_diagonal_of_a_module_with_fallback_parameters():
    model = user_modules.torch_transformer_layer((3, 2, 2), torch.Generator().manual_seed(0)).double()
    X = small_inputs((3, 2, 2), n=5)
    assert torch.allclose(ntk_diagonal(model, X), torch.diagonal(jacobian_ntk(model, X)), rtol=1e-11)


def test_the_simple_kernel_operator_equals_the_dense_kernel():
    X = np.random.default_rng(0).standard_normal((9, 5)) * np.linspace(0.5, 1.5, 9)[:, None]
    coefficients = KernelCoefficients(constant=0.7, linear=1.3, norm=0.4)
    dense = torch.as_tensor(simple_kernel(X, coefficients))
    matvec, diagonal = simple_kernel_operator(torch.as_tensor(X), coefficients)
    v = torch.randn(9, dtype=torch.float64)
    assert torch.allclose(matvec(v), dense @ v, rtol=1e-13)
    assert torch.allclose(diagonal, torch.diagonal(dense), rtol=1e-13)


def test_lanczos_finds_the_largest_eigenvalue_in_magnitude():
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.standard_normal((40, 40)))
    eigenvalues = np.linspace(-3.0, 2.0, 40)  # the largest in magnitude is negative
    A = torch.as_tensor(Q @ np.diag(eigenvalues) @ Q.T)
    assert spectral_norm(lambda v: A @ v, 40, tol=1e-10) == pytest.approx(3.0, rel=1e-9)


def test_hutchinson_is_unbiased_within_its_stated_error():
    rng = np.random.default_rng(2)
    A = torch.as_tensor(rng.standard_normal((30, 30)))
    A = A + A.T
    exact = float(torch.linalg.matrix_norm(A))
    estimates = [frobenius_norm(lambda v: A @ v, 30, probes=40, seed=s) for s in range(20)]
    # Each estimate within 4 stated standard errors; their mean much closer.
    assert all(abs(e.value - exact) < 4 * e.stderr for e in estimates)
    assert abs(np.mean([e.value for e in estimates]) - exact) < 0.02 * exact


def test_the_residual_norms_agree_with_the_dense_fit():
    """A kernel fitted to one initialisation: the matrix-free spectral norm equals the dense
    one to the Lanczos tolerance, the Frobenius norm lies within its stated error."""
    model, shape = small_model("fc", seed=4)
    X = small_inputs(shape, n=40)
    dense = jacobian_ntk(model, X).numpy()
    other, _ = small_model("fc", seed=5)
    fit = fit_simple_kernel(X.numpy(), [dense, jacobian_ntk(other, X).numpy()])
    coefficients = fit.coefficients()
    residual = dense - simple_kernel(X.numpy(), coefficients)
    np.fill_diagonal(residual, 0.0)
    off = dense.copy()
    np.fill_diagonal(off, 0.0)
    norms = residual_norms(model, X, coefficients, probes=200, tol=1e-9)
    assert norms.residual.spectral == pytest.approx(np.linalg.norm(residual, 2), rel=1e-7)
    assert norms.theta.spectral == pytest.approx(np.linalg.norm(off, 2), rel=1e-7)
    frobenius, theta_frobenius = norms.residual.frobenius, norms.theta.frobenius
    assert abs(frobenius.value - np.linalg.norm(residual)) < 4 * frobenius.stderr
    assert abs(theta_frobenius.value - np.linalg.norm(off)) < 4 * theta_frobenius.stderr
    assert frobenius.stderr < 0.1 * frobenius.value
    exact = dense_residual_norms(torch.as_tensor(dense), X, coefficients)
    assert exact.residual.spectral == pytest.approx(np.linalg.norm(residual, 2), rel=1e-12)
    assert exact.residual.frobenius.value == pytest.approx(np.linalg.norm(residual), rel=1e-12)
    assert exact.spectral_ratio == pytest.approx(np.linalg.norm(residual, 2) / np.linalg.norm(off, 2), rel=1e-12)


class TwoLayerFirstLayer(torch.nn.Module):
    """The paper's two-layer net f(x) = v . phi(W x / sqrt(d)) / sqrt(m) (eq. 1) with v fixed:
    its empirical NTK is Figure 5's Theta1(W)."""

    def __init__(self, W: np.ndarray, v: np.ndarray):
        super().__init__()
        self.W = torch.nn.Parameter(torch.as_tensor(W))
        self.register_buffer("v", torch.as_tensor(v))

    def forward(self, x):
        m, d = self.W.shape
        return torch.special.erf(torch.nn.functional.linear(x, self.W) / d**0.5) @ self.v / m**0.5


def test_figure_5_numbers_from_any_network_s_ntk():
    """Figure 5's norms of Theta1(W(0)) - Theta_lin1 (``ntk_gap_norms``, its own kernel code)
    equal the matrix-free and the dense norms of the module's empirical NTK against the same
    linear kernel, on Figure 5's inputs and weights at a size both run."""
    from earlylin.core.activations import gaussian_moments, get_activation
    from earlylin.core.seeds import rng_stream
    from earlylin.experiments.two_layer.experiments import ntk_gap_norms
    from earlylin.experiments.two_layer.kernels import LINEAR_FEATURES
    from earlylin.experiments.two_layer.networks import symmetric_init
    from earlylin.kernels.matrix_free import dense_norms, difference_norms

    n, m, d, seed = 300, 400, 20, 0
    paper = ntk_gap_norms(kernel="theta1", activation="erf", n=n, width=m, d=d, seed=seed, device="cpu")
    paper = paper[~paper["identity_term"]].iloc[0]
    X = rng_stream(seed, "kernel-inputs", d, n).standard_normal((n, d))
    W, v = symmetric_init(m, d, rng_stream(seed, "symmetric-init", d, m))
    module = TwoLayerFirstLayer(W, v)
    features = torch.as_tensor(LINEAR_FEATURES["theta1"](X, gaussian_moments(get_activation("erf"))))
    inputs = torch.as_tensor(X)
    free = difference_norms(
        NTKOperator(module, inputs), lambda u: features @ (features.T @ u), n, probes=100, tol=1e-10
    )
    assert free.spectral == pytest.approx(paper["spectral"], rel=1e-8)
    assert abs(free.frobenius.value - paper["frobenius"]) < 4 * free.frobenius.stderr
    dense = dense_norms(jacobian_ntk(module, inputs) - features @ features.T, off_diagonal=False)
    assert dense.spectral == pytest.approx(paper["spectral"], rel=1e-10)
    assert dense.frobenius.value == pytest.approx(paper["frobenius"], rel=1e-10)
