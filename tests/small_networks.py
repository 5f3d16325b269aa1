"""The four built-in networks at test size (float64), and random inputs for them: shared by the
NTK, registry and linearised-network tests."""

import torch

from earlylin.networks.registry import ModelSpec, build_model

# network -> (input shape, kwargs)
SMALL = {
    "fc": ((12,), {"depth": 2, "width": 16}),
    "cnn": ((2, 5, 5), {"depth": 2, "channels": 4}),
    "residual_cnn": ((2, 5, 5), {"blocks": 2, "channels": 4}),
    "fc_standard": ((12,), {"depth": 2, "width": 16}),
}


def small_model(network, seed=0, dtype=torch.float64):
    """The built-in ``network`` at test size, and its input shape."""
    shape, kwargs = SMALL[network]
    return build_model(ModelSpec(network, network, kwargs), shape, seed, dtype), shape


def small_inputs(shape, n=9, seed=1):
    """``n`` standard Gaussian inputs of ``shape`` (float64, seeded)."""
    return torch.randn((n, *shape), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
