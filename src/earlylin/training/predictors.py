"""The models a run trains side by side, each one step per minibatch with the same loss,
momentum, learning rate and batch (``core.losses``):

* ``NetworkPredictor``: the network itself, centred (Appendix A: "we subtract the function
  output at initialization for each datapoint"): f(x) = g(x; theta) - g(x; theta_0), with
  g(x; theta_0) computed once for every training and test point before the first update (by
  the same chunked evaluation that logs the outputs) and kept on the device, so a step costs
  one forward and one backward pass of the batch; at step 0 the outputs are exactly 0.
  Update theta <- theta - lr v, v <- m v + grad (1/|B|) sum_B l(f(x), y).
* ``LinearisedPredictor``: the network linearised in its parameters at theta_0,
  J(x; theta_0) (theta - theta_0) (``linearised``; Lee et al. 2019).
* ``LinearModelPredictor``: the linear model beta . psi(x) of Section 4.1 (``kernels.
  simple_kernel.linear_features``), beta_0 = 0, in float64 numpy on the CPU: a |B| x p
  product, free of the network's rounding, the reference the network is compared with.
  g = psi_B^T l'(psi_B beta, y_B) / |B|.
* ``KernelModelPredictor``: function-space SGD with a kernel K (the exact infinite-width NTK,
  ``kernels.exact``): with r = l'(f(X_B), y_B) every output moves by -lr K(x, X_B) r / |B|;
  the heavy-ball velocity is kept in function space (K v).

Each gives its outputs on every training and test point as float64 arrays and its state as
a dict of tensors (for checkpoints). With k outputs per input (``core.losses.targets``: one-hot
targets y of shape (n, k)) the outputs are (n, k): the linear model has k heads, beta (p, k),
on the same features, and the kernel model moves every output by K (x) I_k.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ..core.losses import HeavyBall, loss_derivative, loss_values
from .linearised import LinearisedNetwork

Tensor = torch.Tensor


def network_outputs(network: nn.Module, X: Tensor, rows: int) -> Tensor:
    """g(X; theta) in chunks of ``rows`` rows, without autograd (on X's device and dtype)."""
    with torch.no_grad():
        return torch.cat([network(X[start : start + rows]) for start in range(0, X.shape[0], rows)])


def _numpy(values: Any) -> np.ndarray:
    if isinstance(values, Tensor):
        return values.double().cpu().numpy()
    return np.asarray(values, dtype=np.float64)


def _velocity_state(optimiser: HeavyBall) -> dict[str, Any]:
    if optimiser.velocity is None:
        return {}
    return {
        "velocity": [
            v.detach().cpu().clone() if isinstance(v, Tensor) else torch.from_numpy(v.copy())
            for v in optimiser.velocity
        ]
    }


def _load_velocity(optimiser: HeavyBall, state: dict[str, Any], like: list, device: torch.device | None) -> None:
    saved = state.get("velocity")
    if saved is None:
        optimiser.velocity = None
        return
    if len(saved) != len(like):
        raise ValueError(f"{len(saved)} velocity entries, expected {len(like)}")
    loaded = []
    for value, reference in zip(saved, like):
        if tuple(value.shape) != tuple(reference.shape):
            raise ValueError(f"a velocity entry has shape {tuple(value.shape)}, expected {tuple(reference.shape)}")
        loaded.append(value.to(device, reference.dtype) if isinstance(reference, Tensor) else value.numpy().copy())
    optimiser.velocity = loaded


class NetworkPredictor:
    """The centred network, trained in place (see the module docstring)."""

    name = "network"

    def __init__(
        self,
        network: nn.Module,
        X_train: Tensor,
        X_test: Tensor,
        y_train: Tensor,
        loss: str,
        momentum: float,
        eval_rows: int,
    ):
        self.network = network
        self.X_train, self.X_test, self.y_train = X_train, X_test, y_train
        self.loss = loss
        self.optimiser = HeavyBall(momentum)
        self.eval_rows = eval_rows
        self.params = [p for p in network.parameters() if p.requires_grad]
        self.initial_train: Tensor | None = None
        self.initial_test: Tensor | None = None

    def prepare(self) -> None:
        """g(x; theta_0) on every training and test point (once, before the first update)."""
        if self.initial_train is None:
            self.initial_train = network_outputs(self.network, self.X_train, self.eval_rows)
            self.initial_test = network_outputs(self.network, self.X_test, self.eval_rows)

    def step(self, batch: np.ndarray, rows: Tensor, lr: float) -> None:
        value = torch.mean(
            loss_values(self.network(self.X_train[rows]) - self.initial_train[rows], self.y_train[rows], self.loss)
        )
        self.optimiser.step(self.params, list(torch.autograd.grad(value, self.params)), lr)

    def outputs(self) -> tuple[np.ndarray, np.ndarray]:
        train = network_outputs(self.network, self.X_train, self.eval_rows) - self.initial_train
        test = network_outputs(self.network, self.X_test, self.eval_rows) - self.initial_test
        return _numpy(train), _numpy(test)

    def state(self) -> dict[str, Any]:
        return {
            "module": {name: t.detach().cpu() for name, t in self.network.state_dict().items()},
            "initial_train": self.initial_train.detach().cpu(),
            "initial_test": self.initial_test.detach().cpu(),
            **_velocity_state(self.optimiser),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        expected = self.network.state_dict()
        module = state["module"]
        if set(module) != set(expected):
            raise ValueError("its module state has different entries")
        for name, tensor in expected.items():
            if tuple(module[name].shape) != tuple(tensor.shape) or module[name].dtype != tensor.dtype:
                raise ValueError(
                    f"its module entry {name!r} is not a {tensor.dtype} tensor of shape {tuple(tensor.shape)}"
                )
        per_input = tuple(self.y_train.shape[1:])
        for name, rows in (("initial_train", self.X_train.shape[0]), ("initial_test", self.X_test.shape[0])):
            if tuple(state[name].shape) != (rows, *per_input):
                raise ValueError(f"its {name} has shape {tuple(state[name].shape)}, expected {(rows, *per_input)}")
        _load_velocity(self.optimiser, state, self.params, self.X_train.device)
        self.network.load_state_dict(module)
        device, dtype = self.X_train.device, self.X_train.dtype
        self.initial_train = state["initial_train"].to(device, dtype)
        self.initial_test = state["initial_test"].to(device, dtype)


class LinearisedPredictor:
    """J(x; theta_0) delta trained by SGD (``linearised.LinearisedNetwork``)."""

    name = "linearised"

    def __init__(
        self,
        network: nn.Module,
        X_train: Tensor,
        X_test: Tensor,
        y_train: Tensor,
        loss: str,
        momentum: float,
        eval_rows: int,
    ):
        outputs = y_train.shape[1] if y_train.ndim == 2 else 1
        self.model = LinearisedNetwork(network, loss, momentum, outputs)
        self.X_train, self.X_test, self.y_train = X_train, X_test, y_train
        self.eval_rows = eval_rows

    def step(self, batch: np.ndarray, rows: Tensor, lr: float) -> None:
        self.model.sgd_step(self.X_train[rows], self.y_train[rows], lr)

    def outputs(self) -> tuple[np.ndarray, np.ndarray]:
        return _numpy(self.model.outputs(self.X_train, self.eval_rows)), _numpy(
            self.model.outputs(self.X_test, self.eval_rows)
        )

    def state(self) -> dict[str, Any]:
        return {
            "delta": {k: v.detach().cpu() for k, v in self.model.delta.items()},
            **_velocity_state(self.model.optimiser),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        delta = state["delta"]
        if set(delta) != set(self.model.delta):
            raise ValueError("its linearised network has different parameters")
        for name, value in self.model.delta.items():
            if tuple(delta[name].shape) != tuple(value.shape):
                raise ValueError(f"its linearised parameter {name!r} has another shape")
        names = list(self.model.delta)
        _load_velocity(self.model.optimiser, state, [self.model.delta[n] for n in names], self.X_train.device)
        self.model.delta = {name: delta[name].to(value.device, value.dtype) for name, value in self.model.delta.items()}


class LinearModelPredictor:
    """beta . psi(x), float64 numpy (see the module docstring)."""

    name = "linear"

    def __init__(self, psi_train: np.ndarray, psi_test: np.ndarray, y_train: np.ndarray, loss: str, momentum: float):
        self.psi_train, self.psi_test = psi_train, psi_test
        self.y_train = np.asarray(y_train, dtype=np.float64)
        self.loss = loss
        self.optimiser = HeavyBall(momentum)
        self.beta = np.zeros((psi_train.shape[1], *self.y_train.shape[1:]))

    def step(self, batch: np.ndarray, rows: Tensor, lr: float) -> None:
        psi = self.psi_train[batch]
        gradient = psi.T @ loss_derivative(psi @ self.beta, self.y_train[batch], self.loss) / len(batch)
        self.optimiser.step([self.beta], [gradient], lr)

    def outputs(self) -> tuple[np.ndarray, np.ndarray]:
        return self.psi_train @ self.beta, self.psi_test @ self.beta

    def state(self) -> dict[str, Any]:
        return {"beta": torch.from_numpy(self.beta.copy()), **_velocity_state(self.optimiser)}

    def load_state(self, state: dict[str, Any]) -> None:
        if tuple(state["beta"].shape) != self.beta.shape:
            raise ValueError(
                f"its linear model has {tuple(state['beta'].shape)} coefficients, expected {self.beta.shape}"
            )
        _load_velocity(self.optimiser, state, [self.beta], None)
        self.beta = state["beta"].numpy().copy()


class KernelModelPredictor:
    """Function-space SGD with the kernel ``K_train`` (n, n) and ``K_test`` (m, n) from
    f_0 = 0 (see the module docstring)."""

    name = "exact_kernel"

    def __init__(self, K_train: np.ndarray, K_test: np.ndarray, y_train: np.ndarray, loss: str, momentum: float):
        self.K_train = np.asarray(K_train, dtype=np.float64)
        self.K_test = np.asarray(K_test, dtype=np.float64)
        self.y_train = np.asarray(y_train, dtype=np.float64)
        self.loss = loss
        self.optimiser = HeavyBall(momentum)
        self.train_outputs = np.zeros(self.y_train.shape)
        self.test_outputs = np.zeros((len(self.K_test), *self.y_train.shape[1:]))

    def step(self, batch: np.ndarray, rows: Tensor, lr: float) -> None:
        residual = loss_derivative(self.train_outputs[batch], self.y_train[batch], self.loss) / len(batch)
        directions = [self.K_train[:, batch] @ residual, self.K_test[:, batch] @ residual]
        self.optimiser.step([self.train_outputs, self.test_outputs], directions, lr)

    def outputs(self) -> tuple[np.ndarray, np.ndarray]:
        return self.train_outputs.copy(), self.test_outputs.copy()

    def state(self) -> dict[str, Any]:
        outputs = {
            "train": torch.from_numpy(self.train_outputs.copy()),
            "test": torch.from_numpy(self.test_outputs.copy()),
        }
        return {**outputs, **_velocity_state(self.optimiser)}

    def load_state(self, state: dict[str, Any]) -> None:
        if (
            tuple(state["train"].shape) != self.train_outputs.shape
            or tuple(state["test"].shape) != self.test_outputs.shape
        ):
            raise ValueError("its kernel model has other points")
        _load_velocity(self.optimiser, state, [self.train_outputs, self.test_outputs], None)
        self.train_outputs, self.test_outputs = state["train"].numpy().copy(), state["test"].numpy().copy()


Predictor = NetworkPredictor | LinearisedPredictor | LinearModelPredictor | KernelModelPredictor
