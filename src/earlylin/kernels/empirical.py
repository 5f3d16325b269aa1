"""The empirical NTK of any network, Theta(x, x') = <df(x)/dtheta, df(x')/dtheta> over its
trainable parameters, and how far it moves in training (Fort et al. 2020).

``empirical_ntk`` forms it layer by layer from one forward and one backward pass per chunk of
inputs (``streaming``). ``jacobian_ntk`` is the definition by ``torch.func``: the whole
per-example Jacobian (``vmap`` over ``grad`` of one input's output), J J^T; the tests hold the
first to it, and the benchmark measures both. Its memory is bounded by ``max_elements``
(chunk x parameters): when all rows do not fit, the Gram matrix is assembled block by block,
recomputing a chunk's gradients for every block it enters (work quadratic in the chunks).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .streaming import streaming_ntk

Tensor = torch.Tensor

_MAX_ELEMENTS = 1 << 25


def trainable_parameters(model: nn.Module) -> dict[str, Tensor]:
    return {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in trainable_parameters(model).values())


def per_example_jacobian(model: nn.Module, X: Tensor) -> Tensor:
    """J of shape (n, P): row i is df(x_i)/dtheta, the parameters flattened in the order of
    ``named_parameters`` (trainable ones only)."""
    params = trainable_parameters(model)

    def output(p: dict[str, Tensor], x: Tensor) -> Tensor:
        return torch.func.functional_call(model, p, (x.unsqueeze(0),)).reshape(())

    grads = torch.func.vmap(torch.func.grad(output), in_dims=(None, 0))(params, X)
    return torch.cat([g.reshape(X.shape[0], -1) for g in grads.values()], dim=1)


def _chunks(n: int, rows: int) -> list[slice]:
    return [slice(start, min(start + rows, n)) for start in range(0, n, rows)]


def empirical_ntk(model: nn.Module, X: Tensor, memory_bytes: int | None = None) -> Tensor:
    """Theta(X, X) of shape (n, n), float64, for a module with one output per input, layer by
    layer (``streaming.streaming_ntk``), keeping at most ``memory_bytes`` across a pass
    (default: a quarter of the available memory, ``streaming.memory_budget``)."""
    return streaming_ntk(model, X, memory_bytes)


def jacobian_ntk(model: nn.Module, X: Tensor, max_elements: int = _MAX_ELEMENTS) -> Tensor:
    """Theta(X, X) as J J^T from torch.func's whole per-example Jacobian, float64."""
    n = X.shape[0]
    rows = max(1, min(n, max_elements // max(parameter_count(model), 1)))
    chunks = _chunks(n, rows)
    gram = torch.empty(n, n, dtype=torch.float64, device=X.device)
    if len(chunks) == 1:
        J = per_example_jacobian(model, X).to(torch.float64)
        return J @ J.T
    for a, rows_a in enumerate(chunks):
        J_a = per_example_jacobian(model, X[rows_a]).to(torch.float64)
        gram[rows_a, rows_a] = J_a @ J_a.T
        for rows_b in chunks[a + 1 :]:
            block = J_a @ per_example_jacobian(model, X[rows_b]).to(torch.float64).T
            gram[rows_a, rows_b] = block
            gram[rows_b, rows_a] = block.T
    return gram


def kernel_distance(theta_0: Tensor, theta_t: Tensor) -> float:
    """1 - <Theta_0, Theta_t>_F / (||Theta_0||_F ||Theta_t||_F): 0 for a kernel that has not
    moved (or only rescaled), up to 1 (Fort et al. 2020, "kernel distance")."""
    inner = float((theta_0 * theta_t).sum())
    return 1.0 - inner / math.sqrt(float((theta_0 * theta_0).sum()) * float((theta_t * theta_t).sum()))
