"""What a deep-network training job (Figures 3 and 4) costs on this machine, measured
before it runs, so that a CPU is not handed a job of days by surprise.

FLOPs count multiply-adds as 2 and only the matrix products and convolutions (the
activations are cheap next to them). One SGD step costs about three forward passes of the
batch: the forward pass and the backward pass (two products per layer); this is the
step's floor, which ``benchmarks/bench_deep.py`` compares the measured step with. The
outputs at initialisation are computed once (one forward pass of every train and test
image), and each logged step evaluates every train and test image once.

The rate comes from a short probe of the job's own dominant layer on this machine (the
FC net's hidden GEMM, or one convolution of the CNN's hidden layers, with the activation,
forward and backward, at the batch size and dtype of the job), not from an assumed
number: a CPU's rate for these shapes ranges over more than 10x between laptops and
servers, convolutions may beat the GEMM rate (oneDNN uses Winograd for 3x3 filters), and
small layers lose time to the activation and to memory traffic.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from ..activations import get_activation
from ..devices import resolve_device, resolve_dtype
from .jobs import DeepJob
from .networks import ActivationLayer, NTKConv2d, NTKLinear

# Seconds one probe measures (after a warm-up call), and the forward FLOPs one call may reach.
_PROBE_SECONDS = 0.3
_PROBE_FLOPS = 2e10


def fc_forward_flops(input_dim: int, depth: int, width: int) -> float:
    """FLOPs of one example through the FC net: d -> width (x depth) -> 1."""
    return 2.0 * (input_dim * width + (depth - 1) * width * width + width)


def cnn_forward_flops(image_shape: Sequence[int], depth: int, channels: int, filter_size: int) -> float:
    """FLOPs of one example through the CNN: q x q convolutions keep H x W (circular padding),
    then a flatten readout of C H W inputs."""
    c0, height, width = image_shape
    positions = height * width
    conv = positions * filter_size**2 * (c0 * channels + (depth - 1) * channels * channels)
    return 2.0 * (conv + channels * positions)


def forward_flops(job: DeepJob) -> float:
    """FLOPs of one example through the job's network."""
    if job.arch == "fc":
        return fc_forward_flops(job.input_dim, job.depth, job.width)
    return cnn_forward_flops(job.image_shape, job.depth, job.width, job.filter_size)


@dataclass(frozen=True)
class JobCost:
    """FLOPs of one training job: SGD steps at their floor, logging, outputs at init."""

    sgd: float
    logging: float
    initial: float

    @property
    def total(self) -> float:
        return self.sgd + self.logging + self.initial

    def hours(self, flops_per_second: float) -> float:
        return self.total / flops_per_second / 3600


def job_cost(job: DeepJob, n_logged: int) -> JobCost:
    """FLOPs of ``job`` with ``n_logged`` logged steps (see the module docstring)."""
    per_example = forward_flops(job)
    images = job.n_train + job.n_test
    return JobCost(
        sgd=3.0 * per_example * job.batch_size * job.max_step,
        logging=per_example * images * n_logged,
        initial=per_example * images,
    )


def measure_flop_rate(job: DeepJob, device: str = "cpu") -> float:
    """FLOP/s of the job's dominant layer trained as in a step, on this machine in the current
    torch threads: forward and backward (to its weights and its input) of the FC net's
    width x width layer, or of one of the CNN's channels -> channels q x q circular
    convolutions, with the job's activation, at the job's batch size and dtype (fewer rows for large layers,
    so that one forward pass stays under ``_PROBE_FLOPS``). About half a second."""
    dt, dev = resolve_dtype(job.dtype), resolve_device(device)
    generator = torch.Generator().manual_seed(0)
    if job.arch == "fc":
        layer = NTKLinear(job.width, job.width, generator, dt)
        per_row = 2.0 * job.width * job.width
        shape: tuple[int, ...] = (job.width,)
    else:
        layer = NTKConv2d(job.width, job.width, job.filter_size, generator, dt)
        per_row = 2.0 * job.image_shape[1] * job.image_shape[2] * job.filter_size**2 * job.width**2
        shape = (job.width, job.image_shape[1], job.image_shape[2])
    block = torch.nn.Sequential(layer, ActivationLayer(get_activation(job.network.activation))).to(dev)
    rows = int(min(job.batch_size, max(1, _PROBE_FLOPS // per_row)))
    x = torch.randn((rows, *shape), generator=generator, dtype=dt).to(dev).requires_grad_(True)

    def step() -> None:
        torch.autograd.grad(block(x).sum(), [x, layer.weight])

    step()  # warm-up: kernel selection, allocation
    fastest, start = math.inf, time.perf_counter()
    while fastest == math.inf or time.perf_counter() - start < _PROBE_SECONDS:
        begin = time.perf_counter()
        step()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        fastest = min(fastest, time.perf_counter() - begin)
    return 3.0 * per_row * rows / fastest  # the fastest call: other processes only slow calls down


class CostLimitExceeded(RuntimeError):
    """A deep training job would take longer on this CPU than ``deep.max_cpu_hours`` allows."""


def format_hours(hours: float) -> str:
    """A duration for people: '3.2 h', '14 min' or '40 s'."""
    if hours >= 1.0:
        return f"{hours:.1f} h"
    if hours >= 1 / 60:
        return f"{hours * 60:.0f} min"
    return f"{hours * 3600:.0f} s"


def cost_limit_message(job: DeepJob, hours: float, rate: float, limit: float) -> str:
    """Why a job is refused and what the user can do instead."""
    return (
        f"train_deep {job.arch} on {job.dataset} would take about {format_hours(hours)} on this CPU "
        f"({job_cost_line(job, rate)}), more than config key deep.max_cpu_hours = {limit:g}. "
        f"Nothing was trained. Instead: look at Figures 3/4 in minutes with the preview "
        f"(--configfile config/preview.yaml); run on a GPU (device: auto uses one when visible); "
        f"submit to a cluster (--workflow-profile workflow/profiles/slurm); or allow it: "
        f"--config 'deep={{max_cpu_hours: {math.ceil(hours * 1.2)}}}'."
    )


def job_cost_line(job: DeepJob, rate: float) -> str:
    return (
        f"{job.max_step} SGD steps of batch {job.batch_size}, {job.arch} width {job.width}, "
        f"images {'x'.join(map(str, job.image_shape))}; measured {rate / 1e9:.0f} GFLOP/s"
    )


def cpu_cost_report(estimates: Mapping[str, tuple[float, float, int]], limit: float) -> str:
    """Start-of-run table: per (data set, architecture), (hours of one job, rate, number of
    jobs) on this CPU, and whether a job exceeds ``limit`` hours (those stop at once;
    everything else still runs)."""
    lines, total = [], 0.0
    for name, (hours, rate, count) in sorted(estimates.items()):
        each = f" each, x{count} seeds" if count > 1 else ""
        if hours > limit:
            verdict = f"exceeds deep.max_cpu_hours = {limit:g}: will stop at once"
        else:
            verdict, total = "runs", total + hours * count
        lines.append(f"    {name}: ~{format_hours(hours)}{each} at {rate / 1e9:.0f} GFLOP/s ({verdict})")
    return (
        "Deep-network training (Figures 3/4) runs on the CPU here; estimated from a probe of each "
        "network's largest layer on this machine:\n"
        + "\n".join(lines)
        + f"\n  about {format_hours(total)} of CPU time for the jobs that run. They start after every other job "
        f"(lower priority). For the paper's scale use a GPU (device: auto) or a cluster "
        f"(--workflow-profile workflow/profiles/slurm); for a quick look, --configfile config/preview.yaml."
    )
