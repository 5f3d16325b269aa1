"""The losses and heavy-ball momentum of every model (earlylin.losses), against hand-written
formulas, finite differences, autograd, torch.optim.SGD and plain-numpy training loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from earlylin.losses import HeavyBall, loss_derivative, loss_values, mean_loss
from earlylin.models.exact_kernel import KernelModelSGD
from earlylin.models.linearised import LinearisedNetwork
from earlylin.models.training import linear_step, network_step

F = np.array([-3.0, -0.4, 0.0, 0.7, 2.5])
Y = np.array([1.0, -1.0, 1.0, 1.0, -1.0])


def test_losses_are_the_stated_formulas():
    assert np.allclose(loss_values(F, Y, "mse"), 0.5 * (F - Y) ** 2)
    assert np.allclose(loss_values(F, Y, "logistic"), np.log1p(np.exp(-Y * F)))
    assert mean_loss(F, Y, "logistic") == pytest.approx(np.mean(np.log1p(np.exp(-Y * F))))
    # stable far out in the tails, where exp overflows
    assert loss_values(np.array([-800.0]), np.array([1.0]), "logistic")[0] == pytest.approx(800.0)
    assert loss_values(np.array([800.0]), np.array([1.0]), "logistic")[0] == pytest.approx(0.0, abs=1e-300)


@pytest.mark.parametrize("loss", ["mse", "logistic"])
def test_loss_derivative_matches_finite_differences_and_autograd(loss):
    h = 1e-6
    numeric = (loss_values(F + h, Y, loss) - loss_values(F - h, Y, loss)) / (2 * h)
    assert np.allclose(loss_derivative(F, Y, loss), numeric, atol=1e-8)
    f = torch.tensor(F, requires_grad=True)
    (grad,) = torch.autograd.grad(loss_values(f, torch.tensor(Y), loss).sum(), f)
    assert np.allclose(loss_derivative(torch.tensor(F), torch.tensor(Y), loss).numpy(), grad.numpy())
    assert np.allclose(grad.numpy(), numeric, atol=1e-8)


def test_unknown_loss_and_bad_momentum_are_refused():
    with pytest.raises(ValueError, match="loss 'hinge'; allowed values: mse, logistic"):
        loss_values(F, Y, "hinge")
    for momentum in (-0.1, 1.0):
        with pytest.raises(ValueError, match=r"momentum must lie in \[0, 1\)"):
            HeavyBall(momentum)


def _hand_heavy_ball(x0, gradient, lr, momentum, steps):
    x, v = np.array(x0, dtype=np.float64), np.zeros_like(x0, dtype=np.float64)
    path = []
    for _ in range(steps):
        v = momentum * v + gradient(x)
        x = x - lr * v
        path.append(x.copy())
    return np.array(path)


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_heavy_ball_on_numpy_matches_a_hand_written_loop(momentum):
    A = np.array([[2.0, 0.3], [0.3, 0.5]])
    gradient = lambda x: A @ x - np.array([1.0, -2.0])  # noqa: E731
    expected = _hand_heavy_ball([1.0, 1.0], gradient, 0.3, momentum, 40)
    x, optimiser, path = np.array([1.0, 1.0]), HeavyBall(momentum), []
    for _ in range(40):
        optimiser.step([x], [gradient(x)], 0.3)
        path.append(x.copy())
    assert np.allclose(np.array(path), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loss", ["mse", "logistic"])
def test_network_step_matches_torch_sgd_with_momentum(loss):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1), torch.nn.Flatten(0))
    twin = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1), torch.nn.Flatten(0))
    twin.load_state_dict(net.state_dict())
    x = torch.randn(12, 5, dtype=torch.float32)
    y = torch.where(torch.randn(12) > 0, 1.0, -1.0)
    initial = net(x).detach()
    params = list(net.parameters())
    reference = torch.optim.SGD(twin.parameters(), lr=0.2, momentum=0.9)
    optimiser = HeavyBall(0.9)
    for _ in range(15):
        network_step(net, params, x, initial, y, 0.2, loss, optimiser)
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
    beta, optimiser = np.zeros(7), HeavyBall(momentum)
    for batch in batches:
        linear_step(beta, psi[batch], y[batch], 0.5, "logistic", optimiser)
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
    kernel = KernelModelSGD(psi_train @ psi_train.T, psi_test @ psi_train.T, y, loss=loss, momentum=momentum)
    beta, optimiser = np.zeros(6), HeavyBall(momentum)
    for _ in range(30):
        batch = rng.choice(40, size=10, replace=False)
        kernel.sgd_step(batch, 0.05)
        linear_step(beta, psi_train[batch], y[batch], 0.05, loss, optimiser)
    assert np.allclose(kernel.train_outputs, psi_train @ beta, atol=1e-10)
    assert np.allclose(kernel.test_outputs, psi_test @ beta, atol=1e-10)


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
