"""The built-in networks: the paper's FC net and CNN of finite width (Section 4, Figure 3), their
layers in the NTK parameterisation, and the catalogue that names every built-in once."""

from __future__ import annotations

import math

import pytest
import torch

from earlylin.networks.builtin import ConvolutionalNTK, FullyConnectedNTK
from earlylin.networks.catalogue import BUILTIN_NETWORKS, exact_kernel_of
from earlylin.networks.layers import NTKConv2d, NTKLinear
from earlylin.networks.registry import ModelSpec, build_model

IMAGE_SHAPE = (3, 4, 4)


def test_every_built_in_is_one_catalogue_entry_that_builds_a_module_with_one_output_per_input():
    x = torch.randn(5, *IMAGE_SHAPE, dtype=torch.float64)
    for name in BUILTIN_NETWORKS:
        module = build_model(ModelSpec(name, name, {}), IMAGE_SHAPE, 0, torch.float64)
        assert module(x).shape == (5,), name


def test_the_exact_kernel_of_a_built_in_comes_from_its_catalogue_entry():
    assert exact_kernel_of("fc", {"width": 64}) == {"kind": "fc", "activation": "erf", "depth": 4}
    assert exact_kernel_of("cnn", {"depth": 2, "activation": "relu"}) == {
        "kind": "cnn",
        "activation": "relu",
        "depth": 2,
        "filter_size": 3,
    }
    assert exact_kernel_of("cnn", {"activation": "tanh"}) is None  # no closed-form expectations
    assert exact_kernel_of("residual_cnn", {}) is None and exact_kernel_of("my.py:net", {}) is None


def _small_networks(seed: int = 3, as_generator: bool = False) -> list[torch.nn.Module]:
    def draw() -> int | torch.Generator:
        return torch.Generator().manual_seed(seed) if as_generator else seed

    return [
        FullyConnectedNTK(48, depth=3, width=64, activation="relu", seed=draw()),
        ConvolutionalNTK(IMAGE_SHAPE, depth=2, channels=8, activation="erf", seed=draw()),
    ]


def test_same_seed_gives_identical_parameters():
    first, second = _small_networks(3), _small_networks(3, as_generator=True)
    other = _small_networks(4)
    for network, same_seed, other_seed in zip(first, second, other):
        for (name, p), q, r in zip(network.named_parameters(), same_seed.parameters(), other_seed.parameters()):
            assert torch.equal(p, q), name
            assert not torch.equal(p, r), name


@pytest.mark.parametrize("network, kwargs", [("fc", {"depth": 2, "width": 6}), ("cnn", {"depth": 2, "channels": 6})])
def test_one_seed_is_one_network_in_every_dtype(network, kwargs):
    """float32 and float64 networks of the same seed differ by float32 rounding only: the
    weights are drawn in one precision and cast (so switching the dtype checks the same
    network, not another draw)."""
    spec = ModelSpec(network, network, kwargs)
    wide = build_model(spec, IMAGE_SHAPE, 5, torch.float64)
    narrow = build_model(spec, IMAGE_SHAPE, 5, torch.float32)
    for (name, p64), p32 in zip(wide.named_parameters(), narrow.parameters()):
        assert p32.dtype == torch.float32 and torch.equal(p64.to(torch.float32), p32), name
        assert not torch.equal(p64, p32.double()), name  # the float64 weights are not float32 values


def test_output_shapes_and_flattened_inputs():
    X = torch.randn(5, *IMAGE_SHAPE)
    for network in _small_networks():
        out = network(X)
        assert out.shape == (5,)
        torch.testing.assert_close(network(X.reshape(5, -1)), out, rtol=0, atol=0)


@pytest.mark.parametrize("filter_size", [1, 2, 3, 4])
def test_convolution_keeps_spatial_size_and_is_circular(filter_size):
    """Same H x W out; with circular padding a circular shift of the input shifts the output."""
    conv = NTKConv2d(3, 5, filter_size, torch.Generator().manual_seed(0), torch.float64)
    x = torch.randn(2, 3, 5, 6, dtype=torch.float64)
    out = conv(x)
    assert out.shape == (2, 5, 5, 6)
    shift = (2, -1)
    torch.testing.assert_close(conv(torch.roll(x, shift, dims=(2, 3))), torch.roll(out, shift, dims=(2, 3)))
    cnn = ConvolutionalNTK(IMAGE_SHAPE, depth=2, channels=8)
    assert cnn.hidden(torch.randn(4, *IMAGE_SHAPE)).shape == (4, 8, *IMAGE_SHAPE[1:])


def test_ntk_parameterisation_scales():
    """Weights N(0, 1); pre-activations divided by sqrt(fan_in) (C_in q^2 for a convolution)."""
    generator = torch.Generator().manual_seed(0)
    dense = NTKLinear(300, 400, generator, torch.float64)
    assert abs(dense.weight.mean().item()) < 0.01
    assert dense.weight.std().item() == pytest.approx(1.0, abs=0.01)
    x = torch.randn(3, 300, dtype=torch.float64)
    torch.testing.assert_close(dense(x), x @ dense.weight.T / math.sqrt(300))
    conv = NTKConv2d(2, 1, 3, generator, torch.float64)
    image = torch.randn(1, 2, 4, 4, dtype=torch.float64)
    patch = torch.nn.functional.pad(image, (1, 1, 1, 1), mode="circular")[0, :, 0:3, 0:3]
    expected = (conv.weight[0] * patch).sum().item() / math.sqrt(2 * 3 * 3)
    assert conv(image)[0, 0, 0, 0].item() == pytest.approx(expected)
    cnn = ConvolutionalNTK(IMAGE_SHAPE, depth=1, channels=8, filter_size=3)
    assert cnn.readout.weight.shape == (1, 8 * 4 * 4)
