"""What a training job will cost on this machine, measured before it runs, so that a CPU is
not handed a job of days by surprise: the one cost probe and the one CPU guard of every
training job.

The probe times the job's own work on this machine, not an assumed FLOP rate (a CPU's rate
ranges over more than 10x between laptops and servers, and a network the user brings has no
FLOP count to go by):

* an SGD step of the network and of its linearised network (with learning rate 0, on real
  training inputs): on k rows, k doubled from 1 until a step takes ``_PROBE_SECONDS`` or k
  reaches the batch size, then scaled to the batch by k (a step's cost grows linearly in its
  rows once they fill the machine, the case where the estimate matters);
* a logged step: one evaluation of every training and test input by each network model,
  timed the same way on the evaluation's rows and scaled to all inputs (the outputs at
  initialisation are one more such evaluation);
* before training: the empirical NTK of the kernel fit at two subset sizes (time = a n + b n^2:
  the per-example gradients, then the n x n products), extrapolated to the job's subset and
  initialisations and to the kernel-movement measurements; the CNN's exact kernel on a block
  of pairs, extrapolated to every (training or test, training) pair.

The linear model's and the kernel model's steps (products of the batch with a p-vector or n
kernel columns) are left out: next to a network's step they cost little.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ..core.errors import ExplainedError
from ..core.losses import HeavyBall, loss_values
from ..kernels.empirical import empirical_ntk
from ..kernels.exact import exact_kernel_matrix
from .linearised import LinearisedNetwork

Tensor = torch.Tensor

_PROBE_SECONDS = 0.25
_NTK_POINTS = 16


class CostLimitExceeded(ExplainedError, RuntimeError):
    """A training job would take longer on this CPU than its config key max_cpu_hours allows."""


def format_hours(hours: float) -> str:
    """A duration for people: '3.2 h', '14 min' or '40 s'."""
    if hours >= 1.0:
        return f"{hours:.1f} h"
    if hours >= 1 / 60:
        return f"{hours * 60:.0f} min"
    return f"{hours * 3600:.0f} s"


@dataclass(frozen=True)
class CostEstimate:
    """Seconds of one training job, by part (extrapolated from the probe)."""

    step: dict[str, float]  # one SGD step of each network model
    max_step: int
    logging: float  # one logged step: every model's outputs on every input
    logged_steps: int
    setup: dict[str, float] = field(default_factory=dict)  # before and beside training

    @property
    def seconds(self) -> float:
        return self.max_step * sum(self.step.values()) + self.logged_steps * self.logging + sum(self.setup.values())

    @property
    def hours(self) -> float:
        return self.seconds / 3600.0

    def line(self) -> str:
        steps = ", ".join(f"{name} step {seconds:.3g} s" for name, seconds in self.step.items())
        setup = "".join(f"; {name.replace('_', ' ')} {seconds:.3g} s" for name, seconds in self.setup.items())
        return f"{steps}, {self.max_step} steps; {self.logging:.3g} s per logged step x {self.logged_steps}{setup}"


def _best_of(function: Callable[[], object], repeats: int = 2) -> float:
    function()  # warm-up: allocations, kernels, lazy initialisation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def scaled_time(work: Callable[[int], object], rows: int, device: torch.device) -> float:
    """Seconds of ``work(rows)``, timed on k rows (k doubled from 1 until one call takes
    ``_PROBE_SECONDS`` or k reaches ``rows``) and scaled by rows / k."""

    def timed(k: int) -> float:
        def call() -> None:
            work(k)
            if device.type == "cuda":
                torch.cuda.synchronize(device)

        return _best_of(call)

    k = 1
    seconds = timed(k)
    while seconds < _PROBE_SECONDS and k < rows:
        k = min(2 * k, rows)
        seconds = timed(k)
    return seconds * rows / k


def ntk_seconds_model(times: dict[int, float]) -> tuple[float, float]:
    """(a, b) of time(n) = a n + b n^2 through two measured sizes (each coefficient >= 0)."""
    (n1, t1), (n2, t2) = sorted(times.items())
    b = max((t2 / n2 - t1 / n1) / (n2 - n1), 0.0)
    a = max(t1 / n1 - b * n1, 0.0)
    return a, b


@dataclass
class ProbeInputs:
    """What the probe runs on: the network in the job's dtype on its device, the training and
    test inputs there, the labels, and a float64 CPU copy of the network for the NTK."""

    network: torch.nn.Module
    X_train: Tensor
    X_test: Tensor
    y_train: Tensor
    network64: torch.nn.Module | None = None


def estimate_cost(job, probe: ProbeInputs, eval_rows: int, image_shape) -> CostEstimate:
    """Probe ``job`` (a ``job.TrainingJob``) on this machine (see the module docstring)."""
    device = probe.X_train.device
    X, y = probe.X_train, probe.y_train
    params = [p for p in probe.network.parameters() if p.requires_grad]
    optimiser = HeavyBall(job.momentum)

    def network_step(k: int) -> None:
        value = torch.mean(loss_values(probe.network(X[:k]), y[:k], job.loss))
        optimiser.step(params, list(torch.autograd.grad(value, params)), 0.0)

    batch = min(job.batch_size, len(X))
    step = {"network": scaled_time(network_step, batch, device)}
    rows = min(eval_rows, len(X))

    def forward(k: int) -> None:
        with torch.no_grad():
            probe.network(X[:k])

    per_input = scaled_time(forward, rows, device) / rows
    all_inputs = len(X) + len(probe.X_test)
    logging = per_input * all_inputs
    if job.linearise:
        linearised = LinearisedNetwork(probe.network, job.loss, job.momentum, job.outputs)
        step["linearised"] = scaled_time(lambda k: linearised.sgd_step(X[:k], y[:k], 0.0), batch, device)
        logging += scaled_time(lambda k: linearised.outputs(X[:k]), rows, device) / rows * all_inputs
    setup = {"initial outputs": per_input * all_inputs, **_setup_seconds(job, probe, image_shape)}
    return CostEstimate(step, job.max_step, logging, len(job.logged_steps), {k: v for k, v in setup.items() if v})


def _setup_seconds(job, probe: ProbeInputs, image_shape) -> dict[str, float]:
    """The kernel fit, the kernel movement and the CNN's exact kernel (see the module docstring)."""
    setup: dict[str, float] = {}
    if job.fits_kernel or job.movement_steps:
        points = job.linear.get("points", _NTK_POINTS) if job.fits_kernel else job.movement["points"]
        sizes = sorted({max(2, min(_NTK_POINTS, points) // 2), min(2 * _NTK_POINTS, points)})
        if len(sizes) == 1:
            sizes = [max(sizes[0] // 2, 1), sizes[0]]
        X64 = probe.X_train[: sizes[-1]].to("cpu", torch.float64)
        a, b = ntk_seconds_model(
            {n: _best_of(lambda n=n: empirical_ntk(probe.network64, X64[:n], outputs=job.outputs), 1) for n in sizes}
        )
        if job.fits_kernel:
            setup["kernel_fit"] = job.linear["initialisations"] * (a * points + b * points**2)
        if job.movement_steps:
            count = len([s for s in job.movement_steps if s > 0]) + 1
            n = job.movement["points"]
            setup["movement"] = count * (a * n + b * n**2)
    if job.exact_kernel is not None and job.exact_kernel["kind"] == "cnn":
        block = probe.X_train[: 2 * _NTK_POINTS].to("cpu", torch.float64).reshape(-1, int(np.prod(image_shape))).numpy()
        half = max(1, len(block) // 2)
        seconds = _best_of(lambda: exact_kernel_matrix(job.exact_kernel, block[:half], block, image_shape), 1)
        pairs = len(probe.X_train) * (len(probe.X_train) + len(probe.X_test))
        setup["exact_kernel"] = seconds / (half * len(block)) * pairs
    return setup


def cost_limit_message(job, estimate: CostEstimate, limit: float, rule: str) -> str:
    """Why a job is refused and what the user can do instead."""
    section = job.key("max_cpu_hours").split(".")[0]
    smaller = [job.key("max_step"), f"{job.network.key}.kwargs"]
    if job.sweep:
        smaller.insert(0, f"{job.key('width')} (drop {job.sweep['argument']} = {job.sweep['value']})")
    if job.linearise:
        smaller.append(job.key("linearise"))
    return (
        f"{rule} {job.network.name} on {job.dataset} (seed {job.seed}) would take about "
        f"{format_hours(estimate.hours)} on this CPU ({estimate.line()}), more than config key "
        f"{job.key('max_cpu_hours')} = {limit:g}. Nothing was trained. Instead: look at the figure in minutes with the "
        f"preview (--configfile config/preview.yaml); run on a GPU (device: auto uses one when visible); submit to a "
        f"cluster (--workflow-profile workflow/profiles/slurm); make the job smaller ({', '.join(smaller)}); or allow "
        f"it: --config '{section}={{max_cpu_hours: {math.ceil(estimate.hours * 1.2)}}}'."
    )
