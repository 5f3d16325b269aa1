import math

import numpy as np
import pytest
import torch

from earlylin.core.activations import ACTIVATION_NAMES, get_activation
from earlylin.experiments.two_layer.gradient_descent import train_two_layer_gd
from earlylin.experiments.two_layer.networks import (
    make_params,
    symmetric_init,
    two_layer_loss_and_gradients,
    two_layer_output,
)


def _autograd_loss(W, v, X, y, act):
    m, d = W.shape
    f = act(X @ W.T / math.sqrt(d)) @ v / math.sqrt(m)
    return 0.5 * torch.mean((f - y) ** 2)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_symmetric_init_gives_zero_output(rng, name):
    W, v = symmetric_init(64, 9, rng)
    assert np.array_equal(W[:32], W[32:]) and np.array_equal(v[:32], -v[32:])
    assert set(np.unique(v)) <= {-1.0, 1.0}
    params = make_params(W, v, torch.float64, "cpu")
    X = torch.as_tensor(rng.standard_normal((50, 9)))
    out = two_layer_output(params, X, get_activation(name, 0.1), chunk_rows=7)
    assert torch.count_nonzero(out.abs() > 1e-14) == 0


def test_symmetric_init_rejects_odd_width(rng):
    with pytest.raises(ValueError, match="even"):
        symmetric_init(7, 3, rng)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@pytest.mark.parametrize("chunk_rows", [None, 5])
def test_gradients_match_autograd(rng, name, chunk_rows):
    act = get_activation(name, 0.2)
    W, v = symmetric_init(16, 6, rng)
    W = W + 0.3 * rng.standard_normal(W.shape)  # break the symmetry: f != 0
    v = v + 0.3 * rng.standard_normal(v.shape)
    params = make_params(W, v, torch.float64, "cpu")
    X = torch.as_tensor(rng.standard_normal((23, 6)))
    y = torch.as_tensor(rng.standard_normal(23))
    loss, gW, gv = two_layer_loss_and_gradients(params, X, y, act, chunk_rows=chunk_rows)
    Wa, va = params.W.clone().requires_grad_(), params.v.clone().requires_grad_()
    ref = _autograd_loss(Wa, va, X, y, act)
    ref.backward()
    torch.testing.assert_close(loss, ref.detach(), rtol=1e-13, atol=1e-14)
    torch.testing.assert_close(gW, Wa.grad, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(gv, va.grad, rtol=1e-12, atol=1e-14)


def test_float32_gradients_close_to_float64(rng):
    act = get_activation("erf")
    W, v = symmetric_init(32, 10, rng)
    W = W + 0.1 * rng.standard_normal(W.shape)
    X, y = rng.standard_normal((100, 10)), rng.standard_normal(100)
    out = []
    for dt in (torch.float32, torch.float64):
        p = make_params(W, v, dt, "cpu")
        out.append(two_layer_loss_and_gradients(p, torch.as_tensor(X, dtype=dt), torch.as_tensor(y, dtype=dt), act))
    for a, b in zip(*out):
        torch.testing.assert_close(a.double(), b, rtol=1e-5, atol=1e-6)


def test_gd_loop_equals_manual_updates_and_logs_steps(rng):
    act = get_activation("tanh")
    W, v = symmetric_init(12, 4, rng)
    X, y, Xt = (
        torch.as_tensor(a)
        for a in (rng.standard_normal((30, 4)), np.sign(rng.standard_normal(30)), rng.standard_normal((9, 4)))
    )
    lr1, lr2 = 0.7, 0.3
    params = make_params(W, v, torch.float64, "cpu")
    record = train_two_layer_gd(params, X, y, Xt, act, lr1, lr2, steps=[0, 1, 3, 5], progress=False)

    ref = make_params(W, v, torch.float64, "cpu")
    losses, outs = {}, {}
    for t in range(6):
        Wa, va = ref.W.clone().requires_grad_(), ref.v.clone().requires_grad_()
        loss = _autograd_loss(Wa, va, X, y, act)
        loss.backward()
        losses[t] = float(loss.detach())
        outs[t] = two_layer_output(ref, Xt, act).numpy()
        ref.W -= lr1 * Wa.grad
        ref.v -= lr2 * va.grad
    np.testing.assert_array_equal(record.steps, [0, 1, 3, 5])
    np.testing.assert_allclose(record.train_loss, [losses[t] for t in (0, 1, 3, 5)], rtol=1e-12)
    np.testing.assert_allclose(record.test_outputs, np.stack([outs[t] for t in (0, 1, 3, 5)]), atol=1e-13)
    np.testing.assert_allclose(record.test_outputs[0], 0.0, atol=1e-14)
    # The params were trained in place up to the last logged step.
    np.testing.assert_allclose(two_layer_output(params, Xt, act).numpy(), outs[5], atol=1e-13)


def test_first_layer_only_keeps_v_fixed(rng):
    act = get_activation("erf")
    W, v = symmetric_init(8, 3, rng)
    params = make_params(W, v, torch.float64, "cpu")
    X, y = torch.as_tensor(rng.standard_normal((10, 3))), torch.ones(10, dtype=torch.float64)
    train_two_layer_gd(params, X, y, X, act, 1.0, 0.0, steps=[0, 4], progress=False)
    np.testing.assert_array_equal(params.v.numpy(), v)
    assert not np.allclose(params.W.numpy(), W)


def test_divergence_is_reported(rng):
    act = get_activation("relu")
    W, v = symmetric_init(8, 3, rng)
    params = make_params(W, v, torch.float64, "cpu")
    X, y = torch.as_tensor(10 * rng.standard_normal((10, 3))), torch.ones(10, dtype=torch.float64)
    with pytest.raises(FloatingPointError, match="learning rate"):
        train_two_layer_gd(params, X, y, X, act, 1e6, 1e6, steps=[0, 10, 100], progress=False)


@pytest.mark.parametrize("first, second", [(True, False), (False, True)])
def test_gradient_of_a_frozen_layer_is_skipped(rng, first, second):
    """A layer with lr 0 gets no gradient (None); the other's equals the full computation."""
    act = get_activation("softplus")
    W, v = symmetric_init(12, 5, rng)
    params = make_params(W + 0.2 * rng.standard_normal(W.shape), v, torch.float64, "cpu")
    X, y = torch.as_tensor(rng.standard_normal((17, 5))), torch.as_tensor(rng.standard_normal(17))
    loss, gW, gv = two_layer_loss_and_gradients(params, X, y, act, chunk_rows=4)
    loss_s, gW_s, gv_s = two_layer_loss_and_gradients(params, X, y, act, chunk_rows=4, first=first, second=second)
    torch.testing.assert_close(loss_s, loss, rtol=0, atol=0)
    assert (gW_s is None) != first and (gv_s is None) != second
    kept, full = (gW_s, gW) if first else (gv_s, gv)
    torch.testing.assert_close(kept, full, rtol=0, atol=0)


def _reference_loss_and_gradients(W, v, X, y, act):
    """The textbook formulas (eq. 1-4), unchunked, with phi and phi' evaluated separately:
    r = f(X) - y, dL/dv = phi(Z)^T r / (n sqrt(m)), dL/dW = diag(v) phi'(Z)^T (r X) / (n sqrt(m d))."""
    m, d = W.shape
    n = X.shape[0]
    Z = X @ W.T / math.sqrt(d)
    A, D = act.value(Z), act.derivative(Z)
    r = A @ v / math.sqrt(m) - y
    grad_v = A.T @ r / (n * math.sqrt(m))
    grad_W = v[:, None] * (D.T @ (r[:, None] * X)) / (n * math.sqrt(m * d))
    return (r @ r) / (2 * n), grad_W, grad_v


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
@pytest.mark.parametrize("first, second", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("chunk_rows", [None, 7])
def test_fused_step_equals_reference_formula(rng, name, first, second, chunk_rows):
    """The fused, chunked step equals the plain formula to float64 rounding, for every
    activation and when one layer's gradient is skipped."""
    act = get_activation(name, 0.2)
    W, v = symmetric_init(40, 9, rng)
    W = W + 0.5 * rng.standard_normal(W.shape)
    v = v + 0.5 * rng.standard_normal(v.shape)
    params = make_params(W, v, torch.float64, "cpu")
    X = torch.as_tensor(2.0 * rng.standard_normal((61, 9)))
    y = torch.as_tensor(rng.standard_normal(61))
    W_before, v_before = params.W.clone(), params.v.clone()
    loss, gW, gv = two_layer_loss_and_gradients(params, X, y, act, chunk_rows=chunk_rows, first=first, second=second)
    ref_loss, ref_gW, ref_gv = _reference_loss_and_gradients(params.W, params.v, X, y, act)
    assert torch.equal(params.W, W_before) and torch.equal(params.v, v_before)
    torch.testing.assert_close(loss, ref_loss, rtol=1e-12, atol=1e-14)
    assert (gW is None) != first and (gv is None) != second
    if first:
        assert gW.shape == params.W.shape and gW.is_contiguous()
        torch.testing.assert_close(gW, ref_gW, rtol=1e-12, atol=1e-14)
    if second:
        torch.testing.assert_close(gv, ref_gv, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_float32_step_close_to_float64(rng, name):
    """The float32 step (the fast path of Figure 1) agrees with float64 to float32 rounding."""
    act = get_activation(name, 0.2)
    W, v = symmetric_init(64, 10, rng)
    W = W + 0.3 * rng.standard_normal(W.shape)
    X, y = rng.standard_normal((300, 10)), rng.standard_normal(300)
    out = []
    for dt in (torch.float32, torch.float64):
        p = make_params(W, v, dt, "cpu")
        out.append(
            two_layer_loss_and_gradients(
                p, torch.as_tensor(X, dtype=dt), torch.as_tensor(y, dtype=dt), act, chunk_rows=64
            )
        )
    for a, b in zip(*out):
        assert a.dtype == torch.float32
        torch.testing.assert_close(a.double(), b, rtol=1e-5, atol=1e-6)
