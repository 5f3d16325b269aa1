"""The jobs and figure titles of the theorems' scales (``scales``): the data of one (d, seed),
a horizon run (activation, d, lr, seed), a width run (d, width, seed), their summaries. Each
job is a plain dict, a rule's params (the device, threads and chunk sizes are read by the
scripts from the config, so changing them reruns nothing). Light (no torch).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .sizes import horizon_max_step, scaled_size


def lr_label(lr: float) -> str:
    """How a learning rate appears in paths (the ``lr`` wildcard): 1.0 -> '1', 0.5 -> '0.5'."""
    return format(float(lr), "g")


def data_job(config: Mapping[str, Any], d: int) -> dict[str, Any]:
    """x ~ N(0, I_d), n = C d^(1+alpha) training and n_test test points, labels from the target."""
    scales = config["scales"]
    return {
        "target": scales["target"],
        "n_train": scaled_size(d, scales["C"], scales["alpha"]),
        "n_test": scales["n_test"],
        "teacher_width": scales["teacher_width"] if scales["target"] == "teacher" else None,
        "C": scales["C"],
        "alpha": scales["alpha"],
    }


def _network(config: Mapping[str, Any], activation: str, width: int, lr: float) -> dict[str, Any]:
    return {
        "activation": activation,
        "leaky_relu_slope": config["leaky_relu_slope"] if activation == "leaky_relu" else None,
        "width": width,
        "lr": lr,
        "dtype": config["scales"]["dtype"],
    }


def horizon_job(config: Mapping[str, Any], activation: str, d: int, lr: float) -> dict[str, Any]:
    """One (activation, d, lr): the network (width m = n) by GD up to window x d log d / lr
    steps, f_lin in closed form, the horizons per threshold and T_lin."""
    scales = config["scales"]
    horizon = scales["horizon"]
    n = scaled_size(d, scales["C"], scales["alpha"])
    return {
        **_network(config, activation, n, lr),
        "max_step": horizon_max_step(d, lr, horizon["window"]),
        **{key: horizon[key] for key in ("steps_per_decade", "thresholds", "converged_tol", "window")},
        "C": scales["C"],
        "alpha": scales["alpha"],
    }


def width_job(config: Mapping[str, Any], d: int, width: int) -> dict[str, Any]:
    """One (d, width): the network at the early steps against f_lin (eq. 11)."""
    scales, sweep = config["scales"], config["scales"]["width"]
    n = scaled_size(d, scales["C"], scales["alpha"])
    return {**_network(config, sweep["activation"], width, sweep["lr"]), "steps": sweep["steps"], "n": n}


def horizon_title(config: Mapping[str, Any], size_line: str = "") -> str:
    scales = config["scales"]
    return (
        f"Agreement horizon: {scales['target']} target, both layers trained, n = m = "
        f"{scales['C']:g} d^{1 + scales['alpha']:g}, n_test = {scales['n_test']}, "
        f"window {scales['horizon']['window']:g} d log d / η{size_line}"
    )


def width_title(config: Mapping[str, Any], size_line: str = "") -> str:
    scales = config["scales"]
    return (
        f"Finite-width floor: {scales['width']['activation']} network, {scales['target']} target, "
        f"n = {scales['C']:g} d^{1 + scales['alpha']:g}, lr {scales['width']['lr']:g}{size_line}"
    )
