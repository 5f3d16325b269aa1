"""What a train_model job will cost on this machine, from a probe of the job itself: a few
SGD steps of the network and of its linearised network on real minibatches, and the
empirical NTK at two subset sizes (time = a n + b n^2: the Jacobian's backward passes, then
the n x n products), extrapolated to the job's steps, kernel subset, initialisations and
kernel-movement measurements; for the CNN, its exact kernel on a block of pairs, extrapolated
to every (training or test, training) pair (the FC net's costs seconds: an interpolant). A
network the user brings has no FLOP count to go by, so the probe times the module itself;
the estimate is what ``models.max_cpu_hours`` guards.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from ..data import Dataset
from ..deep.cost import CostLimitExceeded
from ..deep.sgd_state import MinibatchSchedule
from ..devices import resolve_device, resolve_dtype
from ..losses import HeavyBall
from .exact_kernel import exact_kernel_matrix
from .jobs import ModelJob
from .linearised import LinearisedNetwork
from .ntk import empirical_ntk
from .registry import ModelSpec, build_model
from .training import input_shape, network_step

_PROBE_STEPS = 3
_PROBE_POINTS = 16


@dataclass(frozen=True)
class ModelCost:
    """Seconds of one train_model job, by part (extrapolated from the probe)."""

    network_step: float
    linearised_step: float
    kernel_fit: float
    movement: float
    max_step: int
    exact_kernel: float = 0.0

    @property
    def seconds(self) -> float:
        steps = self.max_step * (self.network_step + self.linearised_step)
        return steps + self.kernel_fit + self.movement + self.exact_kernel

    @property
    def hours(self) -> float:
        return self.seconds / 3600.0

    def line(self) -> str:
        return (
            f"network step {self.network_step:.3g} s, linearised step {self.linearised_step:.3g} s, "
            f"{self.max_step} steps; kernel fit {self.kernel_fit:.3g} s; kernel movement {self.movement:.3g} s"
            + (f"; exact kernel {self.exact_kernel:.3g} s" if self.exact_kernel else "")
        )


def _best_of(function, repeats: int) -> float:
    function()  # warm-up: allocations, kernels, lazy initialisation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def ntk_seconds_model(times: dict[int, float]) -> tuple[float, float]:
    """(a, b) of time(n) = a n + b n^2 through two measured sizes (each coefficient >= 0)."""
    (n1, t1), (n2, t2) = sorted(times.items())
    b = max((t2 / n2 - t1 / n1) / (n2 - n1), 0.0)
    a = max(t1 / n1 - b * n1, 0.0)
    return a, b


def estimate_model_cost(data: Dataset, job: ModelJob, seed: int, device: str = "cpu") -> ModelCost:
    """Probe the job's network on this machine and extrapolate (see the module docstring)."""
    spec = ModelSpec(job.name, job.network, job.kwargs, key=job.key)
    torch_device, dtype = resolve_device(device), resolve_dtype(job.dtype)
    shape = input_shape(data)
    network = build_model(spec, shape, seed, dtype).to(torch_device)
    X = torch.as_tensor(np.asarray(data.X_train), dtype=dtype, device=torch_device).reshape(len(data.X_train), *shape)
    y = torch.as_tensor(np.asarray(data.y_train), dtype=dtype, device=torch_device)
    rows = torch.as_tensor(MinibatchSchedule(len(X), job.batch_size, seed).next_batch(), device=torch_device)
    params = [p for p in network.parameters() if p.requires_grad]
    zeros = torch.zeros(len(rows), dtype=dtype, device=torch_device)
    # steps with lr 0: timed like the job's, and the network is left as it was initialised
    optimiser = HeavyBall(job.momentum)
    network_seconds = _best_of(
        lambda: network_step(network, params, X[rows], zeros, y[rows], 0.0, job.loss, optimiser), _PROBE_STEPS
    )
    linearised_step = 0.0
    if job.linearise:
        linearised = LinearisedNetwork(network, job.loss, job.momentum)
        linearised_step = _best_of(lambda: linearised.sgd_step(X[rows], y[rows], 0.0), _PROBE_STEPS)
    sizes = sorted({min(_PROBE_POINTS, job.kernel_points), min(2 * _PROBE_POINTS, job.kernel_points)})
    if len(sizes) == 1:
        sizes = [max(sizes[0] // 2, 1), sizes[0]]
    fit_network = build_model(spec, shape, seed, torch.float64)
    X64 = X[: sizes[-1]].to("cpu", torch.float64)
    a, b = ntk_seconds_model({n: _best_of(lambda n=n: empirical_ntk(fit_network, X64[:n]), 1) for n in sizes})
    # the movement's NTKs are in the job's dtype on its device: timed as float64 on the CPU (an upper bound)
    measured = len([s for s in job.movement_steps if s > 0]) + (1 if job.movement_steps else 0)
    exact_kernel = 0.0
    if job.exact_kernel is not None and job.network == "cnn":
        block = np.asarray(data.X_train[: 2 * _PROBE_POINTS])
        seconds = _best_of(
            lambda: exact_kernel_matrix(job.network, job.exact_kernel, block[:_PROBE_POINTS], block, shape), 1
        )
        pairs = len(data.X_train) * (len(data.X_train) + len(data.X_test))
        exact_kernel = seconds / (_PROBE_POINTS * len(block)) * pairs
    return ModelCost(
        exact_kernel=exact_kernel,
        network_step=network_seconds,
        linearised_step=linearised_step,
        kernel_fit=job.kernel_initialisations * (a * job.kernel_points + b * job.kernel_points**2),
        movement=measured * (a * job.movement_points + b * job.movement_points**2),
        max_step=job.max_step,
    )


def stop_if_too_costly(data: Dataset, job: ModelJob, seed: int, limit: float, rule: str, log) -> None:
    """On the CPU: probe the job (``estimate_model_cost``), log the estimate and raise
    ``CostLimitExceeded`` when it exceeds ``limit`` hours (models.max_cpu_hours, read by the
    job's script so that changing it reruns nothing)."""
    cost = estimate_model_cost(data, job, seed)
    log.info("estimated %.2g hours on this CPU (%s)", cost.hours, cost.line())
    if cost.hours > limit:
        raise CostLimitExceeded(model_cost_limit_message(job, cost, limit, rule))


def model_cost_limit_message(job: ModelJob, cost: ModelCost, limit: float, rule: str = "train_model") -> str:
    # train_data's steps are fig_data's (``data_study``); its kernel fit is models'
    steps = "fig_data.max_step" if rule == "train_data" else "models.max_step"
    return (
        f"{rule} {job.name} on {job.dataset}: estimated {cost.hours:.2g} CPU hours ({cost.line()}), above "
        f"models.max_cpu_hours = {limit:g}. Run it on a GPU (device: cuda), make the network smaller "
        f"({job.key}.kwargs), lower {steps} / models.kernel_points, set {job.key}.linearise: false, "
        "or raise models.max_cpu_hours"
    )
