"""A training job from start to end (``run``), in this order:

1. the network is built and enters through the front door (``networks.front_door.admit``)
   before anything else touches it;
2. a finished record of the same run (its checkpoint file) is reused: the tables are rebuilt
   from it in seconds;
3. on a CPU, unless an in-progress checkpoint is resumed, the cost probe estimates the job
   (``cost``) and a job above its ``max_cpu_hours`` stops at once (the one CPU guard);
4. what the models need before the first step (``Setup``): the learning rate (Figure 3's CNN
   matches its linear model to the FC net's, Section 4.2), the linear model's coefficients
   from the infinite-width recursion or fitted to the network's empirical NTK at
   initialisation, the exact kernel;
5. the models beside the network (``predictors``) train on the same minibatches
   (``engine.train``), resuming from an in-progress checkpoint of the same run;
6. the finished record replaces the checkpoint.

Every stage that runs the user's module names the model, its config key and the stage when
the module raises (``networks.registry.ModelSpec.stage``).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.devices import cuda_numerics
from ..data.dataset import Dataset
from ..kernels.exact import exact_kernel_matrix
from ..kernels.simple_kernel import linear_features
from ..networks import registry
from ..networks.catalogue import BUILTIN_NETWORKS
from . import checkpoints
from .batches import MinibatchSchedule
from .context import RunContext, RunOptions, admitted, as_inputs, default_eval_rows
from .cost import CostLimitExceeded, ProbeInputs, cost_limit_message, estimate_cost, format_hours
from .engine import KernelMovement, Logged, Loop, Stopwatch, train
from .job import TrainingJob
from .predictors import (
    KernelModelPredictor,
    LinearisedPredictor,
    LinearModelPredictor,
    NetworkPredictor,
    Predictor,
)
from .record import Run, Setup
from .setup import kernel_subset, prepare

Tensor = torch.Tensor
log = logging.getLogger(__name__)

# The packages whose code determines a run's numbers (a finished record is reused only when
# they are unchanged).
_CODE = tuple(Path(__file__).resolve().parents[1] / name for name in ("core", "networks", "kernels", "training"))


def _fingerprint(context: RunContext, network: torch.nn.Module) -> dict[str, Any]:
    """What a checkpoint must share with a run to be used (JSON): the job, digests of the data,
    of the initial parameters, of the user's module source, and of the package's code."""
    data = context.data
    initial = [p.detach().cpu().numpy() for p in network.state_dict().values()]
    source = ""
    if context.spec.network not in BUILTIN_NETWORKS:
        with contextlib.suppress(TypeError, OSError):
            source = checkpoints.source_digest(Path(inspect.getfile(registry.resolve_factory(context.spec))))
    return {
        **_flat(json.loads(json.dumps(context.job.to_dict())), "job."),
        "data": checkpoints.array_digest(np.asarray(data.X_train), np.asarray(data.y_train), np.asarray(data.X_test)),
        "initial_parameters": checkpoints.array_digest(*initial),
        "network_source": source,
        "code": checkpoints.source_digest(*_CODE),
    }


def _flat(values: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A nested dict as dotted keys ('job.network.kwargs.width'), so that a checkpoint of
    another run names the settings that differ."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _predictors(context: RunContext, network: torch.nn.Module, setup: Setup, eval_rows: int) -> list[Predictor]:
    """The network and the models beside it, in the tables' order, at initialisation."""
    job, data = context.job, context.data
    X_train = as_inputs(data.X_train, context.shape, context.dtype, context.device)
    X_test = as_inputs(data.X_test, context.shape, context.dtype, context.device)
    y = context.targets()
    y_tensor = torch.as_tensor(y, dtype=context.dtype, device=context.device)
    models: list[Predictor] = [NetworkPredictor(network, X_train, X_test, y_tensor, job.loss, job.momentum, eval_rows)]
    if job.linearise:
        models.append(LinearisedPredictor(network, X_train, X_test, y_tensor, job.loss, job.momentum, eval_rows))
    features = (linear_features(data.X_train, setup.coefficients), linear_features(data.X_test, setup.coefficients))
    models.append(LinearModelPredictor(*features, y, job.loss, job.momentum))
    if job.exact_kernel is not None:
        kernel = job.exact_kernel
        K_train = exact_kernel_matrix(kernel, data.X_train, data.X_train, context.shape)
        K_test = exact_kernel_matrix(kernel, data.X_test, data.X_train, context.shape)
        models.append(KernelModelPredictor(K_train, K_test, y, job.loss, job.momentum))
    return models


def _guard(context: RunContext, network: torch.nn.Module, eval_rows: int) -> None:
    """Step 3: probe the job on this CPU and stop it when it exceeds its limit."""
    job, data, options = context.job, context.data, context.options
    X = as_inputs(data.X_train, context.shape, context.dtype, context.device)
    probe = ProbeInputs(
        network,
        X,
        as_inputs(data.X_test, context.shape, context.dtype, context.device),
        torch.as_tensor(context.targets(), dtype=context.dtype, device=context.device),
        context.build(context.init, torch.float64) if job.fits_kernel or job.movement_steps else None,
    )
    with context.spec.stage("the cost probe", context.where):
        estimate = estimate_cost(job, probe, eval_rows, context.shape)
    log.info("estimated %s on this CPU (%s)", format_hours(estimate.hours), estimate.line())
    if estimate.hours > options.max_cpu_hours:
        raise CostLimitExceeded(cost_limit_message(job, estimate, options.max_cpu_hours, options.rule))


def _finished(payload: dict[str, Any], job: TrainingJob, n_test: int, names: list[str]) -> Run:
    logged = Logged.empty(job.logged_steps, names, n_test, job.outputs)
    logged.load_state(payload["logged"])
    return Run(
        job,
        logged,
        Setup.from_state(payload["setup"]),
        seconds=json.loads(payload["seconds"]),
        counts=json.loads(payload["counts"]),
        reused_finished=True,
    )


def model_names(job: TrainingJob) -> list[str]:
    """The models of a run, in the tables' order."""
    names = ["network"] + (["linearised"] if job.linearise else []) + ["linear"]
    return names + (["exact_kernel"] if job.exact_kernel is not None else [])


def run(job: TrainingJob, data: Dataset, options: RunOptions | None = None) -> Run:
    """Train the network of ``job`` and the models beside it on ``data`` (see the module
    docstring); ``options``: how it runs (default ``RunOptions()``: CPU, no checkpoint)."""
    options = options if options is not None else RunOptions()
    context = admitted(job, data, options)
    network = context.build(context.init, context.dtype).to(context.device)
    names, n_test = model_names(job), len(data.X_test)
    log.info(
        "%s on %s (seed %d): %d training and %d test inputs of shape %s; %s %s; %s loss, momentum %g, lr %s, "
        "batch %d, %d steps; models: %s; %s",
        job.network.name,
        job.dataset,
        job.seed,
        len(data.X_train),
        n_test,
        context.shape,
        job.network.network,
        dict(job.network.kwargs),
        job.loss,
        job.momentum,
        f"{job.lr:g}" if job.lr is not None else "auto",
        job.batch_size,
        job.max_step,
        ", ".join(names),
        context.where,
    )
    path = options.checkpoint_path
    fingerprint = _fingerprint(context, network) if path else None
    payload = checkpoints.load(path, fingerprint) if path else None
    if payload is not None and payload["kind"] == checkpoints.FINISHED:
        with contextlib.suppress(KeyError, ValueError, TypeError):
            finished = _finished(payload, job, n_test, names)
            log.info("reusing the finished run recorded in %s (delete it to train again)", path)
            return finished
        checkpoints.warn(path, "its record does not fit this run")
        payload = None
    eval_rows = int(options.eval_rows or default_eval_rows(network, max(len(data.X_train), n_test)))
    if context.device.type == "cpu" and options.max_cpu_hours is not None and payload is None:
        _guard(context, network, eval_rows)
    clock = Stopwatch(context.device)
    clock.enter("kernel_fit" if job.fits_kernel else "linear_coefficients")
    setup = None
    if payload is not None:
        with contextlib.suppress(KeyError, ValueError, TypeError):
            setup = Setup.from_state(payload["setup"])
    if setup is None:
        setup = prepare(context)
    return _train(context, network, setup, payload, eval_rows, clock, fingerprint)


def _train(
    context: RunContext,
    network: torch.nn.Module,
    setup: Setup,
    payload: dict[str, Any] | None,
    eval_rows: int,
    clock: Stopwatch,
    fingerprint: dict[str, Any] | None,
) -> Run:
    """Steps 5 and 6: the models, resumed when a checkpoint fits, trained to the last step."""
    job, data, options = context.job, context.data, context.options
    y = context.targets()
    subset = setup.subset
    if subset is None:
        subset = kernel_subset(len(data.X_train), (job.movement or {}).get("points", 0), job.seed)

    def fresh(network: torch.nn.Module) -> tuple[list[Predictor], Logged, Loop, KernelMovement | None]:
        clock.enter("exact_kernel" if job.exact_kernel is not None else "models")
        with context.spec.stage("building the models beside it", context.where):
            predictors = _predictors(context, network, setup, eval_rows)
        logged = Logged.empty(job.logged_steps, [p.name for p in predictors], len(data.X_test), job.outputs)
        schedule = MinibatchSchedule(len(data.X_train), job.batch_size, job.seed)
        loop = Loop(schedule, setup.lr, job.loss, y, job.key("lr"), options.progress, f"SGD {job.network.name}")
        movement = None
        if job.movement_steps:
            clock.enter("movement")
            points = as_inputs(
                data.X_train[subset[: job.movement["points"]]], context.shape, context.dtype, context.device
            )
            with context.spec.stage("the kernel movement", context.where):
                movement = KernelMovement(network, points, job.movement_steps, job.outputs)
        return predictors, logged, loop, movement

    with cuda_numerics(job.allow_tf32):
        predictors, logged, loop, movement = fresh(network)
        start, resumed = 0, None
        if payload is not None:
            try:
                start = resumed = _resume(payload, predictors, logged, loop, job)
                log.info("resuming from checkpoint %s at step %d", options.checkpoint_path, start)
            except (KeyError, ValueError, TypeError, RuntimeError) as error:
                checkpoints.warn(options.checkpoint_path, f"its state does not fit this run ({error})")
                network = context.build(context.init, context.dtype).to(context.device)
                predictors, logged, loop, movement = fresh(network)
                start, resumed = 0, None
        checkpoint = None
        if options.checkpoint_path is not None:
            checkpointer = checkpoints.Checkpointer(
                options.checkpoint_path, options.checkpoint_seconds, options.stop_after_step, fingerprint
            )
            checkpoint = (checkpointer, lambda step: _state(predictors, logged, loop, setup))
        with context.spec.stage("training", context.where):
            if start == 0:
                clock.enter("initial_outputs")
                predictors[0].prepare()
            with checkpoint[0].on_signals() if checkpoint else contextlib.nullcontext():
                train(predictors, loop, logged, start, clock, checkpoint, movement)
    run = Run(job, logged, setup, clock.seconds, clock.counts, resumed_from_step=resumed, network=network)
    if checkpoint is not None:
        _save_finished(checkpoint[0], run)
    return run


def _state(predictors: list[Predictor], logged: Logged, loop: Loop, setup: Setup) -> dict[str, Any]:
    """An in-progress checkpoint's entries (the step is added by the checkpointer)."""
    return {
        "batches": loop.schedule.state_dict(),
        "models": {p.name: p.state() for p in predictors},
        "logged": logged.state(),
        "setup": setup.state(),
    }


def _resume(payload: dict[str, Any], predictors: list[Predictor], logged: Logged, loop: Loop, job: TrainingJob) -> int:
    """Load an in-progress checkpoint into the models; the step it continues from."""
    step = payload["step"]
    if not isinstance(step, int) or not 0 <= step <= job.max_step:
        raise ValueError(f"its step {step!r} is outside 0..{job.max_step}")
    models = payload["models"]
    if set(models) != {p.name for p in predictors}:
        raise ValueError(f"it trained other models ({', '.join(sorted(models))})")
    logged.load_state(payload["logged"])
    loop.schedule.load_state_dict(payload["batches"])
    for predictor in predictors:
        predictor.load_state(models[predictor.name])
    return step


def _save_finished(checkpointer: checkpoints.Checkpointer, run: Run) -> None:
    """Replace the run's checkpoint by its finished record (logged values, setup, timings)."""
    entries = {
        "logged": run.logged.state(),
        "setup": run.setup.state(),
        "seconds": json.dumps(run.seconds),
        "counts": json.dumps(run.counts),
    }
    checkpoints.save(checkpointer.path, checkpoints.FINISHED, checkpointer.fingerprint, entries)
