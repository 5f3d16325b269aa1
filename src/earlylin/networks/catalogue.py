"""The one registry of built-in networks, light (no torch): the config checks, the
Snakefile and the config schema read it while Snakemake parses. Each entry names the factory
that builds the network (``builtin``) and, for the paper's FC net and CNN, what defines its
infinite-width NTK (the exact-kernel model of ``kernels.exact``). Adding a built-in network is
its factory plus one entry here and its test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BuiltinNetwork:
    """A built-in network: its factory (``module:function``), what it is, and ``exact_kernel``:
    which infinite-width kernel it has ('fc', 'cnn' or '' for none), with the factory's
    defaults of the arguments that kernel depends on."""

    factory: str
    summary: str
    exact_kernel: str = ""
    kernel_defaults: Mapping[str, Any] = field(default_factory=dict)


BUILTIN_NETWORKS = {
    "fc": BuiltinNetwork(
        "earlylin.networks.builtin:fully_connected",
        "the paper's FC net (Figure 3: depth 4, width 512, erf), NTK parameterisation",
        exact_kernel="fc",
        kernel_defaults={"depth": 4, "activation": "erf"},
    ),
    "cnn": BuiltinNetwork(
        "earlylin.networks.builtin:convolutional",
        "the paper's CNN (Figure 3: depth 4, 256 channels, 3 x 3 filters, circular padding, erf)",
        exact_kernel="cnn",
        kernel_defaults={"depth": 4, "activation": "erf", "filter_size": 3},
    ),
    "residual_cnn": BuiltinNetwork(
        "earlylin.networks.builtin:residual_cnn",
        "a small residual CNN (NTK parameterisation): stem, residual blocks, flatten readout",
    ),
    "fc_standard": BuiltinNetwork(
        "earlylin.networks.builtin:fully_connected_standard",
        "the FC net in the standard parameterisation (its learning rate must scale like 1/width)",
    ),
}
# The CNN's kernel needs closed-form Gaussian expectations (``kernels.exact.cnn_exact_kernel``).
CNN_KERNEL_ACTIVATIONS = ("erf", "relu")


def exact_kernel_of(network: str, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    """What defines the infinite-width NTK of ``network`` built with ``kwargs``: {"kind": "fc",
    "activation", "depth"} or {"kind": "cnn", "activation", "depth", "filter_size"}; None for a
    network without one, and for a CNN whose activation has no closed-form kernel."""
    entry = BUILTIN_NETWORKS.get(network)
    if entry is None or not entry.exact_kernel:
        return None
    merged = {**entry.kernel_defaults, **kwargs}
    if entry.exact_kernel == "cnn" and merged["activation"] not in CNN_KERNEL_ACTIVATIONS:
        return None
    kernel = {"kind": entry.exact_kernel, "activation": str(merged["activation"]), "depth": int(merged["depth"])}
    if entry.exact_kernel == "cnn":
        kernel["filter_size"] = int(merged["filter_size"])
    return kernel
