"""Two-layer network of Section 3 in the NTK parameterisation (eq. 1-3).

    f(x; W, v) = v^T phi(W x / sqrt(d)) / sqrt(m),   W in R^{m x d}, v in R^m,

loss L = (1/2n) sum_i (f(x_i) - y_i)^2. Gradients are hand-written matmuls, fused with
the activation and processed in row chunks so that memory stays O(chunk x m):

    r       = f(X) - y
    dL/dv   = phi(Z)^T r / (n sqrt(m))
    dL/dW   = diag(v) phi'(Z)^T (r * X) / (n sqrt(m d)),     Z = X W^T / sqrt(d).

The step's cost is its four matmuls plus the activation's elementwise work on the
n x m pre-activations Z; see ``two_layer_loss_and_gradients`` for how the latter is kept
to a minimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ...core.activations import Activation

Tensor = torch.Tensor

# Rows per chunk of the data matrix: chunk x m activations of a few MB stay in cache.
_TARGET_CHUNK_ELEMENTS = 1 << 19


@dataclass
class TwoLayerParams:
    """Weights of the two-layer network: W (m x d) and v (m)."""

    W: Tensor
    v: Tensor


def symmetric_init(width: int, input_dim: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric initialisation (eq. 3): f = 0 at init for every input.

    w_1..w_{m/2} ~ N(0, I_d), w_{i+m/2} = w_i; v_1..v_{m/2} ~ Unif{+1,-1}, v_{i+m/2} = -v_i.
    Returned as float64 numpy arrays so that the draw does not depend on the device.
    """
    if width <= 0 or width % 2:
        raise ValueError(f"width must be a positive even number for the symmetric init, got {width}")
    half = width // 2
    W_half = rng.standard_normal((half, input_dim))
    v_half = rng.choice(np.array([-1.0, 1.0]), size=half)
    return np.vstack([W_half, W_half]), np.concatenate([v_half, -v_half])


def make_params(W: np.ndarray, v: np.ndarray, dtype: torch.dtype, device: torch.device | str) -> TwoLayerParams:
    return TwoLayerParams(
        W=torch.as_tensor(W, dtype=dtype, device=device).clone(),
        v=torch.as_tensor(v, dtype=dtype, device=device).clone(),
    )


def default_chunk_rows(width: int) -> int:
    return max(64, _TARGET_CHUNK_ELEMENTS // max(width, 1))


def two_layer_output(
    params: TwoLayerParams, X: Tensor, activation: Activation, chunk_rows: int | None = None
) -> Tensor:
    """f(X) for every row of X, computed in row chunks."""
    m, d = params.W.shape
    chunk = chunk_rows or default_chunk_rows(m)
    W_scaled = params.W * (1.0 / math.sqrt(d))
    v_scaled = params.v * (1.0 / math.sqrt(m))
    out = torch.empty(X.shape[0], dtype=X.dtype, device=X.device)
    for start in range(0, X.shape[0], chunk):
        Z = X[start : start + chunk] @ W_scaled.T
        out[start : start + chunk] = activation(Z) @ v_scaled
    return out


def two_layer_loss_and_gradients(
    params: TwoLayerParams,
    X: Tensor,
    y: Tensor,
    activation: Activation,
    chunk_rows: int | None = None,
    *,
    first: bool = True,
    second: bool = True,
) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """Loss (1/2n) ||f(X) - y||^2 and its gradients (dL/dW, dL/dv) in one pass over X.

    The gradients of the GD step (eq. 4) for the network of eq. 1-2, per chunk X_c of
    rows, with Z = X_c W^T / sqrt(d):

        A, D     = phi(Z), phi'(Z)       one fused call; D overwrites Z
        r        = A v / sqrt(m) - y_c
        dL/dv   += A^T r
        dL/dW^T += (r * X_c)^T D         (d x m; scales X_c, chunk x d, not D, chunk x m)

    and the factors v, 1/(n sqrt(m d)) are applied once at the end. Accumulating the
    transpose, (r * X_c)^T D (d x m), is the faster layout for the BLAS than
    D^T (r * X_c) (m x d): by 10-25% for that product at the Figure 1 size.

    A gradient not asked for (``first``/``second`` False, e.g. a layer with lr 0) is
    not computed and returned as None; for ``first=False`` phi' is never formed.
    """
    m, d = params.W.shape
    n = X.shape[0]
    chunk = chunk_rows or default_chunk_rows(m)
    W_scaled_T = (params.W * (1.0 / math.sqrt(d))).T
    v_scaled = params.v * (1.0 / math.sqrt(m))
    grad_W_T = X.new_zeros((d, m)) if first else None
    grad_v = torch.zeros_like(params.v) if second else None
    loss = X.new_zeros(())
    Z_buffer = X.new_empty((min(chunk, n), m))  # one chunk x m slab, reused by every chunk
    for start in range(0, n, chunk):
        Xc = X[start : start + chunk]
        Z = torch.mm(Xc, W_scaled_T, out=Z_buffer[: Xc.shape[0]])
        A, D = activation.both(Z) if first else (activation(Z), None)
        r = torch.mv(A, v_scaled).sub_(y[start : start + chunk])
        loss += r @ r
        if second:
            grad_v.addmv_(A.T, r)
        if first:
            grad_W_T.addmm_((Xc * r[:, None]).T, D)
    scale = 1.0 / (n * math.sqrt(m))
    if second:
        grad_v.mul_(scale)
    grad_W = None
    if first:
        grad_W = grad_W_T.mul_(params.v * (scale / math.sqrt(d))).T.contiguous()
    return loss / (2 * n), grad_W, grad_v
