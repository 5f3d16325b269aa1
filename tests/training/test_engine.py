"""The one training engine: the seeded batches, the network beside its linear model on the same
minibatches against brute-force loops, the logged steps, timings, divergence, CUDA numerics,
and checkpoints (Section 4.2, Appendix A)."""

from __future__ import annotations

import io
import os
import signal

import numpy as np
import pytest
import torch
from engine_jobs import IMAGE_SHAPE, data_for, job, local_networks, tiny_data  # noqa: F401

from earlylin.core.metrics import half_mse
from earlylin.core.seeds import rng_stream
from earlylin.kernels.recursion import fc_linear_coefficients
from earlylin.kernels.simple_kernel import linear_features
from earlylin.networks.builtin import FullyConnectedNTK
from earlylin.networks.registry import build_model
from earlylin.training import checkpoints
from earlylin.training.batches import MinibatchSchedule
from earlylin.training.checkpoints import CheckpointWarning, TrainingInterrupted
from earlylin.training.engine import DivergenceError
from earlylin.training.run import RunOptions, run

STEPS = (0, 1, 2, 3, 6, 10)


def _run(architecture: str = "fc", options: RunOptions | None = None, **changes):
    return run(job(architecture, **changes), data_for(architecture), options or RunOptions(progress=False))


def _options(**kwargs) -> RunOptions:
    return RunOptions(progress=False, **kwargs)


def _assert_same_run(a, b) -> None:
    """Bitwise equality of every logged array and of the final parameters."""
    assert a.logged.steps == b.logged.steps
    for kind in ("train_loss", "test_outputs"):
        mine, theirs = getattr(a.logged, kind), getattr(b.logged, kind)
        assert set(mine) == set(theirs)
        for name in mine:
            assert np.array_equal(mine[name], theirs[name]), (kind, name)
    assert a.logged.movement == b.logged.movement
    if a.network is not None and b.network is not None:
        for (name, p), q in zip(a.network.state_dict().items(), b.network.state_dict().values()):
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
# The network and its linear model against brute-force loops
# ---------------------------------------------------------------------------------------


def _reference_network(architecture: str, dtype=torch.float64):
    spec = job(architecture).network.spec()
    shape = IMAGE_SHAPE if architecture == "cnn" else (12,)
    return build_model(spec, shape, job(architecture).seed, dtype), shape


def test_one_network_step_is_a_manual_autograd_step():
    data = tiny_data()
    lr = 0.3
    result = _run(lr=lr, max_step=1)
    reference, _ = _reference_network("fc", torch.float32)
    batch = MinibatchSchedule(len(data.X_train), 16, job().seed).next_batch()
    x = torch.as_tensor(data.X_train[batch], dtype=torch.float32)
    y = torch.as_tensor(data.y_train[batch], dtype=torch.float32)
    params = list(reference.parameters())
    # f(x) = g(x; theta) - g(x; theta_0): g(x; theta_0) carries no gradient
    initial = reference(x).detach()
    loss = sum((reference(x[i : i + 1])[0] - initial[i] - y[i]) ** 2 for i in range(16)) / (2 * 16)
    grads = torch.autograd.grad(loss, params)
    for param, grad, trained in zip(params, grads, result.network.parameters()):
        torch.testing.assert_close(trained, param.detach() - lr * grad)


def _recomputing_reference(architecture: str, steps: tuple[int, ...]):
    """The definition, step by step: f(x) = g(x; theta) - g(x; theta_0) with g(x; theta_0)
    evaluated again at every use, in float64."""
    data = data_for(architecture)
    model, shape = _reference_network(architecture)
    initial, _ = _reference_network(architecture)
    X = torch.as_tensor(data.X_train).reshape(len(data.X_train), *shape)
    X_test = torch.as_tensor(data.X_test).reshape(len(data.X_test), *shape)
    y = torch.as_tensor(data.y_train)
    schedule = MinibatchSchedule(len(X), 16, job().seed)
    outputs, train_losses = {}, {}
    for step in range(steps[-1] + 1):
        if step in steps:
            with torch.no_grad():
                outputs[step] = (model(X_test) - initial(X_test)).numpy()
                train_losses[step] = float(0.5 * torch.mean((model(X) - initial(X) - y) ** 2))
        if step == steps[-1]:
            break
        rows = torch.from_numpy(schedule.next_batch())
        loss = 0.5 * torch.mean((model(X[rows]) - initial(X[rows]).detach() - y[rows]) ** 2)
        grads = torch.autograd.grad(loss, list(model.parameters()))
        with torch.no_grad():
            for param, grad in zip(model.parameters(), grads):
                param.sub_(grad, alpha=0.5)
    return outputs, train_losses, model


@pytest.mark.parametrize("architecture", ["fc", "cnn"])
def test_cached_initial_outputs_give_the_recomputing_trajectory_in_float64(architecture):
    """g(x; theta_0) is computed once per example and reused (no second forward pass per
    step); in float64 the trajectory equals the definition's to 1e-12, and f_0 = 0 exactly."""
    result = _run(architecture, dtype="float64", max_step=25, steps_per_decade=3)
    steps = result.logged.steps
    outputs, train_losses, reference = _recomputing_reference(architecture, steps)
    network = result.logged.test_outputs["network"]
    assert np.all(network[0] == 0.0)  # exactly, not to rounding
    data = data_for(architecture)
    assert result.logged.train_loss["network"][0] == half_mse(np.zeros(len(data.y_train)), data.y_train)
    scale = np.abs(network).max()
    assert scale > 0.1  # the networks have moved
    for k, step in enumerate(steps):
        np.testing.assert_allclose(network[k], outputs[step], rtol=0, atol=1e-12 * scale)
        assert result.logged.train_loss["network"][k] == pytest.approx(train_losses[step], rel=1e-12, abs=1e-15)
    for trained, expected in zip(result.network.parameters(), reference.parameters()):
        torch.testing.assert_close(trained, expected, rtol=1e-12, atol=1e-12)


def test_linear_model_matches_brute_force_numpy_sgd():
    data = tiny_data()
    lr, seed, batch_size = 0.5, job().seed, 16
    result = _run()
    coefficients = fc_linear_coefficients("erf", 2)
    psi_train, psi_test = linear_features(data.X_train, coefficients), linear_features(data.X_test, coefficients)
    rng = rng_stream(seed, "sgd-batches", len(data.X_train), batch_size)
    order = np.concatenate([rng.permutation(len(data.X_train)) for _ in range(3)])
    beta = np.zeros(psi_train.shape[1])
    expected = {}
    for step in range(max(STEPS) + 1):
        expected[step] = (psi_test @ beta, half_mse(psi_train @ beta, data.y_train))
        batch = order[step * batch_size : (step + 1) * batch_size]
        gradient = sum((psi_train[i] @ beta - data.y_train[i]) * psi_train[i] for i in batch) / batch_size
        beta = beta - lr * gradient
    assert result.logged.steps == STEPS
    for k, step in enumerate(STEPS):
        np.testing.assert_allclose(result.logged.test_outputs["linear"][k], expected[step][0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(result.logged.train_loss["linear"][k], expected[step][1], rtol=1e-12)


def test_timings_of_each_model_s_steps_and_of_logging_are_reported_apart():
    result = _run(linearise=True)
    counts = result.counts
    assert counts["step_network"] == counts["step_linearised"] == counts["step_linear"] == max(STEPS)
    assert counts["logging"] == len(STEPS) and counts["initial_outputs"] == 1
    assert result.per_step("step_network") > 0 and result.per_step("step_linearised") > 0


def test_divergence_names_the_model_the_step_and_the_learning_rate_s_key():
    with pytest.raises(
        DivergenceError, match=r"at step \d+: the learning rate 1e\+08 is too large; lower it .*test.lr"
    ):
        _run(lr=1e8)


def test_cuda_numerics_while_training_and_restored_after(local_networks):  # noqa: F811
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

    name = local_networks(
        "flags", lambda input_shape, generator: FlagRecorder(12, 1, 8, "erf", generator, torch.float64)
    )
    before = tuple(getattr(owner, name) for owner, name in flags)
    try:
        for allow in (False, True):
            for owner, flag in flags:
                setattr(owner, flag, not allow)
            run(job("fc", network=name, kwargs={}, allow_tf32=allow, max_step=2), tiny_data(), _options())
            training = seen[-3:]  # the last forward passes: logging at step 2
            assert set(training) == {(allow, allow, True)}
            assert tuple(getattr(owner, flag) for owner, flag in flags) == (not allow,) * 3
            seen.clear()
    finally:
        for (owner, flag), value in zip(flags, before):
            setattr(owner, flag, value)


# ---------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("architecture", ["fc", "cnn"])
def test_interrupted_then_resumed_run_equals_an_uninterrupted_run_bitwise(architecture, tmp_path):
    path = str(tmp_path / "run.pt")
    with pytest.raises(TrainingInterrupted, match="after step 6 .stop_after_step"):
        _run(architecture, _options(checkpoint_path=path, stop_after_step=6))  # mid-epoch 2 (4 batches/epoch)
    payload = torch.load(path, weights_only=True)
    assert payload["kind"] == "in_progress" and payload["step"] == 6 and payload["batches"]["position"] == 2
    assert np.isnan(payload["logged"]["test_outputs"]["network"][STEPS.index(6) :].numpy()).all()
    resumed = _run(architecture, _options(checkpoint_path=path))
    assert resumed.resumed_from_step == 6
    uninterrupted = _run(architecture)
    assert uninterrupted.resumed_from_step is None
    _assert_same_run(resumed, uninterrupted)


def test_every_model_and_the_momentum_resume_bitwise(tmp_path):
    """The linearised network, the kernel model and heavy-ball velocities are in the checkpoint."""
    from engine_jobs import normalised_data

    data = normalised_data()
    changes = dict(linearise=True, momentum=0.9, exact_kernel={"kind": "fc", "activation": "erf", "depth": 2})
    path = str(tmp_path / "run.pt")
    with pytest.raises(TrainingInterrupted):
        run(job(**changes), data, _options(checkpoint_path=path, stop_after_step=5))
    resumed = run(job(**changes), data, _options(checkpoint_path=path))
    assert resumed.resumed_from_step == 5
    assert set(resumed.logged.test_outputs) == {"network", "linearised", "linear", "exact_kernel"}
    _assert_same_run(resumed, run(job(**changes), data, _options()))


def test_a_finished_run_leaves_a_small_record_that_a_rerun_reuses(tmp_path):
    path = str(tmp_path / "run.pt")
    first = _run(options=_options(checkpoint_path=path, checkpoint_seconds=0.0))  # a checkpoint at every step
    _assert_same_run(first, _run())
    payload = torch.load(path, weights_only=True)
    assert payload["kind"] == "finished" and "models" not in payload  # no parameters kept
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]  # no temporary files left behind
    again = _run(options=_options(checkpoint_path=path))
    assert again.reused_finished and again.resumed_from_step is None and again.network is None
    _assert_same_run(again, first)
    assert again.setup.lr == first.setup.lr and again.setup.coefficients == first.setup.coefficients


def test_a_finished_record_of_other_code_is_not_reused(tmp_path, monkeypatch):
    path = str(tmp_path / "run.pt")
    _run(options=_options(checkpoint_path=path))
    monkeypatch.setattr(checkpoints, "source_digest", lambda *sources: "changed-code")
    with pytest.warns(CheckpointWarning, match="different run .code: checkpoint"):
        again = _run(options=_options(checkpoint_path=path))
    assert not again.reused_finished


def test_a_signal_saves_a_checkpoint_and_stops_at_the_next_step(tmp_path, local_networks):  # noqa: F811
    """SIGTERM (as Snakemake sends when it cancels a job) or SIGINT mid-run: the state is
    saved at the next step boundary, and the rerun continues to the uninterrupted result."""
    path = str(tmp_path / "run.pt")
    state = {"steps": 0, "armed": True}

    class SignalMidRun(FullyConnectedNTK):
        def forward(self, x):
            if torch.is_grad_enabled() and x.shape[0] == 16:  # an SGD step's forward pass
                state["steps"] += 1
                if state["armed"] and state["steps"] == 4:
                    os.kill(os.getpid(), signal.SIGTERM)
            return super().forward(x)

    name = local_networks(
        "signal", lambda input_shape, generator: SignalMidRun(12, 2, 64, "erf", generator, torch.float64)
    )

    def train(checkpoint: str):
        return run(job(network=name, kwargs={}), tiny_data(), _options(checkpoint_path=checkpoint))

    with pytest.raises(TrainingInterrupted, match="SIGTERM") as stopped:
        train(path)
    assert 0 < stopped.value.step < max(STEPS)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored
    state["armed"] = False
    resumed = train(path)
    assert resumed.resumed_from_step == stopped.value.step
    _assert_same_run(resumed, train(str(tmp_path / "uninterrupted.pt")))


def test_corrupt_checkpoint_is_reported_and_ignored(tmp_path):
    path = tmp_path / "run.pt"
    path.write_bytes(b"\x00garbage, not a checkpoint\xff" * 10)
    with pytest.warns(CheckpointWarning, match="is ignored: it cannot be read .*starts from step 0"):
        result = _run(options=_options(checkpoint_path=str(path)))
    assert result.resumed_from_step is None
    _assert_same_run(result, _run())
    assert torch.load(path, weights_only=True)["kind"] == "finished"  # replaced by this run's record


@pytest.mark.parametrize(
    "changed, expected_reason",
    [({"lr": 0.25}, "job.lr: checkpoint 0.5, run 0.25"), ({"seed": 8}, "job.seed: checkpoint 7, run 8")],
)
def test_checkpoint_of_another_run_is_reported_and_ignored(changed, expected_reason, tmp_path):
    path = str(tmp_path / "run.pt")
    with pytest.raises(TrainingInterrupted):
        _run(options=_options(checkpoint_path=path, stop_after_step=3))
    with pytest.warns(CheckpointWarning, match="different run.*" + expected_reason):
        result = _run(options=_options(checkpoint_path=path), **changed)
    assert result.resumed_from_step is None
    _assert_same_run(result, _run(**changed))


def test_settings_are_checked():
    with pytest.raises(ValueError, match="checkpoint_path"):
        RunOptions(stop_after_step=2)
    with pytest.raises(ValueError, match="learning rate must be > 0"):
        job(lr=0.0)
    with pytest.raises(ValueError, match="must be >= 1"):
        job(max_step=0)
    with pytest.raises(ValueError, match="linear model coefficients"):
        job(linear={"coefficients": "guess"})


@pytest.mark.slow
def test_wide_network_agrees_with_its_linear_model_early_in_training(monkeypatch):
    """Section 4.2: a wide erf FC net (depth 2, width 1024, d = 20) and its linear model,
    trained by SGD on the same batches, agree early on. Measured relative MSE at steps
    1, 2, 5, 10, 20, 50 with lr 0.5: 0.04-0.05 at step 1, falling to about 0.02 (the finite-d
    and finite-width gap), bound 0.08; with the linear coefficient halved (a wrong linear
    model) 0.1-0.2 over the first steps, so the bound 0.15 on the first four separates the two."""
    from dataclasses import replace

    from earlylin.core.metrics import relative_mse
    from earlylin.data.dataset import Dataset
    from earlylin.training import setup

    rng = np.random.default_rng(0)
    d, n, n_test = 20, 256, 128
    X = rng.standard_normal((n + n_test, d))
    y = np.sign(X @ rng.standard_normal(d))
    data = Dataset(X[:n], y[:n], X[n:], y[n:])
    wide = job(kwargs={"depth": 2, "width": 1024}, batch_size=32, max_step=50, steps_per_decade=3, seed=0)

    def relative(result) -> np.ndarray:
        outputs = result.logged.test_outputs
        return relative_mse(outputs["network"], outputs["linear"])[1:]

    right = relative(run(wide, data, _options()))
    assert np.all(right < 0.08)

    def halved(activation, depth):
        coefficients = fc_linear_coefficients(activation, depth)
        return replace(coefficients, linear=coefficients.linear / 2)

    monkeypatch.setattr(setup, "fc_linear_coefficients", halved)  # where the engine looks it up
    wrong = relative(run(wide, data, _options()))
    assert np.all(wrong[:4] > 0.15)
