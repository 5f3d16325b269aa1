"""The training objectives and the optimiser every model of a run trains with.

The paper's theorems and Figures 1-4 train on the half square loss with plain (S)GD. A
researcher may train on the logistic loss and with momentum; the engine applies the same
objective and optimiser to the network, its linearised network, its linear model and its
kernel model, so that they still differ only in the model.

``LOSSES`` is the one registry of losses (the config schema's allowed values come from it).
Each loss of an output f and a label y = +-1 has a value and a derivative in f (what every
model's gradient is built from: dL/dtheta = (1/|B|) sum_B l'(f(x), y) df(x)/dtheta):

* ``mse``: l = (f - y)^2 / 2, l' = f - y (the paper's);
* ``logistic``: l = log(1 + e^(-y f)), l' = -y / (1 + e^(y f)) = -y sigmoid(-y f).

Both work on numpy arrays and on torch tensors (differentiably); torch is imported only when
a tensor is passed, so the registry is light enough for the Snakefile to read.

Heavy-ball momentum (Polyak 1964; PyTorch's SGD with dampening 0): v <- m v + g,
theta <- theta - lr v, v_0 = 0; m = 0 is plain SGD. A linear model's outputs move linearly
in its parameters, so the kernel model keeps its velocity in function space (K v).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch")


def _mse_value(f, y):
    return 0.5 * (f - y) ** 2


def _mse_derivative(f, y):
    return f - y


def _logistic_value(f, y):
    if _is_tensor(f):
        import torch

        return torch.nn.functional.softplus(-y * f)
    return np.logaddexp(0.0, -y * f)


def _logistic_derivative(f, y):
    if _is_tensor(f):
        import torch

        return -y * torch.sigmoid(-y * f)
    from scipy.special import expit

    y = np.asarray(y, dtype=np.float64)
    return -y * expit(-y * f)


@dataclass(frozen=True)
class Loss:
    """A loss of an output f and a label y: its value l(f, y) and derivative l'(f, y)."""

    name: str
    formula: str
    value: Callable[[Any, Any], Any]
    derivative: Callable[[Any, Any], Any]


LOSSES = {
    "mse": Loss("mse", "(f - y)^2 / 2", _mse_value, _mse_derivative),
    "logistic": Loss("logistic", "log(1 + exp(-y f))", _logistic_value, _logistic_derivative),
}


def get_loss(name: str) -> Loss:
    if name not in LOSSES:
        raise ValueError(f"loss {name!r}; allowed values: {', '.join(LOSSES)}")
    return LOSSES[name]


def _as_float64(f, y):
    return np.asarray(f, dtype=np.float64), np.asarray(y, dtype=np.float64)


def loss_values(f, y, loss: str):
    """l(f, y) elementwise, for numpy arrays (in float64) or torch tensors (differentiable)."""
    rule = get_loss(loss)
    return rule.value(f, y) if _is_tensor(f) else rule.value(*_as_float64(f, y))


def mean_loss(f, y, loss: str) -> float:
    """The loss averaged over points (the training and test losses the tables log); over the
    last axis for stacked outputs (steps x points)."""
    return np.mean(loss_values(np.asarray(f, dtype=np.float64), y, loss), axis=-1)


def loss_derivative(f, y, loss: str):
    """l'(f, y) = dl/df elementwise, for numpy arrays or torch tensors."""
    return get_loss(loss).derivative(f, y)


class HeavyBall:
    """v <- m v + g; theta <- theta - lr v for a list of torch tensors or numpy arrays
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
                self.velocity = [g.clone() if _is_tensor(g) else np.array(g, copy=True) for g in grads]
            else:
                for v, g in zip(self.velocity, grads):
                    v *= self.momentum
                    v += g
            directions = self.velocity
        for param, direction in zip(params, directions):
            if _is_tensor(param):
                param.data.sub_(direction, alpha=lr)
            else:
                param -= lr * direction
