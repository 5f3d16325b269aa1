"""One network of the registry trained beside the models the paper chains, on the same
minibatches (``fig_models``):

* ``network``: the network itself, centred (f_0 = 0, Appendix A), SGD on the job's loss with
  its heavy-ball momentum (``earlylin.losses``; by default plain SGD on the half square loss,
  as Figures 3-4 train theirs);
* ``linearised``: the network linearised in its parameters at theta_0 (``linearised``;
  Lee et al. 2019), the same SGD, optional;
* ``linear``: the linear model of Section 4.1 with the kernel constant + linear x.x'/d (+ norm
  terms) fitted to the network's own empirical NTK at initialisation (``kernel_fit``);
* ``exact_kernel``: for the paper's FC net and CNN, function-space SGD with its
  infinite-width NTK (``exact_kernel``), which separates the Taylor truncation from finite
  width.

Before any update: the module is checked (``registry.check_model``), the empirical NTK is
computed on a fixed, seeded subset of ``kernel_points`` training inputs for
``kernel_initialisations`` initialisations (the trained one first, then draws from
``rng_stream(seed, "kernel-initialisations")``) and fitted; a fit that defines no linear
model (a negative or vanishing coefficient) stops the job with a ``ModelError``. During
training the kernel movement (Fort et al. 2020) of the trained network is measured on the
first ``movement_points`` inputs of that subset at ``movement_steps``. Batches come from the
seeded ``MinibatchSchedule`` of Figures 3-4 (the same for every model of the run). Every model
uses the same loss, momentum, learning rate and batches, so that they differ only in the model.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from ..data import Dataset, rng_stream
from ..deep.ntk_recursion import DeepLinearCoefficients, deep_linear_features
from ..deep.sgd_state import MinibatchSchedule
from ..deep.training import default_eval_rows, network_outputs
from ..devices import resolve_device, resolve_dtype
from ..losses import HeavyBall, loss_derivative, loss_values, mean_loss
from ..metrics import logged_steps, relative_mse
from ..tables import loss_rows, output_rows
from .exact_kernel import KernelModelSGD, exact_kernel_matrix
from .jobs import ModelJob
from .kernel_fit import KernelFit, fit_simple_kernel, overlap_features, simple_kernel
from .linearised import LinearisedNetwork
from .ntk import empirical_ntk, kernel_distance
from .registry import ModelSpec, build_model, check_model

Tensor = torch.Tensor
log = logging.getLogger(__name__)

MODELS = ("network", "linearised", "linear", "exact_kernel")
# (reference, other) pairs whose relative MSE E(f_ref - f_other)^2 / E f_ref^2 is tabled.
PAIRS = (
    ("network", "linear"),
    ("network", "linearised"),
    ("linearised", "linear"),
    ("network", "exact_kernel"),
    ("exact_kernel", "linear"),
)
# Pairs of the kernel subset drawn for the figure's scatter of NTK entries against x.x'/d.
_SCATTER_PAIRS = 3000
# Inputs of the batch-dependence check before training.
_CHECK_ROWS = 16


@dataclass
class ModelRun:
    """What one run measured: per model, the test outputs (steps x test points) and the
    training loss at the logged steps; the kernel fit; the kernel movement; timings."""

    steps: np.ndarray
    test_outputs: dict[str, np.ndarray]
    train_loss: dict[str, np.ndarray]
    fit: KernelFit
    coefficients: DeepLinearCoefficients  # the linear model's (``KernelFit.linear_model``)
    fit_notes: list[str]
    kernel_inputs: np.ndarray  # the kernel subset (rows)
    mean_kernel: np.ndarray  # the empirical NTK averaged over initialisations, on the subset
    data_overlap: float  # mean |x.x'/d| over all pairs of training inputs
    movement: dict[int, float]
    seconds: dict[str, float] = field(default_factory=dict)
    loss: str = "mse"  # the loss every model trained on; the tables' losses are its values


def kernel_subset(n: int, size: int, seed: int) -> np.ndarray:
    """The fixed, seeded subset of training rows on which the NTK is measured (sorted)."""
    return np.sort(rng_stream(seed, "kernel-points", n, size).choice(n, size=min(size, n), replace=False))


def initialisation_seeds(seed: int, count: int) -> list[int]:
    """The trained network's seed, then ``count - 1`` independent draws for the fit's average."""
    extra = rng_stream(seed, "kernel-initialisations", count).integers(0, 2**31 - 1, size=count - 1)
    return [int(seed), *map(int, extra)]


def mean_abs_overlap(X: np.ndarray) -> float:
    """Mean |x.x'/d| over the pairs i < j of the rows of ``X``: how far the inputs are from
    Section 4.1's premise x.x'/d ~ 0."""
    _, overlap, _ = overlap_features(X)
    return float(np.mean(np.abs(overlap)))


def _inputs(X: np.ndarray, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device) -> Tensor:
    return torch.as_tensor(np.asarray(X), dtype=dtype, device=device).reshape(len(X), *shape)


def input_shape(data: Dataset) -> tuple[int, ...]:
    return tuple(data.image_shape) if data.image_shape is not None else (data.input_dim,)


def fit_kernel(spec: ModelSpec, data: Dataset, job: ModelJob, seed: int) -> tuple[KernelFit, np.ndarray, np.ndarray]:
    """The simple kernel fitted to the empirical NTK (float64) of ``kernel_initialisations``
    draws of the network on the seeded kernel subset: (fit, subset rows, mean kernel)."""
    shape = input_shape(data)
    rows = data.X_train[kernel_subset(len(data.X_train), job.kernel_points, seed)]
    X = _inputs(rows, shape, torch.float64, torch.device("cpu"))
    kernels = [
        empirical_ntk(build_model(spec, shape, init, torch.float64), X).numpy()
        for init in initialisation_seeds(seed, job.kernel_initialisations)
    ]
    fit = fit_simple_kernel(rows, kernels)
    return fit, rows, np.mean(kernels, axis=0)


def network_step(
    network: torch.nn.Module,
    params: list[Tensor],
    x: Tensor,
    initial: Tensor,
    y: Tensor,
    lr: float,
    loss: str,
    optimiser: HeavyBall,
) -> None:
    """One step of the network f(x) = g(x; theta) - g(x; theta_0) on (1/|B|) sum_B l(f(x), y)
    (g(x; theta_0) given in ``initial``; it carries no gradient)."""
    value = torch.mean(loss_values(network(x) - initial, y, loss))
    optimiser.step(params, list(torch.autograd.grad(value, params)), lr)


def linear_step(
    beta: np.ndarray, psi_batch: np.ndarray, y_batch: np.ndarray, lr: float, loss: str, optimiser: HeavyBall
) -> None:
    """One step of the linear model beta . psi(x) on the same loss, in place:
    g = psi_B^T l'(psi_B beta, y_B) / |B|."""
    gradient = psi_batch.T @ loss_derivative(psi_batch @ beta, y_batch, loss) / len(y_batch)
    optimiser.step([beta], [gradient], lr)


def run_model_sgd(data: Dataset, job: ModelJob, seed: int, *, device: str = "cpu", progress: bool = True) -> ModelRun:
    """Train the network of ``job`` and its models on ``data`` (see the module docstring)."""
    spec = ModelSpec(job.name, job.network, job.kwargs, key=job.key)
    torch_device, dtype = resolve_device(device), resolve_dtype(job.dtype)
    shape = input_shape(data)
    clock = time.perf_counter
    seconds: dict[str, float] = {}

    start = clock()
    network = build_model(spec, shape, seed, dtype).to(torch_device)
    X_train = _inputs(data.X_train, shape, dtype, torch_device)
    X_test = _inputs(data.X_test, shape, dtype, torch_device)
    check_model(spec, network.cpu(), X_train[:_CHECK_ROWS].cpu())
    network.to(torch_device)
    fit, kernel_rows, mean_kernel = fit_kernel(spec, data, job, seed)
    try:
        coefficients, fit_notes = fit.linear_model()
    except ValueError as error:
        raise spec.problem(
            f"the kernel fitted to its NTK defines no linear model ({error})",
            "Check the network's parameterisation: Section 4.1's linear model needs a positive coefficient of x.x'/d",
        ) from error
    for note in fit_notes:
        log.warning("%s: %s", job.name, note)
    seconds["kernel_fit"] = clock() - start
    log.info(
        "%s: NTK fitted on %d inputs, %d initialisations: constant %.4g ± %.2g, linear %.4g ± %.2g, norm %.4g; "
        "residual %.3g (Frobenius), %.3g (spectral); diagonal gap %.4g",
        job.name,
        fit.n_points,
        fit.n_initialisations,
        fit.constant,
        fit.constant_stderr,
        fit.linear,
        fit.linear_stderr,
        fit.norm,
        fit.residual_frobenius,
        fit.residual_spectral,
        fit.diagonal_gap,
    )

    y_train = np.asarray(data.y_train, dtype=np.float64)
    y_train_t = torch.as_tensor(y_train, dtype=dtype, device=torch_device)
    psi_train = deep_linear_features(data.X_train, coefficients)
    psi_test = deep_linear_features(data.X_test, coefficients)
    beta = np.zeros(psi_train.shape[1])
    exact = None
    if job.exact_kernel is not None:
        start = clock()
        exact = KernelModelSGD(
            exact_kernel_matrix(job.network, job.exact_kernel, data.X_train, data.X_train, shape),
            exact_kernel_matrix(job.network, job.exact_kernel, data.X_test, data.X_train, shape),
            y_train,
            loss=job.loss,
            momentum=job.momentum,
        )
        seconds["exact_kernel"] = clock() - start
    eval_rows = default_eval_rows(network, max(len(X_train), len(X_test)))
    initial_train = network_outputs(network, X_train, eval_rows)
    initial_test = network_outputs(network, X_test, eval_rows)
    linearised = LinearisedNetwork(network, job.loss, job.momentum) if job.linearise else None
    movement_inputs = _inputs(kernel_rows[: job.movement_points], shape, dtype, torch_device)
    theta_0 = empirical_ntk(network, movement_inputs) if job.movement_steps else None

    steps = logged_steps(job.max_step, job.steps_per_decade)
    index = {int(s): i for i, s in enumerate(steps)}
    names = [m for m in MODELS if (m != "linearised" or linearised) and (m != "exact_kernel" or exact)]
    outputs = {m: np.empty((len(steps), len(X_test))) for m in names}
    train_loss = {m: np.empty(len(steps)) for m in names}
    movement: dict[int, float] = {}
    params = [p for p in network.parameters() if p.requires_grad]
    schedule = MinibatchSchedule(len(X_train), job.batch_size, seed)
    network_optimiser, linear_optimiser = HeavyBall(job.momentum), HeavyBall(job.momentum)
    timing = {"network": 0.0, "linearised": 0.0, "logging": 0.0}

    def record(i: int, step: int) -> None:
        values = {
            "network": (
                network_outputs(network, X_train, eval_rows) - initial_train,
                network_outputs(network, X_test, eval_rows) - initial_test,
            ),
            "linear": (psi_train @ beta, psi_test @ beta),
        }
        if linearised is not None:
            values["linearised"] = (linearised.outputs(X_train, eval_rows), linearised.outputs(X_test, eval_rows))
        if exact is not None:
            values["exact_kernel"] = (exact.train_outputs, exact.test_outputs)
        for name, (train, test) in values.items():
            train = train.double().cpu().numpy() if isinstance(train, Tensor) else np.asarray(train)
            test = test.double().cpu().numpy() if isinstance(test, Tensor) else np.asarray(test)
            train_loss[name][i] = mean_loss(train, y_train, job.loss)
            outputs[name][i] = test
            if not (np.isfinite(train_loss[name][i]) and np.all(np.isfinite(test))):
                raise FloatingPointError(
                    f"model {job.name!r}: the {name} model's training loss became {train_loss[name][i]} at step "
                    f"{step}: the learning rate {job.lr:g} is too large; lower it ({job.key}.lr)"
                )

    with tqdm(total=job.max_step, disable=not progress, mininterval=2.0, unit="step", desc=f"SGD {job.name}") as bar:
        step = 0
        while True:
            tick = clock()
            if step in index:
                record(index[step], step)
            if theta_0 is not None and step in job.movement_steps:
                # at step 0 the kernel is theta_0 itself: distance 0, no second NTK
                movement[step] = 0.0 if step == 0 else kernel_distance(theta_0, empirical_ntk(network, movement_inputs))
            timing["logging"] += clock() - tick
            if step == job.max_step:
                break
            batch = schedule.next_batch()
            rows = torch.as_tensor(batch, device=torch_device)
            tick = clock()
            network_step(
                network,
                params,
                X_train[rows],
                initial_train[rows],
                y_train_t[rows],
                job.lr,
                job.loss,
                network_optimiser,
            )
            tock = clock()
            timing["network"] += tock - tick
            if linearised is not None:
                linearised.sgd_step(X_train[rows], y_train_t[rows], job.lr)
                timing["linearised"] += clock() - tock
            linear_step(beta, psi_train[batch], y_train[batch], job.lr, job.loss, linear_optimiser)
            if exact is not None:
                exact.sgd_step(batch, job.lr)
            step += 1
            bar.update(1)
    seconds["logging"] = timing["logging"]
    for name in ("network", "linearised"):
        seconds[f"{name}_per_step"] = timing[name] / max(job.max_step, 1)
    return ModelRun(
        steps=np.asarray(steps),
        test_outputs=outputs,
        train_loss=train_loss,
        fit=fit,
        coefficients=coefficients,
        fit_notes=fit_notes,
        kernel_inputs=kernel_rows,
        mean_kernel=mean_kernel,
        data_overlap=mean_abs_overlap(data.X_train),
        movement=movement,
        seconds=seconds,
        loss=job.loss,
    )


# ---------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------


def run_tables(run: ModelRun, y_test: np.ndarray, seed: int) -> dict[str, pd.DataFrame]:
    """The tidy tables of a run: losses (model, step, split, metric, value), outputs (model,
    step, sample, output), discrepancy (reference, other, step, metric='relative_mse', value),
    kernel_fit (one row), ntk_entries (overlap, entry, fitted, diagonal: a seeded sample of
    the subset's pairs and its diagonal), movement (step, value)."""
    losses = pd.concat(
        [loss_rows(m, run.steps, "train", run.train_loss[m]) for m in run.test_outputs]
        + [loss_rows(m, run.steps, "test", mean_loss(o, y_test, run.loss)) for m, o in run.test_outputs.items()],
        ignore_index=True,
    )
    outputs = pd.concat([output_rows(m, run.steps, o) for m, o in run.test_outputs.items()], ignore_index=True)
    discrepancy = pd.concat(
        [
            pd.DataFrame(
                {
                    "reference": a,
                    "other": b,
                    "step": run.steps.astype(np.int64),
                    "metric": "relative_mse",
                    "value": relative_mse(run.test_outputs[a], run.test_outputs[b]),
                }
            )
            for a, b in PAIRS
            if a in run.test_outputs and b in run.test_outputs
        ],
        ignore_index=True,
    )
    fit = run.fit
    kernel_fit = pd.DataFrame(
        [
            dict(
                constant=fit.constant,
                linear=fit.linear,
                norm=fit.norm,
                constant_stderr=fit.constant_stderr,
                linear_stderr=fit.linear_stderr,
                norm_stderr=fit.norm_stderr,
                residual_frobenius=fit.residual_frobenius,
                residual_spectral=fit.residual_spectral,
                diagonal_gap=fit.diagonal_gap,
                subset_overlap=fit.mean_abs_overlap,
                data_overlap=run.data_overlap,
                model_constant=run.coefficients.constant,
                model_linear=run.coefficients.linear,
                model_norm=run.coefficients.norm,
                notes="; ".join(run.fit_notes),
                n_points=fit.n_points,
                n_initialisations=fit.n_initialisations,
                with_norm_term=fit.with_norm_term,
                **{f"seconds_{k}": v for k, v in run.seconds.items()},
            )
        ]
    )
    return dict(
        losses=losses,
        outputs=outputs,
        discrepancy=discrepancy,
        kernel_fit=kernel_fit,
        ntk_entries=ntk_entry_rows(run.kernel_inputs, run.mean_kernel, run.coefficients, seed),
        movement=pd.DataFrame(
            {"step": np.array(list(run.movement), dtype=np.int64), "value": np.array(list(run.movement.values()))}
        ),
    )


def ntk_entry_rows(X: np.ndarray, kernel: np.ndarray, coefficients: DeepLinearCoefficients, seed: int) -> pd.DataFrame:
    """Rows (overlap, entry, fitted, diagonal) of the mean empirical NTK on the kernel subset:
    up to 3,000 off-diagonal pairs (a seeded sample) and every diagonal entry, with the fitted
    linear model's kernel (Section 4.1's claim, drawn as a scatter about the fitted line)."""
    _, overlap, _ = overlap_features(X)
    rows, cols = np.triu_indices(len(X), k=1)
    chosen = np.sort(rng_stream(seed, "ntk-scatter", len(rows)).permutation(len(rows))[:_SCATTER_PAIRS])
    fitted = simple_kernel(X, coefficients)
    flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    norms = np.sum(flat * flat, axis=1) / flat.shape[1]
    off = pd.DataFrame(
        {
            "overlap": overlap[chosen],
            "entry": kernel[rows[chosen], cols[chosen]],
            "fitted": fitted[rows[chosen], cols[chosen]],
            "diagonal": False,
        }
    )
    diagonal = pd.DataFrame({"overlap": norms, "entry": np.diag(kernel), "fitted": np.diag(fitted), "diagonal": True})
    return pd.concat([off, diagonal], ignore_index=True)


def relative_at(discrepancy: pd.DataFrame, reference: str, other: str, step: int) -> float:
    """The relative MSE of a pair at a logged step (NaN when not logged)."""
    rows = discrepancy[(discrepancy["reference"] == reference) & (discrepancy["other"] == other)]
    rows = rows[rows["step"] == step]
    return float(rows["value"].iloc[0]) if len(rows) else math.nan


def run_job(
    data: Dataset, job: ModelJob, seed: int, config: Mapping[str, Any], rule: str, log: logging.Logger
) -> tuple[ModelRun, dict[str, pd.DataFrame]]:
    """A job's script body: log its settings; on a CPU, stop at once when the probe estimates
    more than models.max_cpu_hours (read here, so changing it reruns nothing); train
    (``run_model_sgd`` on config's device); return the run and its tables."""
    from .cost import stop_if_too_costly  # cost times this module's steps

    device = resolve_device(config["device"])
    log_job(log, job, data, device)
    if device.type == "cpu":
        stop_if_too_costly(data, job, seed, config["models"]["max_cpu_hours"], rule, log)
    run = run_model_sgd(data, job, seed, device=config["device"])
    return run, run_tables(run, data.y_test, seed)


def log_job(log: logging.Logger, job: ModelJob, data: Dataset, device: torch.device) -> None:
    """A job's settings, one log line."""
    log.info(
        "%s = %s %s on %s: n = %d, image shape %s, %s loss, momentum %g, lr %g, batch %d, %d steps, %s on %s; "
        "linearised: %s; exact kernel: %s",
        job.name,
        job.network,
        dict(job.kwargs),
        job.dataset,
        len(data.y_train),
        data.image_shape,
        job.loss,
        job.momentum,
        job.lr,
        job.batch_size,
        job.max_step,
        job.dtype,
        device,
        job.linearise,
        job.exact_kernel,
    )


def log_run(log: logging.Logger, run: ModelRun, discrepancy: pd.DataFrame, step: int) -> None:
    """A finished run's timings and its models' relative MSE at ``step``."""
    log.info(
        "network step %.4g s, linearised step %.4g s; kernel fit %.3g s",
        run.seconds.get("network_per_step", 0.0),
        run.seconds.get("linearised_per_step", 0.0),
        run.seconds.get("kernel_fit", 0.0),
    )
    for reference, other in (("network", "linear"), ("network", "linearised"), ("linearised", "linear")):
        log.info(
            "relative MSE %s vs %s at step %d: %.4g",
            reference,
            other,
            step,
            relative_at(discrepancy, reference, other, step),
        )
