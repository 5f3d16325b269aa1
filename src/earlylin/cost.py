"""Floating-point cost of the deep-network runs (Figures 3 and 4), for the warning the
workflow prints before it puts paper-scale training on a CPU.

Counts multiply-adds as 2 FLOPs and only the matrix products (activations are cheap next
to them). One SGD step of a centred network costs about 4 forward passes of the batch:
the forward and backward passes (~3) plus the forward pass at the initial parameters that
is subtracted (f_0 = 0, Appendix A). Each logged step also evaluates the test set twice
(network and initial network).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Sustained float32 throughput assumed for a CPU in the warning (a recent multi-core
# desktop CPU reaches roughly this in large matrix products; a laptop less).
ASSUMED_CPU_FLOPS = 1e11


def fc_forward_flops(input_dim: int, depth: int, width: int) -> float:
    """FLOPs of one example through the FC net: d -> width (x depth) -> 1."""
    return 2.0 * (input_dim * width + (depth - 1) * width * width + width)


def cnn_forward_flops(image_shape: Sequence[int], depth: int, channels: int, filter_size: int) -> float:
    """FLOPs of one example through the CNN: q x q convolutions keep H x W (circular padding),
    then a flatten readout of C H W inputs."""
    c0, height, width = image_shape
    positions = height * width
    conv = positions * filter_size**2 * (c0 * channels + (depth - 1) * channels * channels)
    return 2.0 * (conv + channels * positions)


def deep_run_flops(
    arch: str, image_shape: Sequence[int], deep: Mapping[str, Any], n_logged: int
) -> float:
    """FLOPs of one training job of ``arch`` ('fc' or 'cnn') with the config section ``deep``."""
    if arch == "fc":
        per_example = fc_forward_flops(image_shape[0] * image_shape[1] * image_shape[2], deep["fc"]["depth"],
                                       deep["fc"]["width"])
    elif arch == "cnn":
        cnn = deep["cnn"]
        per_example = cnn_forward_flops(image_shape, cnn["depth"], cnn["channels"], cnn["filter_size"])
    else:
        raise ValueError(f"architecture {arch!r}; allowed values: fc, cnn")
    training = 4.0 * per_example * deep["batch_size"] * deep["max_step"]
    evaluation = 2.0 * per_example * deep["n_test"] * n_logged
    return training + evaluation


def cpu_cost_warning(jobs: Mapping[str, float], threshold_hours: float = 1.0) -> str | None:
    """A warning naming the jobs (name -> FLOPs) that would take longer than
    ``threshold_hours`` on a CPU at ``ASSUMED_CPU_FLOPS``, or None when none would."""
    slow = {name: flops / ASSUMED_CPU_FLOPS / 3600 for name, flops in jobs.items()}
    slow = {name: hours for name, hours in slow.items() if hours > threshold_hours}
    if not slow:
        return None
    lines = "\n".join(f"    {name}: {jobs[name]:.2e} FLOPs, ~{hours:.0f} h" for name, hours in sorted(slow.items()))
    total = sum(slow.values())
    return (
        f"Deep-network training (Figures 3/4) will run on the CPU; estimated at "
        f"{ASSUMED_CPU_FLOPS / 1e9:.0f} GFLOP/s:\n{lines}\n"
        f"  about {total:.0f} CPU-hours in all. For a quick look run the preview "
        f"(--configfile config/preview.yaml); for the paper's scale use a GPU (device: auto picks it up) "
        f"or submit to a cluster. Continuing."
    )
