"""``fig5_models`` (beyond the paper): Figure 5's test for any network. Figure 5 measures how far
the two-layer net's NTK is from its linear kernel as the input dimension d grows (Appendix D.3,
Proposition 4.1's premise x.x'/d -> 0). Here every network of ``models.networks`` gets the same
test against the kernel the workflow's linear model uses: the simple kernel of Section 4.1
(constant + linear x.x'/d + norm terms), fitted to the network's own empirical NTK
(``kernels.fit``), on Gaussian inputs x ~ N(0, I_d) shaped (1, s, s), d = s^2.

One job per (network, side s, seed): the kernel is fitted on ``kernel_points`` inputs over
``kernel_initialisations`` initialisations (the first is the seed's network), then the spectral
and Frobenius norms of R = offdiag(Theta - K_fit) and of offdiag(Theta) are measured on
``points`` fresh inputs for the seed's network: formed and exact up to ``dense_points``
(``kernels.streaming``), matrix-free beyond (Lanczos and Hutchinson, ``kernels.matrix_free``,
with the Frobenius norm's standard error). Light at import (no torch): the Snakefile builds the
jobs while it parses; ``norms_table`` runs one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..core.seeds import rng_stream
from .any_network import network_entry

TITLE = "Figure 5 for any network: the NTK against the simple kernel fitted to it, as d grows (Section 4.1)"
NORM_COLUMNS = ("spectral", "frobenius", "spectral_ratio", "frobenius_ratio")


def norms_job(config: Mapping[str, Any], name: str, side: int, seed: int) -> dict[str, Any]:
    """The job (a plain dict, the rule's params) of network ``name`` at inputs (1, side, side)."""
    section = config["fig5_models"]
    points, dense = int(section["points"]), int(section["dense_points"])
    matrix_free = points > dense  # probes and tolerance change only matrix-free norms
    return {
        "network": network_entry(config, name),
        "side": int(side),
        "seed": int(seed),
        "points": points,
        "dense_points": dense if matrix_free else points,
        "kernel_points": int(section["kernel_points"]),
        "kernel_initialisations": int(section["kernel_initialisations"]),
        "probes": int(section["probes"]) if matrix_free else None,
        "tolerance": float(section["tolerance"]) if matrix_free else None,
        "dtype": section["dtype"],
    }


def job_wildcards(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    section = config["fig5_models"]
    return [
        {"net": name, "side": int(side), "seed": int(seed)}
        for name in section["networks"]
        for side in section["sides"]
        for seed in section["seeds"]
    ]


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """The check the schema cannot make: the networks are names of models.networks."""
    section = config.get("fig5_models") or {}
    defined = sorted((config.get("models") or {}).get("networks") or {})
    return [
        f"config key 'fig5_models.networks' names network {name!r}, which 'models.networks' does not define; "
        f"defined: {', '.join(defined)}"
        for name in section.get("networks", [])
        if name not in defined
    ]


def figure_params(config: Mapping[str, Any]) -> dict[str, Any]:
    section = config["fig5_models"]
    seeds = len(section["seeds"])
    size = (
        f"n = {section['points']:,} Gaussian inputs (1, s, s), s in {list(section['sides'])}; "
        f"kernel fitted on {section['kernel_points']} inputs x {section['kernel_initialisations']} initialisations; "
        f"{seeds} seed{'s' if seeds > 1 else ''}"
    )
    return {"networks": list(section["networks"]), "title": f"{TITLE}\n{size}"}


def gaussian_inputs(seed: int, side: int, n: int, purpose: str) -> np.ndarray:
    """n seeded N(0, I) inputs of shape (1, side, side)."""
    return rng_stream(seed, purpose, side, n).standard_normal((n, 1, side, side))


def norms_table(job: Mapping[str, Any], device: str = "auto") -> pd.DataFrame:
    """One row: the fit, the norms of offdiag(Theta - K_fit) and of offdiag(Theta), their ratios."""
    import torch

    from ..core.devices import resolve_device, resolve_dtype
    from ..kernels.empirical import empirical_ntk
    from ..kernels.fit import fit_simple_kernel
    from ..kernels.matrix_free import dense_residual_norms, residual_norms
    from ..networks.front_door import admit
    from ..networks.registry import build_model
    from ..training.job import NetworkEntry
    from ..training.setup import initialisation_seeds

    network, side, seed = job["network"], int(job["side"]), int(job["seed"])
    spec = NetworkEntry(**network).spec()  # as the engine builds a job's network
    shape = (1, side, side)
    fit_rows = gaussian_inputs(seed, side, job["kernel_points"], "fig5-models-fit")
    rows = gaussian_inputs(seed, side, job["points"], "fig5-models-norms")
    check = torch.as_tensor(fit_rows[:8])
    statistics = torch.as_tensor(fit_rows)  # a frozen BatchNorm's: the inputs of the kernel fit
    flat = admit(spec, build_model(spec, shape, seed, torch.float64, statistics=statistics), check, None)
    started = time.perf_counter()
    seeds = initialisation_seeds(seed, seed, job["kernel_initialisations"])
    fit_inputs = torch.as_tensor(fit_rows)
    with spec.stage("the empirical NTK of the kernel fit", "on cpu, float64"):
        kernels = [
            empirical_ntk(build_model(spec, shape, s, torch.float64, flat, statistics), fit_inputs).numpy()
            for s in seeds
        ]
    fit = fit_simple_kernel(fit_rows.reshape(len(fit_rows), -1), kernels)
    coefficients = fit.coefficients()
    dev, dtype = resolve_device(device), resolve_dtype(job["dtype"])
    model = build_model(spec, shape, seed, dtype, flat, statistics).to(dev)
    X = torch.as_tensor(rows, dtype=dtype, device=dev)
    with spec.stage("the norms of Theta - K_fit", f"on {dev.type}"):
        if len(rows) <= job["dense_points"]:
            norms = dense_residual_norms(empirical_ntk(model, X), X, coefficients)
        else:
            norms = residual_norms(model, X, coefficients, probes=job["probes"], tol=job["tolerance"], seed=seed)
    return pd.DataFrame(
        [
            {
                "network": network["name"],
                "side": side,
                "d": side * side,
                "n": len(rows),
                "seed": seed,
                "method": norms.method,
                "spectral": norms.residual.spectral,
                "frobenius": norms.residual.frobenius.value,
                "frobenius_stderr": norms.residual.frobenius.stderr,
                "theta_spectral": norms.theta.spectral,
                "theta_frobenius": norms.theta.frobenius.value,
                "spectral_ratio": norms.spectral_ratio,
                "frobenius_ratio": norms.frobenius_ratio,
                "constant": fit.constant,
                "linear": fit.linear,
                "norm": fit.norm,
                "kernel_points": fit.n_points,
                "kernel_initialisations": fit.n_initialisations,
                "seconds": time.perf_counter() - started,
            }
        ]
    )


def fit_slopes(norms: pd.DataFrame) -> pd.DataFrame:
    """Least squares of log(mean over seeds) on log d, per network and norm column, with the
    slope's standard error and its spread over seeds (``core.fits.mean_power_law``)."""
    from ..core.fits import mean_power_law

    rows = []
    for (network, column), group in norms.melt(
        id_vars=["network", "d", "seed"], value_vars=list(NORM_COLUMNS), var_name="norm", value_name="value"
    ).groupby(["network", "norm"], sort=True):
        rows.append({"network": network, "norm": column, **mean_power_law(group, "d")})
    return pd.DataFrame(rows)
