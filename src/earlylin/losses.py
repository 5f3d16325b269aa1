"""The training objectives and the optimiser beyond the paper's (issue: any loss and optimiser).

The paper's theorems and Figures 1-4 train on the half square loss with plain (S)GD. A
researcher may train on the logistic loss and with momentum; the workflow applies the same
objective and optimiser to the network, its linearised network, its linear model and its
kernel model, so that they still differ only in the model.

Losses of an output f and a label y = +-1, and their derivative in f (what every model's
gradient is built from: dL/dtheta = (1/|B|) sum_B l'(f(x), y) df(x)/dtheta):

* ``mse``: l = (f - y)^2 / 2, l' = f - y (the paper's);
* ``logistic``: l = log(1 + e^(-y f)), l' = -y / (1 + e^(y f)) = -y sigmoid(-y f).

Heavy-ball momentum (Polyak 1964; PyTorch's SGD with dampening 0): v <- m v + g,
theta <- theta - lr v, v_0 = 0; m = 0 is plain SGD. A linear model's outputs move linearly
in its parameters, so the kernel model keeps its velocity in function space (K v).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import expit

from .models.jobs import LOSSES


def _check(loss: str) -> None:
    if loss not in LOSSES:
        raise ValueError(f"loss {loss!r}; allowed values: {', '.join(LOSSES)}")


def loss_values(f, y, loss: str):
    """l(f, y) elementwise, for numpy arrays or torch tensors (differentiable)."""
    _check(loss)
    if isinstance(f, torch.Tensor):
        return 0.5 * (f - y) ** 2 if loss == "mse" else torch.nn.functional.softplus(-y * f)
    f, y = np.asarray(f, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return 0.5 * (f - y) ** 2 if loss == "mse" else np.logaddexp(0.0, -y * f)


def mean_loss(f, y, loss: str) -> float:
    """The loss averaged over points (the training and test losses the tables log); over the
    last axis for stacked outputs (steps x points)."""
    return np.mean(loss_values(np.asarray(f, dtype=np.float64), y, loss), axis=-1)


def loss_derivative(f, y, loss: str):
    """l'(f, y) = dl/df elementwise, for numpy arrays or torch tensors."""
    _check(loss)
    if loss == "mse":
        return f - y
    if isinstance(f, torch.Tensor):
        return -y * torch.sigmoid(-y * f)
    return -np.asarray(y, dtype=np.float64) * expit(-np.asarray(y, dtype=np.float64) * f)


class HeavyBall:
    """v <- m v + g; theta <- theta - lr v for a list of torch tensors or one numpy array
    (updated in place). With m = 0 it is the plain step theta <- theta - lr g."""

    def __init__(self, momentum: float):
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
        self.momentum = float(momentum)
        self.velocity: list | None = None

    def step(self, params: list, grads: list, lr: float) -> None:
        if self.momentum == 0.0:
            directions = grads
        else:
            if self.velocity is None:
                self.velocity = [g.clone() if isinstance(g, torch.Tensor) else np.array(g, copy=True) for g in grads]
            else:
                for v, g in zip(self.velocity, grads):
                    v *= self.momentum
                    v += g
            directions = self.velocity
        with torch.no_grad():
            for param, direction in zip(params, directions):
                if isinstance(param, torch.Tensor):
                    param.sub_(direction, alpha=lr)
                else:
                    param -= lr * direction
