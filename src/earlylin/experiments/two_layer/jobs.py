"""The jobs and figure titles of Section 3's experiments as the config defines them: Figure 1
(``fig1``), Figure 2 (``fig2``), the regime x activation grid (``regimes``) and Figure 5's
kernel norms (``fig5``, ``fig5_extra``). Each job is a plain dict, a rule's params: the
settings that change its tables and nothing else (the device, threads and chunk sizes are
read by the scripts from the config, so changing them reruns nothing). Light (no torch): the
Snakefile builds them while it parses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .regimes import REGIMES


def _slope(config: Mapping[str, Any], activation: str) -> float | None:
    """The leaky_relu slope where the activation is leaky_relu, None elsewhere: changing the
    slope reruns only those jobs."""
    return config["leaky_relu_slope"] if activation == "leaky_relu" else None


def data_job(config: Mapping[str, Any], section: str) -> dict[str, Any]:
    """A synthetic data set of ``section`` (Section 3.4): Figure 1's teacher labels, Figure 2's
    norm-dependent target, the grid's configured target (d from the wildcards for Figure 1)."""
    settings = config[section]
    target = {"fig1": "teacher", "fig2": "norm"}.get(section, settings.get("target"))
    job = {"target": target, "n_train": settings["n_train"], "n_test": settings["n_test"]}
    job["teacher_width"] = settings.get("teacher_width", 5) if target == "teacher" else None
    if section != "fig1":
        job["d"] = settings["d"]
    return job


def training_job(
    config: Mapping[str, Any], section: str, activation: str | None = None, regime: str | None = None
) -> dict[str, Any]:
    """A two-layer network trained by GD (eq. 4) and, on the same data and learning rates, its
    linear models in closed form (Claim C.1): Figure 1's (both layers, f_lin), Figure 2's (f_lin
    and the naive model) or a grid job's (``activation`` and ``regime`` from its wildcards)."""
    settings = config[section]
    activation = activation or settings["activation"]
    if regime is None:
        lr_first = lr_second = settings["lr"]
    else:
        lr_first, lr_second = REGIMES[regime].learning_rates(settings["lr"][regime])
    return {
        "activation": activation,
        "leaky_relu_slope": _slope(config, activation),
        "width": settings["width"],
        "lr_first": lr_first,
        "lr_second": lr_second,
        "max_step": settings["max_step"],
        "steps_per_decade": settings["steps_per_decade"],
        "dtype": settings["dtype"],
        "section": section,
        "linear_models": ["linear", "naive"] if section == "fig2" else ["linear"],
    }


def fig1_title(config: Mapping[str, Any], size_line: str = "") -> str:
    fig1 = config["fig1"]
    return (
        f"Figure 1: {fig1['activation']} network, width {fig1['width']}, "
        f"d = {fig1['d']}, n = {fig1['n_train']}, lr = {fig1['lr']}{size_line}"
    )


def fig2_title(config: Mapping[str, Any], size_line: str = "") -> str:
    fig2 = config["fig2"]
    return (
        f"Figure 2: y = ‖x‖/√d + ReLU(aᵀx); {fig2['activation']} network, width {fig2['width']}, "
        f"d = {fig2['d']}, n = {fig2['n_train']}, lr = {fig2['lr']}{size_line}"
    )


def regimes_summary_job(config: Mapping[str, Any]) -> dict[str, Any]:
    """What the grid's summary (agreement horizons) depends on."""
    grid = config["regimes"]
    return {key: grid[key] for key in ("threshold", "lr", "width", "d", "target")}


def regimes_title(config: Mapping[str, Any], size_line: str = "") -> str:
    grid = config["regimes"]
    rates = ", ".join(f"{regime} {lr}" for regime, lr in grid["lr"].items())
    return (
        f"Network vs its regime's linear model: {grid['target']} target, width {grid['width']}, "
        f"d = {grid['d']}, n = {grid['n_train']}, lr {rates}{size_line}"
    )


def kernel_norms_job(config: Mapping[str, Any], activation: str) -> dict[str, Any]:
    """Figure 5: the norms of Theta_k(W(0)) - Theta_lin_k for one (kernel, activation, d, seed)."""
    fig5 = config["fig5"]
    job = {key: fig5[key] for key in ("n", "width", "dtype", "compute_dtype")}
    return {**job, "leaky_relu_slope": _slope(config, activation)}


def fig5_title(config: Mapping[str, Any], size_line: str = "") -> str:
    fig5 = config["fig5"]
    seeds = ", ".join(map(str, fig5["seeds"]))
    return f"Figure 5: {fig5['activation']}, n = {fig5['n']}, m = {fig5['width']}, seeds {seeds}{size_line}"


def fig5_extra_title(config: Mapping[str, Any], size_line: str = "") -> str:
    fig5 = config["fig5"]
    return f"Kernel approximations at initialisation: n = {fig5['n']}, m = {fig5['width']}{size_line}"
