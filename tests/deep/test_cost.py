import time

import pytest
import torch

from earlylin.deep.cost import (
    JobCost,
    cnn_forward_flops,
    cost_limit_message,
    cpu_cost_report,
    fc_forward_flops,
    format_hours,
    job_cost,
    measure_flop_rate,
)
from earlylin.deep.jobs import DeepJob, DeepNetworkSpec


def _matmul_flops_by_counting(model, x):
    """FLOPs of the Linear/Conv2d products of one forward pass, counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops()


def test_fc_flops_match_torch_flop_counter():
    d, depth, width = 12, 3, 20
    layers, fan_in = [], d
    for _ in range(depth):
        layers += [torch.nn.Linear(fan_in, width, bias=False), torch.nn.Tanh()]
        fan_in = width
    model = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1, bias=False))
    assert fc_forward_flops(d, depth, width) == _matmul_flops_by_counting(model, torch.zeros(1, d))


def test_cnn_flops_match_torch_flop_counter():
    c0, h, w, depth, channels, q = 3, 6, 5, 2, 4, 3
    layers, c_in = [], c0
    for _ in range(depth):
        layers += [torch.nn.Conv2d(c_in, channels, q, padding=1, padding_mode="circular", bias=False), torch.nn.Tanh()]
        c_in = channels
    model = torch.nn.Sequential(*layers, torch.nn.Flatten(), torch.nn.Linear(channels * h * w, 1, bias=False))
    expected = _matmul_flops_by_counting(model, torch.zeros(1, c0, h, w))
    assert cnn_forward_flops((c0, h, w), depth, channels, q) == expected


def _job(arch, width, image_shape=(3, 8, 8), n_train=10_000, n_test=2000, batch_size=500, max_step=10_000, depth=4):
    return DeepJob(
        dataset="cifar10_8x8",
        source="cifar10",
        image_shape=image_shape,
        n_train=n_train,
        n_test=n_test,
        network=DeepNetworkSpec(arch, depth, width, "erf", 3),
        lr=1.0,
        fc_depth=depth,
        cnn_depth=depth if arch == "cnn" else None,
        batch_size=batch_size,
        max_step=max_step,
        steps_per_decade=12,
        dtype="float32",
        allow_tf32=False,
    )


PAPER_CNN = _job("cnn", 256)


def test_job_cost_counts_three_forward_passes_per_step_and_one_per_logged_image():
    per_example = cnn_forward_flops((3, 8, 8), 4, 256, 3)
    cost = job_cost(PAPER_CNN, n_logged=50)
    assert cost.sgd == 3 * 500 * 10_000 * per_example
    assert cost.logging == 50 * 12_000 * per_example and cost.initial == 12_000 * per_example
    assert cost.total == cost.sgd + cost.logging + cost.initial
    assert JobCost(3.6e12, 0.0, 0.0).hours(1e9) == 1.0


@pytest.mark.parametrize("arch, width", [("fc", 64), ("cnn", 8)])
def test_measured_rate_is_the_rate_of_the_probe_s_own_work(arch, width):
    """The probe reports FLOPs per second of a layer's forward and backward pass: timing
    the same work independently gives the same rate (within the noise of a shared machine)."""
    from earlylin.activations import get_activation
    from earlylin.deep.networks import ActivationLayer, NTKConv2d, NTKLinear

    job = _job(arch, width, image_shape=(1, 7, 7), n_train=100, n_test=50, batch_size=64, max_step=10, depth=2)
    rate = measure_flop_rate(job)
    generator = torch.Generator().manual_seed(0)
    if arch == "fc":
        layer, x, per_row = NTKLinear(width, width, generator, torch.float32), torch.randn(64, width), 2 * width**2
    else:
        layer = NTKConv2d(width, width, 3, generator, torch.float32)
        x, per_row = torch.randn(64, width, 7, 7), 2 * 49 * 9 * width**2
    block = torch.nn.Sequential(layer, ActivationLayer(get_activation("erf")))
    x.requires_grad_(True)
    torch.autograd.grad(block(x).sum(), [x, layer.weight])
    start = time.perf_counter()
    for _ in range(20):
        torch.autograd.grad(block(x).sum(), [x, layer.weight])
    independent = 3 * per_row * 64 * 20 / (time.perf_counter() - start)
    assert 0.2 < rate / independent < 5


def test_cost_limit_message_names_the_estimate_the_key_and_the_routes():
    message = cost_limit_message(PAPER_CNN, hours=37.4, rate=3.4e10, limit=12)
    for part in (
        "cnn on cifar10_8x8",
        "37.4 h",
        "34 GFLOP/s",
        "deep.max_cpu_hours = 12",
        "preview",
        "--configfile config/preview.yaml",
        "GPU",
        "--workflow-profile workflow/profiles/slurm",
        "--config 'deep={max_cpu_hours: 45}'",
    ):
        assert part in message, part


def test_start_of_run_report_marks_the_jobs_that_will_stop():
    report = cpu_cost_report({"cnn on cifar10": (40.0, 3e10, 1), "fc on cifar10": (0.2, 2e11, 3)}, limit=12)
    assert "cnn on cifar10: ~40.0 h at 30 GFLOP/s (exceeds deep.max_cpu_hours = 12: will stop at once)" in report
    assert "fc on cifar10: ~12 min each, x3 seeds at 200 GFLOP/s (runs)" in report
    assert "about 36 min of CPU time for the jobs that run" in report


def test_durations_read_well():
    assert (format_hours(3.25), format_hours(0.25), format_hours(0.001)) == ("3.2 h", "15 min", "4 s")
