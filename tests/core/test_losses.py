"""The losses and heavy-ball momentum of every model (earlylin.core.losses), against
hand-written formulas, finite differences, autograd and a hand-written loop."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from earlylin.core.losses import LOSSES, ONE_OUTPUT_LOSSES, HeavyBall, loss_derivative, loss_values, mean_loss

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


def test_the_registry_is_the_schema_s_list_of_losses():
    from workflow_runs import ROOT

    from earlylin.core.config import load_schema

    schema = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
    assert schema["properties"]["fig_classes"]["properties"]["losses"]["items"]["enum"] == list(LOSSES)
    # fig_data reads the sign of one output: the losses of one output per input
    assert schema["properties"]["fig_data"]["properties"]["losses"]["items"]["enum"] == list(ONE_OUTPUT_LOSSES)
    assert list(ONE_OUTPUT_LOSSES) == [name for name, loss in LOSSES.items() if loss.one_output]


def test_the_registry_imports_no_torch():
    import subprocess
    import sys

    code = "import sys, earlylin.core.losses; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_unknown_loss_and_bad_momentum_are_refused():
    with pytest.raises(ValueError, match="loss 'hinge'; allowed values: mse, logistic, cross_entropy"):
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
