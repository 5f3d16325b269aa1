"""The empirical NTK of any network (earlylin.kernels.empirical: layer by layer, and by
torch.func's whole Jacobian) against the per-example autograd loop, in blocks, and the kernel
distance."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from small_networks import SMALL, small_inputs, small_model

from earlylin.kernels.empirical import empirical_ntk, jacobian_ntk, kernel_distance, parameter_count

pytestmark = pytest.mark.filterwarnings("ignore:There is a performance drop")


def autograd_loop_ntk(model: torch.nn.Module, X: torch.Tensor) -> torch.Tensor:
    """The definition, independently: one backward pass per input, the gradients' Gram."""
    params = [p for p in model.parameters() if p.requires_grad]
    rows = [
        torch.cat([g.reshape(-1) for g in torch.autograd.grad(model(X[i : i + 1]).sum(), params)])
        for i in range(len(X))
    ]
    J = torch.stack(rows).to(torch.float64)
    return J @ J.T


@pytest.mark.parametrize("network", sorted(SMALL))
def test_empirical_ntk_equals_the_per_example_autograd_loop(network):
    model, shape = small_model(network)
    X = small_inputs(shape)
    expected = autograd_loop_ntk(model, X)
    assert torch.allclose(empirical_ntk(model, X), expected, rtol=1e-12, atol=1e-12)
    assert torch.allclose(jacobian_ntk(model, X), expected, rtol=1e-12, atol=1e-12)
    # Block by block (two rows per chunk) gives the same matrix.
    assert torch.allclose(jacobian_ntk(model, X, max_elements=2 * parameter_count(model)), expected, rtol=1e-12)
    # So does a memory budget of a few hundred bytes: one pass per layer, weights in blocks of
    # output channels.
    assert torch.allclose(empirical_ntk(model, X, memory_bytes=8 * 2 * len(X)), expected, rtol=1e-12, atol=1e-12)


def test_kernel_distance():
    theta = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    assert kernel_distance(theta, 5.0 * theta) == pytest.approx(0.0, abs=1e-15)
    other = torch.eye(2, dtype=torch.float64)
    # <theta, I> = 5, ||theta|| = sqrt(15), ||I|| = sqrt(2)
    assert kernel_distance(theta, other) == pytest.approx(1 - 5 / np.sqrt(30), rel=1e-14)
