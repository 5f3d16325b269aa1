"""The exact infinite-width NTKs of the FC net and the CNN (earlylin.kernels.exact) against the
recursion on every pair, closed forms, wide networks' mean empirical NTK, and its chunks."""

import numpy as np
import pytest

from earlylin.kernels.exact import cnn_exact_kernel, fc_exact_kernel
from earlylin.kernels.recursion import fc_ntk_diagonal, fc_ntk_entry


def _on_the_sphere(n, d, seed=0):
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X * np.sqrt(d) / np.linalg.norm(X, axis=1, keepdims=True)


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_the_diagonal_recursion_is_the_limit_of_the_pair_recursion(activation):
    near = fc_ntk_entry(activation, 3, 1.0, 1.0, 1.0 - 1e-8)
    assert fc_ntk_diagonal(activation, 3) == pytest.approx(near, rel=1e-3 if activation == "relu" else 1e-6)


def test_the_diagonal_of_a_one_layer_erf_net_has_its_closed_form():
    """Depth 1, ||x||^2/d = 1: Theta = E[erf(g)^2] + E[erf'(g)^2] with the arcsine and
    Gaussian closed forms (2/pi) asin(2/3) and (4/pi) / sqrt(5)."""
    assert fc_ntk_diagonal("erf", 1) == pytest.approx(2 / np.pi * np.arcsin(2 / 3) + 4 / np.pi / np.sqrt(5), rel=1e-10)


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_the_exact_kernel_matrix_is_the_recursion_on_every_pair(activation):
    X, Z = _on_the_sphere(7, 10, 1), _on_the_sphere(5, 10, 2)
    Z[0] = X[3]  # the same input: the diagonal value
    kernel = fc_exact_kernel(X, Z, activation, 2)
    overlap = X @ Z.T / 10
    for i in range(len(X)):
        for j in range(len(Z)):
            expected = (
                fc_ntk_diagonal(activation, 2)
                if (i, j) == (3, 0)
                else fc_ntk_entry(activation, 2, 1.0, 1.0, float(overlap[i, j]))
            )
            assert kernel[i, j] == pytest.approx(expected, abs=1e-9 * kernel.max())  # the interpolation tolerance


def test_the_exact_kernel_needs_normalised_inputs():
    with pytest.raises(ValueError, match="normalise each input"):
        fc_exact_kernel(2 * _on_the_sphere(3, 4), _on_the_sphere(3, 4), "erf", 2)


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_a_one_by_one_filter_cnn_kernel_is_the_mean_of_fc_kernels_over_pixels(activation):
    """q = 1: every position is an FC net on its pixel's channel vector, and the flatten
    readout averages the FC kernels (the quadrature recursion) over positions."""
    rng = np.random.default_rng(3)
    X, Z = rng.standard_normal((3, 4, 2, 3)), rng.standard_normal((2, 4, 2, 3))
    kernel = cnn_exact_kernel(X, Z, activation, 3, 1)
    for i in range(3):
        for j in range(2):
            x, z = X[i].reshape(4, -1), Z[j].reshape(4, -1)
            expected = np.mean(
                [
                    fc_ntk_entry(activation, 3, x[:, p] @ x[:, p] / 4, z[:, p] @ z[:, p] / 4, x[:, p] @ z[:, p] / 4)
                    for p in range(6)
                ]
            )
            assert kernel[i, j] == pytest.approx(expected, rel=1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_the_cnn_kernel_is_the_mean_empirical_ntk_of_wide_cnns(activation):
    """3 x 3 circular filters on 4 x 4 images, depth 2, 128 channels: the empirical NTK
    averaged over 20 initialisations is the exact kernel within 4 of its standard errors on
    every entry, while the kernels of a wrong filter size or depth are not."""
    import torch

    from earlylin.kernels.empirical import empirical_ntk
    from earlylin.networks.registry import ModelSpec, build_model

    shape = (2, 4, 4)
    X = np.random.default_rng(0).standard_normal((4, *shape))
    spec = ModelSpec("cnn", "cnn", {"depth": 2, "channels": 128, "activation": activation})
    kernels = np.stack(
        [empirical_ntk(build_model(spec, shape, seed, torch.float64), torch.tensor(X)).numpy() for seed in range(20)]
    )
    mean, stderr = kernels.mean(0), kernels.std(0, ddof=1) / np.sqrt(len(kernels))
    assert (np.abs(mean - cnn_exact_kernel(X, X, activation, 2, 3)) / stderr).max() < 4
    for depth, filter_size in ((2, 1), (1, 3), (3, 3)):
        wrong = cnn_exact_kernel(X, X, activation, depth, filter_size)
        assert (np.abs(mean - wrong) / stderr).max() > 8


def test_the_cnn_kernel_is_computed_for_erf_and_relu_images():
    with pytest.raises(ValueError, match="for erf, relu"):
        cnn_exact_kernel(np.ones((2, 1, 3, 3)), np.ones((2, 1, 3, 3)), "tanh", 2, 3)
    with pytest.raises(ValueError, match="images"):
        cnn_exact_kernel(np.ones((2, 9)), np.ones((2, 9)), "erf", 2, 3)


def test_the_cnn_kernel_does_not_depend_on_its_chunks():
    X = np.random.default_rng(4).standard_normal((7, 2, 3, 3))
    whole = cnn_exact_kernel(X, X[:5], "erf", 2, 3)
    assert np.allclose(whole, cnn_exact_kernel(X, X[:5], "erf", 2, 3, chunk_elements=9 * 5 * 2), rtol=1e-13, atol=0)
    assert np.allclose(whole[:5], whole[:5].T, rtol=1e-14, atol=0)
