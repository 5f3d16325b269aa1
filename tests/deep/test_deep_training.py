"""Minibatch SGD of the deep networks and their linear model, checkpoints, and the
Figure 3 measurements (Section 4.2, Appendix A)."""

from __future__ import annotations

import io
from dataclasses import replace
from functools import cache

import numpy as np
import pandas as pd
import pytest
import torch

from earlylin.data import Dataset, rng_stream
from earlylin.deep import checkpoints
from earlylin.deep.checkpoints import CheckpointWarning
from earlylin.deep.jobs import DeepNetworkSpec
from earlylin.deep.networks import (
    CenteredNetwork,
    ConvolutionalNTK,
    FullyConnectedNTK,
    build_deep_network,
)
from earlylin.deep.ntk_recursion import DeepLinearCoefficients, deep_linear_features, fc_linear_coefficients
from earlylin.deep.sgd_state import DeepSGDRecord, DeepSGDSettings, MinibatchSchedule, TrainingInterrupted
from earlylin.deep.tables import deep_sgd_tables, loss_part_rows
from earlylin.deep.training import run_deep_sgd, train_deep_sgd
from earlylin.metrics import half_mse, input_span_basis, vlin_loss_parts
from earlylin.tables import discrepancy_rows

STEPS = (0, 1, 2, 3, 5, 7, 10)
IMAGE_SHAPE = (2, 3, 3)


@cache
def _coefficients(depth: int) -> DeepLinearCoefficients:
    return fc_linear_coefficients("erf", depth)


def _tiny_data(d: int = 12, n: int = 64, n_test: int = 20, seed: int = 0, image_shape=None) -> Dataset:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n + n_test, d))
    y = np.where(X @ rng.standard_normal(d) >= 0, 1.0, -1.0)
    return Dataset(X[:n], y[:n], X[n:], y[n:], image_shape)


def _tiny_model(architecture: str, seed: int = 3, dtype=torch.float32) -> CenteredNetwork:
    if architecture == "fc":
        return CenteredNetwork(FullyConnectedNTK(12, depth=2, width=64, seed=seed, dtype=dtype))
    return CenteredNetwork(ConvolutionalNTK(IMAGE_SHAPE, depth=2, channels=4, filter_size=3, seed=seed, dtype=dtype))


def _settings(**kwargs) -> DeepSGDSettings:
    base = dict(lr=0.5, logged_steps=STEPS, seed=7, batch_size=16, progress=False)
    return DeepSGDSettings(**{**base, **kwargs})


def _data_for(architecture: str) -> Dataset:
    if architecture == "fc":
        return _tiny_data(d=12)
    return _tiny_data(d=int(np.prod(IMAGE_SHAPE)), image_shape=IMAGE_SHAPE)


def _train(architecture: str = "fc", **kwargs) -> tuple[DeepSGDRecord, CenteredNetwork]:
    model = _tiny_model(architecture)
    record = train_deep_sgd(model, _coefficients(2), _data_for(architecture), _settings(**kwargs))
    return record, model


def _assert_same_run(a: tuple[DeepSGDRecord, CenteredNetwork], b: tuple[DeepSGDRecord, CenteredNetwork]) -> None:
    """Bitwise equality of every logged array and of the final parameters."""
    (record_a, model_a), (record_b, model_b) = a, b
    np.testing.assert_array_equal(record_a.steps, record_b.steps)
    for name in ("network_train_loss", "linear_train_loss", "network_test_outputs", "linear_test_outputs"):
        assert np.array_equal(getattr(record_a, name), getattr(record_b, name)), name
    for (name, p), q in zip(model_a.state_dict().items(), model_b.state_dict().values()):
        assert torch.equal(p, q), name


# ---------------------------------------------------------------------------------------
# Batch order
# ---------------------------------------------------------------------------------------


def test_batch_order_is_a_fresh_seeded_permutation_per_epoch():
    n, batch_size, seed = 10, 3, 4
    schedule = MinibatchSchedule(n, batch_size, seed)
    batches = [schedule.next_batch() for _ in range(9)]  # 3 epochs of 3 batches, 1 point dropped each
    reference = rng_stream(seed, "sgd-batches", n, batch_size)
    epochs = [reference.permutation(n) for _ in range(3)]
    for epoch, permutation in enumerate(epochs):
        np.testing.assert_array_equal(np.concatenate(batches[3 * epoch : 3 * epoch + 3]), permutation[:9])
    assert not np.array_equal(epochs[0], epochs[1])
    again = MinibatchSchedule(n, batch_size, seed)
    assert all(np.array_equal(b, again.next_batch()) for b in batches)
    other = MinibatchSchedule(n, batch_size, seed + 1)
    assert not all(np.array_equal(b, other.next_batch()) for b in batches)
    with pytest.raises(ValueError, match="batch_size"):
        MinibatchSchedule(n, n + 1, seed)


def test_batch_order_state_survives_a_weights_only_round_trip():
    schedule = MinibatchSchedule(10, 3, 4)
    for _ in range(4):
        schedule.next_batch()
    buffer = io.BytesIO()
    torch.save(schedule.state_dict(), buffer)
    buffer.seek(0)
    restored = MinibatchSchedule(10, 3, 4)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    for _ in range(7):
        np.testing.assert_array_equal(restored.next_batch(), schedule.next_batch())


# ---------------------------------------------------------------------------------------
# One step of each model
# ---------------------------------------------------------------------------------------


def test_one_network_step_is_a_manual_autograd_step():
    data = _tiny_data()
    lr, seed = 0.3, 7
    reference = _tiny_model("fc")
    model = _tiny_model("fc")
    train_deep_sgd(model, _coefficients(2), data, _settings(lr=lr, logged_steps=(0, 1), seed=seed))
    batch = MinibatchSchedule(len(data.X_train), 16, seed).next_batch()
    x = torch.as_tensor(data.X_train[batch], dtype=torch.float32)
    y = torch.as_tensor(data.y_train[batch], dtype=torch.float32)
    params = list(reference.parameters())
    loss = sum((reference(x[i : i + 1])[0] - y[i]) ** 2 for i in range(16)) / (2 * 16)
    grads = torch.autograd.grad(loss, params)
    for param, grad, trained in zip(params, grads, model.parameters()):
        torch.testing.assert_close(trained, param.detach() - lr * grad)
    assert not torch.equal(model.network.readout.weight, reference.network.readout.weight)


def _recomputing_reference(architecture: str, data: Dataset, settings: DeepSGDSettings):
    """The definition, step by step: f(x) = g(x; theta) - g(x; theta_0) evaluated in full
    (``CenteredNetwork.forward`` recomputes g(x; theta_0) every time) in float64."""
    model = _tiny_model(architecture, dtype=torch.float64)
    shape = (-1, *data.image_shape) if data.image_shape else (len(data.X_train), -1)
    X = torch.as_tensor(data.X_train, dtype=torch.float64).reshape(shape)
    X_test = torch.as_tensor(data.X_test, dtype=torch.float64).reshape(
        (-1, *data.image_shape) if data.image_shape else (len(data.X_test), -1)
    )
    y = torch.as_tensor(data.y_train, dtype=torch.float64)
    schedule = MinibatchSchedule(len(data.X_train), settings.batch_size, settings.seed)
    outputs, train_losses = {}, {}
    for step in range(settings.max_step + 1):
        if step in settings.logged_steps:
            with torch.no_grad():
                outputs[step] = model(X_test).numpy()
                train_losses[step] = float(0.5 * torch.mean((model(X) - y) ** 2))
        if step == settings.max_step:
            break
        rows = torch.from_numpy(schedule.next_batch())
        loss = 0.5 * torch.mean((model(X[rows]) - y[rows]) ** 2)
        grads = torch.autograd.grad(loss, list(model.parameters()))
        with torch.no_grad():
            for param, grad in zip(model.parameters(), grads):
                param.sub_(grad, alpha=settings.lr)
    return outputs, train_losses, model


@pytest.mark.parametrize("architecture", ["fc", "cnn"])
def test_cached_initial_outputs_give_the_recomputing_trajectory_in_float64(architecture):
    """g(x; theta_0) is computed once per example and reused (issue: no second forward pass
    per step); in float64 the trajectory equals the definition's to 1e-12, and f_0 = 0 exactly."""
    data = _data_for(architecture)
    settings = _settings(dtype="float64", logged_steps=(0, 1, 3, 10, 25))
    model = _tiny_model(architecture, dtype=torch.float64)
    record = train_deep_sgd(model, _coefficients(2), data, settings)
    outputs, train_losses, reference = _recomputing_reference(architecture, data, settings)
    assert np.all(record.network_test_outputs[0] == 0.0)  # exactly, not to rounding
    assert record.network_train_loss[0] == half_mse(np.zeros(len(data.y_train)), data.y_train)
    scale = np.abs(record.network_test_outputs).max()
    assert scale > 0.1  # the networks have moved
    for k, step in enumerate(settings.logged_steps):
        np.testing.assert_allclose(record.network_test_outputs[k], outputs[step], rtol=0, atol=1e-12 * scale)
        assert record.network_train_loss[k] == pytest.approx(train_losses[step], rel=1e-12, abs=1e-15)
    for trained, expected in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(trained, expected, rtol=1e-12, atol=1e-12)


def test_linear_model_matches_brute_force_numpy_sgd():
    data = _tiny_data()
    lr, seed, batch_size = 0.5, 7, 16
    record, _ = _train(lr=lr, seed=seed)
    psi_train = deep_linear_features(data.X_train, _coefficients(2))
    psi_test = deep_linear_features(data.X_test, _coefficients(2))
    rng = rng_stream(seed, "sgd-batches", len(data.X_train), batch_size)
    order = np.concatenate([rng.permutation(len(data.X_train)) for _ in range(3)])
    beta = np.zeros(psi_train.shape[1])
    expected = {}
    for step in range(max(STEPS) + 1):
        expected[step] = (psi_test @ beta, half_mse(psi_train @ beta, data.y_train))
        batch = order[step * batch_size : (step + 1) * batch_size]
        gradient = sum((psi_train[i] @ beta - data.y_train[i]) * psi_train[i] for i in batch) / batch_size
        beta = beta - lr * gradient
    for k, step in enumerate(STEPS):
        np.testing.assert_allclose(record.linear_test_outputs[k], expected[step][0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(record.linear_train_loss[k], expected[step][1], rtol=1e-12)
    assert np.all(record.network_test_outputs[0] == 0.0)  # f_0 = 0 (CenteredNetwork)
    np.testing.assert_allclose(record.network_train_loss[0], half_mse(0.0, data.y_train))


def test_timings_of_steps_and_logging_are_reported_apart():
    record, _ = _train()
    assert record.counts == {"initial_outputs": 1, "logging": len(STEPS), "sgd": max(STEPS)}
    assert record.seconds_per_step > 0 and record.seconds_per_log > 0
    assert set(record.seconds) == {"initial_outputs", "logging", "sgd"}


def test_divergence_names_the_step_and_says_to_lower_the_lr():
    with pytest.raises(FloatingPointError, match=r"at step \d+: the learning rate 1e\+08 is too large; lower it"):
        _train(lr=1e8)


def test_cuda_numerics_while_training_and_restored_after():
    """TF32 as configured (off by default) and cuDNN autotuning on while training; the
    previous flags come back afterwards."""
    seen = []
    flags = (
        (torch.backends.cuda.matmul, "allow_tf32"),
        (torch.backends.cudnn, "allow_tf32"),
        (torch.backends.cudnn, "benchmark"),
    )

    class FlagRecorder(FullyConnectedNTK):
        def forward(self, x):
            seen.append(tuple(getattr(owner, name) for owner, name in flags))
            return super().forward(x)

    data = _tiny_data()
    before = tuple(getattr(owner, name) for owner, name in flags)
    try:
        for allow in (False, True):
            for owner, name in flags:
                setattr(owner, name, not allow)
            seen.clear()
            model = CenteredNetwork(FlagRecorder(12, depth=1, width=8, seed=0))
            train_deep_sgd(model, _coefficients(1), data, _settings(lr=0.1, logged_steps=(0, 2), allow_tf32=allow))
            assert seen and set(seen) == {(allow, allow, True)}
            assert tuple(getattr(owner, name) for owner, name in flags) == (not allow,) * 3
    finally:
        for (owner, name), value in zip(flags, before):
            setattr(owner, name, value)


# ---------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("architecture", ["fc", "cnn"])
def test_interrupted_then_resumed_run_equals_an_uninterrupted_run_bitwise(architecture, tmp_path):
    path = str(tmp_path / "run.pt")
    with pytest.raises(TrainingInterrupted, match="after step 6 .stop_after_step"):
        _train(architecture, checkpoint_path=path, stop_after_step=6)  # mid-epoch 2 (4 batches/epoch)
    payload = torch.load(path, weights_only=True)
    assert payload["kind"] == "in_progress" and payload["step"] == 6 and payload["batches"]["position"] == 2
    assert np.isnan(payload["network_test_outputs"][STEPS.index(7) :].numpy()).all()
    resumed = _train(architecture, checkpoint_path=path)
    assert resumed[0].resumed_from_step == 6
    uninterrupted = _train(architecture)
    assert uninterrupted[0].resumed_from_step is None
    _assert_same_run(resumed, uninterrupted)


def test_a_finished_run_leaves_a_small_record_that_a_rerun_reuses(tmp_path):
    path = str(tmp_path / "run.pt")
    first = _train(checkpoint_path=path, checkpoint_seconds=0.0)  # a checkpoint at every step
    _assert_same_run(first, _train())
    payload = torch.load(path, weights_only=True)
    assert payload["kind"] == "finished" and "network" not in payload  # no parameters kept
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]  # no temporary files left behind
    again, model = _train(checkpoint_path=path)
    assert again.reused_finished and again.resumed_from_step is None
    for name in ("network_train_loss", "linear_train_loss", "network_test_outputs", "linear_test_outputs"):
        assert np.array_equal(getattr(again, name), getattr(first[0], name)), name
    assert torch.equal(model.network.readout.weight, model.initial_parameters()["readout.weight"])  # not trained


def test_a_finished_record_of_other_code_is_not_reused(tmp_path, monkeypatch):
    path = str(tmp_path / "run.pt")
    _train(checkpoint_path=path)
    monkeypatch.setattr(checkpoints, "source_digest", lambda *modules: "changed-code")
    with pytest.warns(CheckpointWarning, match="different run .code: checkpoint"):
        again, _ = _train(checkpoint_path=path)
    assert not again.reused_finished


def test_a_signal_saves_a_checkpoint_and_stops_at_the_next_step(tmp_path):
    """SIGTERM (as Snakemake sends when it cancels a job) or SIGINT mid-run: the state is
    saved at the next step boundary, and the rerun continues to the uninterrupted result."""
    import os
    import signal

    path = str(tmp_path / "run.pt")

    class SignalMidRun(FullyConnectedNTK):
        calls = 0  # forward passes; the 8th is mid-run (after the initial outputs and 3 logged steps)
        armed = True

        def forward(self, x):
            SignalMidRun.calls += 1
            if SignalMidRun.armed and SignalMidRun.calls == 8:
                os.kill(os.getpid(), signal.SIGTERM)
            return super().forward(x)

    def run():
        model = CenteredNetwork(SignalMidRun(12, depth=2, width=64, seed=3))
        return train_deep_sgd(model, _coefficients(2), _tiny_data(), _settings(checkpoint_path=path)), model

    with pytest.raises(TrainingInterrupted, match="SIGTERM") as stopped:
        run()
    assert 0 < stopped.value.step < max(STEPS)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored
    SignalMidRun.armed = False
    resumed = run()
    assert resumed[0].resumed_from_step == stopped.value.step
    path = str(tmp_path / "uninterrupted.pt")
    _assert_same_run(resumed, run())


def test_corrupt_checkpoint_is_reported_and_ignored(tmp_path):
    path = tmp_path / "run.pt"
    path.write_bytes(b"\x00garbage, not a checkpoint\xff" * 10)
    with pytest.warns(CheckpointWarning, match="is ignored: it cannot be read .*starts from step 0"):
        result = _train(checkpoint_path=str(path))
    assert result[0].resumed_from_step is None
    _assert_same_run(result, _train())
    assert torch.load(path, weights_only=True)["kind"] == "finished"  # replaced by this run's record


@pytest.mark.parametrize(
    "changed, expected_reason",
    [({"lr": 0.25}, "lr: checkpoint 0.5, run 0.25"), ({"seed": 8}, "seed: checkpoint 7, run 8")],
)
def test_checkpoint_of_another_run_is_reported_and_ignored(changed, expected_reason, tmp_path):
    path = str(tmp_path / "run.pt")
    with pytest.raises(TrainingInterrupted):
        _train(checkpoint_path=path, stop_after_step=3)
    with pytest.warns(CheckpointWarning, match="different run.*" + expected_reason):
        result = _train(checkpoint_path=path, **changed)
    assert result[0].resumed_from_step is None
    _assert_same_run(result, _train(**changed))


def test_settings_are_checked():
    with pytest.raises(ValueError, match="checkpoint_path"):
        _settings(stop_after_step=2)
    with pytest.raises(ValueError, match="learning rate must be > 0"):
        _settings(lr=0.0)
    with pytest.raises(ValueError, match="logged steps"):
        _settings(logged_steps=())
    assert _settings(logged_steps=(5, 0, 5, 2)).logged_steps == (0, 2, 5)


# ---------------------------------------------------------------------------------------
# Measurements and tables (Figure 3)
# ---------------------------------------------------------------------------------------


def test_vlin_split_sums_to_the_loss_and_matches_a_least_squares_projection(rng):
    n, d = 30, 5
    X = rng.standard_normal((n, d))
    X = np.hstack([X, X[:, :1] + X[:, 1:2]])  # rank 5 with 6 columns: the basis must be rank-aware
    y = rng.standard_normal(n)
    outputs = rng.standard_normal((4, n))
    assert input_span_basis(X).shape == (n, 5)
    inside, outside = vlin_loss_parts(outputs, y, X)
    np.testing.assert_allclose(inside + outside, half_mse(outputs, y), rtol=1e-12)
    for t in range(4):
        residual = outputs[t] - y
        projection = X @ np.linalg.lstsq(X, residual, rcond=None)[0]
        assert inside[t] == pytest.approx(0.5 * np.sum(projection**2) / n, rel=1e-10)
        assert outside[t] == pytest.approx(0.5 * np.sum((residual - projection) ** 2) / n, rel=1e-10)


def test_no_vlin_split_when_d_is_at_least_n_test(rng):
    X = rng.standard_normal((6, 6))
    outputs, y = rng.standard_normal((2, 6)), rng.standard_normal(6)
    assert input_span_basis(X) is None and vlin_loss_parts(outputs, y, X) is None
    rows = loss_part_rows("fc", np.array([0, 1]), np.array([0.5, 0.4]), outputs, y, X)
    assert set(rows["part"]) == {"total"} and len(rows) == 4


def test_tables_match_brute_force_measurements(rng):
    steps = np.array([0, 1, 5])
    n_test, d = 8, 3
    X_test, y_test = rng.standard_normal((n_test, d)), rng.standard_normal(n_test)
    network = np.vstack([np.zeros(n_test), rng.standard_normal((2, n_test))])
    linear = network + 0.1 * rng.standard_normal((3, n_test))
    record = DeepSGDRecord(steps, np.array([0.5, 0.4, 0.3]), np.array([0.5, 0.45, 0.35]), network, linear)
    losses, outputs, discrepancy = deep_sgd_tables(record, y_test, X_test, "fc", "fc_linear")
    assert list(losses.columns) == ["model", "step", "split", "part", "metric", "value", "vlin_rank"]
    assert list(outputs.columns) == ["model", "step", "sample", "output"]
    assert len(losses) == 2 * 4 * 3 and len(outputs) == 2 * 3 * n_test
    # dim V_lin, measured: d for generic inputs, less when inputs are tied (a repeated column)
    assert set(losses["vlin_rank"].dropna()) == {d}
    tied = np.hstack([X_test, X_test[:, :1]])
    assert set(deep_sgd_tables(record, y_test, tied, "fc", "fc_linear")[0]["vlin_rank"].dropna()) == {d}
    for model, values, train in (
        ("fc", network, record.network_train_loss),
        ("fc_linear", linear, record.linear_train_loss),
    ):
        rows = losses[losses["model"] == model].set_index(["split", "part", "step"])["value"]
        for k, step in enumerate(steps):
            total = sum((values[k, i] - y_test[i]) ** 2 for i in range(n_test)) / (2 * n_test)
            assert rows[("test", "total", step)] == pytest.approx(total, rel=1e-12)
            assert rows[("test", "v_lin", step)] + rows[("test", "complement", step)] == pytest.approx(total, rel=1e-12)
            assert rows[("train", "total", step)] == train[k]
        wide = outputs[outputs["model"] == model].pivot(index="step", columns="sample", values="output")
        np.testing.assert_array_equal(wide.to_numpy(), values)
    relative = discrepancy[discrepancy["metric"] == "relative_mse"]["value"].to_numpy()
    assert np.isnan(relative[0])  # f_0 = 0
    for k in (1, 2):
        brute = sum((network[k, i] - linear[k, i]) ** 2 for i in range(n_test)) / sum(network[k] ** 2)
        assert relative[k] == pytest.approx(brute, rel=1e-12)
    assert set(discrepancy["model"]) == {"fc_linear"}
    pd.testing.assert_frame_equal(discrepancy, discrepancy_rows("fc_linear", steps, network, linear))


def test_same_seed_gives_identical_tables_and_a_different_seed_does_not():
    data = _tiny_data(d=18, image_shape=IMAGE_SHAPE)
    spec = DeepNetworkSpec("cnn", depth=2, width=4)
    first = run_deep_sgd(data, spec, _settings(seed=1))[1]
    second = run_deep_sgd(data, spec, _settings(seed=1))[1]
    for a, b in zip(first, second):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    other = run_deep_sgd(data, spec, _settings(seed=2))[1]
    assert not first[1]["output"].equals(other[1]["output"])
    assert set(first[0]["model"]) == {"cnn", "cnn_linear"}
    assert set(first[0]["part"]) == {"total", "v_lin", "complement"}  # d = 18 < n_test = 20


def test_build_deep_network_rejects_a_cnn_without_images_and_unknown_names():
    with pytest.raises(ValueError, match="needs image data"):
        build_deep_network(DeepNetworkSpec("cnn", depth=1, width=2), 12, None, seed=0)
    with pytest.raises(ValueError, match="allowed values: fc, cnn"):
        DeepNetworkSpec("resnet", depth=1, width=2)


@pytest.mark.slow
def test_wide_network_agrees_with_its_linear_model_early_in_training():
    """Section 4.2: a wide erf FC net (depth 2, width 1024, d = 20) and its linear model,
    trained by SGD on the same batches, agree early on. Measured relative MSE at steps
    1, 2, 5, 10, 20, 50 with lr 0.5: 0.049, 0.038, 0.025, 0.027, 0.025, 0.021 (the finite-d and
    finite-width gap), bound 0.08, while the mean squared output grows from 5e-4 to 0.31; with
    the linear coefficient halved (a wrong linear model): 0.22, 0.23, 0.23, 0.21, 0.18, 0.12,
    so the bound 0.15 on the first four separates the two."""
    rng = np.random.default_rng(0)
    d, n, n_test = 20, 256, 128
    X = rng.standard_normal((n + n_test, d))
    y = np.sign(X @ rng.standard_normal(d))
    steps = [0, 1, 2, 5, 10, 20, 50]

    def relative_mse_of(coefficients: DeepLinearCoefficients) -> np.ndarray:
        model = CenteredNetwork(FullyConnectedNTK(d, depth=2, width=1024, seed=1))
        data = Dataset(X[:n], y[:n], X[n:], y[n:])
        record = train_deep_sgd(
            model,
            coefficients,
            data,
            DeepSGDSettings(lr=0.5, logged_steps=steps, seed=0, batch_size=32, progress=False),
        )
        _, _, discrepancy = deep_sgd_tables(record, y[n:], X[n:], "fc", "fc_linear")
        return discrepancy.query("metric == 'relative_mse'")["value"].to_numpy()[1:]

    coefficients = _coefficients(2)
    assert np.all(relative_mse_of(coefficients) < 0.08)
    wrong = relative_mse_of(replace(coefficients, linear=coefficients.linear / 2))
    assert np.all(wrong[:4] > 0.15)
