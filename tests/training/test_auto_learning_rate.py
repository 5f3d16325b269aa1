"""``lr: auto`` (earlylin.training.setup): lambda_max of the linear model's square-loss Hessian
on a minibatch equals the top eigenvalue of the Hessian autograd computes, and plain gradient
descent on that batch converges just below 2 / lambda_max and diverges just above it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from earlylin.kernels.simple_kernel import KernelCoefficients, linear_features
from earlylin.training.setup import batch_hessian_top

COEFFICIENTS = [
    KernelCoefficients(constant=0.0, linear=5042.0, norm=0.0),  # a ResNet-18's fitted kernel: no constant
    KernelCoefficients(constant=0.3, linear=1.2, norm=0.0),
    KernelCoefficients(constant=0.5, linear=1.0, norm=0.2),
]


def _batch(n=40, d=12, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, d))
    y = np.sign(X[:, 0])
    return X, y


def _loss(features, y):
    """The batch mean of (f - y)^2 / 2 with f = psi beta."""
    return lambda beta: 0.5 * torch.mean((features @ beta - y) ** 2)


@pytest.mark.parametrize("coefficients", COEFFICIENTS)
def test_lambda_max_is_the_top_eigenvalue_of_the_autograd_hessian(coefficients):
    X, y = _batch()
    features = torch.tensor(linear_features(X, coefficients))
    beta = torch.zeros(features.shape[1], dtype=torch.float64)
    hessian = torch.autograd.functional.hessian(_loss(features, torch.tensor(y)), beta)
    expected = float(torch.linalg.eigvalsh(hessian)[-1])
    assert batch_hessian_top(X, coefficients) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("coefficients", COEFFICIENTS)
def test_gradient_descent_on_the_batch_is_stable_below_2_over_lambda_max_and_not_above(coefficients):
    X, y = _batch()
    features = linear_features(X, coefficients)
    top = batch_hessian_top(X, coefficients)

    def final_loss(lr, steps=400):
        beta = np.zeros(features.shape[1])
        for _ in range(steps):
            beta -= lr * features.T @ (features @ beta - y) / len(y)
        return 0.5 * np.mean((features @ beta - y) ** 2)

    start = 0.5 * np.mean(y**2)
    assert final_loss(0.5 * 2 / top) < start  # the default fraction
    assert final_loss(0.95 * 2 / top) < start
    assert final_loss(1.05 * 2 / top) > 1e3 * start
