"""The empirical NTK as an operator, for N too large to form Theta (Figure 5's n = 10^4 for any
network): Theta v = J (J^T v) by one vector-Jacobian product (a backward pass with cotangent v)
and one Jacobian-vector product (``torch.func.jvp``) per chunk of inputs, never J nor Theta.

How far Theta is from the fitted simple kernel of Section 4.1 (``fit``, ``simple_kernel``) is
measured on the off-diagonal part, as ``fit.fit_simple_kernel`` does on the dense matrices:
R = offdiag(Theta - K_fit), K_fit v = constant (1.v) 1 + linear X (X^T v) / d + norm (e (1.v) +
1 (e.v)) applied without forming K_fit, and diag Theta exactly (``streaming.ntk_diagonal``).

* Spectral norm: ||R||_2 = the largest |eigenvalue| of the symmetric R, by ARPACK's implicitly
  restarted Lanczos (``scipy.sparse.linalg.eigsh``); its stopping rule ||R q - lambda q|| <=
  tol |lambda| bounds the eigenvalue's relative error by ``tol`` (R is symmetric).
* Frobenius norm: ||R||_F^2 = E ||R z||^2 for z with independent +-1 entries (Hutchinson's
  estimator of trace(R^T R)), averaged over ``probes`` seeded draws; its standard error is the
  sample standard deviation of the draws over sqrt(probes), carried to the norm by
  se(||R||_F) = se(||R||_F^2) / (2 ||R||_F).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh
from torch import nn

from .simple_kernel import KernelCoefficients, simple_kernel
from .streaming import ntk_diagonal

Tensor = torch.Tensor
Matvec = Callable[[Tensor], Tensor]

_ROWS = 256


class NTKOperator:
    """v -> Theta(X, X) v for a module with one output per input, in float64 vectors."""

    def __init__(self, model: nn.Module, X: Tensor, rows: int = _ROWS):
        self.model, self.X, self.rows = model, X, rows
        self.named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        self.initial = {name: p.detach() for name, p in self.named}
        self.products = 0

    def _chunks(self):
        for lo in range(0, self.X.shape[0], self.rows):
            yield lo, self.X[lo : lo + self.rows]

    def transpose_product(self, v: Tensor) -> dict[str, Tensor]:
        """J^T v: one backward pass per chunk with cotangent v."""
        total = {name: torch.zeros_like(p) for name, p in self.initial.items()}
        params = [p for _, p in self.named]
        for lo, x in self._chunks():
            with torch.enable_grad():
                out = self.model(x).reshape(x.shape[0])
                grads = torch.autograd.grad(
                    out, params, grad_outputs=v[lo : lo + x.shape[0]].to(out.dtype), allow_unused=True
                )
            for (name, _), grad in zip(self.named, grads):
                if grad is not None:
                    total[name] += grad
        return total

    def product(self, tangent: dict[str, Tensor]) -> Tensor:
        """J u: one Jacobian-vector product per chunk."""
        parts = []
        for _, x in self._chunks():

            def outputs(params, x=x):
                return torch.func.functional_call(self.model, params, (x,)).reshape(x.shape[0])

            parts.append(torch.func.jvp(outputs, (self.initial,), (tangent,))[1])
        return torch.cat(parts).to(torch.float64)

    @torch.no_grad()
    def __call__(self, v: Tensor) -> Tensor:
        self.products += 1
        return self.product(self.transpose_product(v))


def simple_kernel_operator(X: Tensor, coefficients: KernelCoefficients) -> tuple[Matvec, Tensor]:
    """v -> K v for K(x, x') = constant + linear x.x'/d + norm (e(x) + e(x')), and diag K."""
    flat = X.reshape(X.shape[0], -1).to(torch.float64)
    d = flat.shape[1]
    squared = (flat * flat).sum(1) / d
    excess = squared - 1.0
    c, b, r = coefficients.constant, coefficients.linear, coefficients.norm

    def matvec(v: Tensor) -> Tensor:
        total = v.sum()
        return c * total + (b / d) * (flat @ (flat.T @ v)) + r * (excess * total + excess @ v)

    return matvec, c + b * squared + 2.0 * r * excess


def spectral_norm(matvec: Matvec, n: int, *, tol: float = 1e-6, seed: int = 0, device=None) -> float:
    """The largest |eigenvalue| of the symmetric operator, by Lanczos (relative error <= tol)."""
    if n == 1:
        return abs(float(matvec(torch.ones(1, dtype=torch.float64, device=device))[0]))

    def apply(v: np.ndarray) -> np.ndarray:
        return matvec(torch.as_tensor(np.ravel(v), dtype=torch.float64, device=device)).cpu().numpy()

    operator = LinearOperator((n, n), matvec=apply, dtype=np.float64)
    start = np.random.default_rng(seed).standard_normal(n)
    values = eigsh(operator, k=1, which="LM", tol=tol, v0=start, return_eigenvectors=False)
    return float(abs(values[0]))


@dataclass(frozen=True)
class FrobeniusEstimate:
    value: float
    stderr: float
    probes: int


def frobenius_norm(matvec: Matvec, n: int, *, probes: int = 30, seed: int = 0, device=None) -> FrobeniusEstimate:
    """||A||_F by Hutchinson's estimator with ``probes`` Rademacher vectors, with its standard error."""
    generator = torch.Generator().manual_seed(seed)
    draws = []
    for _ in range(probes):
        z = torch.randint(0, 2, (n,), generator=generator).to(torch.float64).mul_(2).sub_(1).to(device)
        draws.append(float(matvec(z).square().sum()))
    mean = float(np.mean(draws))
    stderr_squared = float(np.std(draws, ddof=1) / math.sqrt(probes)) if probes > 1 else math.inf
    value = math.sqrt(max(mean, 0.0))
    return FrobeniusEstimate(value, stderr_squared / (2.0 * value) if value > 0 else math.inf, probes)


@dataclass(frozen=True)
class DifferenceNorms:
    """Spectral and Frobenius norms of one symmetric matrix (exact: stderr 0)."""

    spectral: float
    frobenius: FrobeniusEstimate


def difference_norms(
    first: Matvec,
    second: Matvec,
    n: int,
    *,
    diagonal: Tensor | None = None,
    probes: int = 30,
    tol: float = 1e-6,
    seed: int = 0,
    device=None,
) -> DifferenceNorms:
    """Norms of A - B from their products; with ``diagonal`` (the diagonal of A - B) of its
    off-diagonal part."""

    def apply(v: Tensor) -> Tensor:
        out = first(v) - second(v)
        return out if diagonal is None else out - diagonal * v

    return DifferenceNorms(
        spectral_norm(apply, n, tol=tol, seed=seed, device=device),
        frobenius_norm(apply, n, probes=probes, seed=seed + 1, device=device),
    )


def dense_norms(matrix: Tensor, *, off_diagonal: bool) -> DifferenceNorms:
    """The same norms of a formed matrix, exactly (the largest |eigenvalue|, the Frobenius norm)."""
    matrix = matrix.to(torch.float64)
    if off_diagonal:
        matrix = matrix - torch.diag(torch.diagonal(matrix))
    spectral = float(torch.linalg.eigvalsh(matrix).abs().max())
    return DifferenceNorms(spectral, FrobeniusEstimate(float(torch.linalg.matrix_norm(matrix)), 0.0, 0))


@dataclass(frozen=True)
class ResidualNorms:
    """Norms of R = offdiag(Theta - K_fit) and of offdiag(Theta), and their ratios."""

    residual: DifferenceNorms
    theta: DifferenceNorms
    method: str
    products: int = 0

    @property
    def spectral_ratio(self) -> float:
        return self.residual.spectral / self.theta.spectral

    @property
    def frobenius_ratio(self) -> float:
        return self.residual.frobenius.value / self.theta.frobenius.value


def _zero(v: Tensor) -> Tensor:
    return torch.zeros_like(v)


def residual_norms(
    model: nn.Module,
    X: Tensor,
    coefficients: KernelCoefficients,
    *,
    probes: int = 30,
    tol: float = 1e-6,
    seed: int = 0,
    rows: int = _ROWS,
) -> ResidualNorms:
    """Spectral (Lanczos) and Frobenius (Hutchinson) norms of offdiag(Theta - K_fit) and of
    offdiag(Theta), with Theta applied matrix-free."""
    n, device = X.shape[0], X.device
    theta = NTKOperator(model, X, rows)
    kernel, kernel_diagonal = simple_kernel_operator(X, coefficients)
    theta_diagonal = ntk_diagonal(model, X)
    options = dict(probes=probes, tol=tol, device=device)
    residual = difference_norms(theta, kernel, n, diagonal=theta_diagonal - kernel_diagonal, seed=seed, **options)
    off_theta = difference_norms(theta, _zero, n, diagonal=theta_diagonal, seed=seed + 2, **options)
    return ResidualNorms(residual, off_theta, "matrix-free", theta.products)


def dense_residual_norms(theta: Tensor, X: Tensor, coefficients: KernelCoefficients) -> ResidualNorms:
    """The same norms from a formed Theta (exact)."""
    kernel = torch.as_tensor(simple_kernel(X.reshape(len(X), -1).cpu().double().numpy(), coefficients))
    theta = theta.cpu().double()
    return ResidualNorms(dense_norms(theta - kernel, off_diagonal=True), dense_norms(theta, off_diagonal=True), "dense")
