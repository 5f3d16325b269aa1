"""The network linearised in its parameters (earlylin.training.linearised): its SGD against SGD
on its explicit Jacobian, and its distance to the network as the width grows."""

from __future__ import annotations

import numpy as np
import torch
from small_networks import small_inputs, small_model

from earlylin.kernels.empirical import per_example_jacobian
from earlylin.networks.registry import ModelSpec, build_model
from earlylin.training.linearised import LinearisedNetwork


def _on_the_sphere(n, d, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X * np.sqrt(d) / np.linalg.norm(X, axis=1, keepdims=True)


def test_linearised_sgd_equals_explicit_jacobian_sgd():
    model, shape = small_model("cnn")
    X, y = small_inputs(shape, n=20), torch.randn(20, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    linearised = LinearisedNetwork(model)
    J = per_example_jacobian(model, X)
    delta = torch.zeros(J.shape[1], dtype=torch.float64)
    order = torch.Generator().manual_seed(0)
    for _ in range(25):
        batch = torch.randperm(20, generator=order)[:5]
        linearised.sgd_step(X[batch], y[batch], 0.5)
        delta -= 0.5 * J[batch].T @ (J[batch] @ delta - y[batch]) / 5
    expected = J @ delta
    assert expected.abs().max() > 0.1  # it has learned something
    assert torch.allclose(linearised.outputs(X, rows=7), expected, rtol=1e-12, atol=1e-13)
    # The network itself is untouched: theta_0 + delta is a new set of parameters.
    assert all(torch.equal(p, linearised.initial[n]) for n, p in model.named_parameters())


def _network_vs_linearised(width, steps=30):
    """Relative MSE between the centred network and its linearisation after the same SGD."""
    X = torch.tensor(_on_the_sphere(40, 10, seed=5))
    y = torch.sign(X[:, 0])
    model = build_model(ModelSpec("fc", "fc", {"depth": 2, "width": width}), (10,), 0, torch.float64)
    linearised = LinearisedNetwork(model)
    initial = model(X).detach()
    params = list(model.parameters())
    for step in range(steps):
        batch = torch.arange(step % 4 * 10, step % 4 * 10 + 10)
        loss = 0.5 * torch.mean((model(X[batch]) - initial[batch] - y[batch]) ** 2)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                p.sub_(g, alpha=1.0)
        linearised.sgd_step(X[batch], y[batch], 1.0)
    with torch.no_grad():
        network = model(X) - initial
    lin = linearised.outputs(X)
    return float(torch.mean((network - lin) ** 2) / torch.mean(lin**2))


def test_the_linearised_network_approaches_the_network_as_the_width_grows():
    """Lee et al. 2019 bound |f - f_lin| by O(width^-1/2), 1/width in mean square; the gap falls at
    least that fast (measured here: about width^-2 in mean square, the O(1/width) function-space
    corrections of Dyer & Gur-Ari 2020)."""
    widths = [32, 128, 512, 2048]
    gaps = [_network_vs_linearised(m) for m in widths]
    assert all(a > b for a, b in zip(gaps, gaps[1:], strict=False)), gaps
    slope = np.polyfit(np.log(widths), np.log(gaps), 1)[0]
    assert slope < -0.9, (slope, gaps)
