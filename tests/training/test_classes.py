"""k classes through the one engine (issue: k classes and cross-entropy): one-hot targets and
softmax cross-entropy, networks of k outputs, the k-output empirical NTK and its blocks, the
linearised network and the linear model with k heads, the exact-kernel model Theta (x) I_k;
each against an independent computation (explicit Jacobians, finite differences, autograd,
torch's own cross-entropy, k separate binary-style models). Two classes reproduce the binary
tables recorded before k classes existed, bitwise."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from engine_jobs import job, local_networks, normalised_data  # noqa: F401 (a fixture)
from small_networks import SMALL, small_inputs

from earlylin.core.losses import class_indices, loss_derivative, loss_values, mean_loss, output_count, targets
from earlylin.data.dataset import Dataset
from earlylin.experiments.network_tables import run_tables
from earlylin.kernels.empirical import empirical_ntk, output_blocks, trainable_parameters
from earlylin.networks.registry import ModelError, ModelSpec, build_model
from earlylin.training.linearised import LinearisedNetwork
from earlylin.training.predictors import KernelModelPredictor, LinearModelPredictor
from earlylin.training.run import RunOptions, run

K = 4
RNG = np.random.default_rng(0)
F = RNG.standard_normal((6, K)) * 2.0
LABELS = RNG.integers(0, K, size=6)
Y = np.eye(K)[LABELS]


def test_cross_entropy_is_torch_s_and_its_derivative_is_softmax_minus_the_target():
    reference = torch.nn.functional.cross_entropy(torch.tensor(F), torch.tensor(LABELS), reduction="none")
    assert np.allclose(loss_values(F, Y, "cross_entropy"), reference.numpy(), atol=1e-13)
    assert mean_loss(F, Y, "cross_entropy") == pytest.approx(float(reference.mean()), abs=1e-13)
    h = 1e-6
    for c in range(K):
        step = np.zeros(K)
        step[c] = h
        numeric = (loss_values(F + step, Y, "cross_entropy") - loss_values(F - step, Y, "cross_entropy")) / (2 * h)
        assert np.allclose(loss_derivative(F, Y, "cross_entropy")[:, c], numeric, atol=1e-8)
    f = torch.tensor(F, requires_grad=True)
    (grad,) = torch.autograd.grad(loss_values(f, torch.tensor(Y), "cross_entropy").sum(), f)
    assert np.allclose(loss_derivative(torch.tensor(F), torch.tensor(Y), "cross_entropy").numpy(), grad.numpy())
    # far in the tails, where exp overflows
    big = np.array([[1000.0, 0.0, -1000.0, 0.0]])
    assert loss_values(big, np.eye(K)[[2]], "cross_entropy")[0] == pytest.approx(2000.0)


def test_the_square_loss_of_k_outputs_sums_over_them_on_one_hot_targets():
    """Lee et al. 2019's square loss: l = sum_c (f_c - y_c)^2 / 2 per input, l' = f - y."""
    assert np.allclose(
        loss_values(F, Y, "mse"), [sum((F[i, c] - Y[i, c]) ** 2 / 2 for c in range(K)) for i in range(6)]
    )
    assert np.allclose(loss_derivative(F, Y, "mse"), F - Y)
    stacked = np.stack([F, 2 * F, 3 * F])  # steps x points x k
    assert np.allclose(mean_loss(stacked, Y, "mse"), [mean_loss(s, Y, "mse") for s in stacked])


def test_outputs_per_input_follow_the_classes_and_the_loss():
    assert output_count("mse", 2) == 1 and output_count("logistic", 2) == 1
    assert output_count("cross_entropy", 2) == 2
    assert output_count("mse", 10) == 10 and output_count("cross_entropy", 10) == 10
    with pytest.raises(ValueError, match="loss logistic needs two classes .* use mse or cross_entropy for k classes"):
        output_count("logistic", 10)
    with pytest.raises(ValueError, match="one output per class and one-hot targets"):
        loss_values(F[:, 0], Y[:, 0], "cross_entropy")
    with pytest.raises(ValueError, match="one output per input and"):
        loss_values(F, Y, "logistic")


def test_labels_become_class_indices_and_one_hot_targets():
    assert class_indices(np.array([1.0, -1.0, 1.0]), 2).tolist() == [0, 1, 0]  # +1 is the first class
    assert targets(np.array([1.0, -1.0]), 2, 1).tolist() == [1.0, -1.0]  # one output: the +-1 labels
    assert targets(np.array([1.0, -1.0]), 2, 2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert targets(np.array([2.0, 0.0]), 3, 3).tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="must be class indices 0..2"):
        class_indices(np.array([3.0]), 3)
    with pytest.raises(ValueError, match="must be \\+-1"):
        class_indices(np.array([0.0, 1.0]), 2)


@pytest.mark.parametrize("network", list(SMALL))
def test_the_k_output_ntk_is_the_per_output_jacobian_products(network):
    """Theta(x, x')_{cc'} = <df_c(x)/dtheta, df_c'(x')/dtheta>, J formed by torch.func.jacrev."""
    shape, kwargs = SMALL[network]
    model = build_model(ModelSpec(network, network, {**kwargs, "outputs": 3}), shape, 0, torch.float64)
    X = small_inputs(shape, n=7)
    params = trainable_parameters(model)
    jac = torch.func.jacrev(lambda p: torch.func.functional_call(model, p, (X,)))(params)
    J = torch.cat([jac[name].reshape(7, 3, -1) for name in params], dim=2)
    expected = torch.einsum("icp,jdp->icjd", J, J)
    theta = empirical_ntk(model, X, outputs=3)
    assert theta.shape == (7, 3, 7, 3)
    assert torch.allclose(theta, expected, rtol=1e-10, atol=1e-10 * float(expected.abs().max()))
    # each output's diagonal block is that output's own NTK (one output per input)
    for c in range(3):
        assert torch.allclose(theta[:, c, :, c], J[:, c] @ J[:, c].T, rtol=1e-10)


def test_output_blocks_measure_the_distance_from_theta_kron_identity():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((5, 5))
    base = A @ A.T
    kron = np.einsum("ij,cd->icjd", base, np.eye(3))
    mean, cross, spread = output_blocks(kron)
    assert np.allclose(mean, base) and cross == 0.0 and spread == pytest.approx(0.0, abs=1e-15)
    # a cross block of half the diagonal's size; diagonal blocks scaled by 1, 2, 3
    theta = np.einsum("ij,cd->icjd", base, np.full((3, 3), 0.5) + np.diag([0.5, 1.5, 2.5]))
    mean, cross, spread = output_blocks(theta)
    assert np.allclose(mean, 2.0 * base)
    diagonal = np.array([1.0, 2.0, 3.0])
    assert cross == pytest.approx(np.sqrt(0.25 / np.mean(diagonal**2)))
    assert spread == pytest.approx(np.sqrt(np.mean((diagonal - 2.0) ** 2)) / 2.0)


@pytest.mark.parametrize(("loss", "momentum"), [("cross_entropy", 0.9), ("mse", 0.0)])
def test_k_output_linearised_sgd_is_explicit_jacobian_sgd(loss, momentum):
    """f_lin = J delta with J (n, k, P) formed by autograd: the same steps written out."""
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    x = torch.randn(10, 4, dtype=torch.float64)
    y = torch.tensor(np.eye(3)[np.random.default_rng(2).integers(0, 3, 10)])
    linearised = LinearisedNetwork(net, loss, momentum, outputs=3)
    params = {name: p.detach() for name, p in net.named_parameters()}
    jac = torch.func.jacrev(lambda p: torch.func.functional_call(net, p, (x,)))(params)
    J = torch.cat([jac[name].reshape(10, 3, -1) for name in params], dim=2).numpy()
    delta, v = np.zeros(J.shape[2]), np.zeros(J.shape[2])
    rng = np.random.default_rng(5)
    for _ in range(20):
        batch = rng.choice(10, size=4, replace=False)
        linearised.sgd_step(x[torch.as_tensor(batch)], y[torch.as_tensor(batch)], 0.3)
        residual = loss_derivative(J[batch] @ delta, y.numpy()[batch], loss)  # (|B|, k)
        grad = np.einsum("bcp,bc->p", J[batch], residual) / len(batch)
        v = momentum * v + grad
        delta = delta - 0.3 * v
    assert linearised.outputs(x).shape == (10, 3)
    assert np.allclose(linearised.outputs(x).numpy(), J @ delta, atol=1e-10)


def test_the_linear_model_with_k_heads_is_k_binary_style_models_for_the_square_loss():
    """With one-hot targets and the square loss the heads do not interact: head c is the
    one-output model trained on the targets of class c, on the same batches."""
    rng = np.random.default_rng(4)
    psi = rng.standard_normal((30, 6))
    labels = rng.integers(0, 4, 30)
    heads = LinearModelPredictor(psi, psi[:7], np.eye(4)[labels], "mse", 0.9)
    singles = [LinearModelPredictor(psi, psi[:7], (labels == c).astype(float), "mse", 0.9) for c in range(4)]
    for _ in range(15):
        batch = rng.choice(30, size=8, replace=False)
        for model in (heads, *singles):
            model.step(batch, None, 0.05)
    train, test = heads.outputs()
    assert train.shape == (30, 4) and test.shape == (7, 4)
    for c, single in enumerate(singles):
        assert np.allclose(train[:, c], single.outputs()[0], atol=1e-13)
        assert np.allclose(test[:, c], single.outputs()[1], atol=1e-13)


def test_the_kernel_model_of_k_outputs_is_the_feature_model_with_k_heads():
    """K (x) I_k in function space = k heads on features psi with K = psi psi^T (cross-entropy
    couples the heads, so this checks the shared residual, not independence)."""
    rng = np.random.default_rng(6)
    psi = rng.standard_normal((25, 5))
    y = np.eye(3)[rng.integers(0, 3, 25)]
    kernel = KernelModelPredictor(psi @ psi.T, psi[:6] @ psi.T, y, "cross_entropy", 0.9)
    linear = LinearModelPredictor(psi, psi[:6], y, "cross_entropy", 0.9)
    for _ in range(12):
        batch = rng.choice(25, size=5, replace=False)
        kernel.step(batch, None, 0.1)
        linear.step(batch, None, 0.1)
    for mine, theirs in zip(kernel.outputs(), linear.outputs()):
        assert mine.shape[1] == 3
        assert np.allclose(mine, theirs, atol=1e-10)


def _three_class_data() -> Dataset:
    data = normalised_data(d=12, n=48, n_test=15)
    rng = np.random.default_rng(9)
    return Dataset(
        data.X_train, rng.integers(0, 3, 48).astype(float), data.X_test, rng.integers(0, 3, 15).astype(float)
    )


def test_a_run_of_three_classes_trains_every_model_with_three_outputs():
    """The FC net with outputs: 3, softmax cross-entropy and momentum, beside its linearised
    network, the linear model of its NTK averaged over outputs, and Theta_inf (x) I_3."""
    data = _three_class_data()
    entry_kwargs = {"depth": 2, "width": 64, "outputs": 3}
    training = job(
        "fc",
        kwargs=entry_kwargs,
        loss="cross_entropy",
        momentum=0.9,
        classes=3,
        outputs=3,
        linear={"coefficients": "fit", "points": 12, "initialisations": 2},
        linearise=True,
        exact_kernel={"kind": "fc", "activation": "erf", "depth": 2},
        movement={"steps": [0, 10], "points": 6},
        dtype="float64",
    )
    result = run(training, data, RunOptions(progress=False))
    for name in ("network", "linearised", "linear", "exact_kernel"):
        outputs = result.logged.test_outputs[name]
        assert outputs.shape == (len(training.logged_steps), 15, 3)
        assert np.all(outputs[0] == 0.0)  # f_0 = 0 for every model
        assert np.all(np.isfinite(outputs))
        # the training loss falls from log 3 (uniform softmax at f = 0)
        assert result.logged.train_loss[name][0] == pytest.approx(np.log(3.0))
        assert result.logged.train_loss[name][-1] < np.log(3.0)
    setup = result.setup
    assert setup.cross_output is not None and 0.0 <= setup.cross_output < 1.0
    assert setup.output_spread is not None and setup.output_spread >= 0.0
    assert 0.0 <= result.logged.movement[10] < 1.0
    tables = run_tables(result, data)
    assert set(tables["outputs"]["output_index"]) == {0, 1, 2}


def test_a_module_of_one_output_is_refused_for_ten_classes_before_any_compute():
    data = Dataset(
        np.random.default_rng(0).standard_normal((20, 12)),
        np.arange(20) % 10 * 1.0,
        np.random.default_rng(1).standard_normal((10, 12)),
        np.arange(10) * 1.0,
    )
    training = job("fc", kwargs={"depth": 2, "width": 16}, loss="cross_entropy", classes=10, outputs=10)
    with pytest.raises(ModelError) as error:
        run(training, data, RunOptions(progress=False, max_cpu_hours=1.0))
    message = str(error.value)
    assert "outputs of shape (20,)" not in message  # the check runs on the first rows only
    assert "data set 'tiny' has 10 classes and loss cross_entropy trains one output per class" in message
    assert "needs 10 outputs per input" in message and "outputs: 10" in message and "test.fc" in message


def test_a_module_of_two_outputs_is_refused_for_two_classes_and_the_square_loss(local_networks):  # noqa: F811
    """Two classes with a loss of +-1 labels train one output: the message says why."""
    name = local_networks("two", lambda input_shape, generator: torch.nn.Linear(12, 2))
    training = job("fc", network=name, kwargs={}, linear={"coefficients": "fit", "points": 12, "initialisations": 2})
    with pytest.raises(ModelError) as error:
        run(training, normalised_data(d=12), RunOptions(progress=False))
    assert "returns outputs of shape (16, 2) for a batch of 16 inputs, not one output per input" in str(error.value)
    assert "(data set 'tiny' has two classes (labels +-1) and loss mse trains one output)" in str(error.value)


def test_two_classes_reproduce_the_binary_tables_recorded_before_k_classes_bitwise():
    """The tables of two small binary runs (square loss; logistic loss with momentum), with every
    model, the kernel fit and the movement, hashed: the digests recorded at the last commit
    before k classes (timing columns left out). Recorded with the pinned torch and numpy; with
    others the float rounding may differ."""
    recorded = json.loads((Path(__file__).parent / "binary_tables.json").read_text())
    if (torch.__version__.split("+")[0], np.__version__) != (recorded["torch"], recorded["numpy"]):
        pytest.skip(f"digests recorded with torch {recorded['torch']} and numpy {recorded['numpy']}")
    data = normalised_data(d=12)
    digests = {}
    for name, change in {
        "mse_plain": dict(loss="mse", momentum=0.0),
        "logistic_momentum": dict(loss="logistic", momentum=0.9),
    }.items():
        training = job(
            "fc",
            linear={"coefficients": "fit", "points": 12, "initialisations": 2},
            linearise=True,
            exact_kernel={"kind": "fc", "activation": "erf", "depth": 2},
            movement={"steps": [0, 3, 10], "points": 8},
            dtype="float64",
            **change,
        )
        for table, frame in run_tables(run(training, data, RunOptions(progress=False)), data).items():
            frame = frame[[c for c in frame.columns if not c.startswith("seconds_")]]
            digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).values.tobytes())
            digest.update(",".join(frame.columns).encode())
            digests[f"{name}.{table}"] = digest.hexdigest()[:16]
    assert digests == recorded["digests"]
