"""The models a run trains side by side (earlylin.training.predictors), one step at a time,
against torch.optim.SGD, plain-numpy training loops, the explicit Jacobian and the feature
model a kernel model is in function space."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from earlylin.core.losses import loss_derivative, loss_values
from earlylin.training.linearised import LinearisedNetwork
from earlylin.training.predictors import KernelModelPredictor, LinearModelPredictor, NetworkPredictor


@pytest.mark.parametrize("loss", ["mse", "logistic"])
def test_network_step_matches_torch_sgd_with_momentum(loss):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1), torch.nn.Flatten(0))
    twin = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1), torch.nn.Flatten(0))
    twin.load_state_dict(net.state_dict())
    x = torch.randn(12, 5, dtype=torch.float32)
    y = torch.where(torch.randn(12) > 0, 1.0, -1.0)
    initial = net(x).detach()
    predictor = NetworkPredictor(net, x, x[:3], y, loss, 0.9, eval_rows=5)
    predictor.prepare()
    reference = torch.optim.SGD(twin.parameters(), lr=0.2, momentum=0.9)
    rows = torch.arange(12)
    for _ in range(15):
        predictor.step(rows.numpy(), rows, 0.2)
        reference.zero_grad()
        torch.mean(loss_values(twin(x) - initial, y, loss)).backward()
        reference.step()
    for mine, theirs in zip(net.parameters(), twin.parameters()):
        assert torch.allclose(mine, theirs, atol=1e-6)


def _plain_numpy_logistic_regression(psi, y, batches, lr, momentum):
    """The logistic linear model written out: p = 1 / (1 + exp(y psi.beta)), gradient
    -sum_B y p psi / |B|, heavy-ball update."""
    beta, v = np.zeros(psi.shape[1]), np.zeros(psi.shape[1])
    for batch in batches:
        margin = y[batch] * (psi[batch] @ beta)
        weight = 1.0 / (1.0 + np.exp(margin))
        grad = -(psi[batch] * (y[batch] * weight)[:, None]).sum(axis=0) / len(batch)
        v = momentum * v + grad
        beta = beta - lr * v
    return beta


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_logistic_linear_model_matches_plain_numpy(momentum):
    rng = np.random.default_rng(3)
    psi = rng.standard_normal((60, 7))
    y = np.where(psi @ rng.standard_normal(7) + 0.3 * rng.standard_normal(60) > 0, 1.0, -1.0)
    batches = [rng.choice(60, size=20, replace=False) for _ in range(50)]
    model = LinearModelPredictor(psi, psi[:5], y, "logistic", momentum)
    for batch in batches:
        model.step(batch, None, 0.5)
    beta = model.beta
    expected = _plain_numpy_logistic_regression(psi, y, batches, 0.5, momentum)
    assert np.allclose(beta, expected, rtol=1e-12, atol=1e-12)
    # it learns: training accuracy of the separable-ish labels
    assert np.mean(np.sign(psi @ beta) == y) > 0.85


@pytest.mark.parametrize(("loss", "momentum"), [("mse", 0.9), ("logistic", 0.0), ("logistic", 0.9)])
def test_kernel_model_is_the_feature_model_in_function_space(loss, momentum):
    """K = psi psi^T: function-space SGD with the function-space velocity gives the outputs of
    the linear model beta . psi trained by the same steps."""
    rng = np.random.default_rng(4)
    psi_train, psi_test = rng.standard_normal((40, 6)), rng.standard_normal((15, 6))
    y = np.where(rng.standard_normal(40) > 0, 1.0, -1.0)
    kernel = KernelModelPredictor(psi_train @ psi_train.T, psi_test @ psi_train.T, y, loss, momentum)
    linear = LinearModelPredictor(psi_train, psi_test, y, loss, momentum)
    for _ in range(30):
        batch = rng.choice(40, size=10, replace=False)
        kernel.step(batch, None, 0.05)
        linear.step(batch, None, 0.05)
    for mine, theirs in zip(kernel.outputs(), linear.outputs()):
        assert np.allclose(mine, theirs, atol=1e-10)


@pytest.mark.parametrize(("loss", "momentum"), [("mse", 0.9), ("logistic", 0.0), ("logistic", 0.9)])
def test_linearised_network_matches_a_loop_over_its_explicit_jacobian(loss, momentum):
    """f_lin = J delta with J formed by autograd (torch.func.jacrev): the same steps written out
    on the explicit Jacobian."""
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1), torch.nn.Flatten(0))
    net = net.double()
    x = torch.randn(10, 4, dtype=torch.float64)
    y = torch.where(torch.randn(10) > 0, 1.0, -1.0).double()
    linearised = LinearisedNetwork(net, loss, momentum)
    params = {name: p.detach() for name, p in net.named_parameters()}
    jac = torch.func.jacrev(lambda p: torch.func.functional_call(net, p, (x,)))(params)
    J = torch.cat([jac[name].reshape(10, -1) for name in params], dim=1).numpy()
    delta, v = np.zeros(J.shape[1]), np.zeros(J.shape[1])
    rng = np.random.default_rng(5)
    for _ in range(20):
        batch = rng.choice(10, size=4, replace=False)
        rows = torch.as_tensor(batch)
        linearised.sgd_step(x[rows], y[rows], 0.3)
        grad = J[batch].T @ loss_derivative(J[batch] @ delta, y.numpy()[batch], loss) / len(batch)
        v = momentum * v + grad
        delta = delta - 0.3 * v
    assert np.allclose(linearised.outputs(x).numpy(), J @ delta, atol=1e-10)


def test_each_model_s_state_round_trips_through_a_weights_only_checkpoint():
    """What a checkpoint stores of each model restores it exactly, velocities included."""
    import io

    rng = np.random.default_rng(2)
    psi = rng.standard_normal((20, 4))
    y = np.where(rng.standard_normal(20) > 0, 1.0, -1.0)
    for make in (
        lambda: LinearModelPredictor(psi, psi[:5], y, "mse", 0.9),
        lambda: KernelModelPredictor(psi @ psi.T, psi[:5] @ psi.T, y, "logistic", 0.9),
    ):
        model, twin = make(), make()
        for _ in range(3):
            model.step(np.arange(8), None, 0.1)
        buffer = io.BytesIO()
        torch.save(model.state(), buffer)
        buffer.seek(0)
        twin.load_state(torch.load(buffer, weights_only=True))
        for _ in range(3):
            model.step(np.arange(4, 12), None, 0.1)
            twin.step(np.arange(4, 12), None, 0.1)
        for mine, theirs in zip(model.outputs(), twin.outputs()):
            assert np.array_equal(mine, theirs)
