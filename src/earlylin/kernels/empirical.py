"""The empirical NTK of any network, Theta(x, x') = <df(x)/dtheta, df(x')/dtheta> over its
trainable parameters, and how far it moves in training (Fort et al. 2020).

``empirical_ntk`` forms it layer by layer from one forward and one backward pass per chunk of
inputs (``streaming``). ``jacobian_ntk`` is the definition by ``torch.func``: the whole
per-example Jacobian (``vmap`` over ``grad`` of one input's output), J J^T; the tests hold the
first to it, and the benchmark measures both. Its memory is bounded by ``max_elements``
(chunk x parameters): when all rows do not fit, the Gram matrix is assembled block by block,
recomputing a chunk's gradients for every block it enters (work quadratic in the chunks).

A network of k outputs per input has the NTK Theta(x, x')_{cc'} = <df_c(x)/dtheta,
df_c'(x')/dtheta>, of shape (n, k, n, k) (``empirical_ntk`` with ``outputs=k``). The
streaming form computes it as the NTK of one output per (input, class) pair: the network reads
the input and returns the output of the pair's class (``ClassReadout``: a fixed one-hot
readout, no parameter), on the n k pairs; the pairs' outputs are independent as the inputs'
are, so each layer's rule applies unchanged and the cost is k times one output's.
"""

from __future__ import annotations

import math

import numpy as np
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


class ClassReadout(nn.Module):
    """The output of one class per row: a row holds an input (flattened) and a one-hot class
    vector; the module returns sum_c onehot_c f_c(x) = f_class(x)."""

    def __init__(self, network: nn.Module, input_shape: tuple[int, ...], outputs: int):
        super().__init__()
        self.network, self.input_shape, self.outputs = network, tuple(input_shape), outputs

    def forward(self, rows: Tensor) -> Tensor:
        inputs = rows[:, : -self.outputs].reshape(rows.shape[0], *self.input_shape)
        return (self.network(inputs) * rows[:, -self.outputs :]).sum(dim=1)

    @staticmethod
    def pairs(X: Tensor, outputs: int) -> Tensor:
        """Rows (input i, class c) in the order i k + c: the input flattened, then one-hot c."""
        n = X.shape[0]
        flat = X.reshape(n, -1).repeat_interleave(outputs, dim=0)
        onehot = torch.eye(outputs, dtype=X.dtype, device=X.device).repeat(n, 1)
        return torch.cat([flat, onehot], dim=1)


def empirical_ntk(model: nn.Module, X: Tensor, memory_bytes: int | None = None, outputs: int = 1) -> Tensor:
    """Theta(X, X), float64, layer by layer (``streaming.streaming_ntk``), keeping at most
    ``memory_bytes`` across a pass (default: a quarter of the available memory,
    ``streaming.memory_budget``): (n, n) for a module with one output per input, (n, k, n, k)
    for ``outputs`` = k (``ClassReadout``; see the module docstring)."""
    if outputs == 1:
        return streaming_ntk(model, X, memory_bytes)
    n = X.shape[0]
    readout = ClassReadout(model, tuple(X.shape[1:]), outputs)
    theta = streaming_ntk(readout, ClassReadout.pairs(X, outputs), memory_bytes)
    return theta.reshape(n, outputs, n, outputs)


def output_blocks(theta: Tensor | np.ndarray) -> tuple[np.ndarray, float, float]:
    """What the I_k form of a k-output NTK (n, k, n, k) assumes, measured: the kernel averaged
    over the outputs' diagonal blocks, (1/k) sum_c Theta_cc (n, n), the linear model's kernel is
    fitted to; the size of the cross-output blocks against the diagonal ones,
    sqrt(mean_{c != c'} ||Theta_cc'||_F^2 / mean_c ||Theta_cc||_F^2) (0 for Theta (x) I_k); and
    the spread of the diagonal blocks about their mean, sqrt(mean_c ||Theta_cc - mean||_F^2) /
    ||mean||_F (0 when every output has the same kernel)."""
    theta = np.asarray(theta, dtype=np.float64)
    k = theta.shape[1]
    blocks = np.einsum("icjd->cdij", theta)  # (k, k, n, n)
    squares = np.einsum("cdij,cdij->cd", blocks, blocks)
    diagonal = np.diagonal(squares)
    mean = np.mean([blocks[c, c] for c in range(k)], axis=0)
    cross = np.sqrt((squares.sum() - diagonal.sum()) / (k * (k - 1)) / np.mean(diagonal))
    spread = np.sqrt(np.mean([np.sum((blocks[c, c] - mean) ** 2) for c in range(k)]) / np.sum(mean**2))
    return mean, float(cross), float(spread)


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
