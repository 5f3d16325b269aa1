"""The network linearised in its parameters (the lazy / NTK regime; Lee et al. 2019, eq. 6;
Neural Tangents' ``linearize``):

    f_lin(x; theta) = f(x; theta_0) + J(x; theta_0) (theta - theta_0),

trained by the same SGD (same loss and momentum, ``core.losses``) on the same minibatches
as the network. The workflow's networks are
centred (f_0 = 0, Appendix A), so the linearised network is J(x; theta_0) delta with
delta = theta - theta_0, delta_0 = 0. Nothing forms the Jacobian: outputs are one
Jacobian-vector product (``torch.func.jvp``, forward mode, tangent delta) and the gradient of
L_B = (1/2|B|) sum_B (f_lin(x) - y)^2 with respect to delta is J_B^T r / |B|, one
vector-Jacobian product (``torch.func.vjp``) at theta_0 with r = f_lin(x_B) - y_B (for another
loss, r = l'(f_lin(x_B), y_B)). A step runs the network's forward pass once: the vjp is taken of
the function that returns the jvp's primal, with the tangent as its auxiliary output.
With k outputs per input the tangent is (|B|, k) and r holds one row of k per input.
"""

from __future__ import annotations

import torch
from torch import nn

from ..core.losses import HeavyBall, loss_derivative
from ..kernels.empirical import trainable_parameters

Tensor = torch.Tensor


class LinearisedNetwork:
    """J(x; theta_0) delta for a module with ``outputs`` outputs per input (shape (n,) for one,
    (n, k) for k), delta trained by SGD on ``loss`` with heavy-ball ``momentum``."""

    def __init__(self, network: nn.Module, loss: str = "mse", momentum: float = 0.0, outputs: int = 1):
        self.network = network
        self.output_shape = () if outputs == 1 else (outputs,)
        self.loss = loss
        self.optimiser = HeavyBall(momentum)
        self.initial = {name: p.clone() for name, p in trainable_parameters(network).items()}
        self.delta = {name: torch.zeros_like(p) for name, p in self.initial.items()}

    def _at(self, x: Tensor):  # the function theta -> f(x; theta)
        return lambda params: torch.func.functional_call(self.network, params, (x,)).reshape(
            x.shape[0], *self.output_shape
        )

    def outputs(self, X: Tensor, rows: int | None = None) -> Tensor:
        """f_lin(X) - f(X; theta_0) = J(X; theta_0) delta, in chunks of ``rows`` rows."""
        rows = rows or X.shape[0]
        parts = []
        with torch.no_grad():
            for start in range(0, X.shape[0], rows):
                _, tangent = torch.func.jvp(self._at(X[start : start + rows]), (self.initial,), (self.delta,))
                parts.append(tangent)
        return torch.cat(parts)

    def gradient(self, x: Tensor, y: Tensor) -> dict[str, Tensor]:
        """d/d delta of (1/|B|) sum_B l(J delta, y): J_B^T l'(J_B delta, y_B) / |B| (for the
        half square loss J_B^T (J_B delta - y_B) / |B|)."""
        at = self._at(x)

        def primal_and_tangent(params: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
            return torch.func.jvp(at, (params,), (self.delta,))

        # One forward pass carries the primal and the tangent J_B delta; the pullback of its
        # primal is J_B^T (no second forward pass for the vjp).
        with torch.no_grad():
            _, pullback, tangent = torch.func.vjp(primal_and_tangent, self.initial, has_aux=True)
            (grad,) = pullback(loss_derivative(tangent, y, self.loss) / x.shape[0])
        return grad

    def sgd_step(self, x: Tensor, y: Tensor, lr: float) -> None:
        names = list(self.delta)
        grads = self.gradient(x, y)
        self.optimiser.step([self.delta[name] for name in names], [grads[name] for name in names], lr)

    def parameters(self) -> dict[str, Tensor]:
        """theta = theta_0 + delta."""
        return {name: self.initial[name] + self.delta[name] for name in self.initial}
