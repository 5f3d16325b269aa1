"""What the models need before the first step (step 4 of ``run.run``, a ``Setup``): the learning
rate (Figure 3's CNN matches its linear model to the FC net's, Section 4.2) and the linear
model's coefficients, from the infinite-width recursion or fitted to the network's empirical NTK
at initialisation on a seeded subset of the training inputs (Section 4.1)."""

from __future__ import annotations

import logging

import numpy as np
import torch

from ..core.seeds import rng_stream
from ..kernels.empirical import empirical_ntk
from ..kernels.fit import fit_simple_kernel
from ..kernels.recursion import cnn_linear_coefficients, fc_linear_coefficients, matched_learning_rate
from .context import RunContext, as_inputs
from .record import Setup

log = logging.getLogger(__name__)


def kernel_subset(n: int, size: int, seed: int) -> np.ndarray:
    """The fixed, seeded subset of training rows on which the NTK is measured (sorted)."""
    return np.sort(rng_stream(seed, "kernel-points", n, size).choice(n, size=min(size, n), replace=False))


def initialisation_seeds(first: int, seed: int, count: int) -> list[int]:
    """The trained network's init seed ``first``, then ``count - 1`` independent draws."""
    extra = rng_stream(seed, "kernel-initialisations", count).integers(0, 2**31 - 1, size=count - 1)
    return [int(first), *map(int, extra)]


def fit_kernel(context: RunContext) -> Setup:
    """The simple kernel fitted to the float64 empirical NTK of the job's initialisations on
    the seeded subset (the trained network's first)."""
    job, data = context.job, context.data
    subset = kernel_subset(len(data.X_train), job.linear["points"], job.seed)
    rows = data.X_train[subset]
    X = as_inputs(rows, context.shape, torch.float64, torch.device("cpu"))
    seeds = initialisation_seeds(context.init, job.seed, job.linear["initialisations"])
    with context.spec.stage("the empirical NTK of the kernel fit", "on cpu, float64"):
        kernels = [empirical_ntk(context.build(seed, torch.float64), X).numpy() for seed in seeds]
    fit = fit_simple_kernel(rows, kernels)
    try:
        coefficients, notes = fit.linear_model()
    except ValueError as error:
        raise context.spec.problem(
            f"the kernel fitted to its NTK defines no linear model ({error})",
            "Check the network's parameterisation: Section 4.1's linear model needs a positive coefficient of x.x'/d",
        ) from error
    log.info(
        "%s: NTK fitted on %d inputs, %d initialisations: constant %.4g ± %.2g, linear %.4g ± %.2g, norm %.4g; "
        "residual %.3g (Frobenius), %.3g (spectral); diagonal gap %.4g",
        job.network.name,
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
    for note in notes:
        log.warning("%s: %s", job.network.name, note)
    return Setup(job.lr, coefficients, fit, notes, subset, np.mean(kernels, axis=0))


def prepare(context: RunContext) -> Setup:
    """Step 4 of ``run.run``: the learning rate and the linear model's coefficients, from the
    infinite-width recursion or fitted to the network's empirical NTK."""
    job = context.job
    if job.fits_kernel:
        setup = fit_kernel(context)
    else:
        coefficients = (fc_linear_coefficients if job.linear["architecture"] == "fc" else cnn_linear_coefficients)(
            job.linear["activation"], job.linear["depth"]
        )
        setup = Setup(job.lr, coefficients)
    if job.lr_match:
        match = job.lr_match
        setup.lr = matched_learning_rate(job.lr, "cnn", match["activation"], match["fc_depth"], match["cnn_depth"])
        log.info("learning rate %g: the FC net's %g matched so that the linear models coincide", setup.lr, job.lr)
    return setup
