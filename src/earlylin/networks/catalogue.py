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
    defaults of the arguments that kernel depends on; ``arguments``: the factory's keyword
    arguments besides input_shape and generator (checked against its signature by a test;
    ``outputs``, the outputs per input, k for k classes, in every one);
    ``width_argument``: the one that sets its width (``models.widths``' default)."""

    factory: str
    summary: str
    arguments: tuple[str, ...] = ()
    width_argument: str = ""
    exact_kernel: str = ""
    kernel_defaults: Mapping[str, Any] = field(default_factory=dict)


BUILTIN_NETWORKS = {
    "fc": BuiltinNetwork(
        "earlylin.networks.builtin:fully_connected",
        "the paper's FC net (Figure 3: depth 4, width 512, erf), NTK parameterisation",
        ("depth", "width", "activation", "outputs"),
        "width",
        exact_kernel="fc",
        kernel_defaults={"depth": 4, "activation": "erf"},
    ),
    "cnn": BuiltinNetwork(
        "earlylin.networks.builtin:convolutional",
        "the paper's CNN (Figure 3: depth 4, 256 channels, 3 x 3 filters, circular padding, erf)",
        ("depth", "channels", "filter_size", "activation", "outputs"),
        "channels",
        exact_kernel="cnn",
        kernel_defaults={"depth": 4, "activation": "erf", "filter_size": 3},
    ),
    "residual_cnn": BuiltinNetwork(
        "earlylin.networks.builtin:residual_cnn",
        "a small residual CNN (NTK parameterisation): stem, residual blocks, flatten readout",
        ("blocks", "channels", "filter_size", "activation", "outputs"),
        "channels",
    ),
    "fc_standard": BuiltinNetwork(
        "earlylin.networks.builtin:fully_connected_standard",
        "the FC net in the standard parameterisation (its learning rate must scale like 1/width)",
        ("depth", "width", "activation", "weight_std", "outputs"),
        "width",
    ),
}
# What a network's BatchNorm layers become (``normalisation``): statistics of the initial
# network, then fixed; or GroupNorm.
BATCH_NORM = ("frozen", "group")
# How images are brought to a network's input size (``inputs.AdaptedInput``).
INPUT_MODES = ("resize", "pad")
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


def adaptation_problems(
    key: str, adaptation: Mapping[str, Any], image_shape: tuple[int, ...], dataset: str
) -> list[str]:
    """Whether ``adaptation`` (config key ``key``) can turn the images of ``dataset``, of shape
    ``image_shape``, into the network's: images (C, H, W), grey when channels change, no larger
    than ``size`` when padded."""
    if len(image_shape) != 3:
        return [
            f"config key '{key}' adapts images, but data set {dataset!r} holds vectors of shape {tuple(image_shape)}; "
            "remove it for this data set's networks"
        ]
    channels, height, width = image_shape
    problems = []
    wanted = adaptation.get("channels")
    if wanted is not None and wanted != channels and channels != 1:
        problems.append(
            f"config key '{key}.channels' = {wanted}: data set {dataset!r} has {channels}-channel images, and only "
            "grey (1-channel) images are repeated to more channels; remove the key or give "
            f"channels: {channels}"
        )
    size = adaptation.get("size")
    if size is not None and adaptation.get("mode", "resize") == "pad" and max(height, width) > size:
        problems.append(
            f"config key '{key}.size' = {size}: padding cannot shrink data set {dataset!r}'s {height} x {width} "
            f"images; give size >= {max(height, width)} or mode: resize"
        )
    return problems
