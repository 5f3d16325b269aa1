"""What the models need before the first step (step 4 of ``run.run``, a ``Setup``): the learning
rate (Figure 3's CNN matches its linear model to the FC net's, Section 4.2) and the linear
model's coefficients, from the infinite-width recursion or fitted to the network's empirical NTK
at initialisation on a seeded subset of the training inputs (Section 4.1)."""

from __future__ import annotations

import logging

import numpy as np
import torch

from ..core.seeds import rng_stream
from ..kernels.empirical import empirical_ntk, output_blocks
from ..kernels.fit import fit_simple_kernel
from ..kernels.recursion import cnn_linear_coefficients, fc_linear_coefficients, matched_learning_rate
from ..kernels.simple_kernel import KernelCoefficients, linear_features
from .batches import MinibatchSchedule
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
    the seeded subset (the trained network's first); with k outputs, to the NTK averaged over
    the outputs (``kernels.empirical.output_blocks``), the linear model's k heads sharing its
    features, with the size of the cross-output blocks and the diagonal blocks' spread kept."""
    job, data = context.job, context.data
    subset = kernel_subset(len(data.X_train), job.linear["points"], job.seed)
    rows = data.X_train[subset]
    X = as_inputs(rows, context.shape, torch.float64, torch.device("cpu"))
    seeds = initialisation_seeds(context.init, job.seed, job.linear["initialisations"])
    outputs = job.outputs
    with context.spec.stage("the empirical NTK of the kernel fit", "on cpu, float64"):
        kernels = [empirical_ntk(context.build(seed, torch.float64), X, outputs=outputs).numpy() for seed in seeds]
    blocks = None
    if outputs > 1:  # the NTK averaged over the outputs, and how far it is from Theta (x) I_k
        measured = [output_blocks(kernel) for kernel in kernels]
        kernels = [mean for mean, _, _ in measured]
        blocks = (float(np.mean([m[1] for m in measured])), float(np.mean([m[2] for m in measured])))
        log.info(
            "%s: %d outputs; cross-output blocks of the NTK %.3g of the diagonal ones, diagonal blocks spread %.3g "
            "about their mean (the linear model's kernel (x) I_k assumes both small)",
            job.network.name,
            outputs,
            *blocks,
        )
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
    for note in notes:  # a constant consistent with 0 is information, a negative one a warning
        log.log(logging.INFO if "consistent with 0" in note else logging.WARNING, "%s: %s", job.network.name, note)
    setup = Setup(job.lr or 0.0, coefficients, fit, notes, subset, np.mean(kernels, axis=0))
    if blocks is not None:
        setup.cross_output, setup.output_spread = blocks
    return setup


def batch_hessian_top(X_batch: np.ndarray, coefficients: KernelCoefficients) -> float:
    """lambda_max of the linear model's square-loss Hessian on one minibatch, psi_B^T psi_B / |B|
    (the loss is the batch mean of (f - y)^2 / 2): the largest eigenvalue of the fitted kernel's
    Gram matrix K(X_B, X_B) / |B| = psi_B psi_B^T / |B|. Plain SGD on that batch diverges for
    lr > 2 / lambda_max. With k heads on one-hot targets the Hessian is that matrix (x) I_k, with
    the same lambda_max; softmax cross-entropy's is at most 1/2 of it."""
    features = linear_features(X_batch, coefficients)
    gram = features @ features.T / len(features)
    return float(np.linalg.eigvalsh(gram)[-1])


def auto_learning_rate(context: RunContext, coefficients: KernelCoefficients) -> tuple[float, float]:
    """``lr: auto``: the job's fraction of 2 / lambda_max, lambda_max of the linear model's
    Hessian on the first minibatch of the run's seeded schedule (``batch_hessian_top``); the
    rate and lambda_max. For the logistic loss the Hessian is at most 1/4 of the square loss's
    (sigma' <= 1/4), so the rate is stable there too; heavy-ball momentum m is stable up to
    2 (1 + m) / lambda_max."""
    job, data = context.job, context.data
    first = MinibatchSchedule(len(data.X_train), job.batch_size, job.seed).next_batch()
    top = batch_hessian_top(np.asarray(data.X_train)[first], coefficients)
    return job.lr_fraction * 2.0 / top, top


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
        setup = Setup(job.lr or 0.0, coefficients)
    if job.lr_fraction is not None:
        setup.lr, setup.lambda_max = auto_learning_rate(context, setup.coefficients)
        log.info(
            "learning rate %.4g (lr: auto): %g x 2 / lambda_max, lambda_max = %.4g of the linear model's Hessian on "
            "the first minibatch",
            setup.lr,
            job.lr_fraction,
            setup.lambda_max,
        )
    if job.lr_match:
        match = job.lr_match
        setup.lr = matched_learning_rate(job.lr, "cnn", match["activation"], match["fc_depth"], match["cnn_depth"])
        log.info("learning rate %g: the FC net's %g matched so that the linear models coincide", setup.lr, job.lr)
    return setup
