"""The training objectives and the optimiser every model of a run trains with.

The paper's theorems and Figures 1-4 train on the half square loss with plain (S)GD. A
researcher may train on the logistic loss and with momentum; the engine applies the same
objective and optimiser to the network, its linearised network, its linear model and its
kernel model, so that they still differ only in the model.

``LOSSES`` is the one registry of losses (the config schema's allowed values come from it).
Each loss has a value and a derivative in the outputs (what every model's gradient is built
from: dL/dtheta = (1/|B|) sum_B l'(f(x), y) df(x)/dtheta). Two classes are one output per
input and labels y = +-1; k classes (and cross-entropy with two) are k outputs per input and
one-hot targets y (``targets``), the loss of an input summed over its outputs:

* ``mse``: l = (f - y)^2 / 2, l' = f - y (the paper's); with k outputs
  l = sum_c (f_c - y_c)^2 / 2 on one-hot targets (Lee et al. 2019);
* ``logistic``: l = log(1 + e^(-y f)), l' = -y / (1 + e^(y f)) = -y sigmoid(-y f) (two
  classes only);
* ``cross_entropy``: softmax cross-entropy of k outputs, l = logsumexp(f) - sum_c y_c f_c,
  l' = softmax(f) - y (k outputs only; with two classes it has two outputs).

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


def _cross_entropy_value(f, y):
    if _is_tensor(f):
        import torch

        return torch.logsumexp(f, dim=-1) - torch.sum(y * f, dim=-1)
    from scipy.special import logsumexp

    return logsumexp(f, axis=-1) - np.sum(y * f, axis=-1)


def _cross_entropy_derivative(f, y):
    if _is_tensor(f):
        import torch

        return torch.softmax(f, dim=-1) - y
    from scipy.special import softmax

    return softmax(np.asarray(f, dtype=np.float64), axis=-1) - np.asarray(y, dtype=np.float64)


def _logistic_derivative(f, y):
    if _is_tensor(f):
        import torch

        return -y * torch.sigmoid(-y * f)
    from scipy.special import expit

    y = np.asarray(y, dtype=np.float64)
    return -y * expit(-y * f)


@dataclass(frozen=True)
class Loss:
    """A loss of outputs f and labels y: its value l(f, y) and derivative l'(f, y).
    ``one_output``: it trains one output per input on +-1 labels (two classes);
    ``per_class``: it trains k outputs per input on one-hot targets; ``elementwise``: its
    value is per output, summed over the outputs of an input when there are k."""

    name: str
    formula: str
    value: Callable[[Any, Any], Any]
    derivative: Callable[[Any, Any], Any]
    one_output: bool = True
    per_class: bool = True
    elementwise: bool = True


LOSSES = {
    "mse": Loss("mse", "(f - y)^2 / 2", _mse_value, _mse_derivative),
    "logistic": Loss("logistic", "log(1 + exp(-y f))", _logistic_value, _logistic_derivative, per_class=False),
    "cross_entropy": Loss(
        "cross_entropy",
        "logsumexp(f) - f_y",
        _cross_entropy_value,
        _cross_entropy_derivative,
        one_output=False,
        elementwise=False,
    ),
}
# The losses of one output and +-1 labels (fig_data's, whose measures read the sign of f): the
# names of LOSSES with one_output, a literal so that the config schema can read it unimported.
ONE_OUTPUT_LOSSES = ("mse", "logistic")


def get_loss(name: str) -> Loss:
    if name not in LOSSES:
        raise ValueError(f"loss {name!r}; allowed values: {', '.join(LOSSES)}")
    return LOSSES[name]


def output_count(loss: str, classes: int) -> int:
    """How many outputs per input a network trains with ``loss`` on ``classes`` classes: one
    for two classes where the loss takes +-1 labels (today's binary tables), else one per
    class. A loss of +-1 labels only (logistic) with more classes is a ValueError."""
    rule = get_loss(loss)
    if classes < 2:
        raise ValueError(f"a classification needs at least two classes, got {classes}")
    if classes == 2 and rule.one_output:
        return 1
    if not rule.per_class:
        raise ValueError(
            f"loss {loss} needs two classes (labels +-1), but the data set has {classes}; use "
            f"{' or '.join(name for name, other in LOSSES.items() if other.per_class)} for k classes"
        )
    return classes


def class_indices(y, classes: int) -> np.ndarray:
    """Class indices 0..k-1 of a data set's labels: +-1 labels of two classes (+1 is the first
    class, index 0), class indices as they are for more classes."""
    y = np.asarray(y, dtype=np.float64)
    if classes == 2:
        if not np.all(np.abs(y) == 1.0):
            raise ValueError("the labels of two classes must be +-1")
        return (y < 0).astype(np.int64)
    indices = y.astype(np.int64)
    if not (np.all(indices == y) and np.all((indices >= 0) & (indices < classes))):
        raise ValueError(f"the labels of {classes} classes must be class indices 0..{classes - 1}")
    return indices


def targets(y, classes: int, outputs: int) -> np.ndarray:
    """What the loss compares the outputs with (float64): the +-1 labels themselves for one
    output, one-hot rows (n, k) of the class indices for k outputs."""
    if outputs == 1:
        return np.asarray(y, dtype=np.float64)
    return np.eye(outputs)[class_indices(y, classes)]


def _as_float64(f, y):
    return np.asarray(f, dtype=np.float64), np.asarray(y, dtype=np.float64)


def loss_values(f, y, loss: str):
    """l(f, y) per input, for numpy arrays (in float64) or torch tensors (differentiable): with
    one output elementwise; with k outputs (targets y of shape (n, k)) summed over them."""
    rule = get_loss(loss)
    per_class = y.ndim == 2
    if per_class and not rule.per_class:
        raise ValueError(f"loss {loss} takes one output per input and +-1 labels, not one-hot targets")
    if not per_class and not rule.one_output:
        raise ValueError(f"loss {loss} takes one output per class and one-hot targets, not +-1 labels")
    values = rule.value(f, y) if _is_tensor(f) else rule.value(*_as_float64(f, y))
    return values.sum(-1) if per_class and rule.elementwise else values


def mean_loss(f, y, loss: str) -> float:
    """The loss averaged over points (the training and test losses the tables log); over the
    points' axis for stacked outputs (steps x points, or steps x points x k)."""
    return np.mean(loss_values(np.asarray(f, dtype=np.float64), np.asarray(y, dtype=np.float64), loss), axis=-1)


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
