"""Empirical NTK blocks of the two-layer network and their distance to the linear kernels.

    Theta1(W) = ( phi'(Z) diag(v^2) phi'(Z)^T / m ) * ( X X^T / d ),   Z = X W^T / sqrt(d)
    Theta2(W) = phi(Z) phi(Z)^T / m                                        (eq. 17)
    Theta     = Theta1 + Theta2

The Gram matrices are accumulated over chunks of hidden units, and each chunk's product
fills only the lower block triangle (the matrix is symmetric), so the work is about
n^2 m multiply-adds and the memory one n x n matrix per block plus one n x chunk slab.
The linear kernels are Gram matrices of the surrogates' feature maps (eq. 20), formed
row block by row block and subtracted in place, so a difference Theta(W) - Theta_lin
never needs a second n x n matrix.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh

from ...core.activations import Activation, GaussianMoments, gaussian_expectation
from .regimes import REGIMES
from .surrogates import psi, psi1, psi2

KERNELS = tuple(regime.kernel for regime in REGIMES.values())  # theta1, theta2, theta

# Feature map of each kernel's linear model (Section 3, eq. 20): one definition, reused.
LINEAR_FEATURES: dict[str, Callable[[np.ndarray, GaussianMoments], np.ndarray]] = {
    "theta1": psi1,
    "theta2": psi2,
    "theta": psi,
}


def _row_blocks(n: int, block: int):
    for start in range(0, n, block):
        yield start, min(start + block, n)


def _accumulate_lower_gram(G: torch.Tensor, F: torch.Tensor, row_block: int) -> None:
    """G[i, :i_end] += F[i] F[:i_end]^T for each row block i: the lower block triangle
    (diagonal blocks in full) of G += F F^T. When F is float32 and G float64, each
    block product runs in float32 and is added to the float64 accumulator."""
    for lo, hi in _row_blocks(F.shape[0], row_block):
        if F.dtype == G.dtype:
            G[lo:hi, :hi].addmm_(F[lo:hi], F[:hi].T)
        else:
            G[lo:hi, :hi] += F[lo:hi] @ F[:hi].T


def _fill_upper_from_lower(G: torch.Tensor, row_block: int) -> None:
    n = G.shape[0]
    for lo, hi in _row_blocks(n, row_block):
        if hi < n:
            G[lo:hi, hi:] = G[hi:, lo:hi].T


def hidden_unit_grams(
    X: torch.Tensor,
    W: torch.Tensor,
    v: torch.Tensor,
    activation: Activation,
    *,
    first: bool = True,
    second: bool = True,
    dtype: torch.dtype = torch.float64,
    compute_dtype: torch.dtype | None = None,
    chunk_units: int = 2048,
    row_block: int = 2048,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """Sum over hidden units of v_r^2 phi'(z_r) phi'(z_r)^T and of phi(z_r) phi(z_r)^T.

    ``dtype`` is the accumulation precision; ``compute_dtype`` (default: ``dtype``) that
    of the pre-activations, activations and each slab's block products, e.g. float32
    products accumulated in float64. Returns (G1, G2), either None when not asked for;
    each n x n on X's device.
    """
    n, d = X.shape
    m = W.shape[0]
    compute_dtype = compute_dtype or dtype
    Xa = X.to(compute_dtype)
    scale = 1.0 / math.sqrt(d)
    G1 = torch.zeros((n, n), dtype=dtype, device=X.device) if first else None
    G2 = torch.zeros((n, n), dtype=dtype, device=X.device) if second else None
    for start in range(0, m, chunk_units):
        Wc = W[start : start + chunk_units].to(compute_dtype)
        Z = Xa @ (Wc.T * scale)
        A, D = activation.both(Z)
        if G1 is not None:
            D.mul_(v[start : start + chunk_units].to(compute_dtype).abs()[None, :])
            _accumulate_lower_gram(G1, D, row_block)
        if G2 is not None:
            _accumulate_lower_gram(G2, A, row_block)
    for G in (G1, G2):
        if G is not None:
            _fill_upper_from_lower(G, row_block)
    return G1, G2


def _ntk_blocks(
    X: torch.Tensor,
    W: torch.Tensor,
    v: torch.Tensor,
    activation: Activation,
    *,
    first: bool,
    second: bool,
    **grams_kwargs,
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """(Theta1, Theta2) from the hidden-unit Grams, each built in place; None if not asked."""
    row_block = grams_kwargs.setdefault("row_block", 2048)
    G1, G2 = hidden_unit_grams(X, W, v, activation, first=first, second=second, **grams_kwargs)
    m = W.shape[0]
    if G1 is not None:
        _hadamard_input_gram_(G1, X, 1.0 / m, row_block)
    if G2 is not None:
        G2.div_(m)
    return G1, G2


def empirical_ntk_blocks(
    X: torch.Tensor,
    W: torch.Tensor,
    v: torch.Tensor,
    activation: Activation,
    *,
    dtype: torch.dtype = torch.float64,
    chunk_units: int = 2048,
    row_block: int = 2048,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(Theta1, Theta2) at weights (W, v), each n x n."""
    return _ntk_blocks(
        X, W, v, activation, first=True, second=True, dtype=dtype, chunk_units=chunk_units, row_block=row_block
    )


def _hadamard_input_gram_(G: torch.Tensor, X: torch.Tensor, scale: float, row_block: int) -> None:
    """G <- scale * G * (X X^T / d), in place, one row block at a time."""
    d = X.shape[1]
    Xa = X.to(G.dtype)
    for lo, hi in _row_blocks(G.shape[0], row_block):
        G[lo:hi].mul_(Xa[lo:hi] @ Xa.T).mul_(scale / d)


def linear_kernels(X: np.ndarray, moments: GaussianMoments) -> dict[str, np.ndarray]:
    """Theta_lin1, Theta_lin2 and Theta_lin (eq. 20) as Gram matrices of psi1, psi2, psi."""
    return {name: (F := LINEAR_FEATURES[name](X, moments)) @ F.T for name in KERNELS}


def kernel_difference(
    kernel: str,
    X: torch.Tensor,
    W: torch.Tensor,
    v: torch.Tensor,
    activation: Activation,
    moments: GaussianMoments,
    *,
    dtype: torch.dtype = torch.float64,
    compute_dtype: torch.dtype | None = None,
    chunk_units: int = 2048,
    row_block: int = 2048,
) -> torch.Tensor:
    """Theta_k(W) - Theta_lin_k for k in ``KERNELS``, built in place (one n x n matrix
    for theta1 and theta2, two for theta while its blocks are summed), accumulated in
    ``dtype`` from slab products in ``compute_dtype``."""
    if kernel not in KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; allowed values: {', '.join(KERNELS)}")
    G1, G2 = _ntk_blocks(
        X,
        W,
        v,
        activation,
        first=kernel in ("theta1", "theta"),
        second=kernel in ("theta2", "theta"),
        dtype=dtype,
        compute_dtype=compute_dtype,
        chunk_units=chunk_units,
        row_block=row_block,
    )
    K = G1 if G2 is None else G2 if G1 is None else G1.add_(G2)
    del G1, G2
    F = torch.as_tensor(LINEAR_FEATURES[kernel](X.double().cpu().numpy(), moments), dtype=dtype, device=K.device)
    for lo, hi in _row_blocks(K.shape[0], row_block):
        K[lo:hi].sub_(F[lo:hi] @ F.T)
    return K


def diagonal_gap(kernel: str, activation: Activation, moments: GaussianMoments) -> float:
    """Coefficient c of the identity by which the infinite-width kernel's diagonal exceeds
    the linear kernel's at ||x||^2 = d: gamma - zeta^2 for Theta1 (set aside in the proof
    of Proposition D.4), E[phi(g)^2] - zeta^2 - theta0^2 for Theta2, their sum for Theta."""
    first = moments.gamma - moments.zeta**2
    second = gaussian_expectation(lambda g: activation(g) ** 2, activation.kinks) - moments.zeta**2 - moments.theta0**2
    return {"theta1": first, "theta2": second, "theta": first + second}[kernel]


def extreme_eigenvalues(A: torch.Tensor, tol: float = 1e-10) -> tuple[float, float]:
    """(lambda_min, lambda_max) of a symmetric matrix by one Lanczos run (ARPACK eigsh,
    both ends); dense eigvalsh below 3 rows."""
    M = A.detach().cpu().numpy()
    n = M.shape[0]
    if n < 3:
        vals = np.linalg.eigvalsh(M.astype(np.float64))
        return float(vals[0]), float(vals[-1])

    def matvec(x):
        return (M @ np.asarray(x).reshape(-1).astype(M.dtype)).astype(np.float64)

    op = LinearOperator((n, n), matvec=matvec, dtype=np.float64)
    v0 = np.random.default_rng(0).standard_normal(n)  # fixed start: reproducible
    vals = eigsh(op, k=2, which="BE", return_eigenvectors=False, tol=tol, v0=v0, ncv=min(n, 40))
    return float(vals.min()), float(vals.max())


def spectral_norm(A: torch.Tensor, shift: float = 0.0, *, extremes: tuple[float, float] | None = None) -> float:
    """||A - shift I||_2 of a symmetric A: max |lambda - shift| over its extreme eigenvalues
    (pass ``extremes`` from ``extreme_eigenvalues`` to reuse one Lanczos run)."""
    lo, hi = extremes if extremes is not None else extreme_eigenvalues(A)
    return max(abs(lo - shift), abs(hi - shift))


def frobenius_parts(A: torch.Tensor) -> tuple[float, float]:
    """(sum of squares, trace) of A, by row blocks: enough for ||A - c I||_F at any c."""
    sq = sum(float(torch.sum(torch.square(A[lo:hi].double()))) for lo, hi in _row_blocks(A.shape[0], 1024))
    return sq, float(torch.diagonal(A).double().sum())


def frobenius_norm(A: torch.Tensor, shift: float = 0.0, *, parts: tuple[float, float] | None = None) -> float:
    """||A - shift I||_F without forming A - shift I."""
    sq, trace = parts if parts is not None else frobenius_parts(A)
    return math.sqrt(max(sq - 2.0 * shift * trace + shift**2 * A.shape[0], 0.0))
