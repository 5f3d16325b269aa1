"""Empirical NTK blocks of the two-layer network at a given W, and the linear kernels.

    Theta1(W) = ( phi'(X W^T/sqrt(d)) diag(v^2) phi'(X W^T/sqrt(d))^T / m ) * ( X X^T / d )
    Theta2(W) = phi(X W^T/sqrt(d)) phi(X W^T/sqrt(d))^T / m                       (eq. 17)

accumulated over chunks of hidden units in float64, so memory stays O(n^2 + n chunk).
The linear kernels are Gram matrices of the surrogates' feature maps (eq. 20).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .activations import Activation, GaussianMoments
from .surrogates import psi, psi1, psi2


def empirical_ntk_blocks(
    X: torch.Tensor, W: torch.Tensor, v: torch.Tensor, activation: Activation, chunk_units: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """(Theta1, Theta2) at weights (W, v), each n x n in float64."""
    n, d = X.shape
    m = W.shape[0]
    X64 = X.to(torch.float64)
    gram_phi_prime = torch.zeros((n, n), dtype=torch.float64, device=X.device)
    theta2 = torch.zeros((n, n), dtype=torch.float64, device=X.device)
    for start in range(0, m, chunk_units):
        Wc = W[start : start + chunk_units].to(torch.float64)
        vc = v[start : start + chunk_units].to(torch.float64)
        Z = X64 @ Wc.T / math.sqrt(d)
        A, D = activation.both(Z)
        D = D * vc.abs()[None, :]
        gram_phi_prime.addmm_(D, D.T)
        theta2.addmm_(A, A.T)
    theta1 = gram_phi_prime.div_(m).mul_(X64 @ X64.T / d)
    return theta1, theta2.div_(m)


def linear_kernels(X: np.ndarray, moments: GaussianMoments) -> dict[str, np.ndarray]:
    """Theta_lin1, Theta_lin2 and Theta_lin (eq. 20) as Gram matrices of psi1, psi2, psi."""
    grams = {}
    for name, features in (("lin1", psi1(X, moments)), ("lin2", psi2(X, moments)), ("lin", psi(X, moments))):
        grams[name] = features @ features.T
    return grams
