"""The one cost probe and the one CPU guard of every training job (earlylin.training.cost)."""

from __future__ import annotations

import time

import pytest
import torch
from engine_jobs import data_for, job, normalised_data

from earlylin.training.cost import (
    CostEstimate,
    CostLimitExceeded,
    ProbeInputs,
    cost_limit_message,
    estimate_cost,
    format_hours,
    ntk_seconds_model,
    scaled_time,
)
from earlylin.training.run import RunOptions, as_inputs, run


def test_a_step_is_timed_on_doubling_rows_and_scaled_to_the_batch(monkeypatch):
    """work(k) costs 0.001 k seconds: the probe stops doubling once a call takes 0.05 s and
    scales that call to all rows."""
    monkeypatch.setattr("earlylin.training.cost._PROBE_SECONDS", 0.05)
    calls = []

    def work(k: int) -> None:
        calls.append(k)
        time.sleep(0.001 * k)

    seconds = scaled_time(work, 1000, torch.device("cpu"))
    assert max(calls) < 1000 and set(calls) <= {1, 2, 4, 8, 16, 32, 64, 128}
    assert seconds == pytest.approx(1.0, rel=0.5)
    calls.clear()
    small = scaled_time(work, 8, torch.device("cpu"))  # every row fits in the time: no scaling
    assert max(calls) == 8 and small == pytest.approx(0.008, rel=0.5)


def test_the_ntk_time_model_recovers_a_linear_plus_quadratic_cost():
    a, b = ntk_seconds_model({16: 16 * 0.01 + 256 * 0.001, 32: 32 * 0.01 + 1024 * 0.001})
    assert a == pytest.approx(0.01) and b == pytest.approx(0.001)
    assert ntk_seconds_model({10: 1.0, 20: 1.5}) == pytest.approx((0.1, 0.0), abs=1e-12)  # never negative


def _probe_inputs(training_job, data):
    from earlylin.networks.registry import build_model

    shape = data.input_shape
    network = build_model(training_job.network.spec(), shape, training_job.seed)
    f32 = torch.float32
    return network, ProbeInputs(
        network,
        as_inputs(data.X_train, shape, f32, torch.device("cpu")),
        as_inputs(data.X_test, shape, f32, torch.device("cpu")),
        torch.as_tensor(data.y_train, dtype=f32),
        build_model(training_job.network.spec(), shape, training_job.seed, torch.float64),
    )


def test_the_estimate_has_every_part_of_the_job_and_leaves_the_network_as_it_was():
    data = normalised_data()
    fitted = job(
        "fc",
        network="fc",
        linear={"coefficients": "fit", "points": 12, "initialisations": 3},
        linearise=True,
        movement={"steps": [0, 5, 10], "points": 8},
        exact_kernel={"kind": "fc", "activation": "erf", "depth": 2},
    )
    network, probe = _probe_inputs(fitted, data)
    before = [p.detach().clone() for p in network.parameters()]
    estimate = estimate_cost(fitted, probe, eval_rows=32, image_shape=data.input_shape)
    assert set(estimate.step) == {"network", "linearised"}
    assert set(estimate.setup) == {"initial outputs", "kernel_fit", "movement"}
    assert estimate.max_step == 10 and estimate.logged_steps == 6 and estimate.logging > 0
    assert estimate.seconds == pytest.approx(
        10 * sum(estimate.step.values()) + 6 * estimate.logging + sum(estimate.setup.values())
    )
    assert all(torch.equal(p, q) for p, q in zip(network.parameters(), before))  # lr 0
    plain = job("fc")
    assert set(estimate_cost(plain, _probe_inputs(plain, data)[1], 32, data.input_shape).step) == {"network"}


def test_the_cnn_s_exact_kernel_is_part_of_the_estimate():
    from engine_jobs import IMAGE_SHAPE

    data = normalised_data(d=18, image_shape=IMAGE_SHAPE)
    cnn = job("cnn", exact_kernel={"kind": "cnn", "activation": "erf", "depth": 2, "filter_size": 3})
    estimate = estimate_cost(cnn, _probe_inputs(cnn, data)[1], 32, IMAGE_SHAPE)
    assert estimate.setup["exact_kernel"] > 0


def test_the_limit_message_names_the_estimate_the_key_and_the_routes():
    estimate = CostEstimate({"network": 1.2, "linearised": 2.5}, 10000, 0.5, 49, {"kernel_fit": 30.0})
    message = cost_limit_message(job(linearise=True), estimate, 2.0, "train_deep")
    assert message.startswith("train_deep fc on tiny (seed 7) would take about 10.3 h on this CPU")
    for text in (
        "network step 1.2 s, linearised step 2.5 s, 10000 steps",
        "more than config key test.max_cpu_hours = 2",
        "Nothing was trained",
        "--configfile config/preview.yaml",
        "device: auto",
        "--workflow-profile workflow/profiles/slurm",
        "test.max_step, test.fc.kwargs, test.linearise",
        "--config 'test={max_cpu_hours: 13}'",
    ):
        assert text in message, text


def test_a_job_above_its_limit_stops_before_anything_is_trained_or_written(tmp_path):
    path = tmp_path / "run.pt"
    options = RunOptions(progress=False, max_cpu_hours=1e-9, checkpoint_path=str(path), rule="train_deep")
    with pytest.raises(CostLimitExceeded, match=r"train_deep fc on tiny \(seed 7\) would take about"):
        run(job(), data_for("fc"), options)
    assert not path.exists()


def test_a_job_resumed_from_its_checkpoint_is_not_refused(tmp_path):
    from earlylin.training.checkpoints import TrainingInterrupted

    path = str(tmp_path / "run.pt")
    with pytest.raises(TrainingInterrupted):
        run(job(), data_for("fc"), RunOptions(progress=False, checkpoint_path=path, stop_after_step=3))
    resumed = run(job(), data_for("fc"), RunOptions(progress=False, checkpoint_path=path, max_cpu_hours=1e-9))
    assert resumed.resumed_from_step == 3


def test_durations_read_well():
    assert format_hours(3.21) == "3.2 h"
    assert format_hours(0.25) == "15 min"
    assert format_hours(40 / 3600) == "40 s"
